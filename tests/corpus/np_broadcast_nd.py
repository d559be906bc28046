"""Broadcasting and N-D arrays: binary ufuncs and operators between operands of different
shapes (a scalar and an array, a row and a matrix, a column and a row, a matrix and a batch,
4-D with 1-D), differentiated in both operands so that the adjoints must sum over the
broadcast axes; 3-D and 4-D indexing, reductions over axes and tuples of axes, writes into
local N-D arrays, reshapes and axis permutations, batched matmul, and the broadcasting
idioms of numerical code — pairwise distances, outer products, normalisation, softmax and
centring along an axis."""
import numpy as np

from corpus import case, mat, tensor, vec


# ---- scalar with array -----------------------------------------------------------------

@case(0.7, mat(2, 3), tags=("scalar-array", "add", "power"))
def scalar_plus_matrix(a, X):
    return np.sum((a + X) ** 2)


@case(0.6, tensor(2, 3, 2, seed=1), tags=("scalar-array", "multiply", "3d", "array-output"))
def scalar_times_tensor(a, T):
    return a * T**2


@case(1.3, vec(4, lo=0.5, hi=1.5, seed=2), tags=("scalar-array", "power", "array-base"))
def array_to_scalar_power(a, x):
    return np.sum(x**a)


@case(1.4, mat(2, 3, seed=3), tags=("scalar-array", "power", "scalar-base"))
def scalar_to_array_power(a, X):
    return np.sum(a**X)


@case(0.8, vec(5, seed=4, away=0.3), tags=("scalar-array", "divide", "array-output"))
def scalar_over_vector(a, x):
    return a / x


@case(0.9, tensor(2, 2, 3, seed=5), tags=("scalar-array", "subtract", "3d", "exp"))
def scalar_minus_tensor_exp(a, T):
    return np.sum(np.exp(a - T) * T)


@case(0.5, tensor(2, 3, 2, seed=6), tags=("scalar-array", "maximum", "3d"))
def maximum_with_scalar(a, T):
    return np.sum(np.maximum(T, a) ** 2)


@case(-0.2, mat(3, 3, seed=7), tags=("scalar-array", "minimum", "function-form"))
def minimum_scalar_first(a, X):
    return np.sum(np.minimum(a, X) * X)


# ---- (n,) with (m, n) ------------------------------------------------------------------

@case(vec(3, seed=8), mat(4, 3, seed=9), tags=("row-matrix", "subtract", "array-output"))
def matrix_minus_row(x, X):
    return X - x


@case(vec(3, seed=10, away=0.3), mat(2, 3, seed=11), tags=("row-matrix", "divide"))
def matrix_over_row(x, X):
    return np.sum(np.sin(X / x))


@case(vec(4, seed=12), mat(3, 4, seed=13), tags=("row-matrix", "multiply", "function-form"))
def multiply_row_matrix(x, X):
    return np.sum(np.multiply(x, X) ** 2)


@case(vec(3, lo=0.5, hi=1.5, seed=14), mat(2, 3, lo=0.5, hi=2.0, seed=15),
      tags=("row-matrix", "power", "both-operands"))
def matrix_power_row(x, X):
    return np.sum(X**x)


@case(vec(3, seed=16), mat(4, 3, seed=17), tags=("row-matrix", "np.power", "array-output"))
def np_power_row_exponent(x, X):
    return np.power(np.exp(X), x)


@case(vec(4, seed=18), mat(3, 4, seed=19), tags=("row-matrix", "add", "function-form", "tanh"))
def add_function_row(x, X):
    return np.sum(np.tanh(np.add(X, x)))


@case(vec(3, seed=20), mat(3, 3, seed=21), tags=("row-matrix", "maximum"))
def maximum_row_matrix(x, X):
    return np.sum(np.maximum(X, x) * X)


@case(vec(4, seed=22), mat(2, 4, seed=23), tags=("row-matrix", "hypot"), oracle="fd")
def hypot_row_matrix(x, X):
    return np.sum(np.hypot(X, x))


@case(vec(3, seed=24, away=0.2), mat(3, 3, seed=25), tags=("row-matrix", "arctan2", "array-output"), oracle="fd")
def arctan2_matrix_over_row(x, X):
    return np.arctan2(X, x)


# ---- (m, 1) with (1, n) / column with row -------------------------------------------------

@case(mat(3, 1, seed=26), mat(1, 4, seed=27), tags=("column-row", "multiply", "array-output"))
def column_times_row(c, r):
    return c * r


@case(mat(3, 1, seed=28), mat(1, 2, seed=29), tags=("column-row", "add", "power"))
def column_plus_row_squared(c, r):
    return np.sum((c + r) ** 2)


@case(mat(2, 1, seed=30), vec(3, seed=31), tags=("column-row", "subtract", "exp"))
def column_minus_vector(c, y):
    return np.sum(np.exp(-(c - y) ** 2))


