"""Whole-array NumPy: reductions, ufuncs, slicing, broadcasting, joins — as autograd's and
JAX's NumPy tests exercise them."""
import numpy as np

from corpus import case, mat, positive, vec


@case(vec(5), tags=("power", "reduction"))
def sum_of_squares(x):
    return np.sum(x**2)


@case(vec(5), tags=("method-reduction",))
def sum_method(x):
    return (x * x).sum()


@case(vec(4), tags=("dot",))
def self_dot(x):
    return np.dot(x, x)


@case(vec(4), tags=("matmul",))
def matmul_vectors(x):
    return x @ x


@case(vec(5), tags=("norm",))
def euclidean_norm(x):
    return np.linalg.norm(x)


@case(vec(6), tags=("mean",))
def mean_square(x):
    return np.mean(x**2)


@case(vec(6), tags=("var",), oracle="fd")
def variance(x):
    return np.var(x)


@case(vec(6), tags=("std", "ddof"), oracle="fd")
def sample_std(x):
    return np.std(x, ddof=1)


@case(positive(4), tags=("prod",))
def product_of_entries(x):
    return np.prod(x)


@case(vec(5), tags=("cumsum",))
def cumulative_sum_last(x):
    return np.sum(np.cumsum(x) ** 2)


@case(vec(5), tags=("max-reduction",))
def largest_entry_squared(x):
    return np.max(x) ** 2


@case(vec(5), tags=("reverse-slice",))
def sin_cos_reversed(x):
    return np.sum(np.sin(x) * np.cos(x[::-1]))


@case(vec(6), tags=("slices",))
def neighbour_products(x):
    return np.sum(x[1:] * x[:-1])


@case(vec(6), tags=("diff",))
def squared_differences(x):
    return np.sum(np.diff(x) ** 2)


@case(vec(3), vec(4, seed=1), tags=("outer", "axis"))
def outer_column_sums(x, y):
    return np.sum(np.outer(x, y).sum(axis=0) ** 2)


@case(mat(3, 4), tags=("keepdims", "broadcast"))
def row_normalize(A):
    s = np.sum(A**2, axis=1, keepdims=True)
    return np.sum(A / np.sqrt(s))


@case(vec(5), tags=("logsumexp", "max-reduction"))
def stable_logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


@case(vec(6, away=0.1), tags=("where",))
def leaky_relu_sum(x):
    return np.sum(np.where(x > 0, x, 0.1 * x) ** 2)


@case(vec(4), vec(3, seed=1), tags=("concatenate", "tuple-of-arrays"))
def concatenated_norm(x, y):
    z = np.concatenate((x, 2.0 * y))
    return np.sum(z**2)


@case(vec(3), vec(3, seed=1), tags=("stack", "list-of-arrays"))
def stacked_rows(x, y):
    S = np.stack([x, y, x * y])
    return np.sum(S[1] * S[2]) + np.sum(S**2)


@case(vec(3), vec(3, seed=1), tags=("vstack",))
def vstack_matmul(x, y):
    M = np.vstack((x, y))
    return np.sum(M @ M.T)


@case(vec(2), vec(3, seed=1), tags=("hstack",))
def hstack_cubes(x, y):
    return np.sum(np.hstack([x, y]) ** 3)


@case(vec(3), tags=("tile",))
def tiled(x):
    return np.sum(np.tile(x, 2) * np.arange(6))


@case(vec(4), tags=("flip",))
def flipped_product(x):
    return np.sum(x * np.flip(x))


@case(vec(5), tags=("roll",))
def rolled_product(x):
    return np.sum(x * np.roll(x, 1))


@case(vec(5), tags=("sort",))
def sorted_weights(x):
    return np.sum(np.sort(x) * np.arange(1.0, 6.0))


@case(mat(3), tags=("trace", "matmul"))
def trace_of_square(X):
    return np.trace(X @ X)


@case(mat(3, 4), vec(4), tags=("einsum",))
def einsum_matvec(A, x):
    return np.sum(np.einsum("ij,j->i", A, x) ** 2)


