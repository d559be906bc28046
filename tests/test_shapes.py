"""Shape and order (issue 16): reshape (function and method, -1, a shape tuple or extents),
ravel and flatten, flip/flipud/fliplr, cumsum, in both modes, compiled and not, to second
order.  Oracles: the complex step for gradients, and central differences of the
complex-step gradient for Hessians (exact up to rounding on these cubic functions);
writes through a reshaped or flipped view are refused, naming the line."""
import numpy as np
import pytest

import s2sdiff as sd
from oracles import cs_jacobian
from s2sdiff.errors import UnsupportedError

WEIGHTS = np.arange(1.0, 7.0)


def reshaped(x):
    A = x.reshape(2, 3)
    B = np.reshape(x, (3, 2))
    C = x.reshape(-1)
    return np.sum(A @ np.arange(3.0)) + np.sum(B[1] ** 2) + np.sum(C ** 3)


def flattened(X):
    return np.sum(X.ravel() * WEIGHTS) + np.sum(np.ravel(X.T) ** 3) + np.sum(X.flatten() * X.reshape(-1))


def reversed_and_running(x):
    return np.sum(np.flip(x) * WEIGHTS * x) + np.sum(np.cumsum(x) ** 2) + np.sum(x.cumsum() * x)


def flipped_matrix(X):
    return np.sum(np.flipud(X) * X) + np.sum(np.fliplr(X) ** 3 * X) + np.sum(X.cumsum() * WEIGHTS)


def hessian_by_differences(f, a, h=1e-4):
    columns = []
    for k in range(a.size):
        e = np.zeros(a.size)
        e[k] = h
        e = e.reshape(a.shape)
        columns.append((cs_jacobian(f, (a + e,), 0) - cs_jacobian(f, (a - e,), 0)) / (2 * h))
    return np.stack(columns, axis=-1).reshape(a.shape + a.shape)


X6 = np.linspace(-1.0, 1.3, 6)
CASES = [(reshaped, X6), (flattened, X6.reshape(2, 3) * 1.1), (reversed_and_running, X6),
         (flipped_matrix, X6.reshape(2, 3) * 0.9)]


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("f, a", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_shape_and_order_in_both_modes_and_second_order(f, a, jit):
    expected = cs_jacobian(f, (a,), 0)
    np.testing.assert_allclose(sd.grad(f, jit=jit)(a), expected, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(sd.grad(f, mode="forward", jit=jit)(a), expected, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(sd.hessian(f, jit=jit)(a), hessian_by_differences(f, a), rtol=1e-7, atol=1e-7)


def writes_through_a_reshape(x):
    y = x * 1.0
    v = y.reshape(2, 3)
    v[0, 1] = 5.0
    return np.sum(y * x)


def reads_a_flip_after_a_write(x):
    y = x * 2.0
    f = np.flip(y)
    y[0] = 0.0
    return np.sum(f * x)


@pytest.mark.parametrize("f, line", [(writes_through_a_reshape, "v = y.reshape(2, 3)"),
                                     (reads_a_flip_after_a_write, "return np.sum(f * x)")])
def test_writes_through_views_are_refused_naming_the_line(f, line):
    with pytest.raises(UnsupportedError) as refused:
        sd.grad(f)(X6)
    assert line in str(refused.value)
