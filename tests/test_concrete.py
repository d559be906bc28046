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


def penalty(v, d, gamma):           # called with numbers the caller is certain of
    return gamma * np.sum(v[:d] * v[:d]) + np.sum(v[d:])


def with_penalty(x, gamma):
    d = x.shape[0] // 2
    return penalty(x, d, gamma) * gamma + np.sum(np.exp(x[:d]))


def last_axis(A):
    s = 0.0
    for j in range(A.shape[-1]):
        s += np.sum(np.cos(A[:, j]) * A[:, -1 - j])
    return s


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
    (with_penalty, (0, 1), (RNG.normal(size=6), 0.3)),
    (last_axis, (0,), (RNG.normal(size=(3, 4)),)),
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


def test_a_shape_that_may_broadcast_sums_back_into_it():
    x = np.linspace(0, 1, 5)
    g = sd.grad(maybe_broadcast, wrt=(0, 1))
    for y in (np.array([0.5]), np.linspace(1, 2, 5)):
        bx, by = g(x, y)
        np.testing.assert_allclose(bx, np.cos(x + y) * x + np.sin(x + y), rtol=1e-14)
        np.testing.assert_allclose(by, (np.cos(x + y) * x).reshape(-1, y.size).sum(axis=0) if y.size == 1
                                   else np.cos(x + y) * x, rtol=1e-14)


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


def test_helpers_the_kinds_decide_are_written_out():
    """No runtime helper where the call's kinds decide what it does: zeros of the adjoint's
    shape, a sum's adjoint broadcast where it is used (no array spread), a copy; in the
    callee too, which its caller passes an array and numbers it is certain of."""
    x = RNG.normal(size=6)
    source = sd.grad(with_penalty, wrt=(0, 1), jit=False).specialized(x, 0.3).source
    for helper in ("zero_like(", "owned(", "np.full("):
        assert helper not in source, helper
    assert "np.zeros((x.shape[0],))" in source or "np.zeros((v.shape[0],))" in source


def test_a_hessian_sweeps_its_blocks_from_one_call():
    """The wrapper calls the batched sweep once, in its loop (compiled inside it), with
    the block width an expression; 130 inputs are three blocks, the last of two."""
    x = RNG.normal(size=130)
    hessian = sd.hessian(lambda_free_softmax, jit=False)
    source = hessian.specialized(x).source
    wrapper = source[source.index("# hessian of"):]
    assert wrapper.count("_jvp_batched(") == 1 and "block_width" not in wrapper and "min(" not in wrapper
    e = np.exp(x)
    p = e / e.sum()
    expected = np.diag(p) - np.outer(p, p) + np.diag(-np.sin(x))
    np.testing.assert_allclose(hessian(x), expected, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(sd.hessian(lambda_free_softmax)(x), expected, rtol=1e-10, atol=1e-13)


def lambda_free_softmax(x):
    s = 0.0
    r = 0.0
    for i in range(len(x)):
        s += np.exp(x[i])
        r += np.sin(x[i])
    return np.log(s) + r


def test_column_sweeps_come_from_one_call():
    """Whole-array code's Hessian, its columns from one call site of the tangent code
    (batched, since fusion makes the gradient a loop); an empty parameter gives an empty
    Hessian."""
    def f(x):
        return np.log(np.sum(np.exp(x))) + np.sum(np.sin(x))

    x = RNG.normal(size=7)
    for jit in (False, True):
        hessian = sd.hessian(f, jit=jit)
        wrapper = hessian.specialized(x).source.split("# hessian of")[1]
        assert wrapper.count("_jvp(") + wrapper.count("_jvp_batched(") == 1
        e = np.exp(x)
        p = e / e.sum()
        np.testing.assert_allclose(hessian(x), np.diag(p) - np.outer(p, p) + np.diag(-np.sin(x)), rtol=1e-10,
                                   atol=1e-13)
        assert hessian(np.zeros(0)).shape == (0, 0)


def rank_one_update(A, x):
    return A + 0.5 * np.outer(x, x)


@pytest.mark.parametrize("jit", [False, True])
def test_a_tangent_that_is_its_seed_is_stored_before_the_seed_moves_on(jit):
    """d(A + ½ x xᵀ)/dA is the identity: the tangent the sweep returns is the seed itself."""
    A, x = RNG.normal(size=(3, 3)), RNG.normal(size=3)
    J = sd.jacobian(rank_one_update, wrt=0, mode="forward", jit=jit)(A, x)
    np.testing.assert_array_equal(J, np.eye(9).reshape(3, 3, 3, 3))
