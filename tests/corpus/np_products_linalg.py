"""Products, diagonals, linear algebra and array creation at several sizes: dot/matmul
with scalar, 1-D, 2-D and batched 3-D operands in both orders, inner/outer/kron/cross,
ufunc outer products, tensordot and einsum subscripts one at a time, multi_dot; diag,
trace, triangles and eye as constants; np.linalg routines at 2x2, 3x3, 4x4 and batched
over a leading axis; SciPy's triangular and Cholesky solves; and creation routines with
dtype= whose results are mixed with differentiated values. Decompositions are evaluated
at points with separated eigen/singular values, through objectives that do not depend on
the sign chosen for each vector."""
import numpy as np
import scipy.linalg
from scipy.linalg import cho_factor, cho_solve, solve_triangular

from corpus import case, diag_dominant, mat, spd, tensor, vec


def sym_separated(n, seed=0):
    """Symmetric, eigenvalues 2, 3.5, 5, ... (gaps of 1.5)."""
    q, _ = np.linalg.qr(mat(n, seed=seed + 100))
    return q @ np.diag(2.0 + 1.5 * np.arange(n)) @ q.T


def rect_separated(m, n, seed=0):
    """m×n with singular values 1.5, 2.5, 3.5, ... (distinct, away from zero)."""
    u, _ = np.linalg.qr(mat(m, seed=seed + 200))
    v, _ = np.linalg.qr(mat(n, seed=seed + 300))
    k = min(m, n)
    s = np.zeros((m, n))
    for i in range(k):
        s[i, i] = 1.5 + (k - 1 - i)
    return u @ s @ v.T


def spd_stack(k, n, seed=0):
    return np.stack([spd(n, seed=seed + i) for i in range(k)])


def dd_stack(k, n, seed=0):
    return np.stack([diag_dominant(n, seed=seed + i) for i in range(k)])


def lower_tri(n, seed=0):
    return np.tril(mat(n, seed=seed)) + (n + 1.0) * np.eye(n)


# ---- dot / matmul: scalar, 1-D, 2-D -----------------------------------------------------

@case(1.7, vec(4, seed=1), tags=("dot", "scalar-operand"))
def dot_scalar_vector(a, x):
    return np.sum(np.dot(a, x) ** 2)


@case(mat(3, seed=2), 0.6, tags=("dot", "scalar-operand", "array-output"))
def dot_matrix_scalar(A, c):
    return np.dot(A, c)


@case(vec(5, seed=3), vec(5, seed=4), tags=("dot", "1d-1d"))
def dot_vectors(x, y):
    return np.dot(x, y)


@case(mat(3, 4, seed=5), vec(4, seed=6), tags=("dot", "2d-1d", "array-output"))
def dot_matvec(A, x):
    return np.dot(A, x)


@case(vec(3, seed=7), mat(3, 2, seed=8), tags=("dot", "1d-2d", "array-output"))
def dot_vecmat(x, A):
    return np.dot(x, A)


@case(mat(2, 3, seed=9), mat(3, 4, seed=10), tags=("dot", "2d-2d"))
def dot_matmat(A, B):
    return np.sum(np.dot(A, B) ** 2)


@case(mat(3, seed=11), mat(3, seed=12), tags=("dot", "method", "chain"))
def dot_method_chain(A, B):
    return np.sum(A.dot(B).dot(A))


@case(vec(4, seed=13), mat(4, seed=14), tags=("dot", "method", "quadratic-form"))
def dot_method_quadratic(x, A):
    return x.dot(A.dot(x))


@case(mat(4, 3, seed=15), tags=("matmul", "gram", "transpose"))
def matmul_gram(X):
    G = np.matmul(X.T, X)
    return np.sum(G * np.arange(9.0).reshape(3, 3))


@case(mat(2, seed=16), vec(2, seed=17), tags=("matmul", "2x2", "array-output"))
def matmul_2x2_vec(A, x):
    return np.matmul(A, x)


@case(vec(3, seed=18), mat(3, 4, seed=19), tags=("matmul-operator", "1d-2d"))
def at_vector_matrix(x, A):
    return np.sum(np.tanh(x @ A))


@case(mat(4, seed=20), mat(4, seed=21), vec(4, seed=22), tags=("matmul-operator", "chain", "4x4"))
def at_chain_4x4(A, B, x):
    return x @ A @ B @ x


@case(vec(3, seed=23), vec(3, seed=24), tags=("matmul-operator", "1d-1d"))
def at_vectors_squared(x, y):
    return (x @ y) ** 2 + x @ x


