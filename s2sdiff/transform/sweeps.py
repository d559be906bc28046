"""A callee's two sweeps, run where the caller's sweeps run: its primal is not computed twice.

The adjoint of `z = g(y)` calls g's value-and-adjoint function, which runs g's forward
sweep again before its adjoint sweep.  Where the caller's forward sweep computes `z`
itself (the caller's value, or a later line, reads it), g's forward sweep would run twice.
So g's adjoint function is cut at its adjoint sweep (`split`):

    z, t1 = g_vjp_forward(y)            # in the caller's forward sweep: the value, and the
    ...                                 # residuals — what g's adjoint sweep reads of its forward one
    by = g_vjp_backward(y, t1, bz)      # in the caller's adjoint sweep

The rule, store or recompute: a call of the caller's body (outside loops and branches)
keeps its residuals until the adjoint sweep reads them: the values g's adjoint sweep reads
that cost a call to compute (exp, a reduction, a matrix product), which the caller's
forward sweep computed anyway; views, products and sizes are recomputed, cheaper than
keeping them alive.  A callee's whole tape is never kept this way: a callee with tapes, or
whose value is computed in its adjoint sweep, keeps the one function.  Inside a loop, the
adjoint recomputes an iteration as it would inlined code, callee and all: it keeps one
value-and-adjoint call.  Where a later write could change a residual — the caller writing
into an argument of the call or into what it returns — the callee's forward sweep runs
again, in its value-and-adjoint function; so does a callee whose adjoint reads more values
than a call can pass (_MOST_ARGUMENTS).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import NamedTuple

from .. import ir
from ..analyze import array_ndims
from ..rules import CHEAP, RULES, VIEWS
from .reverse import prune, tapes_made
from ..names import Namer

# Python 3.11 passes more arguments than this as a tuple (*args), which numba cannot inline
_MOST_ARGUMENTS = 30
_LONGEST_RESIDUAL = 12


class Sweeps(NamedTuple):
    forward: ir.Function          # params -> the values, then the residuals
    backward: ir.Function         # params, residuals, seeds -> the adjoints
    residuals: list
    name: str                     # the function's (a lambda's is the name it is assigned to)


def split(vjp: ir.Function, name: str, n_values: int) -> Sweeps | None:
    """The Sweeps of the value-and-adjoint function of `name` with `n_values` values, or
    None where it cannot be cut.  The residuals are the
    values the adjoint sweep reads that cost a call to compute (exp, a matrix product, a
    reduction); the backward sweep recomputes the rest (views, products, sizes), as the
    function's own adjoint sweep would have read them, so its code knows their shapes."""
    body = vjp.body
    cut = _adjoint_sweep(body)
    ret = body[-1]
    if cut is None or not isinstance(ret, ir.Return):
        return None
    forward, adjoint = body[:cut], body[cut:-1]
    if any(isinstance(s, ir.SetItem) for s in ir.walk(forward)) or tapes_made(forward):
        return None                 # recomputing the forward sweep's writes would write twice
    values, adjoints = ret.values[:n_values], ret.values[n_values:]
    later = ir.assigned_within(adjoint)
    if any(isinstance(v, ir.Name) and v.id in later for v in values):
        return None                 # the value is computed in the adjoint sweep's loop (reverse.fuse)
    params = list(vjp.params[:len(vjp.params) - n_values])
    seeds = list(vjp.params[len(params):])
    needed = ir.exposed_reads(adjoint) | {v.id for v in adjoints if isinstance(v, ir.Name)}
    counts = Counter(t for s in ir.walk(forward) for t in ir.targets(s))
    kept = [s for s in forward if isinstance(s, (ir.Assign, ir.Unpack)) and _costly(s.value)
            and set(ir.targets(s)) & needed and all(counts[t] == 1 and t not in params for t in ir.targets(s))]
    residuals = sorted({t for s in kept for t in ir.targets(s)} & needed)
    if later & set(residuals) or len(vjp.params) + len(residuals) > _MOST_ARGUMENTS:
        return None
    recomputed = [s for s in forward if not (isinstance(s, (ir.Verbatim, ir.Comment)) or any(s is k for k in kept))]
    recomputed, _ = prune(recomputed, needed - set(residuals))
    if recomputed:
        recomputed.insert(0, ir.Comment("what the adjoint sweep reads, recomputed from the residuals", 0))
    outputs = tuple(values) + tuple(ir.Name(r) for r in residuals)
    # what the function knew of the residuals, its backward sweep knows of its parameters
    ndims = array_ndims(vjp, vjp.numbers, vjp.kinds)
    known = {(r, 0) for r in residuals if r in vjp.numbers} | {(r, ndims[r]) for r in residuals if r in ndims}
    suffix = vjp.name[len(f"{name}_vjp"):]          # the parameters it is taken in
    first = replace(vjp, name=f"{name}_vjp_forward{suffix}", params=params,
                    body=forward + [ir.Return(outputs, len(outputs) > 1, ret.line)],
                    n_outputs=len(outputs), tuple_result=len(outputs) > 1, doc=f"{vjp.doc}: its forward sweep")
    second = replace(vjp, name=f"{name}_vjp_backward{suffix}", params=params + residuals + seeds,
                     body=recomputed + adjoint + [ir.Return(tuple(adjoints), len(adjoints) > 1, ret.line)],
                     n_outputs=len(adjoints), tuple_result=len(adjoints) > 1, doc=f"{vjp.doc}: its adjoint sweep",
                     kinds=vjp.kinds | known)
    return Sweeps(first, second, residuals, name)


