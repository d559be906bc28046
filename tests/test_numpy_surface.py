"""NumPy as people write it (issue 16): the elementwise functions, reductions, shape and order
functions, joins and splits, diagonals, creation with dtypes, and arrays of 3 dimensions,
each through grad in both modes and the Hessian, without numba per function and compiled
per group.

Oracles: the complex step where the function is analytic in a complex argument (NumPy's
own functions run on complex arrays), and Richardson-extrapolated central differences
(`oracle="fd"`) where it is not (|x|, max, sorting, clipping, a float64 allocation that
drops an imaginary part); Hessians by central differences of the oracle's gradient.
"""
import numpy as np
import pytest

import s2sdiff as sd
from oracles import cs_jacobian
from s2sdiff.errors import UnsupportedError

X6 = np.array([0.3, -0.7, 1.1, 0.4, 0.9, -1.3])
ARANGE6 = np.arange(6.0)


def fd_gradient(f, x, h=1e-3):
    """Central differences, Richardson-extrapolated (error O(h⁴))."""
    def central(step):
        return np.array([(f(x + step * e.reshape(x.shape)) - f(x - step * e.reshape(x.shape))) / (2 * step)
                         for e in np.eye(x.size)]).reshape(x.shape)
    return (4 * central(h / 2) - central(h)) / 3


def oracle_gradient(f, x, oracle):
    return fd_gradient(f, x) if oracle == "fd" else cs_jacobian(f, (x,), 0)


def oracle_hessian(f, x, oracle, h=1e-4):
    rows = [(oracle_gradient(f, x + h * e.reshape(x.shape), oracle)
             - oracle_gradient(f, x - h * e.reshape(x.shape), oracle)) / (2 * h) for e in np.eye(x.size)]
    return np.array(rows).reshape(x.shape + x.shape)


# ---- functions of a vector x of 6: ANALYTIC ones checked by the complex step, PIECEWISE ones
# (and NumPy functions that take no complex numbers) by differences ------------------------

def logaddexp(x): return np.sum(np.logaddexp(x, x ** 2)) + np.sum(np.logaddexp2(x, 1.0 - x))
def fmax_fmin(x): return np.sum(np.fmax(x, 0.1 * x + 0.05) ** 2) + np.sum(np.fmin(x ** 2, 0.3) * x)
def sinc(x): return np.sum(np.sinc(x) ** 2) + np.sinc(x[0] - 0.3) * x[1]    # x[0] - 0.3 = 0: sinc's series
def degrees(x): return np.sum(np.deg2rad(x) * np.rad2deg(x) + np.radians(x) ** 2 + np.degrees(x) * x)
def float_power(x): return np.sum(np.float_power(x ** 2 + 1.0, 1.5))
def nan_to_num(x): return np.sum(np.nan_to_num(x) ** 2) + np.sum(np.nan_to_num(x * x, nan=-1.0, posinf=5.0) ** 3)
def heaviside(x): return np.sum(np.heaviside(x, 0.5) * x ** 2)
def clip_keywords(x): return np.sum(np.clip(x, a_min=-0.5, a_max=None) ** 2) + np.sum(x.clip(None, 0.5) ** 3)


def prod(x):
    X = x.reshape(2, 3)
    return np.prod(x) + np.sum(np.prod(X, axis=0) ** 2) + np.sum(X.prod(axis=1, keepdims=True) * x[:2].reshape(2, 1))


def prod_with_zero(x):
    y = x * np.array([1.0, 0.0, 1.0, 1.0, 1.0, 1.0])         # a zero factor: the division rule would give nan
    return np.prod(y) + np.sum(np.cumprod(y) ** 2)


def running(x):
    X = x.reshape(2, 3)
    return np.sum(np.cumprod(x) ** 2) + np.sum(np.cumprod(X, axis=1) * ARANGE6.reshape(2, 3)) \
        + np.sum(np.cumsum(X, axis=0) ** 3)


def averages(x):
    X = x.reshape(2, 3)
    return np.average(x, weights=ARANGE6) + np.sum(np.average(X, axis=0, weights=np.array([1.0, 3.0])) ** 2) \
        + np.sum(np.average(X, axis=1) ** 2)


