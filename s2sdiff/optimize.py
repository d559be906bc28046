"""First-order optimizers on s2sdiff gradients (DESIGN §1).

Each optimizer differentiates f with `sd.value_and_grad` unless a gradient `jac` is
given. When the objective and gradient are compiled — s2sdiff transforms and numba.njit
functions are — the iterations run inside one numba-compiled loop; a plain-Python `jac`
runs the same loop in Python. `x0` is a float or a 1-D/2-D float array; f is called as
f(x, *args). Gradient descent and Adam stop when ‖∇f(x_k)‖∞ ≤ tol or after max_iter
updates; a run that reaches a non-finite objective stops as diverged.

A progress bar (tqdm, the optional `examples` extra) shows with progress=True, and with
the default progress=None on an interactive terminal once a run has lasted a second.
"""
from __future__ import annotations

import functools
import importlib
import numbers
import sys
import time
import warnings
from dataclasses import dataclass, field, replace

import numba
import numpy as np
from numba.extending import register_jitable

from . import structures
from .api import Differentiable, value_and_grad
from .wrappers import Transformed
from .compile import NJIT_OPTIONS, function, primal
from .errors import S2SDiffError

RUNNING, CONVERGED, MAX_ITER, DIVERGED = 0, 1, 2, 3
_MESSAGES = {CONVERGED: "converged: the gradient's largest component is within tol",
             MAX_ITER: "stopped after max_iter updates",
             DIVERGED: "diverged: the objective is no longer finite (try a smaller learning rate)"}


@dataclass(frozen=True)
class OptimizeResult:
    """x: the last iterate; fun: f(x); nit: the number of updates made; history: the
    objective at x_0 … x_nit (for sgd: on the whole data set, at the start and after each
    epoch); converged: whether the tol test stopped the run; message: why it stopped."""
    x: float | np.ndarray
    fun: float
    nit: int
    history: np.ndarray = field(repr=False)
    converged: bool
    message: str


def _structures_too(optimizer):
    """The optimizer, taking x0 as a parameter structure too (a dict, tuple, NamedTuple, …
    of arrays and numbers): it runs on the vector of the structure's leaves, and `.x` comes
    back in x0's structure."""
    @functools.wraps(optimizer)
    def run(f, x0, *rest, args=(), jac=None, **options):
        data = (rest[0] if rest else options.get("data")) if optimizer.__name__ == "sgd" else options.get("data")
        data = () if data is None else data
        if structures.structure_of(x0) is None or _on_dask(data):   # the Dask path keeps the structure itself
            return optimizer(f, x0, *rest, args=args, jac=jac, **options)
        if jac is not None:
            raise S2SDiffError("jac= is not supported with a structured x0: leave it out and s2sdiff differentiates f")
        g, v0, unflatten = structures.vector_function(f, x0, len(tuple(data)) + len(tuple(args)))
        result = optimizer(g, v0, *rest, args=args, **options)
        return replace(result, x=unflatten(result.x))
    return run


@_structures_too
def gradient_descent(f, x0, lr=1e-2, momentum=0.0, tol=1e-6, max_iter=10_000, *, args=(), jac=None,
                     progress=None):
    """Gradient descent with a constant learning rate γ = `lr` and heavy-ball momentum α:

        z_{k+1} = α z_k + ∇f(x_k),    x_{k+1} = x_k − γ z_{k+1}     (z_0 = 0; α = 0 is plain descent).

    On a quadratic with curvatures λ, plain descent converges for γ < 2/λ_max, and for
    γλ ≪ 1 momentum acts like the learning rate γ/(1 − α).
    """
    x = _start(x0)
    lr, momentum = _rate(lr), _fraction("momentum", momentum)
    tol, max_iter = _stopping(tol, max_iter)
    evaluate, compiled = _value_and_gradient(f, jac)
    kernel = _kernel(_heavy_ball_steps, compiled)
    z = x * 0.0

    def steps(start, stop, history):
        nonlocal x, z
        x, z, k, status = kernel(evaluate, x, z, tuple(args), lr, momentum, tol, max_iter, start, stop, history)
        return k, status
    return _iterate(steps, max_iter, _progress_bar(progress, max_iter, "gradient descent"), lambda: x)


