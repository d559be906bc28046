"""Stencil kernels as benchmark suites and textbooks write them: Jacobi sweeps between two
arrays, Gauss-Seidel updates in place, explicit heat and wave steps, periodic neighbours
with `%`, slice-based Laplacians, FDTD, and small image filters."""
import numpy as np

from corpus import case, mat, positive, vec


@case(vec(6), 3, tags=("jacobi-1d", "two-arrays", "element-write"))
def jacobi_1d(a, steps):
    n = len(a)
    a = a.copy()
    b = np.zeros(n)
    for _ in range(steps):
        for i in range(1, n - 1):
            b[i] = 0.33333 * (a[i - 1] + a[i] + a[i + 1])
        for i in range(1, n - 1):
            a[i] = 0.33333 * (b[i - 1] + b[i] + b[i + 1])
    return np.sum(a**2)


@case(vec(6), 2, tags=("jacobi-1d", "in-place-argument", "kernel-style"))
def jacobi_1d_in_place(A, steps):
    n = A.shape[0]
    B = np.zeros_like(A)
    for _ in range(steps):
        for i in range(1, n - 1):
            B[i] = (A[i - 1] + A[i] + A[i + 1]) / 3.0
        for i in range(1, n - 1):
            A[i] = (B[i - 1] + B[i] + B[i + 1]) / 3.0
    return np.sum(A * A)


@case(mat(4), 2, tags=("jacobi-2d", "slices-2d", "array-rebinding"), expect="refused:second-name-for-written-array")
def jacobi_2d_slices(A, steps):
    A = A.copy()
    for _ in range(steps):
        B = A.copy()
        B[1:-1, 1:-1] = 0.2 * (A[1:-1, 1:-1] + A[:-2, 1:-1] + A[2:, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:])
        A = B
    return np.sum(A**2)


@case(mat(4), 2, tags=("jacobi-2d", "nested-loop", "element-write"))
def jacobi_2d_loops(A, steps):
    n = A.shape[0]
    A = A.copy()
    B = A.copy()
    for _ in range(steps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                B[i, j] = 0.2 * (A[i, j] + A[i, j - 1] + A[i, j + 1] + A[i + 1, j] + A[i - 1, j])
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = 0.2 * (B[i, j] + B[i, j - 1] + B[i, j + 1] + B[i + 1, j] + B[i - 1, j])
    return np.sum(A * A)


@case(mat(4), 1, tags=("seidel-2d", "in-place", "nine-point"))
def seidel_2d(A, steps):
    n = A.shape[0]
    A = A.copy()
    for _ in range(steps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = (A[i - 1, j - 1] + A[i - 1, j] + A[i - 1, j + 1]
                           + A[i, j - 1] + A[i, j] + A[i, j + 1]
                           + A[i + 1, j - 1] + A[i + 1, j] + A[i + 1, j + 1]) / 9.0
    return np.sum(A**2)


@case(vec(6), 0.2, 4, tags=("heat-1d", "periodic-modulo"), expect="refused:second-name-for-written-array")
def heat_periodic_modulo(u, r, steps):
    n = len(u)
    for _ in range(steps):
        new = np.zeros(n)
        for i in range(n):
            new[i] = u[i] + r * (u[(i + 1) % n] - 2 * u[i] + u[(i - 1) % n])
        u = new
    return np.sum(u**2)


@case(vec(6), 0.2, 4, tags=("heat-1d", "roll"))
def heat_periodic_roll(u, r, steps):
    for _ in range(steps):
        u = u + r * (np.roll(u, 1) - 2 * u + np.roll(u, -1))
    return np.sum(u**2)


@case(vec(6), 0.25, 3, tags=("heat-1d", "slices", "boundary-fixed"))
def heat_explicit_slices(u, r, steps):
    u = u.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2])
    return np.sum(u**2)


@case(vec(6), 0.3, 3, tags=("advection", "upwind", "x-squared-vs-x-times-x"),
      expect="refused:second-name-for-written-array")
