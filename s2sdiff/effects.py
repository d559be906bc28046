"""Which arguments a Python function may change in place, read from its source.

A call used as a statement matters to a derivative only through what it changes: a
kernel `kernel(C, A)` that stores into `C` changes the caller's array.  s2sdiff copies
such parameters on entry and takes their final values as the kernel's outputs
(desugar.in_place), which the caller assigns (`C = kernel(C, A)`, normalize); a call
statement that changes nothing (a print helper, a check) runs as written.  The answer errs on the side
of "may change": a parameter that a function stores into, updates with an augmented
assignment, calls a method on, or hands to a call statement that may change it.
"""
from __future__ import annotations

import ast

from .errors import S2SDiffError
from .parse import parse_function, python_function

# Calls as statements that change nothing the caller can see.
HARMLESS_STATEMENTS = frozenset({print})

_changed: dict = {}


def changed_parameters(func) -> dict:
    """Parameter name -> the first AST node that may change it in place, for a Python
    function (an empty dict for one whose source cannot be read: calls to it are
    refused elsewhere if they matter)."""
    try:
        py_func = python_function(func)
        parsed = parse_function(py_func)
    except S2SDiffError:
        return {}
    key = (py_func, py_func.__code__)
    if key not in _changed:
        _changed[key] = {}                        # a recursive call sees nothing changed yet
        _changed[key] = _Changes(parsed).run()
    return _changed[key]


class _Changes:
    def __init__(self, parsed):
        self.parsed = parsed
        self.found: dict = {}

    def run(self) -> dict:
        self.block(self.parsed.tree.body, set(self.parsed.params))
        return self.found

    def block(self, body, entry: set):
        """`entry`: parameters that may still hold the caller's array here."""
        for stmt in body:
            self.statement(stmt, entry)
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                entry -= {t.id for t in targets if isinstance(t, ast.Name)}   # rebound: no longer the caller's

    def statement(self, stmt, entry):
        nested = _nested_bodies(stmt)
        if nested:
            for body in nested:
                self.block(body, set(entry))
            return
        targets = []
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
            targets = [stmt.target]
        for target in targets:
            base = base_name(target)
            if base in entry and (not isinstance(target, ast.Name) or isinstance(stmt, ast.AugAssign)):
                self.found.setdefault(base, stmt)          # `p[i] = ...`, `p.x = ...`, `p += ...`
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            for name in call_changes(stmt.value, self.parsed.lookup, self.parsed.local_names) & entry:
                self.found.setdefault(name, stmt)


def call_changes(call: ast.Call, lookup, local_names) -> set:
    """Names among a call statement's arguments (and the object of a method call) that
    the call may change."""
    func = call.func
    if isinstance(func, ast.Attribute) and base_name(func) in local_names:
        return {base_name(func)} | _argument_names(call)           # x.sort(), out.fill(0.0)
    try:
        callee = _resolve(func, lookup)
    except (KeyError, AttributeError):
        return _argument_names(call)
    if callee in HARMLESS_STATEMENTS:
        return set()
    try:
        params = list(parse_function(callee).params)
    except S2SDiffError:
        return _argument_names(call)                                # np.copyto(y, x), random.shuffle(x)
    changed = changed_parameters(callee)
    given = list(zip(params, call.args)) + [(k.arg, k.value) for k in call.keywords]
    return {base_name(arg) for param, arg in given if param in changed} - {None}


def _nested_bodies(stmt) -> list:
    """The statement lists inside a compound statement (if, loops, with, try, match)."""
    bodies = []
    for _, value in ast.iter_fields(stmt):
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            bodies.append(value)
        elif isinstance(value, list):
            bodies += [item.body for item in value if isinstance(item, (ast.excepthandler, ast.match_case))]
    return bodies


def _argument_names(call: ast.Call) -> set:
    """The arrays a call's arguments name, or name a part of (`h[0]`)."""
    return {base_name(a) for a in call.args + [k.value for k in call.keywords]} - {None}


def base_name(node):
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _resolve(node, lookup):
    if isinstance(node, ast.Name):
        return lookup(node.id)
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(node.value, lookup), node.attr)
    raise KeyError(ast.unparse(node))