def norms(x):
    X = x.reshape(2, 3)
    return np.linalg.norm(x, 3) + np.sum(np.linalg.norm(X, axis=1)) + np.linalg.norm(x, np.inf) \
        + np.sum(np.linalg.norm(X, 1, axis=0, keepdims=True) ** 2) + np.linalg.norm(x, ord=-np.inf)


def argmax_indices(x): return x[np.argmax(x)] ** 2 + x[np.argmin(x)] * x[0] + x[x.argmax()] * x[1]
def differences(x): return np.sum(np.diff(x) ** 2) + np.sum(np.diff(x.reshape(2, 3), axis=0) ** 3) \
    + np.sum(np.diff(x, n=2) ** 3)


def rolls(x):
    X = x.reshape(2, 3)
    return np.sum(np.roll(x, 2) * ARANGE6) + np.sum(np.roll(X, -1, axis=1) * ARANGE6.reshape(2, 3) * X) \
        + np.sum(np.roll(x, -7) * x ** 2)


def turns(x):
    S = np.outer(x[:3], x[3:])
    return np.sum(np.rot90(S) * S) + np.sum(np.rot90(S, 3) * S ** 2) + np.sum(np.rot90(S, k=2) * S)


def axes(x):
    X = x.reshape(2, 3)
    return np.sum(np.swapaxes(X, 0, 1) @ X) + np.sum(X.transpose(1, 0) ** 2 @ X) \
        + np.sum(np.transpose(X, axes=(1, 0)) * X.T) + np.sum(np.moveaxis(X, 0, -1) ** 3)


def unit_axes(x): return np.sum(np.expand_dims(x, 0) ** 3) + np.sum(np.squeeze(x.reshape(1, 6), axis=0) ** 3) \
    + np.sum(x.reshape(6, 1).squeeze(1) * x)


def diagonals(x):
    S = np.outer(x[:3], x[3:])
    return (np.sum(np.diagonal(S, 1) ** 2) + np.trace(S, -1) ** 2 + np.sum(np.diag(x) @ np.diag(x, 1)[1:, :-1] * x)
            + np.sum(np.diag(S) ** 2) + np.sum(np.diag(x.reshape(2, 3), k=1) ** 3) + np.sum(S.diagonal() * x[:3])
            + S.trace() * x[0])


def triangles(x):
    S = np.outer(x[:3], x[3:])
    return np.sum(np.tril(S, -1) ** 2) + np.sum(np.triu(S, k=1) * x[:3]) + np.sum(np.tril(S) * S)


def products(x):
    return (np.inner(x, x ** 2) + np.sum(np.cross(x[:3], x[3:]) ** 2) + np.sum(np.kron(x[:2], x[2:]) ** 2)
            + np.sum(np.add.outer(x[:2], x) ** 2) + np.sum(np.multiply.outer(x, x[1:3]) ** 2)
            + np.sum(np.subtract.outer(x[:3], x[3:]) ** 3)
            + np.sum(np.kron(x[:4].reshape(2, 2), np.outer(x[4:], x[:3])) ** 2))


def sorting(x): return np.sum(np.sort(x) * ARANGE6) + np.sum(np.sort(x.reshape(2, 3)) * ARANGE6.reshape(2, 3) * x[0])
def broadcasting(x): return np.sum(np.broadcast_to(x[:3], (2, 3)) * x.reshape(2, 3))


def joins(x):
    return (np.sum(np.concatenate((x, x[:2] ** 2)) ** 3) + np.sum(np.stack([x, x ** 2], axis=1) @ np.arange(2.0) ** 2)
            + np.sum(np.vstack((x, x * 2)) ** 3) + np.sum(np.column_stack((x, x ** 2)) ** 3)
            + np.sum(np.hstack((x.reshape(2, 3), x.reshape(2, 3) ** 2)) ** 3) + np.sum(np.hstack((x, x[:1])) * x[0])
            + np.sum(np.concatenate([x.reshape(2, 3), np.ones((2, 1))], axis=-1) ** 3)
            + np.sum(np.concatenate((x.reshape(2, 3), x.reshape(2, 3)), axis=None) * ARANGE6.repeat(2))
            + np.sum(np.append(x, x[:2]) ** 3) + np.sum(np.stack((x[0], x[1], 1.0)) ** 2))


