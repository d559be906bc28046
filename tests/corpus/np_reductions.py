"""Reductions along axes, as functions and as methods: sum, mean, max/min, prod, var/std,
cumulative sums and products, averages, norms, and arg-reductions used as passive indices —
each at several shapes and with the axis and keepdims variants NumPy test suites sweep."""
import numpy as np

from corpus import case, mat, positive, vec


# ---- sum -------------------------------------------------------------------------------

@case(vec(5), tags=("sum", "exp"))
def sum_whole_vector(x):
    return np.sum(np.exp(x))


@case(mat(2, 3), tags=("sum", "method"))
def sum_method_matrix(X):
    return (X * X).sum()


@case(mat(3, 4, seed=1), tags=("sum", "axis0", "array-output"))
def sum_axis0(X):
    return np.sum(X * X, axis=0)


@case(mat(3, 4, seed=2), tags=("sum", "axis1"))
def sum_axis1_squared(X):
    return np.sum(np.sum(X, axis=1) ** 2)


@case(mat(3, 2, seed=3), tags=("sum", "negative-axis"))
def sum_negative_axis(X):
    return np.sum(np.sin(np.sum(X, axis=-1)))


@case(mat(2, 3, seed=4), tags=("sum", "axis-tuple"))
def sum_axis_tuple(X):
    return np.sum(X**2, axis=(0, 1))


@case(mat(3, 4, seed=5), tags=("sum", "keepdims", "broadcast", "array-output"),
      bugs={"jac.rev/jit": "compiled reverse Jacobian: the generated code calls np.sum with "
                             "keepdims=True, which numba does not type (TypeError)"})
def sum_keepdims_center(X):
    return X - np.sum(X, axis=1, keepdims=True) / 4.0


@case(mat(3, 4, seed=6), tags=("sum", "method", "axis1"))
def sum_method_axis(X):
    return np.sum(X.sum(axis=1) ** 2)


@case(mat(3, 4, seed=7), tags=("sum", "method", "positional-axis"))
def sum_method_positional_axis(X):
    return np.sum(np.exp(X.sum(0)))


@case(mat(2, 4, seed=8), tags=("sum", "positional-axis"))
def sum_function_positional_axis(X):
    return np.sum(np.cos(np.sum(X, 1)))


@case(mat(3, 3, seed=9), tags=("sum", "keepdims", "method"))
def sum_method_keepdims(X):
    s = X.sum(axis=0, keepdims=True)
    return np.sum(X * s)


@case(mat(2, 3, seed=10), tags=("sum", "keepdims", "whole-array"))
def sum_keepdims_whole(X):
    return np.sum(X / np.sum(X**2, keepdims=True))


# ---- mean ------------------------------------------------------------------------------

@case(vec(6, seed=11), tags=("mean",))
def mean_of_cubes(x):
    return np.mean(x**3)


@case(mat(3, 4, seed=12), tags=("mean", "method"))
def mean_method(X):
    return np.sin(X).mean()


@case(mat(3, 4, seed=13), tags=("mean", "axis0", "array-output"))
def mean_axis0(X):
    return np.mean(X**2, axis=0)


@case(mat(3, 4, seed=14), tags=("mean", "axis1", "method"))
def mean_method_axis1(X):
    return np.sum(X.mean(axis=1) ** 2)


@case(mat(4, 3, seed=15), tags=("mean", "keepdims", "centering"))
def mean_center_keepdims(X):
    C = X - np.mean(X, axis=0, keepdims=True)
    return np.sum(C**2)


@case(mat(2, 3, seed=16), tags=("mean", "negative-axis"))
def mean_negative_axis(X):
    return np.sum(np.exp(np.mean(X, axis=-1)))


@case(mat(2, 3, seed=17), tags=("mean", "axis-tuple"))
def mean_axis_tuple(X):
    return np.mean(X * X, axis=(0, 1))


# ---- max / min / amax / amin -----------------------------------------------------------

@case(vec(6, seed=18), tags=("max",), oracle="fd")
def max_whole(x):
    return np.max(x**2 + x)


@case(mat(3, 4, seed=19), tags=("max", "method"), oracle="fd")
def max_method(X):
    return X.max() * np.sum(X)


@case(mat(3, 4, seed=20), tags=("max", "axis0", "array-output"), oracle="fd",
      bugs={"jac.rev/jit": "compiled reverse Jacobian: the generated code calls np.max with "
                             "axis=, which numba does not type (TypeError)"})
