"""Data-parallel gradients on Dask (DESIGN §1): `sd.dask.value_and_grad(loss, params, data)`.

`loss(params, *chunk)` is the SUMMED loss over one chunk of examples (rows).  Each chunk's
value and gradient is computed on the worker that holds the chunk, by the compiled
`sd.value_and_grad(loss)`, and the per-chunk results are summed pairwise in a tree on the
cluster (leafwise for parameter structures), so only parameters and gradients travel.

`data` is one of
  - a Dask array whose rows are the examples (it is rechunked so that only axis 0 is split):
    loss(params, X_chunk);
  - a tuple of Dask arrays with the same row chunks, e.g. (X, y): loss(params, X_chunk, y_chunk);
  - a Dask DataFrame: loss(params, chunk), each partition as a float64 NumPy array;
  - a list of `dask.delayed` objects, each a NumPy array or a tuple of them: one chunk each.

The computation runs on the `client` given, else on the current `distributed` client, else on
Dask's default scheduler.  `sd.optimize.sgd` and `sd.optimize.adam(data=...)` take the same
data and step their minibatches on the workers (see `Minibatches`).  Needs the optional
extra: pip install 's2sdiff[dask]'.
"""
from __future__ import annotations

import sys
from collections import deque

import dask
import dask.array as da
import numpy as np
from dask.delayed import Delayed

from . import api, optimize, structures
from .errors import S2SDiffError
from .optimize import RUNNING

__all__ = ["value_and_grad"]


def value_and_grad(loss, params, data, *, client=None):
    """(Σ over all chunks of loss(params, *chunk), its gradient in params' structure)."""
    chunks = chunk_parts(data)
    transform = dask.delayed(api.value_and_grad(loss), pure=True)     # one key each: sent once to a worker
    shared_params = dask.delayed(params, pure=True)
    parts = [dask.delayed(_chunk_value_and_grad, pure=True)(transform, shared_params, *chunk) for chunk in chunks]
    return compute(tree_sum(parts), client)


def is_dask_data(data) -> bool:
    """Whether `data` is one of the forms `value_and_grad` takes (not checked further)."""
    if isinstance(data, (da.Array, Delayed)) or _is_frame(data):
        return True
    return isinstance(data, (tuple, list)) and bool(data) and \
        all(isinstance(item, (da.Array, Delayed)) for item in data)


# ---- data as chunks -----------------------------------------------------------------------

def chunk_parts(data) -> list:
    """The chunks of `data`, each a list of Delayed parts (a Dask array's blocks, a partition, or
    the user's delayed chunk) that `_rows` turns into the tuple of arrays the loss receives."""
    if isinstance(data, da.Array):
        return [[block] for block in _row_blocks(data, "data")]
    if isinstance(data, tuple) and data and all(isinstance(a, da.Array) for a in data):
        blocks = [_row_blocks(a, f"data[{i}]") for i, a in enumerate(data)]
        _check_aligned(data)
        return [list(parts) for parts in zip(*blocks)]
    if _is_frame(data):
        _check_numeric(data)
        return [[dask.delayed(_float_rows, pure=True)(partition)] for partition in data.to_delayed()]
    if isinstance(data, list) and data and all(isinstance(c, Delayed) for c in data):
        return [[chunk] for chunk in data]
    if isinstance(data, (tuple, list)) and data and all(isinstance(c, (da.Array, Delayed)) for c in data):
        raise S2SDiffError("data: a tuple holds Dask arrays sharing their rows, e.g. (X, y); a list holds "
                           "dask.delayed chunks; got a mix or a tuple of delayed objects (pass a list)")
    raise S2SDiffError(f"data must be a Dask array, a tuple of Dask arrays sharing their row chunks, a Dask "
                       f"DataFrame or a list of dask.delayed chunks, got {_describe(data)} (NumPy data: use "
                       f"sd.value_and_grad, or wrap it with dask.array.from_array)")


