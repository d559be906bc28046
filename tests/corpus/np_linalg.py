"""np.linalg one routine at a time: inverses, determinants, solves, factorizations,
eigen- and singular value decompositions, pseudo-inverses, least squares and norms — at
well-conditioned points, with sign-invariant objectives for the decompositions whose
factors are only defined up to sign."""
import numpy as np

from corpus import case, diag_dominant, mat, spd, vec


def separated_symmetric(n, seed=0):
    """A symmetric matrix with eigenvalues 1.5, 3, 4.5, ...: well separated."""
    q, _ = np.linalg.qr(mat(n, seed=seed))
    return q @ np.diag(1.5 * np.arange(1.0, n + 1)) @ q.T


def separated_singular(m, n, seed=0):
    """An m×n matrix with singular values 3, 2, 1, ...: well separated."""
    u, _ = np.linalg.qr(mat(m, seed=seed))
    v, _ = np.linalg.qr(mat(n, seed=seed + 1))
    s = np.zeros((m, n))
    k = min(m, n)
    s[np.arange(k), np.arange(k)] = np.arange(k + 1.0, 1.0, -1.0)
    return u @ s @ v.T


# ---- inv -------------------------------------------------------------------------------

@case(spd(3), tags=("inv", "sum"))
def inv_sum(A):
    return np.sum(np.linalg.inv(A))


@case(diag_dominant(3, seed=1), tags=("inv", "array-output"))
def inv_matrix(A):
    return np.linalg.inv(A)


@case(diag_dominant(4, seed=2), vec(4, seed=3), tags=("inv", "matvec"))
def inv_times_vector(A, b):
    return np.sum((np.linalg.inv(A) @ b) ** 2)


@case(spd(2, seed=4), tags=("inv", "2x2"))
def inv_2x2_quadratic(A):
    Ai = np.linalg.inv(A)
    return Ai[0, 0] * Ai[1, 1] - Ai[0, 1] ** 2


# ---- det / slogdet ---------------------------------------------------------------------

@case(spd(4, seed=5), tags=("det",))
def det_spd(A):
    return np.linalg.det(A)


@case(diag_dominant(3, seed=6), tags=("det", "nonsymmetric"))
def det_nonsymmetric(A):
    return np.linalg.det(A)


@case(mat(2, seed=7), tags=("det", "2x2", "power"))
def det_2x2_squared(A):
    return np.linalg.det(A) ** 2


@case(spd(3, seed=8), tags=("det", "log"))
def log_det(A):
    return np.log(np.linalg.det(A))


@case(spd(3, seed=9), tags=("slogdet", "index-result"), oracle="fd")
def slogdet_indexed(A):
    return np.linalg.slogdet(A)[1]


@case(diag_dominant(3, seed=10), tags=("slogdet", "tuple-unpack", "exp"), oracle="fd")
def slogdet_product(A):
    sign, logabs = np.linalg.slogdet(A)
    return sign * np.exp(logabs)


@case(spd(4, seed=11), tags=("slogdet", "tuple-unpack"), oracle="fd")
def slogdet_unpacked(A):
    s, ld = np.linalg.slogdet(A)
    return ld * 2.0


# ---- solve -----------------------------------------------------------------------------

@case(diag_dominant(3, seed=12), vec(3, seed=13), tags=("solve", "vector-rhs", "array-output"))
def solve_vector(A, b):
    return np.linalg.solve(A, b)


@case(spd(3, seed=14), mat(3, 2, seed=15), tags=("solve", "matrix-rhs"))
def solve_matrix_rhs(A, B):
    return np.sum(np.linalg.solve(A, B) ** 2)


@case(spd(3, seed=16), vec(3, seed=17), tags=("solve", "quadratic"))
def solve_quadratic(A, b):
    return b @ np.linalg.solve(A, b)


@case(diag_dominant(4, seed=18), tags=("solve", "constant-rhs"))
def solve_constant_rhs(A):
    return np.sum(np.linalg.solve(A, np.ones(4)))


