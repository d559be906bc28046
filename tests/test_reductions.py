"""Reductions beyond sum and mean (issue 16), as functions and as methods, in both modes,
compiled and not, to second order: the largest and smallest element (np.max, np.amax,
np.min, np.amin; closed forms: 1 at the element, shared evenly among ties), variance and
standard deviation (with an axis and ddof; the complex step through the arithmetic)."""
import numpy as np
import pytest

import s2sdiff as sd
from oracles import cs_jacobian


def peaks(x):
    return 2.0 * np.max(x) + np.min(x * x)


def methods(X):
    return np.amax(np.sin(X)) - X.min() + X.max() ** 2 + np.amin(X) * np.sum(X)


def one_hot(shape, index, weight=1.0):
    e = np.zeros(shape)
    e[index] = weight
    return e


X = np.array([[0.3, -1.2], [0.9, 0.2], [1.1, -0.4]])


def methods_gradient(X):
    # d/dX of sin(max) via the largest sine, - min X, (max X)², min X · ΣX
    i_sin = np.unravel_index(np.argmax(np.sin(X)), X.shape)
    i_max = np.unravel_index(np.argmax(X), X.shape)
    i_min = np.unravel_index(np.argmin(X), X.shape)
    return (one_hot(X.shape, i_sin, np.cos(X[i_sin])) - one_hot(X.shape, i_min) + one_hot(X.shape, i_max, 2 * X.max())
            + one_hot(X.shape, i_min, X.sum()) + X.min())


@pytest.mark.parametrize("jit", [False, True])
def test_the_largest_and_smallest_element_in_both_modes(jit):
    x = np.array([0.3, -1.2, 0.9, 0.2])
    expected = np.array([0.0, 0.0, 2.0, 0.4])          # 2 at the largest; 2x at the smallest square
    np.testing.assert_array_equal(sd.grad(peaks, jit=jit)(x), expected)
    np.testing.assert_array_equal(sd.grad(peaks, mode="forward", jit=jit)(x), expected)
    value, tangent = sd.jvp(peaks, (x,), (np.array([1.0, 2.0, 3.0, 4.0]),))
    assert value == pytest.approx(2 * 0.9 + 0.04) and tangent == pytest.approx(2 * 3.0 + 0.4 * 4.0)
    np.testing.assert_allclose(sd.grad(methods, jit=jit)(X), methods_gradient(X), rtol=1e-14)
    # second order: the selection is piecewise constant, x² at the smallest square is not
    np.testing.assert_array_equal(sd.hessian(peaks, jit=jit)(x), np.diag([0.0, 0.0, 0.0, 2.0]))


@pytest.mark.parametrize("jit", [False, True])
def test_ties_share_the_derivative_evenly(jit):
    x = np.array([1.0, -2.0, 1.0, 0.5, -2.0])
    g = sd.grad(lambda_free_max_minus_min, jit=jit)(x)
    np.testing.assert_array_equal(g, [0.5, -0.5, 0.5, 0.0, -0.5])


def lambda_free_max_minus_min(x):
    return x.max() - np.amin(x)


def keeps_dims_of_everything(X):
    return np.sum(np.max(X, keepdims=True))


def keeps_dims_of_everything_kept(X):
    return np.max(X, keepdims=True)


@pytest.mark.parametrize("jit", [False, True])
def test_keepdims_without_an_axis_keeps_every_axis(jit):
    X = np.array([[0.3, 1.7, -0.2], [0.9, 1.1, 0.4]])
    want = np.zeros_like(X)
    want[0, 1] = 1.0                              # the largest element's
    np.testing.assert_array_equal(sd.grad(keeps_dims_of_everything, jit=jit)(X), want)
    np.testing.assert_array_equal(sd.jacobian(keeps_dims_of_everything_kept, jit=jit)(X), want.reshape(1, 1, 2, 3))


def hand_var(a, axis=None, ddof=0):
    """The variance as arithmetic, which the complex step goes through (np.var takes |·|²)."""
    m = np.mean(a, axis=axis, keepdims=True)
    n = a.size if axis is None else a.shape[axis]
    return np.sum((a - m) ** 2, axis=axis) / (n - ddof)


def spreads(x):
    return np.var(x) + np.std(x, ddof=1)


def spreads_by_hand(x):
    return hand_var(x) + np.sqrt(hand_var(x, ddof=1))