@case(mat(3, 1, seed=32, away=0.3), vec(4, seed=33), tags=("column-row", "divide", "array-output"))
def vector_over_column(c, y):
    return y / c


@case(mat(2, 1, lo=0.5, hi=1.5, seed=34), mat(1, 3, seed=35), tags=("column-row", "power", "both-operands"))
def column_power_row(c, r):
    return np.sum(c**r)


@case(mat(3, 1, seed=36), mat(1, 3, seed=37), tags=("column-row", "minimum", "array-output"))
def minimum_column_row(c, r):
    return np.minimum(c, r)


@case(mat(2, 1, seed=38, away=0.2), mat(1, 3, seed=39, away=0.2), tags=("column-row", "arctan2"), oracle="fd")
def arctan2_column_row(c, r):
    return np.sum(np.arctan2(c, r) ** 2)


@case(mat(3, 1, seed=40), mat(1, 2, seed=41), tags=("column-row", "hypot", "array-output"), oracle="fd")
def hypot_column_row(c, r):
    return np.hypot(c, r)


# ---- (m, n) with (k, m, n), and other 3-D pairs ------------------------------------------

@case(mat(3, 4, seed=42), tensor(2, 3, 4, seed=43), tags=("matrix-batch", "add", "sin"))
def batch_plus_matrix(X, T):
    return np.sum(np.sin(X + T))


@case(mat(2, 3, seed=44), tensor(2, 2, 3, seed=45), tags=("matrix-batch", "multiply", "array-output"))
def matrix_times_batch(X, T):
    return X * T


@case(mat(2, 2, seed=46, away=0.3), tensor(3, 2, 2, seed=47), tags=("matrix-batch", "divide"))
def batch_over_matrix(X, T):
    return np.sum(T / X * T)


@case(tensor(2, 1, 3, seed=48), mat(4, 1, seed=49), tags=("k1n-m1", "add", "array-output"))
def k1n_plus_m1(A, B):
    return A + B


@case(tensor(2, 1, 3, seed=50), mat(2, 1, seed=51), tags=("k1n-m1", "multiply", "cos"))
def k1n_times_m1_cos(A, B):
    return np.sum(np.cos(A * B))


@case(tensor(3, 1, 2, seed=52), vec(4, seed=53), tags=("k1n-n", "subtract", "power"))
def k1n_minus_wide_row(A, y):
    return np.sum((A[:, :, :1] - y) ** 2)


@case(tensor(2, 3, 1, seed=54), tensor(1, 3, 4, seed=55), tags=("3d-3d", "multiply", "array-output"))
def tensor_outer_broadcast(A, B):
    return A * B


@case(tensor(2, 1, 3, seed=56), tensor(1, 2, 3, seed=57), tags=("3d-3d", "maximum"))
def maximum_3d_broadcast(A, B):
    return np.sum(np.maximum(A, B) ** 2)


@case(tensor(2, 1, 2, lo=0.5, hi=1.5, seed=58), tensor(1, 3, 2, seed=59), tags=("3d-3d", "np.power"))
def power_3d_broadcast(A, B):
    return np.sum(np.power(A, B))


@case(tensor(2, 3, 1, seed=60), mat(3, 4, seed=61), tags=("3d-2d", "hypot", "array-output"), oracle="fd")
def hypot_3d_matrix(A, X):
    return np.hypot(A, X)


# ---- 4-D with 1-D and others -----------------------------------------------------------

@case(tensor(2, 1, 3, 2, seed=62), vec(2, seed=63), tags=("4d-1d", "add", "tanh"))
def tensor4_plus_vector(T, x):
    return np.sum(np.tanh(T + x))


@case(tensor(2, 2, 1, 3, seed=64), vec(3, seed=65), tags=("4d-1d", "multiply", "array-output"))
def tensor4_times_vector(T, x):
    return T * x


@case(tensor(1, 2, 3, 1, seed=66), mat(3, 2, seed=67), tags=("4d-2d", "subtract", "exp"))
def tensor4_minus_matrix(T, X):
    return np.sum(np.exp(T - X))


@case(tensor(2, 1, 1, 2, seed=68), tensor(3, 1, 2, seed=69), tags=("4d-3d", "multiply", "sin"))
def tensor4_times_tensor3(T, U):
    return np.sum(np.sin(T * U))


# ---- three operands, chained broadcasts, np.where and np.clip -------------------------------

@case(vec(2, seed=70), mat(3, 1, seed=71), tensor(2, 1, 1, seed=72), tags=("three-operands", "add", "power"))
def three_way_broadcast_sum(x, c, t):
    return np.sum((t + c + x) ** 3)


@case(0.4, vec(3, seed=73), mat(2, 1, seed=74), tags=("three-operands", "scalar-array", "array-output"))
def scalar_row_column_affine(a, x, c):
    return a * x + c * x**2 - a * c


