"""Tuples, lists, dicts, NamedTuples and dataclasses.

A name bound once to a tuple, list or dict written out (`p = (W, b)`, `v = [a, 2 * b]`,
`params = {"w": W, "b": b}`), or to a NamedTuple or dataclass built (`p = Params(W, b)`),
stands for its items: `p[0]`, `p.w` and `params["w"]` are items, `len(p)` a constant,
`a, b = p` unpacks the items, a loop over it (or over a dict's keys, values or items) is
unrolled, and elsewhere a tuple or list is the literal itself (normalize takes lists in
joins, `np.array`, `sum`, and tuples in `return`).  A structure returned is returned as
its leaves, its shape kept (scope.output) for the transforms to rebuild.

A list comprehension `[e for a in seq]` is a new array with a leading axis of seq's length,
filled by a loop — NumPy's view of a list of equal-shaped values, which is what
`np.array(...)`, `np.stack(...)`, indexing and iterating see.  sum, max, min, any and all
over a generator (or a comprehension) are loops that accumulate instead.
"""
from __future__ import annotations

import ast
import copy
import dataclasses
import types

import numpy as np

from .. import runtime, structures
from ..parse import assigned_names
from .iteration import Sequence, bind, sequence
from .scope import (Scope, assign, call, constant_array, constant_int, load, located, loop_level, map_bodies,
                    store)

_REDUCTIONS = (sum, max, min, any, all)


def rewrite(body: list, scope: Scope) -> list:
    body = _Items(body, scope).rewrite(body)
    body = _Appends(body, scope).rewrite(body)
    return _Comprehensions(scope).statements(body)


# -- tuples, lists and dicts written out -----------------------------------------------
_READS = {"items", "keys", "values", "get"}      # a dict's methods that only read it


def _written_out(value) -> bool:
    """A tuple or list of items, or a dict of constant keys, as the code writes it."""
    if isinstance(value, (ast.Tuple, ast.List)):
        return not any(isinstance(e, ast.Starred) for e in value.elts)
    return isinstance(value, ast.Dict) and all(isinstance(k, ast.Constant) for k in value.keys)


