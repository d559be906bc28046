"""Recursion whose depth is fixed when the derivative is built.

A call of a recursive function with constant integer arguments (`power_tower(x, 4)`)
becomes a call of a copy specialized on them (`power_tower_n4`): those parameters become
the constants, the names assigned once from constants fold with them, and an `if` or
conditional expression on them keeps only the branch taken, so the base case ends the
copy.  The copy's own recursive calls now pass constants too and become copies in turn,
when it is desugared like any callee: the recursion unrolls into a chain of ordinary
functions.  Recursion whose depth depends on values known only at run time is left as
written, and refused where it is lowered (normalize, pipeline)."""
from __future__ import annotations

import ast
import copy
import inspect
import operator
import types
from dataclasses import dataclass

from ..custom import rule_of
from ..errors import S2SDiffError, unsupported
from ..parse import parse_function, python_function
from .scope import Scope, assign, load, located

MAX_DEPTH = 32          # nested specialized calls: numba types each inside the one above, in Python frames
MAX_COPIES = 256        # copies one outside call may unroll into
_LIBRARIES = {"numpy", "scipy", "numba", "math", "s2sdiff"}     # never call the user's functions back


@dataclass
class _Unrolling:
    chain: tuple        # the specializations from the outside call down to this copy, as keys
    made: list          # every copy the outside call's unrolling made (shared along it)


def rewrite(body: list, scope: Scope) -> list:
    calls = _Specialize(scope)
    return [calls.visit(stmt) for stmt in body]


_copies: dict = {}      # (function, code, constants) -> its specialized copy, shared by every caller


class _Specialize(ast.NodeTransformer):
    def __init__(self, scope: Scope):
        self.scope = scope
        self.unrolling = getattr(scope.parsed.py_func, "s2sdiff_unrolling", None)

    def visit_Call(self, node):
        self.generic_visit(node)
        func = _user_function(self.scope.resolve(node.func))
        if func is None or any(isinstance(a, ast.Starred) for a in node.args) \
                or any(k.arg is None for k in node.keywords):
            return node
        try:
            bound = inspect.signature(func).bind(*node.args, **{k.arg: k.value for k in node.keywords})
        except TypeError:
            return node                 # normalize names the bad call
        arguments = dict(bound.arguments)
        bound.apply_defaults()
        fixed = {}
        for name, value in bound.arguments.items():
            value = _folded(value, {}) if isinstance(value, ast.AST) else value
            if type(value) is int:
                fixed[name] = value
        if not fixed or not _recursive(func):
            return node
        clone = self.specialized(func, fixed, node)
        node.func = located(load(self.scope.bind_free(clone.__name__, clone)), node.func)
        node.args, node.keywords, gap = [], [], False
        for name in inspect.signature(clone).parameters:     # what the call passed, the constants left out
            if name not in arguments:
                gap = True
            elif gap:
                node.keywords.append(located(ast.keyword(name, arguments[name]), node))
            else:
                node.args.append(arguments[name])
        return node

    def specialized(self, func, fixed: dict, node):
        key = (func, func.__code__, tuple(fixed.items()))
        chain = self.unrolling.chain if self.unrolling else ()
        constants = ", ".join(f"{p}={v}" for p, v in fixed.items())
        if key in chain:
            raise self.scope.error(
                f"{func.__name__} calls itself again with the same constant arguments ({constants}): s2sdiff "
                "unrolls recursion only where constant integer arguments reach a base case when the derivative "
                "is built; write a loop", node)
        if key in _copies:
            return _copies[key]
        made = self.unrolling.made if self.unrolling else []
        if len(chain) >= MAX_DEPTH:
            raise self.scope.error(f"the recursion of {func.__name__} is deeper than {MAX_DEPTH} calls when "
                                   "unrolled at its constant arguments: write a loop", node)
        if len(made) >= MAX_COPIES:
            raise self.scope.error(f"the recursion of {func.__name__} unrolls into more than {MAX_COPIES} "
                                   "specialized calls: write a loop", node)
        specialized = _specialized_copy(func, fixed)
        specialized.s2sdiff_unrolling = _Unrolling(chain + (key,), made)
        made.append(specialized)
        _copies[key] = specialized
        return specialized


