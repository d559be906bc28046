"""Loops over sequences as loops over their positions: `for a in x` is
`for i in range(len(x)): a = x[i]`; enumerate, zip and reversed compose (an element of
zip is the tuple of its sequences' elements at one position).  An array's elements are
its rows, as NumPy iterates them."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

from .scope import Scope, assign, call, load, located, map_bodies, store


@dataclass
class Sequence:
    length: ast.expr
    element: Callable[[ast.expr], ast.expr]     # the element at a position
    first_name: str | None = None               # enumerate's counter, when it can be the loop's


def rewrite(body: list, scope: Scope) -> list:
    return map_bodies(body, lambda stmt: loop(stmt, scope) if isinstance(stmt, ast.For) else [stmt])


def is_range(node, scope: Scope) -> bool:
    return isinstance(node, ast.Call) and scope.resolve(node.func) is range


def loop(stmt: ast.For, scope: Scope) -> list:
    """A for loop over range(...) with one name, as normalize takes it."""
    if is_range(stmt.iter, scope) and isinstance(stmt.target, ast.Name):
        return [stmt]
    before = []
    seq = sequence(stmt.iter, scope, before, stmt, stmt.target)
    counter = seq.first_name if _counts(stmt.target, seq) else scope.namer.fresh("i")
    bindings = bind(stmt.target, seq.element(load(counter)), scope, stmt)
    new = ast.For(store(counter), located(call(load("range"), seq.length), stmt.iter), bindings + stmt.body,
                  stmt.orelse, None)
    return located(before + [ast.copy_location(new, stmt)], stmt)


def _counts(target, seq: Sequence) -> bool:
    """Whether enumerate's own counter name can count the loop (`for i, a in enumerate(x)`)."""
    return seq.first_name is not None and isinstance(target, ast.Tuple) and isinstance(target.elts[0], ast.Name) \
        and target.elts[0].id == seq.first_name


def sequence(node, scope: Scope, before: list, at, target=None) -> Sequence:
    """How to take the length and an element of the iterable `node` (looped over by
    `target`, in the statement `at`); values it needs computed once go into `before`."""
    func = scope.resolve(node.func) if isinstance(node, ast.Call) else None
    if func is not None and node.keywords and not (func is enumerate and [k.arg for k in node.keywords] == ["start"]):
        raise scope.error(f"keyword '{node.keywords[0].arg}=' of {ast.unparse(node.func)} is not supported here", node)
    if func is range:
        if not 1 <= len(node.args) <= 3:
            raise scope.error("range takes 1 to 3 arguments", node)
        bounds = [_once(a, scope, before, "bound", at) for a in node.args]
        start, step = (bounds[0] if len(bounds) > 1 else None), (bounds[2] if len(bounds) == 3 else None)

        def element(k):
            value = k if step is None else ast.BinOp(k, ast.Mult(), step)
            return value if start is None else ast.BinOp(start, ast.Add(), value)
        return Sequence(call(load("len"), call(load("range"), *bounds)), element)
    if func is enumerate:
        start = node.args[1] if len(node.args) == 2 else (node.keywords[0].value if node.keywords else None)
        if len(node.args) not in (1, 2):
            raise scope.error("enumerate takes (sequence, start) here", node)
        inner = sequence(node.args[0], scope, before, at, target)
        offset = None if start is None or isinstance(start, ast.Constant) and start.value == 0 \
            else _once(start, scope, before, "start", at)
        return Sequence(inner.length, lambda k: ast.Tuple([k if offset is None else ast.BinOp(k, ast.Add(), offset),
                                                           inner.element(k)], ast.Load()),
                        _counter_name(target) if offset is None else None)
    if func is zip:
        if not node.args:
            raise scope.error("zip of nothing", node)
        inners = [sequence(a, scope, before, at) for a in node.args]
        length = inners[0].length if len(inners) == 1 else call(load("min"), *[s.length for s in inners])
        return Sequence(length, lambda k: ast.Tuple([s.element(k) for s in inners], ast.Load()))
    if func is reversed:
        if len(node.args) != 1:
            raise scope.error("reversed takes one sequence", node)
        inner = sequence(node.args[0], scope, before, at, target)
        n = _once(inner.length, scope, before, "n", at)
        return Sequence(n, lambda k: inner.element(ast.BinOp(ast.BinOp(n, ast.Sub(), ast.Constant(1)), ast.Sub(), k)))
    if func is not None and isinstance(node, ast.Call) and func in (map, filter, iter, sorted):
        raise scope.error(f"iterating over {ast.unparse(node.func)}(...) is not supported: loop over range(len(...))",
                          node)
    if isinstance(node, (ast.List, ast.Tuple)):      # zip([1.0, 2.0], x): the numbers as an array
        node = located(call(ast.Attribute(load("np"), "array", ast.Load()), ast.List(node.elts, ast.Load())), at)
    scope.as_array(node)
    items = node if isinstance(node, ast.Name) else load(_hoisted(node, scope, before, "items", at))
    return Sequence(call(load("len"), items), lambda k: ast.Subscript(items, k, ast.Load()))


def _counter_name(target):
    if isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name):
        return target.elts[0].id
    return None


def _once(node, scope, before, base, at):
    """`node` itself if it is a name or a constant, else a name for its value."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return node
    return load(_hoisted(node, scope, before, base, at))


def _hoisted(node, scope, before, base, at) -> str:
    name = scope.namer.fresh(base)
    before.append(assign(name, node, at))
    return name


def bind(target, value, scope: Scope, at) -> list:
    """Assignments giving `target` (a name or nested tuple of names) the parts of `value`."""
    if isinstance(target, ast.Name):
        if isinstance(value, ast.Name) and value.id == target.id:
            return []
        return [located(ast.Assign([store(target.id)], value), at)]
    if isinstance(target, (ast.Tuple, ast.List)):
        if any(isinstance(t, ast.Starred) for t in target.elts):
            raise scope.error("*-unpacking in a loop target is not supported", target)
        if isinstance(value, ast.Tuple):
            if len(value.elts) != len(target.elts):
                raise scope.error(f"cannot unpack {len(value.elts)} values into {len(target.elts)} names", target)
            return [s for t, v in zip(target.elts, value.elts) for s in bind(t, v, scope, at)]
        return [s for j, t in enumerate(target.elts) for s in bind(t, _item(value, j), scope, at)]
    raise scope.error(f"a loop target {ast.unparse(target)} is not supported (names or tuples of names)", target)


def _item(value, j: int):
    """value[j], merged into one index where value is itself an element (x[i][j] → x[i, j])."""
    if isinstance(value, ast.Subscript) and not isinstance(value.slice, (ast.Slice, ast.Tuple)):
        return ast.Subscript(value.value, ast.Tuple([value.slice, ast.Constant(j)], ast.Load()), ast.Load())
    return ast.Subscript(value, ast.Constant(j), ast.Load())