class _Items(ast.NodeTransformer):
    def __init__(self, body, scope: Scope):
        self.scope = scope
        module = ast.Module(body, [])
        stores = {}
        for node in ast.walk(module):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                stores[node.id] = stores.get(node.id, 0) + 1
        self.literals = {}               # name -> (its items' expressions, the literal's type, dict keys)
        self.classes = {}                # name of a NamedTuple or dataclass built -> the class's expression
        self.candidates = set()
        for node in ast.walk(module):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and _written_out(self.dict_call(node.value)) and stores[node.targets[0].id] == 1 \
                    and node.targets[0].id not in scope.parsed.params:
                self.candidates.add(node.targets[0].id)
        records = {n.targets[0].id: set(self.record(n.value)[1]) for n in ast.walk(module)
                   if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and self.record(n.value)}
        self.item_written = set()           # lists of numbers changed item by item: arrays
        for node in ast.walk(module):        # changed in place (v[i] = ..., v.append(...)): a list proper
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.ctx, ast.Store):
                self.item_written.add(node.value.id)
            if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.value, ast.Name) \
                    and (isinstance(node.ctx, (ast.Store, ast.Del))
                         or isinstance(node, ast.Attribute) and node.attr not in _READS | records.get(node.value.id, set())):
                self.candidates.discard(node.value.id)
        for node in ast.walk(module):        # a list's methods (append, pop): a list proper
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                self.item_written.discard(node.value.id)
        self.assigned = assigned_names(module)

    def dict_call(self, value):
        """`dict(w=W, b=b)` as the literal it makes (a NamedTuple's or dataclass's fields, too)."""
        record = self.record(value)
        if record is not None:
            return ast.copy_location(ast.Dict([ast.Constant(k) for k in record[1]], record[2]), value)
        if isinstance(value, ast.Call) and self.scope.resolve(value.func) is dict and not value.args \
                and all(k.arg is not None for k in value.keywords):
            return ast.copy_location(ast.Dict([ast.Constant(k.arg) for k in value.keywords],
                                              [k.value for k in value.keywords]), value)
        return value

    def record(self, value):
        """A NamedTuple or dataclass built — `Result(a=..., b=...)`, `Params(w, b)`, or a
        structured parameter's structures.Rebuilt — as (its class, its field names, their
        values), else None."""
        if not isinstance(value, ast.Call):
            return None
        func = self.scope.resolve(value.func)
        cls = func.cls if isinstance(func, structures.Rebuilt) else func
        names = structures.record_fields(cls)
        if names is None:
            return None
        if func is cls and dataclasses.is_dataclass(cls) and (
                hasattr(cls, "__post_init__") or not all(f.init for f in dataclasses.fields(cls))):
            raise self.scope.error(f"building the dataclass {cls.__name__} does more than set its fields "
                                   "(__post_init__, init=False fields): return or pass a dict instead", value)
        if any(isinstance(a, ast.Starred) for a in value.args) or any(k.arg is None for k in value.keywords) \
                or len(value.args) > len(names):
            raise self.scope.error(f"{cls.__name__}(...) is supported with its fields given by position or by "
                                   f"name ({', '.join(names)})", value)
        given = dict(zip(names, value.args))
        for keyword in value.keywords:
            if keyword.arg not in names or keyword.arg in given:
                raise self.scope.error(f"{cls.__name__} has no field {keyword.arg!r} to give here (its fields: "
                                       f"{', '.join(names)})", keyword.value)
            given[keyword.arg] = keyword.value
        defaults = cls._field_defaults if issubclass(cls, tuple) else \
            {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
        for name in names:
            if name not in given:
                default = _literal_of_value(defaults[name]) if name in defaults else None
                if default is None:
                    raise self.scope.error(f"{cls.__name__}(...) leaves the field {name!r} to "
                                           f"{'its default' if name in defaults else 'nothing'}: give it a value",
                                           value)
                given[name] = located(default, value)
        return cls, names, [given[name] for name in names]

    def is_structure(self, node) -> bool:
        """Whether `node` writes out a structure: a tuple, list, dict, NamedTuple or dataclass."""
        return isinstance(node, (ast.Tuple, ast.List, ast.Dict)) and _written_out(node) or self.record(node) is not None

    def rewrite(self, body):
        """Outermost first: a loop over items is unrolled before its body is read, so the
        body sees each constant key or index it takes."""
        return [out for stmt in body for out in self.statement(stmt)]

    def statement(self, stmt):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and stmt.targets[0].id in self.item_written and isinstance(stmt.value, ast.List) \
                and _written_out(stmt.value):
            # a list of numbers changed item by item (acc = [0.0, 0.0]; acc[k] += v): an array of floats
            items = [ast.Constant(float(e.value)) if isinstance(e, ast.Constant) and type(e.value) is int else self.visit(e)
                     for e in stmt.value.elts]
            stmt.value = located(call(ast.Attribute(load("np"), "array", ast.Load()), ast.List(items, ast.Load())),
                                 stmt.value)
            return [stmt]
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name) \
                and stmt.targets[0].id in self.candidates:
            name, value, out = stmt.targets[0].id, self.dict_call(stmt.value), []
            items = []
            for k, elt in enumerate(value.values if isinstance(value, ast.Dict) else value.elts):
                elt = self.visit(elt)
                if isinstance(elt, ast.Constant) or isinstance(elt, ast.Name) and elt.id not in self.assigned \
                        or _written_out(self.dict_call(elt)):
                    items.append(elt)        # a constant, a parameter, a module name, a literal: itself
                else:
                    key = value.keys[k].value if isinstance(value, ast.Dict) else k
                    item = self.scope.namer.fresh(f"{name}_{key}" if str(key).isidentifier() or type(key) is int
                                                  else f"{name}_{k}")
                    out.append(assign(item, elt, stmt))
                    items.append(located(load(item), elt))
            keys = [k.value for k in value.keys] if isinstance(value, ast.Dict) else None
            record = self.record(stmt.value)
            if record is not None:
                self.classes[name] = stmt.value.func
            self.literals[name] = (items, _Record if record is not None else type(value), keys)
            return out
        if isinstance(stmt, ast.For) and isinstance(stmt.iter, ast.Subscript):
            stmt.iter = self.visit(stmt.iter)        # an item that is itself a literal
        if isinstance(stmt, ast.For) and self.items_of(stmt.iter) is not None:
            return self.unrolled(stmt)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple) \
                and isinstance(stmt.value, ast.Name) and stmt.value.id in self.literals \
                and self.literals[stmt.value.id][1] is not ast.Dict:
            stmt.value = located(ast.Tuple(copy.deepcopy(self.literals[stmt.value.id][0]), ast.Load()), stmt.value)
            return [stmt]
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            returned = self.returned_structure(stmt)
            if returned is not None:
                return [returned]
        if isinstance(stmt, (ast.If, ast.While)):
            stmt.test = self.visit(stmt.test)
        elif isinstance(stmt, ast.For):
            stmt.iter = self.visit(stmt.iter)
        elif not isinstance(stmt, ast.FunctionDef):
            return [self.visit(stmt)]
        for field in ("body", "orelse") if not isinstance(stmt, ast.FunctionDef) else ():
            setattr(stmt, field, self.rewrite(getattr(stmt, field)))
        return [stmt]

    def returned_structure(self, stmt: ast.Return):
        """`return {"loss": l, "grad": g}` (a dict, list, NamedTuple or dataclass, or a tuple
        holding one): the leaves returned as a flat tuple, the structure kept for the
        transforms to rebuild."""
        literal = self.literal_of(stmt.value)
        if literal is None or isinstance(literal, ast.Tuple) and not any(
                self.is_structure(e) for e in literal.elts):
            return None            # a tuple of values: the function's outputs, as they are
        leaves = []
        node = self.shape_of(literal, leaves)
        if self.scope.output is not None and self.scope.output != node:
            raise self.scope.error("every return must give the same structure", stmt)
        self.scope.output = node
        return located(ast.Return(ast.Tuple(leaves, ast.Load())), stmt)

    def items_of(self, node):
        """The items of a sequence known item by item: a literal, a name of one, a dict's
        keys, values or items, enumerate or zip of such."""
        if isinstance(node, (ast.Tuple, ast.List)) and _written_out(node):
            return [self.visit(e) for e in node.elts]
        if isinstance(node, ast.Name) and node.id in self.literals:
            items, kind, keys = self.literals[node.id]
            return [ast.Constant(k) for k in keys] if kind is ast.Dict else copy.deepcopy(items)
        if isinstance(node, ast.Dict) and _written_out(node):
            return [copy.deepcopy(k) for k in node.keys]
        if isinstance(node, ast.Name) and node.id not in self.scope.local:
            value = self.scope.resolve(node)       # a module's table of tuples: (index, (u, v)), ...
            if isinstance(value, (tuple, list)) and len(value) <= _UNROLLED and constant_array(value) is None \
                    and all(_literal_of_value(v) is not None for v in value):
                return [located(_literal_of_value(v), node) for v in value]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in self.literals \
                and node.func.attr in ("items", "keys", "values"):
            items, _, keys = self.literals[node.func.value.id]
            if keys is None:
                raise self.scope.error(f"a tuple or list has no .{node.func.attr}() (a dict has)", node)
            keys = [ast.Constant(k) for k in keys]
            return {"keys": keys, "values": copy.deepcopy(items),
                    "items": [ast.Tuple([k, v], ast.Load()) for k, v in zip(keys, copy.deepcopy(items))]}[node.func.attr]
        func = self.scope.resolve(node.func) if isinstance(node, ast.Call) and not node.keywords else None
        if func is enumerate and len(node.args) == 1 and (items := self.items_of(node.args[0])) is not None:
            return [ast.Tuple([ast.Constant(k), item], ast.Load()) for k, item in enumerate(items)]
        if func is zip and node.args:
            columns = [self.items_of(a) for a in node.args]
            if all(c is not None for c in columns):
                return [ast.Tuple(list(row), ast.Load()) for row in zip(*columns)]
        return None

    def unrolled(self, stmt: ast.For):
        if stmt.orelse:
            raise self.scope.error("for ... else is not supported", stmt)
        for node in (n for s in stmt.body for n in _outside_loops(s)):
            if isinstance(node, (ast.Break, ast.Continue)):
                raise self.scope.error("break and continue in a loop over a tuple, list or dict written out are "
                                       "not supported", node)
        out = []
        assigned_in_body = assigned_names(ast.Module(stmt.body, []))
        for item in self.items_of(stmt.iter):
            body = copy.deepcopy(stmt.body)
            constants = _constant_bindings(stmt.target, item)
            read = {n.id for v in (constants or {}).values() for n in ast.walk(v) if isinstance(n, ast.Name)}
            if constants is not None and not (set(constants) | read) & assigned_in_body:
                body = [_Substitute(constants).visit(s) for s in body]   # d[k] of a constant key k
            else:
                out += bind(stmt.target, located(item, stmt.iter), self.scope, stmt)
            out += self.rewrite(body)
        return out

    def visit_Attribute(self, node):
        """A field of a NamedTuple or dataclass (built in the function, or passed as a parameter)."""
        if isinstance(node.value, ast.Name) and node.value.id in self.literals:
            items, kind, keys = self.literals[node.value.id]
            if kind is _Record and node.attr in keys:
                return located(copy.deepcopy(items[keys.index(node.attr)]), node)
        self.generic_visit(node)
        record = self.record(node.value)
        if record is not None and node.attr in record[1]:
            return located(record[2][record[1].index(node.attr)], node)
        return node

    def visit_Subscript(self, node):
        if isinstance(node.ctx, ast.Load) and not isinstance(node.value, ast.Name):
            node.value = self.visit(node.value)
            if isinstance(node.value, (ast.Tuple, ast.List)) and _written_out(node.value) \
                    and (k := constant_int(node.slice)) is not None and -len(node.value.elts) <= k < len(node.value.elts):
                return node.value.elts[k]                         # p["layers"][0] of a structure
            if isinstance(node.value, ast.Dict) and _written_out(node.value) and isinstance(node.slice, ast.Constant):
                keys = [key.value for key in node.value.keys]
                if node.slice.value in keys:
                    return node.value.values[keys.index(node.slice.value)]
        if isinstance(node.value, ast.Name) and node.value.id in self.literals and isinstance(node.ctx, ast.Load):
            items, kind, keys = self.literals[node.value.id]
            if kind is _Record and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int:
                keys = None                                       # a NamedTuple indexed by position
            if keys is not None:
                if not (isinstance(node.slice, ast.Constant) and node.slice.value in keys):
                    raise self.scope.error(f"the dict '{node.value.id}' is supported indexed by one of its keys "
                                           f"written out ({', '.join(map(repr, keys))})", node)
                return located(copy.deepcopy(items[keys.index(node.slice.value)]), node)
            k = constant_int(node.slice)
            if k is not None:
                if not -len(items) <= k < len(items):
                    raise self.scope.error(f"index {k} is out of range for '{node.value.id}' of {len(items)} items",
                                           node)
                return located(copy.deepcopy(items[k]), node)
            if isinstance(node.slice, ast.Slice) and all(
                    p is None or constant_int(p) is not None for p in (node.slice.lower, node.slice.upper, node.slice.step)):
                picked = items[slice(*(None if p is None else constant_int(p)
                                       for p in (node.slice.lower, node.slice.upper, node.slice.step)))]
                return located(kind(copy.deepcopy(picked), ast.Load()), node)
            node.slice = self.visit(node.slice)          # at a computed position: the items as an array
            array = located(call(ast.Attribute(load("np"), "array", ast.Load()),
                                 ast.List(copy.deepcopy(items), ast.Load())), node)
            return ast.copy_location(ast.Subscript(array, node.slice, ast.Load()), node)
        self.generic_visit(node)
        return node

    def visit_Compare(self, node):
        """`"w" in d` of a dict written out: a constant."""
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)) and isinstance(node.left, ast.Constant) \
                and isinstance(node.comparators[0], ast.Name) and node.comparators[0].id in self.literals \
                and self.literals[node.comparators[0].id][2] is not None:
            found = node.left.value in self.literals[node.comparators[0].id][2]
            return located(ast.Constant(found == isinstance(node.ops[0], ast.In)), node)
        self.generic_visit(node)
        return node

    def visit_Call(self, node):
        if self.scope.resolve(node.func) is len and len(node.args) == 1 and isinstance(node.args[0], ast.Name) \
                and node.args[0].id in self.literals:
            return located(ast.Constant(len(self.literals[node.args[0].id][0])), node)
        if self.scope.resolve(node.func) is len and len(node.args) == 1:
            arg = self.visit(node.args[0])
            if isinstance(arg, (ast.Tuple, ast.List)) and _written_out(arg):
                return located(ast.Constant(len(arg.elts)), node)
            node.args = [arg]
            return node
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(func.value, ast.Name) \
                and func.value.id in self.literals and 1 <= len(node.args) <= 2 \
                and isinstance(node.args[0], ast.Constant):
            items, _, keys = self.literals[func.value.id]
            if keys is not None:
                if node.args[0].value in keys:
                    return located(copy.deepcopy(items[keys.index(node.args[0].value)]), node)
                return self.visit(node.args[1]) if len(node.args) == 2 else located(ast.Constant(None), node)
        passed = self.structures_passed(node)
        if passed is not None:
            return passed
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name) and arg.value.id in self.literals:
                args += copy.deepcopy(self.literals[arg.value.id][0])
            else:
                args.append(self.visit(arg))
        node.args = args
        node.keywords = [self.visit(k) for k in node.keywords]
        node.func = self.visit(node.func)
        return node

    def structures_passed(self, node):
        """A call of a user function with tuples, lists or dicts (written out, or names of
        them) as arguments: a call of its flat version (structures.py) with their items."""
        callee = self.scope.resolve(node.func)
        if not (isinstance(callee, types.FunctionType) and (callee.__module__ or "").split(".")[0] not in _LIBRARIES
                and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args)):
            return None
        literals = [self.literal_of(a) for a in node.args]
        if all(lit is None for lit in literals):
            return None
        nodes, leaves = [], []
        for arg, literal in zip(node.args, literals):
            if literal is None:
                nodes.append(None)
                leaves.append(self.visit(arg))
            else:
                nodes.append(self.shape_of(literal, leaves))
        flat = structures.flat_function(callee, tuple(nodes))
        name = self.scope.bind_free(callee.__name__, flat)
        return ast.copy_location(ast.Call(located(load(name), node.func), leaves, []), node)

    def literal_of(self, arg):
        """The structure a call argument or returned value is, where it is one (a name of one
        too), as a literal whose items are values or such literals (a NamedTuple or dataclass
        built by keywords of its class), else None."""
        if isinstance(arg, ast.Name) and arg.id in self.literals:
            items, kind, keys = self.literals[arg.id]
            items = [self.literal_of(item) or item for item in copy.deepcopy(items)]
            if kind is ast.Dict:
                return ast.Dict([ast.Constant(k) for k in keys], items)
            if kind is _Record:
                return _by_keywords(self.classes[arg.id], keys, items)
            return kind(items, ast.Load())
        record = self.record(arg)
        if record is not None:
            return _by_keywords(arg.func, record[1], [self.literal_of(v) or self.visit(v) for v in record[2]])
        if isinstance(arg, (ast.Tuple, ast.List, ast.Dict)) and _written_out(arg):
            items = [self.literal_of(e) or self.visit(e) for e in (arg.values if isinstance(arg, ast.Dict) else arg.elts)]
            if isinstance(arg, ast.Dict):
                return ast.copy_location(ast.Dict(arg.keys, items), arg)
            return ast.copy_location(type(arg)(items, ast.Load()), arg)
        return None

    def shape_of(self, literal, leaves):
        """The structures.Node a literal_of has; its items that are values go to `leaves`."""
        if isinstance(literal, ast.Dict):
            kind, keys, items, cls = "dict", tuple(k.value for k in literal.keys), literal.values, None
        elif isinstance(literal, ast.Call):
            cls, keys, items = self.record(literal)
            kind = "namedtuple" if issubclass(cls, tuple) else "dataclass"
        else:
            kind, keys, items, cls = ("tuple" if isinstance(literal, ast.Tuple) else "list"), \
                tuple(range(len(literal.elts))), literal.elts, None
        children = []
        for item in items:
            if self.is_structure(item):
                children.append(self.shape_of(item, leaves))
            else:
                children.append(None)
                leaves.append(item)
        return structures.Node(kind, tuple(keys), tuple(children), cls)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.literals:
            items, kind, keys = self.literals[node.id]
            if kind is _Record:
                return located(ast.Tuple(copy.deepcopy(items), ast.Load()), node)
            if keys is not None:
                raise self.scope.error(f"the dict '{node.id}' is supported indexed by its keys written out "
                                       f"({node.id}[{keys[0]!r}]), looped over, or with .get", node)
            return located(kind(copy.deepcopy(items), ast.Load()), node)
        return node


