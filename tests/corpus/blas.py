"""BLAS levels 1-3 the way reference implementations and Fortran-style ports write them:
explicit loops, results written into an output argument, kernels called as statements,
and the same operations in NumPy form. Each kernel is wrapped by a small driver that
returns a number or an array, as a user differentiating through the kernel would."""
import math

import numpy as np

from corpus import case, mat, spd, vec

# ---- level 1 ------------------------------------------------------------------------------


def axpy_kernel(alpha, x, y):
    for i in range(x.shape[0]):
        y[i] += alpha * x[i]


@case(0.7, vec(4), vec(4, seed=1), tags=("kernel-writes-argument", "call-statement", "augmented-element"))
def axpy_then_norm(alpha, x, y):
    axpy_kernel(alpha, x, y)
    return np.sum(y * y)


@case(0.7, vec(4), vec(4, seed=1), tags=("slice-assign-argument",))
def axpy_slice_update(alpha, x, y):
    y[:] = alpha * x + y
    return y @ y


@case(vec(5), vec(5, seed=1), tags=("loop", "int-init"))
def dot_loop(x, y):
    acc = 0
    for i in range(len(x)):
        acc += x[i] * y[i]
    return acc


@case(vec(5), tags=("nrm2", "scaled-ssq", "abs", "branch-on-element"))
def nrm2_scaled(x):
    scale = 0.0
    ssq = 1.0
    for i in range(len(x)):
        if x[i] != 0.0:
            absxi = abs(x[i])
            if scale < absxi:
                ssq = 1.0 + ssq * (scale / absxi) ** 2
                scale = absxi
            else:
                ssq += (absxi / scale) ** 2
    return scale * math.sqrt(ssq)


@case(vec(5, away=0.1), tags=("asum", "abs"))
def asum(x):
    s = 0.0
    for v in x:
        s += abs(v)
    return s


def scal_kernel(alpha, x):
    for i in range(len(x)):
        x[i] = alpha * x[i]


@case(1.3, vec(4), tags=("kernel-writes-argument", "call-statement"))
def scal_then_sum(alpha, x):
    scal_kernel(alpha, x)
    return np.sum(np.sin(x))


@case(vec(3), vec(3, seed=1), 0.3, tags=("givens", "tuple-return", "parameter-rebinding"))
def plane_rotation(x, y, theta):
    c = math.cos(theta)
    s = math.sin(theta)
    x, y = c * x + s * y, c * y - s * x
    return np.sum(x * y)


def rot_kernel(x, y, c, s):
    for i in range(len(x)):
        temp = c * x[i] + s * y[i]
        y[i] = c * y[i] - s * x[i]
        x[i] = temp


@case(vec(3), vec(3, seed=1), 0.8, 0.6, tags=("kernel-writes-argument", "call-statement", "two-outputs"))
def rot_in_place(x, y, c, s):
    rot_kernel(x, y, c, s)
    return np.sum(x**2 * y)


@case(vec(4), vec(4, seed=1), tags=("swap", "tuple-assign-elements"), expect="refused:unpack-nested-target")
def swap_then_weight(x, y):
    for i in range(len(x)):
        x[i], y[i] = y[i], x[i]
    return np.sum(x * np.arange(1.0, 5.0)) + np.sum(y**2)


# ---- level 2 ------------------------------------------------------------------------------


@case(mat(3, 4), vec(4), vec(3, seed=1), 0.5, 1.5, tags=("gemv", "matmul"))
def gemv_numpy(A, x, y, alpha, beta):
    return alpha * A @ x + beta * y


@case(mat(3, 4), vec(4), tags=("gemv", "loop", "output-array"))
def gemv_loops(A, x):
    m, n = A.shape
    y = np.zeros(m)
    for i in range(m):
        for j in range(n):
            y[i] += A[i, j] * x[j]
    return y


def gemv_kernel(alpha, A, x, beta, y):
    m, n = A.shape
    for i in range(m):
        temp = 0.0
        for j in range(n):
            temp += A[i, j] * x[j]
        y[i] = alpha * temp + beta * y[i]


@case(0.5, mat(3), vec(3), 1.2, vec(3, seed=1), tags=("kernel-writes-argument", "call-statement", "gemv"))
def gemv_in_place(alpha, A, x, beta, y):
    gemv_kernel(alpha, A, x, beta, y)
    return np.sum(y**2)


@case(mat(3, 4), vec(4), tags=("gemv-transposed", "loop", "column-access"))
def gemv_transposed(A, y):
    m, n = A.shape
    x = np.zeros(n)
    for j in range(n):
        x[j] = np.sum(A[:, j] * y[:m])
    return x


def ger_kernel(alpha, x, y, A):
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            A[i, j] += alpha * x[i] * y[j]


@case(0.4, vec(3), vec(4, seed=1), mat(3, 4, seed=2), tags=("ger", "kernel-writes-argument", "call-statement"))
def ger_then_frobenius(alpha, x, y, A):
    ger_kernel(alpha, x, y, A)
    return np.sum(A * A)


