"""Where the first call's seconds go (issue 15): per workload, in a new process with empty
caches (numba's and s2sdiff's), how long numba's start-up, the numba primal's compile +
first call, s2sdiff's transform alone and s2sdiff's compile + first call take, and which
functions numba compiled for s2sdiff, by kind, from numba's compile events; then the
first call in a second new process that finds the first one's caches (warm), and JAX's
first call of `jax.jit(jax.grad)` (when JAX is installed; a process of its own).

    python benchmarks/compile_profile.py [WORKLOAD ...] [--top N]

The workloads of workloads.py, and gmm: the Gaussian-mixture objective of gmm.py (seven
functions, N = 200 points), profiled only.

Each compiled function's own seconds exclude the functions compiled inside it (numba
compiles a callee while typing its caller). Kinds: "generated" (s2sdiff's derivative
units and wrappers), "runtime" (s2sdiff's helpers and their overloads), "primal" (the
user's functions s2sdiff calls as they are), "numba" (NumPy support inside numba).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _kind(dispatcher) -> str:
    func = getattr(dispatcher, "py_func", None)
    module = getattr(func, "__module__", "") or ""
    if hasattr(func, "s2sdiff_origin"):
        return "generated"
    if module == "s2sdiff.runtime":
        return "runtime"
    if module.startswith("numba") or module.startswith("numpy"):
        return "numba"
    return "primal"


def _own_seconds(buffer) -> list:
    """[(kind, name, own seconds)] for each compile in a numba:compile event recording."""
    stack, done = [], []
    for timestamp, event in buffer:
        if event.is_start:
            stack.append([event.data["dispatcher"], timestamp, 0.0])
        else:
            dispatcher, start, children = stack.pop()
            total = timestamp - start
            if stack:
                stack[-1][2] += total
            done.append((_kind(dispatcher), getattr(dispatcher, "__name__", str(dispatcher)), total - children))
    return done


def _case(name: str) -> tuple:
    """(f, its numba primal, wrt, sd.grad or sd.hessian, arguments, small arguments)."""
    import s2sdiff as sd
    sys.path.insert(0, str(HERE))
    if name == "gmm":           # a larger objective in helpers (issue 15), profiled only
        import gmm
        return gmm.gmm_objective, gmm.primal, (0, 1, 2), sd.grad, gmm.gmm_inputs(200), gmm.gmm_inputs(5)
    from workloads import WORKLOADS
    w = WORKLOADS[name]
    return (w.f_python, lambda: w.primal, w.wrt, sd.hessian if w.hessian else sd.grad, w.inputs(w.quick_size),
            w.inputs(min(w.oracle_size, w.quick_size)))


def warm_one(name: str) -> dict:
    """s2sdiff's first call in a process whose caches an earlier one filled."""
    import numba
    t0 = time.perf_counter()
    numba.njit(lambda: 0)()
    numba_start = time.perf_counter() - t0
    f, _, wrt, make, args, _ = _case(name)
    t0 = time.perf_counter()
    make(f, wrt=wrt)(*args)
    return {"numba_start": numba_start, "first_call": time.perf_counter() - t0}


def jax_one(name: str) -> dict:
    sys.path.insert(0, str(HERE))
    from peers import jax_peer
    _, _, wrt, make, args, _ = _case(name)
    return {"first_call": jax_peer.first_call(name, args, wrt, hessian=make.__name__ == "hessian")}


def profile_one(name: str, top: int) -> dict:
    import numba
    from numba.core import event

    t0 = time.perf_counter()
    numba.njit(lambda: 0)()
    numba_start = time.perf_counter() - t0

    f, primal_of, wrt, make, args, small = _case(name)
    compiled_primal = primal_of()

    t0 = time.perf_counter()
    compiled_primal(*args)
    primal = time.perf_counter() - t0

    t0 = time.perf_counter()
    make(f, wrt=wrt, jit=False)(*small)     # the transform, and one run of its Python
    transform = time.perf_counter() - t0

    with event.install_recorder("numba:compile") as recorder:
        t0 = time.perf_counter()
        derivative = make(f, wrt=wrt)
        derivative(*args)
        first_call = time.perf_counter() - t0
    compiles = _own_seconds(recorder.buffer)
    by_kind = defaultdict(lambda: [0, 0.0])
    for kind, _, seconds in compiles:
        by_kind[kind][0] += 1
        by_kind[kind][1] += seconds
    source = derivative.specialized(*args).source
    return {"workload": name, "numba_start": numba_start, "primal": primal, "transform": transform,
            "first_call": first_call, "lines": source.count("\n"), "compiles": len(compiles),
            "by_kind": {k: v for k, v in sorted(by_kind.items())},
            "top": sorted(compiles, key=lambda c: -c[2])[:top]}


def run(name: str, top: int) -> dict:
    """profile_one in a new process, with empty cache directories; warm_one in another that
    finds what the first stored; jax_one in a third."""
    def child(env, *options):
        out = subprocess.run([sys.executable, __file__, *options, name], env=env, capture_output=True, text=True,
                             check=True).stdout
        return json.loads(out.splitlines()[-1])

    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(cache, "numba"),
                   S2SDIFF_CACHE_DIR=os.path.join(cache, "s2sdiff"))
        result = child(env, "--top", str(top), "--one")
        result["warm"] = child(env, "--warm")
    try:
        result["jax"] = child(os.environ, "--jax")["first_call"]
    except subprocess.CalledProcessError as exc:        # JAX not installed (the bench extra)
        result["jax"], result["jax_missing"] = None, exc.stderr.strip().splitlines()[-1]
    return result


def report(results: list) -> str:
    lines = ["| workload | numba start-up (s) | primal compile + call (s) | s2sdiff transform (s) | "
             "s2sdiff compile + call, cold (s) | ÷ primal | warm, new process (s) | JAX jit(grad) first call (s) | "
             "generated lines | functions compiled | seconds by kind |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        kinds = ", ".join(f"{k} {n} in {s:.1f} s" for k, (n, s) in r["by_kind"].items())
        jax = "—" if r["jax"] is None else f"{r['jax']:.2f}"
        lines.append(f"| {r['workload']} | {r['numba_start']:.2f} | {r['primal']:.2f} | {r['transform']:.2f} | "
                     f"{r['first_call']:.2f} | {r['first_call'] / r['primal']:.1f} | {r['warm']['first_call']:.2f} | "
                     f"{jax} | {r['lines']} | {r['compiles']} | {kinds} |")
    missing = {r["jax_missing"] for r in results if r.get("jax_missing")}
    if missing:
        lines.append(f"\nJAX: {missing.pop()}")
    for r in results:
        lines.append(f"\n{r['workload']}, the slowest compiles (own seconds):")
        lines += [f"- {kind} {name}: {seconds:.2f} s" for kind, name, seconds in r["top"]]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*")
    parser.add_argument("--top", type=int, default=8)
    for mode in ("--one", "--warm", "--jax"):
        parser.add_argument(mode, action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    for mode, measure in ((options.one, lambda name: profile_one(name, options.top)), (options.warm, warm_one),
                          (options.jax, jax_one)):
        if mode:
            print(json.dumps(measure(options.workloads[0])))
            return
    sys.path.insert(0, str(HERE))
    from workloads import WORKLOADS
    print(report([run(name, options.top) for name in options.workloads or [*WORKLOADS, "gmm"]]))


if __name__ == "__main__":
    main()
