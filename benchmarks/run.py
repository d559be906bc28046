"""s2sdiff against the numba primal, a hand-written numba adjoint and the other AD tools.

    python benchmarks/run.py [--quick] [--only objective,ode] [--peers jax_peer,torch_peer]
    python -m s2sdiff bench [the same options]
    python -m s2sdiff bench --whole-array [--quick] [--only NAME,...]   (whole_array.py's table)

For each workload (workloads.py):
  1. the hand derivative is checked against complex-step references;
  2. s2sdiff's gradient (or Hessian) is built with empty caches, called once (the first
     call), and checked against the hand derivative and the references;
  3. each peer (peers/) is tried at a small size and grown towards the benchmark size
     while its estimated call and compile times fit the limits (timing.py): too slow a
     peer runs at a reduced size, stated in the table; its result is checked against the
     hand derivative at that size before it is timed;
  4. medians of interleaved rounds after warm-up, for every method and for the primal,
     the hand derivative and JAX at every size a peer used, so ratios compare like sizes;
  5. s2sdiff's first call in two new processes sharing fresh cache directories: cold,
     then warm (what an on-disk cache saves).
Writes results.md (tables, machine facts, validation) and results.png (bar chart).
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import traceback
from dataclasses import dataclass, field
from pathlib import Path

# PyTorch's OpenMP threads spin for a while after each call (OMP_WAIT_POLICY=active); on a
# 2-core machine that steals the cores from the numba code timed next. Set before any import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# glibc serves large blocks from fresh mmap pages unless its threshold, which adapts to the
# allocation history, has grown past them; first-touch page faults then cost a method more or
# less depending on what ran before it (the MLP primal: 19 or 9 ms). A fixed threshold and no
# trimming let every method's temporaries reuse heap memory. Process-wide: all methods alike.
MALLOC_SETTINGS = {"M_MMAP_THRESHOLD": (-3, 32 << 20), "M_TRIM_THRESHOLD": (-1, 1 << 30)}


def steady_malloc() -> str:
    """Apply MALLOC_SETTINGS where glibc is the allocator; what was set, for the machine facts."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return "allocator defaults (no glibc)"
    done = [f"{name}={value}" for name, (option, value) in MALLOC_SETTINGS.items() if libc.mallopt(option, value)]
    return "glibc mallopt " + ", ".join(done) if done else "allocator defaults"


# The CPUs this process may use. `--threads 1` holds every timed call to the first of them:
# capping thread pools is not enough, as XLA runs work on threads of its own whatever
# XLA_FLAGS say (CPU ÷ wall time reached 1.9 on notes_f). Holding the threads to one core
# makes "one core per library" a fact the timings' CPU ÷ wall column can show.
ALL_CPUS = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else frozenset()


def hold(cpus) -> None:
    """Hold every thread of this process to `cpus`; threads started later inherit their
    starter's set. Linux: every thread is a task in /proc/self/task; elsewhere nothing."""
    if not cpus:
        return
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):      # a thread that ended meanwhile
            os.sched_setaffinity(int(tid), cpus)


import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import s2sdiff as sd  # noqa: E402

import peers as peer_modules  # noqa: E402
import report  # noqa: E402
import timing  # noqa: E402
from checks import (RTOL_ORACLE, RTOL_VS_HAND, Failure, check_hand, complex_step_gradient,  # noqa: E402
                    rel_err)
from workloads import WORKLOADS  # noqa: E402


@dataclass
class Entry:
    """One method on one workload."""
    method: str
    size: int = None
    call: object = None          # the timed zero-argument callable
    first: float = None          # seconds: transform / compile + first call
    err: float = None            # max-norm relative error against the hand derivative
    status: str = ""             # "" when timed; else skipped, FAILED, wrong, not yet
    reason: str = ""
    note: str = ""               # why a reduced size
    time: timing.Timing = None


