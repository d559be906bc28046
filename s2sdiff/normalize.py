"""Stage 2 — normalize: the user's AST becomes the three-address core language (ir.py).

Every intermediate value gets a name, every call is classified (a primitive of the rule
table, another user function, or an opaque call), and every construct outside the
language (DESIGN §2) is rejected here with the user's file, line and code.

The same lowering also instantiates the derivative rules' templates (`lower_template`),
so rule code and user code become one language.
"""
from __future__ import annotations

import ast
import copy
import inspect
import linecache
import math
import numbers
import types
from contextlib import contextmanager

import numpy as np

from . import ir, runtime
from .custom import rule_of
from .desugar import desugar, recursion
from .desugar.scope import loop_level
from .creation import ALLOCATORS, DTYPE_POSITION, Creation
from .effects import base_name, call_changes, changed_parameters
from .errors import S2SDiffError, at_line
from .linalg_calls import LinalgCalls, is_linalg, respelled_call
from .linalg_calls import helpers as linalg_helpers
from .names import Namer
from .joins import SPLITS, Joins
from .parse import ParsedFunction, parse_function, python_function
from .reductions import EXPONENTIAL_SUMS, Reductions, constant_int
from .rules import NUMBA_LACKS, RULES, makes_new_array, primitive_of
from .products import PRODUCT_FUNCTIONS, Products, outer_ufunc
from .shapes import SHAPE_FUNCTIONS, Shapes
from .simplify import simplify

_UNSUPPORTED_STATEMENTS = {      # the rest of Python's statements desugar rewrites or refuses
    ast.Try: "try/except", ast.With: "with", ast.AsyncWith: "async with", ast.AsyncFor: "async for",
    ast.AsyncFunctionDef: "a nested async function definition", ast.ClassDef: "a class definition",
    ast.Match: "match",
}
if hasattr(ast, "TryStar"):
    _UNSUPPORTED_STATEMENTS[ast.TryStar] = "try/except*"
_UNSUPPORTED_EXPRESSIONS = {
    ast.Lambda: "lambda", ast.Yield: "yield", ast.YieldFrom: "yield from", ast.Await: "await",
    ast.NamedExpr: "the := operator", ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension", ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression", ast.Dict: "a dict", ast.Set: "a set",
    ast.List: "a list", ast.Starred: "*-unpacking", ast.JoinedStr: "an f-string",
}
_BINOPS = {cls: op for op, rule in RULES.items() if (cls := rule.operator) and len(rule.params) == 2}
_UNARYOPS = {cls: op for op, rule in RULES.items() if (cls := rule.operator) and len(rule.params) == 1}
_MODULE_ALIASES = {"math": "math", "numpy": "np"}


class Callee:
    """A user function called from differentiated code; normalized only when needed."""

    def __init__(self, obj, node: ast.AST, filename: str):
        self.obj = obj                       # what the primal code calls (function or dispatcher)
        self.py_func = python_function(obj)
        self.node = node
        self.filename = filename
        self._function = None

    @property
    def function(self) -> ir.Function:
        if self._function is None and rule_of(self.obj) is not None:
            self._function = self.obj.function          # what its code shows, never differentiated
        if self._function is None:
            if self.py_func in _in_progress:
                raise recursion.unbounded(self.py_func, self.filename, self.node)
            self._function = normalize(self.py_func)
        return self._function


_normalized: dict = {}
_in_progress: set = set()


def normalize(func) -> ir.Function:
    """The core-language form of a Python function (cached per function object)."""
    py_func = python_function(func)
    cached = _normalized.get(py_func)
    if cached is not None and cached[0] is py_func.__code__:
        return cached[1]
    parsed = desugar(parse_function(py_func))
    _in_progress.add(py_func)
    try:
        function = simplify(_UserLowering(parsed).function())
    finally:
        _in_progress.discard(py_func)
    _normalized[py_func] = (py_func.__code__, function)
    return function


class _Lowering:
    """Flattens expressions into three-address assignments; shared by user code and rules."""

    def __init__(self, namer: Namer):
        self.namer = namer
        self.out: list = []
        self.line = 0

    @contextmanager
    def block(self):
        saved, self.out = self.out, []
        try:
            yield self.out
        finally:
            self.out = saved

    def emit(self, stmt):
        self.out.append(stmt)

    # -- expressions -------------------------------------------------------------------
    def atom(self, node) -> ir.Atom:
        value = self.value(node)
        if isinstance(value, (ir.Name, ir.Const)):
            return value
        name = self.namer.temp()
        self.emit(ir.Assign(name, value, self.line))
        return ir.Name(name)

    def assign(self, node, target: str):
        """Lower `node` with its final result stored straight into `target`."""
        if isinstance(node, ast.IfExp) and not self._atomic_branches(node):
            test = self.condition(node.test)
            with self.block() as body:
                self.assign(node.body, target)
            with self.block() as orelse:
                self.assign(node.orelse, target)
            self.emit(ir.If(test, body, orelse, self.line))
            return
        self.emit(ir.Assign(target, self.value(node), self.line))

    def power(self, base, k, node):
        """`base ** k`, k = 2, 3 or 4, as products: numba takes an array's `x ** 2` with pow()
        element by element, and the derivative rule's `k * x ** (k - 1)` would take a power again."""
        square = self.prim("square", (base,), "op", node)
        if k == 2:
            return square
        name = self.namer.temp()
        self.emit(ir.Assign(name, square, self.line))
        if k == 3:
            return self.prim("mul", (ir.Name(name), base), "op", node)
        return self.prim("square", (ir.Name(name),), "op", node)

    def _atomic_branches(self, node: ast.IfExp) -> bool:
        return all(isinstance(b, (ast.Constant, ast.Name)) or _is_constant_attribute(b)
                   for b in (node.body, node.orelse))

    def value(self, node):
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp) and _is_shape(node):        # x.shape[:-1] + (k,): a shape
            return self.passive(node)
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise self.error(f"the operator {type(node.op).__name__} is not supported", node)
            left, right = self.atom(node.left), self.atom(node.right)
            if op == "mul" and left == right and isinstance(left, ir.Name):
                return self.prim("square", (left,), "op", node)   # one derivative term, not two
            if op == "pow" and _small_power(node.right):
                return self.power(left, right.value, node)
            return self.prim(op, (left, right), "op", node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return self.passive(node)
            op = _UNARYOPS.get(type(node.op))
            if op is None:
                raise self.error(f"the operator {type(node.op).__name__} is not supported", node)
            operand = self.atom(node.operand)
            if op == "neg" and isinstance(operand, ir.Const) and type(operand.value) in (int, float):
                return ir.Const(-operand.value)     # a constant, as `range(n, 0, -1)`'s step
            return self.prim(op, (operand,), "op", node)
        if isinstance(node, (ast.Compare, ast.BoolOp)):
            return self.passive(node)
        if isinstance(node, ast.IfExp):
            if self._atomic_branches(node):
                cond = self.atom_of_condition(node.test)
                return self.prim("select", (cond, self.atom(node.body), self.atom(node.orelse)), "op", node)
            target = self.namer.temp()
            self.assign(node, target)
            return ir.Name(target)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        for cls, what in _UNSUPPORTED_EXPRESSIONS.items():
            if isinstance(node, cls):
                raise self.error(f"{what} is not supported here", node)
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Tuple):
            if self.generated():        # a shape or a join's operands that generated code named: kept whole
                return self.passive(node)
            raise self.error("a tuple is only supported on the right of `a, b = ...` or in `return`", node)
        raise self.error(f"{type(node).__name__} expressions are not supported", node)

    def subscript(self, node):
        raise self.error("indexing is not supported here", node)

    def generated(self) -> bool:
        return False

    def atom_of_condition(self, node) -> ir.Atom:
        if isinstance(node, ast.Name):
            return self.name(node)
        name = self.namer.temp()
        self.emit(ir.Assign(name, self.passive(node), self.line))
        return ir.Name(name)

    def prim(self, op, args, family, node):
        if any(isinstance(a, ir.Const) and isinstance(a.value, (str, bytes)) for a in args):
            raise self.error("string operations are not supported in differentiated code", node)
        return ir.Prim(op, tuple(args), family)

    def constant(self, node: ast.Constant):
        return ir.Const(node.value)

    def condition(self, node) -> ast.expr:
        self.check_passive(node)
        return node

    def passive(self, node):
        return ir.Passive(self.condition(node))

    def check_passive(self, node):
        for sub in ast.walk(node):
            for cls, what in _UNSUPPORTED_EXPRESSIONS.items():
                if isinstance(sub, cls):
                    raise self.error(f"{what} is not supported here", sub)


