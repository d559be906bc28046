"""Reverse mode specifics: the adjoint code itself, its tapes, and the reverse-mode API."""
import math
import sys

import numpy as np
import pytest

import s2sdiff as sd
from s2sdiff.__main__ import main


# ---- backpropagation through the notes' example, adjoint by adjoint -----------------

def notes_f(x):
    a = x ** 2
    b = math.exp(a)
    c = a + b
    d = math.sqrt(c)
    e = math.cos(c)
    return d + e


def adjoints_at_return(py_func, *args):
    """Run generated Python and capture its local variables as it returns."""
    captured = {}

    def tracer(frame, event, arg):
        if frame.f_code is py_func.__code__:
            if event == "return":
                captured.update(frame.f_locals)
            return tracer
        return None
    sys.settrace(tracer)
    try:
        result = py_func(*args)
    finally:
        sys.settrace(None)
    return result, captured


@pytest.mark.parametrize("x", [0.3, 1.0, 1.5])
def test_backpropagation_matches_the_hand_derivation(x):
    vg = sd.value_and_grad(notes_f, jit=False)
    vjp_function = next(u for u in _units_of(vg) if u.__name__ == "notes_f_vjp")
    (value, bx), adj = adjoints_at_return(vjp_function, x, 1.0)
    # The hand derivation: f = d + e, d = sqrt(c), e = cos(c), c = a + b, b = exp(a), a = x².
    a = x * x
    b = math.exp(a)
    c = a + b
    bd = be = 1.0
    bc = bd / (2 * math.sqrt(c)) - be * math.sin(c)
    bb = bc
    ba = bc + bb * b
    assert adj["bd"] == bd and adj["be"] == be
    assert adj["bc"] == pytest.approx(bc, rel=1e-14)
    assert adj["bb"] == pytest.approx(bb, rel=1e-14)
    assert adj["ba"] == pytest.approx(ba, rel=1e-14)
    assert bx == pytest.approx(ba * 2 * x, rel=1e-14)
    assert value == notes_f(x)


def _units_of(transformed):
    """The generated functions a transform calls (looked up in its namespace)."""
    return [v for v in transformed.py_func.__globals__.values() if callable(v) and hasattr(v, "__code__")]


# ---- what gets taped -------------------------------------------------------------------

def weighted_sum(x, a):
    s = 0.0
    for i in range(len(x)):
        s += a * x[i]
    return s


def damped(theta, omega, k, steps):
    h = 0.01
    for n in range(steps):
        acc = -k * math.sin(theta) - 0.1 * omega
        theta = theta + h * omega
        omega = omega + h * acc
    return theta * theta + omega


def test_linear_accumulation_tapes_nothing():
    g = sd.grad(weighted_sum, wrt=(0, 1))
    assert "_tape" not in g.source
    x = np.linspace(0.0, 1.0, 11)
    gx, ga = g(x, 3.0)
    np.testing.assert_allclose(gx, np.full(11, 3.0), rtol=0, atol=0)
    assert ga == pytest.approx(x.sum(), rel=1e-15)


def test_overwritten_state_is_taped_once_per_step():
    g = sd.grad(damped, wrt=(0, 1, 2))
    tapes = {line.split("=")[0].strip() for line in g.source.splitlines() if "= new_tape(" in line}
    # theta only: omega enters each step linearly, so the adjoint reads none of its values
    assert len(tapes) == 1 and tapes.pop().startswith("theta")
    forward = sd.grad(damped, wrt=(0, 1, 2), mode="forward")
    np.testing.assert_allclose(g(0.4, 0.1, 2.0, 500), forward(0.4, 0.1, 2.0, 500), rtol=1e-12)


def collatz_like(x):
    k = 0
    while x > 1.0 and k < 1000:
        if k % 3 == 0:
            x = 0.9 * x + 0.01 * math.sin(x)
        else:
            x = x - 0.05 * math.sqrt(x)
        k += 1
    return x * x


@pytest.mark.parametrize("x", [1.5, 7.0, 40.0])  # from a few iterations to hundreds: the tape grows
def test_while_loop_tape_grows(x):
    reverse = sd.grad(collatz_like)(x)
    forward = sd.grad(collatz_like, mode="forward")(x)
    assert reverse == pytest.approx(forward, rel=1e-12)
    assert "grown(" in sd.grad(collatz_like).source


