"""Shape manipulation: reshapes, transposes, flips, rolls, repeats, tiles, pads, differences,
sorts, and indexing with steps, negative indices, np.newaxis and Ellipsis — functions that
move values around without changing them, at the shapes array-library test suites use."""
import numpy as np

from corpus import case, mat, vec


# ---- reshape / ravel / flatten ---------------------------------------------------------

@case(vec(6), tags=("reshape", "function", "matmul"))
def reshape_function(x):
    A = np.reshape(x, (2, 3))
    return np.sum(A @ A.T)


@case(vec(6, seed=1), tags=("reshape", "method", "tuple-shape"))
def reshape_method_tuple(x):
    A = x.reshape((3, 2))
    return np.sum(A[:, 0] * A[:, 1])


@case(vec(6, seed=2), tags=("reshape", "method", "varargs-shape"))
def reshape_method_varargs(x):
    A = x.reshape(2, 3)
    return np.sum(np.sin(A) * np.arange(3.0))


@case(vec(8, seed=3), tags=("reshape", "minus-one"))
def reshape_minus_one(x):
    A = x.reshape(-1, 2)
    return np.sum(A[:, 0] ** 2 * A[:, 1])


@case(mat(2, 3, seed=4), tags=("reshape", "flatten-by-reshape", "array-output"))
def reshape_to_vector(X):
    return np.reshape(X, -1) * np.arange(6.0)


@case(mat(3, 4, seed=5), tags=("reshape", "matrix-to-matrix"))
def reshape_matrix(X):
    Y = X.reshape(4, 3)
    return np.sum(Y @ X)


@case(mat(2, 3, seed=6), tags=("reshape", "3d-intermediate"))
def reshape_through_3d(X):
    T = X.reshape(1, 2, 3)
    return np.sum(T**2 * 0.5)


@case(mat(2, 3, seed=7), tags=("ravel", "function"))
def ravel_function(X):
    return np.sum(np.ravel(X) * np.arange(6.0))


@case(mat(3, 2, seed=8), tags=("ravel", "method", "array-output"))
def ravel_method(X):
    return X.ravel() ** 2


@case(mat(2, 2, seed=9), tags=("flatten", "method"))
def flatten_method(X):
    v = X.flatten()
    return v @ v + v[0] * v[3]


@case(mat(2, 3, seed=10), tags=("ravel", "transpose", "order"))
def ravel_of_transpose(X):
    return np.sum(np.ravel(X.T) * np.arange(6.0))


# ---- squeeze / expand_dims / newaxis ---------------------------------------------------

@case(mat(1, 4, seed=11), tags=("squeeze", "function"),
      expect="refused:other: np.squeeze needs the axis to remove here (axis=...)")
def squeeze_row(X):
    return np.sum(np.squeeze(X) ** 3)


@case(mat(3, 1, seed=12), tags=("squeeze", "method", "array-output"),
      expect="refused:other: np.squeeze needs the axis to remove here (axis=...)")
def squeeze_column_method(X):
    return X.squeeze() * 2.0


@case(mat(4, 1, seed=13), tags=("squeeze", "axis"))
def squeeze_axis(X):
    return np.sum(np.exp(np.squeeze(X, axis=1)))


@case(vec(3, seed=14), tags=("expand_dims", "broadcast"))
def expand_dims_outer(x):
    return np.sum(np.expand_dims(x, 0) * np.expand_dims(x, 1))


@case(vec(4, seed=15), tags=("expand_dims", "negative-axis", "array-output"))
def expand_dims_last(x):
    return np.expand_dims(x, axis=-1) * np.ones((1, 2))


@case(vec(3, seed=16), vec(4, seed=17), tags=("newaxis", "outer", "broadcast"))
def newaxis_outer(x, y):
    return np.sum(np.sin(x[:, np.newaxis] * y[np.newaxis, :]))


@case(vec(3, seed=18), tags=("none-index", "outer"))
def none_index_outer(x):
    return np.sum((x[:, None] - x[None, :]) ** 2)


@case(mat(2, 3, seed=19), tags=("newaxis", "3d-intermediate"))
def newaxis_3d(X):
    T = X[:, :, None] * X[:, None, :]
    return np.sum(T)


@case(mat(3, 4, seed=20), tags=("ellipsis", "column"))
def ellipsis_column(X):
    return np.sum(X[..., 1] ** 2)


@case(mat(3, 4, seed=76), tags=("ellipsis", "whole"))
def ellipsis_whole(X):
    return np.sum(X[...] * np.arange(4.0))


@case(vec(5, seed=77), tags=("ellipsis", "vector", "array-output"))
def ellipsis_vector(x):
    return x[...] * x


@case(mat(3, 4, seed=78), tags=("ellipsis", "whole", "scalar-factor"))
def ellipsis_scaled(X):
    return np.sum(X[...] * 0.5)


@case(mat(3, 4, seed=21), tags=("ellipsis", "newaxis", "array-output"))
def ellipsis_newaxis(X):
    return X[..., None][:, :, 0] * 3.0