def splits(x):
    a, b = np.split(x, 2)
    return np.sum(a * b ** 2) + np.sum(np.split(x, 3)[1] ** 3) \
        + np.sum(np.array_split(x, 4)[0] * np.array_split(x, 4)[3]) + np.sum(np.split(x, [1, 4])[2] ** 3) \
        + np.sum(np.split(x.reshape(2, 3), [1], axis=1)[1] ** 3)


def literal_arrays(x):
    return np.sum(np.array([x[0] * x[1], x[2], 2.0]) ** 2) + np.sum(np.array([[x[0], x[1]], [x[2] ** 2, 1.0]]) @ x[:2]) \
        + np.sum(np.asarray(x) ** 3) + np.sum(np.array(x) * x) + np.sum(np.asarray((x[3], x[4])) ** 2)


def dtypes(x):
    z = np.zeros(x.shape, dtype=x.dtype)
    for i in range(x.shape[0]):
        z[i] = x[i] * x[(i + 1) % x.shape[0]]
    w = np.zeros_like(x, dtype=np.float64) + x.astype(float) + np.full_like(x, 2.0, dtype="float64")
    index = np.zeros(2, dtype=np.int64)
    index[1] = 3
    return np.sum(z ** 2) + np.sum(w * x) * x.ndim + x[index[1]] * np.sum(x, dtype=np.float64) \
        + np.sum(np.asarray((x[3], x[4]), dtype=float) ** 2) \
        + np.sum(x * np.eye(6, dtype=float)[2]) + np.sum(np.ones(x.shape[0], float) * x)


def tiles(x):
    return np.sum(np.tile(x, 3) * np.arange(18.0)) + np.sum(np.tile(x[:4], (2, 2)) ** 2) \
        + np.sum(np.tile(x[:4].reshape(2, 2), 2) ** 3)


def repeats(x):
    X = x[:4].reshape(2, 2)
    return np.sum(np.repeat(x, 2) * np.arange(12.0)) + np.sum(np.repeat(X, 3, axis=0) ** 3) \
        + np.sum(np.repeat(X, 2, axis=1) * np.arange(8.0).reshape(2, 4)) + np.sum(x.repeat(2, axis=-1) ** 2)


def pads(x):
    X = x[:4].reshape(2, 2)
    return (np.sum(np.pad(x, 2) ** 2 * np.arange(10.0)) + np.sum(np.pad(x, (1, 2), mode="edge") * np.arange(9.0))
            + np.sum(np.pad(X, ((1, 0), (0, 2)), constant_values=0.5) ** 3)
            + np.sum(np.pad(X, ((1, 1), (2, 0)), mode="edge") * np.arange(16.0).reshape(4, 4)))


def depth_stacks(x):
    X = x[:4].reshape(2, 2)
    return np.sum(np.dstack((x, x ** 2)) ** 2 * np.arange(12.0).reshape(1, 6, 2)) + np.sum(np.dstack((X, X)) ** 3)


def reduction_keywords(x):
    X = x[:4].reshape(2, 2)
    return (np.sum(x, initial=2.0) * np.max(x, initial=0.5) + np.sum(x ** 2, where=x > 0)
            + np.sum(np.flip(X, axis=0) * ARANGE6[:4].reshape(2, 2)) + np.sum(np.flip(X, -1) ** 2 * X)
            + np.sum(np.sort(X, axis=0) ** 2 * ARANGE6[:4].reshape(2, 2)) + np.sum(np.sort(X, axis=None) * X.ravel())
            + np.sum(np.sort(x, kind="stable") * ARANGE6))


def einsums(x):
    A, B, v = x[:4].reshape(2, 2), np.outer(x[:2], x[4:]), x[4:]
    return (np.sum(np.einsum("ij,jk->ik", A, B) ** 2) + np.einsum("ij,j->i", A, v) @ v + np.einsum("ii->", A @ A)
            + np.sum(np.einsum("ii->i", A) ** 3) + np.sum(np.einsum("ij->ji", A) * B.T) + np.einsum("i,i", v, v)
            + np.sum(np.einsum("ij,kj->ik", A, B) ** 2) + np.einsum("ij,ij->", A, B) + np.sum(np.einsum("i,j->ij", v, x) ** 2)
            + np.sum(np.einsum("ij,jk,k->i", A, B, v) ** 2) + np.sum(np.einsum("ij,kl->ikjl", A, B) ** 2))


