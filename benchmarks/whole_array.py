"""Whole-array NumPy workloads (issue 19): s2sdiff beside JAX and PyTorch, each gradient ÷ its own primal.

    python benchmarks/whole_array.py [--quick] [--only NAME,...]
    python -m s2sdiff bench --whole-array [--quick]

Objectives written the way NumPy users write them — BLAS-style updates, a 2-D five-point
stencil stepped in time, softmax cross-entropy, a layer norm, a Gaussian mixture's
log-sum-exp log-likelihood, a two-layer MLP — and three loop objectives of workloads.py
written as users write them (`x[(i + 1) % n]`, `x[i] ** 2`, the notes' f as whole arrays).
s2sdiff differentiates each as written (`sd.grad`, and `sd.grad(..., parallel=True)`);
JAX (`jax.jit(jax.grad)`, float64) and PyTorch (eager, float64, torch.autograd) run the
same NumPy source with `np` bound to their own array module (the loops' whole-array form).

Two processes: one with every library held to one core (affinity, one BLAS/OpenMP/numba
thread, XLA's Eigen pool off), one with each library's defaults on all cores (s2sdiff
with parallel=True). In each, every gradient is checked before it is timed: against a
complex step along a random direction, and s2sdiff's against the peers' whole gradients;
a cell that fails says why instead of a time. Each ratio is the library's gradient ÷ its
own primal in the same process: s2sdiff's is the primal s2sdiff compiles, JAX's
`jax.jit(f)`, PyTorch's eager f without autograd.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
sys.path.insert(0, str(HERE))
LIBRARIES = ("s2sdiff", "JAX", "PyTorch")
RTOL = 1e-8          # every gradient against the complex step, s2sdiff against the peers


# ---- the workloads, as NumPy users write them ----------------------------------------------
def least_squares(A, x, b):
    r = A @ x - b
    return 0.5 * np.sum(r ** 2) + 1e-3 * np.sum(x ** 2)


def rank_one(A, u, v):
    return np.sum(np.tanh(A + np.outer(u, v)) ** 2)


def gemm(alpha, A, B, beta, C):
    return np.sum((alpha * A @ B + beta * C) ** 2)


def heat(u, c, steps):
    """Explicit heat steps on the interior: the grid loses its border every step."""
    for _ in range(steps):
        u = u[1:-1, 1:-1] + c * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1])
    return np.sum(u ** 2)


def heat_padded(u, c, steps):
    """The same steps with a zero border put back (np.pad), so the grid keeps its shape."""
    for _ in range(steps):
        u = np.pad(u[1:-1, 1:-1] + c * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2]
                                        - 4 * u[1:-1, 1:-1]), ((1, 1), (1, 1)))
    return np.sum(u ** 2)


def layer_norm(X, gamma, beta):
    """numpy_surface.layer_norm with the variance as a mean of squares: `X.var` means
    something else on tensors (PyTorch divides by n - 1) and drops a complex step."""
    mu = np.mean(X, axis=1, keepdims=True)
    var = np.mean((X - mu) ** 2, axis=1, keepdims=True)
    return np.sum(np.tanh((X - mu) / np.sqrt(var + 1e-5) * gamma + beta) ** 2)


def gmm(logits, means, log_scales, X):
    """Log-likelihood of X under a mixture of isotropic Gaussians."""
    d = X.shape[1]
    sq = np.sum((X[:, None, :] - means[None, :, :]) ** 2, axis=2)
    top_w = np.max(logits)
    log_w = logits - top_w - np.log(np.sum(np.exp(logits - top_w)))
    terms = log_w - d * log_scales - 0.5 * sq * np.exp(-2 * log_scales) - d * HALF_LOG_2PI
    top = np.max(terms, axis=1, keepdims=True)
    return np.sum(top[:, 0] + np.log(np.sum(np.exp(terms - top), axis=1)))


def mlp(W1, b1, W2, b2, X, Y):
    H = np.maximum(X @ W1.T + b1, 0)
    return np.mean((H @ W2.T + b2 - Y) ** 2)


# the loop forms are workloads.py's objective_periodic and rosenbrock_pow; the peers run these
def objective_periodic_array(x):
    return np.sum(0.1 * (x - np.arange(len(x))) ** 2 + np.sin(x) * np.cos(np.roll(x, -1)) + np.exp(-x ** 2))


def rosenbrock_pow_array(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


# ---- problems ------------------------------------------------------------------------------
@dataclass
class Case:
    name: str
    f: Callable                      # what s2sdiff differentiates
    inputs: Callable                 # quick -> the arguments
    wrt: object
    size: Callable                   # the arguments -> the size column
    array_form: Callable = None      # the whole-array form the peers run (f itself if None)
    f_complex: Callable = None       # for the complex step (the array form if None)
    hessian: bool = False            # (read by the peers' prepare)

    def __post_init__(self):
        self.array_form = self.array_form or self.f
        self.f_complex = self.f_complex or self.array_form


def _rng():
    return np.random.default_rng(19)


def _pick(quick, full, small):
    return small if quick else full


def _shape(a):
    return "×".join(map(str, np.shape(a)))


def _heat_inputs(quick):
    n, steps = (128, 20) if quick else (256, 50)
    return 0.5 * _rng().standard_normal((n, n)), 0.2, steps


def _cases():
    from numpy_surface import classifier, inputs as surface_inputs
    from workloads import notes_f_inputs, notes_f_whole_array, objective_periodic, rosenbrock_pow

    def blas_inputs(quick, full, small, pattern):
        """Arguments in `pattern`'s order: "A" a matrix, "x" a vector, a float itself."""
        n, rng = _pick(quick, full, small), _rng()
        made = {"A": lambda: rng.standard_normal((n, n)) / math.sqrt(n), "x": lambda: rng.standard_normal(n)}
        return tuple(made[p]() if p in made else p for p in pattern)

    def gmm_inputs(quick):
        n, k, d = (2000, 8, 4) if quick else (10_000, 16, 8)
        rng = _rng()
        return rng.standard_normal(k), rng.standard_normal((k, d)), 0.1 * rng.standard_normal(k), \
            rng.standard_normal((n, d))

    def mlp_inputs(quick):
        n, d, h, o = (1024, 64, 128, 10) if quick else (4096, 128, 256, 10)
        rng = _rng()
        return (rng.standard_normal((h, d)) / math.sqrt(d), 0.1 * rng.standard_normal(h),
                rng.standard_normal((o, h)) / math.sqrt(h), 0.1 * rng.standard_normal(o),
                rng.standard_normal((n, d)), rng.standard_normal((n, o)))

    def layer_norm_inputs(quick):
        n, d = (1024, 64) if quick else (4096, 256)
        rng = _rng()
        return rng.standard_normal((n, d)), 1.0 + 0.1 * rng.standard_normal(d), 0.1 * rng.standard_normal(d)

    loop_n = lambda quick: _pick(quick, 1_000_000, 100_000)   # noqa: E731
    heat_size = lambda a: f"{_shape(a[0])}, {a[2]} steps"       # noqa: E731
    cases = [
        Case("least_squares", least_squares, lambda q: blas_inputs(q, 2000, 500, ("A", "x", "x")), (0, 1),
             lambda a: f"A {_shape(a[0])}"),
        Case("rank_one", rank_one, lambda q: blas_inputs(q, 1000, 300, ("A", "x", "x")), (0, 1, 2),
             lambda a: f"A {_shape(a[0])}"),
        Case("gemm", gemm, lambda q: blas_inputs(q, 400, 150, (0.7, "A", "A", 0.3, "A")), (0, 1, 2, 3, 4),
             lambda a: _shape(a[1])),
        Case("heat", heat, _heat_inputs, 0, heat_size),
        Case("heat_padded", heat_padded, _heat_inputs, 0, heat_size),
        Case("softmax_xent", classifier, lambda q: surface_inputs("classifier", q), 0,
             lambda a: f"X {_shape(a[1])}, {a[2].shape[1]} classes"),
        Case("layer_norm", layer_norm, layer_norm_inputs, (0, 1, 2), lambda a: _shape(a[0])),
        Case("gmm", gmm, gmm_inputs, (0, 1, 2), lambda a: f"n={len(a[3])}, d={a[3].shape[1]}, K={len(a[0])}"),
        Case("mlp", mlp, mlp_inputs, (0, 1, 2, 3),
             lambda a: f"X {_shape(a[4])}, hidden {len(a[1])}"),
        Case("objective_periodic", objective_periodic, lambda q: (_rng().uniform(-2, 2, loop_n(q)),), 0,
             lambda a: f"n={len(a[0])}", objective_periodic_array),
        Case("rosenbrock_pow", rosenbrock_pow, lambda q: (_rng().uniform(-2, 2, loop_n(q)),), 0,
             lambda a: f"n={len(a[0])}", rosenbrock_pow_array),
        Case("notes_f_array", notes_f_whole_array, lambda q: notes_f_inputs(loop_n(q)), 0,
             lambda a: f"n={len(a[0])}"),
    ]
    return {c.name: c for c in cases}


