"""Tuples and lists.

A name bound once to a tuple or list written out (`p = (W, b)`, `v = [a, 2 * b]`) stands
for its items: `p[0]` is the first item, `len(p)` a constant, `a, b = p` unpacks the items,
a loop over it is unrolled, and elsewhere the name is the literal itself (normalize takes
lists in joins, `np.array`, `sum`, and tuples in `return`).

A list comprehension `[e for a in seq]` is a new array with a leading axis of seq's length,
filled by a loop — NumPy's view of a list of equal-shaped values, which is what
`np.array(...)`, `np.stack(...)`, indexing and iterating see.  sum, max, min, any and all
over a generator (or a comprehension) are loops that accumulate instead.
"""
from __future__ import annotations

import ast
import copy

import numpy as np

from .. import runtime
from ..parse import assigned_names
from .iteration import Sequence, bind, sequence
from .scope import Scope, assign, call, constant_int, load, located, map_bodies, store

_REDUCTIONS = (sum, max, min, any, all)


def rewrite(body: list, scope: Scope) -> list:
    body = _Items(body, scope).rewrite(body)
    return _Comprehensions(scope).statements(body)


# -- tuples and lists written out ------------------------------------------------------
class _Items(ast.NodeTransformer):
    def __init__(self, body, scope: Scope):
        self.scope = scope
        module = ast.Module(body, [])
        stores = {}
        for node in ast.walk(module):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                stores[node.id] = stores.get(node.id, 0) + 1
        self.literals = {}               # name -> its items' expressions, once rewritten
        self.candidates = set()
        for node in ast.walk(module):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and isinstance(node.value, (ast.Tuple, ast.List)) and stores[node.targets[0].id] == 1 \
                    and node.targets[0].id not in scope.parsed.params \
                    and not any(isinstance(e, ast.Starred) for e in node.value.elts):
                self.candidates.add(node.targets[0].id)
        for node in ast.walk(module):        # changed in place (v[i] = ..., v.append(...)): a list proper
            if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.value, ast.Name) \
                    and (isinstance(node.ctx, (ast.Store, ast.Del)) or isinstance(node, ast.Attribute)):
                self.candidates.discard(node.value.id)
        self.assigned = assigned_names(module)

    def rewrite(self, body):
        return map_bodies(body, self.statement)

    def statement(self, stmt):
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name) \
                and stmt.targets[0].id in self.candidates:
            name, out = stmt.targets[0].id, []
            items = []
            for k, elt in enumerate(stmt.value.elts):
                elt = self.visit(elt)
                if isinstance(elt, ast.Constant) or isinstance(elt, ast.Name) and elt.id not in self.assigned:
                    items.append(elt)        # a constant, a parameter or a module name: itself
                else:
                    item = self.scope.namer.fresh(f"{name}_{k}")
                    out.append(assign(item, elt, stmt))
                    items.append(located(load(item), elt))
            self.literals[name] = (items, type(stmt.value))
            return out
        if isinstance(stmt, ast.For) and self.items_of(stmt.iter) is not None:
            return self.unrolled(stmt)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple) \
                and isinstance(stmt.value, ast.Name) and stmt.value.id in self.literals:
            stmt.value = located(ast.Tuple(copy.deepcopy(self.literals[stmt.value.id][0]), ast.Load()), stmt.value)
            return [stmt]
        return [self.visit(stmt)]

    def items_of(self, node):
        """The items of a sequence known item by item: a literal, a name of one, enumerate
        or zip of such."""
        if isinstance(node, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in node.elts):
            return [self.visit(e) for e in node.elts]
        if isinstance(node, ast.Name) and node.id in self.literals:
            return copy.deepcopy(self.literals[node.id][0])
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
                raise self.scope.error("break and continue in a loop over a tuple or list written out are not "
                                       "supported", node)
        out = []
        for item in self.items_of(stmt.iter):
            out += bind(stmt.target, located(item, stmt.iter), self.scope, stmt)
            out += map_bodies(copy.deepcopy(stmt.body), self.statement)
        return out

    def visit_Subscript(self, node):
        if isinstance(node.value, ast.Name) and node.value.id in self.literals and isinstance(node.ctx, ast.Load):
            items, kind = self.literals[node.value.id]
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

    def visit_Call(self, node):
        if self.scope.resolve(node.func) is len and len(node.args) == 1 and isinstance(node.args[0], ast.Name) \
                and node.args[0].id in self.literals:
            return located(ast.Constant(len(self.literals[node.args[0].id][0])), node)
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

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.literals:
            items, kind = self.literals[node.id]
            return located(kind(copy.deepcopy(items), ast.Load()), node)
        return node


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
        for side in (node.left, node.right):
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
        if func is sum and 1 <= len(node.args) <= 2 and not node.keywords and not isinstance(first, (ast.List, ast.Tuple)):
            # Python's sum over an array adds its rows
            total = located(ast.Call(ast.Attribute(load("np"), "sum", ast.Load()), [self.visit(first)],
                                     [ast.keyword("axis", ast.Constant(0))]), node)
            return total if len(node.args) == 1 else ast.copy_location(
                ast.BinOp(self.visit(node.args[1]), ast.Add(), total), node)
        self.generic_visit(node)
        return node

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
        """The comprehension's values as a new array, filled by a loop."""
        self.hoistable(node)
        node = self.renamed(node)
        at = self.at
        if len(node.generators) != 1 or node.generators[0].ifs or node.generators[0].is_async:
            raise self.scope.error("a list comprehension with `if` or several `for`s is supported inside sum, max, "
                                   "min, any and all; for a list, write the loop", node)
        gen = node.generators[0]
        seq = sequence(gen.iter, self.scope, self.before, self.at, gen.target)
        n = self.scope.namer.fresh("n")
        self.before.append(assign(n, seq.length, at))
        counter = self.counter(gen, seq)
        first = self.scope.namer.fresh("first")
        self.before += bind(gen.target, seq.element(ast.Constant(0)), self.scope, at)
        self.before.append(assign(first, copy.deepcopy(node.elt), at))
        name = name or self.scope.namer.fresh("values")
        stack = self.scope.bind_free("stacked_empty", runtime.stacked_empty)
        self.before.append(assign(name, call(load(stack), load(n), load(first)), at))
        write = located(ast.Assign([ast.Subscript(load(name), load(counter), ast.Store())], node.elt), at)
        body = bind(gen.target, seq.element(load(counter)), self.scope, at) + [write]
        self.before.append(located(ast.For(store(counter), call(load("range"), load(n)), body, [], None), at))
        return located(load(name), node)

    def counter(self, gen, seq: Sequence) -> str:
        """The loop's counter: the comprehension's own variable where it counts from 0 by 1."""
        if isinstance(gen.target, ast.Name):
            probe = seq.element(load(gen.target.id))
            if isinstance(probe, ast.Name) and probe.id == gen.target.id:
                return gen.target.id
        if seq.first_name is not None and isinstance(gen.target, ast.Tuple) \
                and isinstance(gen.target.elts[0], ast.Name) and gen.target.elts[0].id == seq.first_name:
            return seq.first_name
        return self.scope.namer.fresh("k")

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
            # the sum starts as a zero like the items (the first one's shape, whatever the
            # filters keep), so that numba sees one type and an empty sum is `start`
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