def whole_keepdims(x):
    X = x.reshape(2, 3)
    return np.sum(X / np.sum(X ** 2, keepdims=True)) + np.sum(X * np.mean(X, keepdims=True) ** 2) \
        + np.sum(np.prod(X, keepdims=True) * X) + np.sum(np.exp(X - np.max(X, keepdims=True)))


def running_any_axis(x):
    X, T = x.reshape(2, 3), x.reshape(1, 2, 3)
    return np.sum(np.cumsum(np.sin(X), axis=-1) ** 2) + np.sum(np.cumprod(T, axis=2) ** 2) \
        + np.sum(np.cumsum(T, axis=-2) * T)


def difference_ends(x):
    X = x.reshape(2, 3)
    return np.sum(np.diff(x, prepend=0.5) ** 2) + np.sum(np.diff(X, axis=0, append=x[0]) ** 3) \
        + np.sum(np.diff(X, prepend=X[:, :1] * 2.0) ** 2)


def stacked_products(x):
    """Stacks of matrices: their leading axes broadcast, and a vector operand loses its axis."""
    T, S, v = x.reshape(2, 1, 3), x.reshape(2, 3, 1), x[:3]
    return np.sum(np.sin(T @ np.ones((3, 2)))) + np.sum((S @ T) ** 2) + np.sum(v @ S) + np.sum((T @ v) ** 3) \
        + np.sum(np.matmul(np.outer(x[:2], x[2:4]), S[:, :2, :]) ** 2)


def stacked_dots(x):
    """np.dot of stacks, another product: over the last axis of one and the second-to-last of
    the other, the free axes of both kept (where the code shows the ranks, as here)."""
    T, S, v = x.reshape(2, 1, 3), x.reshape(2, 3, 1), x[:3]
    return np.sum(np.dot(S, T) ** 2) + np.sum(np.dot(T, v) ** 3) + np.sum(np.sin(np.dot(x.reshape(2, 3), S)))


def diagonal_writes(x):
    B = np.outer(x[:3], x[3:])
    np.fill_diagonal(B, x[0] ** 2)
    return np.sum(B ** 2) + np.sum(np.linalg.multi_dot([B, B.T, x[:3]]) ** 2) \
        + np.sum(np.cross(x.reshape(2, 3), x[::-1].reshape(2, 3)) ** 2)


def stacked_solves(x):
    S = np.stack([np.outer(x[:2], x[2:4]) + 3.0 * np.eye(2), np.outer(x[4:], x[:2]) + 2.0 * np.eye(2)])
    return np.sum(np.linalg.inv(S) ** 2) + np.sum(np.linalg.det(S) ** 2) + np.sum(np.linalg.solve(S, S[::-1]) ** 3)


def tensordots(x):
    T, M = x.reshape(1, 2, 3), x.reshape(3, 2)
    return np.sum(np.tensordot(T, M, axes=([2, 1], [0, 1])) ** 2) + np.sum(np.tensordot(M, x[:2], axes=(-1, 0)) ** 3)


def matrix_norms(x):
    X = x.reshape(2, 3)
    return np.linalg.norm(X, 1) ** 2 + np.linalg.norm(X, np.inf) ** 3 + np.linalg.norm(X, -np.inf) \
        + np.linalg.norm(X, axis=(0, 1)) ** 2 + np.sum(np.linalg.norm(X[None], axis=(-2, -1), keepdims=True)) \
        + np.linalg.norm(X, 2) ** 2 + np.linalg.norm(x, 2) * x[0]


def polynomials(x): return np.sum(np.polyval(x[:3], x) ** 2) + np.polyval(x, x[0] ** 2)


def medians(x):
    X = x.reshape(2, 3)
    return np.sum(np.median(X, axis=1) ** 2) + np.sum(np.median(X, axis=0) ** 3) + np.median(x) * x[0]


ANALYTIC = [sinc, float_power, nan_to_num, prod, prod_with_zero, running, averages, differences,
            rolls, turns, axes, unit_axes, diagonals, triangles, products, broadcasting, joins, splits, literal_arrays,
            tiles, repeats, pads, depth_stacks, einsums, whole_keepdims, running_any_axis, difference_ends,
            stacked_products, stacked_dots, diagonal_writes, stacked_solves, tensordots, polynomials]
PIECEWISE = [logaddexp, degrees, fmax_fmin, heaviside, clip_keywords, norms, argmax_indices, sorting, dtypes,
             reduction_keywords, matrix_norms, medians]