@case(mat(3, 2, seed=25), tags=("matmul-operator", "outer-via-transpose", "array-output"))
def at_self_transpose(X):
    return X @ X.T


@case(mat(3, seed=26), tags=("matmul-operator", "power-by-products"))
def at_matrix_cube(A):
    return np.trace(A @ A @ A)


# ---- batched matmul (3-D) ----------------------------------------------------------------

@case(tensor(2, 3, 4, seed=27), mat(4, 2, seed=28), tags=("matmul", "batched", "3d-2d"))
def batched_times_matrix(T, B):
    return np.sum((T @ B) ** 2)


@case(vec(4, seed=29), tensor(2, 4, 3, seed=30), tags=("matmul", "batched", "1d-3d"))
def vector_times_batched(x, T):
    return np.sum(np.sin(x @ T))


@case(tensor(3, 2, 3, seed=31), tensor(3, 3, 2, seed=32), tags=("matmul", "batched", "3d-3d"))
def batched_times_batched(S, T):
    return np.sum(np.matmul(S, T) * np.arange(12.0).reshape(3, 2, 2))


@case(mat(2, 3, seed=33), tensor(2, 3, 4, seed=34), tags=("matmul", "batched", "2d-3d"))
def matrix_times_batched(A, T):
    return np.sum(np.matmul(A, T) ** 2)


@case(tensor(2, 3, 3, seed=35), vec(3, seed=36), tags=("matmul", "batched", "3d-1d"))
def batched_times_vector(T, x):
    return np.sum((T @ x) ** 3)


@case(vec(12, seed=37), mat(3, 2, seed=38), tags=("matmul", "batched", "reshape-to-3d"))
def reshaped_batch_matmul(v, B):
    T = v.reshape(4, 1, 3)
    return np.sum(np.exp(0.3 * (T @ B)))


@case(vec(8, seed=39), vec(8, seed=40), tags=("matmul", "batched", "reshape-to-3d", "both-3d"))
def reshaped_batches_both(u, v):
    S = u.reshape(2, 2, 2)
    T = v.reshape(2, 2, 2)
    return np.sum(S @ T @ S)


@case(tensor(2, 3, 2, seed=41), tags=("matmul", "batched", "swapaxes", "gram"))
def batched_gram(T):
    G = np.matmul(np.swapaxes(T, 1, 2), T)
    return np.sum(G ** 2)


# ---- inner / outer / vdot / kron / cross ---------------------------------------------------

@case(vec(4, seed=42), vec(4, seed=43), tags=("inner", "1d"))
def inner_vectors(x, y):
    return np.inner(x, y) * np.inner(x, x)


@case(mat(2, 3, seed=44), mat(4, 3, seed=45), tags=("inner", "2d", "array-output"))
def inner_matrices(A, B):
    return np.inner(A, B)


@case(vec(3, seed=46), vec(2, seed=47), tags=("outer", "array-output"))
def outer_plain(x, y):
    return np.outer(x, y)


@case(vec(4, seed=48), tags=("outer", "self", "weighted"))
def outer_self_weighted(x):
    return np.sum(np.outer(x, x) * np.arange(16.0).reshape(4, 4))


@case(vec(3, seed=49), vec(3, seed=50), tags=("vdot",), oracle="fd")
def vdot_vectors(x, y):
    return np.vdot(x, y) ** 2


@case(mat(2, 3, seed=51), mat(2, 3, seed=52), tags=("vdot", "matrices-flattened"), oracle="fd")
def vdot_matrices(A, B):
    return np.vdot(A, B)


@case(vec(2, seed=53), vec(3, seed=54), tags=("kron", "vectors", "array-output"))
def kron_vectors(x, y):
    return np.kron(x, y)


@case(mat(2, seed=55), mat(2, seed=56), tags=("kron", "matrices"))
def kron_matrices(A, B):
    return np.sum(np.kron(A, B) * np.arange(16.0).reshape(4, 4))


@case(mat(2, seed=57), tags=("kron", "with-identity", "constant"))
def kron_identity(A):
    K = np.kron(np.eye(2), A)
    return np.sum(K @ np.arange(1.0, 5.0))


@case(vec(3, seed=58), vec(3, seed=59), tags=("cross", "3-vectors", "array-output"))
def cross_vectors(u, v):
    return np.cross(u, v)