@case(mat(3, 4, seed=75, away=0.1), vec(4, seed=76), tags=("where", "row-branch"))
def where_row_branch(X, y):
    return np.sum(np.where(X > 0, X**2, np.sin(y)))


@case(mat(3, 1, seed=77), mat(1, 4, seed=78), tags=("where", "column-row", "array-output"))
def where_column_row_branches(c, r):
    return np.where(np.arange(4.0) < 2.0, c * 2.0, r**2)


@case(tensor(2, 3, 2, seed=79, away=0.1), 0.3, tags=("where", "scalar-branch", "3d"))
def where_scalar_branch(T, a):
    return np.sum(np.where(T > 0, T, a * T) ** 2)


@case(vec(3, seed=80), mat(2, 3, seed=81, away=0.1), tags=("where", "condition-from-other"))
def where_condition_on_matrix(x, X):
    return np.sum(np.where(X < 0, x * X, x + X))


@case(mat(3, 4, seed=82), vec(4, lo=-0.9, hi=-0.6, seed=83), mat(3, 1, lo=0.6, hi=0.9, seed=84),
      tags=("clip", "array-bounds", "broadcast", "array-output"))
def clip_row_and_column_bounds(X, lo, hi):
    return np.clip(X, lo, hi)


@case(tensor(2, 3, 2, seed=85), vec(2, lo=-0.3, hi=0.3, seed=86), tags=("clip", "array-bounds", "3d"))
def clip_lower_vector_bound(T, lo):
    return np.sum(np.clip(T, lo, 0.8) ** 2)


@case(mat(2, 3, seed=87), mat(2, 3, seed=88), tags=("subtract", "divide", "same-shape-then-broadcast"))
def relative_difference(X, Y):
    d = X - Y
    return np.sum(d**2 / (1.0 + np.sum(d**2, axis=0)))


@case(vec(3, seed=89), mat(3, 3, seed=90), tags=("augmented-assign", "local", "broadcast", "array-output"))
def augmented_add_row(x, X):
    Z = X.copy()
    Z += x
    Z *= x
    return Z


@case(mat(2, 1, seed=91), tensor(2, 2, 3, seed=92), tags=("augmented-assign", "local", "3d"))
def augmented_subtract_column(c, T):
    Z = T * 1.0
    Z -= c
    return np.sum(Z**2)


# ---- 3-D / 4-D indexing -----------------------------------------------------------------

@case(tensor(2, 3, 4, seed=100), tags=("index-int", "3d", "matmul"))
def index_first_plane(T):
    return np.sum(T[0] @ T[1].T)


@case(tensor(2, 3, 4, seed=101), tags=("index-negative", "3d", "array-output"))
def index_last_plane(T):
    return T[-1] * T[0]


@case(tensor(2, 3, 4, seed=102), tags=("index-int-int", "3d"))
def index_row_of_plane(T):
    return np.sum(T[1, 2] * T[0, -1])


@case(tensor(2, 3, 4, seed=103), tags=("index-scalar", "3d"))
def index_three_ints(T):
    return T[0, 1, 2] * T[1, -1, -2] + T[-1, 0, 3] ** 2


@case(tensor(2, 3, 4, seed=104), tags=("index-slice-int", "3d", "array-output"))
def index_middle_axis(T):
    return T[:, 1] ** 2


@case(tensor(2, 3, 4, seed=105), tags=("index-slice-slice-int", "3d"))
def index_last_axis(T):
    return np.sum(np.exp(T[:, :, -1]))


@case(tensor(2, 3, 4, seed=106), tags=("ellipsis", "3d", "array-output"))
def ellipsis_last_axis(T):
    return T[..., 0] * T[..., 3]


@case(tensor(2, 3, 4, seed=107), tags=("ellipsis", "int-before", "3d"))
def ellipsis_between_ints(T):
    return np.sum(T[0, ..., 1] * T[1, ..., 2])


@case(tensor(2, 3, 4, seed=108), tags=("slice-step", "3d"))
def slice_step_last_axis(T):
    return np.sum(T[:, :, ::2] * T[:, :, 1::2])


@case(tensor(2, 3, 4, seed=109), tags=("slice-negative-step", "3d", "array-output"))
def reversed_leading_axis(T):
    return T[::-1] - T


@case(tensor(2, 3, 4, seed=110), tags=("slice-negative-step", "slice-start", "3d"))
def reversed_middle_partial(T):
    return np.sum(T[:, ::-1, 1:] * T[:, :, :3])


@case(tensor(2, 3, 4, seed=111), tags=("slice-negative-step-2", "int", "3d"))
def int_range_reverse_step(T):
    return np.sum(T[-1, 1:3, ::-2] ** 2)


@case(tensor(2, 3, 4, seed=112), tags=("none-index", "3d", "4d-intermediate"))
def none_index_leading(T):
    U = T[None] * T[:, None]
    return np.sum(U)


@case(tensor(2, 3, 4, seed=113), tags=("none-index", "middle", "3d"))
def none_index_middle(T):
    return np.sum(T[:, None, :, :] * T[:, :, None, :])