def _row_blocks(array, what) -> list:
    """The array's blocks along axis 0, after joining any split of the other axes."""
    if array.ndim == 0:
        raise S2SDiffError(f"{what} is a 0-d Dask array; data needs rows (axis 0 = examples)")
    split = {axis: -1 for axis in range(1, array.ndim) if len(array.chunks[axis]) > 1}
    if split:
        if any(np.isnan(size) for axis in split for size in array.chunks[axis]):
            raise S2SDiffError(f"{what} splits axis {min(split)} into chunks of unknown size, so its rows cannot be "
                               f"joined into one chunk each; call {what}.compute_chunk_sizes() first")
        array = array.rechunk(split)
    return list(array.to_delayed().reshape(-1))


def _check_aligned(arrays):
    rows = [a.chunks[0] for a in arrays]
    counts = {len(r) for r in rows}
    known = all(not np.isnan(size) for r in rows for size in r)
    if len(counts) > 1 or known and len(set(rows)) > 1:
        raise S2SDiffError(f"data: the arrays' row chunks differ ({', '.join(_sizes(r) for r in rows)}); chunk "
                           "i of every array must hold the same examples: rechunk them alike, e.g. "
                           "y.rechunk({0: X.chunks[0]})")


def _sizes(rows) -> str:
    return "(" + ", ".join("?" if np.isnan(s) else str(int(s)) for s in rows[:4]) + (", …)" if len(rows) > 4 else ")")


def _is_frame(data) -> bool:
    frames = sys.modules.get("dask.dataframe")      # a user holding a DataFrame has imported it
    return frames is not None and isinstance(data, frames.DataFrame)


def _check_numeric(frame):
    from pandas.api.types import is_bool_dtype, is_numeric_dtype
    wrong = [str(name) for name, dtype in frame.dtypes.items() if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype))]
    if wrong:
        raise S2SDiffError(f"data: a DataFrame's partitions reach the loss as float64 arrays, but column(s) "
                           f"{', '.join(wrong)} are not numeric")


def _float_rows(partition):
    return partition.to_numpy(dtype=np.float64)


def _describe(data) -> str:
    return f"a {type(data).__module__}.{type(data).__name__}"


def _rows(parts) -> tuple:
    """The chunk's arrays, checked to share their number of rows (runs on the worker)."""
    arrays = tuple(parts[0]) if len(parts) == 1 and isinstance(parts[0], (tuple, list)) else tuple(parts)
    for array in arrays:
        if not isinstance(array, np.ndarray) or array.ndim == 0:
            raise S2SDiffError(f"a chunk must be a NumPy array with rows or a tuple of them, got {_describe(array)}"
                               + (f" of shape {array.shape}" if isinstance(array, np.ndarray) else ""))
    if len({len(a) for a in arrays}) > 1:
        raise S2SDiffError(f"a chunk's arrays must share their rows (one per example), got shapes "
                           f"{[a.shape for a in arrays]}")
    return arrays


# ---- per chunk, on the workers ---------------------------------------------------------------

def _chunk_value_and_grad(transform, params, *parts):
    return transform(params, *_rows(parts))


def _summed(a, b):
    """(value, gradient) pairs added, the gradients leaf by leaf."""
    node = structures.structure_of(a[1])
    gradient = [x + y for x, y in zip(structures.leaves(a[1], node), structures.leaves(b[1], node))]
    return a[0] + b[0], structures.rebuilt(node, iter(gradient))