_LIBRARIES = {"numpy", "scipy", "math", "numba", "s2sdiff", "builtins"}
_UNROLLED = 64          # the most items of a module's table a loop over it is unrolled for


def _literal_of_value(value):
    """A number, string, or tuple or list of them, as the literal that writes it; else None."""
    if isinstance(value, (bool, int, float, str)) or isinstance(value, np.number):
        return ast.Constant(value.item() if isinstance(value, np.number) else value)
    if isinstance(value, (tuple, list)):
        items = [_literal_of_value(v) for v in value]
        return None if None in items else ast.Tuple(items, ast.Load())
    return None


def _by_keywords(func, names, values) -> ast.Call:
    """A NamedTuple or dataclass built with its fields by name: how literal_of spells one."""
    return ast.Call(copy.deepcopy(func), [], [ast.keyword(k, v) for k, v in zip(names, values)])


class _Record:
    """The literal kind of a NamedTuple's or dataclass's fields: read by name, and by
    position as a tuple."""


def _constant_bindings(target, item):
    """{name: item} where a loop's target takes items that can stand in its place (constants,
    names, literals of them: a key, an index, a structure's part), else None."""
    if isinstance(target, ast.Name):
        return {target.id: item} if _plain(item) else None
    if isinstance(target, ast.Tuple) and isinstance(item, ast.Tuple) and len(target.elts) == len(item.elts):
        parts = [_constant_bindings(t, v) for t, v in zip(target.elts, item.elts)]
        return None if None in parts else {k: v for part in parts for k, v in part.items()}
    return None