def _specialized_copy(func, fixed: dict):
    """`func` without the parameters in `fixed`, which become constants its code folds."""
    parsed = parse_function(func)
    tree = parsed.tree
    kept = [p for p in parsed.params if p not in fixed]
    tree.args.args = [a for a in tree.args.posonlyargs + tree.args.args if a.arg in kept]
    tree.args.posonlyargs, tree.args.defaults = [], []
    tree.body = [assign(p, located(ast.Constant(v), tree), tree) for p, v in fixed.items()] + tree.body
    tree.body = _Fold(tree).block(tree.body, top=True)
    tree.name = func.__name__ + "".join(f"_{p}{v}" if v >= 0 else f"_{p}m{-v}" for p, v in fixed.items())
    ast.fix_missing_locations(tree)
    module = compile(ast.Module([copy.deepcopy(tree)], []), parsed.filename, "exec")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    # the module's globals as they stay; a closure's values (free names at module level) beside them
    namespace = {**func.__globals__, **parsed.closure} if parsed.closure else func.__globals__
    defaults = tuple(parsed.defaults[p] for p in kept if p in parsed.defaults) or None
    specialized = types.FunctionType(code, namespace, tree.name, defaults)
    specialized.__qualname__ = tree.name
    specialized.s2sdiff_tree = tree
    specialized.s2sdiff_filename = parsed.filename
    return specialized


def unrolled(obj) -> bool:
    """Whether `obj` is a copy this pass made, or code generated from one (its derivative)."""
    func = getattr(obj, "py_func", obj)
    return hasattr(getattr(func, "s2sdiff_origin", func), "s2sdiff_unrolling")


def unbounded(func, filename, node):
    """The refusal of a recursive call left as written: its depth is not known yet."""
    return unsupported(f"recursion is supported only to a depth fixed when the derivative is built: {func.__name__} "
                       "calls itself (directly or through other functions) with arguments not all constants here; "
                       f"call {func.__name__} with constant integers that reach its base case, or write a loop",
                       filename, node)


# ---- which functions recurse ------------------------------------------------------------
_callees: dict = {}     # function -> (its code, the user functions it calls)


def _user_function(obj):
    """The Python function behind a call normalize lowers as a user callee's, else None."""
    if obj is None or rule_of(obj) is not None:
        return None
    try:
        func = python_function(obj)
    except S2SDiffError:
        return None
    return None if (func.__module__ or "").split(".")[0] in _LIBRARIES else func


def _called(func) -> set:
    cached = _callees.get(func)
    if cached is not None and cached[0] is func.__code__:
        return cached[1]
    try:
        parsed = parse_function(func)
    except S2SDiffError:
        called = set()
    else:
        called = {f for node in ast.walk(parsed.tree) if isinstance(node, ast.Call)
                  and (f := _user_function(parsed.resolve(node.func))) is not None}
    _callees[func] = (func.__code__, called)
    return called


def _recursive(func) -> bool:
    """Whether `func` calls itself, directly or through other functions."""
    seen, todo = set(), [func]
    while todo:
        for callee in _called(todo.pop()):
            if callee is func:
                return True
            if callee not in seen:
                seen.add(callee)
                todo.append(callee)
    return False


# ---- folding the constants ----------------------------------------------------------------
_OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod, ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.USub: operator.neg, ast.UAdd: operator.pos,
    ast.Not: operator.not_, ast.Pow: lambda a, b: a ** b if 0 <= b < 64 else None,
}
_INT64 = 2 ** 63