def tree_sum(parts):
    """The Delayed sum of `parts` (value, gradient) pairs, added pairwise in a tree."""
    while len(parts) > 1:
        parts = [dask.delayed(_summed, pure=True)(*parts[i:i + 2]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]


# ---- where it runs ---------------------------------------------------------------------------

def default_client(client=None):
    """The client given, else the current distributed client, else None (Dask's default scheduler)."""
    if client is not None:
        return client
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:                  # no client running
        return None


def compute(collection, client=None):
    client = default_client(client)
    if client is not None:
        return client.compute(collection).result()
    return dask.compute(collection)[0]


def chain(step, state, chunks, client=None):
    """state ← step(state, *chunk) over the chunks in order; each step runs on the worker that
    computed its chunk.  With a distributed client, chunks are computed at most one per worker
    thread ahead of the step that needs them: a chunk no step waits for would only fill memory.
    `step` must be a picklable callable, or a Delayed one."""
    client = default_client(client)
    if client is None:
        for chunk in chunks:
            state = dask.compute(dask.delayed(step)(state, *chunk))[0]
        return state
    if isinstance(step, Delayed):
        step = client.compute(step)
    ahead = max(1, sum(client.nthreads().values()))
    in_flight = deque()
    for chunk in chunks:
        parts = client.compute(chunk)
        state = client.submit(_called, step, state, *parts, pure=False)
        in_flight.append(state)
        if len(in_flight) > ahead:
            in_flight.popleft().result()
    return state.result()


def _called(step, *args):
    return step(*args)


# ---- sd.optimize.sgd / adam on Dask data ------------------------------------------------------

class Minibatches:
    """The Dask side of sd.optimize.sgd and adam: `epoch` runs one pass of minibatch steps over
    the chunks, each on its chunk's worker; `objective` is f's mean over all rows.  x is a
    float, an array, or the vector of the leaves of `template` (a parameter structure)."""

    def __init__(self, method, f, template, data, args, batch_size, hyper, seed, max_iter, moments, x):
        self.chunks = chunk_parts(data)
        self.client = default_client()
        self.transform = api.value_and_grad(f)
        self.template, self.args, self.seed = template, args, seed
        self.plan = (method, template, args, batch_size, hyper, max_iter)
        self.moments = tuple(x * 0.0 for _ in range(moments))
        self.epochs_run = 0

    def epoch(self, x, k):
        # the transform and the plan travel as one key, to each worker once
        step = dask.delayed(_StepsOnChunk(self.transform, self.plan), pure=True)
        start = (x, self.moments, k, RUNNING, (self.seed, self.epochs_run, 0))
        x, self.moments, k, status, _ = chain(step, start, self.chunks, self.client)
        self.epochs_run += 1
        return x, k, status

    def objective(self, x) -> float:
        transform = dask.delayed(self.transform, pure=True)
        params = dask.delayed(self.params(x), pure=True)
        parts = [dask.delayed(_chunk_mean_times_rows, pure=True)(transform, params, self.args, *chunk)
                 for chunk in self.chunks]
        total, rows = compute(tree_sum(parts), self.client)
        return float(total / rows)

    def params(self, x):
        return x if self.template is None else structures.unflattened(x, self.template)


def _chunk_mean_times_rows(transform, params, args, *parts):
    arrays = _rows(parts)
    return transform(params, *arrays, *args)[0] * len(arrays[0]), len(arrays[0])


class _StepsOnChunk:
    """(x, moments, k, status, (seed, epoch, chunk)) ← the method's minibatch steps over one chunk,
    on the worker holding it: the compiled epoch loop of sd.optimize over the chunk's rows, in
    an order drawn from a generator seeded with (seed, epoch, chunk)."""

    def __init__(self, transform, plan):
        self.transform, self.plan = transform, plan

    def __call__(self, state, *parts):
        x, moments, k, status, (seed, epoch, index) = state
        following = (seed, epoch, index + 1)
        if status != RUNNING:
            return x, moments, k, status, following
        method, template, args, batch_size, hyper, max_iter = self.plan
        arrays = tuple(np.ascontiguousarray(a) for a in _rows(parts))
        evaluate, compiled = self._evaluator(template)
        kernel = optimize._kernel(optimize.EPOCHS[method], compiled)
        call = optimize._minibatch_call(len(arrays), compiled)
        order = np.random.default_rng((seed, epoch, index)).permutation(len(arrays[0]))
        x, *moments, k, status = kernel(evaluate, call, x, *moments, arrays, args, order, batch_size, *hyper, k,
                                        max_iter)
        return x, tuple(moments), k, status, following

    def _evaluator(self, template):
        """(x, *batch ↦ (f, ∇f) on the flat x, whether it is compiled): for a parameter
        structure, the transform called on the structure, the gradient flattened (in Python)."""
        transform = self.transform
        if template is None:
            return (transform.dispatcher, True) if transform.jit else (transform, False)

        def evaluate(v, *rest):
            value, gradient = transform(structures.unflattened(v, template), *rest)
            return value, structures.flat_vector(gradient)
        return evaluate, False
