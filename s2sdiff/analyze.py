"""Stage 3 — analyze: activity.

A value is *varied* if it depends differentiably on a differentiated input, *useful* if
the output depends on it; only values that are both (active) get derivative code.  The
analysis is per name and flow-insensitive: a name is active if any of its assignments
is, so loop-carried values are handled without a fixpoint per iteration.
"""
from __future__ import annotations

from . import ir
from .rules import RULES


def _reads(expr) -> set:
    """Names whose derivative flows into the value of `expr`."""
    if isinstance(expr, ir.Name):
        return {expr.id}
    if isinstance(expr, ir.Prim):
        rule = RULES[expr.op]
        if not rule.differentiable:
            return set()
        return {a.id for a, p in zip(expr.args, rule.params) if isinstance(a, ir.Name) and p != "c"}
    if isinstance(expr, ir.Item):
        return {expr.array.id}
    if isinstance(expr, ir.Call):
        return {a.id for a in expr.args if isinstance(a, ir.Name)}
    return set()    # constants, passive expressions; opaque calls are checked below


def _definitions(body):
    """(targets, expr, stmt) for every statement that assigns names."""
    for stmt in ir.walk(body):
        if isinstance(stmt, ir.Assign):
            yield (stmt.target,), stmt.value, stmt
        elif isinstance(stmt, ir.Unpack):
            yield stmt.targets, stmt.value, stmt
        elif isinstance(stmt, (ir.For, ir.While)) and stmt.loop is not None:
            for carried, last in stmt.loop.carried.items():   # the copy between iterations
                yield (carried,), ir.Name(last), stmt


def active_names(function: ir.Function, wrt) -> set:
    defs = list(_definitions(function.body))
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for targets, expr, _ in defs:
            if _reads(expr) & varied and not set(targets) <= varied:
                varied |= set(targets)
                changed = True
    useful = {a.id for s in ir.walk(function.body) if isinstance(s, ir.Return)
              for a in s.values if isinstance(a, ir.Name)}
    changed = True
    while changed:
        changed = False
        for targets, expr, _ in reversed(defs):
            if set(targets) & useful:
                new = _reads(expr) - useful
                if new:
                    useful |= new
                    changed = True
    active = varied & useful
    for targets, expr, stmt in defs:
        if isinstance(expr, ir.Opaque) and any(isinstance(a, ir.Name) and a.id in varied for a in expr.args) \
                and set(targets) & useful:
            from .errors import unsupported
            raise unsupported(f"cannot differentiate through '{expr.name}': it is not a function s2sdiff can read "
                              "(only math/numpy functions of DESIGN §2 and Python functions with source)",
                              function.filename, expr.node)
    return active