def _plain(item) -> bool:
    if isinstance(item, (ast.Constant, ast.Name)):
        return True
    if isinstance(item, (ast.Tuple, ast.List)):
        return all(_plain(e) for e in item.elts)
    if isinstance(item, ast.Dict):
        return all(isinstance(k, ast.Constant) for k in item.keys) and all(_plain(v) for v in item.values)
    return isinstance(item, ast.Call) and not item.args and all(_plain(k.value) for k in item.keywords)


class _Substitute(ast.NodeTransformer):
    def __init__(self, constants):
        self.constants = constants

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.constants:
            return ast.copy_location(copy.deepcopy(self.constants[node.id]), node)
        return node


# -- lists appended to in a loop -------------------------------------------------------
class _Appends:
    """`out = [...]` and a for loop that appends to it: an array with a row per item,
    allocated before the loop.  Where every iteration appends the same number of items
    (appends at the top of the body, no break or continue), the count is known when the
    loop starts and the items may be arrays; where the list starts empty, its items' shape
    comes from the first iteration computed once more on names of its own (a loop of no
    iteration: an empty array).  Otherwise (appends under an if, a loop that breaks) the
    items are numbers: the array has room for the most items the loop can append, a
    counter says where the next goes, and after the loop the list is the part filled."""

    def __init__(self, body, scope: Scope):
        self.scope = scope
        self.module = ast.Module(body, [])

    def rewrite(self, body):
        out, k = [], 0
        while k < len(body):
            stmt = body[k]
            for field in ("body", "orelse") if not isinstance(stmt, ast.FunctionDef) else ():
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, self.rewrite(getattr(stmt, field)))
            name = self.started(stmt)
            if name is None:
                out.append(stmt)
                k += 1
                continue
            later = next((j for j in range(k + 1, len(body)) if name in _mentions(body[j])), None)
            fixed = None if later is None else self.appends(body[later], name)
            if fixed is None:
                out.append(stmt)
                k += 1
                continue
            out += body[k + 1:later] + (self.lowered(name, stmt, body[later]) if fixed
                                        else self.counted(name, stmt, body[later]))
            k = later + 1
        return out

    def started(self, stmt):
        """The name a list written out is assigned to, if it is appended to somewhere."""
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.List) and _written_out(stmt.value)):
            return None
        name = stmt.targets[0].id
        appended = any(isinstance(n, ast.Attribute) and n.attr == "append" and isinstance(n.value, ast.Name)
                       and n.value.id == name for n in ast.walk(self.module))
        return name if appended else None

    def appends(self, loop, name):
        """None where `loop` does not append to `name`; True where it appends a fixed number
        of times an iteration, False where that number varies (refused, naming why, where
        the appends are not followed)."""
        appended = [n for n in ast.walk(loop) if isinstance(n, ast.Attribute) and n.attr == "append"
                    and isinstance(n.value, ast.Name) and n.value.id == name]
        if not appended:
            return None
        if isinstance(loop, ast.While):
            raise self.scope.error(f"'{name}' is appended to in a while loop, whose number of iterations is not "
                                   "known when it starts: write a for loop over range(most_iterations) that "
                                   "breaks, and append in it", appended[0])
        if not isinstance(loop, ast.For):
            raise self.scope.error(f"'{name}' is appended to here in a way s2sdiff does not follow: a list is "
                                   "supported appended to in a for loop", appended[0])
        if loop.orelse:
            raise self.scope.error("for ... else is not supported", loop)
        for node in ast.walk(self.module):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name \
                    and not (node.attr == "append" and any(node is a for a in appended)):
                raise self.scope.error(f"the list '{name}' is supported built by .append in one loop; "
                                       f".{node.attr} is not supported", node)
        for stmt in loop_level(loop.body):
            if _is_append(stmt, name):
                continue
            if isinstance(stmt, (ast.For, ast.While)) and name in _mentions(stmt):
                raise self.scope.error(f"'{name}' is appended to in an inner loop: s2sdiff needs the most items "
                                       "the loop can append when it starts (append in the outer loop)", stmt)
            if not isinstance(stmt, ast.If) and name in _mentions(stmt) or isinstance(stmt, ast.If) \
                    and name in _mentions(stmt.test):
                raise self.scope.error(f"'{name}' is supported appended to in the loop and read after it", stmt)
        on_top = sum(_is_append(s, name) for s in loop.body)
        return on_top == len(_append_statements(loop.body, name)) \
            and not any(isinstance(n, (ast.Break, ast.Continue)) for s in loop.body for n in _outside_loops(s))

    def lowered(self, name, start, loop) -> list:
        scope, at = self.scope, loop
        scope.array_lists.add(name)
        per_iteration = sum(_is_append(s, name) for s in loop.body)
        out = []
        seq = sequence(loop.iter, scope, out, at, loop.target)
        n = scope.namer.fresh("n")
        out.append(assign(n, seq.length, at))
        initial = []
        for k, item in enumerate(start.value.elts):
            initial.append(scope.namer.fresh(f"{name}_{k}"))
            out.append(assign(initial[-1], item, start))
        count = ast.BinOp(ast.Constant(per_iteration), ast.Mult(), load(n)) if per_iteration > 1 else load(n)
        if initial:
            count = ast.BinOp(ast.Constant(len(initial)), ast.Add(), count)
        stack = scope.bind_free("stacked_empty", runtime.stacked_empty)

        def allocation(like):
            return [assign(name, call(load(stack), count, load(like)), at)] + [
                located(ast.Assign([ast.Subscript(load(name), ast.Constant(k), ast.Store())], load(item)), start)
                for k, item in enumerate(initial)]

        def body(counter, first):
            stmts, j = [], 0
            for stmt in loop.body:
                if not _is_append(stmt, name):
                    stmts.append(copy.deepcopy(stmt))
                    continue
                value = copy.deepcopy(stmt.value.args[0])
                position = _offset(ast.BinOp(ast.Constant(per_iteration), ast.Mult(), counter)
                                   if per_iteration > 1 else counter, len(initial) + j)
                if first and j == 0:
                    item = scope.namer.fresh("first")
                    stmts += [assign(item, value, stmt)] + allocation(item)
                    value = load(item)
                stmts.append(located(ast.Assign([ast.Subscript(load(name), position, ast.Store())], value), stmt))
                j += 1
            return stmts

        witness = None if initial else self.witness(loop, name, seq, n)
        if initial or witness:
            out += witness or []
            out += allocation(initial[0] if initial else witness[0].targets[0].id)
            first_counter = ast.Constant(0)
        else:       # the first iteration, peeled off: its first item gives the items' shape
            out.append(located(ast.Assert(ast.Compare(load(n), [ast.Gt()], [ast.Constant(0)]),
                                          ast.Constant(f"the loop appending to '{name}' runs no iteration: s2sdiff "
                                                       "needs one to know the items' shape")), at))
            out += bind(loop.target, seq.element(ast.Constant(0)), scope, at) + body(ast.Constant(0), True)
            first_counter = ast.Constant(1)
        counter = _own_counter(loop.target, seq) or scope.namer.fresh("k")
        rest = bind(loop.target, seq.element(load(counter)), scope, at) + body(load(counter), False)
        bounds = [load(n)] if first_counter.value == 0 else [first_counter, load(n)]
        out.append(located(ast.For(store(counter), call(load("range"), *bounds), rest, [], None), loop))
        return located(out, loop)

    def witness(self, loop, name, seq, n):
        """`like = None; if n > 0: <the first iteration up to its first append, on names
        of its own>; like = <the item>`: the items' type for numba and shape for the
        allocation, computed nowhere the loop runs no iteration.  None where the
        statements before the append are not assignments to names (a copy could change
        what the loop then sees)."""
        prefix = bind(loop.target, seq.element(ast.Constant(0)), self.scope, loop)
        k = next(k for k, s in enumerate(loop.body) if _is_append(s, name))
        renamed, copied = {}, []
        for stmt in prefix + [copy.deepcopy(s) for s in loop.body[:k]]:
            if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                stmt = located(ast.Assign([store(stmt.target.id)], ast.BinOp(load(stmt.target.id), stmt.op,
                                                                             stmt.value)), stmt)
            if not (isinstance(stmt, ast.Assign) and all(map(_names_only, stmt.targets))):
                return None
            stmt.value = _Renamed(renamed).visit(stmt.value)
            for target in (n for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)):
                renamed[target.id] = target.id = self.scope.namer.fresh(f"{target.id}_first")
            copied.append(stmt)
        like = self.scope.namer.fresh("like")
        item = _Renamed(renamed).visit(copy.deepcopy(loop.body[k].value.args[0]))
        test = ast.Compare(load(n), [ast.Gt()], [ast.Constant(0)])
        return located([assign(like, ast.Constant(None), loop),
                        ast.If(test, copied + [assign(like, item, loop.body[k])], [])], loop)

    def counted(self, name, start, loop) -> list:
        """A loop appending numbers a varying number of times: room for the most, a count
        of those appended, and the list the part filled after the loop."""
        scope, at = self.scope, loop
        scope.array_lists.add(name)
        out = []
        seq = sequence(loop.iter, scope, out, at, loop.target)
        n, room, count = (scope.namer.fresh(base) for base in ("n", f"{name}_room", f"{name}_count"))
        out.append(assign(n, seq.length, at))
        most = len(_append_statements(loop.body, name))
        size = _offset(ast.BinOp(ast.Constant(most), ast.Mult(), load(n)) if most > 1 else load(n),
                       len(start.value.elts))
        stack = scope.bind_free("stacked_empty", runtime.stacked_empty)
        out.append(assign(room, call(load(stack), size, ast.Constant(0.0)), start))
        for k, item in enumerate(start.value.elts):
            out.append(located(ast.Assign([ast.Subscript(load(room), ast.Constant(k), ast.Store())], item), start))
        out.append(assign(count, ast.Constant(len(start.value.elts)), start))

        def body(stmts):
            new = []
            for stmt in stmts:
                if _is_append(stmt, name):
                    new += located([ast.Assign([ast.Subscript(load(room), load(count), ast.Store())],
                                               stmt.value.args[0]),
                                    assign(count, ast.BinOp(load(count), ast.Add(), ast.Constant(1)), stmt)], stmt)
                    continue
                if isinstance(stmt, ast.If):
                    stmt.body, stmt.orelse = body(stmt.body), body(stmt.orelse)
                new.append(stmt)
            return new
        counter = _own_counter(loop.target, seq) or scope.namer.fresh("k")
        rest = bind(loop.target, seq.element(load(counter)), scope, at) + body(loop.body)
        out.append(located(ast.For(store(counter), call(load("range"), load(n)), rest, [], None), loop))
        whole = ast.Subscript(load(room), ast.Slice(None, load(count), None), ast.Load())
        out.append(assign(name, call(ast.Attribute(load("np"), "copy", ast.Load()), whole), at))
        return located(out, loop)