@_structures_too
def adam(f, x0, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, tol=1e-6, max_iter=10_000, *, args=(), jac=None,
         progress=None, data=None, batch_size=32, seed=0):
    """Adam (Kingma & Ba, 2015): with g_k = ∇f(x_k) and t = k + 1,

        m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²,   x ← x − γ m̂ / (√v̂ + ε),
        m̂ = m / (1 − β₁ᵗ),     v̂ = v / (1 − β₂ᵗ)        (m_0 = v_0 = 0, all elementwise).

    With `data` (Dask data, as `sgd` takes it) Adam runs on minibatches: f(x, *batch, *args) is
    the mean loss over a minibatch, the epochs, `batch_size`, `seed` and `tol` are sgd's, and
    each g_k is a minibatch gradient.
    """
    if data is not None:
        if not _on_dask(data):
            raise S2SDiffError("adam: data= takes Dask data (a Dask array, a tuple of them, a Dask DataFrame or a "
                               "list of dask.delayed chunks); for full-batch Adam on NumPy arrays pass them as "
                               "args=(X, y), or wrap them with dask.array.from_array")
        return _on_workers("adam", f, x0, data, (_rate(lr), _fraction("beta1", beta1), _fraction("beta2", beta2),
                                                 _rate(eps, "eps")), batch_size, seed, tol, max_iter, args, jac,
                           progress)
    x = _start(x0)
    lr, eps = _rate(lr), _rate(eps, "eps")
    beta1, beta2 = _fraction("beta1", beta1), _fraction("beta2", beta2)
    tol, max_iter = _stopping(tol, max_iter)
    evaluate, compiled = _value_and_gradient(f, jac)
    kernel = _kernel(_adam_steps, compiled)
    m, v = x * 0.0, x * 0.0

    def steps(start, stop, history):
        nonlocal x, m, v
        x, m, v, k, status = kernel(evaluate, x, m, v, tuple(args), lr, beta1, beta2, eps, tol, max_iter, start,
                                    stop, history)
        return k, status
    return _iterate(steps, max_iter, _progress_bar(progress, max_iter, "adam"), lambda: x)


@_structures_too
def sgd(f, x0, data, lr=1e-2, batch_size=32, momentum=0.0, tol=1e-6, max_iter=10_000, seed=0, *, args=(),
        jac=None, progress=None):
    """Minibatch stochastic gradient descent, with optional heavy-ball momentum as in
    `gradient_descent`.

    `data` is a tuple of arrays sharing their first axis (samples), e.g. (X, y). f(x, *batch,
    *args) is the mean loss over the minibatch `batch` — the arrays' rows at the minibatch's
    indices — so each step's gradient is an unbiased estimate of the whole data set's. Each
    epoch visits the samples in a fresh random order (generator `seed`) in minibatches of
    `batch_size` (the last one smaller when it does not divide the number of samples).
    Stops after max_iter updates, or when the whole-data objective changes by at most
    `tol` over an epoch (a minibatch gradient never vanishes, so the gradient test of
    gradient descent does not apply).

    `data` may also be Dask data (`sd.dask` lists the forms; the optional extra
    's2sdiff[dask]'). An epoch then visits the chunks in order; each chunk's minibatches (its
    rows shuffled by a generator seeded with (seed, epoch, chunk)) are stepped by a task on
    the worker that holds the chunk, so only x and the optimizer's state travel. A chunk with
    fewer than `batch_size` rows is one minibatch. The history is the mean of f over all
    rows, summed chunk by chunk on the workers (f(x, *chunk) × the chunk's rows).
    """
    if _on_dask(data):
        return _on_workers("sgd", f, x0, data, (_rate(lr), _fraction("momentum", momentum)), batch_size, seed, tol,
                           max_iter, args, jac, progress)
    x = _start(x0)
    data = _data(data)
    n_samples = len(data[0])
    if not _is_count(batch_size) or not 1 <= batch_size <= n_samples:
        raise S2SDiffError(f"batch_size must be an integer from 1 to the number of samples ({n_samples}), "
                           f"got {batch_size!r}")
    lr, momentum = _rate(lr), _fraction("momentum", momentum)
    tol, max_iter = _stopping(tol, max_iter)
    evaluate, compiled = _value_and_gradient(f, jac)
    objective = primal(f) if jac is None else f
    kernel = _kernel(_sgd_epoch, compiled)
    call = _minibatch_call(len(data), compiled)
    args = tuple(args)
    rng = np.random.default_rng(seed)
    z = x * 0.0

    def epoch(x, k):
        nonlocal z
        x, z, k, status = kernel(evaluate, call, x, z, data, args, rng.permutation(n_samples), batch_size, lr,
                                 momentum, k, max_iter)
        return x, k, status
    return _epochs(epoch, lambda x: float(objective(x, *data, *args)), x, tol, max_iter,
                   _progress_bar(progress, max_iter, "sgd"))