def _written_after(sites, k, body) -> bool:
    """Whether an element write into the array sites[k] (`a = b`) renames, under any name
    renames connect to it, may run after it: later in the text or in a loop around it."""
    links: dict = {}
    for s in ir.walk(body):
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Name):
            links.setdefault(s.target, set()).add(s.value.id)
            links.setdefault(s.value.id, set()).add(s.target)
    names, todo = set(), [sites[k][0].target]
    while todo:
        name = todo.pop()
        if name not in names:
            names.add(name)
            todo.extend(links.get(name, ()))
    later = [s for s, _ in sites[k + 1:]] + [s for loop in sites[k][1] for s in ir.walk(loop.body)]
    return any(isinstance(s, ir.SetItem) and s.array in names for s in later)


def respelled(tree, resolve, modules=None):
    """`tree`, or a copy of it with each call of a function numba lacks respelled as
    generated code has it (`math.cbrt(x)` -> `np.cbrt(x)`, `sum((a, b))` -> `0 + a + b`).
    `resolve(func)` is the object a call's function expression names (None if not known);
    `modules` renames the module the new spelling uses (`{"np": "_np"}`)."""
    def spelling(func):
        value = resolve(func)
        return None if value is None else \
            next((instead for dotted, instead in NUMBA_LACKS.items() if _dotted_value(dotted) is value), None)

    def summed(call):
        return resolve(call.func) is sum and _spread_literal(call)

    def mean_with_axis(call):
        return resolve(call.func) is np.mean and (len(call.args) > 1 or any(k.arg == "axis" for k in call.keywords))

    def linalg(node):
        return respelled_call(node, resolve)

    if not any(isinstance(sub, ast.Call) and (spelling(sub.func) or summed(sub) or mean_with_axis(sub))
               or linalg(sub) is not None for sub in ast.walk(tree)):
        return tree
    return _Respell(spelling, summed, mean_with_axis, linalg, modules or {}).visit(copy.deepcopy(tree))


MEAN_ALONG = "_s2sdiff_mean_along"      # the name respelled code calls runtime.mean_along by


class _Respell(ast.NodeTransformer):
    def __init__(self, spelling, summed, mean_with_axis, linalg, modules):
        self.spelling, self.summed, self.mean_with_axis, self.modules = spelling, summed, mean_with_axis, modules
        self.linalg = linalg

    def visit_Attribute(self, node):
        instead = self.linalg(node)            # np.linalg.slogdet(A).logabsdet: an index of the tuple
        if instead is not None:
            return self.visit(ast.copy_location(instead, node))
        self.generic_visit(node)
        return node

    def visit_Call(self, node):
        instead = self.linalg(node)            # before the arguments: it reads the call as the user wrote it
        if instead is not None:
            return self.visit(ast.fix_missing_locations(ast.copy_location(instead, node)))
        self.generic_visit(node)
        if self.mean_with_axis(node):
            axis = node.args[1] if len(node.args) > 1 else next(k.value for k in node.keywords if k.arg == "axis")
            return ast.copy_location(ast.Call(ast.Name(MEAN_ALONG, ast.Load()), [node.args[0], axis], []), node)
        if self.summed(node):                # numba has no sum of a tuple of arrays
            total = node.args[1] if len(node.args) == 2 else ast.Constant(0)
            for item in node.args[0].elts:
                total = ast.BinOp(total, ast.Add(), item)
            return ast.copy_location(total, node)
        instead = self.spelling(node.func)
        if instead:
            module, attr = instead.split(".")
            name = ast.Name(self.modules.get(module, module), ast.Load())
            node.func = ast.copy_location(ast.Attribute(name, attr, ast.Load()), node.func)
        return node


def _is_shape(node) -> bool:
    """Whether `node` is a shape: a tuple, `x.shape` (whole or sliced), or a sum or repeat of
    them (`(2,) + x.shape`) — not a number made of a shape's entries (`x.shape[0] * 2`)."""
    if isinstance(node, ast.Tuple) or isinstance(node, ast.Attribute) and node.attr == "shape":
        return True
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        return _is_shape(node.value)
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)) \
        and (_is_shape(node.left) or _is_shape(node.right))


