"""Axis and keyword sweeps: the same NumPy routine called as a function and as a method,
with its axis given positionally, by keyword, negative, as a tuple or as None, with and
without keepdims, at 1-D, 2-D and 3-D shapes — reductions, norms, order statistics,
arg-reductions used as indices, shape and order routines with their keywords, joins and
splits along every axis, diagonals with offsets, and dtype keywords that name float64."""
import numpy as np

from corpus import case, mat, positive, tensor, vec


# ---- sum over axes -----------------------------------------------------------------------

@case(tensor(2, 3, 4, seed=1), tags=("sum", "3d", "axis1", "array-output"))
def sum3_axis1(T):
    return np.sum(T, axis=1)


@case(tensor(2, 3, 4, seed=2), tags=("sum", "3d", "axis-tuple", "array-output"))
def sum3_axes_0_2(T):
    return np.sum(T**2, axis=(0, 2))


@case(tensor(2, 3, 4, seed=3), tags=("sum", "3d", "keepdims", "negative-axis"))
def sum3_keepdims_last(T):
    S = np.sum(T * T, axis=-1, keepdims=True)
    return np.sum(T / (1.0 + S) * np.arange(4.0))


@case(tensor(2, 3, 4, seed=4), tags=("sum", "3d", "positional-axis", "array-output"))
def sum3_positional_axis2(T):
    return np.sum(np.sin(T), 2)


@case(tensor(2, 3, 4, seed=5), tags=("sum", "3d", "method", "keepdims", "negative-axis", "array-output"))
def sum3_method_minus2_keepdims(T):
    return T.sum(axis=-2, keepdims=True) * 2.0


@case(mat(3, 4, seed=6), tags=("sum", "axis-none"))
def sum_axis_none_keyword(X):
    return np.sum(X, axis=None) ** 2


@case(mat(3, 4, seed=8), tags=("sum", "keepdims", "axis-tuple"))
def sum_axis_tuple_keepdims(X):
    return np.sum(X * np.sum(X, axis=(0, 1), keepdims=True))


@case(mat(3, 4, seed=9), tags=("sum", "method", "axis-tuple"))
def sum_method_axis_tuple(X):
    return X.sum(axis=(1, 0)) * X[0, 0]


# ---- mean --------------------------------------------------------------------------------

@case(tensor(2, 3, 4, seed=10), tags=("mean", "3d", "axis-tuple", "keepdims"))
def mean3_center_axes_12(T):
    C = T - np.mean(T, axis=(1, 2), keepdims=True)
    return np.sum(C**2 * np.arange(4.0))


@case(mat(3, 4, seed=11), tags=("mean", "method", "positional-axis", "array-output"))
def mean_method_positional0(X):
    return X.mean(0) ** 2


@case(tensor(2, 3, 4, seed=12), tags=("mean", "3d", "negative-axis", "array-output"))
def mean3_axis_minus2(T):
    return np.mean(np.exp(T), axis=-2)


# ---- max / min / amax / amin ---------------------------------------------------------------

@case(tensor(2, 3, 4, seed=15), tags=("max", "3d", "axis2", "array-output"), oracle="fd")
def max3_axis2(T):
    return np.max(T, axis=2)


@case(mat(3, 4, seed=16), tags=("max", "method", "keepdims"), oracle="fd")
def max_method_keepdims(X):
    return np.sum(X * X.max(axis=1, keepdims=True))


@case(tensor(2, 3, 4, seed=125), tags=("min", "3d", "method", "axis-tuple", "array-output"), oracle="fd")
def min3_method_axes_01(T):
    return T.min(axis=(0, 1))


@case(tensor(2, 3, 4, seed=18), tags=("amax", "3d", "negative-axis"), oracle="fd")
def amax3_last_axis(T):
    return np.sum(np.amax(T, axis=-1) ** 2)


@case(mat(4, 3, seed=19), tags=("amin", "keepdims", "axis0", "array-output"), oracle="fd")
def amin_axis0_keepdims(X):
    return X - np.amin(X, axis=0, keepdims=True)