class _Renamed(ast.NodeTransformer):
    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.names:
            return ast.copy_location(load(self.names[node.id]), node)
        return node


def _names_only(target) -> bool:
    return isinstance(target, ast.Name) or isinstance(target, ast.Tuple) and all(map(_names_only, target.elts))


def _append_statements(body, name) -> list:
    return [stmt for stmt in loop_level(body) if _is_append(stmt, name)]


def _is_append(stmt, name) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
        and isinstance(stmt.value.func, ast.Attribute) and stmt.value.func.attr == "append" \
        and isinstance(stmt.value.func.value, ast.Name) and stmt.value.func.value.id == name \
        and len(stmt.value.args) == 1 and not stmt.value.keywords


def _mentions(stmt) -> set:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}


def _offset(index, offset: int):
    return index if offset == 0 else ast.BinOp(index, ast.Add(), ast.Constant(offset))


def _own_counter(target, seq: Sequence):
    """The loop's own variable, where it counts from 0 by 1 (for i in range(n))."""
    if isinstance(target, ast.Name):
        probe = seq.element(load(target.id))
        if isinstance(probe, ast.Name) and probe.id == target.id:
            return target.id
    if seq.first_name is not None and isinstance(target, ast.Tuple) and isinstance(target.elts[0], ast.Name) \
            and target.elts[0].id == seq.first_name:
        return seq.first_name
    return None


