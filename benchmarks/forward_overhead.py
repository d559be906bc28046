"""Forward mode on scalar code: transform time, compile time, derivative ÷ primal time.

    python benchmarks/forward_overhead.py [--n 1000000] [--repeat 15]

Prints a markdown table; all ratios come from one run on one machine.
"""
from __future__ import annotations

import argparse
import math
import time

import numba

import s2sdiff as sd


def scalar_loop(x, n):
    """A 20-line scalar function: a damped oscillator-like recurrence over n steps."""
    s = 0.0
    v = x
    for i in range(n):
        t = i * 1e-6
        a = math.sin(v * t + x)
        b = math.exp(-0.5 * t) * a
        if b > 0.0:
            s += b * b
        else:
            s -= 0.5 * b
        v = v + 0.001 * (b - 0.1 * v)
        if v > 10.0:
            v = 10.0
        elif v < -10.0:
            v = -10.0
        c = math.sqrt(1.0 + v * v)
        s += 0.01 * c
    return s + x * x


def median_time(f, *args, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f(*args)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    # Python-side transform: parse → normalize → analyze → forward → emit (no numba).
    transform_times = []
    for _ in range(20):
        sd.clear_caches()
        t0 = time.perf_counter()
        sd.derivative(scalar_loop, jit=False)
        transform_times.append(time.perf_counter() - t0)
    transform = sorted(transform_times)[len(transform_times) // 2]

    sd.clear_caches()
    t0 = time.perf_counter()
    d = sd.derivative(scalar_loop)
    d(0.3, 10)
    first_call = time.perf_counter() - t0

    primal = numba.njit(scalar_loop)
    primal(0.3, 10)
    check = sd.derivative(scalar_loop, jit=False)(0.3, 1000)
    assert math.isclose(d(0.3, 1000), check, rel_tol=1e-12)

    t_primal = median_time(primal, 0.3, args.n, repeat=args.repeat)
    t_deriv = median_time(d, 0.3, args.n, repeat=args.repeat)
    print("| measure | value |\n|---|---:|")
    print(f"| transform, Python side (20-line function) | {transform * 1e3:.1f} ms |")
    print(f"| transform + numba compile + first call | {first_call:.2f} s |")
    print(f"| njit primal, n={args.n:.0e} | {t_primal * 1e3:.2f} ms |")
    print(f"| forward derivative, n={args.n:.0e} | {t_deriv * 1e3:.2f} ms |")
    print(f"| derivative ÷ primal | {t_deriv / t_primal:.2f} |")


if __name__ == "__main__":
    main()