def _folded(node, known: dict):
    """The integer (or bool) an expression of integer constants and `known` names has, else None."""
    if isinstance(node, ast.Constant):
        return node.value if type(node.value) in (int, bool) else None
    if isinstance(node, ast.Name):
        return known.get(node.id)
    if isinstance(node, ast.UnaryOp):
        values = [_folded(node.operand, known)]
    elif isinstance(node, ast.BinOp):
        values = [_folded(node.left, known), _folded(node.right, known)]
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        values = [_folded(node.left, known), _folded(node.comparators[0], known)]
    elif isinstance(node, ast.BoolOp):        # Python's value: the operand that decides
        values = [_folded(v, known) for v in node.values]
        if None in values:
            return None
        decides = (lambda v: not v) if isinstance(node.op, ast.And) else bool
        return next((v for v in values if decides(v)), values[-1])
    else:
        return None
    op = _OPERATORS.get(type(node.ops[0] if isinstance(node, ast.Compare) else node.op))
    if op is None or None in values:
        return None
    try:
        value = op(*values)
    except ZeroDivisionError:
        return None                 # raised as the code runs, as Python would
    return value if type(value) is bool or value is not None and -_INT64 <= value < _INT64 else None


class _Fold(ast.NodeTransformer):
    """Names assigned once from integer constants replaced by them, in the function's own
    statements (a nested function or comprehension keeps reading the assignment), and
    conditions on them decided."""

    def __init__(self, tree):
        self.known = {}
        self.stores = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) or isinstance(node, ast.arg):
                name = node.id if isinstance(node, ast.Name) else node.arg
                self.stores[name] = self.stores.get(name, 0) + 1

    def block(self, body: list, top: bool) -> list:
        out = []
        for stmt in body:
            if isinstance(stmt, ast.If):
                stmt.test = self.visit(stmt.test)
                if isinstance(stmt.test, ast.Constant):
                    out += self.block(stmt.body if stmt.test.value else stmt.orelse, top)
                else:
                    stmt.body, stmt.orelse = self.block(stmt.body, False), self.block(stmt.orelse, False)
                    out.append(stmt)
            elif isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
                out.append(stmt)
            else:
                stmt = self.visit(stmt)
                for field in ("body", "orelse", "finalbody"):
                    if isinstance(getattr(stmt, field, None), list):
                        setattr(stmt, field, self.block(getattr(stmt, field), False))
                if top and isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                        and isinstance(stmt.targets[0], ast.Name) and self.stores[stmt.targets[0].id] == 1 \
                        and isinstance(stmt.value, ast.Constant) and type(stmt.value.value) in (int, bool):
                    self.known[stmt.targets[0].id] = stmt.value.value
                out.append(stmt)
            if out and _ends(out[-1]):
                break               # what follows a return is never reached
        return out

    def generic_visit(self, node):
        if isinstance(node, ast.stmt):      # a compound statement's own parts; its blocks are block()'s
            for field, value in ast.iter_fields(node):
                if isinstance(value, ast.AST):
                    setattr(node, field, self.visit(value))
                elif isinstance(value, list) and field not in ("body", "orelse", "finalbody", "handlers"):
                    setattr(node, field, [self.visit(v) if isinstance(v, ast.AST) else v for v in value])
            return node
        super().generic_visit(node)
        value = _folded(node, {}) if isinstance(node, ast.expr) else None
        return node if value is None else ast.copy_location(ast.Constant(value), node)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.known:
            return ast.copy_location(ast.Constant(self.known[node.id]), node)
        return node

    def visit_IfExp(self, node):
        node.test = self.visit(node.test)
        if isinstance(node.test, ast.Constant):
            return self.visit(node.body if node.test.value else node.orelse)
        return super().generic_visit(node)

    def _keep(self, node):
        return node

    visit_Lambda = visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _keep


def _ends(stmt) -> bool:
    """Whether control never passes `stmt`."""
    if isinstance(stmt, (ast.Return, ast.Raise)):
        return True
    return isinstance(stmt, ast.If) and bool(stmt.body) and bool(stmt.orelse) \
        and _ends(stmt.body[-1]) and _ends(stmt.orelse[-1])