# ---- transpose / T / swapaxes / moveaxis -----------------------------------------------

@case(mat(2, 3, seed=22), tags=("transpose", "function"))
def transpose_function(X):
    return np.sum(np.transpose(X) @ X)


@case(mat(3, 2, seed=23), tags=("transpose", "axes"))
def transpose_axes(X):
    Y = np.transpose(X, (1, 0))
    return np.sum(Y[0] * Y[1])


@case(mat(3, 3, seed=24), tags=("T", "attribute", "array-output"))
def T_attribute(X):
    return X.T * X


@case(mat(3, 2, seed=25), tags=("transpose", "method"))
def transpose_method(X):
    return np.sum(X.transpose() ** 2 * np.arange(3.0))


@case(mat(2, 3, seed=26), tags=("transpose", "3d", "axes-tuple"))
def transpose_3d_axes(X):
    T = X.reshape(2, 3, 1)
    U = np.transpose(T, (2, 0, 1))
    return np.sum(U[0] * X)


@case(mat(2, 4, seed=27), tags=("swapaxes",))
def swapaxes_matrix(X):
    return np.sum(np.swapaxes(X, 0, 1) @ X)


@case(mat(3, 2, seed=28), tags=("swapaxes", "method", "array-output"))
def swapaxes_method(X):
    return X.swapaxes(0, 1) ** 2


@case(mat(2, 3, seed=29), tags=("moveaxis",))
def moveaxis_matrix(X):
    return np.sum(np.moveaxis(X, 0, 1) * np.arange(6.0).reshape(3, 2))


@case(mat(2, 3, seed=30), tags=("moveaxis", "negative-axis", "3d"))
def moveaxis_3d(X):
    T = X.reshape(2, 3, 1)
    return np.sum(np.moveaxis(T, -1, 0)[0] ** 2)


# ---- flips / rolls / rotations ---------------------------------------------------------

@case(mat(3, 3, seed=31), tags=("flip", "axis"))
def flip_axis0(X):
    return np.sum(np.flip(X, axis=0) * X)


@case(mat(2, 3, seed=32), tags=("flip", "whole", "array-output"))
def flip_whole(X):
    return np.flip(X) - X


@case(mat(3, 2, seed=33), tags=("flipud",))
def flipud_matrix(X):
    return np.sum(np.flipud(X) * np.arange(6.0).reshape(3, 2))


@case(mat(2, 3, seed=34), tags=("fliplr",))
def fliplr_matrix(X):
    return np.sum(np.fliplr(X) ** 2 * X)


@case(vec(5, seed=35), tags=("flipud", "vector"))
def flipud_vector(x):
    return np.sum(np.flipud(x) * np.arange(5.0))


@case(vec(5, seed=36), tags=("roll", "negative-shift"))
def roll_back(x):
    return np.sum(x * np.roll(x, -2))


@case(mat(3, 4, seed=37), tags=("roll", "axis"))
def roll_axis1(X):
    return np.sum((np.roll(X, 1, axis=1) - X) ** 2)


@case(mat(2, 3, seed=38), tags=("roll", "flattened", "array-output"))
def roll_flat(X):
    return np.roll(X, 2)


@case(mat(3, 3, seed=39), tags=("rot90",))
def rot90_once(X):
    return np.sum(np.rot90(X) * X)


@case(mat(2, 3, seed=40), tags=("rot90", "k"))
def rot90_twice(X):
    return np.sum(np.rot90(X, 2) * np.arange(6.0).reshape(2, 3))


# ---- repeat / tile / pad ---------------------------------------------------------------

@case(vec(3, seed=41), tags=("repeat",))
def repeat_vector(x):
    return np.sum(np.repeat(x, 2) * np.arange(6.0))


@case(mat(2, 2, seed=42), tags=("repeat", "axis"))
def repeat_axis0(X):
    return np.sum(np.repeat(X, 3, axis=0) ** 2)


@case(vec(3, seed=43), tags=("repeat", "method", "array-output"))
def repeat_method(x):
    return x.repeat(2)


@case(vec(3, seed=44), tags=("tile", "reps-tuple"))
def tile_to_matrix(x):
    return np.sum(np.tile(x, (2, 1)) * np.arange(6.0).reshape(2, 3))


@case(mat(2, 2, seed=45), tags=("tile", "matrix"))
def tile_matrix(X):
    return np.sum(np.tile(X, 2) ** 2)


@case(vec(4, seed=46), tags=("pad", "constant"))
def pad_constant(x):
    p = np.pad(x, 1)
    return np.sum(p[1:] * p[:-1])


@case(vec(4, seed=47), tags=("pad", "edge"))
def pad_edge(x):
    p = np.pad(x, (1, 2), mode="edge")
    return np.sum(p**2 * np.arange(7.0))


@case(mat(2, 3, seed=48), tags=("pad", "constant", "matrix", "array-output"))
def pad_matrix(X):
    return np.pad(X, ((1, 0), (0, 1)))


