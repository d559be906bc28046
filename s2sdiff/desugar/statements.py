"""Statements with nothing to differentiate, made plain: imports inside the function (bound
when the derivative is built, as module names are), `global` reads, `del`, the f-string
messages of assert and print (numba formats no f-strings), constants read through free
names — a module's tuple or list of numbers is an array, a function attribute or a dict
entry is the value it holds then — and swaps of arrays the function writes into
(`u, v = v, u`), which exchange their contents: an array assigned elements has one name."""
from __future__ import annotations

import ast
import importlib
import numbers

import numpy as np

from .scope import Scope, assign, call, constant_array, load, located, map_bodies


def rewrite(body: list, scope: Scope) -> list:
    assigned = scope.local
    assigned_elements = {node.value.id for node in ast.walk(scope.tree) if isinstance(node, ast.Subscript)
               and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name)}

    def each(stmt):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                name = alias.asname or alias.name.split(".")[0]
                if name in assigned:
                    raise scope.error(f"'{name}' is both imported and assigned in this function", stmt)
                scope.free[name] = _imported(stmt, alias, scope)
            return []
        if isinstance(stmt, ast.Global):
            written = sorted(set(stmt.names) & assigned)
            if written:
                raise scope.error(f"assigning the module global '{written[0]}' is not supported in differentiated "
                                  "code: return the new value instead", stmt)
            return []
        if isinstance(stmt, ast.Nonlocal):
            raise scope.error("a nonlocal statement is not supported: return the new value instead", stmt)
        if isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if not isinstance(target, ast.Name):
                    raise scope.error(f"del {ast.unparse(target)} is not supported (only del of names)", target)
            return []
        if isinstance(stmt, ast.Assert) and stmt.msg is not None and _has_fstring(stmt.msg):
            stmt.msg = located(ast.Constant(_text(stmt.msg)), stmt.msg)
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and scope.resolve(stmt.value.func) is print:
            stmt.value.args = [part for arg in stmt.value.args for part in _printed(arg)]
        if _swaps(stmt, assigned_elements):
            return _exchanged(stmt, scope)
        if not isinstance(stmt, ast.FunctionDef):
            _Constants(scope).visit(stmt)
        return [stmt]
    return map_bodies(body, each)


def _swaps(stmt, written) -> bool:
    """`u, v = v, u` (any permutation) of arrays, one of which the function assigns elements
    (all of them are, after the exchange: normalize checks they have no other names)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple)
            and isinstance(stmt.value, ast.Tuple)):
        return False
    targets, values = stmt.targets[0].elts, stmt.value.elts
    names = [n.id if isinstance(n, ast.Name) else None for n in targets + values]
    return None not in names and len(set(names[:len(targets)])) == len(targets) \
        and sorted(names[:len(targets)]) == sorted(names[len(targets):]) and set(names) & written \
        and names[:len(targets)] != names[len(targets):]


def _exchanged(stmt, scope) -> list:
    """The swap as copies of contents: each target gets its source's values (`u[:] = v`),
    a source already overwritten by then read from a copy taken first.  Arrays of
    different shapes would swap shapes too: that is checked, not done."""
    targets = [n.id for n in stmt.targets[0].elts]
    sources = [n.id for n in stmt.value.elts]
    shape = ast.Attribute(load(targets[0]), "shape", ast.Load())
    same = ast.BoolOp(ast.And(), [ast.Compare(ast.Attribute(load(t), "shape", ast.Load()), [ast.Eq()], [shape])
                                  for t in targets[1:]]) if len(targets) > 2 else \
        ast.Compare(ast.Attribute(load(targets[1]), "shape", ast.Load()), [ast.Eq()], [shape])
    out = [located(ast.Assert(same, ast.Constant(f"s2sdiff swaps the contents of {', '.join(targets)}, which must "
                                                 "have one shape")), stmt)]
    saved = {}
    for k, source in enumerate(sources):
        if source in targets[:k]:
            saved[source] = scope.namer.fresh(f"{source}_before")
            out.append(assign(saved[source], call(ast.Attribute(load(source), "copy", ast.Load())), stmt))
    for target, source in zip(targets, sources):
        whole = ast.Subscript(ast.Name(target, ast.Store()), ast.Slice(), ast.Store())
        out.append(located(ast.Assign([whole], load(saved.get(source, source))), stmt))
    return out


def _imported(stmt, alias, scope):
    try:
        if isinstance(stmt, ast.Import):
            return importlib.import_module(alias.name if alias.asname else alias.name.split(".")[0])
        if stmt.level:
            raise scope.error("a relative import inside the function is not supported: import at module level",
                              stmt)
        module = importlib.import_module(stmt.module)
        if alias.name == "*":
            raise scope.error("`from ... import *` inside the function is not supported", stmt)
        return getattr(module, alias.name)
    except (ImportError, AttributeError) as exc:
        raise scope.error(f"cannot import: {exc}", stmt) from None


def _has_fstring(node) -> bool:
    return any(isinstance(n, ast.JoinedStr) for n in ast.walk(node))


def _text(node) -> str:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ast.unparse(node)


def _printed(arg):
    """An f-string printed as its pieces: the text and the values, in order."""
    if not isinstance(arg, ast.JoinedStr):
        return [arg]
    parts = []
    for value in arg.values:
        if isinstance(value, ast.FormattedValue):
            parts.append(value.value)
        elif value.value.strip():
            parts.append(located(ast.Constant(value.value.strip()), arg))
    return parts


class _Constants(ast.NodeTransformer):
    """Constants read through free names, as values normalize reads: a function attribute,
    a dict's entry, a tuple or list indexed (COEFFS[i]) as an array."""

    def __init__(self, scope: Scope):
        self.scope = scope

    def visit_Call(self, node):
        node.args = [self.visit(a) for a in node.args]
        node.keywords = [self.visit(k) for k in node.keywords]
        return node                      # the callee is a function, kept

    def visit_Attribute(self, node):
        value = self.scope.resolve(node)
        if isinstance(value, (tuple, list)):
            value = constant_array(value)
        if isinstance(value, np.ndarray):
            return located(ast.Name(self.scope.bind_free(node.attr, value), ast.Load()), node)
        self.generic_visit(node)
        return node

    def visit_Subscript(self, node):
        if self.scope.as_array(node.value):
            self.generic_visit(node)
            return node
        base = self.scope.resolve(node.value)
        if isinstance(base, dict) and isinstance(node.slice, ast.Constant) and node.slice.value in base:
            value = base[node.slice.value]
            if isinstance(value, (tuple, list)):
                value = constant_array(value)
            if isinstance(value, (numbers.Number, np.ndarray)) and not isinstance(value, bool):
                name = node.slice.value if isinstance(node.slice.value, str) and node.slice.value.isidentifier() \
                    else "constant"
                return located(ast.Name(self.scope.bind_free(name, value), ast.Load()), node)
        self.generic_visit(node)
        return node
