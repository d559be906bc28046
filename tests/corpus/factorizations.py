"""Factorizations and solvers written out by hand, as numerical-methods courses and
benchmark kernels do: LU in place, Cholesky, triangular solves, Levinson-Durbin,
Gram-Schmidt, Householder QR, Gauss-Jordan, Thomas, power iteration, covariance."""
import math

import numpy as np

from corpus import case, diag_dominant, mat, spd, vec


@case(diag_dominant(4), tags=("lu", "in-place", "doolittle"))
def lu_in_place_logdet(A):
    A = A.copy()
    n = A.shape[0]
    for k in range(n):
        for i in range(k + 1, n):
            A[i, k] = A[i, k] / A[k, k]
            for j in range(k + 1, n):
                A[i, j] -= A[i, k] * A[k, j]
    s = 0.0
    for i in range(n):
        s += math.log(abs(A[i, i]))
    return s


@case(diag_dominant(3), tags=("lu", "separate-factors", "output-arrays"), expect="refused:written-array-not-new")
def lu_doolittle_factors(A):
    n = len(A)
    L = np.eye(n)
    U = np.zeros((n, n))
    for i in range(n):
        for k in range(i, n):
            s = 0.0
            for j in range(i):
                s += L[i, j] * U[j, k]
            U[i, k] = A[i, k] - s
        for k in range(i + 1, n):
            s = 0.0
            for j in range(i):
                s += L[k, j] * U[j, i]
            L[k, i] = (A[k, i] - s) / U[i, i]
    return np.sum(L * L) + np.sum(U * U)


@case(diag_dominant(3), tags=("lu", "tuple-of-arrays-return"), expect="refused:written-array-not-new")
def lu_returns_pair(A):
    n = A.shape[0]
    L = np.eye(n)
    U = A.copy()
    for k in range(n - 1):
        for i in range(k + 1, n):
            L[i, k] = U[i, k] / U[k, k]
            U[i, k:] = U[i, k:] - L[i, k] * U[k, k:]
    return L, U


@case(spd(4), tags=("cholesky", "loops", "sqrt"))
def cholesky_banachiewicz(A):
    n = A.shape[0]
    L = np.zeros_like(A)
    for i in range(n):
        for j in range(i + 1):
            s = 0.0
            for k in range(j):
                s += L[i, k] * L[j, k]
            if i == j:
                L[i, j] = math.sqrt(A[i, i] - s)
            else:
                L[i, j] = (A[i, j] - s) / L[j, j]
    return np.sum(L)


@case(spd(3), tags=("cholesky", "in-place", "polybench-style"))
def cholesky_in_place(A):
    A = A.copy()
    n = A.shape[0]
    for i in range(n):
        for j in range(i):
            for k in range(j):
                A[i, j] -= A[i, k] * A[j, k]
            A[i, j] /= A[j, j]
        for k in range(i):
            A[i, i] -= A[i, k] * A[i, k]
        A[i, i] = math.sqrt(A[i, i])
    return np.sum(np.tril(A) ** 3)


@case(spd(3), vec(3, seed=1), tags=("cholesky", "solve", "two-triangular-solves"))
def cholesky_solve(A, b):
    n = len(b)
    L = np.zeros((n, n))
    for j in range(n):
        d = A[j, j] - np.dot(L[j, :j], L[j, :j])
        L[j, j] = np.sqrt(d)
        for i in range(j + 1, n):
            L[i, j] = (A[i, j] - np.dot(L[i, :j], L[j, :j])) / L[j, j]
    y = np.zeros(n)
    for i in range(n):
        y[i] = (b[i] - np.dot(L[i, :i], y[:i])) / L[i, i]
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        x[i] = (y[i] - np.dot(L[i + 1:, i], x[i + 1:])) / L[i, i]
    return np.sum(x)


@case(mat(4) + 4 * np.eye(4), vec(4, seed=1), tags=("trisolv", "polybench-style", "output-array"))
def trisolv(L, b):
    n = len(b)
    x = np.zeros(n)
    for i in range(n):
        x[i] = b[i]
        for j in range(i):
            x[i] -= L[i, j] * x[j]
        x[i] = x[i] / L[i, i]
    return x