@case(tensor(2, 3, 4, seed=114), tags=("newaxis", "ellipsis", "3d", "array-output"))
def ellipsis_then_newaxis(T):
    return T[..., np.newaxis] * np.ones(2)


@case(tensor(2, 3, 4, seed=115), tags=("none-index", "slice-step", "mixed"))
def mixed_slice_none_step(T):
    return np.sum(T[1:, None, ::2, ::2] * T[:1, :, None, 1::2])


@case(tensor(2, 3, 4, seed=116), tags=("index-int", "slice", "mixed", "array-output"))
def mixed_int_slice_int(T):
    return T[1, :, 2] - T[0, ::-1, 0]


@case(tensor(2, 2, 3, 2, seed=117), tags=("4d", "index-int", "slice"))
def index_4d_mixed(T):
    return np.sum(T[1, :, -1, :] * T[0, 1, :2])


@case(tensor(2, 2, 3, 2, seed=118), tags=("4d", "ellipsis", "array-output"))
def index_4d_ellipsis(T):
    return T[..., 1] + T[0, ..., 0]


@case(tensor(2, 3, 4, seed=119), tags=("chained-index", "3d"))
def chained_indexing(T):
    return np.sum(T[1][2] * T[0][:, 1][:, None])


@case(tensor(2, 3, 4, seed=120), 2, tags=("index-variable", "3d", "int-argument"))
def index_with_int_argument(T, j):
    return np.sum(T[:, j, :] ** 2 + T[j - 1, 0])


# ---- reductions over axes of 3-D arrays ----------------------------------------------------

@case(tensor(2, 3, 4, seed=130), tags=("sum", "axis0", "3d", "array-output"))
def sum_axis0_3d(T):
    return np.sum(T**2, axis=0)


@case(tensor(2, 3, 4, seed=131), tags=("sum", "axis1", "3d"))
def sum_axis1_3d(T):
    return np.sum(np.sin(np.sum(T, axis=1)))


@case(tensor(2, 3, 4, seed=132), tags=("sum", "axis-negative", "3d", "array-output"))
def sum_last_axis_3d(T):
    return np.sum(T * T, axis=-1)


@case(tensor(2, 3, 4, seed=133), tags=("sum", "axis-tuple", "3d", "array-output"))
def sum_axes_0_2(T):
    return np.sum(np.exp(T), axis=(0, 2))


@case(tensor(2, 3, 4, seed=134), tags=("sum", "axis-tuple", "keepdims", "3d"))
def sum_axes_keepdims_scale(T):
    return np.sum(T / (1.0 + np.sum(T**2, axis=(1, 2), keepdims=True)))


@case(tensor(2, 3, 4, seed=135), tags=("sum", "method", "axis-tuple", "negative"))
def sum_method_negative_axes(T):
    return np.sum(T.sum(axis=(-1, -2)) ** 3)


@case(tensor(2, 3, 2, 2, seed=136), tags=("sum", "4d", "axis-tuple", "array-output"))
def sum_4d_inner_axes(T):
    return np.sum(T**2, axis=(1, 3))


@case(tensor(2, 3, 4, seed=137), tags=("mean", "axis", "keepdims", "3d", "array-output"))
def mean_keepdims_axis1(T):
    return T.mean(axis=1, keepdims=True) * T


@case(tensor(2, 3, 4, seed=138), tags=("mean", "axis-tuple", "3d"))
def mean_over_two_axes(T):
    return np.sum(np.mean(T, axis=(0, 1)) ** 2)


@case(tensor(2, 3, 4, seed=139), tags=("max", "axis", "3d", "array-output"))
def max_along_last(T):
    return np.max(T, axis=-1) ** 2


@case(tensor(2, 3, 4, seed=140), tags=("min", "axis-tuple", "3d"))
def min_over_leading_axes(T):
    return np.sum(np.exp(np.min(T, axis=(0, 1))))


@case(tensor(2, 3, 4, seed=141), tags=("max", "method", "keepdims", "3d"))
def max_method_keepdims(T):
    return np.sum(T - T.max(axis=0, keepdims=True))


@case(tensor(2, 3, 2, lo=0.5, hi=1.5, seed=142), tags=("prod", "axis", "3d", "array-output"))
def prod_along_middle(T):
    return np.prod(T, axis=1)


@case(tensor(2, 3, 4, seed=143), tags=("var", "axis", "3d"), oracle="fd")
def var_along_last(T):
    return np.sum(np.var(T, axis=-1))


@case(tensor(2, 3, 4, seed=144), tags=("std", "axis-tuple", "keepdims", "3d", "array-output"), oracle="fd")
def std_keepdims_tuple(T):
    return np.std(T, axis=(0, 2), keepdims=True) + 0.0 * T[:1, :, :1]