def upwind_advection(u, c, steps):
    n = len(u)
    for _ in range(steps):
        v = u.copy()
        for i in range(1, n):
            v[i] = u[i] - c * (u[i] - u[i - 1])
        u = v
    return np.sum(u * u)


@case(vec(6, lo=0.2, hi=1.0), 0.1, 2, tags=("burgers", "nonlinear-flux", "power"),
      expect="refused:second-name-for-written-array")
def burgers_step(u, dt, steps):
    n = len(u)
    for _ in range(steps):
        f = 0.5 * u**2
        un = u.copy()
        for i in range(1, n):
            un[i] = u[i] - dt * (f[i] - f[i - 1])
        u = un
    return np.sum(u)


@case(vec(6), vec(6, seed=1), 0.3, 3, tags=("wave", "leapfrog", "three-levels"),
      expect="refused:second-name-for-written-array")
def wave_leapfrog(u0, u1, c2, steps):
    prev = u0.copy()
    cur = u1.copy()
    n = len(cur)
    for _ in range(steps):
        nxt = np.zeros(n)
        for i in range(1, n - 1):
            nxt[i] = 2 * cur[i] - prev[i] + c2 * (cur[i + 1] - 2 * cur[i] + cur[i - 1])
        prev = cur
        cur = nxt
    return np.sum(cur**2)


@case(vec(6), tags=("convolution", "kernel-weights", "output-array"))
def convolve_three_point(x):
    w = np.array([0.25, 0.5, 0.25])
    n = len(x)
    y = np.zeros(n - 2)
    for i in range(n - 2):
        for k in range(3):
            y[i] += w[k] * x[i + k]
    return y


@case(vec(6), tags=("convolve",), expect="refused:list")
def numpy_convolve(x):
    return np.sum(np.convolve(x, np.array([1.0, -2.0, 1.0]), mode="valid") ** 2)


@case(mat(4), tags=("laplacian-2d", "slices-2d"))
def laplacian_energy(u):
    lap = u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * u[1:-1, 1:-1]
    return np.sum(lap**2)


@case(mat(4), tags=("total-variation", "sqrt", "slices-2d"))
def total_variation(img):
    dx = img[1:, :-1] - img[:-1, :-1]
    dy = img[:-1, 1:] - img[:-1, :-1]
    return np.sum(np.sqrt(dx**2 + dy**2 + 1e-6))


@case(mat(4), tags=("blur", "nested-loop", "element-write"))
def box_blur(img):
    m, n = img.shape
    out = np.zeros((m - 2, n - 2))
    for i in range(1, m - 1):
        for j in range(1, n - 1):
            s = 0.0
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    s += img[i + di, j + dj]
            out[i - 1, j - 1] = s / 9.0
    return np.sum(out**2)


@case(mat(4), mat(4, seed=1), mat(4, seed=2), 2, tags=("fdtd-2d", "three-fields", "row-write"))
def fdtd_2d(ex, ey, hz, steps):
    ex = ex.copy()
    ey = ey.copy()
    hz = hz.copy()
    nx, ny = hz.shape
    for t in range(steps):
        for j in range(ny):
            ey[0, j] = 0.1 * t
        for i in range(1, nx):
            for j in range(ny):
                ey[i, j] = ey[i, j] - 0.5 * (hz[i, j] - hz[i - 1, j])
        for i in range(nx):
            for j in range(1, ny):
                ex[i, j] = ex[i, j] - 0.5 * (hz[i, j] - hz[i, j - 1])
        for i in range(nx - 1):
            for j in range(ny - 1):
                hz[i, j] = hz[i, j] - 0.7 * (ex[i, j + 1] - ex[i, j] + ey[i + 1, j] - ey[i, j])
    return np.sum(hz**2) + np.sum(ex * ey)


