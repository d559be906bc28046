"""Per-example gradients (issue 20): `sd.grad(f, batch=...)` beside a Python loop over
`sd.grad` and JAX's `jit(vmap(grad))`, at one core and at all cores.

    python benchmarks/per_example.py [--quick]

Each per-example time is divided by the same library's full-batch gradient (the gradient of
the summed loss), so a ratio says what a per-example gradient costs beyond the gradient of
the sum. Two processes, as whole_array.py: one held to one core (affinity, one BLAS, numba
and XLA thread), one with each library's defaults on all cores. Before timing, s2sdiff's
per-example gradients are checked against JAX's, and their sum against the full-batch
gradient.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import types
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


# ---- the losses: one example's, and the batch's sum -----------------------------------------
def logistic_example(w, x, y):
    return np.log(1.0 + np.exp(-y * np.dot(x, w)))


def logistic_batch(w, X, y):
    return np.sum(np.log(1.0 + np.exp(-y * (X @ w))))


def mlp_example(W1, b1, w2, b2, x, y):
    h = np.tanh(x @ W1 + b1)
    return 0.5 * (np.dot(h, w2) + b2 - y) ** 2


def mlp_batch(W1, b1, w2, b2, X, y):
    H = np.tanh(X @ W1 + b1)
    return 0.5 * np.sum((H @ w2 + b2 - y) ** 2)


def _cases(quick):
    rng = np.random.default_rng(0)
    n, d = (10_000, 32) if quick else (100_000, 32)
    X = rng.normal(size=(n, d))
    logistic = dict(example=logistic_example, batch=logistic_batch, params=(0.1 * rng.normal(size=d),),
                    data=(X, np.where(rng.normal(size=n) > 0, 1.0, -1.0)), size=f"n={n}, d={d}")
    n, d, h = (1024, 32, 64) if quick else (4096, 32, 64)
    X = rng.normal(size=(n, d))
    mlp = dict(example=mlp_example, batch=mlp_batch,
               params=(rng.normal(size=(d, h)) / np.sqrt(d), 0.1 * rng.normal(size=h), rng.normal(size=h) / np.sqrt(h),
                       0.1),
               data=(X, rng.normal(size=n)), size=f"n={n}, {d}→{h}→1")
    return {"logistic regression": logistic, "mlp": mlp}


def _as_jax(f, jnp):
    """f with `np` bound to jax.numpy: the same source, JAX's arrays."""
    return types.FunctionType(f.__code__, {**f.__globals__, "np": jnp}, f.__name__)


def measure(quick, all_cores):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    import s2sdiff as sd
    from timing import FULL, QUICK, medians
    limits = QUICK if quick else FULL
    rows = {}
    for name, case in _cases(quick).items():
        params, data = case["params"], case["data"]
        k = len(params)
        wrt = tuple(range(k))
        batch = tuple(range(k, k + len(data)))
        full = sd.grad(case["batch"], wrt=wrt)
        per_example = sd.grad(case["example"], wrt=wrt, batch=batch)
        one = sd.grad(case["example"], wrt=wrt)
        jax_full = jax.jit(jax.grad(_as_jax(case["batch"], jnp), argnums=wrt))
        jax_per_example = jax.jit(jax.vmap(jax.grad(_as_jax(case["example"], jnp), argnums=wrt),
                                           in_axes=(None,) * k + (0,) * len(data)))
        mine = per_example(*params, *data)
        theirs = jax_per_example(*params, *data)
        for a, b, summed in zip(mine, theirs, full(*params, *data)):
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(a.sum(axis=0), summed, rtol=1e-9, atol=1e-9)
        n = len(data[0])

        def python_loop():
            return [one(*params, *(d[i] for d in data)) for i in range(n)]

        def block(f):
            return lambda: jax.block_until_ready(f(*params, *data))
        # each column a group of its own: BLAS's threads, still spinning after the full-batch
        # gradient's X @ w, took a core from the per-example loop's threads when interleaved
        times = medians([{"full": lambda: full(*params, *data)}, {"batch": lambda: per_example(*params, *data)},
                         {"loop": python_loop}, {"jax full": block(jax_full)}, {"jax batch": block(jax_per_example)}],
                        limits)
        rows[name] = {"size": case["size"], **{key: t.median for key, t in times.items()}}
    return rows


def table(one, every) -> str:
    lines = ["| workload | size | cores | full-batch gradient ms | s2sdiff per-example ms | ÷ full | Python loop over "
             "sd.grad ms | ÷ full | JAX full ms | JAX vmap(grad) ms | ÷ JAX full | s2sdiff ÷ JAX vmap |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in one:
        for cores, part in (("1", one), ("all", every)):
            r = part[name]
            lines.append(f"| {name} | {r['size']} | {cores} | {1e3 * r['full']:.2f} | {1e3 * r['batch']:.2f} | "
                         f"{r['batch'] / r['full']:.2f} | {1e3 * r['loop']:.0f} | {r['loop'] / r['full']:.0f} | "
                         f"{1e3 * r['jax full']:.2f} | {1e3 * r['jax batch']:.2f} | "
                         f"{r['jax batch'] / r['jax full']:.2f} | {r['batch'] / r['jax batch']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short timing")
    parser.add_argument("--part", choices=("1", "all"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.part is None:
        from timing import in_two_processes
        parts = in_two_processes(__file__, ["--quick"] if options.quick else [])
        if isinstance(parts, int):
            return parts
        print(table(*parts))
        return 0
    if options.part == "1" and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from run import steady_malloc
    steady_malloc()         # as run.py: each call's 25 MB result reuses heap memory instead of faulting in pages
    print(json.dumps(measure(options.quick, options.part == "all")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