# ---- callees get adjoint functions of their own ------------------------------------------

def inner(u, v):
    return u * math.sin(v), u + v * v


def outer(x, y):
    a, b = inner(x, y)
    c = a * b
    return math.cos(c) + a


def test_callee_has_its_own_adjoint_function():
    g = sd.grad(outer, wrt=(0, 1))
    # the caller's forward sweep reads inner's values: inner's sweeps run once each, apart
    assert "def inner_vjp_forward(u, v):" in g.source
    assert "def inner_vjp_backward(u, v, t1, binner1, binner2):" in g.source
    np.testing.assert_allclose(g(0.7, 0.4), sd.grad(outer, wrt=(0, 1), mode="forward")(0.7, 0.4), rtol=1e-13)


def _squashed(y):
    return np.sum(np.tanh(y) ** 2)


def _uses_the_value(x):
    y = np.sin(x)
    z = _squashed(y)
    return z * z + np.sum(y)


def _rescaled(y):
    return np.tanh(y) * y


def _writes_the_argument(x):
    y = np.sin(x)
    r = _rescaled(y)
    y[0] = 2.0 * y[0] ** 2          # both of _rescaled's sweeps read y as the call passed it (a copy)
    return np.sum(r * r) + np.sum(y)


def _stepped(y):
    k = 0
    while k < 3:
        y = y * np.cos(y)
        k += 1
    return y


def _calls_a_taping_callee(x):
    z = _stepped(x)
    return np.sum(z * z) + np.sum(z)


@pytest.mark.parametrize("f, callee, split", [(_uses_the_value, "_squashed", True),
                                              (_writes_the_argument, "_rescaled", True),
                                              (_calls_a_taping_callee, "_stepped", False)])
@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_a_callee_forward_sweep_runs_once(f, callee, split, jit):
    x = np.linspace(-0.8, 1.3, 7)
    value_and_grad = sd.value_and_grad(f, jit=jit)
    value, gradient = value_and_grad(x)
    assert value == pytest.approx(f(x), rel=1e-14)
    np.testing.assert_allclose(gradient, [f(x + 1e-30j * e).imag / 1e-30 for e in np.eye(7)], rtol=1e-13)
    np.testing.assert_allclose(sd.hessian(f, jit=False)(x), sd.jacobian(sd.grad(f, jit=False), jit=False)(x),
                               rtol=1e-10)
    source = value_and_grad.source
    assert (f"{callee}_vjp_forward(" in source and f"{callee}_vjp_backward(" in source) == split
    assert (f"{callee}_vjp(" in source) != split


# ---- API -----------------------------------------------------------------------------------

def objective(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += 0.1 * (x[i] - i) ** 2 + np.sin(x[i]) * np.cos(x[i + 1]) + np.exp(-x[i] ** 2)
    return s


def test_array_gradient_against_complex_step():
    x = np.linspace(-1.0, 2.0, 9)
    g = sd.grad(objective)(x)
    h = 1e-30
    expected = np.array([objective(x + 1j * h * e).imag / h for e in np.eye(len(x))])
    assert g.shape == x.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, expected, rtol=1e-13, atol=1e-15)
    value, g2 = sd.value_and_grad(objective)(x)
    assert value == pytest.approx(objective(x), rel=1e-14)
    np.testing.assert_array_equal(g, g2)


def test_grad_of_a_tuple_valued_function_is_refused():
    with pytest.raises(sd.S2SDiffError, match="scalar-valued"):
        sd.grad(inner)


def test_vjp_one_cotangent_per_argument():
    value, vjp_fn = sd.vjp(inner, 0.7, 0.4)
    assert value == inner(0.7, 0.4)
    bu, bv = vjp_fn((2.0, -1.0))
    # inner = (u sin v, u + v²): Jᵀ (2, -1) = (2 sin v - 1, 2 u cos v - 2 v)
    assert bu == pytest.approx(2 * math.sin(0.4) - 1, rel=1e-15)
    assert bv == pytest.approx(2 * 0.7 * math.cos(0.4) - 2 * 0.4, rel=1e-15)
    with pytest.raises(sd.S2SDiffError, match="cotangent"):
        vjp_fn((1.0,))


