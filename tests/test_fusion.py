"""Whole-array elementwise code differentiated as one loop over the elements (fusion.py,
issue 19): the derivatives are those of the code as written — against the complex step,
closed forms, and the same maths written as a loop where inf and nan come out — for 1-D
and 2-D arrays, views, empty and one-element arrays, intermediates used later, and runs
broken by a matrix product or a reduction along an axis; arrays broadcast into the
loop's shape, and the code as written where they do not fit it.
Most run without numba; a few compiled."""
import re

import numpy as np
import pytest

import s2sdiff as sd
from modes import check_entry_points
from oracles import cd_jacobian, cs_jacobian


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


def five_point(u, c, steps):
    """A heat stencil stepped in time: windows of u cut alike on both axes, u bound again each step."""
    for _ in range(steps):
        inner = u[1:-1, 1:-1] + c * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1])
        u = np.pad(inner, ((1, 1), (1, 1)))
    return np.sum(u ** 2)


def columns_apart(U):
    return np.sum(np.tanh(U[:, 1:] - U[:, :-1]) ** 2)


def bound_again_between(x):
    """The windows a and b are of the first x, read after x is bound again."""
    a = x[1:]
    b = x[:-1]
    x = x * 2.0
    c = x[1:]
    return np.sum(a * b + np.sin(c))


def bound_again_inside_a_run(x):
    a = x[1:]
    b = x[:-1]
    u = a * b
    x = x + 1.0
    v = np.sin(u) * a
    return np.sum(v) + np.sum(x * x)


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
                                     (shifted_windows, (X1,)), (three_point_windows, (X1,)), (shifted_rows, (X2,)),
                                     (columns_apart, (A,)), (bound_again_between, (X1,)),
                                     (bound_again_inside_a_run, (X1,))])
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


# arrays of other roots read broadcast into the loop's shape, where each axis fits (a
# length of 1 read at 0); where the first array is the one stretched, the code as written
BROADCASTS = [
    ("same length", "broadcast", lambda: (X1, X1[::-1].copy())),
    ("a number", "broadcast", lambda: (X1, 0.3)),
    ("length one", "broadcast", lambda: (X1, np.array([0.4]))),
    ("first stretched", "broadcast", lambda: (np.array([0.4]), X1)),
    ("bias row", "broadcast_rows", lambda: (X2, np.array([0.1, -0.5, 0.2]))),
    ("bias of one", "broadcast_rows", lambda: (X2, np.array([0.25]))),
    ("column stretched", "broadcast_rows", lambda: (X2[:, :1].copy(), np.array([0.1, -0.5, 0.2]))),
    ("outer", "outer_difference", lambda: (X1, X1[:4] + 0.1)),
    ("keepdims mean", "centred_rows", lambda: (X2, np.array([0.5, -1.0, 2.0]))),
    ("relu layer", "relu_layer", lambda: (A.T.copy(), X2, np.array([0.1, -0.5, 0.2]), X1[:3])),
    ("sum beside, first stretched", "sum_beside_broadcast", lambda: (np.array([0.4]), X1)),
    ("sum beside", "sum_beside_broadcast", lambda: (X1, np.array([0.4]))),
    ("sums along an axis", "pairwise", lambda: (X1, X1[:4] + 0.1)),
    ("sums along an axis, kept", "pairwise_kept", lambda: (X2, X2[:, :1].copy())),
    ("in a loop", "broadcast_in_a_loop", lambda: (X1, X1[::-1].copy())),
    ("in a loop, one", "broadcast_in_a_loop", lambda: (X1, np.array([0.3]))),
]


def broadcast_in_a_loop(x, b):
    """The steps (0 or 1) of y, written in place each iteration, are taped: as integers, for they index."""
    y = 0.0 * (x + b)
    for k in range(3):
        y[:] = np.sin(x + b + y)
    return np.sum(y * y)


def sum_beside_broadcast(x, y):
    """np.sum(x) in a loop over x + y's shape would add x's one element len(y) times."""
    t = x + y
    s = np.sum(x)
    return np.sum(np.sin(t)) * s


def pairwise(x, y):
    return np.sum(np.log(np.sum((x[:, None] - y[None, :]) ** 2, axis=1)))