@case(tensor(2, 3, 4, seed=145), tags=("norm", "axis", "3d", "array-output"), oracle="fd")
def norm_along_last(T):
    return np.linalg.norm(T, axis=-1)


@case(tensor(2, 3, 2, seed=146), tags=("cumsum", "axis", "3d"))
def cumsum_middle_axis(T):
    return np.sum(np.cumsum(T, axis=1) ** 2)


@case(tensor(2, 3, 4, seed=147), tags=("sum", "nested-reductions", "3d"))
def sum_then_sum(T):
    s = np.sum(T, axis=2)
    return np.sum(np.sum(s * s, axis=0) * np.arange(3.0))


# ---- writes into local N-D arrays -----------------------------------------------------------

@case(tensor(2, 3, 4, seed=150), tags=("zeros", "element-write", "loop", "3d-read"))
def loop_row_energies(T):
    out = np.zeros((2, 3))
    for i in range(2):
        for j in range(3):
            out[i, j] = np.sum(T[i, j] ** 2)
    return np.sum(out * out)


@case(tensor(2, 3, 2, seed=151), tags=("empty", "element-write", "triple-loop", "array-output"))
def triple_loop_square(T):
    out = np.empty((2, 3, 2))
    for i in range(2):
        for j in range(3):
            for k in range(2):
                out[i, j, k] = T[i, j, k] ** 2 + T[i, 2 - j, k]
    return out


@case(tensor(2, 2, 3, seed=152), tags=("loop", "3d-read", "accumulate"))
def triple_loop_accumulate(T):
    total = 0.0
    for i in range(T.shape[0]):
        for j in range(T.shape[1]):
            for k in range(T.shape[2]):
                total = total + T[i, j, k] * T[1 - i, j, k]
    return total


@case(tensor(2, 3, 4, seed=153), tags=("zeros_like", "slice-write", "3d", "array-output"))
def slice_write_planes(T):
    out = np.zeros_like(T)
    out[:, 0, :] = T[:, 0, :] * 2.0
    out[:, 1:, :] = np.sin(T[:, 1:, :])
    return out


@case(tensor(2, 3, 4, seed=154), tags=("copy", "slice-write", "int-index", "3d"),
      expect="refused:overwritten-value-needed",
      expect_at={"grad.fwd vag.fwd jvp jac.fwd": "right"})
def copy_then_overwrite_plane(T):
    U = T.copy()
    U[0] = U[1] * U[0]
    return np.sum(U**2)


@case(tensor(2, 3, 4, seed=155), tags=("copy", "ellipsis-write", "3d", "array-output"),
      expect="refused:other: assigning through `...` is supported only as y[...] = ...")
def ellipsis_write(T):
    U = T.copy()
    U[..., 0] = T[..., -1] ** 2
    return U


@case(tensor(3, 2, 2, seed=156), tags=("zeros", "accumulate-write", "loop", "3d"))
def accumulate_over_leading(T):
    acc = np.zeros((2, 2))
    for i in range(3):
        acc += T[i] @ T[i]
    return np.sum(acc)


@case(tensor(2, 3, 4, seed=157), tags=("zeros", "element-augmented", "loop", "3d", "array-output"))
def element_augmented_writes(T):
    out = np.zeros((3, 4))
    for i in range(2):
        for j in range(3):
            out[j, :] += T[i, j, :] * (i + 1.0)
    return out


@case(tensor(2, 3, 4, seed=158), tags=("zeros", "write-3d", "strided-slice"))
def strided_slice_write(T):
    out = np.zeros((2, 3, 4))
    out[:, :, ::2] = T[:, :, 1::2]
    out[:, :, 1::2] = T[:, :, ::2] ** 2
    return np.sum(out * T)


@case(mat(2, 3, seed=159), tags=("zeros", "write-3d", "loop", "build-tensor"))
def build_tensor_from_matrix(X):
    out = np.zeros((3, 2, 3))
    for k in range(3):
        out[k, :, :] = X * (k + 1.0)
        out[k, 0, k] = X[1, k] ** 2
    return np.sum(np.tanh(out))


@case(tensor(2, 3, 2, seed=160), tags=("empty", "loop", "reduction-write", "array-output"))
def loop_normalise_planes(T):
    out = np.empty((2, 3, 2))
    for i in range(2):
        P = T[i]
        out[i] = P / (1.0 + np.sum(P * P))
    return out


# ---- reshape between N-D shapes --------------------------------------------------------

@case(tensor(2, 3, 4, seed=170), tags=("reshape", "3d-to-2d", "matmul"))
def reshape_3d_to_matrix(T):
    M = T.reshape(6, 4)
    return np.sum(M.T @ M)


@case(tensor(2, 3, 4, seed=171), tags=("reshape", "minus-one", "3d", "array-output"))
def reshape_minus_one_leading(T):
    return T.reshape(-1, 4) ** 2


@case(tensor(2, 3, 4, seed=172), tags=("reshape", "minus-one", "function"))
def reshape_keep_batch(T):
    M = np.reshape(T, (2, -1))
    return np.sum(M[0] * M[1])


