"""Element assignment `y[i] = …`, `y[i] += …` into arrays the function makes, both modes.

Each function is checked in reverse mode (`sd.grad` in every differentiated argument)
against the complex step — the functions make their arrays with `np.zeros_like(x)`,
`np.empty_like(x)` or `x.copy()`, so a complex x gives complex arrays and the complex step
runs through the same code — and in forward mode (`sd.jvp` along a random direction)
against the reverse gradient.  Functions that make float arrays (`np.zeros(n)`) are
checked against central differences and a closed form.
"""
import functools
import sys
from pathlib import Path

import numpy as np
import pytest

import s2sdiff as sd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import gmm  # noqa: E402  the mixture objective's factor, filled by a running index

CS = 1e-12
AGREE = 1e-12


# ---- the functions ----------------------------------------------------------------------

def recurrence(x):
    """y_i = y_{i-1} + x_i²: each iteration reads what the one before wrote."""
    y = np.zeros_like(x)
    y[0] = x[0] ** 2
    for i in range(1, x.shape[0]):
        y[i] = y[i - 1] + x[i] ** 2
    return np.sum(np.sin(y))


def stencil_then_scale(x):
    n = len(x)
    y = np.empty_like(x[: n - 2])
    for i in range(n - 2):
        y[i] = x[i] * x[i + 1] - x[i + 2]
    y *= 2.0                       # a new array: y = y * 2.0
    s = 0.0
    for i in range(n - 2):
        s += y[i] ** 2
    return s


def histogram(x, w):
    """Accumulations into elements chosen at run time; `-=` too."""
    h = np.zeros_like(x[:3] * w)        # complex when x or w is (the complex-step oracle)
    for i in range(len(x)):
        h[i % 3] += w * x[i]
        h[0] -= 0.5 * x[i] ** 2
    return np.sum(h * h)


def heat(u0, k):
    """Explicit heat equation, one row per time step: row t+1 from row t."""
    steps = 6
    n = u0.shape[0]
    u = np.outer(np.ones(steps + 1), u0 * k)      # every row is overwritten: this only makes room
    u[0, :] = u0
    for t in range(steps):
        u[t + 1, 0] = u[t, 0]
        u[t + 1, n - 1] = u[t, n - 1]
        for j in range(1, n - 1):
            u[t + 1, j] = u[t, j] + k * (u[t, j - 1] - 2.0 * u[t, j] + u[t, j + 1])
    return np.sum(u[steps, :] ** 2)


def branches(x):
    y = x.copy()
    for i in range(len(x)):
        if i % 2 == 0:
            y[i] = x[i] ** 3
        else:
            y[i] += np.sin(x[i])
    return np.sum(y * y)


def rows_in_a_loop(W, X, v):
    """A hidden layer made element by element for each sample, then used whole."""
    s = 0.0
    for k in range(X.shape[0]):
        h = np.zeros_like(W[:, 0] * X[0, 0])     # complex when W or X is
        for j in range(W.shape[0]):
            a = 0.0
            for d in range(W.shape[1]):
                a += W[j, d] * X[k, d]
            h[j] = np.tanh(a)
        s += np.sum(h * v) ** 2
    return s


def slices(x):
    y = x.copy()
    y[1:3] = x[0:2] * 2.0
    y[0] = x[2]
    y[3:] += x[3:] ** 2
    return np.sum(y ** 3)


def scale_in_place(x, c):
    """Read, then overwrite the same element: the read value is taped."""
    y = x * (c / c)                     # a new array, complex when x or c is
    for i in range(1, len(x)):
        y[i] *= y[i - 1] * c
    return np.sum(y)


def float_buffer(x, n):
    """np.zeros(n) makes float64 whatever x is: checked against central differences."""
    y = np.zeros(n)
    for i in range(n):
        y[i] = np.exp(x[i]) - x[i]
    return np.sum(y * y)


def returns_array(x):
    y = np.empty_like(x)
    y[0] = x[0]
    for i in range(1, len(x)):
        y[i] = y[i - 1] * x[i]
    return y


CASES = {
    "recurrence": (recurrence, lambda r: (r.uniform(0.2, 1.0, 6),)),
    "stencil_then_scale": (stencil_then_scale, lambda r: (r.uniform(-1, 1, 7),)),
    "histogram": (histogram, lambda r: (r.uniform(-1, 1, 8), 1.7)),
    "heat": (heat, lambda r: (r.uniform(0, 1, 6), 0.2)),
    "branches": (branches, lambda r: (r.uniform(-1, 1, 5),)),
    "rows_in_a_loop": (rows_in_a_loop, lambda r: (r.normal(size=(4, 3)), r.normal(size=(5, 3)), r.normal(size=4))),
    "slices": (slices, lambda r: (r.uniform(0.5, 1.5, 6),)),
    "scale_in_place": (scale_in_place, lambda r: (r.uniform(0.5, 1.5, 6), 0.9)),
}


# ---- oracles ----------------------------------------------------------------------------

