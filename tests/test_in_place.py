"""In-place code: functions that write into their array parameters, functions that return
nothing (their outputs are the final values of what they write into, in parameter order),
and kernels called as statements (`step(C, A)`), both modes, compiled and not.

The oracle is central differences of the plain Python function, run on copies of the
arguments (the function changes them); every derivative call must leave the caller's
arrays as they were.
"""
import numpy as np
import pytest

import s2sdiff as sd
from oracles import cd_jacobian

CD = 1e-6


# ---- the functions ----------------------------------------------------------------------

def scale_then(x):
    """Writes into its parameter, then returns a number of the new values."""
    x *= 2.0
    x[0] = 0.0
    return np.sum(x ** 2) + x[1] * x[2]


def heat(u, c):
    """Explicit heat steps on the parameter itself, the boundary reset each step."""
    for t in range(5):
        u[1:-1] = u[1:-1] + c * (u[2:] - 2 * u[1:-1] + u[:-2])
        u[0] = 0.0
    return np.sum(u ** 2)


def fill(y, x):
    """An output parameter filled element by element; returns nothing."""
    for i in range(x.shape[0]):
        y[i] = np.sin(x[i]) * x[i]


def axpy(y, a, x):
    y += a * x


def two(C, D, A):
    """Two output parameters, C written element by element in two loops, D by rows."""
    n, m = A.shape
    for i in range(n):
        for j in range(m):
            C[i, j] = A[i, j] * A[i, 0] + 1.0
        D[i, :] = np.tanh(A[i, :])


def step(C, A):
    C[:] = 0.5 * A + np.sin(A)


def driver(A):
    C = np.zeros_like(A)
    for t in range(3):
        step(C, A)
        A = C.copy()
    return np.sum(A)


def relax(C, A):
    """A kernel that reads what it then overwrites."""
    C[:] = 0.5 * C + np.sin(A)


def relaxed(A):
    C = np.zeros_like(A)
    for t in range(3):
        relax(C, A)
        A = C * 1.5
    return np.sum(A ** 2)


def on_parameter(u, a, x):
    """A kernel writing into the caller's own parameter, then a scalar of it."""
    axpy(u, a, x)
    axpy(u, a, np.sin(u))
    return np.sum(u ** 2)


def both_written(A):
    C = np.zeros_like(A)
    D = np.zeros_like(A)
    two(C, D, A)
    return np.sum(C * D)


# ---- the oracle ---------------------------------------------------------------------------

def functional(f, written=()):
    """f on copies of its arguments: its value, or where it returns nothing the final values
    of the arguments `written` (indices)."""
    def g(*args):
        copies = [np.array(a, dtype=float) if isinstance(a, np.ndarray) else a for a in args]
        value = f(*copies)
        if value is not None:
            return value
        outs = tuple(copies[k] for k in written)
        return outs[0] if len(outs) == 1 else outs
    return g


def unchanged(args, before):
    for a, b in zip(args, before):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b), "a derivative call changed the caller's array"


