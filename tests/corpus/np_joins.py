"""Joining and splitting arrays: concatenate, stack and its variants, append, split and
array_split — with tuples and lists of pieces, the axis keyword, and differentiated pieces
mixed with constant ones, as NumPy AD test suites join arrays."""
import numpy as np

from corpus import case, mat, vec


# ---- concatenate -----------------------------------------------------------------------

@case(vec(3), vec(2, seed=1), tags=("concatenate", "tuple"))
def concatenate_tuple(x, y):
    z = np.concatenate((x, y))
    return np.sum(z * np.arange(5.0))


@case(vec(3, seed=2), vec(3, seed=3), tags=("concatenate", "list", "array-output"))
def concatenate_list(x, y):
    return np.concatenate([x, y * y])


@case(vec(3, seed=4), tags=("concatenate", "constant-piece"))
def concatenate_with_constant(x):
    z = np.concatenate((np.ones(2), x, np.zeros(1)))
    return np.sum(z[1:] * z[:-1])


@case(mat(2, 3, seed=5), mat(1, 3, seed=6), tags=("concatenate", "axis0"))
def concatenate_rows(A, b):
    M = np.concatenate((A, b), axis=0)
    return np.sum(M.T @ M)


@case(mat(2, 2, seed=7), mat(2, 3, seed=8), tags=("concatenate", "axis1"))
def concatenate_columns(A, B):
    M = np.concatenate([A, B], axis=1)
    return np.sum(M**2 * np.arange(5.0))


@case(mat(2, 2, seed=9), mat(2, 2, seed=10), tags=("concatenate", "negative-axis", "array-output"))
def concatenate_negative_axis(A, B):
    return np.concatenate((A, 2.0 * B), axis=-1)


@case(vec(2, seed=11), tags=("concatenate", "same-array-twice"))
def concatenate_self(x):
    return np.sum(np.concatenate((x, x, x)) ** 3)


@case(vec(3, seed=12), vec(3, seed=13), tags=("concatenate", "positional-axis"))
def concatenate_positional_axis(x, y):
    M = np.concatenate((x.reshape(1, 3), y.reshape(1, 3)), 0)
    return np.sum(M[0] * M[1])


# ---- stack / vstack / hstack / column_stack / dstack -----------------------------------

@case(vec(3, seed=14), vec(3, seed=15), tags=("stack", "tuple"))
def stack_tuple(x, y):
    S = np.stack((x, y))
    return np.sum(S @ S.T)


@case(vec(3, seed=16), vec(3, seed=17), tags=("stack", "list", "axis1"))
def stack_list_axis1(x, y):
    S = np.stack([x, y], axis=1)
    return np.sum(S[:, 0] * S[:, 1] ** 2)


@case(vec(4, seed=18), tags=("stack", "constant-piece", "array-output"))
def stack_with_constant(x):
    return np.stack((x, np.ones(4), x**2))


@case(vec(3, seed=19), vec(3, seed=20), tags=("stack", "negative-axis"))
def stack_negative_axis(x, y):
    return np.sum(np.stack((x, y), axis=-1) ** 2 * np.arange(6.0).reshape(3, 2))


@case(mat(2, 2, seed=21), mat(2, 2, seed=22), tags=("stack", "3d-result"))
def stack_matrices(A, B):
    T = np.stack((A, B))
    return np.sum(T[0] @ T[1])


@case(vec(3, seed=23), vec(3, seed=24), tags=("vstack", "tuple"))
def vstack_tuple(x, y):
    return np.sum(np.vstack((x, y)) ** 2 * np.arange(6.0).reshape(2, 3))


@case(mat(2, 3, seed=25), vec(3, seed=26), tags=("vstack", "list", "mixed-rank"))
def vstack_matrix_and_row(A, b):
    M = np.vstack([A, b])
    return np.linalg.det(M)