def complex_step(f, args, k, h=1e-30):
    a = args[k]
    if np.ndim(a) == 0:
        return np.imag(f(*args[:k], a + 1j * h, *args[k + 1:])) / h
    out = np.empty(np.shape(a))
    for idx in np.ndindex(np.shape(a)):
        z = np.array(a, dtype=complex)
        z[idx] += 1j * h
        out[idx] = np.imag(f(*args[:k], z, *args[k + 1:])) / h
    return out


@functools.cache
def transforms(name):
    f, _ = CASES[name]
    n = f.__code__.co_argcount
    return sd.grad(f, wrt=tuple(range(n))), f


def _args(name):
    return CASES[name][1](np.random.default_rng(sum(map(ord, name))))


@pytest.mark.parametrize("name", sorted(CASES))
def test_reverse_matches_complex_step(name):
    grad, f = transforms(name)
    args = _args(name)
    got = grad(*args)
    for k in range(len(args)):
        want = complex_step(f, args, k)
        np.testing.assert_allclose(got[k], want, rtol=CS, atol=1e-13, err_msg=f"{name}: argument {k}")
        assert np.shape(got[k]) == np.shape(args[k])


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_matches_reverse(name):
    grad, f = transforms(name)
    args = _args(name)
    r = np.random.default_rng(7)
    tangents = tuple(r.normal(size=np.shape(a)) if np.ndim(a) else r.normal() for a in args)
    value, derivative = sd.jvp(f, args, tangents)
    assert value == pytest.approx(f(*args), rel=1e-14)
    want = sum(np.sum(g * t) for g, t in zip(grad(*args), tangents))
    assert derivative == pytest.approx(want, rel=AGREE)


def test_float_buffer_against_closed_form():
    x = np.linspace(-0.5, 0.7, 5)
    g = sd.grad(float_buffer)(x, 5)
    y = np.exp(x) - x
    np.testing.assert_allclose(g, 2 * y * (np.exp(x) - 1), rtol=1e-14)
    h = 1e-6
    fd = [(float_buffer(x + h * e, 5) - float_buffer(x - h * e, 5)) / (2 * h) for e in np.eye(5)]
    np.testing.assert_allclose(g, fd, rtol=1e-7)


def test_array_result_jacobian_both_modes():
    x = np.array([0.5, 1.5, -2.0, 0.25])
    want = np.array([np.imag(returns_array(x + 1e-30j * e)) / 1e-30 for e in np.eye(4)]).T
    _, vjp_fn = sd.vjp(returns_array, x)
    rows = np.array([vjp_fn(e)[0] for e in np.eye(4)])
    np.testing.assert_allclose(rows, want, rtol=CS)
    cols = np.array([sd.jvp(returns_array, (x,), (e,))[1] for e in np.eye(4)]).T
    np.testing.assert_allclose(cols, want, rtol=CS)


# ---- what is refused, and how -------------------------------------------------------------

def aliased(x):
    y = x.copy()
    z = y
    z[0] = 2.0
    return np.sum(y * x)


def view_written(x):
    y = x.T
    y[0] = 1.0
    return np.sum(y)


def overwrite_read_whole(x):
    y = x.copy()
    s = np.sum(y * y)              # d/dy reads y itself ...
    y[0] = 0.0                     # ... which this then changes
    return s + np.sum(y)


@pytest.mark.parametrize("f, fragment", [
    (aliased, "not a view or another name"),
    (view_written, "not a view"),
])
def test_refused_at_transform_time(f, fragment):
    with pytest.raises(sd.UnsupportedError, match=fragment) as info:
        sd.grad(f)
    assert "test_element_writes.py" in str(info.value)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_overwritten_whole_array_in_both_modes(jit):
    # the adjoint of np.sum(y * y) reads the y before the write: it is given a copy taken there
    x = np.array([0.3, -1.2, 2.0])
    want = complex_step(overwrite_read_whole, (x,), 0)
    np.testing.assert_allclose(sd.grad(overwrite_read_whole, jit=jit)(x), want, rtol=CS)
    got = [sd.jvp(overwrite_read_whole, (x,), (e,), jit=jit)[1] for e in np.eye(3)]
    np.testing.assert_allclose(got, want, rtol=CS)


def weighted_factor(p, W):
    rows, columns = W.shape
    return np.sum(gmm.inverse_factor(p, rows) * W) * columns / rows


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_factor_filled_by_a_running_index_against_closed_form(mode, jit):
    # the running index k was recorded on a float tape (its start `k = d` has no known type)
    # and the adjoint indexed with a float. n, d = W.shape unpacks a shape (d = 3 columns: × 1)
    d = 3
    p = np.array([0.1, -0.2, 0.3, 0.5, -0.7, 0.9])
    W = np.arange(1.0, 10.0).reshape(3, 3)
    want = np.concatenate([np.exp(p[:d]) * np.diag(W), [W[1, 0], W[2, 0], W[2, 1]]])
    np.testing.assert_allclose(sd.grad(weighted_factor, mode=mode, jit=jit)(p, W), want, rtol=1e-14)