CASES = [(f, "cs") for f in ANALYTIC] + [(f, "fd") for f in PIECEWISE]


@pytest.mark.parametrize("f, oracle", CASES, ids=lambda c: getattr(c, "__name__", c))
def test_gradient_and_hessian_without_numba(f, oracle):
    expected = oracle_gradient(f, X6, oracle)
    tol = 1e-12 if oracle == "cs" else 1e-8
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(sd.grad(f, mode=mode, jit=False)(X6), expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(sd.hessian(f, jit=False)(X6), oracle_hessian(f, X6, oracle), rtol=1e-6, atol=1e-6)


# Compiled, reverse mode, whose rules call the runtime helpers' numba overloads; forward
# mode's compiled tangents are the same rules, checked compiled in the Hessians below.  Two
# groups check a caller's compiled adjoint through its callees' sweeps; the rest are compiled
# one function each: numba takes minutes over one function calling ten of them (its callees'
# code is optimised again inside each caller), seconds over each alone.
def group_elementwise(x): return logaddexp(x) + sinc(x) + degrees(x) + float_power(x) + nan_to_num(x) + fmax_fmin(x) \
    + heaviside(x) + clip_keywords(x)
def group_joins(x): return joins(x) + splits(x) + literal_arrays(x) + dtypes(x)


def common_einsums(x):
    A, v = x[:4].reshape(2, 2), x[4:]
    return np.sum(np.einsum("ij,jk->ik", A, A) ** 2) + np.einsum("ii->", A) * np.einsum("i,i", v, v)


COMPILED_ALONE = [prod, prod_with_zero, running, averages, norms, argmax_indices, whole_keepdims, running_any_axis,
                  matrix_norms, medians, polynomials,                                   # reductions
                  differences, rolls, turns, axes, unit_axes, sorting, broadcasting, difference_ends,   # shapes
                  diagonals, triangles, products, common_einsums, diagonal_writes, stacked_products, stacked_dots,
                  stacked_solves, tensordots,                                           # diagonals and products
                  tiles, repeats, pads, depth_stacks, reduction_keywords]               # copies


@pytest.mark.parametrize("f", [group_elementwise, group_joins] + COMPILED_ALONE, ids=lambda f: f.__name__)
def test_compiled(f):
    np.testing.assert_allclose(sd.grad(f)(X6), fd_gradient(f, X6), rtol=1e-8, atol=1e-8)


# A compiled Hessian runs the second-order rules' helpers through numba: joins and slices,
# and permutations (the others are checked without numba above: a compiled Hessian of each
# group's function takes minutes).
def joined_pieces(x): return np.sum(np.concatenate((x[:2], x ** 2)) ** 3) + np.sum(np.split(x, 2)[1] ** 3)
def sorted_squares(x): return np.sum(np.sort(x) ** 3 * ARANGE6)


@pytest.mark.parametrize("f", [joined_pieces, sorted_squares], ids=lambda f: f.__name__)
def test_compiled_hessians(f):
    np.testing.assert_allclose(sd.hessian(f)(X6), sd.hessian(f, jit=False)(X6), rtol=1e-12, atol=1e-12)


def test_sinc_derivatives_of_every_order_at_zero_and_away():
    """np.sinc's derivatives come from one helper: exact at 0, where sin(πx)/(πx) is 0/0."""
    import mpmath
    mpmath.mp.dps = 40
    third = sd.derivative(lambda t: np.sinc(t), order=3, jit=False)
    for t in (0.0, 0.25, -1.7, 3.2):
        exact = mpmath.diff(lambda u: mpmath.sinc(mpmath.pi * u), t, 3)
        assert abs(third(t) - float(exact)) <= 1e-12 * max(1.0, abs(float(exact)))
    assert sd.derivative(lambda t: np.sinc(t), order=2)(0.0) == pytest.approx(-np.pi ** 2 / 3, rel=1e-14)


# ---- arrays of three dimensions --------------------------------------------------------
X3 = np.random.default_rng(0).uniform(-1.0, 1.0, (2, 3, 4))


def elementwise_3d(x): return np.sum(np.sin(x) * x ** 2)


def indexed_3d(x):
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            for k in range(x.shape[2]):
                s += x[i, j, k] * x[i, j, (k + 1) % x.shape[2]]
    return s


def sliced_3d(x):
    return np.sum(x[:, 1:, ::2] ** 2) + np.sum(x[1, :, -1] * x[0, :, 0]) + np.sum(x[..., 1] ** 3) \
        + np.sum(x[:, None, 0, :] * x[:, 0:1, :])


def reduced_3d(x):
    return np.sum(np.sum(x, axis=1) ** 2) + np.sum(x.mean(axis=(0, 2)) ** 2) + np.sum(np.var(x, axis=-1)) \
        + np.sum(np.prod(x, axis=0)) + np.sum(np.cumsum(x, axis=1) * x)


def written_3d(x):
    y = np.zeros_like(x)
    for i in range(x.shape[0]):
        y[i] = x[i] ** 2
        y[i, 0, 1] = x[i, 1, 0] * 3.0
    return np.sum(y * x) + np.sum((x * x[0, 0]) ** 2) + np.sum(x.reshape(6, 4) @ np.ones(4))


@pytest.mark.parametrize("f, oracle", [(elementwise_3d, "cs"), (indexed_3d, "cs"), (sliced_3d, "cs"),
                                       (reduced_3d, "fd"), (written_3d, "cs")], ids=lambda c: getattr(c, "__name__", c))
def test_three_dimensional_arrays(f, oracle):
    expected = oracle_gradient(f, X3, oracle)
    tol = 1e-12 if oracle == "cs" else 1e-8
    for mode in ("reverse", "forward"):
        got = sd.grad(f, mode=mode, jit=False)(X3)
        assert got.shape == X3.shape
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


def compiled_3d(x): return elementwise_3d(x) + indexed_3d(x) + np.sum(x[:, 1:, ::2] ** 2) + np.sum(np.sum(x, axis=1) ** 2)


def test_dot_of_stacks_compiled():
    expected = cs_jacobian(stacked_dots, (X6,), 0)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(sd.grad(stacked_dots, mode=mode)(X6), expected, rtol=1e-12, atol=1e-12)


def test_three_dimensional_arrays_compiled():
    expected = cs_jacobian(compiled_3d, (X3,), 0)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(sd.grad(compiled_3d, mode=mode)(X3), expected, rtol=1e-12, atol=1e-12)
    J = sd.jacobian(lambda x: np.sum(x ** 2, axis=(1, 2)))(X3)
    np.testing.assert_allclose(J, 2 * X3[None, :, :, :] * (np.arange(2)[:, None, None, None] ==
                                                            np.arange(2)[None, :, None, None]), rtol=1e-15)


def test_float32_arguments_give_float32_derivatives():
    x = X6.astype(np.float32)
    g = sd.grad(norms)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, fd_gradient(norms, X6), rtol=1e-6, atol=1e-6)


