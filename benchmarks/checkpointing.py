"""Reverse mode within a memory budget (issue 18): a whole tape against checkpointing.

    python benchmarks/checkpointing.py [--quick] [--all-cores]

* RK4 Lotka–Volterra, 10⁷ steps (--quick: 10⁵): the gradient in the four parameters with
  a whole tape and with memory="16MB";
* a 2-D heat equation (with a cubic reaction, so that the adjoint reads every step's
  field) on 256×256, 1000 steps, stepped in place: the gradient of the final field's
  energy in the initial field, with memory="64MB", beside JAX's `lax.scan` with and without
  `jax.checkpoint` on the step.

Printed: the gradient's time ÷ the primal's (numba's, and JAX's own jitted primal), the
bytes the call taped (the transform's `.tape_bytes`: the tapes, or the snapshots and their
bookkeeping), the peak memory the call added (the process's peak resident set, reset before the call), and the
steps the adjoint ran forward again per step (transform/checkpoints.forward_steps).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import s2sdiff as sd  # noqa: E402
from s2sdiff.runtime import SLOT_OVERHEAD  # noqa: E402
from s2sdiff.transform import checkpoints  # noqa: E402


def lotka_volterra_rk4(p, steps):
    alpha, beta, delta, gamma = p[0], p[1], p[2], p[3]
    x = 10.0
    y = 5.0
    h = 1e-4
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


def heat_2d(u0, steps):
    u = u0.copy()
    for t in range(steps):
        u[1:-1, 1:-1] = u[1:-1, 1:-1] + 0.2 * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2]
                                               - 4.0 * u[1:-1, 1:-1]) - 0.01 * u[1:-1, 1:-1] ** 3
    return np.sum(u * u)


def heat_2d_jax(steps, remat):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)

    def step(u, _):
        inner = u[1:-1, 1:-1]
        new = inner + 0.2 * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4.0 * inner) \
            - 0.01 * inner ** 3
        return u.at[1:-1, 1:-1].set(new), None

    def energy(u0):
        u, _ = jax.lax.scan(jax.checkpoint(step) if remat else step, u0, None, length=steps)
        return jnp.sum(u * u)
    return jax.jit(energy), jax.jit(jax.grad(energy)), jax


def _resident() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS"))


def _peak_added(call) -> int:
    """Bytes the process's peak resident set rose above its size before `call` (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")                      # resets VmHWM to the current resident set
    except OSError:
        return -1
    before = _resident()
    call()
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))
    return peak - before


def _best(call, rounds) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def _rows(workload, budget_label, whole, budgeted, args, state, budget, steps, t_primal, rounds):
    """The table's rows of a whole-tape and a budgeted gradient (`state`: bytes a step's state takes)."""
    for label, g, slots in (("whole tape", whole, steps), (budget_label, budgeted, budget // (state + SLOT_OVERHEAD))):
        g(*args[:-1], 2)
        seconds = _best(lambda: g(*args), rounds)
        peak = _peak_added(lambda: g(*args))
        rerun = checkpoints.forward_steps(steps, slots) / steps if slots < steps else 0.0
        print(f"| {workload} | s2sdiff, {label} | {seconds:.3f} | {seconds / t_primal:.2f} "
              f"| {_mb(g.tape_bytes)} | {_mb(peak)} | {rerun:.2f} |")


def _mb(n) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 0 else "—"


def main():
    from timing import beside_jax_options
    options, _ = beside_jax_options(__doc__.splitlines()[0])
    rounds = 2 if options.quick else 3
    print("| workload | gradient | time s | ÷ primal | tape or snapshots | peak added | steps rerun per step |")
    print("|---|---|---:|---:|---:|---:|---:|")

    steps = 10 ** 5 if options.quick else 10 ** 7
    p = np.array([1.1, 0.4, 0.1, 0.4])
    primal = numba.njit(lotka_volterra_rk4)
    primal(p, 10)
    t_primal = _best(lambda: primal(p, steps), rounds)
    whole, budgeted = sd.grad(lotka_volterra_rk4), sd.grad(lotka_volterra_rk4, memory="16MB")
    np.testing.assert_allclose(budgeted(p, 1000), whole(p, 1000), rtol=1e-13)
    _rows(f"RK4 Lotka–Volterra, {steps:.0e} steps", 'memory="16MB"', whole, budgeted, (p, steps), 16,  # x, y
          16 * 10 ** 6, steps, t_primal, rounds)

    n, steps = (64, 100) if options.quick else (256, 1000)
    u0 = np.random.default_rng(0).random((n, n))
    primal = numba.njit(heat_2d)
    primal(u0, 2)
    t_primal = _best(lambda: primal(u0, steps), rounds)
    budget = 64 * 10 ** 6
    whole, budgeted = sd.grad(heat_2d), sd.grad(heat_2d, memory=budget)
    np.testing.assert_allclose(budgeted(u0, 20), whole(u0, 20), rtol=1e-12)
    _rows(f"2-D heat {n}×{n}, {steps} steps, in place", "memory=64MB", whole, budgeted, (u0, steps), u0.nbytes,
          budget, steps, t_primal, rounds)
    try:
        for remat in (False, True):
            jax_primal, jax_grad, jax = heat_2d_jax(steps, remat)
            ju = jax.numpy.asarray(u0)
            np.testing.assert_allclose(np.asarray(jax_grad(ju)), whole(u0, steps), rtol=1e-9)
            jax_primal(ju).block_until_ready()
            tp = _best(lambda: jax_primal(ju).block_until_ready(), rounds)
            seconds = _best(lambda: jax_grad(ju).block_until_ready(), rounds)
            peak = _peak_added(lambda: jax_grad(ju).block_until_ready())
            label = "JAX lax.scan" + (" + jax.checkpoint" if remat else "")
            print(f"| 2-D heat {n}×{n}, {steps} steps | {label} | {seconds:.3f} | {seconds / tp:.2f} | — "
                  f"| {_mb(peak)} | — |")
    except ImportError:
        print("| 2-D heat | JAX | not installed | | | | |")


if __name__ == "__main__":
    main()