@case(vec(3, seed=60), vec(3, seed=61), vec(3, seed=62), tags=("cross", "triple-product"))
def triple_product(a, b, c):
    return np.dot(a, np.cross(b, c))


@case(mat(4, 3, seed=63), mat(4, 3, seed=64), tags=("cross", "rows"))
def cross_rows(P, Q):
    return np.sum(np.cross(P, Q) ** 2)


@case(mat(3, 3, seed=65), vec(3, seed=66), tags=("cross", "rows-with-vector", "broadcast", "array-output"))
def cross_rows_vector(P, w):
    return np.cross(P, w)


# ---- ufunc.outer ---------------------------------------------------------------------------

@case(vec(3, seed=67), vec(4, seed=68), tags=("ufunc-outer", "add"))
def add_outer(x, y):
    return np.sum(np.exp(np.add.outer(x, y)))


@case(vec(3, seed=69), vec(3, seed=70), tags=("ufunc-outer", "multiply", "array-output"))
def multiply_outer(x, y):
    return np.multiply.outer(x, y)


@case(vec(4, seed=71), tags=("ufunc-outer", "subtract", "pairwise"))
def subtract_outer_pairwise(x):
    D = np.subtract.outer(x, x)
    return np.sum(D ** 2)


@case(mat(3, 2, seed=72), tags=("ufunc-outer", "subtract", "pairwise-distances"))
def pairwise_sq_distances(X):
    D0 = np.subtract.outer(X[:, 0], X[:, 0])
    D1 = np.subtract.outer(X[:, 1], X[:, 1])
    return np.sum(np.exp(-(D0 ** 2 + D1 ** 2)))


# ---- tensordot -----------------------------------------------------------------------------

@case(vec(3, seed=73), vec(2, seed=74), tags=("tensordot", "axes-0", "array-output"))
def tensordot_axes0(x, y):
    return np.tensordot(x, y, axes=0)


@case(mat(3, 4, seed=75), mat(4, 2, seed=76), tags=("tensordot", "axes-1"))
def tensordot_axes1_sum(A, B):
    return np.sum(np.tensordot(A, B, axes=1) ** 2)


@case(mat(3, seed=77), mat(3, seed=78), tags=("tensordot", "axes-2"))
def tensordot_axes2(A, B):
    return np.sum(np.tensordot(A, B, axes=2)) ** 2


@case(tensor(2, 3, 4, seed=79), mat(3, 4, seed=80), tags=("tensordot", "axes-2", "3d"))
def tensordot_3d_axes2(T, B):
    return np.sum(np.tensordot(T, B, axes=2) ** 2)


@case(mat(3, 2, seed=81), mat(3, 4, seed=82), tags=("tensordot", "axes-lists", "array-output"))
def tensordot_lists_first(A, B):
    return np.tensordot(A, B, axes=([0], [0]))


@case(mat(2, 3, seed=83), mat(2, 3, seed=84), tags=("tensordot", "axes-lists", "two-pairs"))
def tensordot_lists_full(A, B):
    return np.sum(np.tensordot(A, B, axes=([0, 1], [0, 1])))


# ---- einsum --------------------------------------------------------------------------------

@case(mat(2, 3, seed=85), mat(3, 2, seed=86), tags=("einsum", "matmul", "array-output"))
def einsum_matmul(A, B):
    return np.einsum("ij,jk->ik", A, B)


@case(mat(3, seed=87), tags=("einsum", "trace"))
def einsum_trace(A):
    return np.einsum("ii->", A) ** 2


@case(mat(2, 3, seed=88), tags=("einsum", "transpose", "array-output"))
def einsum_transpose(A):
    return np.einsum("ij->ji", A) * 2.0


@case(vec(4, seed=89), vec(4, seed=90), tags=("einsum", "dot"))
def einsum_dot(x, y):
    return np.einsum("i,i->", x, y)


@case(mat(3, 4, seed=91), mat(3, 4, seed=92), tags=("einsum", "rowwise-dot", "array-output"))
def einsum_rowwise(A, B):
    return np.einsum("ij,ij->i", A, B)


@case(tensor(2, 2, 3, seed=93), tensor(2, 3, 2, seed=94), tags=("einsum", "batched-matmul"))
def einsum_batched(S, T):
    return np.sum(np.einsum("bij,bjk->bik", S, T) ** 2)


@case(tensor(2, 3, 4, seed=95), tags=("einsum", "reduce-to-last", "array-output"))
def einsum_sum_to_k(T):
    return np.einsum("ijk->k", T)


