"""Reverse mode on programs that overwrite array elements the adjoint needs, at any loop depth.

In-place scientific kernels as they are written: stencils stepped in place, Gauss–Seidel
and SOR sweeps, factorizations that overwrite their matrix, a whole-array read before a
write.  The forward sweep records each value computed from an array that a later write
changes, and the adjoint's recomputed iterations take it back (transform/overwrites.py).
Each program is checked, compiled and not, against the complex step (exact to rounding:
the programs copy their inputs, so a complex input runs the same code in complex
arithmetic), through grad in every argument, value_and_grad, vjp, jvp and the reverse
Jacobian; the Hessian against central differences of the gradient.
"""
import functools

import numpy as np
import pytest

import s2sdiff as sd
from oracles import cd_jacobian, cs_jacobian

CS = 1e-11


# ---- the programs -----------------------------------------------------------------------

def heat_1d(u0, c):
    u = u0.copy()
    for t in range(100):
        u[1:-1] = u[1:-1] + c * (u[2:] - 2 * u[1:-1] + u[:-2])
    return np.sum(u ** 2) + c * u[2]


def heat_2d(u0, c):
    u = u0.copy()
    for t in range(100):
        u[1:-1, 1:-1] += c * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1])
    return np.sum(u * u)


def gauss_seidel(b, A):
    n = len(b)
    x = np.zeros_like(b * A[0, 0])
    for sweep in range(4):
        for i in range(n):
            s = b[i]
            for j in range(n):
                if j != i:
                    s -= A[i, j] * x[j]
            x[i] = s / A[i, i]
    return np.sum(x * np.arange(1, n + 1))


def sor(b, A, omega):
    n = len(b)
    x = b * 0.0 * omega
    for sweep in range(6):
        for i in range(n):
            sigma = np.dot(A[i, :i], x[:i]) + np.dot(A[i, i + 1:], x[i + 1:])
            x[i] = (1.0 - omega) * x[i] + omega * (b[i] - sigma) / A[i, i]
    return np.sum(x ** 2)


def lu_in_place(M):
    """Doolittle without pivoting, L and U written over the copy of M."""
    A = M.copy()
    n = A.shape[0]
    for k in range(n):
        for i in range(k + 1, n):
            A[i, k] /= A[k, k]
            for j in range(k + 1, n):
                A[i, j] -= A[i, k] * A[k, j]
    return np.sum(A * A) + A[n - 1, n - 1]


def cholesky_in_place(M):
    """Column by column: the lower triangle of the copy of M becomes L."""
    A = M.copy()
    n = A.shape[0]
    for j in range(n):
        for k in range(j):
            for i in range(j, n):
                A[i, j] -= A[i, k] * A[j, k]
        A[j, j] = np.sqrt(A[j, j])
        for i in range(j + 1, n):
            A[i, j] /= A[j, j]
    s = 0.0
    for i in range(n):
        for j in range(i + 1):
            s += A[i, j] * (i + 2 * j + 1)
    return s


def jacobi_swapping(u0, f):
    """Two buffers exchanged each sweep, as Jacobi iterations are written."""
    u = u0.copy()
    v = u0.copy()
    h2 = 1.0 / len(u0) ** 2
    for sweep in range(10):
        for i in range(1, len(u) - 1):
            v[i] = 0.5 * (u[i - 1] + u[i + 1] + h2 * f[i]) + 0.05 * u[i] ** 2
        u, v = v, u
    return np.sum(u ** 3)


def read_whole_then_write(x):
    y = np.sin(x)
    s = np.sum(y * y)              # its adjoint reads y before the write below
    for i in range(len(x)):
        y[i] = y[i] * s
    return np.sum(y ** 3)


def running_normalization(x):
    """Each step divides by a norm of the whole array it then overwrites."""
    y = x.copy()
    for t in range(3):
        norm = np.sqrt(np.sum(y * y))
        for i in range(len(y)):
            y[i] = y[i] / norm + 0.1 * y[(i + 1) % len(y)]
    return np.sum(y * np.arange(len(y)))