def max_axis0(X):
    return np.max(X, axis=0)


@case(mat(3, 4, seed=21), tags=("max", "axis1", "method"), oracle="fd")
def max_method_axis1(X):
    return np.sum(X.max(axis=1) ** 2)


@case(mat(3, 4, seed=22), tags=("max", "keepdims", "softmax"), oracle="fd")
def max_keepdims_stable_softmax(X):
    Z = X - np.max(X, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(Z), axis=1)))


@case(vec(6, seed=23), tags=("min",), oracle="fd")
def min_whole(x):
    return np.min(np.sin(x))


@case(mat(4, 3, seed=24), tags=("min", "method", "axis0"), oracle="fd")
def min_method_axis0(X):
    return np.sum(X.min(axis=0) ** 2 * np.arange(1.0, 4.0))


@case(mat(3, 3, seed=25), tags=("min", "negative-axis", "array-output"), oracle="fd",
      bugs={"jac.rev/jit": "compiled reverse Jacobian: the generated code calls np.min with "
                             "axis=, which numba does not type (TypeError)"})
def min_negative_axis(X):
    return np.min(X, axis=-1)


@case(vec(5, seed=26), tags=("amax",), oracle="fd")
def amax_vector(x):
    return np.amax(x * np.arange(1.0, 6.0))


@case(mat(3, 4, seed=27), tags=("amax", "axis1"), oracle="fd")
def amax_axis1(X):
    return np.sum(np.amax(X, axis=1) ** 2)


@case(vec(5, seed=28), tags=("amin",), oracle="fd")
def amin_vector(x):
    return np.amin(np.cos(3.0 * x))


@case(mat(3, 4, seed=29), tags=("amin", "keepdims"), oracle="fd")
def amin_keepdims(X):
    return np.sum((X - np.amin(X, axis=0, keepdims=True)) ** 2)


@case(mat(2, 3, seed=30), tags=("max", "axis-tuple"), oracle="fd")
def max_axis_tuple(X):
    return np.max(X**3, axis=(0, 1))


@case(vec(5, seed=31), tags=("max", "min", "range"), oracle="fd")
def max_minus_min(x):
    return np.max(x) - np.min(x)


# ---- prod ------------------------------------------------------------------------------

@case(positive(4), tags=("prod",))
def prod_vector(x):
    return np.prod(x)


@case(mat(2, 3, 0.5, 1.5, seed=32), tags=("prod", "method"))
def prod_method(X):
    return X.prod()


@case(mat(3, 4, 0.5, 1.5, seed=33), tags=("prod", "axis0", "array-output"))
def prod_axis0(X):
    return np.prod(X, axis=0)


@case(mat(3, 3, seed=34), tags=("prod", "axis1", "method"))
def prod_method_axis1(X):
    return np.sum(X.prod(axis=1))


@case(vec(5, away=0.2, seed=35), tags=("prod", "signs"))
def prod_mixed_signs(x):
    return np.prod(x)


@case(mat(2, 3, 0.5, 1.5, seed=36), tags=("prod", "keepdims"))
def prod_keepdims(X):
    return np.sum(X / np.prod(X, axis=1, keepdims=True))


# ---- var / std -------------------------------------------------------------------------

@case(vec(6, seed=37), tags=("var",), oracle="fd")
def var_vector(x):
    return np.var(x)


@case(vec(6, seed=38), tags=("var", "ddof"), oracle="fd")
def var_ddof1(x):
    return np.var(x, ddof=1)


@case(mat(3, 4, seed=39), tags=("var", "method"), oracle="fd")
def var_method(X):
    return X.var()


@case(mat(4, 3, seed=40), tags=("var", "axis0", "array-output"), oracle="fd",
      bugs={"jac.rev/jit": "compiled reverse Jacobian: the generated code calls np.var with "
                             "axis=, which numba does not type (TypeError)"})
def var_axis0(X):
    return np.var(X, axis=0)


@case(mat(3, 4, seed=41), tags=("var", "axis1", "ddof"), oracle="fd")
def var_axis1_ddof(X):
    return np.sum(np.var(X, axis=1, ddof=1))


@case(vec(6, seed=42), tags=("std",), oracle="fd")
def std_vector(x):
    return np.std(x)


