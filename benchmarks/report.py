"""The report: machine facts, markdown tables, the targets, and the bar chart."""
from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np

from timing import fmt_size

HERE = Path(__file__).resolve().parent
METHODS_TIMED = ("hand", "s2sdiff")      # columns before the peers
COLORS = {"hand": "#718096", "s2sdiff": "#2b6cb0", "s2sdiff other": "#90cdf4", "peer": "#ed8936"}
LOOP_TARGET, MLP_TARGET, WARM_TARGET = 1.25, 1.5, 0.5


# ---- formatting ------------------------------------------------------------------------------

def fmt_ratio(x) -> str:
    return "—" if x is None else f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def fmt_seconds(t) -> str:
    return "—" if t is None else f"{t:.3g}"


def tape_arrays(source: str) -> list:
    """Names of the tape arrays generated source allocates with new_tape(...)."""
    return sorted(set(re.findall(r"^\s*(\w+_tape)\s*=\s*new_tape\(", source, flags=re.M)))


def ratio(row, entry, baseline):
    """The entry's median over `baseline`'s (primal, hand or JAX) at the entry's size."""
    base = row.baselines.get((baseline, entry.size))
    return None if entry.time is None or base is None else entry.time.median / base.median


def cell(row, entry, baseline="primal") -> str:
    if entry.status:
        return {"skipped": "—", "wrong": "✗ wrong"}.get(entry.status, entry.status)
    value = fmt_ratio(ratio(row, entry, baseline))
    return value if entry.size == row.size else f"{value} (at {fmt_size(entry.size)})"


def method_columns(peers) -> list:
    return list(METHODS_TIMED) + [p.label for p in peers]


# ---- machine facts ---------------------------------------------------------------------------

def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory() -> str:
    try:
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        return f"{kib / 2 ** 20:.0f} GiB"
    except (OSError, IndexError, ValueError):
        return "unknown memory"


def _commit() -> str:
    try:
        run = lambda *a: subprocess.run(["git", "-C", str(HERE.parent), *a],  # noqa: E731
                                        capture_output=True, text=True).stdout.strip()
        commit = run("rev-parse", "--short", "HEAD") or "unknown"
        return commit + (" (s2sdiff/ modified)" if run("status", "--porcelain", "--", "s2sdiff") else "")
    except OSError:
        return "unknown"


def _threads() -> str:
    parts = [f"numba {numba.config.NUMBA_NUM_THREADS} (the primal and the adjoints run on one)"]
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        parts.append(f"PyTorch {torch.get_num_threads()} intra-op / {torch.get_num_interop_threads()} inter-op")
    if "jax" in sys.modules:
        parts.append(f"XLA {len(sys.modules['jax'].devices('cpu'))} CPU device, its own thread pool")
    try:
        from threadpoolctl import threadpool_info
        parts += [f"{p['internal_api']} {p['num_threads']} ({p.get('architecture', '?')})" for p in threadpool_info()]
    except ImportError:
        pass
    return "; ".join(parts)


def _cores(cpus, all_cpus) -> str:
    if not all_cpus:
        return "not held (no sched_setaffinity here)"
    if cpus == all_cpus:
        return f"every call free to use CPUs {_cpu_list(all_cpus)}"
    return (f"every timed call held to CPU {_cpu_list(cpus)} (sched_setaffinity on every thread of the process), "
            f"the all-cores lines on CPUs {_cpu_list(all_cpus)}")


def _cpu_list(cpus) -> str:
    return ", ".join(str(c) for c in sorted(cpus))