def _costly(value) -> bool:
    """Whether a value costs a call to compute: a primitive other than plain arithmetic, a
    view or a size, or a callee's."""
    if isinstance(value, ir.Call):
        return True
    return isinstance(value, ir.Prim) and value.op not in CHEAP | VIEWS and RULES[value.op].differentiable


def share_callee_sweeps(function: ir.Function, sweeps) -> ir.Function:
    """The caller's reverse-mode function with each call of its body that both sweeps make
    run as the callee's two sweeps; `sweeps(derived)` is split's result for the
    callee's value-and-adjoint function (an ir.Derived "vjp"), or None."""
    body = function.body
    cut = _adjoint_sweep(body)
    if cut is None:
        return function
    forward_calls = _calls_once(body[:cut], lambda callee: not isinstance(callee, ir.Derived))
    adjoint_calls = _calls_once(body[cut:], lambda callee: isinstance(callee, ir.Derived) and callee.kind == "vjp")
    bases = ir.view_bases(function)

    def aliases(names):
        return set(names) | {b for name in names for b in bases.get(name, ())}
    written = aliases(s.array for s in ir.walk(body) if isinstance(s, ir.SetItem))
    namer = Namer(ir.all_names(function))
    rewrites = {}
    for callee, (k, s) in forward_calls.items():
        if callee not in adjoint_calls:
            continue
        j, adjoint = adjoint_calls[callee]
        args, values, derived = s.value.args, tuple(ir.targets(s)), adjoint.value.callee
        if adjoint.value.args[:len(args)] != args:
            continue
        related = aliases(values + tuple(a.id for a in args if isinstance(a, ir.Name)))
        if related & written:
            continue                # a later write could change a residual
        parts = sweeps(derived)
        if parts is None:
            continue
        # named for the callee; a callee's callee's residual (`g_h_t2`) by its place, so
        # that names do not grow with each level of calls
        kept = tuple(ir.Name(namer.fresh(f"{parts.name}_{r}" if len(r) <= _LONGEST_RESIDUAL else f"{parts.name}_r{k}"))
                     for k, r in enumerate(parts.residuals, 1))
        rewrites[k] = ir.Unpack(values + tuple(r.id for r in kept),
                                ir.Call(replace(derived, kind="vjp_forward"), args), s.line)
        seeds = adjoint.value.args[len(args):]
        rewrites[cut + j] = ir.Unpack(adjoint.targets[len(values):],
                                      ir.Call(replace(derived, kind="vjp_backward"), args + kept + seeds),
                                      adjoint.line)
    if not rewrites:
        return function
    return replace(function, body=[rewrites.get(k, s) for k, s in enumerate(body)])


def _adjoint_sweep(body):
    return next((k for k, s in enumerate(body) if isinstance(s, ir.Comment) and s.text == "adjoint sweep"), None)


def _calls_once(body, wanted) -> dict:
    """The user callee -> (position, statement) of calls in `body`'s top level, for callees
    called there once."""
    found, twice = {}, set()
    for k, s in enumerate(body):
        if isinstance(s, (ir.Assign, ir.Unpack)) and isinstance(s.value, ir.Call) and wanted(s.value.callee):
            callee = s.value.callee
            callee = callee.callee if isinstance(callee, ir.Derived) else callee
            if callee in found:
                twice.add(callee)
            found[callee] = (k, s)
    return {callee: place for callee, place in found.items() if callee not in twice}
