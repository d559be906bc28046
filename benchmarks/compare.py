"""Run time of s2sdiff's derivatives in this checkout against another one (an earlier
commit's `git worktree`, say): every workload at its benchmark size, and the GMM of
gmm.py, each checkout in processes of its own, alternating, one thread, min of 7 repeats.

    python benchmarks/compare.py OTHER_CHECKOUT [--rounds 2] [--only mlp_large,hessian]

Prints a table of seconds per call for each process and the ratio of the medians (this ÷
other). Both checkouts run this checkout's workloads, so only s2sdiff differs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPEATS = 7


def measure(only) -> dict:
    """Seconds per call of each workload's derivative with the s2sdiff on sys.path."""
    import numba
    numba.set_num_threads(1)
    import s2sdiff as sd
    checkout = os.environ.get("PYTHONPATH")
    if checkout and not Path(sd.__file__).resolve().is_relative_to(Path(checkout).resolve()):
        raise SystemExit(f"s2sdiff comes from {sd.__file__}, not from {checkout}")
    sys.path.insert(0, str(HERE))
    import gmm
    from workloads import WORKLOADS
    cases = {name: ((sd.hessian if w.hessian else sd.grad)(w.f_python, wrt=w.wrt), w.inputs(w.size))
             for name, w in WORKLOADS.items() if name in only}
    if "gmm" in only:
        cases["gmm"] = (sd.grad(gmm.gmm_objective, wrt=(0, 1, 2)), gmm.gmm_inputs(1000))
    seconds = {}
    for name, (derivative, args) in cases.items():
        derivative(*args)                                       # compile
        once = timeit.timeit(lambda: derivative(*args), number=1)
        number = max(1, int(0.25 / max(once, 1e-7)))
        seconds[name] = min(timeit.repeat(lambda: derivative(*args), number=number, repeat=REPEATS)) / number
    return seconds


def run(checkout: Path, only) -> dict:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    out = subprocess.run([sys.executable, __file__, "--measure", ",".join(only)], env=env, capture_output=True,
                         text=True, check=True, cwd=checkout).stdout
    return json.loads(out.splitlines()[-1])


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} µs"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", nargs="?", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    options = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from workloads import WORKLOADS
    if options.measure is not None:
        print(json.dumps(measure(set(options.measure.split(",")))))
        return
    if options.other is None:
        parser.error("give the other checkout")
    only = options.only.split(",") if options.only else [*WORKLOADS, "gmm"]
    this, other = HERE.parent, options.other.resolve()
    results = {this: [], other: []}
    for _ in range(options.rounds):
        for checkout in (other, this):
            results[checkout].append(run(checkout, only))
    print(f"| workload | {other.name} (s per call, each process) | {this.name} | {this.name} ÷ {other.name} |")
    print("|---|---|---|---:|")
    for name in only:
        mine, theirs = ([r[name] for r in results[c]] for c in (this, other))
        print(f"| {name} | {' / '.join(map(_time, theirs))} | {' / '.join(map(_time, mine))} | "
              f"{statistics.median(mine) / statistics.median(theirs):.2f} |")


if __name__ == "__main__":
    main()
