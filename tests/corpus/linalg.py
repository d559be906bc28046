"""Matrix expressions: @, .T, np.linalg, quadratic forms, log-determinants — the linear
algebra tests of AD libraries, written with NumPy's own operators."""
import numpy as np

from corpus import case, diag_dominant, mat, spd, vec


@case(vec(3), spd(3), tags=("quadratic-form", "matmul"))
def quadratic_form(x, A):
    return x @ A @ x


@case(vec(3), mat(3), tags=("dot", "transpose"))
def quadratic_form_dot(x, A):
    return np.dot(x, np.dot(A.T, x))


@case(spd(3), tags=("det",))
def determinant(A):
    return np.linalg.det(A)


@case(spd(3), tags=("slogdet", "tuple-unpack"))
def log_abs_det(A):
    sign, logdet = np.linalg.slogdet(A)
    return logdet


@case(spd(3), tags=("inv", "trace"))
def trace_of_inverse(A):
    return np.trace(np.linalg.inv(A))


@case(diag_dominant(3), vec(3, seed=1), tags=("solve",))
def solve_norm(A, b):
    x = np.linalg.solve(A, b)
    return np.sum(x**2)


@case(diag_dominant(3), vec(3, seed=1), tags=("inv", "matmul"))
def inverse_times_vector(A, b):
    return np.sum(np.linalg.inv(A) @ b)


@case(mat(4, 3), vec(4, seed=1), tags=("normal-equations", "solve"))
def least_squares_normal(X, y):
    w = np.linalg.solve(X.T @ X, X.T @ y)
    r = y - X @ w
    return r @ r


@case(mat(4, 3), tags=("gram", "fro"))
def gram_frobenius(X):
    G = X.T @ X
    return np.sum(G * G)


@case(vec(3), spd(3), tags=("rayleigh",))
def rayleigh_quotient(x, A):
    return (x @ A @ x) / (x @ x)


@case(vec(3), vec(3, seed=1), spd(3, seed=2), tags=("mahalanobis", "solve"))
def mahalanobis(x, mu, S):
    d = x - mu
    return d @ np.linalg.solve(S, d)


@case(mat(3), tags=("matrix-power-loop",))
def cube_trace(A):
    P = np.eye(3)
    for _ in range(3):
        P = P @ A
    return np.trace(P)


@case(mat(3), tags=("matrix_power",))
def matrix_power_trace(A):
    return np.trace(np.linalg.matrix_power(A, 3))


@case(mat(3, lo=-0.3, hi=0.3), tags=("taylor-series", "matrix-exponential"))
def expm_taylor_trace(A):
    n = A.shape[0]
    term = np.eye(n)
    total = np.eye(n)
    for k in range(1, 10):
        term = term @ A / k
        total = total + term
    return np.sum(total)


@case(mat(3, lo=-0.2, hi=0.2), tags=("neumann-series",))
def neumann_inverse_sum(A):
    n = len(A)
    S = np.eye(n)
    P = np.eye(n)
    for _ in range(6):
        P = P @ A
        S = S + P
    return np.sum(S)


@case(mat(3), mat(3, seed=1), tags=("kron",))
def kron_trace(A, B):
    return np.trace(np.kron(A, B))


@case(mat(3), tags=("diag",))
def diagonal_squares(A):
    return np.sum(np.diag(A) ** 2)


@case(mat(3), mat(3, seed=1), tags=("commutator",))
def commutator_norm(A, B):
    C = A @ B - B @ A
    return np.sum(C**2)


@case(mat(3), mat(3, seed=1), tags=("trace", "transpose"))
def trace_inner(A, B):
    return np.trace(A @ B.T)


@case(mat(4, 3), tags=("pinv",), oracle="fd")
def pseudo_inverse(X):
    return np.sum(np.linalg.pinv(X))


@case(mat(4, 3), vec(4, seed=1), tags=("lstsq",), oracle="fd")
def lstsq_residual(X, y):
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    return np.sum((X @ w - y) ** 2)


@case(mat(3), tags=("triu", "tril"))
def triangular_parts(A):
    return np.sum(np.triu(A) ** 2) - np.sum(np.tril(A, -1))


@case(vec(3), vec(3, seed=1), tags=("outer", "matmul"))
def rank_one_quadratic(u, v):
    M = np.eye(3) + np.outer(u, v)
    return np.sum(M @ M)


@case(spd(3), tags=("eigvalsh",), oracle="fd")
def largest_eigenvalue(A):
    return np.linalg.eigvalsh(A)[-1]


@case(spd(3), tags=("cholesky", "logdet"))
def cholesky_logdet(A):
    L = np.linalg.cholesky(A)
    return 2.0 * np.sum(np.log(np.diag(L)))


@case(vec(3), spd(3), tags=("array-return", "matvec"))
def linear_map(x, A):
    return A @ x + 0.5 * x


@case(mat(3), tags=("array-return", "inv"))
def inverse_matrix(A):
    return np.linalg.inv(A + 3.0 * np.eye(3))


@case(mat(3, 2), mat(2, 3, seed=1), tags=("matmul-nonsquare", "array-return"))
def product_matrix(A, B):
    return A @ B


@case(vec(3), tags=("norm", "normalize"))
def normalized_dot(x):
    u = x / np.linalg.norm(x)
    return u @ np.array([1.0, 2.0, 3.0])


@case(spd(3), vec(3, seed=1), tags=("conjugate-gradient", "while", "tolerance"))
def conjugate_gradient(A, b):
    x = np.zeros_like(b)
    r = b - A @ x
    p = r.copy()
    rs = r @ r
    k = 0
    while k < 3 and rs > 1e-30:
        Ap = A @ p
        alpha = rs / (p @ Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        rs_new = r @ r
        p = r + (rs_new / rs) * p
        rs = rs_new
        k += 1
    return np.sum(x)


@case(mat(3), tags=("dot-method",))
def dot_method(A):
    return A.dot(A).sum()


@case(vec(3), vec(3, seed=1), tags=("projection",))
def projection_residual(x, u):
    proj = (x @ u) / (u @ u) * u
    return np.sum((x - proj) ** 2)


@case(mat(2), tags=("2x2-closed-form", "element-index"))
def det_2x2_by_hand(A):
    return A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0]
