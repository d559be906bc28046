"""s2sdiff reverse-mode benchmarks: primal vs hand-written adjoint vs sd.grad / sd.value_and_grad.

    python benchmarks/run.py [--quick] [--only objective[,ode...]]

For each workload (see workloads.py):
  1. validate — the hand adjoint, element by element, against a complex-step reference
     (small size for the array workloads, full size for the ODE), and the hand adjoint
     along a random direction against a complex-step directional derivative at the
     benchmark size; then s2sdiff's grad against the hand adjoint (rtol 1e-9) and the
     same references, and value_and_grad against the primal value and grad.
  2. first call — sd.grad(...) built and called once in a fresh cache: source transform +
     numba compile + one run at the benchmark size.
  3. time — rounds of one call each of primal, hand adjoint, grad, value_and_grad
     (interleaved, so slow drifts in machine load hit all four alike); median per column.
  4. memory — tracemalloc peak (numba's NRT allocates through PyMem_RawMalloc, which
     tracemalloc sees) during one call of grad and of the hand adjoint, and the tape
     arrays the generated code allocates (`new_tape(...)`) read from `.source`.

Prints markdown tables and writes them to benchmarks/results.md (overwritten).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
import traceback
from pathlib import Path

import numba
import numpy as np

import s2sdiff as sd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from workloads import WORKLOADS, wrt_indices  # noqa: E402

RTOL_VS_HAND = 1e-9        # s2sdiff gradient vs hand gradient, full size
RTOL_ORACLE = 1e-10        # adjoints vs complex-step references (max-norm relative)
TIME_BUDGET = 6.0          # seconds of timing rounds per workload (beyond the minimum)
MIN_ROUNDS, MAX_ROUNDS = 7, 201
H = 1e-30                  # complex step


# ---- small helpers ------------------------------------------------------------------

def flat(gradient) -> np.ndarray:
    """A gradient (array, float or tuple of floats) as one float vector."""
    if isinstance(gradient, tuple):
        return np.concatenate([np.ravel(np.asarray(g, dtype=float)) for g in gradient])
    return np.ravel(np.asarray(gradient, dtype=float))


def split(vector, args, indices):
    """A vector over the differentiated arguments -> one piece per argument (shape kept)."""
    pieces, k = [], 0
    for i in indices:
        size = np.size(args[i])
        piece = vector[k:k + size]
        pieces.append(piece.reshape(np.shape(args[i])) if np.ndim(args[i]) else piece[0])
        k += size
    return pieces


def complex_step(workload, args, direction) -> float:
    """Im f(args + i h direction) / h: the directional derivative, exact to rounding."""
    indices = wrt_indices(workload)
    shifted = list(args)
    for i, piece in zip(indices, split(direction, args, indices)):
        shifted[i] = args[i] + 1j * H * piece
    return float(np.imag(workload.f_complex(*shifted)) / H)


def complex_step_gradient(workload, args) -> np.ndarray:
    indices = wrt_indices(workload)
    m = sum(np.size(args[i]) for i in indices)
    out = np.empty(m)
    for j in range(m):
        e = np.zeros(m)
        e[j] = 1.0
        out[j] = complex_step(workload, args, e)
    return out


def rel_err(got, ref) -> float:
    """max |got - ref| / max |ref| (max-norm relative error)."""
    got, ref = flat(got), flat(ref)
    if got.shape != ref.shape:
        return float("inf")
    return float(np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-300))


def allclose(got, ref, rtol) -> bool:
    got, ref = flat(got), flat(ref)
    return got.shape == ref.shape and np.allclose(got, ref, rtol=rtol, atol=rtol * 1e-3 * np.max(np.abs(ref)))


def peak_bytes(f, args) -> int:
    """Peak traced memory during one call (after a warm call, so compilation is excluded)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    f(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def tape_arrays(source: str) -> list:
    """Names of the tape arrays the generated source allocates with new_tape(...)."""
    return sorted(set(re.findall(r"^\s*(\w+_tape)\s*=\s*new_tape\(", source, flags=re.M)))


class Failure(Exception):
    pass


# ---- one workload ---------------------------------------------------------------------

def run_workload(w, size, log):
    row = {"name": w.name, "size": size, "label": w.size_label, "problems": [], "checks": []}
    args = w.inputs(size)
    indices = wrt_indices(w)
    rng = np.random.default_rng(42)

    # 1a. the hand adjoint against complex-step references ------------------------------
    small = w.inputs(min(w.oracle_size, size))
    ref_small = complex_step_gradient(w, small)
    err = rel_err(w.hand_grad(*small), ref_small)
    row["checks"].append(f"hand vs complex step, all {ref_small.size} components at "
                         f"{w.size_label}={min(w.oracle_size, size)}: {err:.1e}")
    if not err <= RTOL_ORACLE:
        raise Failure(f"{w.name}: the hand adjoint disagrees with the complex-step reference ({err:.2e})")

    hand = w.hand_grad(*args)
    direction = rng.standard_normal(flat(hand).size)
    ref_dir = complex_step(w, args, direction)
    hand_dir = float(flat(hand) @ direction)
    err = abs(hand_dir - ref_dir) / max(abs(ref_dir), 1e-300)
    row["checks"].append(f"hand vs complex step along a random direction at {w.size_label}={size}: {err:.1e}")
    if not err <= RTOL_ORACLE:
        raise Failure(f"{w.name}: the hand adjoint disagrees with the directional complex step ({err:.2e})")

    # 1b. first call of s2sdiff (transform + compile + one run) -------------------------
    sd.clear_caches()
    try:
        t0 = time.perf_counter()
        grad = sd.grad(w.f_python, wrt=w.wrt)
        g = grad(*args)
        row["first_call"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        value_and_grad = sd.value_and_grad(w.f_python, wrt=w.wrt)
        value, g_vg = value_and_grad(*args)
        row["first_call_vg"] = time.perf_counter() - t0
    except Exception as exc:   # keep going: the failure is the result
        row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        log(traceback.format_exc())
        grad = value_and_grad = None

    # 1c. s2sdiff's results against the hand adjoint and the references -----------------
    if grad is not None:
        err = rel_err(g, hand)
        row["err_vs_hand"] = err
        row["checks"].append(f"sd.grad vs hand at {w.size_label}={size}: {err:.1e}")
        if not allclose(g, hand, RTOL_VS_HAND):
            row["problems"].append(f"sd.grad differs from the hand adjoint (max-norm rel. error {err:.2e})")
        err = abs(float(flat(g) @ direction) - ref_dir) / max(abs(ref_dir), 1e-300)
        row["checks"].append(f"sd.grad vs complex step along the random direction: {err:.1e}")
        if not err <= RTOL_ORACLE:
            row["problems"].append(f"sd.grad disagrees with the directional complex step ({err:.2e})")
        g_small = grad(*small)
        err = rel_err(g_small, ref_small)
        row["checks"].append(f"sd.grad vs complex step, all components at {w.size_label}="
                             f"{min(w.oracle_size, size)}: {err:.1e}")
        if not err <= RTOL_ORACLE:
            row["problems"].append(f"sd.grad disagrees with the complex-step gradient ({err:.2e})")
        primal_value = w.primal(*args)
        value_err = abs(value - primal_value) / max(abs(primal_value), 1e-300)
        row["checks"].append(f"value_and_grad: value vs primal {value_err:.1e}, grad vs sd.grad "
                             f"{rel_err(g_vg, g):.1e}")
        if value_err > 1e-12 or not allclose(g_vg, g, 1e-12):
            row["problems"].append("value_and_grad disagrees with primal / grad")
        expected_type = tuple if isinstance(w.wrt, tuple) else np.ndarray
        if not isinstance(g, expected_type):
            row["problems"].append(f"sd.grad returned {type(g).__name__}, expected {expected_type.__name__}")

    # 2. timing ----------------------------------------------------------------------------
    columns = {"primal": w.primal, "hand": w.hand_grad}
    if grad is not None:
        columns.update(grad=grad, value_and_grad=value_and_grad)
    for f in columns.values():          # warm (all compiled by now; this warms caches)
        f(*args)
    t0 = time.perf_counter()
    for f in columns.values():
        f(*args)
    per_round = time.perf_counter() - t0
    rounds = int(min(MAX_ROUNDS, max(MIN_ROUNDS, TIME_BUDGET / max(per_round, 1e-9))))
    times = {k: [] for k in columns}
    for _ in range(rounds):
        for k, f in columns.items():
            t0 = time.perf_counter()
            f(*args)
            times[k].append(time.perf_counter() - t0)
    row["rounds"] = rounds
    row["times"] = {k: statistics.median(v) for k, v in times.items()}
    row["spread"] = {k: (min(v), max(v)) for k, v in times.items()}

    # 3. memory ----------------------------------------------------------------------------
    row["mem_hand"] = peak_bytes(w.hand_grad, args)
    if grad is not None:
        row["mem_grad"] = peak_bytes(grad, args)
        row["mem_vg"] = peak_bytes(value_and_grad, args)
        row["tapes"] = tape_arrays(grad.source)
        row["tapes_vg"] = tape_arrays(value_and_grad.source)
    row["out_bytes"] = flat(hand).nbytes if any(np.ndim(args[i]) for i in indices) else 0
    return row


# ---- report ---------------------------------------------------------------------------

def machine_header(quick, only) -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(HERE.parent), "status", "--porcelain", "--", "s2sdiff"],
                               capture_output=True, text=True).stdout.strip()
        commit += " (s2sdiff/ modified)" if dirty else ""
    except OSError:
        commit = "unknown"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return "\n".join([
        "# s2sdiff reverse-mode benchmarks",
        "",
        f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {cpu}, {os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}",
        f"- software: Python {platform.python_version()}, numba {numba.__version__}, numpy {np.__version__}, "
        f"s2sdiff commit {commit}",
        f"- run: `python benchmarks/run.py{' --quick' if quick else ''}{' --only ' + ','.join(only) if only else ''}`",
        f"- load average at start (1/5/15 min): {load}",
    ])


