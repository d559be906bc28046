"""Array creation and the keywords around it: dtype= on the allocation functions, shapes read
from arrays, astype, np.array of numbers and of differentiated values, arange and linspace
as constants, reduction keywords (axis, keepdims, dtype) and the keywords s2sdiff has to name
when it refuses them (out=, where=, initial=)."""
import numpy as np

from corpus import case, mat, vec


# ---- allocations with dtype= and shapes read from arrays -------------------------------

@case(vec(4), tags=("zeros", "dtype", "shape-attribute"))
def zeros_dtype_shape(x):
    y = np.zeros(x.shape, dtype=np.float64)
    y = y + x**2
    return np.sum(y)


@case(mat(2, 3, seed=1), tags=("ones", "dtype", "shape-attribute"), oracle="fd")
def ones_dtype_matrix(X):
    return np.sum(np.ones(X.shape, dtype=float) * X**2)


@case(vec(5, seed=2), tags=("zeros", "dtype-attribute"))
def zeros_same_dtype(x):
    y = np.zeros(x.shape, dtype=x.dtype)
    return np.sum((y + x) ** 3)


@case(vec(4, seed=3), tags=("empty", "fill-loop", "len"))
def empty_filled_in_loop(x):
    y = np.empty(len(x))
    for i in range(len(x)):
        y[i] = x[i] ** 2
    return np.sum(y * x)


@case(vec(4, seed=4), tags=("empty_like", "fill-loop"))
def empty_like_filled(x):
    y = np.empty_like(x)
    for i in range(x.shape[0]):
        y[i] = np.sin(x[i])
    return np.sum(y**2)


@case(vec(3, seed=5), tags=("full", "constant"))
def full_constant(x):
    return np.sum(np.full(3, 2.0) * x**2)


@case(mat(2, 3, seed=6), tags=("full", "dtype", "tuple-shape"), oracle="fd")
def full_dtype(X):
    return np.sum(np.full((2, 3), 0.5, dtype=float) * np.exp(X))


@case(vec(4, seed=7), tags=("zeros_like", "dtype"), oracle="fd")
def zeros_like_dtype(x):
    return np.sum((np.zeros_like(x, dtype=float) + x) ** 2)


@case(mat(3, 2, seed=8), tags=("ones_like", "dtype", "array-output"))
def ones_like_dtype(X):
    return np.ones_like(X, dtype=np.float64) * X


@case(vec(4, seed=9), tags=("full_like",))
def full_like_shift(x):
    return np.sum((x - np.full_like(x, 0.25)) ** 2)


@case(mat(3, 4, seed=10), tags=("shape-unpack", "loops", "zeros"))
def shape_unpacked(X):
    n, m = X.shape
    s = np.zeros(n)
    for i in range(n):
        for j in range(m):
            s[i] += X[i, j] ** 2
    return np.sum(np.sqrt(s + 1.0))


@case(mat(3, 4, seed=11), tags=("shape-index", "zeros", "array-output"))
def shape_index_allocation(X):
    out = np.zeros((X.shape[1], X.shape[0]))
    out = out + X.T * 2.0
    return out


@case(vec(3, seed=12), 3, tags=("zeros", "integer-size", "loop"))
def zeros_of_given_size(x, n):
    y = np.zeros(n)
    for i in range(n):
        y[i] = x[i] * (i + 1.0)
    return y @ y


@case(vec(3, seed=13), 3, tags=("eye", "integer-size"))
def eye_of_given_size(x, n):
    return x @ (np.eye(n) + np.outer(x, x)) @ x


@case(mat(2, 3, seed=14), tags=("size", "ndim", "attributes"))
def size_and_ndim(X):
    return np.sum(X**2) / X.size + X.ndim * np.sum(X)


# ---- astype / np.array / np.asarray ----------------------------------------------------

@case(vec(4, seed=15), tags=("astype", "float"), oracle="fd")
def astype_float(x):
    return np.sum(x.astype(float) ** 2)


@case(mat(2, 2, seed=16), tags=("astype", "float64", "array-output"), oracle="fd")
def astype_float64(X):
    return X.astype(np.float64) * 3.0


@case(vec(3, seed=17), tags=("array", "list-of-elements"))
def array_of_elements(x):
    y = np.array([x[0] * x[1], x[1] ** 2, x[2]])
    return np.sum(y**2)


@case(0.3, 0.7, tags=("array", "nested-list", "scalar-arguments"))
def array_from_scalars(a, b):
    M = np.array([[a, b], [b, 2.0 * a]])
    return np.linalg.det(M)