@case(vec(3, seed=96), mat(3, 4, seed=97), vec(4, seed=98), tags=("einsum", "three-operands", "bilinear"))
def einsum_bilinear(x, A, y):
    return np.einsum("i,ij,j->", x, A, y)


@case(mat(2, 3, seed=99), mat(3, 3, seed=100), mat(3, 2, seed=101), tags=("einsum", "three-operands", "chain"))
def einsum_three_chain(A, B, C):
    return np.sum(np.einsum("ij,jk,kl->il", A, B, C) ** 2)


@case(tensor(2, 2, 3, seed=102), tensor(2, 3, 2, seed=103), tags=("einsum", "ellipsis", "batched-matmul"),
      expect="refused:other: np.einsum with `...` in the subscripts is not supported")
def einsum_ellipsis(S, T):
    return np.sum(np.einsum("...ij,...jk->...ik", S, T))


@case(mat(3, 2, seed=104), mat(2, 3, seed=105), tags=("einsum", "ellipsis", "2d"),
      expect="refused:other: np.einsum with `...` in the subscripts is not supported")
def einsum_ellipsis_2d(A, B):
    return np.sum(np.einsum("...ij,...jk->...ik", A, B) ** 2)


@case(mat(3, 4, seed=106), mat(4, 2, seed=107), tags=("einsum", "implicit", "array-output"))
def einsum_implicit_matmul(A, B):
    return np.einsum("ij,jk", A, B)


@case(mat(4, seed=108), tags=("einsum", "implicit", "trace"))
def einsum_implicit_trace(A):
    return np.einsum("ii", A) + np.einsum("ij,ij", A, A)


@case(vec(3, seed=109), vec(2, seed=110), tags=("einsum", "outer", "array-output"))
def einsum_outer(x, y):
    return np.einsum("i,j->ij", x, y)


@case(mat(3, seed=111), tags=("einsum", "diagonal-extract", "array-output"))
def einsum_diagonal(A):
    return np.einsum("ii->i", A)


# ---- multi_dot -----------------------------------------------------------------------------

@case(mat(2, 3, seed=112), mat(3, 4, seed=113), mat(4, 2, seed=114), tags=("multi_dot", "three-matrices"))
def multi_dot_three(A, B, C):
    return np.sum(np.linalg.multi_dot([A, B, C]))


@case(vec(3, seed=115), mat(3, seed=116), vec(3, seed=117), tags=("multi_dot", "vector-ends"))
def multi_dot_vectors(x, A, y):
    return np.linalg.multi_dot([x, A, A, y])


# ---- diag / diagonal / trace / tril / triu -------------------------------------------------

@case(vec(4, seed=118), tags=("diag", "vector-to-matrix", "quadratic-form"))
def diag_quadratic(d):
    x = np.arange(1.0, 5.0)
    return x @ np.diag(d) @ x


@case(vec(2, seed=119), tags=("diag", "offset-negative", "array-output"))
def diag_below(d):
    return np.diag(d, k=-1)


@case(mat(4, seed=120), tags=("diag", "matrix-to-vector", "offset"))
def diag_superdiagonal(A):
    return np.sum(np.diag(A, 2) ** 2) + np.prod(np.diag(A, -1))


@case(mat(3, 5, seed=121), tags=("diagonal", "rectangular", "offset", "array-output"))
def diagonal_rectangular(A):
    return np.diagonal(A, offset=1) * 3.0


@case(tensor(2, 3, 3, seed=122), tags=("diagonal", "3d", "axes", "array-output"),
      expect="refused:other: np.diagonal is supported with axis1=0, axis2=1 here")
def diagonal_batched(T):
    return np.diagonal(T, axis1=1, axis2=2)


@case(mat(4, seed=123), tags=("trace", "offset"))
def trace_offsets(A):
    return np.trace(A) + 2.0 * np.trace(A, offset=1) - np.trace(A, -2)


@case(mat(3, seed=124), mat(3, seed=125), tags=("trace", "product", "method"))
def trace_of_product(A, B):
    return (A @ B).trace()


@case(mat(4, seed=126), tags=("tril", "k", "array-output"))
def tril_k(A):
    return np.tril(A, k=-1)


@case(mat(4, seed=127), tags=("triu", "k"))
def triu_k(A):
    return np.sum(np.triu(A, 1) ** 2) + np.sum(np.tril(A) * np.triu(A))


@case(mat(3, 4, seed=128), tags=("triu", "rectangular", "array-output"))
def triu_rectangular(A):
    return np.triu(A, -1) * 2.0