def _is_ellipsis(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _axes_positional(node):
    """np.transpose(x, axes=(1, 0)) as np.transpose(x, (1, 0))."""
    keywords = [k for k in node.keywords if k.arg != "axes"]
    axes = [k.value for k in node.keywords if k.arg == "axes"]
    return ast.copy_location(ast.Call(node.func, list(node.args) + axes, keywords), node)


_JOINS = (np.concatenate, np.stack, np.vstack, np.hstack, np.column_stack, np.dstack, np.append, np.tile, np.repeat,
          np.pad)


def _dotted_value(dotted):
    module, _, attr = dotted.partition(".")
    return getattr({"math": math, "np": np}[module], attr, None)


class _UserLowering(_Lowering, Reductions, Joins, Creation, Shapes, Products, LinalgCalls):
    """Lowering of a user function: resolves names and calls through its scope."""

    def __init__(self, parsed: ParsedFunction):
        taken = {n.id for n in ast.walk(parsed.tree) if isinstance(n, ast.Name)} | set(parsed.params)
        super().__init__(Namer(taken | {"math", "np"}))
        self.parsed = parsed
        self.namespace: dict = {}
        self.returns: list = []
        self.written: dict = {}       # arrays assigned elements -> the first such target
        self.updated: list = []       # (name, node) of each change of an array in place: `name += ...`, a kernel call
        self.piece_lists: dict = {}   # names of np.split's lists -> their pieces
        self.orders: set = set()      # names holding np.argsort's permutation

    def error(self, message, node):
        return self.parsed.error(message, node)

    def generated(self) -> bool:
        return hasattr(self.parsed.py_func, "s2sdiff_origin")

    def free_function(self, func):
        """The object a free name or a dotted name of free variables in a call denotes
        (`sum`, `np.mean`), or None."""
        free_name = isinstance(func, ast.Name) and func.id not in self.parsed.local_names
        if not (free_name or isinstance(func, ast.Attribute) and _is_free_chain(func, self.parsed.local_names)):
            return None
        try:
            return self.resolve(func)
        except S2SDiffError:
            return None

    def function(self) -> ir.Function:
        tree = self.parsed.tree
        body = self.statements(tree.body)
        if not self.returns:
            raise self.error(f"{tree.name} returns no value and changes none of its array arguments: s2sdiff "
                             "differentiates functions that return numbers or write into arrays passed to them", tree)
        if not _always_returns(tree.body):
            raise self.error(f"{tree.name} can reach its end without returning a value", tree)
        self.check_written_arrays(body)
        first = self.returns[0]
        numbers = [n for node in ast.walk(tree) for n in (getattr(node, "lineno", None),
                                                          getattr(node, "end_lineno", None)) if n]
        lines = range(min(numbers), max(numbers) + 1)
        source_lines = {n: linecache.getline(self.parsed.filename, n).strip() for n in lines}
        return ir.Function(tree.name, list(self.parsed.params), body, self.parsed.filename,
                           source_lines, self.namespace, len(first.values), first.tuple_result,
                           dict(self.parsed.defaults), self.parsed.py_func, user_names=frozenset(self.parsed.local_names),
                           updated=tuple(dict.fromkeys((name, node.lineno) for name, node in self.updated)),
                           output=self.parsed.output, changed=self.parsed.changed,
                           returns_changed=self.parsed.returns_changed)

    def check_written_arrays(self, body):
        """An array assigned elements must be the function's own and have no second name,
        so that its writes are the only changes to it and its tangent and adjoint can
        mirror them: each assignment of it creates a new array."""
        write = _write_into_entry_value(body, set(self.parsed.params))
        if write is not None:
            raise self.error(f"'{write.array}' is a parameter: s2sdiff does not differentiate functions that modify "
                             f"their arguments; assign it a copy first ({write.array} = {write.array}.copy())",
                             at_line(write.line))
        sites = list(ir.walk_in_loops(body))
        for k, (s, _) in enumerate(sites):
            if self.generated() and isinstance(s, ir.Assign) and isinstance(s.value, ir.Name) \
                    and (not ir.value_read_later(body, s, s.value.id) or not _written_after(sites, k, body)):
                continue            # single assignment renames an array (`y_2 = y`), or names a result: no second name
            if isinstance(s, ir.Assign) and s.target in self.written and not (
                    isinstance(s.value, ir.Prim) and makes_new_array(s.value.op) or self.integer_allocation(s.value)):
                raise self.written_array_error(f"'{s.target}' is assigned elements, so each assignment of it must "
                                               "create a new array (np.zeros, np.empty, x.copy(), y * 2.0, ...), not "
                                               "a view or another name", s.line)
            if isinstance(s, ir.Assign) and isinstance(s.value, ir.Name) and s.value.id in self.written:
                raise self.written_array_error(f"'{s.value.id}' is assigned elements and may not get a second name; "
                                               f"use {s.value.id}.copy()", s.line)
            if isinstance(s, ir.Unpack) and set(s.targets) & self.written.keys():
                raise self.written_array_error("an array assigned elements must be created in this function "
                                               "(np.zeros, np.empty, ..., x.copy())", s.line)

    def integer_allocation(self, value) -> bool:
        """Whether `value` is an integer or boolean array made by np.zeros(…, dtype=int) and
        the like, kept as written (creation.py)."""
        if not (isinstance(value, ir.Passive) and isinstance(value.expr, ast.Call)):
            return False
        primitive = primitive_of(self.free_function(value.expr.func))
        return primitive is not None and primitive[0] in ALLOCATORS

    def written_array_error(self, message, line):
        if self.generated():        # s2sdiff's own names and code: nothing the user could change
            message = ("a second derivative through this line is not supported yet: the first derivative's code "
                       "gives an array it writes element by element another name")
        return self.error(message, at_line(line))

    # -- names -------------------------------------------------------------------------
    def name(self, node: ast.Name):
        if node.id in self.piece_lists:
            raise self.error(f"'{node.id}' is a list of pieces: index it with a constant ({node.id}[0])", node)
        if node.id in self.parsed.local_names:
            return ir.Name(node.id)
        value = self.free_value(node.id, node)
        if value is None or isinstance(value, bool):
            return ir.Const(value)
        if isinstance(value, (numbers.Number, np.ndarray)):
            self.namespace[node.id] = value      # module and closure constants keep their names
            return ir.Name(node.id)
        raise self.error(f"'{node.id}' is a {type(value).__name__}; only numbers can be used as values here", node)

    def free_value(self, name, node):
        try:
            return self.parsed.lookup(name)
        except KeyError:
            raise self.error(f"name '{name}' is not defined", node) from None

    def resolve(self, node):
        """The object a dotted name of free variables denotes (`math.sin`, `np.linalg.det`)."""
        if isinstance(node, ast.Name):
            if node.id in self.parsed.local_names:
                raise self.error(f"calling the local value '{node.id}' is not supported "
                                 "(s2sdiff calls only functions it can see at transform time)", node)
            return self.free_value(node.id, node)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            try:
                return getattr(base, node.attr)
            except AttributeError:
                raise self.error(f"'{ast.unparse(node.value)}' has no attribute '{node.attr}'", node) from None
        raise self.error("only named functions can be called", node)

    def attribute(self, node: ast.Attribute):
        if _is_free_chain(node, self.parsed.local_names):
            value = self.resolve(node)
            if isinstance(value, (numbers.Number, bool)) or value is None:
                return ir.Const(value)
        elif (component := self.tuple_component(node.value, node.attr)) is not None:   # slogdet(A).logabsdet
            return component
        elif node.attr == "size":
            return self.prim("size", (self.atom(node.value),), "op", node)
        elif node.attr == "T":
            return self.prim("transpose", (self.atom(node.value),), "op", node)
        elif node.attr in ("shape", "ndim", "dtype"):
            return self.shape_attribute(node)
        raise self.error(f"attribute '.{node.attr}' is not supported here", node)

    def index(self, node):
        if isinstance(node, ast.Slice):
            return ir.Slice(*(None if part is None else self.atom(part) for part in (node.lower, node.upper, node.step)))
        return self.atom(node)

    def subscript(self, node: ast.Subscript):
        base, index = node.value, node.slice
        elements = index.elts if isinstance(index, ast.Tuple) else [index]
        if isinstance(base, ast.Attribute) and base.attr == "shape" \
                and not _is_free_chain(base.value, self.parsed.local_names):
            if isinstance(index, ast.Slice):        # x.shape[:-1]: part of a shape, never differentiated
                return self.passive(node)
            axis = constant_int(index)
            if axis is None and self.generated() and isinstance(index, ast.Name):   # a join's axis, found at run time
                return self.prim("dim", (self.atom(base.value), self.atom(index)), "op", node)
            if axis is None:
                raise self.error("x.shape[k] needs a constant k", index)
            return self.prim("dim", (self.atom(base.value), ir.Const(axis)), "op", node)
        if isinstance(base, ast.Name) and base.id in self.piece_lists:          # parts = np.split(x, 2); parts[0]
            return self.piece(self.piece_lists[base.id], index)
        if isinstance(base, ast.Name) and base.id in self.parsed.local_names:
            return self.item(ir.Name(base.id), elements, node)
        if isinstance(base, ast.Name) and isinstance(self.free_value(base.id, base), np.ndarray):
            return self.item(self.name(base), elements, node)       # a module's or closure's constant array
        component = self.tuple_component(base, constant_int(index))        # np.linalg.slogdet(A)[1]
        if component is not None:
            return component
        if isinstance(base, ast.Call) and self.free_function(base.func) in SPLITS:
            return self.piece(self.pieces(base), index)
        if not isinstance(base, (ast.Name, ast.Attribute)) or isinstance(base, ast.Attribute) and base.attr == "T":
            value = self.atom(base)         # np.eye(n)[0], (A @ x)[i], X.T[1]: the value, then its elements
            if isinstance(value, ir.Name):
                return self.item(value, elements, node)
        raise self.error("only indexing of a local array (x[i], x[i, j]) is supported", node)

    def item(self, array: ir.Name, elements, node):
        """array[elements]; an index with `...` as slices and picks along the last axes; a
        vector in the order np.argsort gives, as its elements taken in that order."""
        if any(_is_ellipsis(e) for e in elements):
            return self.through_ellipsis(array, elements, node)
        if len(elements) == 1 and (self.is_argsort(elements[0]) or isinstance(elements[0], ast.Name)
                                   and elements[0].id in self.orders):
            self.require(f"{array.id}.ndim == 1", "indexing with np.argsort's order is supported for vectors here")
            return self.prim("take_along", (array, self.atom(elements[0])), "runtime", node)
        return ir.Item(array, tuple(self.index(e) for e in elements))

    def is_argsort(self, node) -> bool:
        return isinstance(node, ast.Call) and self.free_function(node.func) is np.argsort \
            and len(node.args) == 1 and not node.keywords

    def condition(self, node):
        """Code kept as written (tests, passive values), its free names bound, and what numba
        lacks respelled."""
        self.check_passive(node)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id not in self.parsed.local_names:
                self.namespace[sub.id] = self.free_value(sub.id, sub)
        respelled_node = respelled(node, self.free_function)
        if respelled_node is not node:
            self.namespace.update({"np": np, MEAN_ALONG: runtime.mean_along} | linalg_helpers())
        return respelled_node

    # -- calls -------------------------------------------------------------------------
    def call(self, node: ast.Call):
        method = self.array_method(node)
        if method is not None:
            return method
        return self.function_call(self.resolve(node.func), node)

    def function_call(self, func, node: ast.Call):
        """A call of the Python object `func` (a NumPy function, a user function, …)."""
        rule = rule_of(func)        # a user's rule (sd.custom_vjp, sd.register_jvp, …) stands for the body
        if rule is not None:
            args = self.bind(rule.py_func, node)
            return ir.Call(Callee(rule, node, self.parsed.filename), tuple(map(self.atom, args)))
        if func is len and len(node.args) == 1 and isinstance(node.args[0], ast.Call) \
                and self.resolve(node.args[0].func) is range:
            return self.passive(node)               # a trip count, as reverse mode writes it
        if is_linalg(func):
            return self.linalg_call(func, node)
        if func is np.mean:
            return self.mean(node)
        if any(func is f for f in EXPONENTIAL_SUMS):
            return self.exponential_sum(func, node)
        if func in (np.var, np.std):
            return self.variance(node, func is np.std)
        if (func is sum or func in (max, min) and len(node.args) == 1) and _spread_literal(node):   # sum((a, b)), max([a, b, c]): the items as arguments
            return self.builtin_over_items(func, node)
        if func is np.clip:
            return self.clip(node)
        if func is np.nan_to_num and node.keywords:
            return self.replaced_non_finite(node)
        if func in _JOINS:
            return self.join(func, node)
        if func in SHAPE_FUNCTIONS and not (func in (np.flip, np.sort) and len(node.args) == 1 and not node.keywords):
            return self.reshaped(func, node)
        if func in PRODUCT_FUNCTIONS:
            return self.lower_product(func, node)
        if func is np.transpose and (len(node.args) > 1 or node.keywords):
            return self.transposed(_axes_positional(node))
        if outer_ufunc(func):
            return self.outer_of(outer_ufunc(func), node)
        if func is np.prod:
            return self.product(node)
        if func is np.cumprod:
            return self.running("mul", node)
        if func is np.cumsum and (len(node.args) > 1 or node.keywords):
            return self.running("add", node)
        if func is np.average:
            return self.average(node)
        if func is np.ptp:
            return self.spread(node)
        if func in (np.nansum, np.nanmean):
            return self.ignoring_nan(func is np.nanmean, node)
        if func is np.median:
            return self.median(node)
        if func is np.polyval:
            return self.polynomial(node)
        if func is np.linalg.norm and (len(node.args) > 1 or node.keywords):
            return self.norm(node)
        if func in (np.argmax, np.argmin) and (len(node.args) > 1 or node.keywords):
            return self.passive(node)           # indices along an axis: piecewise constant, kept as written
        if func in (np.array, np.asarray):
            return self.array_of(node)
        if func in SPLITS:
            raise self.error(f"{ast.unparse(node.func)} gives a list: unpack it (a, b = ...), index it with a "
                             "constant, or name it and index that", node)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error("*-unpacking in calls is not supported", arg)
        if any(k.arg is None for k in node.keywords):
            raise self.error("**-unpacking in calls is not supported", node)
        if (func is pow or func is np.power) and len(node.args) == 2 and not node.keywords \
                and _small_power(node.args[1]):    # int results stay ints: math.pow and np.float_power are left
            return self.power(self.atom(node.args[0]), node.args[1].value, node)
        prim = primitive_of(func)
        if func is np.matmul:       # spelled `@`: numba has no np.matmul, and np.dot is another product in 3-D
            prim = ("matmul", "op")
        if prim is not None:
            return self.primitive_call(prim[0], prim[1], node)
        if func is range:
            raise self.error("range() is supported only as `for i in range(...)`", node)
        if isinstance(func, types.BuiltinFunctionType) or isinstance(func, np.ufunc):
            return self.opaque_call(func, node)
        if isinstance(func, type):
            raise self.error(f"constructing {func.__name__} objects is not supported", node)
        try:
            py_func = python_function(func)
        except S2SDiffError:
            return self.opaque_call(func, node)
        if isinstance(func, types.FunctionType) and func.__code__.co_flags & (0x20 | 0x80 | 0x100 | 0x200):
            raise self.error(f"{func.__name__} is a generator or coroutine", node)
        args = self.bind(py_func, node)
        changes = {} if hasattr(py_func, "s2sdiff_origin") else changed_parameters(func)    # generated: never
        for param, arg in zip(inspect.signature(py_func).parameters, args):
            if param in changes and base_name(arg) is not None:
                raise self.error(f"{py_func.__name__}() changes '{ast.unparse(arg)}' in place; s2sdiff follows "
                                 f"that only in a call on a line of its own ({py_func.__name__}(...), a function "
                                 "returning nothing): call it so, and read the array after it", node)
        return ir.Call(Callee(func, node, self.parsed.filename), tuple(self.atom(a) for a in args))

    def bind(self, py_func, node):
        """Positional argument expressions for a call, defaults filled in as constants."""
        try:
            bound = inspect.signature(py_func).bind(*node.args, **{k.arg: k.value for k in node.keywords})
        except TypeError as exc:
            raise self.error(f"bad call to {py_func.__name__}: {exc}", node) from None
        bound.apply_defaults()
        args = []
        for name, value in bound.arguments.items():
            if not isinstance(value, ast.AST):
                if not (value is None or isinstance(value, (numbers.Number, bool))):
                    raise self.error(f"the default of {py_func.__name__}'s parameter '{name}' is not a number", node)
                value = ast.copy_location(ast.Constant(value), node)
            args.append(value)
        return args

    def clip(self, node):
        """np.clip(x, lo, hi) = min(max(x, lo), hi), a bound of None left out (numba has no
        np.clip of a number); the bounds positional or as a_min=/a_max= (min=/max=)."""
        names = {"a_min": 1, "min": 1, "a_max": 2, "max": 2}
        args = list(node.args) + [None] * (3 - len(node.args))
        for keyword in node.keywords:
            if keyword.arg not in names or len(node.args) > names[keyword.arg]:
                raise self.error(f"keyword '{keyword.arg}=' of np.clip is not supported", keyword.value)
            args[names[keyword.arg]] = keyword.value
        if len(node.args) > 3 or node.args and isinstance(node.args[0], ast.Starred):
            raise self.error("np.clip takes (x, lo, hi) here", node)
        x, lo, hi = args
        bounds = [(op, bound) for op, bound in (("maximum", lo), ("minimum", hi))
                  if bound is not None and not (isinstance(bound, ast.Constant) and bound.value is None)]
        if not bounds:
            raise self.error("np.clip needs a lower or an upper bound", node)
        value = self.atom(x)
        for op, bound in bounds[:-1]:
            value = self.stored(op, (value, self.atom(bound)), "np")
        return self.prim(bounds[-1][0], (value, self.atom(bounds[-1][1])), "np", node)

    def replaced_non_finite(self, node):
        """np.nan_to_num(x, nan=, posinf=, neginf=): the finite elements, and the given
        constants where x is NaN or infinite (NumPy's, for those not given)."""
        args = self.arguments(node, ("x", "copy=True", "nan=0.0", "posinf=None", "neginf=None"))
        x = self.atom(args["x"])
        largest = float(np.finfo(np.float64).max)
        value = self.stored("nan_to_num", (x,), "np")
        for test, name, default in ((f"{x.id} == math.inf", "posinf", largest),
                                    (f"{x.id} == -math.inf", "neginf", -largest), (f"{x.id} != {x.id}", "nan", 0.0)):
            given = args[name]
            if isinstance(given, ast.Constant) and given.value in (None, default):
                continue
            where = ir.Name(self._store(ir.Passive(ast.parse(test, mode="eval").body)))
            value = self.stored("where", (where, self.atom(given), value), "np")
        return self.prim("pos", (value,), "op", node)

    def builtin_over_items(self, func, node):
        """`sum((a, b), start)` = start + a + b; `max([a, b])` = max(a, b)."""
        items = node.args[0].elts
        if func is sum:
            total = self.atom(node.args[1]) if len(node.args) == 2 else ir.Const(0)
            for item in items:
                total = self.stored("add", (total, self.atom(item)), "op")
            return total
        spread = ast.copy_location(ast.Call(node.func, list(items), []), node)
        return self.call(spread) if len(items) > 1 else self.value(items[0])

    _METHODS = {"sum": np.sum, "mean": np.mean, "copy": np.copy, "dot": np.dot, "transpose": np.transpose,
                "prod": np.prod, "cumprod": np.cumprod, "diagonal": np.diagonal, "trace": np.trace,
                "squeeze": np.squeeze, "swapaxes": np.swapaxes, "argmax": np.argmax,
                "argmin": np.argmin, "argsort": np.argsort, "repeat": np.repeat,
                "max": np.max, "min": np.min, "var": np.var, "std": np.std, "reshape": np.reshape,
                "ravel": np.ravel, "flatten": np.ravel, "cumsum": np.cumsum, "clip": np.clip, "round": np.round}

    def array_method(self, node: ast.Call):
        """`x.sum(axis=0)`, `H[i].copy()`, `x.dot(y)` on a local array or an expression: the np
        function on it."""
        func = node.func
        if not isinstance(func, ast.Attribute) or _is_free_chain(func.value, self.parsed.local_names):
            return None
        if func.attr == "astype":
            return self.astype(node)
        if func.attr not in self._METHODS:
            raise self.error(f"the method .{func.attr}() is not supported", node)
        call = ast.copy_location(ast.Call(func, [func.value] + node.args, node.keywords), node)
        if func.attr == "reshape" and len(node.args) > 1:        # x.reshape(m, n): the shape as a tuple
            call.args[1:] = [ast.copy_location(ast.Tuple(node.args, ast.Load()), node)]
        if func.attr == "flatten":                  # a copy, where ravel may give a view
            flat = self.primitive_call("ravel", "np", call)
            return self.prim("copy", (ir.Name(self._store(flat)),), "np", node)
        if func.attr == "transpose" and len(node.args) > 1:     # x.transpose(1, 0): the axes as a tuple
            call.args[1:] = [ast.copy_location(ast.Tuple(node.args, ast.Load()), node)]
        return self.function_call(self._METHODS[func.attr], call)

    def primitive_call(self, op, family, node):
        rule = RULES[op]
        if op in ("sum", "amax", "amin"):
            return self.reduction(op, node)
        if op in ALLOCATORS and (node.keywords or len(node.args) > DTYPE_POSITION[op]
                                 or op == "eye" and len(node.args) > 1):
            return self.allocation(op, node)
        args = self.with_defaults(rule, node)
        if op == "log" and len(args) == 2:          # math.log(x, base) = log(x) / log(base)
            logs = [self.stored("log", (self.atom(a),), family) for a in args]
            return self.prim("truediv", tuple(logs), "op", node)
        if op in ("maximum", "minimum") and family == "builtin" and len(args) > 2:
            acc = self.atom(args[0])
            for arg in args[1:-1]:
                acc = self.stored(op, (acc, self.atom(arg)), family)
            return self.prim(op, (acc, self.atom(args[-1])), family, node)
        if not rule.differentiable:                 # round(x, 2), np.round(x, 2): extra args are fine
            return self.prim(op, tuple(self.shape_atom(a) for a in args), family, node)
        if len(args) != len(rule.params):
            raise self.error(f"{ast.unparse(node.func)} takes {len(rule.params)} argument(s) here, got {len(args)}", node)
        return self.prim(op, tuple(self.shape_atom(a) if p == "shape" else self.atom(a)
                                   for a, p in zip(args, rule.params)), family, node)

    def with_defaults(self, rule, node) -> list:
        """The call's arguments in the rule's order: its keywords (those the rule declares)
        put in place, and the defaults the rule declares for the ones not given."""
        args = list(node.args)
        given = {}
        for keyword in node.keywords:
            if keyword.arg not in rule.defaults or rule.params.index(keyword.arg) < len(args):
                raise self.keyword_error(node, keyword)
            given[keyword.arg] = keyword.value
        for param in rule.params[len(args):]:
            if param in given:
                args.append(given.pop(param))
            elif param in rule.defaults:
                args.append(ast.copy_location(ast.Constant(rule.defaults[param]), node))
            else:
                break
        if given:
            raise self.keyword_error(node, next(k for k in node.keywords if k.arg in given))
        return args

    def keyword_error(self, node, keyword=None):
        keyword = keyword or node.keywords[0]
        return self.error(f"keyword '{keyword.arg}=' of {ast.unparse(node.func)} is not supported", keyword.value)

    def _store(self, value) -> str:
        name = self.namer.temp()
        self.emit(ir.Assign(name, value, self.line))
        return name

    def stored(self, op, args, family) -> ir.Name:
        """A primitive's result in a new temporary."""
        return ir.Name(self._store(ir.Prim(op, tuple(args), family)))

    def arguments(self, node, signature):
        """{parameter: node} of the call bound to `signature` (names; `name=value` has a
        default), keywords not in it refused by name."""
        names = [p.split("=")[0] for p in signature]
        if len(node.args) > len(names):
            raise self.error(f"{ast.unparse(node.func)} takes ({', '.join(signature)}) here", node)
        bound = dict(zip(names, node.args))
        for keyword in node.keywords:
            if keyword.arg not in names or keyword.arg in bound:
                raise self.keyword_error(node, keyword)
            bound[keyword.arg] = keyword.value
        for parameter in signature:
            name, _, default = parameter.partition("=")
            if name not in bound:
                if not default:
                    raise self.error(f"{ast.unparse(node.func)} takes ({', '.join(signature)}) here", node)
                bound[name] = ast.copy_location(ast.parse(default, mode="eval").body, node)
        return bound

    def require(self, test: str, message: str):
        """A check that runs before the lowering's arithmetic: the shapes it holds for, known
        when the code runs, or a refusal naming the line."""
        self.namespace["check_supported"] = runtime.check_supported
        call = f"check_supported({test}, {message!r}, {self.line}, {self.parsed.filename!r})"
        self.emit(ir.Verbatim(ast.parse(call).body[0], self.line))

    def shape_atom(self, node) -> ir.Atom:
        """An argument that may be a shape tuple, like (n, m) in np.zeros((n, m)): never differentiated."""
        return ir.Name(self._store(self.passive(node))) if _is_shape(node) else self.atom(node)

    def opaque_call(self, func, node):
        if node.keywords:       # kept as written: refused where a differentiated value flows through it
            return self.passive(node)
        args = tuple(self.shape_atom(a) for a in node.args)
        root = node.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id not in self.parsed.local_names:
            # called as the user spells it (`np.einsum`), so numba's messages name it so too
            self.namespace[root.id] = self.free_value(root.id, root)
            return ir.Opaque(ast.unparse(node.func), args, node)
        name = self.namer.fresh(getattr(func, "__name__", "call"))
        self.namespace[name] = func
        return ir.Opaque(name, args, node)

    # -- statements --------------------------------------------------------------------
    def statements(self, body) -> list:
        with self.block() as out:
            for stmt in body:
                self.line = stmt.lineno
                self.statement(stmt)
        return out

    def statement(self, node):
        for cls, what in _UNSUPPORTED_STATEMENTS.items():
            if isinstance(node, cls):
                raise self.error(f"{what} is not supported in differentiated code", node)
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:
            raise self.error(f"{type(node).__name__} statements are not supported", node)
        method(node)

    def stmt_Assign(self, node: ast.Assign):
        if len(node.targets) > 1:                   # a = b = expr
            first = self.atom(node.value)
            for target in node.targets:
                self.bind_target(target, first, node)
            return
        target = node.targets[0]
        if isinstance(target, ast.Name) and isinstance(node.value, ast.Call) \
                and self.free_function(node.value.func) in SPLITS:      # the pieces, for parts[k] later
            self.piece_lists[target.id] = [ir.Name(self._store(piece)) for piece in self.pieces(node.value)]
        elif isinstance(target, ast.Name):
            self.piece_lists.pop(target.id, None)
            self.assign(node.value, target.id)
            last = self.out[-1]
            if isinstance(last, ir.Assign) and isinstance(last.value, ir.Call) and _returns_several(last.value.callee):
                raise self.several_values(last.value.callee, node)
            if self.is_argsort(node.value):
                self.orders.add(target.id)
            else:
                self.orders.discard(target.id)
        elif isinstance(target, ast.Tuple):
            self.unpack(target, node.value)
        else:
            self.bind_target(target, None, node)

    def stmt_AnnAssign(self, node: ast.AnnAssign):
        if node.value is None:
            return
        self.stmt_Assign(ast.copy_location(ast.Assign([node.target], node.value), node))

    def stmt_AugAssign(self, node: ast.AugAssign):
        target = node.target
        if isinstance(target, ast.Subscript) and isinstance(node.op, (ast.Add, ast.Sub)):
            value = self.atom(node.value)          # y[i] += v: an accumulation, linear in y
            if isinstance(node.op, ast.Sub):
                value = self.stored("neg", (value,), "op")
            self.emit(ir.SetItem(*self.element(target), value, self.line, accumulate=True))
            return
        if isinstance(target, ast.Subscript):     # y[i] *= v: y[i] = y[i] * v
            load = ast.copy_location(ast.Subscript(target.value, target.slice, ast.Load()), target)
            value = self.atom(ast.copy_location(ast.BinOp(load, node.op, node.value), node))
            self.emit(ir.SetItem(*self.element(target), value, self.line))
            return
        if not isinstance(target, ast.Name):
            raise self.error(f"augmented assignment to {ast.unparse(target)} is not supported", target)
        load = ast.copy_location(ast.Name(target.id, ast.Load()), target)
        self.assign(ast.copy_location(ast.BinOp(load, node.op, node.value), node), target.id)
        if not self.generated():   # generated code adds in place only to numbers
            self.updated.append((target.id, node))     # in place, if it is an array (analyze.check_in_place)

    def several_values(self, callee, node):
        """The refusal of a call's values taken whole: a helper's tuple, or its structure."""
        name, function = callee.py_func.__name__, callee.function
        if function.output is not None and function.output.kind in ("dict", "dataclass"):
            return self.error(f"{name} returns a {function.output.kind}: s2sdiff reads a {function.output.kind} a "
                              "helper returns only as a result of the function it differentiates; return a tuple "
                              "from the helper", node)
        return self.error(f"{name} returns {function.n_outputs} values: unpack them (a, b = {name}(...))", node)

    def bind_target(self, target, atom, node):
        if isinstance(target, ast.Name):
            self.emit(ir.Assign(target.id, atom, self.line))
        elif isinstance(target, ast.Subscript):
            value = atom if atom is not None else self.atom(node.value)
            self.emit(ir.SetItem(*self.element(target), value, self.line))
        else:
            raise self.error(f"assigning to {ast.unparse(target)} is not supported", target)

    def element(self, target: ast.Subscript) -> tuple:
        """(array, index) of an assignment target `y[i]`, `y[i, j]`, `y[a:b]`."""
        if not (isinstance(target.value, ast.Name) and target.value.id in self.parsed.local_names):
            raise self.error("only elements of a local array can be assigned (y[i] = ...)", target)
        index = target.slice
        elements = index.elts if isinstance(index, ast.Tuple) else [index]
        if elements and _is_ellipsis(elements[0]) and len(elements) == 1:     # y[...] = v: every element
            elements = [ast.copy_location(ast.Slice(), index)]
        elif any(_is_ellipsis(e) for e in elements):
            raise self.error("assigning through `...` is supported only as y[...] = ...", target)
        self.written[target.value.id] = target
        return target.value.id, tuple(self.index(e) for e in elements)

    def unpack(self, target: ast.Tuple, value):
        names = []
        for elt in target.elts:
            if not isinstance(elt, ast.Name):
                raise self.error("only flat tuples of names can be unpacked (a, b = ...)", elt)
            names.append(elt.id)
        if isinstance(value, ast.Tuple):
            if len(value.elts) != len(names):
                raise self.error(f"cannot unpack {len(value.elts)} values into {len(names)} names", value)
            atoms = []
            for elt in value.elts:          # evaluate every right-hand value before any store
                atom = self.atom(elt)
                if isinstance(atom, ir.Name) and atom.id in names:
                    atom = ir.Name(self._store(atom))
                atoms.append(atom)
            for name, atom in zip(names, atoms):
                self.emit(ir.Assign(name, atom, self.line))
            return
        if isinstance(value, ast.Attribute) and value.attr == "shape" \
                and not _is_free_chain(value.value, self.parsed.local_names):      # n, d = x.shape
            array = self.atom(value.value)
            for axis, name in enumerate(names):
                self.emit(ir.Assign(name, self.prim("dim", (array, ir.Const(axis)), "op", value), self.line))
            return
        if isinstance(value, ast.Call) and self.free_function(value.func) in SPLITS:
            for name, piece in zip(names, self.pieces(value, len(names))):
                self.emit(ir.Assign(name, piece, self.line))
            return
        components = self.tuple_components(value)
        if components is not None:              # w, V = np.linalg.eigh(A): a primitive per component
            values = components[1]
            if len(values) != len(names):
                raise self.error(f"cannot unpack {len(values)} values into {len(names)} names", value)
            if set(names) & set().union(*map(ir.value_reads, values)):      # A, R = np.linalg.qr(A)
                values = [ir.Name(self._store(v)) for v in values]
            for name, component in zip(names, values):
                self.emit(ir.Assign(name, component, self.line))
            return
        call = self.value(value) if isinstance(value, ast.Call) else None
        if not isinstance(call, ir.Call):
            raise self.error("tuple unpacking needs a tuple, an array's shape or a call to a function returning "
                             "one", value)
        if _returns_keyed(call.callee):
            raise self.several_values(call.callee, value)       # Python unpacks a dict's keys, no dataclass
        self.emit(ir.Unpack(tuple(names), call, self.line))

    def stmt_If(self, node: ast.If):
        test = self.condition(node.test)
        self.emit(ir.If(test, self.statements(node.body), self.statements(node.orelse), node.lineno))

    def stmt_For(self, node: ast.For):
        if node.orelse:
            raise self.error("for ... else is not supported", node)
        if not isinstance(node.target, ast.Name):
            raise self.error("the loop variable must be a single name", node.target)
        it = node.iter
        if not (isinstance(it, ast.Call) and _is_free_chain(it.func, self.parsed.local_names)
                and self.resolve(it.func) is range and not it.keywords and 1 <= len(it.args) <= 3):
            raise self.error("only `for ... in range(...)` loops are supported", it)
        bounds = [self.atom(a) for a in it.args]
        start, stop, step = {1: lambda b: (ir.Const(0), b[0], ir.Const(1)),
                             2: lambda b: (b[0], b[1], ir.Const(1)),
                             3: lambda b: tuple(b)}[len(bounds)](bounds)
        self.emit(ir.For(node.target.id, start, stop, step, self.statements(node.body), node.lineno))

    def stmt_While(self, node: ast.While):
        if node.orelse:
            raise self.error("while ... else is not supported", node)
        test = self.condition(node.test)
        self.emit(ir.While(test, self.statements(node.body), node.lineno))

    def stmt_Break(self, node):
        self.emit(ir.Break(node.lineno))

    def stmt_Continue(self, node):
        self.emit(ir.Continue(node.lineno))

    def stmt_Pass(self, node):
        pass

    def stmt_Return(self, node: ast.Return):
        value = node.value
        if value is None:
            raise self.error("return without a value: s2sdiff differentiates functions that return numbers", node)
        if isinstance(value, ast.Tuple):         # nested tuples count flat: (value, (g1, g2)) has 3 outputs
            ret = ir.Return(tuple(self.atom(e) for e in _flattened(value)), True, node.lineno)
        else:
            result = self.value(value)
            if isinstance(result, ir.Call) and result.callee.function.tuple_result:
                names = tuple(self.namer.temp() for _ in range(result.callee.function.n_outputs))
                self.emit(ir.Unpack(names, result, self.line))
                ret = ir.Return(tuple(ir.Name(n) for n in names), True, node.lineno)
            else:
                if not isinstance(result, (ir.Name, ir.Const)):
                    result = ir.Name(self._store(result))
                ret = ir.Return((result,), False, node.lineno)
        if self.returns and (len(ret.values), ret.tuple_result) != (len(self.returns[0].values), self.returns[0].tuple_result):
            raise self.error("every return must give the same number of values", node)
        self.returns.append(ret)
        self.emit(ret)

    def stmt_Expr(self, node: ast.Expr):
        if isinstance(node.value, ast.Constant):    # docstring or a stray literal
            return
        if (self.generated() and isinstance(node.value, ast.Call)
                and self.free_function(node.value.func) is runtime.add_into):
            view, value = node.value.args               # generated code's `y[i, :] += v` (emit.py)
            target = ast.Subscript(view.value, view.slice, ast.Store())
            return self.stmt_AugAssign(ast.copy_location(ast.AugAssign(target, ast.Add(), value), node))
        if isinstance(node.value, ast.Call) and self.free_function(node.value.func) is np.fill_diagonal:
            return self.fill_diagonal(node.value)
        if isinstance(node.value, ast.Call):
            changed = call_changes(node.value, self.parsed.lookup, self.parsed.local_names)
            if changed and self.generated():        # a Jacobian's code stores its rows or columns in place
                raise self.error("differentiating a Jacobian, a Hessian or a forward-mode gradient again is not "
                                 "supported yet: differentiate a reverse-mode gradient (sd.grad(f), as sd.hessian "
                                 "does)", node)
            if changed and self.kernel_call(node.value):
                return
            if changed:
                raise self.error(f"{ast.unparse(node.value.func)}() may change '{min(changed)}' in place, and "
                                 "s2sdiff follows only Python functions it can read that change their arguments; "
                                 "have the function return the new array and assign it (y = g(y, ...))", node)
        self.verbatim(node)

    def kernel_call(self, node: ast.Call) -> bool:
        """A call statement of a user function that changes arrays passed to it and returns
        nothing (`step(C, A)`), lowered as the function it is for a derivative: the arrays
        take its outputs, their final values (`C = step(C, A)`, desugar.in_place).  False
        where the callee is no Python function s2sdiff reads."""
        func = self.free_function(node.func)
        if func is None or rule_of(func) is not None:
            return False
        try:
            py_func = python_function(func)
        except S2SDiffError:
            return False
        name = py_func.__name__
        callee = Callee(func, node, self.parsed.filename)
        function = callee.function
        if not function.returns_changed:
            raise self.error(f"{name}() changes '{function.changed[0]}' in place and returns a value; s2sdiff "
                             f"follows a call that changes its arguments only where {name} returns nothing: "
                             "return the new array too and assign both, or split the function", node)
        args = self.bind(py_func, node)
        targets = []
        for param in function.changed:
            arg = args[function.params.index(param)]
            if not (isinstance(arg, ast.Name) and arg.id in self.parsed.local_names):
                raise self.error(f"{name}() changes its parameter '{param}' in place: pass it an array of this "
                                 f"function by name (not {ast.unparse(arg)}), which then holds {name}'s result",
                                 arg if hasattr(arg, "lineno") else node)
            shared = [a for p, a in zip(function.params, args) if p != param and base_name(a) == arg.id]
            if shared:
                raise self.error(f"{name}() changes '{arg.id}' in place, and gets it (or a view of it) twice: "
                                 f"pass a copy for the other ({arg.id}.copy())", shared[0])
            targets.append(arg.id)
        value = ir.Call(callee, tuple(self.atom(a) for a in args))
        if len(targets) == 1:
            self.emit(ir.Assign(targets[0], value, self.line))
        else:
            results = [self.namer.temp() for _ in targets]
            self.emit(ir.Unpack(tuple(results), value, self.line))
            for target, result in zip(targets, results):
                self.emit(ir.Assign(target, ir.Name(result), self.line))
        self.updated += [(target, node) for target in targets]
        return True

    def fill_diagonal(self, node):
        """np.fill_diagonal(a, v) of a matrix and a number: the element writes a[k, k] = v."""
        args = self.arguments(node, ("a", "val", "wrap=False"))
        if not (isinstance(args["wrap"], ast.Constant) and args["wrap"].value is False):
            raise self.error("np.fill_diagonal with wrap=True is not supported", node)
        if not isinstance(args["a"], ast.Name):
            raise self.error("np.fill_diagonal writes into an array named here", node)
        a, value = self.name(args["a"]), self.atom(args["val"])
        self.namespace["shape_of"] = runtime.shape_of
        number = f" and len(shape_of({value.id})) == 0" if isinstance(value, ir.Name) else ""
        self.require(f"{a.id}.ndim == 2{number}", "np.fill_diagonal is supported for a matrix and a number here")
        count = ir.Name(self._store(ir.Passive(ast.parse(f"min({a.id}.shape[0], {a.id}.shape[1])", mode="eval").body)))
        with self.block() as body:
            k = self.namer.temp()
            self.emit(ir.SetItem(a.id, (ir.Name(k), ir.Name(k)), value, self.line))
        self.emit(ir.For(k, ir.Const(0), count, ir.Const(1), body, self.line))
        self.written.setdefault(a.id, node)

    def stmt_Assert(self, node):
        self.verbatim(node)

    def stmt_Raise(self, node):
        self.verbatim(node)

    def verbatim(self, node):
        """A statement with no derivative (print, assert, raise): emitted as written."""
        self.condition(node)
        self.emit(ir.Verbatim(node, node.lineno))


def _returned(callee):
    """The core form of a user function called, where s2sdiff reads it (else None: the call
    is refused where its derivative is needed, or compiled as written)."""
    if isinstance(callee, ir.Derived):
        return None
    try:
        return callee.function
    except S2SDiffError:
        return None


def _returns_several(callee) -> bool:
    function = _returned(callee)
    return function is not None and function.tuple_result


def _returns_keyed(callee) -> bool:
    function = _returned(callee)
    return function is not None and function.output is not None and function.output.kind in ("dict", "dataclass")


def _write_into_entry_value(body, entry: set):
    """The first element write into a parameter that may still hold the caller's array
    (`entry`: those parameters; one rebound on every path before the write is free)."""
    for s in body:
        if isinstance(s, ir.SetItem) and s.array in entry:
            return s
        if isinstance(s, ir.If):
            write = _write_into_entry_value(s.body, set(entry)) or _write_into_entry_value(s.orelse, set(entry))
        elif isinstance(s, (ir.For, ir.While)):
            write = _write_into_entry_value(s.body, set(entry))
        else:
            write = None
        if write is not None:
            return write
        entry -= set(ir.targets(s))
    return None


def _flattened(node: ast.Tuple) -> list:
    return [leaf for e in node.elts for leaf in (_flattened(e) if isinstance(e, ast.Tuple) else [e])]


def _spread_literal(node: ast.Call) -> bool:
    """Whether a call of sum/max/min takes the items of a tuple or list written out in place."""
    return (1 <= len(node.args) <= 2 and not node.keywords and isinstance(node.args[0], (ast.Tuple, ast.List))
            and node.args[0].elts and not any(isinstance(e, ast.Starred) for e in node.args[0].elts))


def _is_free_chain(node, local_names) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id not in local_names


def _is_constant_attribute(node) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Name, ast.Attribute))