# ---- cholesky --------------------------------------------------------------------------

@case(spd(3, seed=19), tags=("cholesky", "symmetrized"), oracle="fd")
def cholesky_sum(A):
    L = np.linalg.cholesky(0.5 * (A + A.T))
    return np.sum(L * np.arange(9.0).reshape(3, 3))


@case(spd(3, seed=20), tags=("cholesky", "logdet", "symmetrized"), oracle="fd")
def cholesky_logdet(A):
    L = np.linalg.cholesky(0.5 * (A + A.T))
    return 2.0 * np.sum(np.log(np.diag(L)))


@case(spd(3, seed=21), tags=("cholesky", "symmetrized", "array-output"), oracle="fd")
def cholesky_factor(A):
    return np.linalg.cholesky(0.5 * (A + A.T))


# ---- eigh / eigvalsh -------------------------------------------------------------------

@case(separated_symmetric(3), tags=("eigh", "eigenvalues", "tuple-unpack"), oracle="fd")
def eigh_eigenvalues(A):
    w, V = np.linalg.eigh(0.5 * (A + A.T))
    return np.sum(w * np.arange(1.0, 4.0))


@case(separated_symmetric(3, seed=1), tags=("eigh", "eigenvectors", "sign-invariant"), oracle="fd")
def eigh_eigenvector_squares(A):
    w, V = np.linalg.eigh(0.5 * (A + A.T))
    return np.sum(V**2 * np.arange(9.0).reshape(3, 3) ** 2)


@case(separated_symmetric(4, seed=2), tags=("eigh", "largest-eigenvalue", "index"), oracle="fd")
def eigh_largest(A):
    w, V = np.linalg.eigh(0.5 * (A + A.T))
    return w[-1]


@case(separated_symmetric(3, seed=3), tags=("eigh", "projector", "sign-invariant"), oracle="fd")
def eigh_top_projector(A):
    w, V = np.linalg.eigh(0.5 * (A + A.T))
    v = V[:, 2]
    return np.sum(np.outer(v, v) * np.arange(9.0).reshape(3, 3))


@case(separated_symmetric(3, seed=4), tags=("eigvalsh",), oracle="fd")
def eigvalsh_sum_squares(A):
    return np.sum(np.linalg.eigvalsh(0.5 * (A + A.T)) ** 2)


@case(separated_symmetric(4, seed=5), tags=("eigvalsh", "array-output"), oracle="fd")
def eigvalsh_values(A):
    return np.linalg.eigvalsh(0.5 * (A + A.T))


@case(separated_symmetric(3, seed=6), tags=("eigvalsh", "log-det-by-eigenvalues"), oracle="fd")
def eigvalsh_logdet(A):
    return np.sum(np.log(np.linalg.eigvalsh(0.5 * (A + A.T))))


# ---- svd -------------------------------------------------------------------------------

@case(separated_singular(3, 3), tags=("svd", "singular-values-only"), oracle="fd")
def svd_values_only(A):
    s = np.linalg.svd(A, compute_uv=False)
    return np.sum(s * np.arange(1.0, 4.0))


