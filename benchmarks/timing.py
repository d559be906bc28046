"""Timing: medians over interleaved rounds, and the largest size a slow peer can afford."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from dataclasses import dataclass
from typing import Callable


def fmt_size(size) -> str:
    """1e6, 3e4 for the sizes the ladder makes; the number itself otherwise (256)."""
    short = f"{size:.0e}".replace("e+0", "e").replace("e+", "e")
    return short if float(short) == size else str(size)


@dataclass
class Limits:
    call: float          # seconds one timed call may take
    first: float         # seconds transform + compile + first call may take
    budget: float        # seconds of timing rounds per column
    min_rounds: int
    max_rounds: int = 201


FULL = Limits(call=1.0, first=20.0, budget=1.5, min_rounds=5)
QUICK = Limits(call=0.2, first=5.0, budget=0.3, min_rounds=3)


def beside_jax_options(description):
    """The options of the scripts that time one table beside JAX (--quick, --all-cores), and
    their timing limits; without --all-cores every library runs on one core."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes and short timing")
    parser.add_argument("--all-cores", action="store_true",
                        help="let JAX use every core (default: every library on one core, as benchmarks/run.py)")
    options = parser.parse_args()
    if not options.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})     # threads started later inherit it
    return options, QUICK if options.quick else FULL


@dataclass
class Timing:
    median: float
    fastest: float
    slowest: float
    rounds: int
    cores: float         # process CPU time ÷ wall time over the timed calls: the cores it kept busy


def medians(groups: list, limits: Limits) -> dict:
    """Median time of each zero-argument callable, `groups` a list of {key: callable}.

    Every column gets about `limits.budget` seconds of calls, within [min_rounds,
    max_rounds]. Within a group the rounds interleave the columns, so a drift in machine
    load hits them all alike; groups run one after the other, because libraries with
    thread pools of their own (XLA, PyTorch's OpenMP) keep their threads spinning for a
    while after each call and, interleaved on two cores, slowed each other down tenfold."""
    timings = {}
    for calls in groups:
        time.sleep(0.2)                  # let the previous group's idle threads go to sleep
        rounds = {}
        for key, f in calls.items():     # a warm-up call, which also sizes the rounds
            t0 = time.perf_counter()
            f()
            rounds[key] = int(min(limits.max_rounds, max(limits.min_rounds,
                                                         limits.budget / max(time.perf_counter() - t0, 1e-9))))
        samples = {key: [] for key in calls}
        cpu = dict.fromkeys(calls, 0.0)
        for r in range(max(rounds.values(), default=0)):
            for key, f in calls.items():
                if r < rounds[key]:
                    c0, t0 = time.process_time(), time.perf_counter()
                    f()
                    samples[key].append(time.perf_counter() - t0)
                    cpu[key] += time.process_time() - c0
        timings.update({key: Timing(statistics.median(v), min(v), max(v), len(v), cpu[key] / max(sum(v), 1e-12))
                        for key, v in samples.items()})
    return timings


def ladder(probe: int, target: int) -> list:
    """probe, 3 probe, 10 probe, 30 probe, ... below target, then target."""
    sizes, k = [], 0
    while True:
        size = probe * 10 ** (k // 2) * (3 if k % 2 else 1)
        if size >= target:
            return sizes + [target]
        sizes.append(size)
        k += 1


@dataclass
class Placement:
    size: int
    args: tuple
    prepared: object
    result: object
    first: float         # prepare (transform) where first tried + first call at this size
    call: float          # one later call
    note: str = ""       # why not the target size


def place(prepare: Callable, inputs: Callable, sizes: list, limits: Limits, unrolls: bool) -> Placement:
    """Run `prepare(inputs(size))` at the first size, then jump to the largest later size
    whose estimated call and first-call times stay within `limits`; stop at the last
    size or where no larger one fits. Call time is taken as linear in the size; compile
    time as constant, or quadratic where the peer unrolls loops (tangent-ad's JAX
    backend: 10 → 30 → 100 ODE steps took 1.6 → 7.4 → 36 s to compile)."""
    i, setup0 = 0, None
    while True:
        size = sizes[i]
        args = inputs(size)
        t0 = time.perf_counter()
        prepared = prepare(args)
        t1 = time.perf_counter()
        result = prepared.call()
        t2 = time.perf_counter()
        prepared.call()
        t3 = time.perf_counter()
        compiling = max(0.0, (t2 - t1) - (t3 - t2))
        # a transform is paid once, where first tried (later sizes may reuse a cached one)
        setup0 = t1 - t0 if setup0 is None else setup0
        p = Placement(size, args, prepared, result, setup0 + (t2 - t1), t3 - t2)
        if i == len(sizes) - 1:
            return p

        def estimate(bigger):
            grow = bigger / size
            call = p.call * grow
            return call, setup0 + compiling * (grow * grow if unrolls else 1.0) + call

        fits = [j for j in range(i + 1, len(sizes)) if estimate(sizes[j])[0] <= limits.call
                and estimate(sizes[j])[1] <= limits.first]
        if not fits:
            call, first = estimate(sizes[-1])
            what = f"{call:.3g} s per call" if call > limits.call else f"{first:.3g} s to compile and run once"
            p.note = f"est. {what} at {fmt_size(sizes[-1])}"
            return p
        i = max(fits)


# ---- one table from two processes: every library on one core, and on all cores ----------------
def environment(all_cores: bool) -> dict:
    """The environment of a part's process: this checkout's s2sdiff first on the path; for the
    one-core part, every thread pool held to one thread (affinity comes on top, set by the part)."""
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    env["OMP_WAIT_POLICY"] = "PASSIVE"       # as run.py: PyTorch's idle threads would spin into numba's time
    if not all_cores:
        for pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            env[pool] = "1"
        env["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_multi_thread_eigen=false".strip()
    return env


def in_two_processes(script, arguments):
    """[rows at one core, rows at all cores]: `script --part 1|all *arguments` run in a process
    of its own each, whose last line of output is its rows as JSON; or the return code of a
    part that failed."""
    parts = []
    for part in ("1", "all"):
        command = [sys.executable, str(Path(script).resolve()), "--part", part, *arguments]
        done = subprocess.run(command, env=environment(part == "all"), stdout=subprocess.PIPE, text=True)
        if done.returncode:
            return done.returncode
        parts.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return parts
