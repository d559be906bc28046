"""Nested functions and lambdas lifted to functions of their own, which s2sdiff then
differentiates as it does any callee.  The enclosing function's names a nested function
reads become its first parameters, passed at each call: Python reads a closure's
variables when it is called, and so does the call that passes them."""
from __future__ import annotations

import ast
import copy

from ..parse import assigned_names
from .scope import Scope, load, located


def lift(body: list, scope: Scope) -> list:
    nested = {}
    stores = {}
    for node in ast.walk(ast.Module(body, [])):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
    body = _taken_out(body, nested, stores, scope)
    if not nested:
        return body
    enclosing = scope.local - set(nested)
    reads = {name: _free_reads(fdef) for name, fdef in nested.items()}
    passed = {name: read & enclosing for name, read in reads.items()}
    changed = True
    while changed:                      # a nested function passes on what those it calls read
        changed = False
        for name, read in reads.items():
            for callee in read & nested.keys():
                extra = passed[callee] - passed[name]
                if extra:
                    own = _own_names(nested[name])
                    if extra & own:
                        raise scope.error(f"{name} calls {callee}, which reads the enclosing '{min(extra & own)}' that "
                                          f"{name} names otherwise: rename one of them", nested[name])
                    passed[name] |= extra
                    changed = True
    order = {name: sorted(passed[name]) for name in nested}
    calls = _PassClosure(order, scope)
    body = [calls.visit(s) for s in body]
    namespace = {**scope.parsed.globals, **scope.parsed.closure, **scope.free}
    for name, fdef in nested.items():
        fdef.body = [calls.visit(s) for s in fdef.body]
        scope.free[name] = _function(fdef, order[name], namespace, scope)
    namespace.update({name: scope.free[name] for name in nested})
    return body


def _taken_out(body, nested, stores, scope) -> list:
    """The statements without the nested definitions, which go into `nested`."""
    out = []
    for stmt in body:
        definition = None
        if isinstance(stmt, ast.FunctionDef):
            definition = stmt
        elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Lambda):
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                raise scope.error("a lambda is supported assigned to one name (f = lambda x: ...)", stmt)
            definition = located(ast.FunctionDef(stmt.targets[0].id, stmt.value.args,
                                                 [located(ast.Return(stmt.value.body), stmt.value.body)], [], None,
                                                 type_params=[]), stmt)
        if definition is not None:
            if definition.name in nested or definition.name in scope.parsed.params \
                    or stores.get(definition.name, 0) != (definition is not stmt):
                raise scope.error(f"'{definition.name}' names a nested function and another value: rename one",
                                  stmt)
            for node in ast.walk(definition):
                if isinstance(node, (ast.Nonlocal, ast.Global)):
                    raise scope.error(f"a nested function with a {type(node).__name__.lower()} statement is not "
                                      "supported: have it return the new value", node)
            if definition.decorator_list:
                raise scope.error("a decorated nested function is not supported: define it at module level",
                                  definition.decorator_list[0])
            nested[definition.name] = definition
            continue
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, _taken_out(getattr(stmt, field), nested, stores, scope))
        out.append(stmt)
    return out


def _own_names(fdef) -> set:
    args = fdef.args
    return {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs} | assigned_names(fdef)


def _free_reads(fdef) -> set:
    reads = {n.id for stmt in fdef.body for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return reads - _own_names(fdef)


class _PassClosure(ast.NodeTransformer):
    """Each call of a nested function passes the enclosing names it reads."""

    def __init__(self, order, scope):
        self.order, self.scope = order, scope

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.order:
            node.args = [located(load(n), node) for n in self.order[node.func.id]] + node.args
        return node

    def visit_Name(self, node):
        if node.id in self.order and isinstance(node.ctx, ast.Load) and not getattr(node, "called", False):
            raise self.scope.error(f"the nested function '{node.id}' can only be called here (s2sdiff does not pass "
                                   "functions as values)", node)
        return node

    def generic_visit(self, node):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            node.func.called = True
        return super().generic_visit(node)


def _function(fdef: ast.FunctionDef, passed: list, namespace: dict, scope: Scope):
    """The nested definition as a function object: its code compiled at the user's lines
    (for tracebacks), its tree kept for parse (the file holds the definition before lifting)."""
    for default in fdef.args.defaults + [d for d in fdef.args.kw_defaults if d is not None]:
        if {n.id for n in ast.walk(default) if isinstance(n, ast.Name)} & scope.local:
            raise scope.error("a nested function's default may not depend on the enclosing function's values",
                              default)
    lifted = copy.deepcopy(fdef)
    lifted.args.args = [located(ast.arg(n), fdef) for n in passed] + lifted.args.posonlyargs + lifted.args.args
    lifted.args.posonlyargs = []
    ast.fix_missing_locations(lifted)
    code = compile(ast.Module([copy.deepcopy(lifted)], []), scope.parsed.filename, "exec")
    exec(code, namespace)
    function = namespace.pop(fdef.name)
    function.s2sdiff_tree = lifted
    function.s2sdiff_filename = scope.parsed.filename
    return function
