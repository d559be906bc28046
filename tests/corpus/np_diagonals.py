"""Diagonals, triangles, traces, einsum, tensor products and the matrix products with
scalar, vector and matrix operands — the index-juggling part of NumPy that AD suites check
one subscript pattern at a time."""
import numpy as np

from corpus import case, mat, vec


# ---- diag / diagonal -------------------------------------------------------------------

@case(vec(3), tags=("diag", "vector-to-matrix"))
def diag_from_vector(x):
    D = np.diag(x)
    return np.sum(D @ D @ np.ones(3))


@case(mat(3, seed=1), tags=("diag", "matrix-to-vector"))
def diag_of_matrix(X):
    return np.sum(np.diag(X) ** 2)


@case(vec(3, seed=2), tags=("diag", "offset", "array-output"))
def diag_offset_vector(x):
    return np.diag(x, 1)


@case(mat(4, seed=3), tags=("diag", "offset", "matrix-to-vector"))
def diag_offset_matrix(X):
    return np.sum(np.diag(X, k=-1) * np.arange(1.0, 4.0))


@case(mat(3, 4, seed=4), tags=("diag", "rectangular"))
def diag_rectangular(X):
    return np.prod(np.diag(X) + 2.0)


@case(mat(3, seed=5), tags=("diagonal", "method"))
def diagonal_method(X):
    return np.sum(X.diagonal() ** 3)


@case(mat(3, seed=6), tags=("diagonal", "function", "offset"))
def diagonal_offset(X):
    return np.sum(np.diagonal(X, 1) * np.diagonal(X, -1))


@case(mat(3, seed=7), tags=("diag", "diag-of-diag", "array-output"))
def diag_of_diag(X):
    return np.diag(np.diag(X)) * X


# ---- tril / triu -----------------------------------------------------------------------

@case(mat(3, seed=8), tags=("tril",))
def tril_sum(X):
    return np.sum(np.tril(X) ** 2 * np.arange(9.0).reshape(3, 3))


@case(mat(3, seed=9), tags=("triu", "array-output"))
def triu_matrix(X):
    return np.triu(X) * 2.0


@case(mat(4, seed=10), tags=("tril", "offset"))
def tril_strict(X):
    L = np.tril(X, -1)
    return np.sum(L @ L.T)


@case(mat(3, 4, seed=11), tags=("triu", "offset", "rectangular"))
def triu_offset(X):
    return np.sum(np.triu(X, k=1) ** 2)


@case(mat(3, seed=12), tags=("tril", "triu", "symmetrize"))
def symmetric_from_lower(X):
    L = np.tril(X)
    S = L + np.triu(L.T, 1)
    return np.sum(S @ S)


# ---- trace / eye / identity ------------------------------------------------------------

@case(mat(3, seed=13), tags=("trace",))
def trace_square(X):
    return np.trace(X @ X.T)


@case(mat(4, seed=14), tags=("trace", "offset"))
def trace_offset(X):
    return np.trace(X, offset=1) ** 2 + np.trace(X, -1)


@case(mat(3, seed=15), tags=("trace", "method"))
def trace_method(X):
    return (X @ X).trace()


@case(mat(3, seed=16), tags=("eye", "constant"))
def eye_shifted_det(X):
    return np.linalg.det(X + 3.0 * np.eye(3))


@case(mat(3, seed=17), tags=("identity", "constant"))
def identity_residual(X):
    R = X @ X.T - np.identity(3)
    return np.sum(R * R)


@case(mat(3, 4, seed=18), tags=("eye", "rectangular", "offset"))
def eye_rectangular(X):
    return np.sum(X * np.eye(3, 4, k=1)) ** 2


# ---- einsum ----------------------------------------------------------------------------

@case(mat(3, 4, seed=19), vec(4, seed=20), tags=("einsum", "matvec", "explicit"))
def einsum_matvec_explicit(A, x):
    return np.sum(np.einsum("ij,j->i", A, x) ** 2)


@case(mat(2, 3, seed=21), mat(2, 3, seed=22), tags=("einsum", "full-contraction"))
def einsum_frobenius_inner(A, B):
    return np.einsum("ij,ij->", A, B)


@case(mat(3, seed=23), tags=("einsum", "trace"))
def einsum_trace(A):
    return np.einsum("ii->", A @ A)


@case(mat(2, 3, seed=24), tags=("einsum", "transpose", "array-output"))
def einsum_transpose(A):
    return np.einsum("ij->ji", A)


@case(mat(2, 3, seed=25), mat(3, 2, seed=26), tags=("einsum", "implicit", "matmul"))
def einsum_implicit_matmul(A, B):
    return np.sum(np.einsum("ij,jk", A, B) ** 2)


@case(vec(3, seed=27), vec(4, seed=28), tags=("einsum", "outer", "array-output"))
def einsum_outer(x, y):
    return np.einsum("i,j->ij", x, y)