@case(vec(4, lo=-0.4, hi=0.4), tags=("durbin", "levinson", "temporary-copy"))
def durbin(r):
    n = len(r)
    y = np.zeros(n)
    z = np.zeros(n)
    y[0] = -r[0]
    beta = 1.0
    alpha = -r[0]
    for k in range(1, n):
        beta = (1 - alpha * alpha) * beta
        s = 0.0
        for i in range(k):
            s += r[k - i - 1] * y[i]
        alpha = -(r[k] + s) / beta
        for i in range(k):
            z[i] = y[i] + alpha * y[k - i - 1]
        for i in range(k):
            y[i] = z[i]
        y[k] = alpha
    return y


@case(mat(4, 3), tags=("gram-schmidt", "modified", "column-writes"))
def modified_gram_schmidt(A):
    m, n = A.shape
    Q = A.copy()
    R = np.zeros((n, n))
    for k in range(n):
        R[k, k] = np.sqrt(np.sum(Q[:, k] ** 2))
        Q[:, k] = Q[:, k] / R[k, k]
        for j in range(k + 1, n):
            R[k, j] = np.dot(Q[:, k], Q[:, j])
            Q[:, j] = Q[:, j] - R[k, j] * Q[:, k]
    return np.sum(R) + np.sum(Q[:, 0] * Q[:, 1])


@case(mat(4, 3), tags=("gram-schmidt", "classical", "loop-over-columns"))
def classical_gram_schmidt_diag(A):
    n = A.shape[1]
    Q = np.zeros_like(A)
    total = 0.0
    for j in range(n):
        v = A[:, j].copy()
        for i in range(j):
            v = v - np.dot(Q[:, i], A[:, j]) * Q[:, i]
        norm = np.linalg.norm(v)
        Q[:, j] = v / norm
        total += math.log(norm)
    return total


@case(mat(3), tags=("householder", "qr", "outer", "sign"))
def householder_r_diagonal(A):
    R = A.copy()
    m = R.shape[0]
    for k in range(m - 1):
        x = R[k:, k]
        e = np.zeros_like(x)
        e[0] = 1.0
        alpha = -np.sign(x[0]) * np.linalg.norm(x)
        v = x - alpha * e
        v = v / np.linalg.norm(v)
        R[k:, :] = R[k:, :] - 2.0 * np.outer(v, v @ R[k:, :])
    return np.sum(np.log(np.abs(np.diag(R))))


@case(diag_dominant(3), tags=("gauss-jordan", "inverse", "row-operations"))
def gauss_jordan_inverse(A):
    n = A.shape[0]
    M = np.hstack((A, np.eye(n)))
    for i in range(n):
        M[i] = M[i] / M[i, i]
        for j in range(n):
            if j != i:
                M[j] = M[j] - M[j, i] * M[i]
    return np.sum(M[:, n:])


@case(diag_dominant(3), vec(3, seed=1), tags=("gaussian-elimination", "augmented-rows", "back-substitution"))
def gaussian_elimination(A, b):
    n = len(b)
    A = A.copy()
    b = b.copy()
    for k in range(n - 1):
        for i in range(k + 1, n):
            factor = A[i, k] / A[k, k]
            A[i, k:] -= factor * A[k, k:]
            b[i] -= factor * b[k]
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        x[i] = (b[i] - A[i, i + 1:] @ x[i + 1:]) / A[i, i]
    return np.sum(x**2)


@case(vec(4, seed=1), vec(5, 2.5, 3.5), vec(4, seed=2), vec(5, seed=3), tags=("thomas", "tridiagonal", "copies"))
def thomas_solve(a, b, c, d):
    n = len(d)
    cp = np.zeros(n - 1)
    dp = np.zeros(n)
    cp[0] = c[0] / b[0]
    dp[0] = d[0] / b[0]
    for i in range(1, n):
        denom = b[i] - a[i - 1] * cp[i - 1]
        if i < n - 1:
            cp[i] = c[i] / denom
        dp[i] = (d[i] - a[i - 1] * dp[i - 1]) / denom
    x = np.zeros(n)
    x[-1] = dp[-1]
    for i in range(n - 2, -1, -1):
        x[i] = dp[i] - cp[i] * x[i + 1]
    return x