# ---- PyTorch under NumPy's names -------------------------------------------------------------
class TorchAsNumpy:
    """`np` for the workloads' source run on tensors: torch's functions, where NumPy's
    name or arguments differ, adapted."""

    def __init__(self, torch):
        self.torch = torch

    def __getattr__(self, name):           # exp, log, sum, mean, outer, roll, arange, ...
        return getattr(self.torch, name)

    def max(self, a, axis=None, keepdims=False):
        return self.torch.amax(a, dim=() if axis is None else axis, keepdim=keepdims)

    def maximum(self, a, b):
        return self.torch.clamp_min(a, b) if isinstance(b, (int, float)) else self.torch.maximum(a, b)

    def pad(self, a, widths):
        return self.torch.nn.functional.pad(a, [w for pair in reversed(widths) for w in pair])


# ---- one process: check, then time -----------------------------------------------------------
def _first_line(exc):
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _peer_calls(case, args, library):
    """(primal, gradient, gradient as numpy) of the array form run by JAX or PyTorch."""
    from numpy_surface import translated
    import peers
    if library == "JAX":
        import jax
        from peers import jax_peer
        f = translated(case.array_form, jax.numpy)
        static = tuple(i for i, a in enumerate(args) if isinstance(a, int))
        primal = jax.jit(f, static_argnums=static)
        device_args = tuple(a if isinstance(a, (int, float)) else jax.numpy.asarray(a) for a in args)
        prepared = jax_peer.prepare(case, args, f)
        return lambda: jax.block_until_ready(primal(*device_args)), prepared.call, \
            lambda: peers.as_numpy(prepared.call())
    import torch
    from peers import torch_peer
    f = translated(case.array_form, TorchAsNumpy(torch))
    prepared = torch_peer.prepare(case, args, f)
    tensors = [a if isinstance(a, int) else torch_peer._tensor(a) for a in args]

    def primal():
        with torch.no_grad():
            return f(*tensors)
    return primal, prepared.call, lambda: prepared.to_numpy(prepared.call())