@case(mat(3, seed=129), tags=("tril", "symmetrize"))
def tril_symmetrize(A):
    L = np.tril(A)
    S = L + L.T - np.diag(np.diag(A))
    return np.sum(S @ S)


# ---- eye / identity as constants; fill_diagonal ------------------------------------------

@case(mat(3, seed=130), 0.4, tags=("eye", "shift"))
def eye_shift(A, lam):
    return np.sum(np.linalg.inv(A + (lam + 4.0) * np.eye(3)))


@case(mat(4, seed=131), tags=("eye", "k", "array-output"))
def eye_offset(A):
    return A * np.eye(4, k=1) + A * np.eye(4, k=-1)


@case(mat(3, 4, seed=132), tags=("eye", "rectangular", "dtype"), oracle="fd")
def eye_rect(A):
    return np.sum(A * np.eye(3, 4, dtype=float))


@case(mat(3, seed=133), tags=("identity", "residual"))
def identity_residual(A):
    R = A @ A.T - np.identity(3)
    return np.sum(R ** 2)


@case(mat(3, seed=134), 0.8, tags=("fill_diagonal", "local-copy"))
def fill_diagonal_copy(A, c):
    B = A.copy()
    np.fill_diagonal(B, c)
    return np.sum(B ** 2)


@case(mat(4, seed=135), tags=("fill_diagonal", "zeros", "local-copy", "array-output"))
def fill_diagonal_zero(A):
    B = np.array(A)
    np.fill_diagonal(B, 0.0)
    return B @ B


# ---- solve / inv ---------------------------------------------------------------------------

@case(diag_dominant(2, seed=136), vec(2, seed=137), tags=("solve", "2x2", "vector-rhs", "array-output"))
def solve_2x2(A, b):
    return np.linalg.solve(A, b)


@case(diag_dominant(4, seed=138), mat(4, 3, seed=139), tags=("solve", "4x4", "matrix-rhs"))
def solve_4x4_matrix_rhs(A, B):
    X = np.linalg.solve(A, B)
    return np.sum(X * np.arange(12.0).reshape(4, 3))


@case(spd(3, seed=140), vec(3, seed=141), tags=("solve", "3x3", "energy"))
def solve_energy(A, b):
    x = np.linalg.solve(A, b)
    return 0.5 * x @ A @ x - b @ x


@case(spd(2, seed=142), tags=("inv", "2x2", "array-output"))
def inv_2x2(A):
    return np.linalg.inv(A)


@case(diag_dominant(4, seed=143), tags=("inv", "4x4", "trace"))
def inv_trace_4x4(A):
    return np.trace(np.linalg.inv(A))


@case(spd(3, seed=144), vec(3, seed=145), tags=("inv", "mahalanobis"))
def inv_mahalanobis(S, x):
    return x @ np.linalg.inv(S) @ x


# ---- batched solve / inv / det / cholesky --------------------------------------------------

@case(dd_stack(2, 3, seed=146), mat(2, 3, seed=147), tags=("solve", "batched", "3d"))
def solve_batched(A, B):
    X = np.linalg.solve(A, B[:, :, None])
    return np.sum(X ** 2)


@case(spd_stack(3, 2, seed=148), tags=("inv", "batched", "3d"))
def inv_batched(A):
    return np.sum(np.linalg.inv(A))


@case(dd_stack(2, 3, seed=150), tags=("det", "batched", "3d", "array-output"))
def det_batched(A):
    return np.linalg.det(A)


@case(spd_stack(2, 3, seed=152), tags=("cholesky", "batched", "3d"), oracle="fd",
      expect="refused:other: np.linalg.cholesky is supported here for arguments of 2 dimensions: stacks of matrices (batched over leading axes) are not supported yet")
def cholesky_batched(A):
    S = 0.5 * (A + np.swapaxes(A, 1, 2))
    L = np.linalg.cholesky(S)
    return np.sum(L ** 2)


@case(spd(3, seed=154), spd(3, seed=155), tags=("inv", "batched", "stack"))
def inv_of_stack(A, B):
    S = np.stack([A, B])
    return np.sum(np.linalg.inv(S) ** 2)


@case(spd(2, seed=156), spd(2, seed=157), tags=("det", "batched", "stack"))
def det_of_stack(A, B):
    return np.sum(np.linalg.det(np.stack([A, B])))


# ---- det / slogdet -------------------------------------------------------------------------