def _always_returns(body) -> bool:
    for stmt in body:
        if isinstance(stmt, (ast.Return, ast.Raise)):
            return True
        if isinstance(stmt, ast.If) and _always_returns(stmt.body) and _always_returns(stmt.orelse):
            return True
        if (isinstance(stmt, ast.While) and isinstance(stmt.test, ast.Constant) and stmt.test.value
                and not any(isinstance(n, ast.Break) for n in loop_level(stmt.body))):
            return True
    return False



# ---- rule templates ------------------------------------------------------------------

class _Zero:
    """The symbolic zero tangent/adjoint of an inactive value: folded away, never emitted."""


ZERO = _Zero()


class _TemplateLowering(_Lowering):
    """Lowers a rule's template; calls name rules directly and keep the caller's family."""

    def __init__(self, namer: Namer, family: str, line: int):
        super().__init__(namer)
        self.family = family
        self.line = line

    def error(self, message, node):
        return S2SDiffError(f"internal error in a derivative rule: {message}: {ast.unparse(node)}")

    def name(self, node):
        return ir.Name(node.id)

    def call(self, node):
        if isinstance(node.func, ast.Attribute):        # np.power(...): that family, whatever the caller's
            op, family = primitive_of(getattr(np, node.func.attr))
        else:
            op, family = node.func.id, self.family
        return self.prim(op, tuple(self.atom(a) for a in node.args), family, node)

    def prim(self, op, args, family, node):
        folded = _fold(op, args)
        return folded if folded is not None else ir.Prim(op, tuple(args), family if op not in ("select",) else "op")


