"""Code written for the kinds of a call (concrete.py, emit.py, issue 15): the shape helpers
resolved where the ranks decide them, kept where a shape may broadcast, and the values
the resolved code gives, against the complex step, compiled and not."""
import numpy as np
import pytest

import s2sdiff as sd
from oracles import cs_jacobian


def layer(W, b, x):
    h = np.tanh(W @ x + b)
    return np.sum(h * h) + np.dot(x, W.T @ h) + np.sum(np.outer(h, x) * W)


def maybe_broadcast(x, y):
    return np.sum(np.sin(x + y) * x)


def shrinking_slices(x):
    s = 0.0
    for i in range(1, len(x)):
        a = x[:i]
        b = np.exp(a)
        s += np.sum(b * a)
    return s


def rows(X):
    s = 0.0
    for i in range(X.shape[0]):
        s += np.sum(np.sin(X[i]) * X[i])
    return s


def helper(v):
    return np.sum(v * v)


def called_once_and_twice(x):
    return helper(x) + helper(2.0 * x) * helper(x[1:])


def scaled(v, c):
    return np.sum(v * c)


def number_and_array(x, a):         # one helper, code for a number and code for an array
    return scaled(x, x) * scaled(a, x)


RNG = np.random.default_rng(15)
LAYER = (RNG.normal(size=(3, 4)), RNG.normal(size=3), RNG.normal(size=4))
PROGRAMS = [
    (layer, (0, 1, 2), LAYER),
    (maybe_broadcast, (0, 1), (RNG.normal(size=5), RNG.normal(size=5))),
    (maybe_broadcast, (0, 1), (RNG.normal(size=5), RNG.normal(size=1))),
    (maybe_broadcast, (0, 1), (RNG.normal(size=1), RNG.normal(size=5))),
    (shrinking_slices, (0,), (RNG.normal(size=6),)),
    (rows, (0,), (RNG.normal(size=(3, 4)),)),
    (called_once_and_twice, (0,), (RNG.normal(size=5),)),
    (number_and_array, (0, 1), (RNG.normal(size=5), 0.7)),
]


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("f, wrt, args", PROGRAMS, ids=lambda p: getattr(p, "__name__", ""))
def test_gradients_of_code_made_for_the_call_match_the_complex_step(f, wrt, args, jit):
    got = sd.grad(f, wrt=wrt, jit=jit)(*args)
    for k, g in zip(wrt, got):
        assert np.shape(g) == np.shape(args[k])
        np.testing.assert_allclose(g, cs_jacobian(f, args, k), rtol=1e-12, atol=1e-14)


def test_the_ranks_of_a_call_resolve_the_shape_helpers():
    gradient = sd.grad(layer, wrt=(0, 1, 2), jit=False)
    generic, made_for_the_call = gradient.source, gradient.specialized(*LAYER).source
    assert "matmul_adjoint_" in generic and "matmul_adjoint_" not in made_for_the_call
    assert "= outer(" in made_for_the_call or "+ outer(" in made_for_the_call     # vector ⊗ vector adjoints
    # h * h, sech2(t2) * bh, t9 * bt10: shaped like one array; W @ x + b may broadcast b
    assert made_for_the_call.count("adjoint_like(") < generic.count("adjoint_like(")


def test_a_shape_that_may_broadcast_keeps_its_summing_helper():
    x, y = np.ones(5), np.ones(5)
    source = sd.grad(maybe_broadcast, wrt=(0, 1), jit=False).specialized(x, y).source
    assert "adjoint_like(" in source
    bx, by = sd.grad(maybe_broadcast, wrt=(0, 1))(np.linspace(0, 1, 5), np.array([0.5]))
    assert by.shape == (1,)


def test_a_row_s_adjoint_is_added_into_a_view():
    source = sd.grad(rows, jit=False).specialized(np.ones((2, 3))).source
    assert "add_into(bX[i, :]" in source


def test_the_hessian_reads_back_code_that_adds_into_views():
    def f(x):
        M = np.zeros((2, 3))
        for i in range(2):
            M[i] = x * (i + 1.0)
        s = 0.0
        for i in range(2):
            s += np.sum(M[i] * M[i] * x)
        return s

    x = np.array([0.3, -1.2, 0.7])
    # f = Σ_i (i+1)² Σ_j x_j³ = 5 Σ x³: Hessian 30 diag(x)
    np.testing.assert_allclose(sd.hessian(f)(x), np.diag(30.0 * x), rtol=1e-13)
    np.testing.assert_allclose(sd.hessian(f, jit=False)(x), np.diag(30.0 * x), rtol=1e-13)
