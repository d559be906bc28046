"""Loops spread over threads (`parallel=True`): a stage between simplify and reuse.

Reverse mode marks the adjoint loops whose iterations hand each other nothing (they run
forwards, see reverse.order_free).  Such a loop still scatters into neighbouring
elements — the adjoint of `sin(x[i]) * cos(x[i + 1])` adds into bx[i] and bx[i + 1] —
so it is cut into chunks of consecutive iterations run by `numba.prange` in two phases,
even chunks then odd ones: chunks of one phase are far apart, so no two threads ever
write one element.  A chunk is an ordinary loop, which reuse.py then rotates like any
other.  A loop is cut only if every element it writes is at its own iteration's index
plus a small constant (in the first index); sums into numbers become prange reductions.
A loop that writes only at its own index (the adjoint of an elementwise map) needs no
phases: it becomes a prange loop itself, which numba compiles into tighter code than a
loop nested in one (0.37 against 0.50 × the primal on two cores, the notes' f).

Threads run only where they pay (gradient ÷ numba primal, two cores, serial → threads):
- A loop of plain arithmetic (a power by 2 or 3 included: numba multiplies) stays on one
  thread: it streams memory at vector speed there, while cut into chunks it lost both its
  vector form and its stores in place of additions (Rosenbrock's adjoint: 0.47 → 2.5;
  written with `x[i] ** 2`, 0.27 → 0.92 before a power counted as plain arithmetic).
- A loop goes on threads only when it is long: chunks of at least 4096 iterations, two per
  phase (a prange loop: two chunks), with the loop as it was for shorter runs.  A parallel
  region costs a few microseconds to start, and a loop of two or three chunks left one
  thread idle in each phase (the objective at n = 1e4: 1.02 → 1.24).
- A function calling BLAS or LAPACK (matrix products, solves, factorizations) stays serial:
  numba's OpenMP threads keep spinning after each parallel loop and take the cores BLAS's
  own threads need (the MLP at 4096×128×256: 2.2 → 3.8–6.5; with OMP_WAIT_POLICY=PASSIVE
  both were 2.1–2.4, so the loss is the contention, not the loops).
- A function whose only parallel work is prange loops is compiled with numba's prange
  alone: its full parallel=True made a parallel loop of every array the function
  allocates too (np.zeros of an adjoint), a thread start-up per call (the notes' f at
  n = 100: 3.2 → 4.3, 1.6 us of 5).
- NumPy array expressions stay serial, though numba's parallel=True would fuse them into
  parallel loops that more than halve the whole-array notes' f at n = 1e6 (1.6–2.4 →
  0.8–0.9): those loops broadcast only a number or missing leading axes, and stop with an
  AssertionError ("Sizes of X, mu do not match") on an axis of length one, which a
  `keepdims` reduction or a column the user passes makes.  Below about 1e3 elements their
  start-ups lost too (n = 100: 3.9 → 6.6).
"""
from __future__ import annotations

import ast
import copy
from dataclasses import replace

from . import ir
from .names import Namer
from .rules import CHEAP
from .rules.linalg import BLAS_LAPACK
from .runtime import HELPERS

_SPAN = 16            # the farthest neighbour a chunked loop may write; chunks are far longer


def spread(function: ir.Function) -> tuple:
    """(`function` with its adjoint loops made ready for threads, numba's `parallel` option
    for it: False where threads do not pay, else prange loops only)."""
    if any(isinstance(s, (ir.Assign, ir.Unpack)) and isinstance(s.value, ir.Prim) and s.value.op in BLAS_LAPACK
           for s in ir.walk(function.body)):
        return function, False
    function = _chunk_loops(function)
    return function, any(isinstance(s, ir.For) and s.parallel for s in ir.walk(function.body)) and _PRANGE_ONLY


# numba's parallel=True also makes a parallel loop of each array it allocates (np.zeros of
# an adjoint): a thread start-up per call, 1.6 us, the whole gradient of 100 elements
_PRANGE_ONLY = {option: option == "prange" for option in (
    "comprehension", "reduction", "inplace_binop", "setitem", "numpy", "stencil", "fusion", "prange")}