@case(vec(6), tags=("step-slice",))
def even_odd_slices(x):
    return np.sum(x[::2] ** 2) - np.sum(x[1::2] * x[::2])


@case(vec(5), tags=("fancy-index",), expect="refused:list")
def fancy_index(x):
    return np.sum(x[[0, 2, 4]] ** 2)


@case(vec(6, away=0.1), tags=("boolean-mask",), expect="refused:array-index")
def masked_sum(x):
    return np.sum(x[x > 0] ** 2)


@case(mat(4, 3), tags=("axis", "broadcast"))
def centered_columns(A):
    centered = A - A.mean(axis=0)
    return np.sum(centered**2)


@case(vec(5), tags=("sqrt", "epsilon"))
def smooth_norm(x):
    return np.sqrt(np.sum(x**2) + 1e-8)


@case(mat(3), tags=("norm", "fro"))
def frobenius_norm(A):
    return np.linalg.norm(A, "fro")


@case(positive(4), tags=("cumprod",))
def cumulative_product(x):
    return np.sum(np.cumprod(x))


@case(vec(6, away=0.1), tags=("maximum",))
def relu_norm(x):
    return np.sum(np.maximum(x, 0.0) ** 2)


@case(vec(6, seed=3), tags=("clip",))
def clipped(x):
    return np.sum(np.clip(x, -0.5, 0.5) * x)


@case(vec(6, away=0.1), tags=("abs",))
def l1_norm(x):
    return np.abs(x).sum()


@case(mat(3, 4), vec(4), tags=("newaxis", "broadcast"))
def newaxis_broadcast(A, x):
    return np.sum(np.sum(x[None, :] * A, axis=1) ** 2)


@case(mat(2, 3), tags=("reshape",))
def flattened(A):
    return np.sum(A.reshape(-1) * np.arange(6.0))


@case(vec(4), tags=("reshape",))
def vector_as_matrix(x):
    M = x.reshape(2, 2)
    return np.trace(M @ M)


@case(vec(3), vec(3, seed=1), tags=("cross",))
def cross_product_norm(u, v):
    w = np.cross(u, v)
    return np.dot(w, w)


@case(vec(4), 0.7, tags=("polyval",))
def polynomial_value(c, x):
    return np.polyval(c, x)


@case(vec(4), positive(4, seed=1), tags=("average", "weights"))
def weighted_average(x, w):
    return np.average(x**2, weights=w)


@case(vec(4), tags=("square", "power-ufunc"))
def ufunc_powers(x):
    return np.sum(np.square(x) + np.power(x, 3))


@case(positive(4), tags=("reciprocal",))
def reciprocal_sum(x):
    return np.sum(np.reciprocal(x)) + np.sum(1 / x)


@case(vec(3), vec(3, lo=0.5, hi=1.5, seed=1), tags=("arctan2",))
def angle_sum(y, x):
    return np.sum(np.arctan2(y, x))


@case(vec(4), tags=("exp2", "log2"))
def base_two(x):
    return np.sum(np.exp2(x) + np.log2(x**2 + 1))


@case(vec(5), tags=("array-return", "ufunc"))
def elementwise_map(x):
    return np.tanh(x) * np.exp(-(x**2))


@case(mat(3), tags=("array-return", "transpose"))
def symmetric_part(A):
    return 0.5 * (A + A.T)


@case(vec(4), vec(4, seed=1), tags=("inner",))
def inner_product(x, y):
    return np.inner(x, y) ** 2


@case(vec(4), tags=("linspace", "broadcast"))
def weighted_by_grid(x):
    t = np.linspace(0.0, 1.0, 4)
    return np.sum(t * x**2)


@case(mat(3, 3), tags=("min-reduction", "axis"))
def column_minimum(A):
    return np.sum(np.min(A, axis=0) ** 2)


@case(vec(5), tags=("logaddexp",), oracle="fd")
def pairwise_logaddexp(x):
    return np.sum(np.logaddexp(x[:-1], x[1:]))


@case(vec(3), vec(3, seed=1), tags=("column_stack",))
def column_stack_gram(x, y):
    M = np.column_stack((x, y))
    return np.sum(M.T @ M)