@dataclass
class Row:
    """One workload's results."""
    workload: object
    size: int
    entries: dict = field(default_factory=dict)      # method -> Entry
    baselines: dict = field(default_factory=dict)    # (method, size) -> Timing
    checks: list = field(default_factory=list)
    problems: list = field(default_factory=list)     # s2sdiff results that disagree
    extra: dict = field(default_factory=dict)        # details: value_and_grad, n × grad, memory
    processes: dict = field(default_factory=dict)    # cold / warm first call in new processes


class Progress:
    """A tqdm bar where tqdm is installed, plain lines on stderr where it is not."""

    def __init__(self, total):
        try:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="step", file=sys.stderr, dynamic_ncols=True)
        except ImportError:
            self.bar, self.done, self.total = None, 0, total

    def step(self, what):
        if self.bar is not None:
            self.bar.set_description(what)
            self.bar.update()
        else:
            self.done += 1
            print(f"[{self.done}/{self.total}] {what}", file=sys.stderr, flush=True)

    def write(self, text):
        (self.bar.write if self.bar is not None else lambda t: print(t, file=sys.stderr))(text)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def peak_bytes(f) -> int:
    """Peak traced memory during one call (numba's NRT allocates through PyMem_RawMalloc,
    which tracemalloc sees)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    f()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def first_line(exc) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


# ---- the methods -------------------------------------------------------------------------

def run_s2sdiff(row, args, log):
    """Build s2sdiff's derivative with empty caches, time its first call, check it."""
    w, size = row.workload, row.size
    small_size = min(w.oracle_size, size)
    small = w.inputs(small_size)
    hand = w.hand(*args)
    entry = row.entries["s2sdiff"] = Entry("s2sdiff", size)
    sd.clear_caches()
    try:
        t0 = time.perf_counter()
        grad = sd.grad(w.f_python, wrt=w.wrt)
        g = grad(*args)
        grad_first = time.perf_counter() - t0
        if not w.hessian:
            value_and_grad = sd.value_and_grad(w.f_python, wrt=w.wrt)
            t0 = time.perf_counter()
            value, g_vg = value_and_grad(*args)
            row.extra["vg_first"] = time.perf_counter() - t0
    except Exception as exc:     # the failure is the result: keep going
        entry.status, entry.reason = "FAILED", first_line(exc)
        log(traceback.format_exc())
        return

    def check(got, ref, rtol, what):
        err = rel_err(got, ref)
        row.checks.append(f"{what}: {err:.1e}")
        if not err <= rtol:
            row.problems.append(f"{what} is {err:.2e}")
        return err

    err = check(grad(*small), complex_step_gradient(w, small), RTOL_ORACLE,
                f"sd.grad vs complex step, all components at {w.size_label}={small_size}")
    if w.hessian:
        check(g, w.hand_grad(*args), RTOL_VS_HAND, f"sd.grad vs hand gradient at {w.size_label}={size}")
        row.extra["ngrad"] = lambda: [grad(*args) for _ in range(size)]
        if not hasattr(sd, "hessian"):
            entry.status, entry.reason = "not yet", "sd.hessian does not exist yet"
            return
        try:
            t0 = time.perf_counter()
            hessian = sd.hessian(w.f_python, wrt=w.wrt)
            result = hessian(*args)
            entry.first = time.perf_counter() - t0
        except Exception as exc:
            entry.status, entry.reason = "FAILED", first_line(exc)
            log(traceback.format_exc())
            return
        entry.err = check(result, hand, RTOL_VS_HAND, f"sd.hessian vs hand Hessian at {w.size_label}={size}")
        entry.call = lambda: hessian(*args)
        return

    entry.first = grad_first
    entry.err = check(g, hand, RTOL_VS_HAND, f"sd.grad vs hand adjoint at {w.size_label}={size}")
    primal_value = w.primal(*args)
    value_err = abs(value - primal_value) / max(abs(primal_value), 1e-300)
    row.checks.append(f"value_and_grad: value vs primal {value_err:.1e}, grad vs sd.grad {rel_err(g_vg, g):.1e}")
    if value_err > 1e-12 or rel_err(g_vg, g) > 1e-12:
        row.problems.append("value_and_grad disagrees with the primal or sd.grad")
    expected = tuple if isinstance(w.wrt, tuple) else np.ndarray
    if not isinstance(g, expected):
        row.problems.append(f"sd.grad returned {type(g).__name__}, expected {expected.__name__}")
    entry.call = lambda: grad(*args)
    row.extra["vg"] = lambda: value_and_grad(*args)
    try:                         # all cores: numba's parallel=True, chunked adjoint loops (parallel.py)
        threaded = sd.grad(w.f_python, wrt=w.wrt, parallel=True)
        check(threaded(*args), hand, RTOL_VS_HAND, f"sd.grad(parallel=True) vs hand adjoint at {w.size_label}={size}")
        row.extra["parallel"] = lambda: threaded(*args)
    except Exception as exc:
        row.checks.append(f"sd.grad(parallel=True) failed: {first_line(exc)}")
    if w.f_other_form is not None:
        try:
            other = sd.grad(w.f_other_form, wrt=w.wrt)
            check(other(*args), hand, RTOL_VS_HAND, f"sd.grad of the other form vs hand adjoint at {w.size_label}={size}")
            row.extra["other_form"] = lambda: other(*args)
        except Exception as exc:
            row.checks.append(f"sd.grad of the other form ({w.f_other_form.__name__}) failed: {first_line(exc)}")
    row.extra["memory"] = {"hand": peak_bytes(lambda: w.hand_grad(*args)),
                           "grad": peak_bytes(entry.call), "vg": peak_bytes(row.extra["vg"]),
                           "tapes": report.tape_arrays(grad.source)}