def _outside_loops(stmt):
    """The nodes of `stmt` not inside a loop of its own."""
    yield stmt
    if isinstance(stmt, (ast.For, ast.While, ast.FunctionDef)):
        return
    for child in ast.iter_child_nodes(stmt):
        yield from _outside_loops(child)


# -- comprehensions --------------------------------------------------------------------
class _Comprehensions(ast.NodeTransformer):
    def __init__(self, scope: Scope):
        self.scope = scope
        self.before: list = []
        self.conditional = 0
        self.at = None
        self.outside = _names_outside_comprehensions(scope.tree)

    def statements(self, body):
        return map_bodies(body, self.statement)

    def statement(self, stmt):
        saved, self.before, self.at = self.before, [], stmt
        try:
            if isinstance(stmt, ast.While) and _has_comprehension(stmt.test):
                raise self.scope.error("a comprehension in a while condition is not supported: compute it in the "
                                       "loop body", stmt.test)
            if isinstance(stmt, (ast.If, ast.While)):
                stmt.test = self.visit(stmt.test)
            elif isinstance(stmt, ast.For):
                stmt.iter = self.visit(stmt.iter)
            elif not isinstance(stmt, ast.FunctionDef):
                direct = self.filled_in_place(stmt)
                if direct is not None:
                    return self.statements(self.before) + direct
                stmt = self.visit(stmt)
            return self.statements(self.before) + [stmt]
        finally:
            self.before = saved

    def filled_in_place(self, stmt):
        """`v = [e for ...]`, `v = np.array([e for ...])`: v itself is the array the loop
        fills (another name for it would be a second name of an array written)."""
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            return None
        comp, value = None, stmt.value
        if isinstance(value, ast.ListComp):
            comp = value
        elif isinstance(value, ast.Call) and self.stacks(value):
            comp = value.args[0]
        name = stmt.targets[0].id
        if comp is None or name in {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}:
            return None
        self.array(comp, name)
        return []

    def stacks(self, node) -> bool:
        """Whether the call stacks a comprehension's values as they are: np.array, np.asarray,
        np.stack along axis 0, list, tuple (without a dtype other than float's)."""
        func = self.scope.resolve(node.func)
        keywords = {k.arg: k.value for k in node.keywords}
        if not (len(node.args) == 1 and isinstance(node.args[0], (ast.ListComp, ast.GeneratorExp))):
            return False
        if func in (np.array, np.asarray, list, tuple):
            dtype = keywords.pop("dtype", None)
            return not keywords and (dtype is None or self.scope.resolve(dtype) in (float, np.float64))
        return func is np.stack and (not keywords or set(keywords) == {"axis"} and constant_int(keywords["axis"]) == 0)

    # contexts that evaluate a part of an expression only sometimes
    def visit_IfExp(self, node):
        node.test = self.visit(node.test)
        self.conditional += 1
        node.body, node.orelse = self.visit(node.body), self.visit(node.orelse)
        self.conditional -= 1
        return node

    def visit_BoolOp(self, node):
        first = self.visit(node.values[0])
        self.conditional += 1
        node.values = [first] + [self.visit(v) for v in node.values[1:]]
        self.conditional -= 1
        return node

    def visit_Lambda(self, node):
        return node

    def visit_BinOp(self, node):
        for side in (node.left, node.right) if isinstance(node.op, (ast.Add, ast.Mult)) else ():
            if isinstance(side, (ast.ListComp, ast.List)):
                raise self.scope.error("arithmetic on a list is Python's (+ joins, * repeats), not NumPy's: make it "
                                       "an array first (np.array([...]))", side)
        self.generic_visit(node)
        return node

    def visit_Call(self, node):
        func = self.scope.resolve(node.func)
        first = node.args[0] if node.args else None
        if isinstance(first, (ast.ListComp, ast.GeneratorExp)):
            if func in _REDUCTIONS:
                return self.reduced(func, node)
            if self.stacks(node):
                return self.array(first)
            keywords = {k.arg: k.value for k in node.keywords}
            axis = constant_int(keywords["axis"]) if set(keywords) == {"axis"} and len(node.args) == 1 else None
            if func is np.stack and axis is not None:             # the items along another axis
                return located(call(ast.Attribute(load("np"), "moveaxis", ast.Load()), self.array(first),
                                    ast.Constant(0), ast.Constant(axis)), node)
            if func is np.concatenate and len(node.args) == 1 and (not keywords or axis == 0):
                return self.joined(self.array(first), node)
        if func in (np.stack, np.concatenate) and len(node.args) == 1 and not node.keywords \
                and isinstance(first, ast.Name) and first.id in self.scope.array_lists:
            # the list's items are the array's rows: stacked they are the array, joined its
            # first two axes merged
            if func is np.stack:
                return located(call(ast.Attribute(load("np"), "copy", ast.Load()), first), node)
            return self.joined(first, node)
        if func in (max, min) and len(node.args) == 1 and not node.keywords \
                and not isinstance(first, (ast.List, ast.Tuple, ast.Starred)):
            # Python's max of an array: its largest element (of a vector; of rows Python refuses)
            return located(ast.Call(ast.Attribute(load("np"), func.__name__, ast.Load()), [self.visit(first)], []), node)
        if func is sum and 1 <= len(node.args) <= 2 and not node.keywords and not isinstance(first, (ast.List, ast.Tuple)):
            # Python's sum over an array adds its rows
            total = located(ast.Call(ast.Attribute(load("np"), "sum", ast.Load()), [self.visit(first)],
                                     [ast.keyword("axis", ast.Constant(0))]), node)
            return total if len(node.args) == 1 else ast.copy_location(
                ast.BinOp(self.visit(node.args[1]), ast.Add(), total), node)
        self.generic_visit(node)
        return node

    def joined(self, array: ast.Name, node):
        """np.concatenate of a list whose items are the array's rows: its first two axes merged."""
        shape = ast.parse(f"({array.id}.shape[0] * {array.id}.shape[1],) + {array.id}.shape[2:]", mode="eval").body
        return located(call(ast.Attribute(load("np"), "reshape", ast.Load()), load(array.id), shape), node)

    def visit_ListComp(self, node):
        return self.array(node)

    def visit_GeneratorExp(self, node):
        raise self.scope.error("a generator expression is supported inside sum, max, min, any, all, np.array and "
                               "np.stack", node)

    def visit_SetComp(self, node):
        raise self.scope.error("a set comprehension is not supported", node)

    def visit_DictComp(self, node):
        raise self.scope.error("a dict comprehension is not supported", node)

    # -- lowering ------------------------------------------------------------------------
    def hoistable(self, node):
        if self.conditional:
            raise self.scope.error("a comprehension in a conditional expression (x if c else y, and, or) is not "
                                   "supported: compute it in a statement of its own before", node)

    def renamed(self, node):
        """The comprehension with its variables renamed where the function uses their names
        outside it (a comprehension's variables are its own)."""
        for gen in node.generators:
            for target in (n for n in ast.walk(gen.target) if isinstance(n, ast.Name)):
                if target.id in self.outside:
                    new = self.scope.namer.fresh(target.id)
                    old = target.id
                    for n in ast.walk(node):
                        if isinstance(n, ast.Name) and n.id == old:
                            n.id = new
        return node

    def array(self, node, name=None):
        """The comprehension's values as a new array, filled by a loop.  Its first value,
        computed where there is one, gives the rows' shape (numba, their type); with `if`
        the values are numbers, written one after another as the filter passes them."""
        self.hoistable(node)
        node = self.renamed(node)
        at = self.at
        if len(node.generators) != 1 or node.generators[0].is_async:
            raise self.scope.error("a list comprehension with several `for`s is supported inside sum, max, min, any "
                                   "and all; for a list, write the loop", node)
        gen = node.generators[0]
        seq = sequence(gen.iter, self.scope, self.before, self.at, gen.target)
        n = self.scope.namer.fresh("n")
        self.before.append(assign(n, seq.length, at))
        counter = self.counter(gen, seq)
        name = name or self.scope.namer.fresh("values")
        self.scope.array_lists.add(name)
        stack = self.scope.bind_free("stacked_empty", runtime.stacked_empty)
        body = bind(gen.target, seq.element(load(counter)), self.scope, at)
        if gen.ifs:
            room, count = self.scope.namer.fresh("room"), self.scope.namer.fresh("count")
            self.before += [assign(room, call(load(stack), load(n), ast.Constant(0.0)), at),
                            assign(count, ast.Constant(0), at)]
            write = [located(ast.Assign([ast.Subscript(load(room), load(count), ast.Store())], node.elt), at),
                     assign(count, ast.BinOp(load(count), ast.Add(), ast.Constant(1)), at)]
            test = gen.ifs[0] if len(gen.ifs) == 1 else ast.BoolOp(ast.And(), gen.ifs)
            body.append(located(ast.If(test, write, []), at))
            self.before.append(located(ast.For(store(counter), call(load("range"), load(n)), body, [], None), at))
            whole = ast.Subscript(load(room), ast.Slice(None, load(count), None), ast.Load())
            self.before.append(assign(name, call(ast.Attribute(load("np"), "copy", ast.Load()), whole), at))
            return located(load(name), node)
        first, item = self.scope.namer.fresh("first"), self.scope.namer.fresh("item")
        peeled = bind(gen.target, seq.element(ast.Constant(0)), self.scope, at) \
            + [assign(item, copy.deepcopy(node.elt), at),     # (an inner comprehension's array: a copy, not a second name)
               assign(first, call(ast.Attribute(load("np"), "copy", ast.Load()), load(item))
                      if isinstance(node.elt, ast.ListComp) else load(item), at)]
        self.before += [assign(first, ast.Constant(None), at),
                        located(ast.If(ast.Compare(load(n), [ast.Gt()], [ast.Constant(0)]), peeled, []), at)]
        self.before.append(assign(name, call(load(stack), load(n), load(first)), at))
        body.append(located(ast.Assign([ast.Subscript(load(name), load(counter), ast.Store())], node.elt), at))
        self.before.append(located(ast.For(store(counter), call(load("range"), load(n)), body, [], None), at))
        return located(load(name), node)

    def counter(self, gen, seq: Sequence) -> str:
        """The loop's counter: the comprehension's own variable where it counts from 0 by 1."""
        return _own_counter(gen.target, seq) or self.scope.namer.fresh("k")

    def reduced(self, func, node):
        """sum/max/min/any/all over a generator: a loop that accumulates."""
        self.hoistable(node)
        comp = self.renamed(node.args[0])
        at = self.at
        if func in (max, min):
            if len(node.args) != 1 or node.keywords:
                raise self.scope.error(f"{func.__name__} over a generator takes no key= or default= here", node)
            return self.extreme(func, comp)
        if func is sum and (len(node.args) > 2 or node.keywords) or func is not sum and len(node.args) != 1:
            raise self.scope.error(f"{func.__name__}(...) of a generator takes these arguments here: "
                                   f"{'(generator, start)' if func is sum else '(generator)'}", node)
        if func is sum:
            # the sum starts as a zero like the items (the first one's shape), so that numba
            # sees one type and an empty sum is `start`; where filters choose the items, the
            # first may be one Python never computes (1 / x[i] if x[i] != 0): numbers then
            if any(gen.ifs for gen in comp.generators):
                zero = ast.Constant(0.0)
            else:
                for gen in comp.generators:
                    seq = sequence(gen.iter, self.scope, self.before, at, gen.target)
                    self.before += bind(gen.target, seq.element(ast.Constant(0)), self.scope, at)
                zero = call(load(self.scope.bind_free("zero_like", runtime.zero_like)), copy.deepcopy(comp.elt))
            result = self.scope.namer.fresh("total")
            start = node.args[1] if len(node.args) == 2 else None
            self.before.append(assign(result, zero if start is None else ast.BinOp(start, ast.Add(), zero), at))
            inner = [assign(result, ast.BinOp(load(result), ast.Add(), comp.elt), at)]
        else:
            result = self.scope.namer.fresh("found" if func is any else "every")
            self.before.append(assign(result, ast.Constant(func is all), at))
            test = comp.elt if func is any else ast.UnaryOp(ast.Not(), comp.elt)
            inner = [located(ast.If(test, [assign(result, ast.Constant(func is any), at)], []), at)]
        for gen in reversed(comp.generators):
            if gen.is_async:
                raise self.scope.error("async comprehensions are not supported", gen)
            for test in reversed(gen.ifs):
                inner = [located(ast.If(test, inner, []), at)]
            inner = [located(ast.For(gen.target, gen.iter, inner, [], None), at)]
        self.before += inner
        return located(load(result), node)

    def extreme(self, func, comp):
        at = self.at
        if len(comp.generators) != 1 or comp.generators[0].ifs:
            raise self.scope.error(f"{func.__name__} over a generator with `if` or several `for`s is not supported: "
                                   "write the loop", comp)
        gen = comp.generators[0]
        seq = sequence(gen.iter, self.scope, self.before, self.at, gen.target)
        n = self.scope.namer.fresh("n")
        self.before.append(assign(n, seq.length, at))
        self.before.append(located(ast.Assert(ast.Compare(load(n), [ast.Gt()], [ast.Constant(0)]),
                                              ast.Constant(f"{func.__name__}() of an empty sequence")), at))
        result = self.scope.namer.fresh("largest" if func is max else "smallest")
        self.before += bind(gen.target, seq.element(ast.Constant(0)), self.scope, at)
        self.before.append(assign(result, copy.deepcopy(comp.elt), at))
        counter = self.scope.namer.fresh("k")
        body = bind(gen.target, seq.element(load(counter)), self.scope, at)
        body.append(assign(result, call(load(func.__name__), load(result), comp.elt), at))
        self.before.append(located(ast.For(store(counter), call(load("range"), ast.Constant(1), load(n)), body, [],
                                           None), at))
        return located(load(result), comp)


def _has_comprehension(node) -> bool:
    return any(isinstance(n, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)) for n in ast.walk(node))


def _names_outside_comprehensions(tree) -> set:
    names = set()

    def visit(node):
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
            return
        if isinstance(node, ast.Name):
            names.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)
    visit(tree)
    return names