@case(mat(3, 4, seed=20), tags=("max", "positional-axis"), oracle="fd")
def max_positional_axis(X):
    return np.sum(np.max(X, 0) * np.min(X, 1)[0])


# ---- logsumexp / softmax written with a max shift -------------------------------------------

@case(vec(6, seed=22), tags=("logsumexp", "max-shift"), oracle="fd")
def logsumexp_vector(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


@case(mat(3, 4, seed=23), tags=("logsumexp", "max-shift", "keepdims", "array-output"), oracle="fd")
def logsumexp_rows(X):
    m = np.max(X, axis=1, keepdims=True)
    return (m + np.log(np.sum(np.exp(X - m), axis=1, keepdims=True)))[:, 0]


@case(tensor(2, 3, 4, seed=24), tags=("softmax", "max-shift", "3d", "negative-axis", "array-output"),
      oracle="fd")
def softmax3_last_axis(T):
    E = np.exp(T - T.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


# ---- prod ----------------------------------------------------------------------------------

@case(tensor(2, 3, 4, lo=0.5, hi=1.5, seed=26), tags=("prod", "3d", "axis1", "array-output"))
def prod3_axis1(T):
    return np.prod(T, axis=1)


@case(mat(3, 3, lo=0.5, hi=1.5, seed=27), tags=("prod", "method", "whole"))
def prod_method_whole(X):
    return X.prod() + X.sum()


@case(mat(3, 4, lo=0.5, hi=1.5, seed=28), tags=("prod", "keepdims", "axis0", "array-output"))
def prod_axis0_keepdims(X):
    return X / np.prod(X, axis=0, keepdims=True)


# ---- var / std ------------------------------------------------------------------------------

@case(tensor(2, 3, 4, seed=30), tags=("var", "3d", "axis-tuple", "array-output"), oracle="fd")
def var3_axes_12(T):
    return np.var(T, axis=(1, 2))


@case(mat(3, 4, seed=31), tags=("var", "method", "axis1", "array-output"), oracle="fd")
def var_method_axis1(X):
    return X.var(axis=1)


@case(mat(3, 4, seed=32), tags=("std", "method", "ddof"), oracle="fd")
def std_method_ddof1(X):
    return X.std(ddof=1)


@case(mat(4, 3, seed=33), tags=("std", "ddof0", "keepdims", "axis0", "standardize"), oracle="fd")
def std_ddof0_keepdims(X):
    Z = (X - X.mean(axis=0)) / np.std(X, axis=0, ddof=0, keepdims=True)
    return np.sum(Z**3)


@case(tensor(2, 3, 4, seed=34), tags=("var", "3d", "ddof", "negative-axis", "keepdims"), oracle="fd")
def var3_ddof1_keepdims(T):
    return np.sum(np.var(T, axis=-1, ddof=1, keepdims=True) * T)


@case(tensor(2, 3, 4, seed=35), tags=("std", "3d", "method", "axis0", "array-output"), oracle="fd")
def std3_method_axis0(T):
    return T.std(axis=0)


@case(vec(7, seed=36), tags=("var", "1d", "ddof", "keyword-axis"), oracle="fd")
def var_vector_axis0_ddof(x):
    return np.var(np.exp(x), axis=0, ddof=1)


# ---- ptp / median / average ------------------------------------------------------------------

@case(vec(6, seed=37), tags=("ptp", "1d"), oracle="fd")
def ptp_vector(x):
    return np.ptp(x * np.arange(1.0, 7.0))


@case(mat(3, 4, seed=38), tags=("ptp", "axis1", "array-output"), oracle="fd")
def ptp_rows(X):
    return np.ptp(X, axis=1)


@case(vec(5, seed=39), tags=("median", "1d", "odd-length"), oracle="fd")
def median_odd(x):
    return np.median(x**2 + x)


@case(mat(3, 4, seed=40), tags=("median", "axis1", "even-length", "array-output"), oracle="fd")
def median_rows_even(X):
    return np.median(X, axis=1)


@case(mat(3, 4, seed=42), positive(3, seed=43), tags=("average", "weights", "axis0", "array-output"))
def average_weights_axis0(X, w):
    return np.average(X, axis=0, weights=w)


@case(mat(2, 3, seed=44), mat(2, 3, lo=0.5, hi=1.5, seed=45), tags=("average", "weights", "same-shape"))
def average_weights_full(X, W):
    return np.average(X**2, weights=W)


@case(tensor(2, 3, 4, seed=46), tags=("average", "3d", "axis-tuple", "array-output"))
def average3_axis_tuple(T):
    return np.average(T, axis=(0, 2))


# ---- cumsum / cumprod ---------------------------------------------------------------------------

@case(tensor(2, 3, 4, seed=47), tags=("cumsum", "3d", "axis1", "array-output"))
def cumsum3_axis1(T):
    return np.cumsum(T, axis=1)


@case(mat(3, 4, seed=48), tags=("cumsum", "method", "axis0"))
def cumsum_method_axis0(X):
    return np.sum(X.cumsum(axis=0) ** 2)


@case(mat(3, 4, seed=49), tags=("cumsum", "negative-axis", "array-output"))
def cumsum_last_axis(X):
    return np.cumsum(np.sin(X), axis=-1)


@case(mat(3, 3, lo=0.5, hi=1.5, seed=50), tags=("cumprod", "method", "axis0", "array-output"))
def cumprod_method_axis0(X):
    return X.cumprod(axis=0)


@case(tensor(2, 3, 4, lo=0.5, hi=1.5, seed=51), tags=("cumprod", "3d", "axis1"))
def cumprod3_axis1(T):
    return np.sum(np.cumprod(T, axis=1))


# ---- nansum / nanmean (no NaNs at the point) ----------------------------------------------------

@case(mat(3, 4, seed=54), tags=("nansum", "axis1", "array-output"))
def nansum_rows(X):
    return np.nansum(X * X, axis=1)


@case(mat(3, 4, seed=55), tags=("nanmean", "axis0", "array-output"))
def nanmean_columns(X):
    return np.nanmean(np.exp(X), axis=0)


# ---- np.linalg.norm ---------------------------------------------------------------------------

@case(mat(3, 4, seed=57), tags=("norm", "ord-none", "axis0", "keepdims", "normalize", "array-output"))
def norm_columns_keepdims(X):
    return X / np.linalg.norm(X, ord=None, axis=0, keepdims=True)


@case(mat(3, 4, away=0.1, seed=58), tags=("norm", "ord1", "axis1", "array-output"), oracle="fd")
def norm_ord1_rows(X):
    return np.linalg.norm(X, ord=1, axis=1)


@case(mat(3, 4, seed=59), tags=("norm", "ord2", "axis0", "array-output"))
def norm_ord2_columns(X):
    return np.linalg.norm(X, 2, axis=0)


@case(mat(3, 4, seed=60), tags=("norm", "ord-inf", "axis1"), oracle="fd")
def norm_inf_rows(X):
    return np.sum(np.linalg.norm(X, ord=np.inf, axis=1) ** 2)


@case(mat(3, 4, seed=61), tags=("norm", "ord-minus-inf", "axis1", "array-output"), oracle="fd")
def norm_minus_inf_rows(X):
    return np.linalg.norm(X + 2.0, ord=-np.inf, axis=1)


@case(vec(5, away=0.1, seed=62), tags=("norm", "ord-minus-inf", "1d"), oracle="fd")
def norm_minus_inf_vector(x):
    return np.linalg.norm(x, -np.inf)


@case(mat(3, 4, seed=63), tags=("norm", "fro", "keyword"))
def norm_fro_keyword(X):
    return np.linalg.norm(X, ord="fro") ** 3


@case(mat(3, 4, seed=64), tags=("norm", "axis-tuple"))
def norm_axis_tuple(X):
    return np.linalg.norm(X, axis=(0, 1))


@case(tensor(2, 3, 4, seed=65), tags=("norm", "3d", "negative-axis", "keepdims"))
def norm3_last_axis_keepdims(T):
    return np.sum(T / np.linalg.norm(T, axis=-1, keepdims=True) * np.arange(1.0, 5.0))


# ---- methods: clip, transposes, reshapes, dot ----------------------------------------------------

@case(mat(3, 4, seed=69), tags=("clip", "method", "positional-bounds"), oracle="fd")
def clip_method(X):
    return np.sum(np.exp(X.clip(-0.5, 0.55)))


@case(vec(6, seed=70), tags=("clip", "method", "keyword-bounds", "array-output"), oracle="fd")
def clip_method_keywords(x):
    return x.clip(min=-0.3, max=0.45) * 2.0


@case(tensor(2, 3, 4, seed=72), tags=("transpose", "3d", "method", "varargs-axes", "array-output"))
def transpose3_varargs(T):
    return T.transpose(1, 0, 2) * np.arange(4.0)


@case(tensor(2, 3, 4, seed=73), tags=("transpose", "3d", "method", "tuple-axes"))
def transpose3_tuple(T):
    P = T.transpose((2, 0, 1))
    return np.sum(P[1] ** 2 + P[3] * P[0])


@case(tensor(2, 3, 4, seed=74), tags=("transpose", "3d", "function", "axes-keyword", "array-output"))
def transpose3_function_axes(T):
    return np.transpose(T, axes=(1, 2, 0))[:, :, 1]


@case(tensor(2, 3, 4, seed=76), tags=("reshape", "3d", "minus-one", "method"))
def reshape3_to_matrix(T):
    M = T.reshape(-1, 4)
    return np.sum(M @ M.T)


@case(tensor(2, 3, 4, seed=78), tags=("ravel", "3d", "method"))
def ravel3_method(T):
    return np.sum(T.ravel() * np.arange(24.0))


@case(tensor(2, 3, 4, seed=79), tags=("flatten", "3d", "method", "array-output"))
def flatten3_method(T):
    return T.flatten()[::5] ** 2


@case(vec(4, seed=80), vec(4, seed=81), tags=("dot", "method", "1d"))
def dot_method_vectors(x, y):
    return x.dot(y) ** 2


@case(mat(3, 4, seed=82), vec(4, seed=83), tags=("dot", "method", "matvec", "array-output"))
def dot_method_matvec(A, v):
    return A.dot(v)


# ---- rounding and arg-reductions as passive values -------------------------------------------------

@case(vec(6, lo=0.1, hi=2.9, seed=86), tags=("round", "method", "passive"), oracle="fd")
def round_method_residual(x):
    k = x.round()
    return np.sum((x - k) ** 2)


@case(vec(5, seed=87), mat(5, 2, lo=0.3, hi=2.7, seed=88), wrt=0, tags=("round", "function", "passive-weights"))
def round_function_weights(x, W):
    w = np.round(W[:, 0])
    return np.sum(w * x**2)


@case(vec(6, seed=89), tags=("argmax", "passive-index"), oracle="fd")
def argmax_index(x):
    return x[np.argmax(x)] * np.sum(x)


@case(mat(3, 4, seed=91), tags=("argsort", "take_along_axis", "axis1", "array-output"), oracle="fd",
      expect="refused:other: s2sdiff has no derivative for np.take_along_axis(X, np.argsort(X, axis=1), axis=1), "
             "which depends on a differentiated value")
def sort_rows_by_argsort(X):
    return np.take_along_axis(X, np.argsort(X, axis=1), axis=1)


# ---- sort / diff ------------------------------------------------------------------------------

@case(mat(4, 3, seed=127), tags=("sort", "axis0"), oracle="fd")
def sort_columns(X):
    return np.sum(np.sort(X, axis=0) ** 2 * np.arange(12.0).reshape(4, 3))


@case(mat(3, 4, seed=97), tags=("sort", "axis-none", "array-output"), oracle="fd")
def sort_flattened(X):
    return np.sort(X, axis=None)[-3:]


@case(vec(6, seed=98), tags=("diff", "n2", "array-output"))
def diff_second_order(x):
    return np.diff(x**2, n=2)


@case(mat(4, 3, seed=99), tags=("diff", "axis0"))
def diff_axis0(X):
    return np.sum(np.diff(X, axis=0) ** 2)


@case(vec(5, seed=100), tags=("diff", "prepend", "array-output"))
def diff_prepend_zero(x):
    return np.diff(x, prepend=0.0)


@case(tensor(2, 3, 4, seed=102), tags=("diff", "3d", "negative-axis", "n2"))
def diff3_last_axis(T):
    return np.sum(np.diff(T, n=2, axis=-1) ** 2)


# ---- flip / roll / rot90 ------------------------------------------------------------------------

@case(mat(3, 4, seed=103), tags=("flip", "axis1", "array-output"))
def flip_axis1(X):
    return np.flip(X, axis=1) * np.arange(4.0)


@case(tensor(2, 3, 4, seed=105), tags=("flip", "3d", "axis-tuple", "array-output"))
def flip3_axes_0_2(T):
    return np.flip(T, axis=(0, 2))[1]


@case(mat(3, 4, seed=106), tags=("flipud", "fliplr"))
def flipud_fliplr(X):
    return np.sum(np.flipud(X) * np.fliplr(X))


@case(vec(6, seed=107), tags=("roll", "negative-shift", "array-output"))
def roll_negative(x):
    return np.roll(x, -2) - x


@case(mat(3, 4, seed=108), tags=("roll", "axis1", "keyword-shift"))
def roll_axis1(X):
    return np.sum(X * np.roll(X, shift=1, axis=1))


@case(tensor(2, 3, 4, seed=110), tags=("roll", "3d", "negative-axis", "array-output"))
def roll3_last_axis(T):
    return np.roll(T, 2, axis=-1)[:, 0, :]


@case(mat(3, 4, seed=112), tags=("rot90", "default-k", "array-output"))
def rot90_default(X):
    return np.rot90(X) ** 2


@case(mat(3, 4, seed=113), tags=("rot90", "negative-k"))
def rot90_negative_k(X):
    return np.sum(np.rot90(X, k=-1) * np.arange(3.0))


@case(mat(3, 4, seed=114), tags=("rot90", "axes-keyword", "array-output"))
def rot90_k2_axes_keyword(X):
    return np.rot90(X, 2, axes=(0, 1))


# ---- repeat / tile / pad ---------------------------------------------------------------------

@case(mat(2, 3, seed=116), tags=("repeat", "axis0", "array-output"))
def repeat_rows(X):
    return np.repeat(X, 2, axis=0)


@case(mat(2, 3, seed=117), tags=("repeat", "repeats-keyword", "axis1"))
def repeat_columns_keyword(X):
    return np.sum(np.repeat(X, repeats=3, axis=1) ** 2 * np.arange(9.0))


@case(mat(2, 2, seed=118), tags=("repeat", "no-axis", "method", "array-output"))
def repeat_method_flat(X):
    return X.repeat(3)


@case(vec(3, seed=119), tags=("tile", "int-reps", "array-output"))
def tile_vector_int(x):
    return np.tile(x, 3) * np.arange(9.0)


@case(mat(2, 3, seed=120), tags=("tile", "tuple-reps"))
def tile_matrix_tuple(X):
    return np.sum(np.tile(X, (2, 1)) ** 2 * np.arange(3.0))


@case(mat(2, 3, seed=122), tags=("pad", "pair-per-axis", "constant"))
def pad_rows_constant(X):
    P = np.pad(X, ((1, 1), (0, 0)))
    return np.sum(P[1:, :] * P[:-1, :])


@case(mat(2, 3, seed=123), tags=("pad", "pair-widths", "constant_values", "array-output"))
def pad_pairs_constant_value(X):
    return np.pad(X, ((1, 0), (0, 2)), mode="constant", constant_values=1.5)


@case(vec(4, seed=124), tags=("pad", "edge", "array-output"))
def pad_edge_vector(x):
    return np.pad(x, (2, 3), mode="edge")


@case(mat(3, 3, seed=125), tags=("pad", "edge", "stencil"),
      expect="refused:other: np.pad with one pair of widths is supported for vectors here (give a pair per axis)")
def pad_edge_laplacian(X):
    P = np.pad(X, 1, mode="edge")
    L = P[:-2, 1:-1] + P[2:, 1:-1] + P[1:-1, :-2] + P[1:-1, 2:] - 4.0 * X
    return np.sum(L**2)


# ---- squeeze / expand_dims / swapaxes / moveaxis -------------------------------------------------

@case(tensor(3, 1, 4, seed=126), tags=("squeeze", "3d", "axis1", "array-output"))
def squeeze3_axis1(T):
    return np.squeeze(T, axis=1) ** 2


@case(tensor(1, 3, 1, seed=127), tags=("squeeze", "3d", "method", "chained", "negative-axis"))
def squeeze3_method_chained(T):
    return np.sum(T.squeeze(axis=0).squeeze(axis=-1) * np.arange(3.0))


@case(vec(4, seed=128), tags=("expand_dims", "axis0", "broadcast"))
def expand_dims_outer(x):
    return np.sum(np.expand_dims(x, axis=0) * np.expand_dims(x, -1))


@case(mat(2, 3, seed=129), tags=("expand_dims", "negative-axis", "3d-intermediate", "array-output"))
def expand_dims_last(X):
    return np.expand_dims(X, axis=-1)[:, :, 0] * 3.0


@case(tensor(2, 3, 4, seed=130), tags=("swapaxes", "3d", "function", "array-output"))
def swapaxes3_function(T):
    return np.swapaxes(T, 0, 2)[1]


@case(tensor(2, 3, 4, seed=131), tags=("swapaxes", "3d", "method", "negative-axis", "matmul"))
def swapaxes3_method_batched_gram(T):
    return np.sum((T @ T.swapaxes(-1, -2)) ** 2)


@case(tensor(2, 3, 4, seed=176), tensor(2, 4, 2, seed=177), tags=("matmul", "3d", "batched", "sum"))
def batched_matmul_sum(T, U):
    return np.sum(T @ U)


@case(tensor(2, 3, 4, seed=132), tags=("moveaxis", "3d", "negative-axis", "array-output"))
def moveaxis3_last_to_first(T):
    return np.moveaxis(T, -1, 0)[2]


@case(tensor(2, 3, 4, seed=133), tags=("moveaxis", "3d", "negative-destination"))
def moveaxis3_middle_to_last(T):
    M = np.moveaxis(T, 1, -1)
    return np.sum(M[:, :, 0] * M[:, :, 1])


# ---- joins and splits along axes ------------------------------------------------------------------

@case(mat(2, 3, seed=134), mat(2, 2, seed=135), tags=("concatenate", "negative-axis", "array-output"))
def concatenate_last_axis(A, B):
    return np.concatenate((A, B**2), axis=-1)


@case(mat(2, 3, seed=136), vec(4, seed=137), tags=("concatenate", "axis-none"))
def concatenate_axis_none(A, b):
    return np.sum(np.concatenate([A, b], axis=None) * np.arange(10.0))


@case(tensor(2, 3, 4, seed=138), tensor(2, 1, 4, seed=139), tags=("concatenate", "3d", "axis1"))
def concatenate3_axis1(T, U):
    return np.sum(np.concatenate([T, U], 1) ** 2)


@case(vec(3, seed=140), vec(3, seed=141), tags=("stack", "axis1", "array-output"))
def stack_axis1(x, y):
    return np.stack([x, y * y], axis=1)


@case(mat(2, 3, seed=142), mat(2, 3, seed=143), tags=("stack", "negative-axis", "3d-result"))
def stack_last_axis(A, B):
    S = np.stack((A, B), axis=-1)
    return np.sum(S[:, :, 0] * S[:, :, 1]) + np.sum(S[0] ** 2)


@case(vec(3, seed=144), mat(2, 3, seed=145), tags=("vstack", "mixed-ndim", "array-output"))
def vstack_vector_on_matrix(x, A):
    return np.vstack((x, A)) * 2.0


@case(mat(2, 2, seed=146), mat(2, 3, seed=147), tags=("hstack", "matrices"))
def hstack_matrices(A, B):
    H = np.hstack([A, B])
    return np.sum(H @ H.T)


@case(vec(4, seed=150), mat(4, 2, seed=151), tags=("column_stack", "mixed-ndim"))
def column_stack_mixed(x, A):
    C = np.column_stack((x, A))
    return np.sum(C.T @ C)


@case(mat(2, 3, seed=152), mat(2, 3, seed=153), tags=("dstack", "3d-result", "array-output"))
def dstack_pair(A, B):
    return np.dstack((A, B))[:, :, 1] * A


@case(vec(6, seed=154), tags=("split", "sections", "unpack"))
def split_sections(x):
    a, b, c = np.split(x, 3)
    return np.sum(a * b + c**2)


@case(vec(7, seed=155), tags=("split", "index-list", "unpack"))
def split_indices(x):
    a, b, c = np.split(x, [2, 5])
    return np.sum(a) * np.sum(b**2) + np.prod(c)


@case(mat(4, 3, seed=156), tags=("split", "axis1", "indexed-piece", "array-output"))
def split_columns_indexed(X):
    parts = np.split(X, 3, axis=1)
    return parts[0] * parts[2]


@case(vec(7, seed=157), tags=("array_split", "uneven", "unpack"))
def array_split_uneven(x):
    a, b, c = np.array_split(x, 3)
    return np.sum(a**2) + np.sum(b) * np.sum(c)


# ---- atleast_2d / broadcast_to ------------------------------------------------------------------

@case(vec(4, seed=159), tags=("atleast_2d", "1d", "matmul"))
def atleast_2d_outer(x):
    R = np.atleast_2d(x)
    return np.sum(R.T @ R)


@case(vec(3, seed=160), tags=("broadcast_to", "array-output"))
def broadcast_to_rows(x):
    return np.broadcast_to(x, (2, 3)) * np.arange(2.0)[:, None]


# ---- trace / diagonal / tril / triu ----------------------------------------------------------------

@case(mat(4, 4, seed=162), tags=("trace", "offset"))
def trace_positive_offset(X):
    return np.trace(X @ X, offset=1)


@case(mat(3, 4, seed=163), tags=("trace", "offset", "negative", "method", "rectangular"))
def trace_method_negative_offset(X):
    return X.trace(offset=-1) ** 2 + X.trace()


@case(mat(3, 4, seed=178), tags=("trace", "rectangular"))
def trace_rectangular(X):
    return np.trace(X) * 2.0


@case(mat(3, 4, seed=164), tags=("diagonal", "function", "offset", "axis1-axis2", "array-output"))
def diagonal_keywords_spelled_out(X):
    return np.diagonal(X, offset=1, axis1=0, axis2=1) ** 2


@case(mat(3, 4, seed=166), tags=("diagonal", "method", "negative-offset", "array-output"))
def diagonal_method_negative_offset(X):
    return X.diagonal(-1) * 2.0


@case(mat(4, 4, seed=167), tags=("tril", "negative-k", "array-output"))
def tril_below(X):
    return np.tril(X, k=-1)


@case(mat(4, 4, seed=168), tags=("triu", "positive-k"))
def triu_above_quadratic(X):
    U = np.triu(X, 1)
    return np.sum(U @ U.T)


# ---- dtype keywords that name float64 ---------------------------------------------------------------

@case(mat(3, 4, seed=170), tags=("dtype", "sum", "float"), oracle="fd")
def sum_dtype_float(X):
    return np.sum(X * X, dtype=float)


@case(mat(3, 4, seed=171), tags=("dtype", "sum", "axis", "np.float64", "array-output"), oracle="fd")
def sum_dtype_float64_axis(X):
    return np.sum(np.exp(X), axis=1, dtype=np.float64)


@case(mat(3, 4, seed=172), tags=("dtype", "mean", "method"), oracle="fd")
def mean_method_dtype(X):
    return X.mean(axis=0, dtype=np.float64)[1] ** 2


@case(vec(4, seed=173), tags=("dtype", "zeros", "fill-loop"))
def zeros_float64_fill(x):
    n = x.shape[0]
    y = np.zeros(n, dtype=np.float64)
    for i in range(n):
        y[i] = x[i] * x[n - 1 - i]
    return np.sum(y)


@case(mat(2, 3, seed=174), tags=("dtype", "astype", "array-output"), oracle="fd")
def astype_float64(X):
    return X.astype(np.float64) ** 2