@case(vec(24, seed=173), tags=("reshape", "1d-to-3d"))
def reshape_vector_to_3d(x):
    T = x.reshape(2, 3, 4)
    return np.sum(T[1] * T[0]) + np.sum(T[:, 2, :] ** 2)


@case(tensor(2, 3, 4, seed=174), tags=("reshape", "3d-to-3d", "array-output"))
def reshape_3d_to_3d(T):
    return T.reshape(4, 3, 2) * np.arange(2.0)


@case(tensor(2, 3, 4, seed=175), tags=("reshape", "3d-to-4d", "minus-one"))
def reshape_3d_to_4d(T):
    U = T.reshape(2, 3, 2, -1)
    return np.sum(U[..., 0] * U[..., 1])


@case(tensor(2, 2, 3, 2, seed=176), tags=("reshape", "4d-to-2d"))
def reshape_4d_flatten_pairs(T):
    M = T.reshape(4, 6)
    return np.sum(np.sin(M) @ M.T)


@case(tensor(2, 3, 4, seed=177), tags=("ravel", "3d"))
def ravel_3d(T):
    return np.sum(np.ravel(T) * np.arange(24.0))


# ---- transpose / swapaxes / moveaxis / expand_dims of 3-D ---------------------------------

@case(tensor(2, 3, 4, seed=180), tags=("transpose", "3d", "reverse-axes", "array-output"))
def transpose_3d_default(T):
    return np.transpose(T) * 2.0


@case(tensor(2, 3, 4, seed=181), tags=("transpose", "axes", "3d"))
def transpose_3d_swap_leading(T):
    U = np.transpose(T, (1, 0, 2))
    return np.sum(U[0] * U[2])


@case(tensor(2, 3, 4, seed=182), tags=("transpose", "method", "varargs", "3d", "array-output"))
def transpose_method_cycle(T):
    return T.transpose(2, 0, 1) ** 2


@case(tensor(2, 3, 4, seed=183), tags=("T", "3d"))
def T_attribute_3d(T):
    return np.sum(T.T[:, :, 0] * T[1].T)


@case(tensor(2, 3, 4, seed=184), tags=("swapaxes", "3d", "batch-gram"))
def swapaxes_batch_gram(T):
    return np.sum(T @ np.swapaxes(T, 1, 2))


@case(tensor(2, 3, 4, seed=185), tags=("swapaxes", "method", "outer-axes", "array-output"))
def swapaxes_outer(T):
    return T.swapaxes(0, 2) - 1.0


@case(tensor(2, 3, 4, seed=186), tags=("moveaxis", "3d", "to-end"))
def moveaxis_to_end(T):
    U = np.moveaxis(T, 0, -1)
    return np.sum(U[..., 0] * U[..., 1] * np.arange(4.0))


@case(tensor(2, 3, 4, seed=187), tags=("moveaxis", "3d", "to-front", "array-output"))
def moveaxis_to_front(T):
    return np.moveaxis(T, -1, 0)[1:] * 3.0


@case(mat(3, 4, seed=188), tags=("expand_dims", "axis0", "broadcast"))
def expand_dims_leading(X):
    return np.sum(np.expand_dims(X, 0) * np.expand_dims(X, 1))


@case(tensor(2, 3, 2, seed=189), tags=("expand_dims", "negative-axis", "3d", "array-output"))
def expand_dims_last_3d(T):
    return np.expand_dims(T, axis=-1) * np.arange(3.0)


@case(tensor(2, 3, 2, seed=190), tags=("expand_dims", "middle", "3d"))
def expand_dims_middle_pairwise(T):
    return np.sum((np.expand_dims(T, 1) - np.expand_dims(T, 0)) ** 2) + np.sum(np.expand_dims(T, axis=2) ** 2)


# ---- batched matmul ----------------------------------------------------------------------

@case(tensor(2, 3, 4, seed=200), tensor(2, 4, 2, seed=201), tags=("matmul", "batch", "array-output"))
def batch_matmul(A, B):
    return A @ B


@case(tensor(3, 2, 3, seed=202), tensor(3, 3, 2, seed=203), tags=("matmul", "batch", "function"))
def batch_matmul_function(A, B):
    return np.sum(np.tanh(np.matmul(A, B)))


@case(tensor(2, 3, 4, seed=204), vec(4, seed=205), tags=("matmul", "batch-vector", "array-output"))
def batch_matrix_vector(A, v):
    return A @ v


@case(tensor(2, 3, 4, seed=206), vec(4, seed=207), tags=("matmul", "batch-vector"))
def batch_matrix_vector_squared(A, v):
    return np.sum((A @ v) ** 2)


@case(tensor(2, 3, 4, seed=208), mat(4, 2, seed=209), tags=("matmul", "batch-matrix-broadcast"))
def batch_times_shared_matrix(A, W):
    return np.sum(np.exp(A @ W))


