"""Loops whose carried array changes shape from one iteration to the next.

Reverse mode tapes a carried array once per iteration.  Where its shape is proved the same
in every iteration (transform/extents.py) the tape is the rows of one array; where it is not
— a stencil whose grid loses its border each step, a sequence that grows — each iteration's
array is kept on its own (runtime.array_tape).  Every entry point is checked against the
complex step, compiled and without numba.
"""
import functools

import numpy as np
import pytest

import s2sdiff as sd
from oracles import cs_jacobian
from s2sdiff.runtime import SLOT_OVERHEAD

JIT = pytest.mark.parametrize("jit", [True, False], ids=["numba", "python"])


def heat(u, c, steps):
    for _ in range(steps):
        u = u[1:-1, 1:-1] + c * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1])
    return np.sum(u ** 2)


def heat_field(u, c, steps):
    """heat's final grid, squared: a result of its own shape."""
    for _ in range(steps):
        u = u[1:-1, 1:-1] + c * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1])
    return u * u


def shrinking(x, steps):
    for _ in range(steps):
        x = x[1:] * np.cos(x[:-1])
    return np.sum(x * x)


def growing(x, steps):
    for _ in range(steps):
        x = np.concatenate((x, np.sin(x[-1:]) * 0.5))
    return np.sum(x * x)


def shrinking_while(x):
    """A while loop's tape grows as it runs (here past its first 16 slots)."""
    while len(x) > 2:
        x = x[1:] * np.cos(x[:-1]) + 0.1
    return np.sum(x * x)


def shrinking_inside(x, steps):
    """An inner loop's carried array shrinks; padding gives it back its length."""
    for _ in range(steps):
        y = x * 1.0
        for _ in range(2):
            y = y[1:] * np.cos(y[:-1])
        x = np.pad(y, 1) + 0.5 * x
    return np.sum(x * x)


rng = np.random.default_rng(11)
U = rng.random((12, 12))
C = 0.1
STEPS = 3
X = rng.random(7)


def complex_gradient(f, args, k=0):
    return cs_jacobian(f, [a.astype(complex) if isinstance(a, np.ndarray) else a for a in args], k)


@functools.lru_cache(maxsize=None)
def transform(kind, f, jit, **options):
    return getattr(sd, kind)(f, jit=jit, **options)


@pytest.fixture(scope="module")
def heat_gradient():
    return complex_gradient(heat, (U, C, STEPS)), complex_gradient(heat, (U, C, STEPS), 1)


@JIT
def test_grad_and_value_and_grad(jit, heat_gradient):
    bu, bc = heat_gradient
    np.testing.assert_allclose(transform("grad", heat, jit)(U, C, STEPS), bu, rtol=1e-12)
    value, (gu, gc) = transform("value_and_grad", heat, jit, wrt=(0, 1))(U, C, STEPS)
    assert value == pytest.approx(heat(U, C, STEPS), rel=1e-14)
    np.testing.assert_allclose(gu, bu, rtol=1e-12)
    assert gc == pytest.approx(bc, rel=1e-12)


@JIT
def test_vjp_and_jvp(jit, heat_gradient):
    bu, bc = heat_gradient
    value, pullback = sd.vjp(heat, U, C, STEPS, jit=jit)
    assert value == pytest.approx(heat(U, C, STEPS), rel=1e-14)
    cu, cc, _ = pullback(-3.0)
    np.testing.assert_allclose(cu, -3.0 * bu, rtol=1e-12)
    assert cc == pytest.approx(-3.0 * bc, rel=1e-12)
    du = rng.random(U.shape)
    value, tangent = sd.jvp(heat, (U, C, STEPS), (du, 0.5, 0), jit=jit)
    assert value == pytest.approx(heat(U, C, STEPS), rel=1e-14)
    assert tangent == pytest.approx(np.sum(bu * du) + 0.5 * bc, rel=1e-12)


@JIT
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_a_shrunk_field(jit, mode):
    u = U[:8, :8]
    got = sd.jacobian(heat_field, mode=mode, jit=jit)(u, C, 2)
    assert got.shape == (4, 4, 8, 8)
    np.testing.assert_allclose(got, complex_gradient(heat_field, (u, C, 2)), rtol=1e-12, atol=1e-15)


def differenced_gradient(f, x, others, h):
    """Central differences of the complex-step gradient in x: the Hessian, with x's shape twice."""
    columns = [(complex_gradient(f, (x + h * e,) + others) - complex_gradient(f, (x - h * e,) + others)) / (2 * h)
               for e in np.eye(x.size).reshape((x.size,) + x.shape)]
    return np.stack(columns, axis=-1).reshape(x.shape * 2)


@JIT
def test_hessian(jit):
    u = U[:6, :6]
    # heat is quadratic in u: the differences are exact but for rounding
    np.testing.assert_allclose(sd.hessian(heat, jit=jit)(u, C, 2), differenced_gradient(heat, u, (C, 2), 1e-3),
                               rtol=1e-9, atol=1e-12)
    x = X[:5]
    np.testing.assert_allclose(sd.hessian(shrinking, jit=jit)(x, 2), differenced_gradient(shrinking, x, (2,), 1e-5),
                               rtol=1e-7, atol=1e-9)