@case(mat(1, 3, seed=27), tags=("vstack", "constant-piece", "array-output"))
def vstack_with_constant(a):
    return np.vstack((a, np.zeros((1, 3)), 2.0 * a))


@case(vec(2, seed=28), vec(3, seed=29), tags=("hstack", "tuple"))
def hstack_tuple(x, y):
    return np.sum(np.hstack((x, y)) * np.arange(5.0))


@case(mat(2, 2, seed=30), mat(2, 1, seed=31), tags=("hstack", "matrices"))
def hstack_matrices(A, b):
    M = np.hstack((A, b))
    return np.sum(M @ M.T)


@case(vec(3, seed=32), tags=("hstack", "list", "constant-piece", "array-output"))
def hstack_with_constant(x):
    return np.hstack([np.ones(1), x, x**2])


@case(vec(3, seed=33), vec(3, seed=34), tags=("column_stack",))
def column_stack_vectors(x, y):
    M = np.column_stack((x, y))
    return np.sum(M.T @ M)


@case(vec(3, seed=35), tags=("column_stack", "design-matrix", "constant-piece"))
def column_stack_design(x):
    X = np.column_stack((np.ones(3), x, x**2))
    return np.linalg.det(X)


@case(mat(3, 2, seed=36), vec(3, seed=37), tags=("column_stack", "matrix-and-vector", "array-output"))
def column_stack_matrix_vector(A, b):
    return np.column_stack([A, b])


@case(mat(2, 2, seed=38), mat(2, 2, seed=39), tags=("dstack", "3d-result"))
def dstack_matrices(A, B):
    T = np.dstack((A, B))
    return np.sum(T[:, :, 0] * T[:, :, 1])


@case(vec(3, seed=40), vec(3, seed=41), tags=("dstack", "vectors"))
def dstack_vectors(x, y):
    return np.sum(np.dstack((x, y)) ** 2)


@case(vec(3, seed=42), vec(3, seed=43), tags=("row_stack", "vstack-alias"))
def array_of_rows_by_vstack(x, y):
    return np.sum(np.vstack((x, y, x - y)).T @ np.ones((3, 1)))


# ---- append ----------------------------------------------------------------------------

@case(vec(3, seed=44), vec(2, seed=45), tags=("append", "flattening"))
def append_vectors(x, y):
    return np.sum(np.append(x, y) ** 2 * np.arange(5.0))


@case(vec(3, seed=46), tags=("append", "scalar-piece", "array-output"))
def append_scalar(x):
    return np.append(x, 1.0) * 2.0


@case(mat(2, 3, seed=47), mat(1, 3, seed=48), tags=("append", "axis"))
def append_row_axis0(A, b):
    return np.sum(np.append(A, b, axis=0) ** 2)


@case(1.5, vec(3, seed=49), tags=("append", "scalar-argument"))
def append_to_scalar(a, x):
    return np.sum(np.append(a, x) ** 2)


# ---- split / array_split ---------------------------------------------------------------

@case(vec(6, seed=50), tags=("split", "sections", "tuple-unpack"))
def split_in_two(x):
    a, b = np.split(x, 2)
    return np.sum(a * b)


@case(vec(6, seed=51), tags=("split", "indices"))
def split_at_indices(x):
    a, b, c = np.split(x, [1, 4])
    return np.sum(a) * np.sum(b**2) + np.sum(c)


@case(mat(4, 2, seed=52), tags=("split", "axis0", "matrix"))
def split_matrix_rows(X):
    top, bottom = np.split(X, 2, axis=0)
    return np.sum(top @ bottom.T)


@case(mat(2, 4, seed=53), tags=("split", "axis1", "indexing-result"))
def split_matrix_columns(X):
    parts = np.split(X, 2, axis=1)
    return np.sum(parts[0] * parts[1])


@case(vec(5, seed=54), tags=("array_split", "uneven"))
def array_split_uneven(x):
    a, b = np.array_split(x, 2)
    return np.sum(a**2) - np.sum(b**3)