def pairwise_kept(X, Y):
    return np.sum(np.sqrt(np.sum(np.exp(X - Y), axis=0, keepdims=True) + 1.0))


def outer_difference(x, y):
    return np.sum(np.tanh(x[:, None] - y[None, :]) ** 2)


def centred_rows(X, gamma):
    mu = np.mean(X, axis=1, keepdims=True)
    return np.sum(np.tanh((X - mu) * gamma) ** 2)


def relu_layer(X, W, b, y):
    h = np.maximum(X @ W + b, 0.0)
    return np.sum((h @ y - 1.0) ** 2)


@pytest.mark.parametrize("what, name, make", BROADCASTS, ids=[case[0] for case in BROADCASTS])
def test_broadcast_operands(what, name, make):
    f, args = globals()[name], make()
    wrt = tuple(k for k, a in enumerate(args) if np.ndim(a))
    want = tuple(cs_grad(f, args, k) for k in wrt)
    g = sd.grad(f, wrt=wrt, jit=False)
    assert fused(g, *args)
    for got, expected in zip(g(*args), want):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    check_entry_points("G", f, wrt, args, want)


def test_arrays_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"(?s)operands could not be broadcast together.*np.exp\(x - y\)"):
        sd.grad(broadcast, wrt=(0, 1), jit=False)(X1, X1[:4])


@pytest.fixture(scope="module")
def relu_compiled():
    return sd.grad(relu_layer, wrt=(1, 2)), sd.hessian(centred_rows), sd.value_and_grad(pairwise, wrt=(0, 1))


def test_broadcast_compiled(relu_compiled):
    grad, hessian, pairwise_grad = relu_compiled
    x, y = np.linspace(-1.0, 2.0, 7), np.linspace(0.1, 0.9, 5)
    value, (gx, gy) = pairwise_grad(x, y)                     # a sum along an axis, in the loop
    assert value == pytest.approx(pairwise(x, y), rel=1e-13)
    np.testing.assert_allclose(gx, cs_grad(pairwise, (x, y), 0), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gy, cs_grad(pairwise, (x, y), 1), rtol=1e-12, atol=1e-13)
    assert re.search(r"\w+\[i\] \+= ", pairwise_grad.specialized(x, y).source)      # no n × m array
    rng = np.random.default_rng(5)
    X, W, y = rng.standard_normal((40, 6)), rng.standard_normal((6, 9)), rng.standard_normal(9)
    for b in (rng.standard_normal(9), np.array([0.3])):
        gW, gb = grad(X, W, b, y)
        np.testing.assert_allclose(gW, cs_grad(relu_layer, (X, W, b, y), 1), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(gb, cs_grad(relu_layer, (X, W, b, y), 2), rtol=1e-12, atol=1e-13)
    assert "b_step0" in grad.specialized(X, W, b, y).source
    # arrays that do not broadcast: NumPy's ValueError, naming the line
    with pytest.raises(ValueError, match=r"(?s)operands could not be broadcast together.*h = np.maximum\(X @ W \+ b"):
        grad(X, W, np.ones(4), y)
    X = rng.standard_normal((5, 4))
    got = hessian(X, 0.7)
    want = cd_jacobian(lambda X: cs_grad(centred_rows, (X, 0.7), 0), (X,), 0)      # d/dX of the exact gradient
    np.testing.assert_allclose(got, want.reshape(got.shape), rtol=1e-7, atol=1e-8)


def test_a_stencil_stepped_in_time():
    """The five windows of each step are read from u itself; everything against the complex step."""
    u = np.cos(np.arange(42.0)).reshape(6, 7)
    want = cs_grad(five_point, (u, 0.1, 3), 0)
    g = sd.grad(five_point, jit=False)
    np.testing.assert_allclose(g(u, 0.1, 3), want, rtol=1e-12, atol=1e-14)
    code = [line for line in g.specialized(u, 0.1, 3).source.splitlines() if not line.strip().startswith("#")]
    assert not any("[2:, 1:-1]" in line or "[1:-1, :-2]" in line for line in code)
    check_entry_points("G", five_point, 0, (u, 0.1, 3), want)


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