@JIT
@pytest.mark.parametrize("f, args", [(shrinking, (X, 4)), (growing, (X, 4)), (shrinking_while, (X,)),
                                     (shrinking_inside, (X, 3))],
                         ids=["shrinking", "growing", "while", "inner"])
def test_vectors_changing_length(jit, f, args):
    value, gradient = transform("value_and_grad", f, jit)(*args)
    assert value == pytest.approx(f(*args), rel=1e-14)
    np.testing.assert_allclose(gradient, complex_gradient(f, args), rtol=1e-12)


def test_a_while_tape_of_arrays_grows_past_its_first_slots():
    x = rng.random(40)          # 38 iterations: the list of 16 slots doubles twice
    np.testing.assert_allclose(transform("grad", shrinking_while, False)(x), complex_gradient(shrinking_while, (x,)),
                               rtol=1e-11)


# heat's state: its first grid, of 12 x 12 floats
STATE = U.size * 8


# each budget is compiled into its own code: numba compiles one of them
@pytest.mark.parametrize("jit, snapshots", [(True, 2), (False, 1), (False, 2), (False, 3)],
                         ids=["numba-2", "python-1", "python-2", "python-3"])
def test_checkpointed_within_a_budget(jit, snapshots, heat_gradient):
    # the whole tape of 5 steps (12 x 12 ... 4 x 4 grids) passes the budget: snapshots instead
    g = transform("grad", heat, jit, memory=snapshots * (STATE + SLOT_OVERHEAD))
    np.testing.assert_allclose(g(U, C, 5), complex_gradient(heat, (U, C, 5)), rtol=1e-12)
    if snapshots == 1:
        assert g.tape_bytes == STATE + SLOT_OVERHEAD        # the first grid: each step recomputed from it
    np.testing.assert_allclose(g(U, C, STEPS), heat_gradient[0], rtol=1e-12)


def test_checkpointed_growing_and_second_derivatives():
    # a snapshot of the first vector, of 7 floats: the later ones, longer, are recomputed
    g = transform("grad", growing, False, memory=7 * 8 + SLOT_OVERHEAD)
    np.testing.assert_allclose(g(X, 4), complex_gradient(growing, (X, 4)), rtol=1e-12)
    assert g.tape_bytes == 7 * 8 + SLOT_OVERHEAD
    u, memory = U[:6, :6], 36 * 8 + SLOT_OVERHEAD        # one snapshot, of the first grid
    g = transform("grad", heat, False, memory=memory)
    np.testing.assert_allclose(g(u, C, 3), complex_gradient(heat, (u, C, 3)), rtol=1e-12)
    assert g.tape_bytes == memory
    np.testing.assert_allclose(sd.hessian(heat, jit=False, memory=memory)(u, C, 3),
                               sd.hessian(heat, jit=False)(u, C, 3), rtol=1e-14)


def test_tape_bytes_count_each_grid_kept():
    g = transform("grad", heat, False)
    g(U, C, STEPS)
    assert g.tape_bytes == 8 * (12 * 12 + 10 * 10 + 8 * 8)


@pytest.mark.parametrize("f, args", [(heat, (U, C, STEPS)), (shrinking, (X, 2)), (growing, (X, 2))],
                         ids=["heat", "shrinking", "growing"])
def test_arrays_whose_shape_changes_are_taped_one_by_one(f, args):
    g = transform("grad", f, False)
    for source in (g.specialized(*args).source, g.source):
        assert "array_tape(" in source and "new_tape(" not in source


def keeps_shape(x, steps):
    for _ in range(steps):
        x = x + np.sin(x)
    return np.sum(x)


def padded_heat(u, c, steps):
    for _ in range(steps):
        u = np.pad(u[1:-1, 1:-1] + c * (u[2:, 1:-1] + u[:-2, 1:-1] - 2 * u[1:-1, 1:-1]), ((1, 1), (1, 1)))
    return np.sum(u ** 2)


def padded_vector(x, steps):
    for _ in range(steps):
        x = np.concatenate((np.zeros(1), x[1:-1] * np.cos(x[2:]), np.zeros(1)))
    return np.sum(x ** 2)


def keeps_shape_inside(x, steps):
    for _ in range(steps):
        for _ in range(2):
            x = x * np.cos(x)
        x = x + 0.1
    return np.sum(x)


@pytest.mark.parametrize("f, args", [(keeps_shape, (X, 3)), (padded_heat, (U, C, STEPS)), (padded_vector, (X, 3)),
                                     (keeps_shape_inside, (X, 3))],
                         ids=["elementwise", "pad", "concatenate", "inner"])
def test_arrays_that_keep_their_shape_are_taped_in_rows(f, args):
    g = transform("grad", f, False)
    # for these arguments, and for any (numba callers' code, where the ranks are not known)
    for source in (g.specialized(*args).source, g.source):
        assert "new_tape(" in source and "array_tape(" not in source
    np.testing.assert_allclose(g(*args), complex_gradient(f, args), rtol=1e-12)
