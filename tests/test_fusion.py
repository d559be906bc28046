"""Whole-array elementwise code differentiated as one loop over the elements (fusion.py,
issue 19): the derivatives are those of the code as written — against the complex step,
closed forms, and the same maths written as a loop where inf and nan come out — for 1-D
and 2-D arrays, views, empty and one-element arrays, intermediates used later, and runs
broken by a matrix product or a reduction along an axis; code whose shapes are not
provably one (broadcasting) is left as written.  Most run without numba; a few compiled."""
import numpy as np
import pytest

import s2sdiff as sd
from oracles import cs_jacobian


def notes(x):
    u = x * x
    v = u + np.exp(u)
    return np.sum(np.sqrt(v) + np.cos(v))


def notes_loop(x):
    s = 0.0
    for i in range(len(x)):
        u = x[i] * x[i]
        v = u + np.exp(u)
        s += np.sqrt(v) + np.cos(v)
    return s


def notes_gradient(x):
    e = np.exp(x * x)
    v = x * x + e
    return 2 * x * (1 + e) * (0.5 / np.sqrt(v) - np.sin(v))


def scaled_2d(X, a):
    Y = np.tanh(X * a)
    return np.sum(Y * Y) + np.mean(X * X) * a


def scaled_2d_gradient(X, a):
    Y = np.tanh(X * a)
    return 2 * a * Y * (1 - Y * Y) + 2 * a * X / X.size


def with_dot(x):
    s = np.sin(x) * x
    return np.dot(x, s) + x @ np.cos(s)


def returns_intermediate(x):
    w = np.sin(x) * x
    s = np.sum(w * w)
    return w * s


def used_by_a_product(x, A):
    u = np.exp(x) * x
    s = np.sum(np.sqrt(u * u + 1.0))
    return s + np.sum(A @ u)


def after_a_product(x, A):
    h = A @ x
    return np.sum(np.tanh(h) ** 2 + h)


def along_an_axis(X):
    E = np.exp(X * 0.5) * X
    r = np.sum(E, axis=0)
    return np.sum(r * r) + np.sum(E)


def strided(x):
    y = x[::2]
    Z = np.reshape(x, (2, -1)).T
    return np.sum(np.exp(y) * y) + np.sum(np.sin(Z) * Z)


def count_between(x):
    u = x * x
    n = len(x)
    v = np.sin(u) / n
    return np.sum(v * u)


def mean_of(x):
    return np.mean(np.exp(x) * x)


def quotient(x):
    return np.sum(np.sqrt(x) / x + 1.0 / x)


def quotient_loop(x):
    s = 0.0
    for i in range(len(x)):
        s += np.sqrt(x[i]) / x[i] + 1.0 / x[i]
    return s


def scaled_by(x, a):
    return np.sum(np.exp(x) / a + a / x)


def scaled_by_loop(x, a):
    s = 0.0
    for i in range(len(x)):
        s += np.exp(x[i]) / a + a / x[i]
    return s


def broadcast(x, y):
    return np.sum(np.exp(x - y) * x)


def broadcast_rows(H, b):
    return np.sum(np.maximum(H + b, 0.0) ** 2)


def in_a_loop(x, k):
    t = 0.0
    for j in range(k):
        y = np.sin(x * j) * x
        t = t + np.sum(y * y)
    return t


X1 = np.array([0.3, -1.2, 0.9, 0.2, 1.4, -0.7])
X2 = np.array([[0.3, -1.2, 0.9], [0.2, 1.4, -0.7]])
A = np.array([[1.0, 2.0, -1.0, 0.5, 0.0, 1.5], [0.3, -0.2, 0.7, 1.1, -1.0, 0.4]])


