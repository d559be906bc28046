"""What the desugaring passes share: the function's names, fresh ones, and the free
objects they bind (an import inside the function, a lifted nested function, a constant)."""
from __future__ import annotations

import ast

import numpy as np

from ..names import Namer
from ..parse import ParsedFunction, assigned_names, resolved


class Scope:
    def __init__(self, parsed: ParsedFunction, tree: ast.FunctionDef):
        self.parsed = parsed
        self.namer = Namer({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | set(parsed.params)
                           | {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)} | {"math", "np"})
        self.tree = tree
        self.free: dict = {}          # names bound to objects at transform time, for normalize's lookup
        self.array_lists: set = set()  # lists built by a comprehension or appends: arrays, a row per item
        self.output = None             # a returned dict or list: its structure, returned as a flat tuple
        self.changed = ()              # parameters changed in place, copied on entry (in_place.py)
        self.returns_changed = False   # returning nothing, the function gives their final values
        self._known = set(self.namer.taken)
        self.refresh()

    def error(self, message, node):
        return self.parsed.error(message, node)

    def refresh(self):
        """Take the tree's assignments again (a pass has rewritten it)."""
        self._assigned = set(self.parsed.params) | assigned_names(self.tree)

    @property
    def local(self) -> set:
        """The function's own names: its parameters, what it assigns, and every name the
        passes made (fresh ones, never free)."""
        return (self._assigned | (self.namer.taken - self._known)) - set(self.free)

    def bind_free(self, base: str, value) -> str:
        name = self.namer.fresh(base)
        self.free[name] = value
        return name

    def as_array(self, node) -> bool:
        """Whether `node` is a free name of a tuple or list of numbers, now bound to them as
        an array (to index it with a loop variable, or loop over it)."""
        if not isinstance(node, ast.Name):
            return False
        value = self.resolve(node)
        if isinstance(value, (tuple, list)) and (array := constant_array(value)) is not None:
            self.free[node.id] = array
        return isinstance(self.free.get(node.id), np.ndarray)

    def lookup(self, name: str):
        if name in self.free:
            return self.free[name]
        return self.parsed.lookup(name)

    def resolve(self, node):
        """The object a free name or dotted chain of free names denotes, or None."""
        return resolved(node, self.local, self.lookup)


def constant_array(value):
    """A tuple or list of numbers (or of equal-length tuples of them) as an array, else None."""
    try:
        array = np.asarray(value)
    except ValueError:
        return None
    if array.dtype.kind in "biu":
        return array.astype(np.int64)
    return array if array.dtype.kind == "f" else None


def located(new, like):
    """`new` (a node or a list of them) with `like`'s position on every node lacking one."""
    for tree in new if isinstance(new, list) else [new]:
        for node in ast.walk(tree):
            if "lineno" in node._attributes and not hasattr(node, "lineno"):
                node.lineno, node.col_offset = like.lineno, like.col_offset
                node.end_lineno, node.end_col_offset = like.end_lineno, like.end_col_offset
    return new


def load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def store(name: str) -> ast.Name:
    return ast.Name(name, ast.Store())


def assign(name: str, value, like) -> ast.Assign:
    return located(ast.Assign([store(name)], value), like)


def call(func: ast.expr, *args) -> ast.Call:
    return ast.Call(func, list(args), [])


def constant_int(node):
    """The value of an integer literal (negative too), else None."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = constant_int(node.operand)
        return None if inner is None else -inner
    return None


def bodies(stmt):
    """The statement lists nested in a compound statement."""
    return [getattr(stmt, f) for f in ("body", "orelse", "finalbody") if isinstance(getattr(stmt, f, None), list)]


def loop_level(body):
    """The statements of a loop's body and of the ifs in it, not of inner loops (whose
    `break` ends only themselves)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from loop_level(stmt.body)
            yield from loop_level(stmt.orelse)


def map_bodies(body: list, each) -> list:
    """Rewrite every statement list, innermost first: `each(statement)` returns the
    statements that replace it."""
    out = []
    for stmt in body:
        for field in ("body", "orelse") if not isinstance(stmt, ast.FunctionDef) else ():   # a nested def: its own
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, map_bodies(getattr(stmt, field), each))
        out += each(stmt)
    return out