@case(0.4, vec(3), vec(4, seed=1), mat(3, 4, seed=2), tags=("ger", "outer", "array-return"))
def ger_numpy(alpha, x, y, A):
    return A + alpha * np.outer(x, y)


@case(mat(4), vec(4), tags=("trmv", "triangular-loop", "output-array"))
def trmv_upper(A, x):
    n = len(x)
    y = np.zeros(n)
    for i in range(n):
        for j in range(i, n):
            y[i] += A[i, j] * x[j]
    return y


@case(mat(4) + 4 * np.eye(4), vec(4, seed=1), tags=("trsv", "forward-substitution", "element-write-output"))
def trsv_lower(L, b):
    n = len(b)
    x = np.zeros(n)
    for i in range(n):
        s = b[i]
        for j in range(i):
            s -= L[i, j] * x[j]
        x[i] = s / L[i, i]
    return x


@case(mat(4) + 4 * np.eye(4), vec(4, seed=1), tags=("trsv", "in-place-argument", "back-substitution"))
def trsv_upper_in_place(U, b):
    n = len(b)
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            b[i] -= U[i, j] * b[j]
        b[i] /= U[i, i]
    return np.sum(b)


@case(spd(3), vec(3), tags=("symv", "symmetric-access"))
def symv_lower_storage(A, x):
    n = len(x)
    y = np.zeros(n)
    for i in range(n):
        for j in range(n):
            a = A[i, j] if i >= j else A[j, i]
            y[i] += a * x[j]
    return np.sum(y * x)


def syr_kernel(alpha, x, A):
    n = len(x)
    for j in range(n):
        for i in range(j, n):
            A[i, j] += alpha * x[i] * x[j]


@case(0.3, vec(3), spd(3), tags=("syr", "kernel-writes-argument", "call-statement"))
def syr_update(alpha, x, A):
    syr_kernel(alpha, x, A)
    return np.sum(A**2)


# ---- level 3 ------------------------------------------------------------------------------


@case(1.0, mat(3, 2), mat(2, 3, seed=1), 0.5, mat(3, seed=2), tags=("gemm", "triple-loop", "in-place-argument"))
def gemm_loops(alpha, A, B, beta, C):
    m, k = A.shape
    n = B.shape[1]
    for i in range(m):
        for j in range(n):
            C[i, j] *= beta
            for p in range(k):
                C[i, j] += alpha * A[i, p] * B[p, j]
    return np.sum(C**2)


def gemm_kernel(alpha, A, B, beta, C):
    C[:] = alpha * A @ B + beta * C


@case(0.7, mat(3), mat(3, seed=1), 1.1, mat(3, seed=2), tags=("gemm", "kernel-writes-argument", "call-statement"))
def gemm_statement(alpha, A, B, beta, C):
    gemm_kernel(alpha, A, B, beta, C)
    return np.sum(C)


@case(0.7, mat(3), mat(3, seed=1), 1.1, mat(3, seed=2), tags=("gemm", "array-return"))
def gemm_numpy(alpha, A, B, beta, C):
    return alpha * (A @ B) + beta * C


@case(mat(3), mat(3, seed=1), tags=("gemm", "output-array", "accumulate-local"))
def matmul_ijk(A, B):
    n = A.shape[0]
    C = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            s = 0.0
            for k in range(n):
                s += A[i, k] * B[k, j]
            C[i, j] = s
    return C


@case(spd(3), mat(3, seed=1), 0.5, tags=("symm", "symmetric-access"))
def symm_left(A, B, alpha):
    n = A.shape[0]
    C = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            for k in range(n):
                a = A[i, k] if k <= i else A[k, i]
                C[i, j] += alpha * a * B[k, j]
    return np.sum(C * B)


@case(mat(3, 2), 0.8, 0.5, spd(3), tags=("syrk", "triangular-loop", "in-place-argument"))
def syrk_lower(A, alpha, beta, C):
    n, k = A.shape
    for i in range(n):
        for j in range(i + 1):
            C[i, j] *= beta
            for p in range(k):
                C[i, j] += alpha * A[i, p] * A[j, p]
    return np.sum(np.tril(C))


@case(mat(3, 2), mat(3, 2, seed=1), spd(3), tags=("syr2k", "transpose"))
def syr2k_numpy(A, B, C):
    C = A @ B.T + B @ A.T + C
    return np.sum(C * C)


@case(mat(3), mat(3, 2, seed=1), tags=("trmm", "triangular-loop", "output-array"))
def trmm_lower(L, B):
    m, n = B.shape
    out = np.zeros((m, n))
    for i in range(m):
        for j in range(n):
            for k in range(i + 1):
                out[i, j] += L[i, k] * B[k, j]
    return out


@case(mat(3) + 3 * np.eye(3), mat(3, 2, seed=1), tags=("trsm", "forward-substitution", "row-slices"))
def trsm_lower(L, B):
    X = B.copy()
    for i in range(L.shape[0]):
        for k in range(i):
            X[i, :] -= L[i, k] * X[k, :]
        X[i, :] = X[i, :] / L[i, i]
    return np.sum(X**2)