def _epochs(epoch, objective, x, tol, max_iter, bar, final_x=lambda x: x):
    """Run `epoch(x, k) -> (x, k, status)` until max_iter updates, divergence, or an epoch that
    changes `objective(x)` (the history) by at most tol."""
    k, status = 0, MAX_ITER
    history = [objective(x)]
    while k < max_iter:
        done = k
        x, k, epoch_status = epoch(x, k)
        history.append(objective(x))
        if bar is not None:
            bar.update(k - done)
        if epoch_status == DIVERGED or not np.isfinite(history[-1]):
            status = DIVERGED
            break
        if epoch_status == RUNNING and abs(history[-1] - history[-2]) <= tol:
            status = CONVERGED
            break
    if bar is not None:
        bar.close()
    message = "converged: an epoch changed the objective by at most tol" if status == CONVERGED else _MESSAGES[status]
    return OptimizeResult(final_x(x), history[-1], k, np.array(history), status == CONVERGED, message)


def _on_dask(data) -> bool:
    """Whether `data` is Dask data; dask is imported only by a user who has imported it already."""
    return "dask" in sys.modules and importlib.import_module("s2sdiff.dask").is_dask_data(data)


def _on_workers(method, f, x0, data, hyper, batch_size, seed, tol, max_iter, args, jac, progress):
    """sgd or adam on Dask data: epochs of per-chunk minibatch steps run on the workers (sd.dask.Minibatches)."""
    if jac is not None:
        raise S2SDiffError(f"{method}: jac= is not supported with Dask data: leave it out and s2sdiff differentiates "
                           "f on the workers")
    if not _is_count(batch_size) or batch_size < 1:
        raise S2SDiffError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not _is_count(seed) or seed < 0:
        raise S2SDiffError(f"seed must be a non-negative integer, got {seed!r}")
    tol, max_iter = _stopping(tol, max_iter)
    on_dask = importlib.import_module("s2sdiff.dask")
    template = x0 if structures.structure_of(x0) is not None else None
    x = structures.flat_vector(x0) if template is not None else _start(x0)
    run = on_dask.Minibatches(method, f, template, data, tuple(args), int(batch_size), hyper, int(seed),
                              max_iter, moments=1 if method == "sgd" else 2, x=x)
    return _epochs(run.epoch, run.objective, x, tol, max_iter, _progress_bar(progress, max_iter, method),
                   run.params)


# ---- compiled loops -------------------------------------------------------------------
# Written once as Python; `_kernel` compiles them with numba when the objective is compiled.
# Each runs iterations start … stop−1 and returns its state, the iteration it reached and a
# status; RUNNING means the chunk ended (the driver calls again to continue, see _iterate).