@case(mat(2, seed=158), tags=("det", "2x2", "closed-form-check"))
def det_2x2_vs_formula(A):
    return np.linalg.det(A) + (A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0])


@case(diag_dominant(4, seed=159), tags=("det", "4x4", "log"))
def det_4x4_log(A):
    return np.log(np.abs(np.linalg.det(A)))


@case(spd(3, seed=160), mat(3, seed=161), tags=("det", "product-rule"))
def det_of_product(A, B):
    return np.linalg.det(A @ (B + 3.0 * np.eye(3)))


@case(spd(2, seed=162), tags=("slogdet", "2x2"), oracle="fd")
def slogdet_2x2(A):
    sign, logdet = np.linalg.slogdet(A)
    return logdet


@case(diag_dominant(4, seed=163), tags=("slogdet", "4x4", "sign-times"), oracle="fd")
def slogdet_signed(A):
    s, l = np.linalg.slogdet(A)
    return s * l


# ---- cholesky / scipy solves ---------------------------------------------------------------

@case(spd(2, seed=164), tags=("cholesky", "2x2", "array-output"), oracle="fd")
def cholesky_2x2(A):
    return np.linalg.cholesky(0.5 * (A + A.T))


@case(spd(4, seed=165), vec(4, seed=166), tags=("cholesky", "whitening", "4x4"), oracle="fd")
def cholesky_whiten(A, x):
    L = np.linalg.cholesky(0.5 * (A + A.T))
    z = np.linalg.solve(L, x)
    return z @ z


@case(lower_tri(3, seed=167), vec(3, seed=168), tags=("solve_triangular", "lower", "array-output"))
def solve_lower(L, b):
    return solve_triangular(L, b, lower=True)


@case(lower_tri(4, seed=169), mat(4, 2, seed=170), tags=("solve_triangular", "upper", "trans"))
def solve_upper_transposed(L, B):
    U = L.T
    X = scipy.linalg.solve_triangular(U, B, trans="T")
    return np.sum(X ** 2)


@case(spd(3, seed=171), vec(3, seed=172), tags=("cho_solve", "cholesky", "lower"), oracle="fd")
def cho_solve_from_cholesky(A, b):
    L = np.linalg.cholesky(0.5 * (A + A.T))
    x = cho_solve((L, True), b)
    return np.sum(x * b)


@case(spd(3, seed=173), vec(3, seed=174), tags=("cho_factor", "cho_solve"), oracle="fd",
      expect="refused:other: 'lower=' must be a constant here")
def cho_factor_solve(A, b):
    c, low = cho_factor(A)
    return np.sum(cho_solve((c, low), b) ** 2)


# ---- eigh / eigvalsh -----------------------------------------------------------------------

@case(sym_separated(2, seed=175), tags=("eigvalsh", "2x2", "array-output"), oracle="fd")
def eigvalsh_2x2(A):
    return np.linalg.eigvalsh(0.5 * (A + A.T))


@case(sym_separated(3, seed=176), tags=("eigh", "sum-squares"), oracle="fd")
def eigh_sum_squares(A):
    w, V = np.linalg.eigh(0.5 * (A + A.T))
    return np.sum(w ** 2)


@case(sym_separated(4, seed=177), tags=("eigh", "reconstruct", "sign-invariant"), oracle="fd")
def eigh_reconstruct(A):
    w, V = np.linalg.eigh(0.5 * (A + A.T))
    B = V @ np.diag(np.sqrt(w)) @ V.T
    return np.sum(B * np.arange(16.0).reshape(4, 4))


@case(sym_separated(3, seed=178), tags=("eigh", "abs-vectors", "sign-invariant"), oracle="fd")
def eigh_abs_vectors(A):
    w, V = np.linalg.eigh(0.5 * (A + A.T))
    return np.sum(np.abs(V) * np.arange(1.0, 10.0).reshape(3, 3))


@case(sym_separated(4, seed=179), tags=("eigvalsh", "smallest", "index"), oracle="fd")
def eigvalsh_smallest(A):
    return np.linalg.eigvalsh(0.5 * (A + A.T))[0] ** 2


# ---- svd / qr / pinv / lstsq ---------------------------------------------------------------

@case(rect_separated(2, 2, seed=180), tags=("svd", "2x2", "compute_uv"), oracle="fd")
def svd_2x2_values(A):
    return np.sum(np.linalg.svd(A, compute_uv=False) ** 3)


@case(rect_separated(4, 3, seed=181), tags=("svd", "thin", "reconstruct", "sign-invariant", "array-output"),
      oracle="fd")