@case(separated_singular(4, 3, seed=2), tags=("svd", "thin", "tuple-unpack"), oracle="fd")
def svd_thin_singular_values(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return np.sum(s**2) + s[0]


@case(separated_singular(3, 3, seed=4), tags=("svd", "sign-invariant", "vectors"), oracle="fd")
def svd_vector_squares(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return np.sum(U**2 * np.arange(9.0).reshape(3, 3)) + np.sum(Vt[0] ** 2 * np.arange(3.0))


@case(separated_singular(3, 4, seed=6), tags=("svd", "rank-one-term", "sign-invariant"), oracle="fd")
def svd_rank_one(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return np.sum(s[0] * np.outer(U[:, 0], Vt[0]) * np.arange(12.0).reshape(3, 4))


@case(separated_singular(3, 2, seed=8), tags=("svd", "singular-values-only", "array-output"), oracle="fd")
def svd_values_array(A):
    return np.linalg.svd(A, compute_uv=False)


# ---- qr --------------------------------------------------------------------------------

@case(mat(4, 3, seed=22), tags=("qr", "tuple-unpack", "R-factor"), oracle="fd")
def qr_r_diagonal(A):
    Q, R = np.linalg.qr(A)
    return np.sum(np.diag(R) ** 2)


@case(mat(3, 3, seed=23), tags=("qr", "Q-factor"), oracle="fd")
def qr_q_weighted(A):
    Q, R = np.linalg.qr(A)
    return np.sum(Q * np.arange(9.0).reshape(3, 3))


@case(mat(4, 2, seed=24), tags=("qr", "projection"), oracle="fd")
def qr_projection(A):
    Q, R = np.linalg.qr(A)
    P = Q @ Q.T
    return np.sum(P * np.arange(16.0).reshape(4, 4))


# ---- pinv / lstsq ----------------------------------------------------------------------

@case(separated_singular(4, 3, seed=10), tags=("pinv", "tall"), oracle="fd")
def pinv_tall(A):
    return np.sum(np.linalg.pinv(A) ** 2)


@case(separated_singular(2, 3, seed=12), tags=("pinv", "wide", "array-output"), oracle="fd")
def pinv_wide(A):
    return np.linalg.pinv(A)


@case(separated_singular(4, 2, seed=14), vec(4, seed=15), tags=("lstsq", "index-result"), oracle="fd")
def lstsq_solution(A, b):
    return np.sum(np.linalg.lstsq(A, b, rcond=None)[0] ** 2)


@case(separated_singular(5, 3, seed=16), vec(5, seed=17), tags=("lstsq", "tuple-unpack", "residual"),
      oracle="fd")
def lstsq_residual_by_hand(A, b):
    x, res, rank, sv = np.linalg.lstsq(A, b, rcond=None)
    r = A @ x - b
    return r @ r


# ---- norms of matrices -----------------------------------------------------------------

@case(separated_singular(3, 3, seed=18), tags=("norm", "spectral", "ord2"), oracle="fd")
def norm_spectral(A):
    return np.linalg.norm(A, 2)


@case(separated_singular(3, 2, seed=20), tags=("norm", "nuclear"), oracle="fd")
def norm_nuclear(A):
    return np.linalg.norm(A, "nuc")


@case(mat(3, 4, seed=25), tags=("norm", "fro", "keyword"))
def norm_fro_keyword(A):
    return np.linalg.norm(A, ord="fro") ** 3


@case(mat(3, 4, seed=26), tags=("norm", "vector-of-matrix", "ravel"))
def norm_of_ravel(A):
    return np.linalg.norm(A.ravel())


# ---- other routines --------------------------------------------------------------------

@case(mat(3, seed=27), tags=("matrix_power",))
def matrix_power_cube(A):
    return np.sum(np.linalg.matrix_power(A, 3))


@case(mat(2, 3, seed=28), mat(3, 3, seed=29), mat(3, 2, seed=30), tags=("multi_dot",))
def multi_dot_chain(A, B, C):
    return np.sum(np.linalg.multi_dot([A, B, C]) ** 2)


@case(spd(3, seed=31), tags=("inv", "det", "adjugate"))
def adjugate_by_inverse(A):
    return np.sum(np.linalg.det(A) * np.linalg.inv(A))


@case(diag_dominant(3, seed=32), tags=("solve", "inv", "consistency"))
def solve_minus_inverse(A):
    b = np.arange(1.0, 4.0)
    return np.sum((np.linalg.solve(A, b) - np.linalg.inv(A) @ b) ** 2) + np.sum(np.linalg.solve(A, b))


@case(spd(3, seed=33), tags=("eig", "spd", "real-eigenvalues"), oracle="fd", expect="refused:call:np.linalg.eigvals")
def eigvals_spd(A):
    return np.sum(np.real(np.linalg.eigvals(A)))
