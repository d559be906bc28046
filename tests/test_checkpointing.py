"""Reverse mode within a memory budget: a loop whose tape would not fit checkpoints its state.

`memory=` on a reverse transform bounds the tape of each loop of the function body; a loop
over it keeps snapshots of its state (the carried values it reads, the arrays it writes in
place) and recomputes steps from them, binomially (runtime.checkpoint_split).  Each program
is checked against the complex step and against the same transform with a whole tape, at
budgets from one snapshot to one per step; a budget below one snapshot is refused before
anything is allocated.  Every call reports the bytes it taped (`.tape_bytes`); without
`memory=`, a call whose whole tapes would pass the default budget runs checkpointed.
"""
import functools

import numpy as np
import pytest

import s2sdiff as sd
from oracles import cd_jacobian, cs_jacobian
from s2sdiff.runtime import SLOT_OVERHEAD
from s2sdiff.transform import checkpoints

JIT = pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])


def lotka_volterra_rk4(p, steps):
    """Predator and prey, integrated by RK4: the state is two numbers."""
    alpha, beta, delta, gamma = p[0], p[1], p[2], p[3]
    x = 10.0 + 0.0 * alpha
    y = 5.0 + 0.0 * alpha
    h = 0.01
    for t in range(steps):
        k1x, k1y = alpha * x - beta * x * y, delta * x * y - gamma * y
        x2, y2 = x + 0.5 * h * k1x, y + 0.5 * h * k1y
        k2x, k2y = alpha * x2 - beta * x2 * y2, delta * x2 * y2 - gamma * y2
        x3, y3 = x + 0.5 * h * k2x, y + 0.5 * h * k2y
        k3x, k3y = alpha * x3 - beta * x3 * y3, delta * x3 * y3 - gamma * y3
        x4, y4 = x + h * k3x, y + h * k3y
        k4x, k4y = alpha * x4 - beta * x4 * y4, delta * x4 * y4 - gamma * y4
        x = x + h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + h / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
    return x * y


def heat_in_place(u0, c):
    """Reaction and diffusion; the state is the array the loop writes in place."""
    u = u0.copy()
    for t in range(60):
        u[1:-1] = u[1:-1] + c * (u[2:] - 2.0 * u[1:-1] + u[:-2]) - 0.05 * u[1:-1] ** 3
    return np.sum(u ** 3)


def damped_map(x0, A):
    """The state is an array rebound each step."""
    x = x0
    for t in range(40):
        x = 0.9 * x + 0.05 * np.sin(A @ x)
    return np.sum(x * x)


rng = np.random.default_rng(7)
P = np.array([1.1, 0.4, 0.1, 0.4])
CASES = {
    "lotka_volterra_rk4": (lotka_volterra_rk4, (P, 50), 16),
    "heat_in_place": (heat_in_place, (rng.random(9), 0.2), 72),
    "damped_map": (damped_map, (rng.random(4), rng.random((4, 4))), 32),
}
# budgets in snapshots of the state: one, two, a few, one a step
SNAPSHOTS = [1, 2, 5, 1000]


@functools.lru_cache(maxsize=None)
def transform(kind, name, jit, snapshots=None):
    f, args, state = CASES[name]
    memory = None if snapshots is None else snapshots * (state + SLOT_OVERHEAD)
    if kind == "grad":
        return sd.grad(f, jit=jit, memory=memory)
    if kind == "value_and_grad":
        return sd.value_and_grad(f, jit=jit, memory=memory)
    if kind == "jacobian":
        return sd.jacobian(f, mode="reverse", jit=jit, memory=memory)
    return sd.hessian(f, jit=jit, memory=memory)


# every budget without numba; compiled, one budget that checkpoints (each budget is a compile)
@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("snapshots, jit", [(s, False) for s in SNAPSHOTS] + [(2, True)],
                         ids=[f"{s}-python" for s in SNAPSHOTS] + ["2-numba"])