@case(vec(4, seed=49), tags=("pad", "constant-values"))
def pad_constant_values(x):
    return np.sum(np.pad(x, 2, constant_values=1.0) ** 3)


# ---- diff / sort -----------------------------------------------------------------------

@case(vec(6, seed=50), tags=("diff",))
def diff_vector(x):
    return np.sum(np.diff(x) ** 2)


@case(vec(6, seed=51), tags=("diff", "order-n"))
def diff_second(x):
    return np.sum(np.diff(x, n=2) ** 2)


@case(mat(3, 4, seed=52), tags=("diff", "axis"))
def diff_axis0(X):
    return np.sum(np.diff(X, axis=0) ** 2)


@case(mat(3, 4, seed=53), tags=("diff", "matrix", "array-output"))
def diff_matrix_last(X):
    return np.diff(X)


@case(vec(5, seed=54), tags=("diff", "by-slicing"))
def diff_by_slices(x):
    return np.sum((x[1:] - x[:-1]) ** 2)


@case(vec(5, seed=55), tags=("sort",), oracle="fd")
def sort_weighted(x):
    return np.sum(np.sort(x) ** 2 * np.arange(5.0))


@case(mat(3, 3, seed=56), tags=("sort", "axis"), oracle="fd")
def sort_rows(X):
    return np.sum(np.sort(X, axis=1)[:, 0] ** 2)


@case(vec(5, seed=57), tags=("sort", "array-output"), oracle="fd")
def sort_output(x):
    return np.sort(x**3)


@case(vec(5, seed=58), tags=("sort", "median-by-sort"), oracle="fd")
def median_by_sort(x):
    return np.sort(x)[2]


# ---- atleast / broadcast_to ------------------------------------------------------------

@case(vec(3, seed=59), tags=("atleast_2d",))
def atleast_2d_vector(x):
    A = np.atleast_2d(x)
    return np.sum(A.T @ A)


@case(mat(2, 2, seed=60), tags=("atleast_1d",))
def atleast_1d_matrix(X):
    return np.sum(np.atleast_1d(X) ** 2)


@case(1.5, tags=("atleast_1d", "scalar-argument"))
def atleast_1d_scalar(a):
    return np.sum(np.atleast_1d(a) * 2.0) * a


@case(vec(3, seed=61), tags=("broadcast_to",))
def broadcast_to_rows(x):
    return np.sum(np.broadcast_to(x, (4, 3)) * np.arange(12.0).reshape(4, 3))


@case(mat(3, 1, seed=62), tags=("broadcast_to", "column", "array-output"))
def broadcast_to_columns(X):
    return np.broadcast_to(X, (3, 2)) * 1.0


# ---- slicing ---------------------------------------------------------------------------

@case(vec(8, seed=63), tags=("step-slice",))
def step_slice(x):
    return np.sum(x[::2] * x[1::2])


@case(vec(7, seed=64), tags=("step-slice", "negative-step"))
def negative_step_slice(x):
    return np.sum(x[::-2] ** 2)


@case(vec(6, seed=65), tags=("negative-index",))
def negative_index(x):
    return x[-1] * x[-2] + x[0]


@case(vec(6, seed=66), tags=("negative-slice-bounds", "array-output"))
def negative_slice_bounds(x):
    return x[-4:-1] * 2.0


@case(mat(4, 4, seed=67), tags=("2d-slices", "step-slice"))
def matrix_step_slices(X):
    return np.sum(X[::2, 1::2] ** 2)


@case(mat(3, 4, seed=68), tags=("row", "column", "index"))
def row_and_column(X):
    return np.sum(X[1] * X[:, 2][:, None])


@case(mat(4, 4, seed=69), tags=("reversed-rows", "2d-slices"))
def reversed_rows(X):
    return np.sum(X[::-1, :] * X)


@case(mat(3, 3, seed=70), tags=("negative-index", "2d"))
def corner_product(X):
    return X[0, 0] * X[-1, -1] - X[0, -1] * X[-1, 0]


@case(vec(6, seed=71), tags=("step-slice", "stride-3", "array-output"))
def stride_three(x):
    return x[1::3] ** 2


@case(mat(3, 4, seed=72), tags=("slice", "submatrix", "matmul"))
def submatrix_matmul(X):
    return np.sum(X[:2, :2] @ X[1:, 2:])


@case(vec(5, seed=73), tags=("empty-slice", "sum"))
def empty_slice_sum(x):
    return np.sum(x[3:3]) + np.sum(x[:3] ** 2)


@case(mat(2, 3, seed=74), tags=("size", "shape", "reshape"))
def reshape_by_size(X):
    return np.sum(X.reshape(X.size) ** 2)


@case(mat(2, 3, seed=75), tags=("reshape", "shape-attribute", "array-output"))
def reshape_by_shape(X):
    v = X.ravel()
    return v.reshape(X.shape) * X