def measure(cases, all_cores, quick):
    """Rows for one process: {name, size, primal_ms, cells: {library: ratio or reason}, ms: {...}}."""
    import s2sdiff as sd
    from checks import complex_step, flat, rel_err
    from python_objectives import s2sdiff_primal
    from timing import FULL, QUICK, medians
    limits = QUICK if quick else replace(FULL, budget=0.75)
    s2sdiff_label = "s2sdiff parallel" if all_cores else "s2sdiff"
    rows = []
    for case in cases:
        print(f"[{'all cores' if all_cores else '1 core'}] {case.name}", file=sys.stderr, flush=True)
        args = case.inputs(quick)
        row = {"name": case.name, "size": case.size(args), "cells": {}, "ms": {}}
        rows.append(row)
        direction = _rng().standard_normal(flat(tuple(args[i] for i in wrt_tuple(case))).size)
        reference = complex_step(case, args, direction)
        groups, gradients, valid = {}, {}, []

        def fails(label, gradient):
            """Why `gradient` is wrong, or None."""
            err = abs(float(flat(gradient) @ direction) - reference) / max(abs(reference), 1e-300)
            if not err <= RTOL:
                return f"differs from the complex step by {err:.1e}"
            for peer in valid:
                err = rel_err(gradient, gradients[peer])
                if not err <= RTOL:
                    return f"differs from {peer} by {err:.1e}"
            return None

        for library in LIBRARIES[1:]:
            try:
                primal, grad, as_numpy = _peer_calls(case, args, library)
                gradients[library] = as_numpy()
            except ImportError as exc:
                row["cells"][library] = f"not installed ({exc.name})"
                continue
            except Exception as exc:
                row["cells"][library] = f"failed: {_first_line(exc)}"
                continue
            reason = fails(library, gradients[library])
            if reason:
                row["cells"][library] = reason
                continue
            valid.append(library)
            groups[library] = {(library, "primal"): primal, (library, "grad"): grad}
        reason = None
        try:
            primal = s2sdiff_primal(case.f, args)
            value = float(primal())
        except Exception as exc:
            reason = f"its primal failed: {_first_line(exc)}"
        else:
            if abs(value - float(case.array_form(*args))) > 1e-9 * abs(value):
                raise RuntimeError(f"{case.name}: the function and its array form differ")
            groups["numba"] = {("s2sdiff", "primal"): primal}
            try:
                grad = sd.grad(case.f, wrt=case.wrt, parallel=all_cores)
                reason = fails(s2sdiff_label, grad(*args))
            except sd.S2SDiffError as exc:
                reason = f"refused: {_first_line(exc)}"
            except Exception as exc:
                reason = f"failed: {_first_line(exc)}"
        if reason:
            row["cells"][s2sdiff_label] = reason
        else:
            groups["numba"][("s2sdiff", "grad")] = lambda: grad(*args)
            if all_cores:       # parallel=True against serial in one process: the same threads about
                serial = sd.grad(case.f, wrt=case.wrt)
                serial(*args)
                groups["numba"][("s2sdiff", "serial")] = lambda: serial(*args)
        timings = {key: t.median for key, t in medians(list(groups.values()), limits).items()}
        if ("s2sdiff", "primal") in timings:
            row["primal_ms"] = 1e3 * timings[("s2sdiff", "primal")]
        for library in LIBRARIES:
            if (library, "grad") in timings:
                label = s2sdiff_label if library == "s2sdiff" else library
                row["cells"][label] = timings[(library, "grad")] / timings[(library, "primal")]
                row["ms"][label] = 1e3 * timings[(library, "grad")]
        if ("s2sdiff", "serial") in timings:
            row["parallel_gain"] = timings[("s2sdiff", "serial")] / timings[("s2sdiff", "grad")]
    return rows