@case(vec(7, seed=55), tags=("array_split", "three-pieces"))
def array_split_three(x):
    pieces = np.array_split(x, 3)
    return np.sum(pieces[0]) * np.sum(pieces[2])


@case(mat(4, 3, seed=56), tags=("hsplit",))
def hsplit_matrix(X):
    a, b, c = np.hsplit(X, 3)
    return np.sum(a * b * c)


@case(mat(4, 3, seed=57), tags=("vsplit",))
def vsplit_matrix(X):
    a, b = np.vsplit(X, 2)
    return np.sum(a.T @ b)


# ---- joins built by hand and mixtures --------------------------------------------------

@case(vec(3, seed=58), vec(3, seed=59), tags=("concatenate", "split", "round-trip"))
def concatenate_then_split(x, y):
    z = np.concatenate((x, y))
    a, b = np.split(z, 2)
    return np.sum(a * b)


@case(vec(2, seed=60), vec(2, seed=61), tags=("block",), expect="refused:list")
def block_matrix(x, y):
    M = np.block([[np.diag(x), np.zeros((2, 2))], [np.outer(x, y), np.eye(2)]])
    return np.sum(M**2)


@case(vec(3, seed=62), tags=("stack", "tuple-of-expressions"))
def stack_powers(x):
    V = np.stack((np.ones(3), x, x**2, x**3), axis=1)
    return np.sum(V.T @ V)


@case(mat(2, 2, seed=63), tags=("concatenate", "self-transpose"))
def concatenate_with_transpose(A):
    M = np.concatenate((A, A.T), axis=1)
    return np.sum(M @ M.T)


@case(vec(3, seed=64), vec(3, seed=65), tags=("vstack", "hstack", "nested-joins"))
def nested_joins(x, y):
    M = np.vstack((np.hstack((x, y)), np.hstack((y, x))))
    return np.sum(M * np.arange(12.0).reshape(2, 6))


@case(vec(4, seed=66), tags=("concatenate", "slices", "rotation-by-hand", "array-output"))
def rotate_by_concatenate(x):
    return np.concatenate((x[1:], x[:1]))


@case(vec(4, seed=67), tags=("concatenate", "padding-by-hand"))
def zero_pad_by_concatenate(x):
    z = np.concatenate((np.zeros(1), x, np.zeros(1)))
    return np.sum((z[2:] - 2.0 * z[1:-1] + z[:-2]) ** 2)


@case(mat(2, 2, seed=68), mat(2, 2, seed=69), tags=("stack", "axis2", "3d-result"))
def stack_axis2(A, B):
    T = np.stack((A, B), axis=2)
    return np.sum(T[:, :, 0] @ T[:, :, 1])


@case(vec(3, seed=70), vec(2, seed=71), tags=("concatenate", "list", "three-pieces"))
def concatenate_three_list(x, y):
    return np.sum(np.concatenate([x, y, x[:1]]) ** 2 * np.arange(6.0))


@case(vec(3, seed=72), vec(3, seed=73), tags=("stack", "trailing-reduction", "array-output"))
def stack_then_sum(x, y):
    return np.sum(np.stack((x, y, x * y)), axis=0)


@case(vec(3, seed=74), tags=("column_stack", "gram"))
def column_stack_gram(x):
    M = np.column_stack((x, np.sin(x)))
    return np.linalg.det(M.T @ M)


@case(mat(2, 2, seed=75), vec(3, seed=76), tags=("concatenate", "ravel", "flatten-and-join"))
def concatenate_flattened(A, b):
    z = np.concatenate((A.ravel(), b))
    return np.sum(z**2 * np.arange(7.0))


@case(vec(4, seed=77), tags=("split", "method-on-piece"))
def split_pieces_methods(x):
    a, b = np.split(x, 2)
    return a.sum() * b.prod()