def _heavy_ball_steps(evaluate, x, z, args, lr, momentum, tol, max_iter, start, stop, history):
    for k in range(start, stop):
        value, g = evaluate(x, *args)
        history[k] = value
        if not np.isfinite(value):
            return x, z, k, DIVERGED
        if np.max(np.abs(np.asarray(g))) <= tol:
            return x, z, k, CONVERGED
        if k == max_iter:
            return x, z, k, MAX_ITER
        z = momentum * z + g
        x = x - lr * z
    return x, z, stop, RUNNING


def _adam_steps(evaluate, x, m, v, args, lr, beta1, beta2, eps, tol, max_iter, start, stop, history):
    for k in range(start, stop):
        value, g = evaluate(x, *args)
        history[k] = value
        if not np.isfinite(value):
            return x, m, v, k, DIVERGED
        if np.max(np.abs(np.asarray(g))) <= tol:
            return x, m, v, k, CONVERGED
        if k == max_iter:
            return x, m, v, k, MAX_ITER
        x, m, v = _adam_update(x, m, v, g, k, lr, beta1, beta2, eps)
    return x, m, v, stop, RUNNING


@register_jitable
def _adam_update(x, m, v, g, k, lr, beta1, beta2, eps):
    """Adam's step k (from 0): the moments, bias-corrected, and x moved by them."""
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * g * g
    m_hat = m / (1.0 - beta1 ** (k + 1))
    v_hat = v / (1.0 - beta2 ** (k + 1))
    return x - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _sgd_epoch(evaluate, call, x, z, data, args, order, batch_size, lr, momentum, k, max_iter):
    """One pass over the samples in `order`: returns (x, z, updates made so far, status)."""
    for first in range(0, len(order), batch_size):
        if k == max_iter:
            return x, z, k, MAX_ITER
        value, g = call(evaluate, x, data, order[first:first + batch_size], args)
        if not np.isfinite(value):
            return x, z, k, DIVERGED
        z = momentum * z + g
        x = x - lr * z
        k += 1
    return x, z, k, RUNNING


def _adam_epoch(evaluate, call, x, m, v, data, args, order, batch_size, lr, beta1, beta2, eps, k, max_iter):
    """`_sgd_epoch` with `_adam_steps`' update: returns (x, m, v, updates made so far, status)."""
    for first in range(0, len(order), batch_size):
        if k == max_iter:
            return x, m, v, k, MAX_ITER
        value, g = call(evaluate, x, data, order[first:first + batch_size], args)
        if not np.isfinite(value):
            return x, m, v, k, DIVERGED
        x, m, v = _adam_update(x, m, v, g, k, lr, beta1, beta2, eps)
        k += 1
    return x, m, v, k, RUNNING


EPOCHS = {"sgd": _sgd_epoch, "adam": _adam_epoch}      # the minibatch pass of each method, for sd.dask


@functools.cache
def _kernel(loop, compiled):
    return numba.njit(**NJIT_OPTIONS)(loop) if compiled else loop


@functools.cache
def _minibatch_call(n_data, compiled):
    """`call(evaluate, x, data, rows, args)` = evaluate(x, data[0][rows], …, data[n−1][rows], *args):
    numba cannot build a tuple of slices of a tuple of differently shaped arrays in a loop,
    so the call is written out for the number of arrays."""
    batch = "".join(f"data[{i}][rows], " for i in range(n_data))
    source = f"def minibatch_call(evaluate, x, data, rows, args):\n    return evaluate(x, {batch}*args)\n"
    py_func = function(source, {}, "minibatch_call", False)[0]
    # never cached on disk: its compiles are typed by each objective's dispatcher, whose
    # generated module another process cannot import when it reads the cache's index
    return numba.njit(**NJIT_OPTIONS)(py_func) if compiled else py_func


# ---- the objective --------------------------------------------------------------------