rng = np.random.default_rng(18)
n = 5
SPD = rng.random((n, n))
SPD = SPD @ SPD.T + n * np.eye(n)
CASES = {
    "heat_1d": (heat_1d, (rng.random(8), 0.2)),
    "heat_2d": (heat_2d, (rng.random((6, 6)), 0.1)),
    "gauss_seidel": (gauss_seidel, (rng.random(n), SPD)),
    "sor": (sor, (rng.random(n), SPD, 1.3)),
    "lu_in_place": (lu_in_place, (SPD,)),
    "cholesky_in_place": (cholesky_in_place, (SPD,)),
    "jacobi_swapping": (jacobi_swapping, (rng.random(7), rng.random(7))),
    "read_whole_then_write": (read_whole_then_write, (rng.random(4),)),
    "running_normalization": (running_normalization, (rng.random(5) + 0.5,)),
}
# every program without numba; compiled, the ones whose generated code differs most (numba
# compiles are the suite's cost: a few seconds each)
COMPILED = ("heat_1d", "gauss_seidel", "lu_in_place", "jacobi_swapping")
PROGRAMS = pytest.mark.parametrize("name, jit", [(name, False) for name in CASES] + [(name, True) for name in COMPILED],
                                   ids=[f"{n}-python" for n in CASES] + [f"{n}-numba" for n in COMPILED])


@functools.lru_cache(maxsize=None)
def transform(kind, name, jit):
    f, args = CASES[name]
    wrt = tuple(range(len(args)))
    if kind == "grad":
        return sd.grad(f, wrt=wrt, jit=jit)
    if kind == "value_and_grad":
        return sd.value_and_grad(f, wrt=wrt, jit=jit)
    if kind == "jacobian":
        return sd.jacobian(f, wrt=0, mode="reverse", jit=jit)
    return sd.hessian(f, jit=jit)


def oracle(name, k):
    # every array complex, so the arrays a program makes from any of them hold the perturbation
    f, args = CASES[name]
    return cs_jacobian(f, [a.astype(complex) if isinstance(a, np.ndarray) else a for a in args], k)


@PROGRAMS
def test_gradient_in_every_argument(name, jit):
    f, args = CASES[name]
    grads = transform("grad", name, jit)(*args)
    for k, g in enumerate(grads):
        np.testing.assert_allclose(g, oracle(name, k), rtol=CS, atol=1e-13)
    value, again = transform("value_and_grad", name, jit)(*args)
    assert value == pytest.approx(f(*args), rel=1e-14)
    for g, h in zip(grads, again):
        np.testing.assert_allclose(h, g, rtol=1e-14)


@PROGRAMS
def test_vjp_jvp_and_jacobian(name, jit):
    f, args = CASES[name]
    want = oracle(name, 0)
    value, pullback = sd.vjp(f, *args, jit=jit)
    assert value == pytest.approx(f(*args), rel=1e-14)
    np.testing.assert_allclose(pullback(2.0)[0], 2.0 * want, rtol=CS, atol=1e-13)
    direction = np.linspace(-1.0, 1.0, np.size(args[0])).reshape(np.shape(args[0]))
    _, tangent = sd.jvp(f, args, (direction,) + tuple(0.0 * np.asarray(a) for a in args[1:]), jit=jit)
    assert tangent == pytest.approx(np.sum(want * direction), rel=1e-10, abs=1e-13)
    np.testing.assert_allclose(transform("jacobian", name, jit)(*args), want, rtol=CS, atol=1e-13)


@pytest.mark.parametrize("name, jit", [("heat_1d", True), ("heat_1d", False), ("gauss_seidel", False), ("sor", False),
                                       ("jacobi_swapping", False), ("read_whole_then_write", False),
                                       ("running_normalization", False)])
def test_hessian(name, jit):
    f, args = CASES[name]
    gradient = sd.grad(f, jit=False)
    want = cd_jacobian(lambda *a: gradient(*a), args, 0, h=1e-5)
    np.testing.assert_allclose(transform("hessian", name, jit)(*args), want, rtol=1e-6, atol=1e-7)


def test_derivative_calls_leave_the_arguments_as_they_were():
    f, args = CASES["lu_in_place"]
    before = args[0].copy()
    transform("grad", "lu_in_place", False)(*args)
    np.testing.assert_array_equal(args[0], before)


def written_with_a_broadcast_row(x):
    y = np.zeros((3, len(x)))
    for t in range(2):
        y[1:, :] = np.sin(x * (t + 1.0))[None, :]
    return np.sum(y * y)


def test_a_value_broadcast_into_a_slice_is_refused_where_it_runs():
    # the adjoint takes the slice's shape for the written value's: checked as the forward sweep runs
    x = np.array([0.5, 1.5])
    with pytest.raises(sd.UnsupportedError, match="broadcasts into it") as info:
        sd.grad(written_with_a_broadcast_row, jit=False)(x)
    assert "test_overwrites.py" in str(info.value)
    got = sd.grad(written_with_a_broadcast_row, mode="forward", jit=False)(x)
    np.testing.assert_allclose(got, cd_jacobian(written_with_a_broadcast_row, (x,), 0), rtol=1e-8)