def test_checkpointed_gradient(name, snapshots, jit):
    f, args, _ = CASES[name]
    whole = transform("grad", name, jit)(*args)
    got = transform("grad", name, jit, snapshots)(*args)
    # the steps are recomputed with the same arithmetic: the same numbers
    np.testing.assert_allclose(got, whole, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(got, cs_jacobian(f, [a.astype(complex) if isinstance(a, np.ndarray) else a
                                                    for a in args], 0), rtol=1e-11)


@pytest.mark.parametrize("name, jit", [(name, False) for name in CASES] + [("lotka_volterra_rk4", True)])
def test_checkpointed_value_vjp_and_jacobian(name, jit):
    f, args, state = CASES[name]
    value, gradient = transform("value_and_grad", name, jit, 3)(*args)
    assert value == pytest.approx(f(*args), rel=1e-14)
    value, pullback = sd.vjp(f, *args, jit=jit, memory=3 * (state + SLOT_OVERHEAD))
    np.testing.assert_allclose(pullback(-2.0)[0], -2.0 * gradient, rtol=1e-14)
    np.testing.assert_allclose(transform("jacobian", name, jit, 3)(*args), gradient, rtol=1e-14)


@pytest.mark.parametrize("name, jit", [("lotka_volterra_rk4", True), ("lotka_volterra_rk4", False),
                                       ("heat_in_place", False)])
def test_checkpointed_hessian(name, jit):
    f, args, _ = CASES[name]
    gradient = sd.grad(f, jit=False)
    want = cd_jacobian(lambda *a: gradient(*a), args, 0, h=1e-5)
    np.testing.assert_allclose(transform("hessian", name, jit, 2)(*args), want, rtol=1e-6, atol=1e-8)


@JIT
def test_a_budget_below_one_snapshot_is_refused_before_running(jit):
    f, args, state = CASES["heat_in_place"]
    with pytest.raises(sd.MemoryBudgetExceeded, match="larger than the memory budget even for the one") as info:
        sd.grad(f, jit=jit, memory=state - 8)(*args)
    assert isinstance(info.value, MemoryError)
    assert "for t in range(60):" in str(info.value) and "test_checkpointing.py" in str(info.value)


def test_memory_sizes():
    assert checkpoints.budget("16MB") == 16_000_000
    assert checkpoints.budget("1.5 GiB") == 3 * 2 ** 29
    assert checkpoints.budget(4096) == 4096
    for wrong in ("lots", "12 parsecs", -1, 0, None):
        with pytest.raises(sd.S2SDiffError, match="is not a size"):
            checkpoints.budget(wrong)
    with pytest.raises(sd.S2SDiffError, match="is not a size"):
        sd.grad(damped_map, memory="much")


@pytest.mark.parametrize("steps, slots, sweeps", [(10, 2, 3), (1000, 10, 4), (10 ** 5, 100, 3), (50, 1000, 2)])
def test_recomputation_is_binomial(steps, slots, sweeps):
    # with s snapshots a step is run forward at most t times when steps <= C(s + t, t)
    assert checkpoints.forward_steps(steps, slots) <= sweeps * steps


def _steps(x0, steps):
    """The state is an array rebound each step; a while loop of the same steps beside it."""
    x = x0
    for t in range(steps):
        x = x + 0.01 * np.sin(x)
    k = 0
    while k < steps:
        x = x - 0.01 * x * x
        k += 1
    return np.sum(x * x)


def _for_only(x0, steps):
    x = x0
    for t in range(steps):
        x = x + 0.01 * np.sin(x)
    return np.sum(x * x)


@JIT
def test_tape_bytes_count_what_the_tapes_hold(jit):
    x0 = np.linspace(0.1, 1.0, 10)
    g = sd.grad(_steps, jit=jit)
    gradient = g(x0, 20)
    np.testing.assert_allclose(gradient, cs_jacobian(_steps, (x0, 20), 0), rtol=1e-13)
    # the for loop's tape: 20 states of 80 bytes; the while loop's, of the state (k's values,
    # which its adjoint never reads, are not taped): room for 16 steps, doubled once
    assert g.tape_bytes == 20 * 80 + 32 * 80
    g(x0, 3)
    assert g.tape_bytes == 3 * 80 + 16 * 80
    value, pullback = sd.vjp(_steps, x0, 20, jit=jit)
    np.testing.assert_allclose(pullback(1.0)[0], gradient, rtol=1e-14)
    assert pullback.tape_bytes == 20 * 80 + 32 * 80
    budgeted = sd.grad(_for_only, jit=jit, memory=3 * (80 + SLOT_OVERHEAD))
    np.testing.assert_allclose(budgeted(x0, 20), cs_jacobian(_for_only, (x0, 20), 0), rtol=1e-13)
    assert budgeted.tape_bytes == 3 * (80 + SLOT_OVERHEAD)


def test_whole_tapes_past_the_default_budget_run_checkpointed(monkeypatch):
    def oscillator(p, steps):       # a function of its own: transforms are cached per function
        x = 1.0 + 0.0 * p[0]
        v = 0.0 * p[0]
        for t in range(steps):
            v = v - 0.1 * (p[0] * x + p[1] * v * v * v)
            x = x + 0.1 * v
        return x * v
    monkeypatch.setattr(checkpoints, "default_budget", lambda: 4 * (16 + SLOT_OVERHEAD))
    g = sd.grad(oscillator, jit=False)
    gradient = g(P, 50)
    np.testing.assert_allclose(gradient, cs_jacobian(oscillator, (P, 50), 0), rtol=1e-12)
    assert g.tape_bytes == 4 * (16 + SLOT_OVERHEAD)         # four snapshots, not the 50 steps' 800 bytes
    assert g(P, 3) is not None and g.tape_bytes == 3 * 16     # a whole tape where it fits


def test_tapes_past_a_budget_are_refused_before_they_are_made():
    x0 = np.linspace(0.1, 1.0, 10)
    # the while loop keeps a whole tape: 16 states of 80 bytes do not fit in 1000
    with pytest.raises(sd.MemoryBudgetExceeded, match="tapes would take more memory than its budget") as info:
        sd.grad(_steps, jit=False, memory=1000)(x0, 20)
    assert isinstance(info.value, MemoryError)