def _chunk_loops(function: ir.Function) -> ir.Function:
    if not function.chunkable:
        return function
    namer = Namer(ir.all_names(function))
    body = []
    for s in function.body:
        worth = isinstance(s, ir.For) and s.var in function.chunkable and _costly(s)
        span = _write_span(s) if worth else None
        body.extend([s] if span is None else _on_threads(s, span, namer))
    namespace = dict(function.namespace, chunk_count=HELPERS["chunk_count"])
    return replace(function, body=body, namespace=namespace)


def _on_threads(loop: ir.For, span: int, namer: Namer) -> list:
    """The loop on threads where it is long enough to pay for them, as it was otherwise:

        count = stop - start
        chunks = chunk_count(count)
        if chunks >= 2:  <the loop as prange>          (it writes only at its own index)
        if chunks >= 4:  <the loop in chunks, _chunked>   (it writes beside its index)
        else:            <the loop>
    """
    line = loop.line
    count, chunks = namer.fresh("count"), namer.fresh("chunks")
    setup = [ir.Assign(count, ir.Prim("sub", (loop.stop, loop.start)), line),
             ir.Assign(chunks, ir.Opaque("chunk_count", (ir.Name(count),), None), line)]
    threads = replace(loop, body=copy.deepcopy(loop.body), parallel=True)
    if span:
        threads = _chunked(threads, count, chunks, namer)
    return setup + [ir.If(_expression(f"{chunks} >= {4 if span else 2}"), threads if span else [threads], [loop],
                          line)]


def _chunked(loop: ir.For, count: str, chunks: str, namer: Namer) -> list:
    """for it in range(start, stop): body  →

        for phase in range(2):
            for k in prange((chunks + 1) // 2):
                c = 2 * k + phase
                lo = start + min(count * c // chunks, count); hi = … (c + 1) …
                for it in range(lo, hi): body
    """
    line = loop.line
    halves, phase, k, c, lo, hi = (namer.fresh(n) for n in ("halves", "phase", "chunk", "c", "lo", "hi"))

    def bound(which):
        text = f"{loop.start.id if isinstance(loop.start, ir.Name) else loop.start.value} + " \
               f"min({count} * ({which}) // {chunks}, {count})"
        return ir.Passive(_expression(text))

    chunk = [ir.Assign(c, ir.Passive(_expression(f"2 * {k} + {phase}")), line),
             ir.Assign(lo, bound(c), line),
             ir.Assign(hi, bound(f"{c} + 1"), line),
             ir.For(loop.var, ir.Name(lo), ir.Name(hi), ir.Const(1), loop.body, line)]
    threads = ir.For(k, ir.Const(0), ir.Name(halves), ir.Const(1), chunk, line, parallel=True)
    return [ir.Assign(halves, ir.Passive(_expression(f"({chunks} + 1) // 2")), line),
            ir.For(phase, ir.Const(0), ir.Const(2), ir.Const(1), [threads], line)]


def _costly(loop: ir.For) -> bool:
    """Whether the loop computes more than plain arithmetic (exp, sin, a division, a call)."""
    return any(isinstance(s, (ir.Assign, ir.Unpack)) and (isinstance(s.value, ir.Prim) and not _cheap(s.value)
                                                          or isinstance(s.value, (ir.Call, ir.Opaque)))
               for s in ir.walk(loop.body))


def _cheap(value: ir.Prim) -> bool:
    """Plain arithmetic: CHEAP, or a power by a small whole constant (numba multiplies)."""
    return value.op in CHEAP or value.op == "pow" and isinstance(value.args[1], ir.Const) \
        and value.args[1].value in (2, 3)


def _write_span(loop: ir.For):
    """How far from its iteration's index, in the first index, the loop writes elements:
    the largest distance, up to _SPAN; None if farther, or not at a constant distance."""
    if loop.step != ir.Const(1):
        return None
    offsets = ir.Offsets(loop.body)
    distances = [offsets.of(s.index[0], loop.var) for s in ir.walk(loop.body) if isinstance(s, ir.SetItem)]
    if any(k is None or abs(k) > _SPAN for k in distances):
        return None
    return max(map(abs, distances), default=0)


def _expression(text):
    return ast.parse(text, mode="eval").body