def run_peer(row, peer, limits):
    """Place the peer at the largest size it affords, check it, leave it ready to time."""
    w = row.workload
    entry = row.entries[peer.label] = Entry(peer.label)
    if peer.missing:
        entry.status, entry.reason = "skipped", peer.missing
        return
    if getattr(peer.module, "FULL_SIZE_ONLY", False):
        sizes = [row.size]
    else:
        sizes = timing.ladder(min(peer.probe.get(w.name, w.probe_size), row.size), row.size)
    chatter = io.StringIO()          # some peers print warnings on their first calls
    try:
        with contextlib.redirect_stdout(chatter):
            placed = timing.place(lambda a: peer.module.prepare(w, a), w.inputs, sizes, limits,
                                  w.name in peer.unrolls)
    except peer_modules.Unsupported as exc:
        entry.status, entry.reason = "skipped", str(exc)
        return
    except Exception as exc:
        entry.status, entry.reason = "FAILED", first_line(exc)
        return
    entry.size, entry.first, entry.note = placed.size, placed.first, placed.note
    entry.err = rel_err(placed.prepared.to_numpy(placed.result), w.hand(*placed.args))
    if not entry.err <= peer.rtol:
        entry.status, entry.reason = "wrong", f"differs from the hand derivative by {entry.err:.1e}"
        return
    entry.call = placed.prepared.call


