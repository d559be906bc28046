"""Loops spread over threads (`parallel=True`): a stage between simplify and reuse.

Reverse mode marks the adjoint loops whose iterations hand each other nothing (they run
forwards, see reverse.order_free).  Such a loop still scatters into neighbouring
elements — the adjoint of `sin(x[i]) * cos(x[i + 1])` adds into bx[i] and bx[i + 1] —
so it is cut into chunks of consecutive iterations run by `numba.prange` in two phases,
even chunks then odd ones: chunks of one phase are far apart, so no two threads ever
write one element.  A chunk is an ordinary loop, which reuse.py then rotates like any
other.  A loop is cut only if every element it writes is at its own iteration's index
plus a small constant (in the first index); sums into numbers become prange reductions.
"""
from __future__ import annotations

import ast
from dataclasses import replace

from . import ir
from .analyze import number_names
from .names import Namer
from .rules import RULES
from .runtime import HELPERS

_SPAN = 16            # the farthest neighbour a chunked loop may write; chunks are far longer


def chunk_loops(function: ir.Function) -> ir.Function:
    if not function.chunkable:
        return function
    namer = Namer(ir.all_names(function))
    body = []
    for s in function.body:
        chunk = isinstance(s, ir.For) and s.var in function.chunkable and _local_writes(s)
        body.extend(_chunked(s, namer) if chunk else [s])
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


def _local_writes(loop: ir.For) -> bool:
    """Whether every element the loop writes is at its iteration's index plus a small
    constant, in the first index (so chunks far apart never write one element)."""
    offsets = ir.Offsets(loop.body)
    writes = [s for s in ir.walk(loop.body) if isinstance(s, ir.SetItem)]
    return loop.step == ir.Const(1) and all(
        (k := offsets.of(s.index[0], loop.var)) is not None and abs(k) <= _SPAN for s in writes)


def _expression(text):
    return ast.parse(text, mode="eval").body