def _value_and_gradient(f, jac):
    """(a function x, *args ↦ (f, ∇f), whether it is compiled): s2sdiff's one-pass
    value_and_grad of f, or f and the given jac paired."""
    if jac is None:
        fused = value_and_grad(f)
        return (fused.dispatcher, True) if fused.jit else (fused, False)
    if not callable(jac):
        raise TypeError(f"jac must be a function returning the gradient of f, got {type(jac).__name__}")
    compiled_f, compiled_jac = _compiled_form(f), _compiled_form(jac)
    if compiled_f is None or compiled_jac is None:
        return _pair(f, jac, False), False
    return _pair(compiled_f, compiled_jac, True), True


def _compiled_form(function):
    """The numba dispatcher behind a compiled function, or None for a Python one."""
    if isinstance(function, numba.core.registry.CPUDispatcher):
        return function
    if isinstance(function, Transformed) and function.jit:
        return function.dispatcher
    if isinstance(function, Differentiable) and function.jit:
        return function.primal
    return None


@functools.cache
def _pair(fun, jac, compiled):
    def value_and_gradient(x, *args):
        return fun(x, *args), jac(x, *args)
    return numba.njit(**NJIT_OPTIONS)(value_and_gradient) if compiled else value_and_gradient


# ---- running, with an optional progress bar ------------------------------------------------

def _iterate(steps, max_iter, bar, final_x):
    """Run `steps` over iterations 0 … max_iter: in one call, or — when a progress bar shows —
    in chunks that double while they take under 0.1 s, so the bar moves without the
    compiled loop returning to Python often."""
    history = np.empty(max_iter + 1)
    start, chunk = 0, (max_iter + 1 if bar is None else 1)
    while True:
        began = time.perf_counter()
        k, status = steps(start, min(start + chunk, max_iter + 1), history)
        if bar is not None:
            bar.update(k - start)
            chunk = chunk * 2 if time.perf_counter() - began < 0.1 else max(1, chunk // 2)
        if status != RUNNING:
            break
        start = k
    if bar is not None:
        bar.close()
    return OptimizeResult(final_x(), float(history[k]), k, history[:k + 1].copy(), status == CONVERGED,
                          _MESSAGES[status])


def _progress_bar(progress, total, description):
    """A tqdm bar, or None: progress=True always shows one, False never, None only on an
    interactive terminal and only once the run has lasted a second."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        if progress:
            warnings.warn("progress=True needs tqdm (pip install 's2sdiff[examples]'); running without a "
                          "progress bar", stacklevel=3)
        return None
    return tqdm(total=total, desc=description, unit="it", delay=0.0 if progress else 1.0)


# ---- options ------------------------------------------------------------------------------

def _start(x0):
    try:
        x = np.array(x0, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"x0 must be a real number or a float array, got {type(x0).__name__}") from None
    if x.ndim > 2:
        raise S2SDiffError(f"x0 must be a number or a 1-D or 2-D array, got shape {x.shape}")
    return float(x) if x.ndim == 0 else x


def _data(data):
    if isinstance(data, np.ndarray) or not isinstance(data, (tuple, list)) or not data:
        raise TypeError("data must be a non-empty tuple of arrays sharing their first axis, e.g. (X, y)")
    arrays = tuple(np.ascontiguousarray(a) for a in data)
    lengths = {len(a) if a.ndim else None for a in arrays}
    if None in lengths or len(lengths) != 1 or 0 in lengths:
        raise S2SDiffError(f"data: the arrays must share a non-empty first axis (one row per sample), got "
                           f"shapes {[a.shape for a in arrays]}")
    return arrays


# Options reach the compiled loops as floats and ints, so one compiled loop serves every call.

def _rate(value, name="lr"):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise S2SDiffError(f"{name} must be positive and finite, got {value!r}")
    return float(value)


def _fraction(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}")
    if not 0 <= value < 1:
        raise S2SDiffError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def _stopping(tol, max_iter):
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise S2SDiffError(f"tol must be a non-negative number, got {tol!r}")
    if not _is_count(max_iter) or max_iter < 0:
        raise S2SDiffError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    return float(tol), int(max_iter)


def _is_count(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
