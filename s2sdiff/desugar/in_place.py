"""Writes into parameters, made functional (DESIGN §2).  A parameter the function changes
in place — stores into (`u[1:-1] = ...`), updates (`y += a * x`) or hands to a kernel that
does (`step(u, c)`, effects.py) — is copied on entry (`u = owned(u)`), so the code s2sdiff
derives works on an array of its own: derivatives are of the outputs with respect to the
values the arguments had on entry, and a derivative call never changes the caller's
arrays.  A function that returns nothing gives as its outputs the final values of the
parameters it changes, in parameter order (one array, or a tuple of them)."""
from __future__ import annotations

import ast

from ..effects import changed_parameters
from ..runtime import owned
from .scope import Scope, assign, call, load, located


def rewrite(body: list, scope: Scope) -> list:
    parsed = scope.parsed
    if hasattr(parsed.py_func, "s2sdiff_origin"):       # generated code changes only arrays of its own
        return body
    changes = changed_parameters(parsed.py_func)
    changed = [p for p in parsed.params if p in changes]
    if not changed:
        return body
    scope.changed = tuple(changed)
    copy = scope.bind_free("owned", owned)
    entry = [assign(p, call(load(copy), load(p)), changes[p]) for p in changed]
    returns = [node for stmt in body for node in ast.walk(stmt) if isinstance(node, ast.Return)]
    if any(not _is_none(r.value) for r in returns):
        return entry + body
    scope.returns_changed = True
    for r in returns:
        r.value = located(_changed_values(changed), r)
    if not (body and isinstance(body[-1], ast.Return)):
        body = body + [located(ast.Return(_changed_values(changed)), body[-1] if body else scope.tree)]
    return entry + body


def _is_none(value) -> bool:
    return value is None or isinstance(value, ast.Constant) and value.value is None


def _changed_values(changed):
    return load(changed[0]) if len(changed) == 1 else ast.Tuple([load(p) for p in changed], ast.Load())