# ---- refusals, each naming what is not supported ---------------------------------------

def keyword_out(x): return np.sum(np.clip(x, 0.0, 1.0, out=None))
def keyword_where(x): return np.max(x, where=x > 0, initial=0.0)
def single_precision(x): return np.sum(np.zeros(2, dtype=np.float32)) * x[0]
def into_integers(x):
    k = np.zeros(2, dtype=int)
    k[0] = x[0]
    return x[1] * k[0]
def uneven_split(x): return np.sum(np.split(x, 4)[0])
def diagonal_of_vector(x): return np.sum(np.diagonal(x))
def stacked_cholesky(x): return np.sum(np.linalg.cholesky(np.eye(2)[None] * (x[0] ** 2 + 1.0)))


@pytest.mark.parametrize("f, message", [
    (keyword_out, "keyword 'out=' of np.clip is not supported"),
    (keyword_where, "keyword 'where=' of np.max is not supported"),
    (single_precision, "dtype float32 is not supported"),
    (into_integers, "s2sdiff has no derivative for np.zeros(2, dtype=int)"),
    (uneven_split, "array split does not result in an equal division"),
    (diagonal_of_vector, "np.diagonal is supported for matrices here"),
    (stacked_cholesky, "np.linalg.cholesky is supported here for arguments of 2 dimensions: stacks of matrices"),
], ids=lambda c: getattr(c, "__name__", ""))
def test_refusals_name_the_construct(f, message):
    with pytest.raises((UnsupportedError, AssertionError)) as info:
        sd.grad(f, jit=False)(X6)
    assert message in str(info.value)