def _small_power(node) -> bool:
    """An exponent 2, 3 or 4 written as an integer: a power taken as products (_Lowering.power)."""
    return isinstance(node, ast.Constant) and type(node.value) is int and 2 <= node.value <= 4


def _fold(op, args):
    """Constant folding and the identities that keep rule code as short as a person's."""
    consts = [a.value if isinstance(a, ir.Const) and isinstance(a.value, (int, float)) and not isinstance(a.value, bool)
              else None for a in args]
    if all(c is not None for c in consts):
        a = consts
        try:
            if op == "add": return ir.Const(a[0] + a[1])
            if op == "sub": return ir.Const(a[0] - a[1])
            if op == "mul": return ir.Const(a[0] * a[1])
            if op == "neg": return ir.Const(-a[0])
        except (TypeError, OverflowError):
            return None
    if op == "mul":
        if consts[0] == 1: return args[1]
        if consts[1] == 1: return args[0]
    if op in ("truediv", "pow") and consts[1] == 1:
        return args[0]
    if op == "add" and consts[0] == 0: return args[1]
    if op in ("add", "sub") and consts[1] == 0: return args[0]
    return None


def _drop_zeros(node):
    """Fold symbolic zeros through a linear template; ZERO if the whole term vanishes."""
    def is_zero(n):
        return isinstance(n, ast.Constant) and n.value is ZERO
    zero = ast.Constant(ZERO)
    if isinstance(node, ast.BinOp):
        left, right = _drop_zeros(node.left), _drop_zeros(node.right)
        if isinstance(node.op, (ast.Mult, ast.MatMult)) and (is_zero(left) or is_zero(right)):
            return zero
        if isinstance(node.op, ast.Div) and is_zero(left):
            return zero
        if isinstance(node.op, ast.Add):
            if is_zero(left): return right
            if is_zero(right): return left
        if isinstance(node.op, ast.Sub):
            if is_zero(right): return left
            if is_zero(left): return ast.UnaryOp(ast.USub(), right)
        return ast.BinOp(left, node.op, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand = _drop_zeros(node.operand)
        return zero if is_zero(operand) else ast.UnaryOp(node.op, operand)
    if isinstance(node, ast.Call):
        args = [_drop_zeros(a) for a in node.args]
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        if name == "densify":                       # densify(dx, x): dx, or zeros shaped like x
            return ast.Call(ast.Name("zero_like", ast.Load()), [args[1]], []) if is_zero(args[0]) else args[0]
        if name in ("where", "choose"):             # a select, like `a if c else b`
            decided = _constant_test(args[0])
            if decided is not None:
                return args[1] if decided else args[2]
            if is_zero(args[1]) and is_zero(args[2]):
                return zero
            args = [ast.Constant(0.0) if is_zero(a) else a for a in args]
        elif name in RULES and any(is_zero(args[i]) for i in RULES[name].linear_in):
            return zero
        return ast.Call(node.func, args, [])
    if isinstance(node, ast.IfExp):
        decided = _constant_test(node.test)
        if decided is not None:                  # `0.0 if y == 0 else ...` with y = 2
            return _drop_zeros(node.body if decided else node.orelse)
        body, orelse = _drop_zeros(node.body), _drop_zeros(node.orelse)
        if is_zero(body) and is_zero(orelse):
            return zero
        as_float = lambda n: ast.Constant(0.0) if is_zero(n) else n
        return ast.IfExp(node.test, as_float(body), as_float(orelse))
    return node



def _constant_test(test):
    """The value of a comparison between two numeric constants, else None."""
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Constant)
            and isinstance(test.comparators[0], ast.Constant)):
        a, b = test.left.value, test.comparators[0].value
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            op = type(test.ops[0])
            table = {ast.Eq: a == b, ast.NotEq: a != b, ast.Lt: a < b, ast.LtE: a <= b,
                     ast.Gt: a > b, ast.GtE: a >= b}
            return table.get(op)
    return None


class _Substitute(ast.NodeTransformer):
    def __init__(self, bindings):
        self.bindings = bindings

    def visit_Name(self, node):
        value = self.bindings.get(node.id)
        if value is None:
            return node
        if isinstance(value, ir.Name):
            return ast.Name(value.id, ast.Load())
        return ast.Constant(value if value is ZERO else value.value)


def lower_template(template: ast.expr, bindings: dict, target: str, namer: Namer,
                   family: str, line: int):
    """Statements computing a rule's template into `target`, or None if it is zero.

    `bindings` maps template names (x, y, z, dx, bz, …) to atoms or ZERO."""
    import copy
    expr = _Substitute(bindings).visit(copy.deepcopy(template))
    expr = _drop_zeros(expr)
    if isinstance(expr, ast.Constant) and expr.value is ZERO:
        return None
    lowering = _TemplateLowering(namer, family, line)
    lowering.assign(ast.fix_missing_locations(expr), target)
    return lowering.out