@case(vec(6, seed=43), tags=("std", "ddof"), oracle="fd")
def std_ddof1(x):
    return np.std(np.exp(x), ddof=1)


@case(mat(3, 4, seed=44), tags=("std", "method"), oracle="fd")
def std_method(X):
    return X.std()


@case(mat(4, 3, seed=45), tags=("std", "method", "axis0", "ddof"), oracle="fd")
def std_method_axis_ddof(X):
    return np.sum(X.std(axis=0, ddof=1))


@case(mat(3, 4, seed=46), tags=("std", "keepdims", "standardize"), oracle="fd")
def standardize_rows(X):
    Z = (X - np.mean(X, axis=1, keepdims=True)) / np.std(X, axis=1, keepdims=True)
    return np.sum(Z * np.arange(1.0, 5.0))


@case(mat(3, 4, seed=47), tags=("var", "negative-axis", "array-output"), oracle="fd",
      bugs={"jac.rev/jit": "compiled reverse Jacobian: the generated code calls np.var with "
                             "axis=, which numba does not type (TypeError)"})
def var_negative_axis(X):
    return np.var(X, axis=-1)


# ---- cumsum / cumprod ------------------------------------------------------------------

@case(vec(5, seed=48), tags=("cumsum", "array-output"))
def cumsum_vector(x):
    return np.cumsum(x**2)


@case(mat(3, 4, seed=49), tags=("cumsum", "axis0"))
def cumsum_axis0(X):
    return np.sum(np.cumsum(X, axis=0) ** 2)


@case(mat(3, 4, seed=50), tags=("cumsum", "axis1", "array-output"))
def cumsum_axis1(X):
    return np.cumsum(X, axis=1)


@case(vec(5, seed=51), tags=("cumsum", "method"))
def cumsum_method(x):
    return np.sum(np.sin(x.cumsum()))


@case(mat(2, 3, seed=52), tags=("cumsum", "flattening"))
def cumsum_matrix_flat(X):
    return np.sum(np.cumsum(X) ** 2)


@case(positive(5, seed=1), tags=("cumprod",))
def cumprod_vector(x):
    return np.sum(np.cumprod(x))


@case(mat(3, 3, 0.5, 1.5, seed=53), tags=("cumprod", "axis1", "array-output"))
def cumprod_axis1(X):
    return np.cumprod(X, axis=1)


@case(vec(4, away=0.2, seed=54), tags=("cumprod", "method", "signs"))
def cumprod_method(x):
    return np.sum(x.cumprod() ** 2)


# ---- average ---------------------------------------------------------------------------

@case(vec(5, seed=55), tags=("average",))
def average_plain(x):
    return np.average(x**2)


@case(vec(5, seed=56), positive(5, seed=2), tags=("average", "weights"))
def average_weighted(x, w):
    return np.average(x, weights=w)


@case(mat(3, 4, seed=57), tags=("average", "axis", "array-output"))
def average_axis(X):
    return np.average(X, axis=1)


@case(mat(3, 4, seed=58), positive(4, seed=3), tags=("average", "weights", "axis"))
def average_weighted_axis(X, w):
    return np.sum(np.average(X, axis=1, weights=w) ** 2)


# ---- norms -----------------------------------------------------------------------------

@case(vec(5, seed=59), tags=("norm",))
def norm_vector(x):
    return np.linalg.norm(x)


@case(vec(5, away=0.1, seed=60), tags=("norm", "ord1"), oracle="fd")
def norm_vector_ord1(x):
    return np.linalg.norm(x, 1) ** 2


@case(vec(5, seed=61), tags=("norm", "ord2", "keyword"))
def norm_vector_ord2(x):
    return np.linalg.norm(x, ord=2)


@case(vec(5, seed=62), tags=("norm", "ord-inf"), oracle="fd")
def norm_vector_inf(x):
    return np.linalg.norm(x, np.inf)


@case(mat(3, 4, seed=63), tags=("norm", "matrix"))
def norm_matrix_default(X):
    return np.linalg.norm(X)


@case(mat(3, 4, seed=64), tags=("norm", "fro"))
def norm_matrix_fro(X):
    return np.linalg.norm(X, "fro")


@case(mat(3, 4, seed=65), tags=("norm", "axis", "array-output"))
def norm_rows(X):
    return np.linalg.norm(X, axis=1)