@case(spd(3), 30, tags=("power-iteration", "normalize", "rayleigh"))
def power_iteration(A, iters):
    v = np.ones(A.shape[0])
    for _ in range(iters):
        w = A @ v
        v = w / np.linalg.norm(w)
    return v @ A @ v


@case(mat(5, 3), tags=("covariance", "polybench-style", "mean-subtract"))
def covariance_matrix(data):
    n, m = data.shape
    mean = np.zeros(m)
    for j in range(m):
        for i in range(n):
            mean[j] += data[i, j]
        mean[j] /= n
    cov = np.zeros((m, m))
    for i in range(m):
        for j in range(i, m):
            for k in range(n):
                cov[i, j] += (data[k, i] - mean[i]) * (data[k, j] - mean[j])
            cov[i, j] /= n - 1.0
            cov[j, i] = cov[i, j]
    return cov


@case(mat(5, 3), tags=("correlation", "vectorized", "keepdims"))
def correlation_vectorized(X):
    Xc = X - X.mean(axis=0)
    std = np.sqrt((Xc**2).sum(axis=0) / X.shape[0])
    Z = Xc / std
    C = Z.T @ Z / X.shape[0]
    return np.sum(C**2)


@case(mat(5, 3), tags=("covariance", "np.cov"), oracle="fd",
      expect="refused:other: s2sdiff has no derivative for np.cov(X, rowvar=False), which depends on a differentiated value")
def numpy_covariance(X):
    return np.sum(np.cov(X, rowvar=False))


@case(mat(3), tags=("lu", "determinant", "product-of-pivots"))
def determinant_by_elimination(A):
    M = A + 3.0 * np.eye(3)
    n = 3
    det = 1.0
    for k in range(n):
        det *= M[k, k]
        for i in range(k + 1, n):
            f = M[i, k] / M[k, k]
            for j in range(k, n):
                M[i, j] = M[i, j] - f * M[k, j]
    return det


@case(spd(3), tags=("jacobi-eigenvalue", "rotations", "atan"), expect="refused:written-array-not-new", oracle="fd")
def jacobi_eigen_sum_squares(A):
    A = A.copy()
    n = A.shape[0]
    for _ in range(5):
        for p in range(n - 1):
            for q in range(p + 1, n):
                if abs(A[p, q]) > 1e-12:
                    theta = 0.5 * math.atan2(2 * A[p, q], A[q, q] - A[p, p])
                    c = math.cos(theta)
                    s = math.sin(theta)
                    J = np.eye(n)
                    J[p, p] = c
                    J[q, q] = c
                    J[p, q] = s
                    J[q, p] = -s
                    A = J.T @ A @ J
    return np.sum(np.diag(A) ** 3)


@case(mat(4, 2), vec(4, seed=1), tags=("qr-least-squares", "np.linalg.qr"), oracle="fd")
def qr_least_squares(X, y):
    Q, R = np.linalg.qr(X)
    w = np.linalg.solve(R, Q.T @ y)
    return np.sum(w**2)


@case(spd(3), tags=("inverse-iteration", "solve-in-loop"))
def inverse_iteration(A):
    v = np.array([1.0, 0.5, 0.25])
    for _ in range(20):
        v = np.linalg.solve(A, v)
        v = v / np.sqrt(v @ v)
    return v @ A @ v


@case(diag_dominant(4), tags=("ludcmp", "polybench-style", "forward-back"))
def ludcmp_solve(A):
    n = A.shape[0]
    b = np.arange(1.0, n + 1.0)
    A = A.copy()
    for i in range(n):
        for j in range(i):
            w = A[i, j]
            for k in range(j):
                w -= A[i, k] * A[k, j]
            A[i, j] = w / A[j, j]
        for j in range(i, n):
            w = A[i, j]
            for k in range(i):
                w -= A[i, k] * A[k, j]
            A[i, j] = w
    y = np.zeros(n)
    for i in range(n):
        w = b[i]
        for j in range(i):
            w -= A[i, j] * y[j]
        y[i] = w
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        w = y[i]
        for j in range(i + 1, n):
            w -= A[i, j] * x[j]
        x[i] = w / A[i, i]
    return np.sum(x)