def wrt_tuple(case):
    return case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)


# ---- two processes, one table --------------------------------------------------------------
def _cell(value, notes):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}"
    notes.append(value)
    return f"✗ [{len(notes)}]"


def _best(row, labels):
    ratios = [row["cells"].get(label) for label in labels]
    ratios = [r for r in ratios if isinstance(r, float)]
    return min(ratios) if ratios else None


def table(one, every) -> str:
    """The markdown table of both processes' rows, the reasons of failed cells below it."""
    notes = []
    lines = ["| workload | size | primal ms | s2sdiff | s2sdiff parallel | JAX 1 core | JAX all cores "
             "| PyTorch 1 core | PyTorch all cores | s2sdiff ÷ best peer | parallel ÷ best peer, all cores "
             "| serial ÷ parallel, all cores |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    timings = ["| workload | s2sdiff | s2sdiff parallel | JAX 1 core | JAX all cores | PyTorch 1 core "
               "| PyTorch all cores |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r1, ra in zip(one, every):
        c1, ca = r1["cells"], ra["cells"]
        cells = [c1.get("s2sdiff"), ca.get("s2sdiff parallel"), c1.get("JAX"), ca.get("JAX"),
                 c1.get("PyTorch"), ca.get("PyTorch")]
        best1, best_all = _best(r1, ("JAX", "PyTorch")), _best(ra, ("JAX", "PyTorch"))
        versus = [c1["s2sdiff"] / best1 if isinstance(c1.get("s2sdiff"), float) and best1 else None,
                  ca["s2sdiff parallel"] / best_all if isinstance(ca.get("s2sdiff parallel"), float) and best_all
                  else None]
        primal = f"{r1['primal_ms']:.2f}" if "primal_ms" in r1 else "—"
        gain = f"{ra['parallel_gain']:.2f}" if "parallel_gain" in ra else "—"
        lines.append(f"| {r1['name']} | {r1['size']} | {primal} | "
                     + " | ".join(_cell(c, notes) for c in cells + versus) + f" | {gain} |")
        ms = [r1["ms"].get("s2sdiff"), ra["ms"].get("s2sdiff parallel"), r1["ms"].get("JAX"), ra["ms"].get("JAX"),
              r1["ms"].get("PyTorch"), ra["ms"].get("PyTorch")]
        timings.append(f"| {r1['name']} | " + " | ".join("—" if m is None else f"{m:.2f}" for m in ms) + " |")
    text = "\n".join(lines) + "\n\nGradient ms:\n\n" + "\n".join(timings) + "\n"
    return text + "".join(f"\n[{i}] {note}" for i, note in enumerate(notes, 1)) + ("\n" if notes else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short timing")
    parser.add_argument("--only", metavar="NAME,...", help="only these workloads")
    parser.add_argument("--part", choices=("1", "all"), help=argparse.SUPPRESS)    # one process's rows, as JSON
    options = parser.parse_args(argv)
    only = options.only.split(",") if options.only else None
    if options.part is None:
        from timing import in_two_processes
        parts = in_two_processes(__file__, (["--quick"] if options.quick else [])
                                 + (["--only", options.only] if options.only else []))
        if isinstance(parts, int):
            return parts
        print(table(*parts))
        return 0
    all_cores = options.part == "all"
    if not all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})     # before any thread starts
    from run import steady_malloc
    steady_malloc()             # as run.py: every library's temporaries reuse heap memory alike
    cases = _cases()
    unknown = set(only or ()) - set(cases)
    if unknown:
        parser.error(f"unknown workloads {', '.join(sorted(unknown))}; choose from {', '.join(cases)}")
    print(json.dumps(measure([c for n, c in cases.items() if not only or n in only], all_cores, options.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