@case(mat(2, 3, seed=210), tensor(2, 3, 4, seed=211), tags=("matmul", "matrix-batch-broadcast", "array-output"))
def shared_matrix_times_batch(W, B):
    return W @ B


@case(vec(3, seed=212), tensor(2, 3, 2, seed=213), tags=("matmul", "vector-batch", "array-output"))
def vector_times_batch(v, B):
    return v @ B


@case(tensor(2, 3, 3, seed=214), tags=("matmul", "batch", "chain"))
def batch_square_chain(A):
    return np.sum(A @ A @ A)


@case(tensor(2, 3, 4, seed=215), tensor(2, 3, 4, seed=216), tags=("matmul", "transpose-axes", "batch"))
def batch_cross_gram(A, B):
    return np.sum(np.transpose(A, (0, 2, 1)) @ B)


@case(tensor(2, 2, 3, 2, seed=217), tensor(2, 2, 2, 3, seed=218), tags=("matmul", "4d", "batch"))
def batch_matmul_4d(A, B):
    return np.sum((A @ B) ** 2)


@case(tensor(2, 3, 4, seed=219), tensor(1, 4, 2, seed=220), tags=("matmul", "batch-broadcast-1", "array-output"))
def batch_matmul_broadcast_batch(A, B):
    return A @ B


@case(tensor(2, 2, 3, seed=223), tensor(2, 3, 2, seed=224), tags=("matmul", "batch", "function", "sum"))
def batch_matmul_function_sum(A, B):
    return np.sum(np.matmul(A, B))


@case(tensor(2, 3, 4, seed=221), tensor(2, 4, 3, seed=222), tags=("einsum", "batch", "matmul-equivalent"))
def einsum_batch_matmul(A, B):
    return np.sum(np.einsum("kij,kjl->kil", A, B) ** 2)


# ---- pairwise distances and outer products ------------------------------------------------

@case(mat(3, 2, seed=230), mat(4, 2, seed=231), tags=("pairwise", "newaxis", "sum-last", "array-output"))
def pairwise_squared_distances(A, B):
    return np.sum((A[:, None, :] - B[None, :, :]) ** 2, axis=-1)


@case(mat(4, 3, seed=232), tags=("pairwise", "self", "rbf", "exp"))
def rbf_kernel_sum(X):
    D = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    return np.sum(np.exp(-0.5 * D))


@case(mat(3, 2, seed=233), mat(2, 2, seed=234), tags=("pairwise", "dot", "sum-last", "array-output"))
def pairwise_dot_by_broadcast(A, B):
    return np.sum(A[:, None, :] * B[None, :, :], axis=-1)


@case(mat(3, 2, seed=235), mat(3, 2, seed=236), tags=("pairwise", "distance", "sqrt"))
def pairwise_distance_offset_sqrt(A, B):
    D2 = np.sum((A[:, np.newaxis] - B[np.newaxis]) ** 2, axis=2)
    return np.sum(np.sqrt(D2 + 0.1))


@case(mat(4, 2, seed=237), tags=("pairwise", "coulomb", "expand_dims"))
def pairwise_inverse_distance(X):
    diff = np.expand_dims(X, 1) - np.expand_dims(X, 0)
    r2 = np.sum(diff**2, axis=-1) + np.eye(4)
    return np.sum((1.0 - np.eye(4)) / np.sqrt(r2))


@case(vec(3, seed=238), vec(4, seed=239), tags=("outer", "newaxis", "array-output"))
def outer_by_broadcast(x, y):
    return x[:, None] * y[None, :]


@case(vec(2, seed=240), vec(3, seed=241), vec(2, seed=242), tags=("outer", "three-way", "newaxis"))
def triple_outer_by_broadcast(x, y, z):
    T = x[:, None, None] * y[None, :, None] * z[None, None, :]
    return np.sum(np.sin(T))


@case(mat(2, 3, seed=243), vec(4, seed=244), tags=("outer", "matrix-vector", "3d-result", "array-output"))
def matrix_vector_outer(X, y):
    return X[:, :, None] * y


@case(mat(3, 2, seed=245), tags=("outer", "batched-rows", "3d-intermediate"))
def row_outer_products(X):
    O = X[:, :, None] * X[:, None, :]
    return np.sum(O.sum(axis=0) ** 2)


@case(vec(3, seed=246), vec(3, seed=247), tags=("subtract", "outer", "abs-free"))
def outer_difference_cosine(x, y):
    return np.sum(np.cos(x[:, None] - y[None, :]) * x[:, None])


# ---- normalisation, softmax, centring ------------------------------------------------------

@case(mat(3, 4, lo=0.5, hi=1.5, seed=250), tags=("normalise", "keepdims", "array-output"))
def normalise_rows(X):
    return X / X.sum(axis=-1, keepdims=True)