def fmt_ms(t):
    return f"{t * 1e3:.2f}" if t is not None else "—"


def tables(rows) -> str:
    out = ["| workload | n | primal (ms) | hand adjoint (ms) | s2sdiff grad (ms) | grad ÷ primal | "
           "grad ÷ hand | value_and_grad ÷ hand | first call (s) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        t = r["times"]
        n = f"{r['size']:.0e}".replace("e+0", "e") + (" steps" if r["label"] == "steps" else "")
        if "error" in r:
            out.append(f"| {r['name']} | {n} | {fmt_ms(t['primal'])} | {fmt_ms(t['hand'])} | "
                       f"FAILED | — | — | — | — |")
            continue
        flag = " ⚠" if r["problems"] else ""
        out.append(f"| {r['name']}{flag} | {n} | {fmt_ms(t['primal'])} | {fmt_ms(t['hand'])} | "
                   f"{fmt_ms(t['grad'])} | {t['grad'] / t['primal']:.2f} | {t['grad'] / t['hand']:.2f} | "
                   f"{t['value_and_grad'] / t['hand']:.2f} | {r['first_call']:.2f} |")

    out += ["", "Details: value_and_grad time, its first call, and the fastest/slowest round (ms).", "",
            "| workload | value_and_grad (ms) | value_and_grad ÷ grad | first call value_and_grad (s) | "
            "rounds | primal min–max | hand min–max | grad min–max |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            continue
        t, s = r["times"], r["spread"]
        rng = lambda k: f"{s[k][0] * 1e3:.2f}–{s[k][1] * 1e3:.2f}"  # noqa: E731
        out.append(f"| {r['name']} | {fmt_ms(t['value_and_grad'])} | {t['value_and_grad'] / t['grad']:.2f} | "
                   f"{r['first_call_vg']:.2f} | {r['rounds']} | {rng('primal')} | {rng('hand')} | {rng('grad')} |")

    out += ["", "Memory: peak bytes allocated during one call (tracemalloc; numba arrays included), "
            "per element (array workloads) or per step (ODE). The gradient array itself is "
            "8 bytes per element.", "",
            "| workload | hand adjoint | s2sdiff grad | s2sdiff value_and_grad | tape arrays in sd.grad "
            "source | tape bytes per step/element from source |",
            "|---|---:|---:|---:|---|---:|"]
    for r in rows:
        per = r["size"]
        if "error" in r:
            out.append(f"| {r['name']} | {r['mem_hand'] / per:.2f} B | FAILED | FAILED | — | — |")
            continue
        tapes = r["tapes"]
        out.append(f"| {r['name']} | {r['mem_hand'] / per:.2f} B | {r['mem_grad'] / per:.2f} B | "
                   f"{r['mem_vg'] / per:.2f} B | {', '.join(tapes) or 'none'} | {8 * len(tapes)} B |")

    out += ["", "Validation (max-norm relative errors):", ""]
    for r in rows:
        out.append(f"- **{r['name']}**: " + "; ".join(r["checks"]))
        for p in r["problems"]:
            out.append(f"  - ⚠ {p}")
        if "error" in r:
            out.append(f"  - ⚠ s2sdiff failed: `{r['error']}`")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (1e5 elements, 1e4 ODE steps)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run only these workloads (repeatable or comma-separated): {', '.join(WORKLOADS)}")
    parser.add_argument("--output", default=str(HERE / "results.md"), help="markdown file to overwrite")
    args = parser.parse_args()
    only = [n for item in args.only for n in item.split(",") if n]
    for name in only:
        if name not in WORKLOADS:
            parser.error(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")

    header = machine_header(args.quick, only)
    print(header, flush=True)
    logs = []

    def log(text):
        logs.append(text)
        print(text, file=sys.stderr, flush=True)

    rows = []
    for name, w in WORKLOADS.items():
        if only and name not in only:
            continue
        size = w.quick_size if args.quick else w.size
        print(f"\n… {name} ({w.size_label}={size})", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        rows.append(run_workload(w, size, log))
        print(f"  done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

    body = tables(rows)
    print("\n" + body)
    text = header + "\n\n" + body + "\n"
    if logs:
        text += "\n## s2sdiff errors\n\n```\n" + "\n".join(logs) + "\n```\n"
    Path(args.output).write_text(text)
    print(f"\nwritten to {args.output}", file=sys.stderr)
    failed = any("error" in r or r["problems"] for r in rows)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