def shifted_windows(x):
    """Rosenbrock as NumPy users write it: two windows of x, one element apart."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def three_point_windows(x):
    return np.sum((x[2:] - 2.0 * x[1:-1] + x[:-2]) ** 2 + np.cos(x[1:-1]))


def shifted_rows(X):
    return np.sum(np.sin(X[1:]) * X[:-1])


def fused(transform, *args) -> bool:
    """Whether the code the call runs has a loop (the functions tested here have none)."""
    return " in range(" in transform.specialized(*args).source


def cs_grad(f, args, k):
    return cs_jacobian(f, args, k)


@pytest.fixture(scope="module")
def notes_compiled():
    return sd.grad(notes), sd.hessian(notes)


def test_the_notes_function_compiled_is_one_loop(notes_compiled):
    g, h = notes_compiled
    assert fused(g, X1)
    np.testing.assert_allclose(g(X1), cs_grad(notes, (X1,), 0), rtol=1e-12)
    np.testing.assert_allclose(h(X1), cs_jacobian(notes_gradient, (X1,), 0), rtol=1e-10, atol=1e-12)
    x = np.random.default_rng(1).uniform(-1.5, 1.5, 1000)
    np.testing.assert_allclose(g(x), notes_gradient(x), rtol=1e-11)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_every_transform_of_the_notes_function(mode):
    g = sd.grad(notes, mode=mode, jit=False)
    assert fused(g, X1)
    want = cs_grad(notes, (X1,), 0)
    np.testing.assert_allclose(g(X1), want, rtol=1e-12)
    value, grad = sd.value_and_grad(notes, mode=mode, jit=False)(X1)
    assert value == pytest.approx(notes(X1), rel=1e-14)
    np.testing.assert_allclose(grad, want, rtol=1e-12)
    t = np.linspace(-1.0, 1.0, len(X1))
    value, tangent = sd.jvp(notes, (X1,), (t,), jit=False)
    assert tangent == pytest.approx(want @ t, rel=1e-12)
    value, pullback = sd.vjp(notes, X1, jit=False)
    np.testing.assert_allclose(pullback(2.0)[0], 2.0 * want, rtol=1e-12)
    np.testing.assert_allclose(sd.hessian(notes, jit=False)(X1), cs_jacobian(notes_gradient, (X1,), 0),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("jit", [False, True])
def test_two_dimensions_and_a_number(jit):
    g = sd.grad(scaled_2d, wrt=(0, 1), jit=jit)
    assert fused(g, X2, 0.7)
    gX, ga = g(X2, 0.7)
    np.testing.assert_allclose(gX, cs_grad(scaled_2d, (X2, 0.7), 0), rtol=1e-12)
    assert ga == pytest.approx(cs_grad(scaled_2d, (X2, 0.7), 1), rel=1e-12)
    np.testing.assert_allclose(sd.hessian(scaled_2d, jit=jit)(X2, 0.7),
                               cs_jacobian(scaled_2d_gradient, (X2, 0.7), 0), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(sd.jacobian(lambda X: scaled_2d(X, 0.7), jit=False)(X2), gX, rtol=1e-12)


@pytest.mark.parametrize("f, args", [(with_dot, (X1,)), (count_between, (X1,)), (mean_of, (X1,)),
                                     (strided, (X1,)), (after_a_product, (X1[:2], A[:, :3].T)),
                                     (used_by_a_product, (X1, A)), (along_an_axis, (X2,)),
                                     (shifted_windows, (X1,)), (three_point_windows, (X1,)), (shifted_rows, (X2,))])
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_gradients_against_the_complex_step(f, args, mode):
    g = sd.grad(f, mode=mode, jit=False)
    assert fused(g, *args)
    np.testing.assert_allclose(g(*args), cs_grad(f, args, 0), rtol=1e-12, atol=1e-14)
    value, _ = sd.value_and_grad(f, mode=mode, jit=False)(*args)
    assert value == pytest.approx(f(*args), rel=1e-13)


def test_an_intermediate_returned_and_its_jacobian():
    jac = sd.jacobian(returns_intermediate, jit=False)
    np.testing.assert_allclose(jac(X1), cs_jacobian(returns_intermediate, (X1,), 0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sd.jacobian(returns_intermediate, mode="reverse", jit=False)(X1),
                               cs_jacobian(returns_intermediate, (X1,), 0), rtol=1e-12, atol=1e-14)
    value, pullback = sd.vjp(returns_intermediate, X1, jit=False)
    np.testing.assert_allclose(value, returns_intermediate(X1), rtol=1e-14)
    w = np.arange(len(X1), dtype=float)
    np.testing.assert_allclose(pullback(w)[0], w @ cs_jacobian(returns_intermediate, (X1,), 0), rtol=1e-12)


def test_runs_inside_a_loop():
    g = sd.grad(in_a_loop, jit=False)
    np.testing.assert_allclose(g(X1, 3), cs_grad(in_a_loop, (X1, 3), 0), rtol=1e-12)


@pytest.mark.parametrize("n", [0, 1])
@pytest.mark.parametrize("jit", [False, True])
def test_empty_and_one_element_arrays(n, jit):
    x = X1[:n].copy()
    g = sd.grad(notes, jit=jit)
    np.testing.assert_allclose(g(x), notes_gradient(x), rtol=1e-12)
    assert sd.value_and_grad(notes, jit=jit)(x)[0] == pytest.approx(notes(x), rel=1e-14)
    X = np.zeros((n, 3))
    assert sd.grad(scaled_2d, jit=jit)(X, 0.5).shape == (n, 3)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("jit", [False, True])
def test_infinities_and_nans_come_out_as_numpy_gives_them(jit):
    x = np.array([0.5, 30.0, -30.0, np.inf, np.nan, 0.0])
    with np.errstate(all="ignore"):
        value = notes(x)
        fused_value, fused_grad = sd.value_and_grad(notes, jit=jit)(x)
        loop_grad = sd.grad(notes_loop, jit=jit)(x)
    np.testing.assert_array_equal(fused_value, value)
    np.testing.assert_array_equal(fused_grad, loop_grad)
    # the mean of no elements is nan, not Python's ZeroDivisionError
    with np.errstate(all="ignore"):
        value, grad = sd.value_and_grad(mean_of, jit=jit)(np.zeros(0))
        assert np.isnan(value) and grad.shape == (0,)
        assert sd.grad(mean_of, jit=jit)(np.zeros(0)).shape == (0,)
    # dividing by a number that is not differentiated (a Python float, 0.0)
    with np.errstate(all="ignore"):
        for a in (0.0, 2.0):
            np.testing.assert_array_equal(sd.grad(scaled_by, jit=jit)(x, a), sd.grad(scaled_by_loop, jit=jit)(x, a))
    # division by zero gives inf, and a square root of a negative number nan
    x = np.array([-1.0, 0.0, 4.0, 1e-320])
    with np.errstate(all="ignore"):
        value, grad = sd.value_and_grad(quotient, jit=jit)(x)
        want = quotient(x), sd.grad(quotient_loop, jit=jit)(x)
    np.testing.assert_array_equal(value, want[0])
    np.testing.assert_array_equal(grad, want[1])


def test_views_passed_in():
    x = (np.arange(12.0) * 0.1).reshape(3, 4)[:, ::2]         # not contiguous
    assert not x.flags.c_contiguous
    g = sd.grad(scaled_2d, jit=False)
    np.testing.assert_allclose(g(x, 0.7), cs_grad(scaled_2d, (np.ascontiguousarray(x), 0.7), 0), rtol=1e-12)
    value, tangent = sd.jvp(scaled_2d, (x, 0.7), (np.ones_like(x), 0.0), jit=False)
    assert tangent == pytest.approx(np.sum(cs_grad(scaled_2d, (np.ascontiguousarray(x), 0.7), 0)), rel=1e-12)


def test_shapes_not_provably_one_are_left_as_written():
    x, y = X1, X1[::-1].copy()
    g = sd.grad(broadcast, wrt=(0, 1), jit=False)
    assert not fused(g, x, y)
    gx, gy = g(x, y)
    np.testing.assert_allclose(gx, cs_grad(broadcast, (x, y), 0), rtol=1e-12)
    np.testing.assert_allclose(gy, cs_grad(broadcast, (x, y), 1), rtol=1e-12)
    np.testing.assert_allclose(g(x, 0.3)[0], cs_grad(broadcast, (x, 0.3), 0), rtol=1e-12)
    H, b = X2, np.array([0.1, -0.5, 0.2])
    gH, gb = sd.grad(broadcast_rows, wrt=(0, 1), jit=False)(H, b)
    np.testing.assert_allclose(gH, 2 * np.maximum(H + b, 0), rtol=1e-12)
    np.testing.assert_allclose(gb, np.sum(2 * np.maximum(H + b, 0), axis=0), rtol=1e-12)


def test_windows_compiled_read_the_array_itself():
    """x[1:] and x[:-1] are cut alike, so of one length: one loop, reading x[i + 1] and
    x[i], whose adjoint adds into bx directly (no adjoint array per window)."""
    x = np.random.default_rng(3).uniform(-1.0, 1.0, 1000)
    g = sd.grad(shifted_windows)
    source = g.specialized(x).source
    assert fused(g, x) and "add_into" not in source
    t = x[1:] - x[:-1] ** 2
    want = np.zeros_like(x)
    want[:-1] += -400.0 * x[:-1] * t - 2.0 * (1.0 - x[:-1])
    want[1:] += 200.0 * t
    np.testing.assert_allclose(g(x), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sd.hessian(shifted_windows)(x[:8]), sd.hessian(shifted_windows, jit=False)(x[:8]),
                               rtol=1e-13)
    np.testing.assert_allclose(g(x[:1]), [0.0])         # windows of no elements