@case(np.ones((3, 3, 3)) + 0.1 * np.arange(27.0).reshape(3, 3, 3) / 27, 1, tags=("heat-3d", "3d-array"))
def heat_3d(A, steps):
    B = A.copy()
    n = A.shape[0]
    for _ in range(steps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    B[i, j, k] = A[i, j, k] + 0.125 * (A[i + 1, j, k] - 2.0 * A[i, j, k] + A[i - 1, j, k]) \
                        + 0.125 * (A[i, j + 1, k] - 2.0 * A[i, j, k] + A[i, j - 1, k]) \
                        + 0.125 * (A[i, j, k + 1] - 2.0 * A[i, j, k] + A[i, j, k - 1])
        A = B.copy()
    return np.sum(A**2)


def smooth_in_place(u, w):
    n = len(u)
    for i in range(1, n - 1):
        u[i] = (1 - w) * u[i] + 0.5 * w * (u[i - 1] + u[i + 1])


@case(vec(6), 0.6, tags=("gauss-seidel-1d", "kernel-writes-argument", "call-statement"))
def smoothed_energy(u, w):
    v = u.copy()
    smooth_in_place(v, w)
    smooth_in_place(v, w)
    return np.sum(v**2)


@case(vec(6), tags=("periodic-modulo", "x-squared"))
def periodic_differences_squared(x):
    n = len(x)
    s = 0.0
    for i in range(n):
        s += (x[(i + 1) % n] - x[i]) ** 2
    return s


@case(vec(6), tags=("periodic-modulo", "x-times-x"))
def periodic_differences_product(x):
    n = len(x)
    s = 0.0
    for i in range(n):
        d = x[(i + 1) % n] - x[i]
        s += d * d
    return s


@case(positive(6), 0.05, 3, tags=("reaction-diffusion", "slices", "array-rebinding"))
def reaction_diffusion(u, dt, steps):
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2 * u[1:-1] + u[:-2]
        u = u + dt * (lap + u * (1 - u))
    return np.sum(u)


@case(mat(4), tags=("sobel", "element-reads", "sqrt"))
def sobel_magnitude(img):
    total = 0.0
    for i in range(1, 3):
        for j in range(1, 3):
            gx = (img[i - 1, j + 1] + 2 * img[i, j + 1] + img[i + 1, j + 1]
                  - img[i - 1, j - 1] - 2 * img[i, j - 1] - img[i + 1, j - 1])
            gy = (img[i + 1, j - 1] + 2 * img[i + 1, j] + img[i + 1, j + 1]
                  - img[i - 1, j - 1] - 2 * img[i - 1, j] - img[i - 1, j + 1])
            total += np.sqrt(gx * gx + gy * gy + 1e-3)
    return total


@case(vec(6), 0.4, tags=("crank-nicolson", "thomas-solve", "element-write"))
def implicit_heat_step(u, r):
    n = len(u)
    a = -r / 2
    b = 1 + r
    c = -r / 2
    d = np.zeros(n)
    for i in range(n):
        left = u[i - 1] if i > 0 else 0.0
        right = u[i + 1] if i < n - 1 else 0.0
        d[i] = r / 2 * left + (1 - r) * u[i] + r / 2 * right
    cp = np.zeros(n)
    dp = np.zeros(n)
    cp[0] = c / b
    dp[0] = d[0] / b
    for i in range(1, n):
        m = b - a * cp[i - 1]
        cp[i] = c / m
        dp[i] = (d[i] - a * dp[i - 1]) / m
    x = np.zeros(n)
    x[n - 1] = dp[n - 1]
    for i in range(n - 2, -1, -1):
        x[i] = dp[i] - cp[i] * x[i + 1]
    return np.sum(x**2)


@case(mat(4), 0.1, 2, tags=("heat-2d", "slices-2d", "in-place-slice"))
def heat_2d_in_place_slices(u, alpha, steps):
    u = u.copy()
    for _ in range(steps):
        u[1:-1, 1:-1] += alpha * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1])
    return np.sum(u**2)