@case(vec(3, seed=18), tags=("array", "constant-list"))
def array_of_numbers(x):
    w = np.array([1.0, 2.0, 3.0])
    return np.sum(w * x**2)


@case(vec(3, seed=19), tags=("array", "integer-list", "constant"))
def array_of_integers(x):
    w = np.array([1, 2, 3])
    return np.sum(w * x**2)


@case(vec(4, seed=20), tags=("asarray",))
def asarray_of_array(x):
    return np.sum(np.asarray(x) ** 3)


@case(vec(3, seed=21), tags=("asarray", "constant-list"))
def asarray_of_numbers(x):
    return np.sum(np.asarray([0.5, 1.5, 2.5]) * np.sin(x))


@case(vec(3, seed=22), tags=("array", "copy-of-array", "array-output"))
def array_copy_of_array(x):
    y = np.array(x)
    return y * x


@case(vec(4, seed=23), tags=("copy", "method", "function"))
def copies(x):
    return np.sum(np.copy(x) * x.copy())


# ---- arange / linspace as constants ----------------------------------------------------

@case(vec(5, seed=24), tags=("arange", "len"))
def arange_weights(x):
    return np.sum(np.arange(len(x)) * x**2)


@case(vec(4, seed=25), tags=("arange", "float-bounds", "step"))
def arange_float_step(x):
    return np.sum(np.arange(0.5, 2.5, 0.5) * np.exp(x))


@case(vec(4, seed=26), tags=("arange", "dtype"), oracle="fd")
def arange_dtype(x):
    return np.sum(np.arange(4, dtype=float) * x) ** 2


@case(vec(5, seed=27), tags=("linspace",))
def linspace_weights(x):
    return np.sum(np.linspace(0.0, 1.0, 5) * x**2)


@case(vec(5, seed=28), tags=("linspace", "keyword", "endpoint"))
def linspace_no_endpoint(x):
    return np.sum(np.linspace(0.0, 1.0, num=5, endpoint=False) * np.cos(x))


# ---- reduction keywords ----------------------------------------------------------------

@case(mat(3, 2, seed=29), tags=("sum", "axis", "keepdims", "keywords"))
def sum_all_keywords(X):
    return np.sum(X / np.sum(X**2, axis=0, keepdims=True))


@case(mat(3, 4, seed=30), tags=("mean", "dtype-keyword"), oracle="fd")
def mean_with_dtype(X):
    return np.sum(np.mean(X**2, axis=0, dtype=np.float64))


@case(vec(4, seed=31), tags=("sum", "dtype-keyword"), oracle="fd")
def sum_with_dtype(x):
    return np.sum(x**2, dtype=float)


@case(vec(4, seed=32), tags=("cumsum", "dtype-keyword"), oracle="fd")
def cumsum_with_dtype(x):
    return np.sum(np.cumsum(x, dtype=np.float64) ** 2)


@case(mat(3, 3, seed=33), tags=("sum", "keyword-axis-only"))
def sum_keyword_axis(X):
    return np.sum(np.sum(X, axis=1) * np.sum(X, axis=0))


# ---- keywords s2sdiff must name when it refuses them -----------------------------------

@case(vec(4, seed=34), vec(4, seed=35), tags=("out-keyword", "ufunc"), expect="refused:call-changes-argument")
def ufunc_out(x, y):
    buf = np.empty(4)
    np.multiply(x, y, out=buf)
    return np.sum(buf**2)


@case(vec(4, seed=36), tags=("out-keyword", "exp"), expect="refused:call-changes-argument")
def exp_out(x):
    buf = np.zeros(4)
    np.exp(x, out=buf)
    return np.sum(buf)


@case(vec(6, away=0.1, seed=37), tags=("where-keyword", "sum"), oracle="fd")
def sum_where(x):
    return np.sum(x**2, where=x > 0)


@case(vec(4, seed=38), tags=("initial-keyword", "sum"))
def sum_initial(x):
    return np.sum(x**2, initial=1.0)


@case(vec(4, seed=39), tags=("initial-keyword", "max"), oracle="fd")
def max_initial(x):
    return np.max(x**3, initial=-10.0)


@case(vec(6, away=0.1, seed=40), tags=("where-keyword", "out-keyword", "ufunc"), oracle="fd",
      expect="refused:call-changes-argument")
def ufunc_where_out(x):
    out = np.zeros(6)
    np.sqrt(x * x, out=out, where=x > 0)
    return np.sum(out * x)


@case(mat(2, 3, seed=41), tags=("out-keyword", "reduction"), expect="refused:call-changes-argument")
def sum_out(X):
    buf = np.zeros(3)
    np.sum(X**2, axis=0, out=buf)
    return np.sum(buf * np.arange(3.0))