@case(mat(3, 4, seed=66), tags=("norm", "axis0"))
def norm_columns_sum(X):
    return np.sum(np.linalg.norm(X, axis=0))


@case(mat(3, 4, seed=67), tags=("norm", "axis", "keepdims", "normalize"))
def normalize_rows_keepdims(X):
    return np.sum(X / np.linalg.norm(X, axis=1, keepdims=True) * np.arange(1.0, 5.0))


@case(mat(3, 3, away=0.1, seed=68), tags=("norm", "matrix", "ord1"), oracle="fd")
def norm_matrix_ord1(X):
    return np.linalg.norm(X, 1) ** 2


@case(mat(3, 3, away=0.1, seed=69), tags=("norm", "matrix", "ord-inf"), oracle="fd")
def norm_matrix_inf(X):
    return np.sin(np.linalg.norm(X, np.inf))


@case(vec(4, seed=70), vec(4, seed=71), tags=("norm", "distance"))
def norm_distance(x, y):
    return np.linalg.norm(x - y)


# ---- argmax / argmin / argsort as passive indices --------------------------------------

@case(vec(6, seed=72), tags=("argmax", "passive-index"), oracle="fd")
def argmax_index(x):
    return x[np.argmax(x)] ** 2


@case(vec(6, seed=73), tags=("argmin", "passive-index"), oracle="fd")
def argmin_index(x):
    return np.sin(x[np.argmin(x)])


@case(vec(5, seed=74), vec(5, seed=75), tags=("argmax", "passive-index", "other-array"), oracle="fd")
def argmax_selects_other(x, y):
    return y[np.argmax(x)] * np.sum(x)


@case(vec(5, seed=76), tags=("argmax", "method", "passive-index"), oracle="fd")
def argmax_method(x):
    k = x.argmax()
    return x[k] * x[0]


@case(mat(3, 4, seed=77), tags=("argmin", "row-select", "passive-index"), oracle="fd")
def argmin_row(X):
    i = np.argmin(X[:, 0])
    return np.sum(X[i, :] ** 2)


@case(vec(5, seed=78), tags=("argsort", "array-index"), oracle="fd")
def argsort_reorder(x):
    return np.sum(x[np.argsort(x)] ** 2 * np.arange(1.0, 6.0))


@case(vec(5, seed=79), vec(5, seed=80), tags=("argsort", "array-index", "other-array"), oracle="fd")
def argsort_other(x, y):
    order = np.argsort(x)
    return np.sum(y[order] ** 2 * np.arange(5.0))


# ---- other reductions ------------------------------------------------------------------

@case(vec(5, seed=81), tags=("ptp",), oracle="fd")
def ptp_vector(x):
    return np.ptp(x)


@case(vec(5, seed=82), tags=("median",), oracle="fd")
def median_odd(x):
    return np.median(x**2 + x)


@case(mat(3, 4, seed=83), tags=("trace-free", "sum", "both-axes"))
def sum_rows_then_columns(X):
    return np.sum(np.sum(X, axis=0) * np.sum(X, axis=1)[0])


@case(vec(5, seed=84), tags=("dot", "ones", "sum-as-dot"))
def sum_by_dot(x):
    return np.dot(np.ones(5), x**2)


@case(mat(2, 3, seed=85), tags=("nansum",))
def nansum_matrix(X):
    return np.nansum(X**2)


@case(mat(3, 2, seed=86), tags=("nanmean", "axis0"))
def nanmean_axis0(X):
    return np.sum(np.nanmean(X, axis=0) ** 2)


@case(vec(6, seed=87), tags=("mean", "var", "combination"), oracle="fd")
def coefficient_of_variation(x):
    y = np.exp(x)
    return np.std(y) / np.mean(y)


@case(mat(3, 4, seed=88), tags=("logsumexp", "axis", "max", "keepdims"), oracle="fd")
def logsumexp_axis(X):
    m = np.max(X, axis=1, keepdims=True)
    return np.sum(m[:, 0] + np.log(np.sum(np.exp(X - m), axis=1)))


@case(vec(5, seed=89), tags=("all-positive", "sum", "abs"), oracle="fd")
def l1_by_sum_abs(x):
    return np.sum(np.abs(x)) + np.sum(x**2)


@case(mat(3, 4, seed=90), tags=("count", "size", "mean-by-hand"))
def mean_by_size(X):
    return np.sum(X**2) / X.size