def snapshot(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def close(got, want, rel=CD):
    np.testing.assert_allclose(got, want, rtol=rel, atol=rel * max(1.0, float(np.max(np.abs(want)))))


X = np.array([0.3, -0.7, 1.1, 0.5])
U = np.array([0.0, 0.4, 0.9, 0.2, -0.3, 0.0])
A2 = np.array([[0.3, 0.7, 1.1], [0.2, -0.4, 0.9]])


# ---- writes into parameters, a value returned -------------------------------------------

@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("jit", [True, False])
def test_parameter_written_then_value(mode, jit):
    args = (X.copy(),)
    before = snapshot(args)
    value, g = sd.value_and_grad(scale_then, mode=mode, jit=jit)(*args)
    close(value, functional(scale_then)(X))
    close(g, cd_jacobian(functional(scale_then), [X], 0))
    close(sd.grad(scale_then, mode=mode, jit=jit)(*args), g, 1e-12)
    unchanged(args, before)


def test_parameter_written_hessian():
    args = (X.copy(),)
    H = sd.hessian(scale_then)(*args)
    close(H, cd_jacobian(lambda x: sd.grad(scale_then)(x.copy()), [X], 0))
    unchanged(args, (X,))


def test_heat_on_its_parameter_forward():
    """Forward mode has no overwrite limits: the slices read and written in the loop."""
    args = (U.copy(), 0.2)
    J = sd.jacobian(heat, wrt=(0, 1))(*args)
    close(J[0], cd_jacobian(functional(heat), [U, 0.2], 0))
    close(J[1], cd_jacobian(functional(heat), [U, 0.2], 1))
    value, tangent = sd.jvp(heat, args, (np.ones_like(U), 1.0))
    close(value, functional(heat)(U, 0.2))
    close(tangent, np.sum(J[0]) + J[1])
    unchanged(args, (U,))


# ---- functions that return nothing --------------------------------------------------------

@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_output_parameter_jacobian(mode):
    args = (np.zeros(4), X.copy())
    before = snapshot(args)
    J = sd.jacobian(fill, wrt=1, mode=mode)(*args)
    close(J, cd_jacobian(functional(fill, (0,)), list(args), 1))
    unchanged(args, before)


def test_output_parameter_jvp_and_vjp():
    args = (np.ones(4), X.copy())
    before = snapshot(args)
    value, tangent = sd.jvp(fill, args, (np.zeros(4), np.ones(4)))
    J = cd_jacobian(functional(fill, (0,)), list(args), 1)
    close(value, functional(fill, (0,))(*args))
    close(tangent, J.sum(axis=1))
    value, vjp_fn = sd.vjp(fill, *args)
    by, bx = vjp_fn(np.ones(4))
    close(by, np.zeros(4))          # every element of y is overwritten: its entry values do not matter
    close(bx, J.sum(axis=0))
    unchanged(args, before)


def test_update_of_output_parameter():
    args = (np.array([1.0, 2.0, -1.0, 0.5]), 0.7, X.copy())
    before = snapshot(args)
    J = sd.jacobian(axpy, wrt=(0, 1, 2))(*args)
    for k in range(3):
        close(J[k], cd_jacobian(functional(axpy, (0,)), list(args), k))
    value, tangent = sd.jvp(axpy, args, (np.ones(4), 1.0, np.zeros(4)))
    close(tangent, np.ones(4) + X)
    unchanged(args, before)


def test_several_output_parameters_in_parameter_order():
    args = (np.zeros((2, 3)), np.zeros((2, 3)), A2.copy())
    before = snapshot(args)
    value, vjp_fn = sd.vjp(two, *args)
    C, D = functional(two, (0, 1))(*args)
    close(value[0], C)
    close(value[1], D)
    wC, wD = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    _, _, bA = vjp_fn((wC, wD))
    objective = lambda A: np.sum(wC * functional(two, (0, 1))(*args[:2], A)[0]) + \
        np.sum(wD * functional(two, (0, 1))(*args[:2], A)[1])
    close(bA, cd_jacobian(objective, [A2], 0))
    value, (dC, dD) = sd.jvp(two, args, (np.zeros((2, 3)), np.zeros((2, 3)), np.ones((2, 3))))
    close(dD, 1.0 / np.cosh(A2) ** 2)
    unchanged(args, before)


def test_grad_of_nothing_refused_with_a_suggestion():
    with pytest.raises(sd.S2SDiffError, match=r"returns nothing.*'y'.*sd.jacobian.*scalar objective"):
        sd.grad(fill)(np.zeros(4), X)


# ---- kernels called as statements ---------------------------------------------------------

@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("jit", [True, False])
def test_kernel_statement_driver(mode, jit):
    args = (X.copy(),)
    value, g = sd.value_and_grad(driver, mode=mode, jit=jit)(*args)
    close(value, functional(driver)(X))
    close(g, cd_jacobian(functional(driver), [X], 0))
    unchanged(args, (X,))


@pytest.mark.parametrize("f", [driver, relaxed])
def test_kernel_statement_hessian(f):
    args = (X.copy(),)
    H = sd.hessian(f)(*args)
    close(H, cd_jacobian(lambda x: sd.grad(f)(x.copy()), [X], 0))
    close(H, H.T, 1e-10)
    unchanged(args, (X,))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_kernel_reading_what_it_overwrites(mode):
    close(sd.grad(relaxed, mode=mode)(X), cd_jacobian(functional(relaxed), [X], 0))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_kernel_into_callers_parameter(mode):
    args = (X.copy(), 0.3, np.cos(X))
    before = snapshot(args)
    grads = sd.grad(on_parameter, wrt=(0, 1, 2), mode=mode)(*args)
    for k in range(3):
        close(grads[k], cd_jacobian(functional(on_parameter), list(args), k))
    unchanged(args, before)


def test_kernel_with_several_outputs():
    args = (A2.copy(),)
    close(sd.grad(both_written)(*args), cd_jacobian(functional(both_written), [A2], 0))
    close(sd.grad(both_written, mode="forward")(*args), cd_jacobian(functional(both_written), [A2], 0))
    unchanged(args, (A2,))


def test_primal_still_writes_in_place():
    u = X.copy()
    axpy(u, 2.0, X)
    close(u, 3.0 * X, 1e-15)


# ---- aliasing and the other refusals --------------------------------------------------------

def passed_twice(A):
    C = np.zeros_like(A)
    two(C, C, A)
    return np.sum(C)


def view_read_after(A):
    C = np.zeros_like(A)
    row = C[0]
    step(C, A)
    return np.sum(row)


def second_name(A):
    C = A * 1.0
    D = C
    step(C, A)
    return np.sum(D)


def slice_passed(A):
    C = np.zeros(A.shape[0] + 1)
    step(C[1:], A)
    return np.sum(C)


def returned_and_written(C, A):
    C[:] = A
    return np.sum(A)


def value_of_kernel(A):
    C = np.zeros_like(A)
    s = returned_and_written(C, A)
    return s + np.sum(C)


def kernel_with_value(A):
    C = np.zeros_like(A)
    returned_and_written(C, A)
    return np.sum(C)


def bump(y, a):
    a += 1.0
    y[0] = a


@pytest.mark.parametrize("f, message", [
    (passed_twice, r"two\(\) changes 'C' in place, and gets it .* twice"),
    (view_read_after, r"changes the array 'C' in place, and 'row', read afterwards, shares it"),
    (second_name, r"changes the array 'C' in place, and 'D', read afterwards, shares it"),
    (slice_passed, r"pass it an array of this function by name \(not C\[1:\]\)"),
    (value_of_kernel, r"changes 'C' in place; s2sdiff follows that only in a call on a line of its own"),
    (kernel_with_value, r"changes 'C' in place and returns a value"),
])
def test_unsound_aliasing_refused(f, message):
    with pytest.raises(sd.UnsupportedError, match=message) as info:
        sd.grad(f)(X)
    assert "test_in_place.py" in str(info.value)


def test_number_written_by_function_returning_nothing_refused():
    with pytest.raises(sd.UnsupportedError, match="'a' is a number"):
        sd.jacobian(bump, wrt=1)(np.zeros(2), 1.0)


def test_self_check_runs_the_function_on_copies():
    args = (np.zeros(4), X.copy())
    before = snapshot(args)
    sd.jacobian(fill, wrt=1, check=True)(*args)
    sd.jvp(fill, args, (np.zeros(4), np.ones(4)), check=True)
    sd.grad(scale_then, check=True)(X.copy())
    unchanged(args, before)