def spreads_along_axes(X):
    return np.sum(np.var(X, axis=0) * np.arange(1.0, 4.0)) + np.sum(X.std(axis=1, ddof=1)) + X.var() * X.std()


def spreads_along_axes_by_hand(X):
    return (np.sum(hand_var(X, 0) * np.arange(1.0, 4.0)) + np.sum(np.sqrt(hand_var(X, 1, 1)))
            + hand_var(X) * np.sqrt(hand_var(X)))


@pytest.mark.parametrize("jit", [False, True])
def test_variance_and_standard_deviation(jit):
    x = np.array([0.3, -1.2, 0.9, 0.2])
    M = np.array([[0.3, -1.2, 0.5], [0.9, 0.2, -0.7], [1.1, -0.4, 0.0]])
    for f, by_hand, a in ((spreads, spreads_by_hand, x), (spreads_along_axes, spreads_along_axes_by_hand, M)):
        assert f(a) == pytest.approx(by_hand(a), rel=1e-14)
        expected = cs_jacobian(by_hand, (a,), 0)
        np.testing.assert_allclose(sd.grad(f, jit=jit)(a), expected, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(sd.grad(f, mode="forward", jit=jit)(a), expected, rtol=1e-13, atol=1e-15)
    # var's Hessian: 2 (I - 11ᵀ/n) / n
    n = len(x)
    np.testing.assert_allclose(sd.hessian(variance_only, jit=jit)(x),
                               2.0 * (np.eye(n) - np.ones((n, n)) / n) / n, rtol=1e-14, atol=1e-15)


def variance_only(x):
    return x.var()


def along_axes(X):
    return (np.sum(np.max(X, axis=0) * np.arange(1.0, 4.0)) + np.sum(X.min(axis=1) ** 2)
            + np.sum(np.exp(X - np.max(X, axis=1, keepdims=True))) + np.sum(np.amin(X, -1) * X[:, 0]))


def tuples_and_keepdims(X):
    return (np.sum(np.sum(X, axis=(0, 1)) * X) + np.sum(np.mean(X, axis=-1, keepdims=True) * X)
            + np.sum(X.sum(axis=(-1, -2), keepdims=True) * X ** 2) + np.sum(np.mean(X, (1, 0)) * X))


def spreads_kept(X):
    return np.sum(X.var(axis=0, keepdims=True) * X) + np.sum(np.std(X, axis=(0, 1), ddof=1) * X)


def spreads_kept_by_hand(X):
    m = np.mean(X)
    return np.sum(hand_var(X, 0)[None, :] * X) + np.sum(np.sqrt(np.sum((X - m) ** 2) / (X.size - 1)) * X)


M = np.array([[0.3, -1.2, 0.5], [0.9, 0.2, -0.7]])


@pytest.mark.parametrize("jit", [False, True])
def test_reductions_along_axes_and_tuples_of_axes_with_keepdims(jit):
    # np.max and np.min along an axis pick one element per row or column (no ties here),
    # so the complex step goes through them; the variance's needs the arithmetic
    for f, oracle in ((along_axes, along_axes), (tuples_and_keepdims, tuples_and_keepdims),
                      (spreads_kept, spreads_kept_by_hand)):
        assert f(M) == pytest.approx(oracle(M), rel=1e-14)
        expected = cs_jacobian(oracle, (M,), 0)
        np.testing.assert_allclose(sd.grad(f, jit=jit)(M), expected, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(sd.grad(f, mode="forward", jit=jit)(M), expected, rtol=1e-13, atol=1e-14)
    # the second derivative of a softmax-like shift: exp(X - max) along rows, by differences of the gradient
    H = sd.hessian(along_axes, jit=jit)(M)
    for k in range(M.size):
        e = np.zeros(M.size)
        e[k] = 1e-5
        e = e.reshape(M.shape)
        column = (cs_jacobian(along_axes, (M + e,), 0) - cs_jacobian(along_axes, (M - e,), 0)) / 2e-5
        np.testing.assert_allclose(H[..., k // 3, k % 3], column, rtol=1e-6, atol=1e-6)


def test_ties_along_an_axis_share_evenly():
    X = np.array([[1.0, 2.0], [1.0, -1.0]])          # column 0: a tie at 1.0
    np.testing.assert_array_equal(sd.grad(column_maxima)(X), [[0.5, 1.0], [0.5, 0.0]])


def column_maxima(X):
    return np.sum(np.max(X, axis=0))