def run_processes(w, size):
    """s2sdiff's first call in two new processes sharing empty cache directories."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="s2sdiff-bench-") as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=f"{tmp}/numba", XDG_CACHE_HOME=f"{tmp}/xdg")
        for name in ("cold", "warm"):
            done = subprocess.run([sys.executable, str(HERE / "first_call.py"), w.name, str(size)],
                                  env=env, capture_output=True, text=True, timeout=900)
            if done.returncode:
                return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
            result = json.loads(done.stdout.strip().splitlines()[-1])
            result["cache_files"] = sum(len(files) for _, _, files in os.walk(tmp))
            runs.append((name, result))
    return dict(runs)


# ---- one workload ----------------------------------------------------------------------------

def all_cores(row, calls, jax, cpus, limits) -> dict:
    """Timings on every core: s2sdiff's threaded adjoint (BLAS on as many threads), and JAX
    if the others held it to one. XLA splits work over the cores it may use when it
    compiles, so JAX compiles anew."""
    hold(ALL_CPUS)
    try:
        blas = contextlib.nullcontext()
        if cpus != ALL_CPUS:
            with contextlib.suppress(ImportError):
                from threadpoolctl import threadpool_limits
                blas = threadpool_limits(len(ALL_CPUS), user_api="blas")
        with blas:
            timings = timing.medians([{("s2sdiff parallel", row.size): row.extra["parallel"]}], limits)
        if cpus != ALL_CPUS and ("JAX", row.size) in calls:     # compiled after, so its threads idle before
            sys.modules["jax"].clear_caches()
            prepared = jax.module.prepare(row.workload, row.workload.inputs(row.size))
            prepared.call()
            timings.update(timing.medians([{("JAX all cores", row.size): prepared.call}], limits))
        return timings
    finally:
        hold(cpus)


def _peers(w, peers) -> list:
    """The peers a workload is timed with: none for another spelling of a workload's maths,
    which measures s2sdiff against itself."""
    return [] if w.variant_of else peers


def run_workload(w, size, peers, limits, progress, processes, cpus, log) -> Row:
    row = Row(w, size)
    args = w.inputs(size)
    row.checks += check_hand(w, size, args, np.random.default_rng(42))
    row.entries["primal"] = Entry("primal", size, lambda: w.primal(*args))
    row.entries["hand"] = Entry("hand", size, lambda: w.hand(*args))
    w.primal(*args)
    progress.step(f"{w.name}: s2sdiff")
    run_s2sdiff(row, args, log)
    for peer in _peers(w, peers):
        progress.step(f"{w.name}: {peer.label}")
        run_peer(row, peer, limits)

    # the primal, the hand derivative and JAX at every size some method used
    calls = {(e.method, e.size): e.call for e in row.entries.values() if e.call is not None}
    jax = next((p for p in _peers(w, peers) if p.label == "JAX" and row.entries["JAX"].call is not None), None)
    for s in sorted({e.size for e in row.entries.values() if e.call is not None} - {size}):
        small = w.inputs(s)
        calls[("primal", s)] = lambda a=small: w.primal(*a)
        calls[("hand", s)] = lambda a=small: w.hand(*a)
        if jax is not None and ("JAX", s) not in calls:
            prepared = jax.module.prepare(w, small)
            prepared.call()
            calls[("JAX", s)] = prepared.call
    if "ngrad" in row.extra:
        calls[("s2sdiff n × grad", size)] = row.extra["ngrad"]
    if "vg" in row.extra:
        calls[("s2sdiff value_and_grad", size)] = row.extra["vg"]
    if "other_form" in row.extra:
        calls[("s2sdiff other form", size)] = row.extra["other_form"]
    progress.step(f"{w.name}: timing")
    groups = {}                     # numba-compiled and plain-NumPy methods together, each library apart
    for key, f in calls.items():
        library = key[0] if key[0] in {p.label for p in peers} - {"central FD"} else "numba"
        groups.setdefault(library, {})[key] = f
    row.baselines = timing.medians(list(groups.values()), limits)
    if "parallel" in row.extra:
        row.baselines.update(all_cores(row, calls, jax, cpus, limits))
    for e in row.entries.values():
        if e.call is not None:
            e.time = row.baselines[(e.method, e.size)]
    if processes:
        progress.step(f"{w.name}: first call in new processes")
        row.processes = run_processes(w, size)
    return row


def main(argv=None, prog=None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes and time limits (a few minutes less; for development)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run only these workloads (repeatable or comma-separated): {', '.join(WORKLOADS)}")
    parser.add_argument("--size", action="append", default=[], metavar="NAME=N",
                        help="run a workload at another size (n, steps or batch rows), e.g. objective=1e5")
    parser.add_argument("--peers", metavar="LIST",
                        help=f"only these peers, comma-separated, or 'none': {', '.join(peer_modules.LABELS)}")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="cap the thread pools at N (BLAS and OpenMP through threadpoolctl, PyTorch; "
                             "N=1 also turns off XLA's Eigen pool and holds the timed calls to one core, "
                             "the parallel=True line aside); default 1, 0 leaves each library's own")
    parser.add_argument("--no-processes", action="store_true",
                        help="skip the cold/warm first call in new processes")
    parser.add_argument("--output", default=str(HERE / "results.md"),
                        help="markdown file to overwrite; the chart goes beside it as .png")
    parser.add_argument("--whole-array", action="store_true",
                        help="instead, whole_array.py's table: whole-array NumPy workloads beside JAX and PyTorch, "
                             "one core and all cores (takes --quick and --only)")
    args = parser.parse_args(argv)

    only = [n for item in args.only for n in item.split(",") if n]
    if args.whole_array:
        import whole_array
        return whole_array.main(["--quick"] * args.quick + (["--only", ",".join(only)] if only else []))
    for name in only:
        if name not in WORKLOADS:
            parser.error(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
    sizes = {}
    for item in (n for item in args.size for n in item.split(",") if n):
        name, _, value = item.partition("=")
        if name not in WORKLOADS or not value:
            parser.error(f"--size expects NAME=N with NAME one of {', '.join(WORKLOADS)}, got {item!r}")
        sizes[name] = int(float(value))
    keys = None
    if args.peers is not None:
        keys = [] if args.peers == "none" else args.peers.split(",")
        for key in keys:
            if key not in peer_modules.LABELS:
                parser.error(f"unknown peer {key!r}; choose from {', '.join(peer_modules.LABELS)}")

    # tangent-ad keeps generated code on disk: a fresh directory makes its first call as
    # cold as s2sdiff's, whatever earlier runs left behind
    tangent_cache = tempfile.TemporaryDirectory(prefix="tangent-ad-")
    os.environ["TANGENT_CACHE_DIR"] = tangent_cache.name
    limits = timing.QUICK if args.quick else timing.FULL
    threads = 1 if args.threads is None else args.threads
    if threads == 1:                 # read when jax starts, so before the peers import it
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_multi_thread_eigen=false".strip()
    peers = peer_modules.load(keys)
    capped = contextlib.ExitStack()
    uncapped = ""
    if threads:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            if args.threads is not None:
                parser.error("--threads needs threadpoolctl (pip install -e '.[bench]'), or --threads 0")
            uncapped = "- BLAS and OpenMP pools not capped: threadpoolctl is not installed"
        else:
            with contextlib.suppress(ImportError):
                import scipy.linalg.cython_blas  # noqa: F401 -- numba's BLAS: loaded now, so capped too
            capped.enter_context(threadpool_limits(threads))
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
    cpus = frozenset([min(ALL_CPUS)]) if threads == 1 and ALL_CPUS else ALL_CPUS
    if cpus != ALL_CPUS:
        hold(cpus)
    selected = [w for name, w in WORKLOADS.items() if not only or name in only]
    command = " ".join([prog or "python benchmarks/run.py"] + (argv if argv is not None else sys.argv[1:]))
    facts = report.machine_facts(peers, command, steady_malloc(), cpus, ALL_CPUS) + ([uncapped] if uncapped else [])

    logs = []
    progress = Progress(sum(len(_peers(w, peers)) + 2 + (not args.no_processes) for w in selected))

    def log(text):
        logs.append(text)
        progress.write(text)

    started = time.perf_counter()
    rows = []
    with capped:
        try:
            for w in selected:
                size = sizes.get(w.name, w.quick_size if args.quick else w.size)
                try:
                    rows.append(run_workload(w, size, peers, limits, progress, not args.no_processes, cpus, log))
                except Failure as exc:
                    log(f"{w.name}: {exc} — workload left out")
        finally:
            progress.close()
    facts.append(f"- run time: {time.perf_counter() - started:.0f} s; load average at end: "
                 + ", ".join(f"{x:.2f}" for x in os.getloadavg()))

    output = Path(args.output)
    chart = output.with_suffix(".png")
    chart_note = report.chart(rows, chart)
    text = report.document(rows, peers, facts, chart if chart.exists() else None, chart_note, logs)
    output.write_text(text)
    print(report.summary(rows, peers))
    print(f"\nwritten: {output}" + (f", {chart}" if chart.exists() else f" ({chart_note})"), file=sys.stderr)
    failed = any(r.entries["s2sdiff"].status == "FAILED" or r.problems for r in rows) or len(rows) < len(selected)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