def svd_reconstruct(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return U @ np.diag(s) @ Vt


@case(rect_separated(3, 4, seed=182), tags=("svd", "abs-vectors", "sign-invariant"), oracle="fd")
def svd_abs_u(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return np.sum(np.abs(U) * np.arange(1.0, 10.0).reshape(3, 3)) + s[-1]


@case(rect_separated(3, 3, seed=183), tags=("svd", "nuclear-by-hand"), oracle="fd")
def svd_nuclear_by_hand(A):
    U, s, Vt = np.linalg.svd(A)
    return np.sum(s)


@case(mat(3, seed=184), tags=("qr", "3x3", "R-abs-diagonal"), oracle="fd")
def qr_abs_diag(A):
    Q, R = np.linalg.qr(A)
    return np.sum(np.log(np.abs(np.diag(R))))


@case(mat(4, 2, seed=185), tags=("qr", "tall", "reconstruct", "array-output"), oracle="fd")
def qr_reconstruct(A):
    Q, R = np.linalg.qr(A)
    return Q @ R


@case(rect_separated(3, 3, seed=186), tags=("pinv", "square"), oracle="fd")
def pinv_square(A):
    return np.sum(np.linalg.pinv(A) * np.arange(9.0).reshape(3, 3))


@case(rect_separated(4, 2, seed=187), tags=("pinv", "tall", "projector"), oracle="fd")
def pinv_projector(A):
    P = A @ np.linalg.pinv(A)
    return np.sum(P * np.arange(16.0).reshape(4, 4))


@case(rect_separated(4, 3, seed=188), vec(4, seed=189), tags=("lstsq", "solution", "array-output"), oracle="fd")
def lstsq_x(A, b):
    x, res, rank, sv = np.linalg.lstsq(A, b, rcond=None)
    return x


@case(rect_separated(5, 2, seed=190), mat(5, 2, seed=191), tags=("lstsq", "matrix-rhs"), oracle="fd")
def lstsq_matrix_rhs(A, B):
    return np.sum(np.linalg.lstsq(A, B, rcond=None)[0] ** 2)


# ---- norm ----------------------------------------------------------------------------------

@case(vec(4, seed=192, away=0.1), tags=("norm", "vector", "default"), oracle="fd")
def norm_vector(x):
    return np.linalg.norm(x)


@case(vec(4, seed=193, away=0.1), tags=("norm", "vector", "ord-1"), oracle="fd")
def norm_vector_l1(x):
    return np.linalg.norm(x, 1) ** 2


@case(vec(3, seed=194, away=0.1), tags=("norm", "vector", "ord-inf"), oracle="fd")
def norm_vector_inf(x):
    return np.linalg.norm(x, ord=np.inf) ** 2


@case(vec(3, seed=195, away=0.1), tags=("norm", "vector", "ord-3"), oracle="fd")
def norm_vector_p3(x):
    return np.linalg.norm(x, ord=3)


@case(mat(3, 2, seed=196), tags=("norm", "matrix", "frobenius-default"), oracle="fd")
def norm_matrix_default(A):
    return np.linalg.norm(A)


@case(mat(3, seed=197, away=0.1), tags=("norm", "matrix", "ord-1"), oracle="fd")
def norm_matrix_ord1(A):
    return np.exp(np.linalg.norm(A, 1))


@case(mat(3, seed=198, away=0.1), tags=("norm", "matrix", "ord-inf"), oracle="fd")
def norm_matrix_inf(A):
    return np.linalg.norm(A, np.inf) ** 3


@case(mat(4, 3, seed=199, away=0.1), tags=("norm", "axis", "rows", "array-output"), oracle="fd")
def norm_rows(X):
    return np.linalg.norm(X, axis=1)


@case(rect_separated(3, 2, seed=200), tags=("norm", "matrix", "ord-2"), oracle="fd")
def norm_matrix_spectral(A):
    return np.linalg.norm(A, ord=2)


# ---- matrix_power --------------------------------------------------------------------------

@case(mat(2, seed=201), tags=("matrix_power", "2x2", "square", "array-output"))
def matrix_power_square(A):
    return np.linalg.matrix_power(A, 2)


@case(mat(4, seed=202), tags=("matrix_power", "4x4", "fourth"))
def matrix_power_fourth(A):
    return np.trace(np.linalg.matrix_power(0.5 * A, 4))


@case(mat(3, seed=203), tags=("matrix_power", "zero", "identity"))
def matrix_power_zero(A):
    return np.sum(np.linalg.matrix_power(A, 0) * A)


@case(diag_dominant(3, seed=204), tags=("matrix_power", "negative"))
def matrix_power_inverse(A):
    return np.sum(np.linalg.matrix_power(A, -2))


# ---- creation ------------------------------------------------------------------------------

@case(vec(3, seed=205), tags=("zeros", "dtype", "fill-rows"))
def zeros_dtype_fill(x):
    M = np.zeros((2, 3), dtype=np.float64)
    M[0] = x
    M[1] = x ** 2
    return np.sum(M @ M.T)


@case(vec(4, seed=206), tags=("ones", "dtype", "dot"), oracle="fd")
def ones_dtype_dot(x):
    return np.dot(np.ones(4, dtype=float), x ** 3)


@case(vec(3, seed=207), tags=("full", "dtype", "array-output"))
def full_dtype(x):
    return np.full(3, 2.5, dtype=np.float64) * x + np.full((3,), 1.0)


@case(vec(3, seed=208), tags=("empty", "dtype", "assign-all"), oracle="fd")
def empty_filled(x):
    out = np.empty(3, dtype=float)
    for i in range(3):
        out[i] = x[i] * x[(i + 1) % 3]
    return np.sum(out)


@case(mat(3, seed=209), tags=("eye", "dtype", "int-to-float"), oracle="fd")
def eye_int_dtype(A):
    I = np.eye(3, dtype=int)
    return np.sum(A * I.astype(float))


@case(vec(5, seed=210), tags=("arange", "dtype", "weights"))
def arange_weights(x):
    w = np.arange(5, dtype=np.float64)
    return np.sum(w * x ** 2)


@case(vec(4, seed=211), tags=("arange", "int", "astype"), oracle="fd")
def arange_int_astype(x):
    k = np.arange(4)
    return np.sum(x ** 2 * k.astype(float))


@case(vec(5, seed=212), tags=("linspace", "dtype", "array-output"), oracle="fd")
def linspace_scaled(x):
    t = np.linspace(0.0, 1.0, 5, dtype=float)
    return x * t + np.linspace(-1.0, 1.0, num=5)


@case(mat(2, 3, seed=213), tags=("zeros_like", "ones_like", "full_like"))
def like_constructors(A):
    Z = np.zeros_like(A)
    O = np.ones_like(A)
    F = np.full_like(A, 3.0)
    return np.sum((A + O) ** 2 + Z * A + F * A)


@case(vec(4, seed=214), tags=("empty_like", "assign"))
def empty_like_filled(x):
    y = np.empty_like(x)
    y[:] = np.exp(x)
    return np.sum(y * x)


@case(0.6, 1.3, tags=("np-array", "scalars", "matrix", "det"))
def array_of_scalars_det(a, b):
    M = np.array([[a, b], [b * b, 2.0 + a]])
    return np.linalg.det(M)


@case(0.4, -0.7, 1.1, tags=("np-array", "scalars", "vector", "array-output"))
def array_of_scalars_vector(a, b, c):
    v = np.array([a * b, b * c, c * a])
    return v


@case(0.3, tags=("np-array", "rotation", "matvec"))
def rotation_matrix(theta):
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    p = np.array([1.0, 2.0])
    return np.sum((R @ p) ** 2 * np.array([1.0, 3.0]))


@case(0.5, tags=("np-array", "rotation", "3x3", "array-output"))
def rotation_z_power(theta):
    c = np.cos(theta)
    s = np.sin(theta)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return np.linalg.matrix_power(R, 3) @ np.array([1.0, 0.5, 2.0])


@case(vec(3, seed=215), tags=("asarray", "list"))
def asarray_of_list(x):
    y = np.asarray([x[0], x[1] * x[2], 1.0])
    return np.sum(y ** 2)


@case(mat(2, 3, seed=216), tags=("asarray", "identity-on-array", "astype"), oracle="fd")
def asarray_astype(A):
    B = np.asarray(A).astype(float)
    return np.sum(B @ B.T)


@case(vec(3, seed=217), tags=("zeros", "tuple-shape", "outer-product-by-loop"))
def zeros_outer_by_loop(x):
    M = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            M[i, j] = x[i] * x[j]
    return np.trace(M @ M)


@case(vec(4, seed=218), tags=("identity", "dtype", "matvec", "array-output"))
def identity_dtype_matvec(x):
    return (2.0 * np.identity(4, dtype=np.float64) - 0.5) @ x