def machine_facts(peers, command, allocator, cpus, all_cpus) -> list:
    cores = os.cpu_count()
    usable = len(all_cpus) or cores
    env = ", ".join(f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                                     "OPENBLAS_CORETYPE", "XLA_FLAGS") if k in os.environ)
    import llvmlite
    software = [f"Python {platform.python_version()}", f"numpy {np.__version__}", f"numba {numba.__version__}",
                f"llvmlite {llvmlite.__version__}", f"s2sdiff commit {_commit()}"]
    return [
        f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {_cpu()}, {cores} logical cores ({usable} usable), {_memory()}, {platform.machine()}, "
        f"{platform.system()} {platform.release()}",
        f"- threads: {_threads()}",
        f"- cores: {_cores(cpus, all_cpus)}",
        f"- environment: {env or 'no thread or BLAS variables set'}; {allocator}",
        f"- software: {', '.join(software)}",
        "- peers: " + "; ".join(f"{p.label} {p.version}" if not p.missing else f"{p.label}: {p.missing}"
                                for p in peers),
        f"- run: `{command}`",
        "- load average at start (1/5/15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    ]


# ---- tables ----------------------------------------------------------------------------------

def summary(rows, peers) -> str:
    """Rows: workloads; columns: each method's time ÷ the numba primal's."""
    columns = method_columns(peers)
    out = ["| workload | n | primal (s) | " + " | ".join(columns) + " | s2sdiff ÷ hand | s2sdiff ÷ JAX |",
           "|---|---:|---:|" + "---:|" * (len(columns) + 2)]
    for r in rows:
        e, s2s = r.entries, r.entries["s2sdiff"]
        jax = e.get("JAX")
        vs_jax = ratio(r, s2s, "JAX") if jax is not None and jax.size == r.size else None
        out.append(f"| {r.workload.name} | {fmt_size(r.size)} | {fmt_seconds(e['primal'].time.median)} | "
                   + " | ".join(cell(r, e[m]) if m in e else "—" for m in columns)
                   + f" | {fmt_ratio(ratio(r, s2s, 'hand'))} | {fmt_ratio(vs_jax)} |")
    return "\n".join(out)


def workload_table(r, peers) -> list:
    w = r.workload
    what = "Hessian" if w.hessian else "gradient"
    out = [f"### {w.name}: {w.title} ({w.size_label} = {fmt_size(r.size)}, {what})", "",
           "| method | size | median (s) | ÷ primal | ÷ hand | ÷ JAX | cores busy | first call (s) | error vs hand |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    labels = {"primal": "numba primal", "hand": f"hand-written {what} (numba)",
              "s2sdiff": "s2sdiff " + ("sd.hessian" if w.hessian else "sd.grad")}
    for method in ["primal"] + method_columns(peers):
        e = r.entries.get(method)
        if e is None:
            continue
        name = labels.get(method, method)
        if e.status:
            out.append(f"| {name} | | {e.status}: {e.reason} | | | | | | |")
            continue
        size = fmt_size(e.size) + (f" ({e.note})" if e.note else "")
        err = "" if e.err is None else f"{e.err:.1e}"
        out.append(f"| {name} | {size} | {fmt_seconds(e.time.median)} | {fmt_ratio(ratio(r, e, 'primal'))} | "
                   f"{fmt_ratio(ratio(r, e, 'hand'))} | {fmt_ratio(ratio(r, e, 'JAX'))} | {e.time.cores:.1f} | "
                   f"{fmt_seconds(e.first)} | {err} |")
    for key, label in extra_rows(r):
        t = r.baselines.get(key)
        if t is not None:
            primal, hand = r.baselines[("primal", r.size)], r.baselines[("hand", r.size)]
            out.append(f"| {label} | {fmt_size(r.size)} | {fmt_seconds(t.median)} | "
                       f"{fmt_ratio(t.median / primal.median)} | {fmt_ratio(t.median / hand.median)} | | "
                       f"{t.cores:.1f} | | |")
    return out


def extra_rows(r) -> list:
    """s2sdiff's other timed variants: ((method, size) key, label)."""
    other = r.workload.f_other_form
    return [(("s2sdiff parallel", r.size), "s2sdiff sd.grad(parallel=True), all cores"),
            (("JAX all cores", r.size), "JAX, all cores"),
            (("s2sdiff value_and_grad", r.size), "s2sdiff sd.value_and_grad"),
            (("s2sdiff n × grad", r.size), f"s2sdiff: {r.size} × sd.grad"),
            (("s2sdiff other form", r.size), f"s2sdiff sd.grad of `{other.__name__}`" if other else "")]


def first_call_table(rows, peers) -> list:
    labels = [p.label for p in peers if p.key != "finite_diff"]
    out = ["| workload | s2sdiff, this process | s2sdiff, new process, cold | new process, warm | warm ÷ cold | "
           "numba start-up, cold / warm | files in the cache dirs | " + " | ".join(labels) + " |",
           "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(labels)]
    for r in rows:
        p = r.processes
        if "cold" in p:
            cold, warm = p["cold"]["seconds"], p["warm"]["seconds"]
            processes = (f"{cold:.2f} | {warm:.2f} | {warm / cold:.2f} | "
                         f"{p['cold']['numba_start_seconds']:.2f} / {p['warm']['numba_start_seconds']:.2f} | "
                         f"{p['cold']['cache_files']} → {p['warm']['cache_files']}")
        else:
            processes = " | ".join([p.get("error", "not run")] + [""] * 4)
        s2s = r.entries["s2sdiff"]
        peers_cells = []
        for label in labels:
            e = r.entries.get(label)
            peers_cells.append("—" if e is None or e.first is None else
                               fmt_seconds(e.first) + ("" if e.size == r.size else f" (at {fmt_size(e.size)})"))
        out.append(f"| {r.workload.name} | {fmt_seconds(s2s.first) if s2s.first is not None else s2s.status} | "
                   f"{processes} | " + " | ".join(peers_cells) + " |")
    return out


def targets(rows) -> list:
    """The issue's targets, each met (✓) or not (✗), with the numbers."""
    out = []

    def relative(r, method):
        e = r.entries.get(method)
        return None if e is None else ratio(r, e, "primal")

    for r in rows:
        name, s2s = r.workload.name, relative(r, "s2sdiff")
        if s2s is None:
            out.append(f"- {name}: s2sdiff {r.entries['s2sdiff'].status or 'not timed'}")
            continue
        if r.workload.loop:
            vs_hand = ratio(r, r.entries["s2sdiff"], "hand")
            out.append(f"- {name}: s2sdiff ÷ hand {vs_hand:.2f} {'✓' if vs_hand <= LOOP_TARGET else '✗'} "
                       f"(≤ {LOOP_TARGET})")
            others = {p: relative(r, p) for p in ("JAX", "tangent-ad", "tangent-ad (jax)")}
            others = {p: v for p, v in others.items() if v is not None}
            for peer, other in others.items():
                out.append(f"  - faster than {peer}: {s2s:.2f} vs {other:.3g} × primal "
                           f"{'✓' if s2s < other else '✗'}")
            threaded = r.baselines.get(("s2sdiff parallel", r.size))
            if threaded is not None:       # on more cores than the peers get: apart, labelled
                primal = r.baselines[("primal", r.size)].median
                par = threaded.median / primal
                jax = r.baselines.get(("JAX all cores", r.size))
                out.append(f"  - on all cores, sd.grad(parallel=True) with {numba.config.NUMBA_NUM_THREADS} numba "
                           f"threads: {par:.2f} × primal" + ("" if jax is None else
                           f"; faster than JAX on all cores ({jax.median / primal:.3g} × primal) "
                           f"{'✓' if threaded.median < jax.median else '✗'}"))
        elif name.startswith("mlp"):
            timed = {m: relative(r, m) for m in r.entries if m not in ("primal", "hand", "s2sdiff")}
            timed = {m: v for m, v in timed.items() if v is not None}
            if timed:
                best = min(timed, key=timed.get)
                out.append(f"- {name}: s2sdiff ÷ best peer ({best}) {s2s / timed[best]:.2f} "
                           f"{'✓' if s2s <= MLP_TARGET * timed[best] else '✗'} (≤ {MLP_TARGET})")
        elif r.workload.hessian:
            grad = r.baselines.get(("s2sdiff n × grad", r.size))
            if grad is not None:
                per_grad = grad.median / r.size
                hess = r.entries["s2sdiff"].time.median
                out.append(f"- {name}: sd.hessian ÷ sd.grad {hess / per_grad:.0f} "
                           f"{'✓' if hess <= 2 * r.size * per_grad else '✗'} (≤ 2n = {2 * r.size})")
    warm = [(r.workload.name, r.processes["warm"]["seconds"] / r.processes["cold"]["seconds"])
            for r in rows if "cold" in r.processes]
    if warm:
        ok = all(x <= WARM_TARGET for _, x in warm)
        out.append(f"- a second process reuses the compiled code (warm ÷ cold ≤ {WARM_TARGET}): "
                   f"{'✓' if ok else '✗'} — " + ", ".join(f"{n} {x:.2f}" for n, x in warm))
    return out


def details(rows) -> list:
    out = ["Spread of the rounds (fastest–slowest, s) and the number of rounds, at the benchmark size:", "",
           "| workload | primal | hand | s2sdiff | rounds (primal / hand / s2sdiff) |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        spread, counts = [], []
        for m in ("primal", "hand", "s2sdiff"):
            t = r.entries[m].time
            spread.append("—" if t is None else f"{t.fastest:.3g}–{t.slowest:.3g}")
            counts.append("—" if t is None else str(t.rounds))
        out.append(f"| {r.workload.name} | " + " | ".join(spread) + f" | {' / '.join(counts)} |")
    memory = [r for r in rows if "memory" in r.extra]
    if memory:
        out += ["", "Memory: peak bytes allocated during one call (tracemalloc; numba arrays included) per "
                "element (array workloads) or per step (ODE), and the tape arrays in sd.grad's source.", "",
                "| workload | hand adjoint | sd.grad | sd.value_and_grad | tape arrays |", "|---|---:|---:|---:|---|"]
        for r in memory:
            m = r.extra["memory"]
            out.append(f"| {r.workload.name} | {m['hand'] / r.size:.2f} B | {m['grad'] / r.size:.2f} B | "
                       f"{m['vg'] / r.size:.2f} B | {', '.join(m['tapes']) or 'none'} |")
    return out


def validation(rows) -> list:
    out = []
    for r in rows:
        out.append(f"- **{r.workload.name}**: " + "; ".join(r.checks))
        out += [f"  - ⚠ {p}" for p in r.problems]
        errs = [f"{e.method} {e.err:.1e} (at {fmt_size(e.size)})" for e in r.entries.values()
                if e.err is not None and e.method != "s2sdiff"]
        if errs:
            out.append("  - peers vs the hand derivative: " + ", ".join(errs))
        out += [f"  - {e.method} {e.status}: {e.reason}" for e in r.entries.values()
                if e.status in ("FAILED", "wrong", "not yet")]
    return out


def document(rows, peers, facts, chart_path, chart_note, logs) -> str:
    skipped = {}
    for r in rows:
        for e in r.entries.values():
            if e.status == "skipped":
                skipped.setdefault((e.method, e.reason), []).append(r.workload.name)
    reduced = [f"- {e.method} on {r.workload.name}: {r.workload.size_label} = {fmt_size(e.size)} ({e.note})"
               for r in rows for e in r.entries.values() if e.note and not e.status]
    out = ["# s2sdiff benchmarks", "", *facts, "",
           "## Gradient time ÷ numba primal time", "",
           "Medians of interleaved rounds after warm-up. A cell marked (at N) was measured at that "
           "reduced size, against the primal at the same size. — is a skipped peer (reasons below); "
           "✗ a result that disagrees with the hand derivative (not timed).", "",
           summary(rows, peers), ""]
    if chart_path is not None:
        out += [f"![gradient time ÷ primal time]({chart_path.name})", ""]
    elif chart_note:
        out += [f"(No chart: {chart_note}.)", ""]
    out += ["## Targets", "", *targets(rows), ""]
    if reduced:
        out += ["## Reduced sizes", "", "Too slow at the benchmark size within the run's limits:", "", *reduced, ""]
    if skipped:
        out += ["## Skipped", "", *[f"- {m} ({', '.join(names)}): {reason}" for (m, reason), names in skipped.items()],
                ""]
    out += ["## First call (s)", "",
            "Transform + compile + one call. s2sdiff in this process starts from empty in-memory caches "
            "(numba itself already warm); the new processes share fresh cache directories "
            "(NUMBA_CACHE_DIR, XDG_CACHE_HOME): the first finds them empty (cold), the second finds what "
            "the first left (warm). Each new process first compiles a trivial numba function, timed apart "
            "as numba's start-up: its registries and SciPy's BLAS load once per process, whatever is "
            "compiled or loaded first, and no cache saves them. Peers: their first call at the size they ran at "
            "(JAX: tracing and "
            "XLA compilation; tangent-ad: the transform, with its disk cache in a fresh directory).", "",
            *first_call_table(rows, peers), "",
            "## Every method, per workload", ""]
    for r in rows:
        out += workload_table(r, peers) + [""]
    out += ["## s2sdiff details", "", *details(rows), "",
            "## Validation (max-norm relative errors)", "", *validation(rows), ""]
    if logs:
        out += ["## Errors", "", "```", *logs, "```", ""]
    return "\n".join(out)


# ---- the chart -------------------------------------------------------------------------------

def chart(rows, path) -> str:
    """A bar chart of time ÷ primal per workload and method; returns why not if it cannot."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]')"
    if not rows:
        return "no workloads ran"
    cols = 2
    fig, axes = plt.subplots((len(rows) + cols - 1) // cols, cols, figsize=(12, 2.6 * ((len(rows) + 1) // cols)),
                             squeeze=False)
    for ax, r in zip(axes.flat, rows):
        primal = r.baselines[("primal", r.size)].median
        bars = [(e.method + ("" if e.size == r.size else f" (at {fmt_size(e.size)})"), ratio(r, e, "primal"),
                 e.size != r.size, COLORS.get(e.method, COLORS["peer"]))
                for e in r.entries.values() if e.method != "primal" and e.time is not None]
        if ("s2sdiff n × grad", r.size) in r.baselines:     # what a Hessian costs s2sdiff until sd.hessian
            bars.append((f"s2sdiff {r.size} × grad", r.baselines[("s2sdiff n × grad", r.size)].median / primal,
                         False, COLORS["s2sdiff other"]))
        labels, values = [b[0] for b in bars], [b[1] for b in bars]
        y = np.arange(len(bars))
        drawn = ax.barh(y, values, color=[b[3] for b in bars])
        for bar, (_, _, reduced, _) in zip(drawn, bars):
            if reduced:
                bar.set_hatch("//")
        ax.bar_label(drawn, labels=[fmt_ratio(v) for v in values], fontsize=7, padding=2)
        ax.set_yticks(y, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", linewidth=0.6)
        ax.set_xlim(min(values + [1.0]) / 2, max(values + [1.0]) * 8)
        ax.set_title(f"{r.workload.name} ({r.workload.size_label} = {fmt_size(r.size)})", fontsize=9)
    for ax in list(axes.flat)[len(rows):]:
        ax.axis("off")
    fig.suptitle("time ÷ numba primal time (log scale, lower is better; hatched: reduced size)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return ""
