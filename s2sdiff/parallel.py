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
A loop of plain arithmetic stays on one thread: it streams memory at vector speed there,
while cut into chunks it lost both its vector form and its stores in place of additions
(Rosenbrock's adjoint: 2.5 against 0.47 × the primal).
"""
from __future__ import annotations

import ast
from dataclasses import replace

from . import ir
from .analyze import number_names
from .names import Namer
from .rules import CHEAP, RULES
from .runtime import HELPERS

_SPAN = 16            # the farthest neighbour a chunked loop may write; chunks are far longer


def chunk_loops(function: ir.Function) -> ir.Function:
    if not function.chunkable:
        return function
    namer = Namer(ir.all_names(function))
    body = []
    for s in function.body:
        worth = isinstance(s, ir.For) and s.var in function.chunkable and _calls(s)
        span = _write_span(s) if worth else None
        body.extend([s] if span is None else [replace(s, parallel=True)] if span == 0 else _chunked(s, namer))
    namespace = dict(function.namespace, chunk_count=HELPERS["chunk_count"])
    return replace(function, body=body, namespace=namespace)


def threads_help(function: ir.Function) -> bool:
    """Whether numba's parallel=True has anything to spread over threads: a chunked loop,
    or NumPy array expressions (which it fuses into parallel loops)."""
    numbers = number_names(function)
    return any(isinstance(s, ir.For) and s.parallel
               or isinstance(s, ir.Assign) and isinstance(s.value, ir.Prim) and s.value.family in ("np", "op")
               and s.target not in numbers and RULES[s.value.op].differentiable for s in ir.walk(function.body))


def _chunked(loop: ir.For, namer: Namer) -> list:
    """for it in range(start, stop): body  →

        chunks = chunk_count(stop - start)
        for phase in range(2):
            for k in prange((chunks + 1) // 2):
                c = 2 * k + phase
                lo = start + min(count * c // chunks, count); hi = … (c + 1) …
                for it in range(lo, hi): body
    """
    line = loop.line
    count, chunks, halves, phase, k, c, lo, hi = (namer.fresh(n) for n in (
        "count", "chunks", "halves", "phase", "chunk", "c", "lo", "hi"))

    def bound(which):
        text = f"{loop.start.id if isinstance(loop.start, ir.Name) else loop.start.value} + " \
               f"min({count} * ({which}) // {chunks}, {count})"
        return ir.Passive(_expression(text))

    setup = [ir.Assign(count, ir.Prim("sub", (loop.stop, loop.start)), line),
             ir.Assign(chunks, ir.Opaque("chunk_count", (ir.Name(count),), None), line),
             ir.Assign(halves, ir.Passive(_expression(f"({chunks} + 1) // 2")), line)]
    chunk = [ir.Assign(c, ir.Passive(_expression(f"2 * {k} + {phase}")), line),
             ir.Assign(lo, bound(c), line),
             ir.Assign(hi, bound(f"{c} + 1"), line),
             ir.For(loop.var, ir.Name(lo), ir.Name(hi), ir.Const(1), loop.body, line)]
    threads = ir.For(k, ir.Const(0), ir.Name(halves), ir.Const(1), chunk, line, parallel=True)
    return setup + [ir.For(phase, ir.Const(0), ir.Const(2), ir.Const(1), [threads], line)]


def _calls(loop: ir.For) -> bool:
    """Whether the loop computes more than plain arithmetic (exp, sin, a division, a call)."""
    return any(isinstance(s, (ir.Assign, ir.Unpack)) and (isinstance(s.value, ir.Prim) and s.value.op not in CHEAP
                                                          or isinstance(s.value, (ir.Call, ir.Opaque)))
               for s in ir.walk(loop.body))


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