def test_reverse_jacobian_equals_forward():
    rev = sd.jacobian(inner, wrt=(0, 1), mode="reverse")(0.7, 0.4)
    fwd = sd.jacobian(inner, wrt=(0, 1), mode="forward")(0.7, 0.4)
    for r, f in zip(rev, fwd):
        np.testing.assert_allclose(r, f, rtol=1e-15)


def test_differentiable_grad_is_reverse_mode():
    @sd.differentiable
    def energy(x, k):
        return 0.5 * k * x * x

    assert energy.grad(2.0, 3.0) == 6.0
    assert energy.value_and_grad(2.0, 3.0) == (6.0, 6.0)
    assert "reverse mode" in energy.grad.source


def test_cli_show_reverse(tmp_path, capsys):
    path = tmp_path / "reverse_model.py"
    path.write_text("import math\n\ndef model(a, b):\n    return math.log(a * b + max(a, 2))\n")
    assert main(["show", f"{path}:model", "--mode", "reverse", "--wrt", "a,b"]) == 0
    out = capsys.readouterr().out
    assert "def model_vjp_grad(a, b, bmodel):" in out and "# adjoint sweep" in out


# ---- stencil loops: adjoint additions handed to the next iteration ----------------------

def forward_stencil(x):
    s = 0.0
    for i in range(len(x) - 1):
        t = x[i + 1] - x[i] * x[i]
        s += 100.0 * t * t + (1.0 - x[i]) ** 2
    return s


def shifted_stencil(x, c):
    s = 0.0
    for i in range(len(x) - 2):
        s += np.sin(x[i + 1]) * np.cos(x[i + 2]) * c
    return s


def two_loops_same_adjoint(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += x[i] * x[i + 1]
    for i in range(len(x)):
        s += np.exp(x[i])
    return s


def complex_step_gradient(f, x, *rest):
    h = 1e-30
    return np.array([f(x + 1j * h * e, *rest).imag / h for e in np.eye(len(x))])


@pytest.mark.parametrize("n", [1, 2, 3, 8])
@pytest.mark.parametrize("f, rest", [(forward_stencil, ()), (shifted_stencil, (0.7,)), (two_loops_same_adjoint, ())],
                         ids=["rosenbrock", "offsets 1 and 2", "two loops"])
def test_stencil_gradients_at_every_size(f, rest, n):
    x = np.linspace(-1.2, 0.9, n)
    g = sd.grad(f)(x, *rest)
    np.testing.assert_allclose(g, complex_step_gradient(f, x, *rest), rtol=1e-13, atol=1e-15)


def test_stencil_adjoint_is_written_once_per_element():
    source = sd.grad(forward_stencil).source
    assert "empty_adjoint(x)" in source and "bx[:] = 0.0" in source    # zeroed only where no iteration writes
    assert "bx[i] = " in source                   # a store, not a read-modify-write


# ---- loops that add into their own element once: stored, not added ----------------------

def short_map(x, c):
    """Writes bx[0 … n - 3]; the last two elements get nothing, and at n < 3 no element does."""
    s = 0.0
    for i in range(len(x) - 2):
        s += np.sin(c * x[i])
    return s


def conditional_map(x):
    """The addition into bx[i] happens only where x[i] > 0: bx must start at zero."""
    s = 0.0
    for i in range(len(x)):
        if x[i] > 0.0:
            s += x[i] ** 3
    return s


def map_after_other_writes(x):
    """bx gets additions from the first loop before the own-element loop: it must keep them."""
    s = 0.0
    for i in range(len(x) - 1):
        s += np.exp(x[i + 1])
    for i in range(len(x)):
        s += np.sin(x[i])
    return s


@pytest.mark.parametrize("n", [1, 2, 3, 9])
@pytest.mark.parametrize("f, rest", [(short_map, (0.8,)), (conditional_map, ()), (map_after_other_writes, ())],
                         ids=["short range", "conditional", "after other writes"])
def test_own_element_loops_at_every_size(f, rest, n):
    x = np.linspace(-1.2, 0.9, n)
    np.testing.assert_allclose(sd.grad(f)(x, *rest), complex_step_gradient(f, x, *rest), rtol=1e-13, atol=1e-15)


def test_own_element_loop_stores_and_zeroes_only_the_rest():
    source = sd.grad(short_map).source
    assert "empty_adjoint(x)" in source and "bx[i] = " in source
    assert "zero_like(x)" in sd.grad(conditional_map).source     # a conditional addition keeps the zeros