@case(mat(3, seed=29), tags=("einsum", "diagonal", "implicit"))
def einsum_diagonal(A):
    return np.sum(np.einsum("ii->i", A) ** 3)


@case(vec(3, seed=30), mat(3, seed=31), vec(3, seed=32), tags=("einsum", "bilinear", "three-operands"))
def einsum_bilinear(x, A, y):
    return np.einsum("i,ij,j->", x, A, y)


@case(mat(2, 3, seed=33), tags=("einsum", "row-sums"))
def einsum_row_sums(A):
    return np.sum(np.einsum("ij->i", A) ** 2)


# ---- tensordot / inner / outer / kron / cross ------------------------------------------

@case(mat(2, 3, seed=34), mat(3, 2, seed=35), tags=("tensordot", "axes-int"))
def tensordot_axes1(A, B):
    return np.sum(np.tensordot(A, B, axes=1) ** 2)


@case(mat(2, 3, seed=36), mat(2, 3, seed=37), tags=("tensordot", "axes-full"))
def tensordot_full(A, B):
    return np.sum(np.tensordot(A, B, axes=2)) ** 2


@case(mat(2, 3, seed=38), mat(4, 3, seed=39), tags=("tensordot", "axes-lists", "array-output"))
def tensordot_axes_lists(A, B):
    return np.tensordot(A, B, axes=([1], [1]))


@case(vec(4, seed=40), vec(4, seed=41), tags=("inner", "vectors"))
def inner_vectors(x, y):
    return np.inner(x, y) ** 2


@case(mat(2, 3, seed=42), mat(4, 3, seed=43), tags=("inner", "matrices"))
def inner_matrices(A, B):
    return np.sum(np.inner(A, B) ** 2)


@case(vec(3, seed=44), vec(2, seed=45), tags=("outer", "array-output"))
def outer_product(x, y):
    return np.outer(x, y)


@case(mat(2, seed=46), mat(2, seed=47), tags=("kron",))
def kron_matrices(A, B):
    return np.sum(np.kron(A, B) ** 2 * np.arange(16.0).reshape(4, 4))


@case(vec(2, seed=48), vec(3, seed=49), tags=("kron", "vectors", "array-output"))
def kron_vectors(x, y):
    return np.kron(x, y)


@case(vec(3, seed=50), vec(3, seed=51), tags=("cross",))
def cross_product_norm(x, y):
    c = np.cross(x, y)
    return np.sum(c**2)


@case(vec(3, seed=52), vec(3, seed=53), tags=("cross", "array-output"))
def cross_product(x, y):
    return np.cross(x, y)


@case(vec(3, seed=54), vec(4, seed=55), tags=("add.outer", "ufunc-method"))
def add_outer(x, y):
    return np.sum(np.exp(np.add.outer(x, y)))


@case(vec(3, seed=56), vec(2, seed=57), tags=("multiply.outer", "ufunc-method", "array-output"))
def multiply_outer(x, y):
    return np.multiply.outer(x, y)


@case(vec(3, seed=58), vec(3, seed=59), tags=("subtract.outer", "ufunc-method", "pairwise"))
def subtract_outer_distances(x, y):
    return np.sum(np.subtract.outer(x, y) ** 2)


# ---- dot / matmul with scalar, vector and matrix operands ------------------------------

@case(0.7, vec(3, seed=60), tags=("dot", "scalar-operand"))
def dot_scalar_vector(a, x):
    return np.sum(np.dot(a, x) ** 2)


@case(vec(3, seed=61), mat(3, 2, seed=62), tags=("dot", "vector-matrix"))
def dot_vector_matrix(x, A):
    return np.sum(np.dot(x, A) ** 2)


@case(mat(2, 3, seed=63), vec(3, seed=64), tags=("dot", "matrix-vector", "array-output"))
def dot_matrix_vector(A, x):
    return np.dot(A, x)


@case(mat(2, 3, seed=65), mat(3, 2, seed=66), tags=("dot", "matrix-matrix"))
def dot_matrix_matrix(A, B):
    return np.trace(np.dot(A, B))


@case(mat(2, 3, seed=67), mat(3, 2, seed=68), tags=("matmul", "function"))
def matmul_function(A, B):
    return np.sum(np.matmul(A, B) ** 2)


@case(vec(3, seed=69), mat(3, seed=70), tags=("matmul", "vector-matrix", "array-output"))
def matmul_vector_matrix(x, A):
    return x @ A


@case(mat(3, seed=71), vec(3, seed=72), tags=("matmul", "matrix-vector"))
def matmul_matrix_vector(A, x):
    return np.sum(np.matmul(A, x) * x)


@case(vec(3, seed=73), mat(3, seed=74), tags=("dot", "method"))
def dot_method(x, A):
    return x.dot(A.dot(x))


@case(vec(4, seed=75), vec(4, seed=76), tags=("vdot",), oracle="fd")
def vdot_vectors(x, y):
    return np.vdot(x, y) * np.sum(x)
