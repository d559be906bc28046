"""Whole-array NumPy workloads on the surface of issue 16, beside JAX.

    python benchmarks/numpy_surface.py [--quick] [--all-cores]

Three objectives written as NumPy users write them — a softmax (log-sum-exp) classifier,
a layer norm, a 3-D stencil — each timed in one run, interleaved: the primal as s2sdiff
lowers it (numba has no np.max(axis=1, keepdims=True), so numba cannot compile the user's
function itself), NumPy's own primal, s2sdiff's compiled gradient, and
`jax.jit(jax.grad(f))` with JAX's float64 primal. Printed: milliseconds and the ratio
gradient ÷ primal, for s2sdiff against its numba primal and for JAX against its own.
Each gradient is checked against the other before timing.
"""
from __future__ import annotations

import inspect
import sys
import textwrap
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import s2sdiff as sd  # noqa: E402
from s2sdiff.pipeline import derived_unit  # noqa: E402
from timing import beside_jax_options, medians  # noqa: E402


def classifier(W, X, Y):
    """Mean cross-entropy of a linear softmax classifier (Y one-hot)."""
    logits = X @ W
    top = np.max(logits, axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.sum(np.exp(logits - top), axis=1))
    return np.mean(lse - np.sum(logits * Y, axis=1)) + 1e-3 * np.sum(W ** 2)


def layer_norm(X, gamma, beta):
    """A layer norm over each row, then a smooth readout."""
    mu = X.mean(axis=1, keepdims=True)
    var = X.var(axis=1, keepdims=True)
    Y = (X - mu) / np.sqrt(var + 1e-5) * gamma + beta
    return np.sum(np.tanh(Y) ** 2)


def stencil(u):
    """Energy of the 7-point Laplacian of a 3-D field, plus a quartic term."""
    c = u[1:-1, 1:-1, 1:-1]
    lap = (u[2:, 1:-1, 1:-1] + u[:-2, 1:-1, 1:-1] + u[1:-1, 2:, 1:-1] + u[1:-1, :-2, 1:-1]
           + u[1:-1, 1:-1, 2:] + u[1:-1, 1:-1, :-2] - 6.0 * c)
    return 0.5 * np.sum(lap ** 2) + 0.25 * np.sum(u ** 4)


def inputs(name, quick):
    rng = np.random.default_rng(16)
    if name == "classifier":
        n, d, k = (1024, 32, 10) if quick else (4096, 64, 10)
        labels = rng.integers(0, k, n)
        return (0.1 * rng.standard_normal((d, k)), rng.standard_normal((n, d)), np.eye(k)[labels])
    if name == "layer_norm":
        n, d = (1024, 64) if quick else (4096, 256)
        return (rng.standard_normal((n, d)), 1.0 + 0.1 * rng.standard_normal(d), 0.1 * rng.standard_normal(d))
    n = 48 if quick else 96
    return (0.5 * rng.standard_normal((n, n, n)),)


def translated(f, np_module):
    """f's own source run with `np` bound to another array module (jax.numpy, say)."""
    namespace = dict(f.__globals__, np=np_module)
    exec(compile(textwrap.dedent(inspect.getsource(f)), inspect.getsourcefile(f), "exec"), namespace)
    return namespace[f.__name__]


def jax_versions():
    """jax.jit of each workload and of its gradient: the same source, with `np` as jax.numpy."""
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    made = {}
    for name, f in WORKLOADS.items():
        jax_f = translated(f, jnp)
        made[name] = (jax.jit(jax_f), jax.jit(jax.grad(jax_f)), jax)
    return made


WORKLOADS = {"classifier": classifier, "layer_norm": layer_norm, "stencil": stencil}


def main():
    options, limits = beside_jax_options(__doc__.splitlines()[0])
    try:
        peers = jax_versions()
    except ImportError:
        peers = {}
    print("| workload | size | NumPy primal ms | numba primal ms | s2sdiff grad ms | s2sdiff ÷ primal "
          "| JAX primal ms | JAX grad ms | JAX ÷ its primal | s2sdiff grad ÷ JAX grad |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, f in WORKLOADS.items():
        args = inputs(name, options.quick)
        kinds = frozenset((p, a.ndim) for p, a in zip(f.__code__.co_varnames, args))
        primal = derived_unit("primal", f, (), True, kinds=kinds).compiled
        grad = sd.grad(f, wrt=0)
        primal(*args)
        g = grad(*args)
        calls = {"numpy": lambda: f(*args), "primal": lambda: primal(*args), "grad": lambda: grad(*args)}
        jax_calls = {}          # timed on their own: XLA's thread pool slows whatever runs beside it
        if name in peers:
            jax_primal, jax_grad, jax = peers[name]
            jargs = [jax.numpy.asarray(a) for a in args]
            reference = np.asarray(jax_grad(*jargs))
            scale = max(1.0, np.max(np.abs(reference)))
            assert np.max(np.abs(g - reference)) <= 1e-9 * scale, f"{name}: s2sdiff and JAX disagree"
            jax_calls["jax_primal"] = lambda: jax_primal(*jargs).block_until_ready()
            jax_calls["jax_grad"] = lambda: jax_grad(*jargs).block_until_ready()
        t = {key: timing.median for key, timing in medians([calls, jax_calls], limits).items()}
        ms = lambda key: f"{1e3 * t[key]:.2f}" if key in t else "—"  # noqa: E731
        ratio = lambda a, b: f"{t[a] / t[b]:.2f}" if a in t and b in t else "—"  # noqa: E731
        largest = max(args, key=np.size)
        print(f"| {name} | {'×'.join(map(str, largest.shape))} | {ms('numpy')} | {ms('primal')} | {ms('grad')} "
              f"| {ratio('grad', 'primal')} | {ms('jax_primal')} | {ms('jax_grad')} "
              f"| {ratio('jax_grad', 'jax_primal')} "
              f"| {ratio('grad', 'jax_grad')} |")


if __name__ == "__main__":
    main()