@case(tensor(2, 3, 4, lo=0.5, hi=1.5, seed=251), tags=("normalise", "keepdims", "3d", "log"))
def normalise_last_axis_entropy(T):
    P = T / T.sum(axis=-1, keepdims=True)
    return -np.sum(P * np.log(P))


@case(tensor(2, 3, 2, lo=0.5, hi=1.5, seed=252), tags=("normalise", "keepdims", "axis-tuple", "3d", "array-output"))
def normalise_planes(T):
    return T / np.sum(T, axis=(1, 2), keepdims=True)


@case(tensor(2, 3, 4, seed=253), tags=("normalise", "l2", "keepdims", "sqrt", "array-output"))
def l2_normalise_last_axis(T):
    return T / np.sqrt(np.sum(T**2, axis=-1, keepdims=True))


@case(tensor(2, 3, 4, seed=254), tags=("softmax", "3d", "last-axis", "array-output"))
def softmax_last_axis_3d(T):
    e = np.exp(T - np.max(T, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


@case(tensor(2, 3, 4, seed=255), tags=("softmax", "3d", "middle-axis"))
def softmax_middle_axis_weighted(T):
    e = np.exp(T - T.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return np.sum(p * T)


@case(tensor(2, 3, 4, seed=256), tags=("log-softmax", "3d", "axis0", "array-output"))
def log_softmax_axis0(T):
    m = np.max(T, axis=0, keepdims=True)
    return T - m - np.log(np.sum(np.exp(T - m), axis=0, keepdims=True))


@case(tensor(2, 3, 4, seed=257), tags=("logsumexp", "3d", "axis-tuple"))
def logsumexp_over_two_axes(T):
    m = np.max(T)
    return np.sum(m + np.log(np.sum(np.exp(T - m), axis=(1, 2))))


@case(tensor(2, 3, 4, seed=258), tags=("centre", "mean", "keepdims", "3d", "array-output"))
def centre_along_middle(T):
    return T - np.mean(T, axis=1, keepdims=True)


@case(tensor(2, 3, 4, seed=259), tags=("centre", "mean", "axis-tuple", "3d"))
def centre_over_leading_axes(T):
    C = T - T.mean(axis=(0, 1), keepdims=True)
    return np.sum(C**3)


@case(tensor(2, 3, 4, seed=260), tags=("standardise", "std", "keepdims", "3d", "array-output"), oracle="fd")
def standardise_last_axis(T):
    mu = T.mean(axis=-1, keepdims=True)
    sd = T.std(axis=-1, keepdims=True)
    return (T - mu) / sd


@case(tensor(2, 3, 4, seed=261), vec(4, seed=262), vec(4, seed=263), tags=("layer-norm", "var", "broadcast-affine"),
      oracle="fd")
def layer_norm_3d(T, gamma, beta):
    mu = np.mean(T, axis=-1, keepdims=True)
    var = np.var(T, axis=-1, keepdims=True)
    Y = (T - mu) / np.sqrt(var + 1e-5) * gamma + beta
    return np.sum(np.tanh(Y))


@case(tensor(3, 2, 4, seed=264), mat(2, 4, seed=265), tags=("batch-norm", "axis0", "affine", "array-output"))
def batch_norm_axis0(T, scale):
    mu = T.mean(axis=0)
    var = ((T - mu) ** 2).mean(axis=0)
    return scale * (T - mu) / np.sqrt(var + 0.1)


@case(tensor(2, 3, 4, seed=266), tensor(2, 3, 4, seed=267), tensor(2, 3, 2, seed=268),
      tags=("attention", "batch-matmul", "softmax", "swapaxes"))
def batched_attention(Q, K, V):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(4.0)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    w = w / w.sum(axis=-1, keepdims=True)
    return np.sum((w @ V) ** 2)


@case(tensor(2, 3, 4, seed=269), tags=("cosine-similarity", "batch-matmul", "l2"), oracle="fd")
def batched_cosine_similarity(T):
    U = T / np.linalg.norm(T, axis=-1, keepdims=True)
    return np.sum(U @ U.transpose(0, 2, 1))


@case(tensor(2, 3, 2, seed=270), vec(2, seed=271), 0.5, tags=("scalar-array", "row", "3d", "mse"))
def broadcast_residual_mse(T, b, s):
    r = s * T + b - T[:, :1, :]
    return np.mean(r**2)


@case(tensor(2, 4, 3, seed=272), mat(3, 3, seed=273), vec(3, seed=274), tags=("dense-layer", "batch", "bias", "tanh"))
def dense_layer_over_batch(X, W, b):
    H = np.tanh(X @ W + b)
    return np.sum(H.mean(axis=1) ** 2)


@case(tensor(2, 3, 4, seed=275), tags=("covariance", "batch", "centre", "matmul"))
def batched_covariance_trace(T):
    C = T - T.mean(axis=-1, keepdims=True)
    S = C @ C.transpose(0, 2, 1) / 3.0
    return np.sum(S * S)
