"""Stage 3 — analyze: activity.

A value is *varied* if it depends differentiably on a differentiated input, *useful* if
the output depends on it; only values that are both (active) get derivative code.  The
analysis is per name and flow-insensitive: a name is active if any of its assignments
is, so loop-carried values are handled without a fixpoint per iteration.
"""
from __future__ import annotations

import numpy as np

from . import ir
from .rules import CREATIONS, RULES


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
    # An element assignment `y[i] = v` makes y depend on v.
    defs = list(_definitions(function.body)) + [((s.array,), s.value, s) for s in ir.walk(function.body)
                                                 if isinstance(s, ir.SetItem)]
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
                              "(only the math/numpy functions of s2sdiff/rules.py and Python functions with source)",
                              function.filename, expr.node)
    return active


def number_names(function: ir.Function, arrays=frozenset(), known=frozenset()) -> set:
    """Names that hold numbers, not arrays.

    Code on numbers reads like a person's (`bx = 0.0`, `dz = dx if ...`); anything that
    may be an array gets zeros of its shape and adjoints summed back to its shape.  A
    parameter is a number unless the code uses it as an array: indexes it, takes its
    length or shape, reduces it, multiplies matrices with it, hands it to a function
    that does, or combines it elementwise into a value used so (`np.sum(x * 2.0)`).
    `arrays` names parameters known to be arrays (from the arguments of sd.jvp/sd.vjp),
    `known` names known to hold numbers (a transform's, of the function it came from).
    A caller passing an array for a number parameter gets a TypeError (api.py)."""
    numbers = set(function.params) - array_parameters(function) - set(arrays) | set(known)
    numbers |= {name for name, value in function.namespace.items()      # module and closure constants
                if isinstance(value, (int, float, np.number)) and not isinstance(value, bool)}
    defs = list(_definitions(function.body))
    for s in ir.walk(function.body):
        if isinstance(s, ir.For):
            numbers.add(s.var)
    candidates = {t for targets, _, _ in defs for t in targets} - set(function.params)
    changed = True
    while changed:                          # optimistic: drop any name with an array-ish definition
        changed = False
        for targets, expr, _ in defs:
            if set(targets) & candidates and not _is_number(expr, candidates | numbers):
                candidates -= set(targets)
                changed = True
    return numbers | candidates


def array_arguments(call: ir.Call, numbers) -> frozenset:
    """The callee's parameters that `call` passes what may be arrays: its derivative is
    generated for arrays there even where the callee's own code shows no sign of one."""
    params = call.callee.function.params
    return frozenset(p for p, a in zip(params, call.args) if isinstance(a, ir.Name) and a.id not in numbers)


def _is_number(expr, numbers) -> bool:
    if isinstance(expr, ir.Const):
        return not isinstance(expr.value, (tuple, list))
    if isinstance(expr, ir.Name):
        return expr.id in numbers
    if isinstance(expr, ir.Passive):
        return True
    if isinstance(expr, ir.Item):
        return all(not isinstance(i, ir.Slice) for i in expr.index)
    if isinstance(expr, ir.Prim):
        rule = RULES[expr.op]
        if rule.result == "number" or expr.family in ("math", "builtin"):
            return True
        if rule.result == "array":
            return False
        return all(_is_number(a, numbers) for a in expr.args)
    if isinstance(expr, ir.Call) and not isinstance(expr.callee, ir.Derived):
        return _returns_numbers(expr, numbers)
    return False        # generated derivatives, opaque calls


_call_results: dict = {}


def _returns_numbers(call: ir.Call, numbers) -> bool:
    """Whether a user function returns only numbers when called with these arguments (the
    ones not in `numbers` may be arrays)."""
    try:
        callee = call.callee.function
    except Exception:           # an unreadable callee: its own transform reports it
        return False
    arrays = array_arguments(call, numbers)
    key = (id(callee), arrays)
    if key not in _call_results:
        _call_results[key] = (callee, False)          # a recursive call sees no evidence
        inner = number_names(callee, arrays)
        returned = [v for s in ir.walk(callee.body) if isinstance(s, ir.Return) for v in s.values]
        _call_results[key] = (callee, all(_is_number(v, inner) for v in returned))
    return _call_results[key][1]


_array_parameters: dict = {}


def array_parameters(function: ir.Function) -> set:
    """Parameters the function uses as arrays (see number_names)."""
    key = id(function)
    if key in _array_parameters:
        return _array_parameters[key][1]
    _array_parameters[key] = (function, set())       # a recursive call sees no evidence
    arrays, defs = set(), list(_definitions(function.body))
    for targets, expr, _ in defs:
        if isinstance(expr, ir.Item):
            arrays.add(expr.array.id)
        elif isinstance(expr, ir.Prim) and RULES[expr.op].result != "elementwise" and expr.op != "where" \
                and (expr.op not in CREATIONS or expr.op == "copy"):      # np.zeros(n): n is a size
            arrays |= {a.id for a in expr.args[:1 if expr.op in ("dim", "sum_axis", "expand") else None]
                       if isinstance(a, ir.Name)}
        elif isinstance(expr, ir.Opaque):
            arrays |= {a.id for a in expr.args if isinstance(a, ir.Name)}
        elif isinstance(expr, ir.Call):
            try:
                callee_arrays = array_parameters(expr.callee.function)
                callee_params = expr.callee.function.params
            except Exception:       # an unreadable callee: its own transform reports it
                continue
            arrays |= {a.id for a, p in zip(expr.args, callee_params) if isinstance(a, ir.Name) and p in callee_arrays}
    for s in ir.walk(function.body):
        if isinstance(s, ir.SetItem):
            arrays.add(s.array)
    # An elementwise result used as an array makes its inputs arrays, unless one of them is one
    # already (`x * a`: a may be a number; a caller passing an array for it gets a variant).
    changed = True
    while changed:
        changed = False
        for targets, expr, _ in defs:
            if set(targets) & arrays and isinstance(expr, ir.Prim) and expr.family not in ("math", "builtin") \
                    and (RULES[expr.op].result == "elementwise" or expr.op == "where"):
                inputs = {a.id for a in expr.args if isinstance(a, ir.Name)}
                new = inputs - arrays if not inputs & arrays else set()
                if new:
                    arrays |= new
                    changed = True
            elif set(targets) & arrays and isinstance(expr, ir.Name) and expr.id not in arrays:
                arrays.add(expr.id)
                changed = True
    result = arrays & set(function.params)
    _array_parameters[key] = (function, result)
    return result


def certain_arrays(function: ir.Function, arrays=frozenset()) -> set:
    """Names that hold arrays whatever the arguments: the `arrays` parameters, new arrays,
    slices, and elementwise results with such an operand.  (A matrix product may be a
    number — vector @ vector — so it is not certain.)"""
    certain = set(arrays)
    defs = list(_definitions(function.body))
    changed = True
    while changed:
        changed = False
        for targets, expr, _ in defs:
            if set(targets) <= certain:
                continue
            if isinstance(expr, ir.Name) and expr.id in certain \
                    or isinstance(expr, ir.Item) and any(isinstance(i, ir.Slice) for i in expr.index) \
                    or isinstance(expr, ir.Prim) and (expr.op in CREATIONS or RULES[expr.op].result == "elementwise"
                                                      and expr.family not in ("math", "builtin")
                                                      and any(isinstance(a, ir.Name) and a.id in certain
                                                              for a in expr.args)):
                certain |= set(targets)
                changed = True
    return certain

