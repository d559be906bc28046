"""User rules: `sd.custom_jvp`, `sd.custom_vjp`, `sd.register_jvp`, `sd.register_vjp`.

A function with a rule is differentiated through the rule, never through its body.  The
rule supplies the units the transforms ask a callee for (pipeline.derived_unit): each is
a small generated function with a generated unit's calling convention that calls the
user's rule functions, so forward.py and reverse.py need no change:

    custom_vjp   "vjp"/"vjp_grad": fwd, then bwd on the seeds
                 "jvp": fwd, then one bwd per element of the value (the rows of the
                        Jacobian), each row times the tangents
    custom_jvp   "jvp": the rule on the tangents (zeros for the inactive arguments)
                 "vjp"/"vjp_grad": the rule transposed — s2sdiff's reverse mode of the
                        rule in its tangent arguments, which the rule is linear in

The rule functions take and return tuples (JAX's shape of API); s2sdiff reads no tuple
values, so each is rewritten once into a flat twin (`bwd(res, g)` with res = (a, b)
becomes `bwd(res_0, res_1, g)`, `return y, (a, b)` becomes `return y, a, b`) that runs
the same in Python.  The units call the twins, so they are code s2sdiff reads again:
forward mode over a custom_vjp's reverse unit (sd.hessian) differentiates bwd, forward
mode over a custom_jvp's differentiates the rule.
"""
from __future__ import annotations

import ast
import copy
import inspect
import linecache
import sysconfig
import types
from functools import cached_property
from pathlib import Path

import numba
import numpy as np
from numba.core import types as nb
from numba.extending import overload, typeof_impl

from . import compile as compiler
from . import ir
from .errors import S2SDiffError, at_line, unsupported
from .names import Namer
from .parse import parse_function
from .runtime import HELPERS

# functions (third-party ones among them) -> the rule registered for them
_TABLE: dict = {}


def rule_of(obj):
    """The user rule that stands for calls of `obj`, or None."""
    if isinstance(obj, _Rule):
        return obj
    # the functions generated code calls for the rule's function (its primal) lead back to the rule
    rule = getattr(getattr(obj, "py_func", obj), "s2sdiff_rule", None)
    if rule is not None:
        return rule
    try:
        return _TABLE.get(obj)
    except TypeError:           # unhashable: no rule can be registered for it
        return None


class _Rule:
    what = ""

    def __init__(self, fun):
        if isinstance(fun, _Rule):
            raise S2SDiffError(f"{fun.__name__} already has a rule")
        if not callable(fun):
            raise S2SDiffError(f"{self.what} takes a function, got {fun!r}")
        self.fun = fun
        self.__name__ = getattr(fun, "__name__", type(fun).__name__)
        self.__doc__ = getattr(fun, "__doc__", None)
        self.params, defaults = _parameters(fun, self.__name__)
        signature = ", ".join(f"{p}={defaults[p]!r}" if p in defaults else p for p in self.params)
        arguments = ", ".join(self.params)
        # What s2sdiff reads for a transform of the rule's function itself: one call, which
        # normalize sends through the rule.
        source = f"def {self.__name__}({signature}):\n    return _rule({arguments})\n"
        self.py_func = compiler.function(source, {"_rule": self}, self.__name__, jit=False)[0]
        self.py_func.s2sdiff_rule = self
        self._calls_fun = compiler.function(source.replace("_rule(", "_fun("), {"_fun": fun}, self.__name__,
                                            jit=False)[0]

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **kwargs)

    def __repr__(self):
        return f"<s2sdiff.{self.what} {self.__name__}>"

    @cached_property
    def primal(self):
        """The function compiled for numba code (made when first asked for: the globals it
        reads are then all defined)."""
        dispatcher = compiler.primal(self._calls_fun)
        dispatcher.py_func.s2sdiff_rule = self
        return dispatcher

    @cached_property
    def function(self) -> ir.Function:
        """The function as callers' analyses see it (the ranks its code shows): its core
        form where s2sdiff reads it, else one opaque call with the outputs its returns show."""
        from .normalize import normalize
        if isinstance(self.fun, types.FunctionType):
            try:
                return normalize(self.fun)
            except S2SDiffError:
                pass
        m, many = _outputs(self.fun)
        call = ast.parse(f"{self.__name__}({', '.join(self.params)})", mode="eval").body
        names = [f"t{k + 1}" for k in range(m)]
        body = [ir.Assign(n, ir.Passive(call), 0) for n in names]
        body.append(ir.Return(tuple(map(ir.Name, names)), many, 0))
        return ir.Function(self.__name__, list(self.params), body, "<rule>", n_outputs=m, tuple_result=many,
                           origin=self.py_func)

    def unit(self, kind, active: tuple, jit: bool, kinds: frozenset):
        """The unit `kind` (pipeline.derived_unit) of the function, built from the rule."""
        from .pipeline import LOCK, Unit, _units
        from .transform.batched import NotBatched
        if kind == "bjvp":
            raise NotBatched("a user rule: one direction at a time")
        if kind != "primal" and not self.defined:
            raise S2SDiffError(f"{self.what} {self.__name__} has no rule yet: define it with "
                               f"{'.defjvp(jvp)' if self.what == 'custom_jvp' else '.defvjp(fwd, bwd)'}")
        key = ("rule", self, kind, active, jit, kinds)
        with LOCK:
            if key not in _units:
                if jit:
                    _check_compiled(self)
                w = _UnitWriter(self, kind, active, jit)
                if kind == "primal":
                    w.primal()
                else:
                    self.write(w, kind, kinds)
                function = ir.Function(w.name, w.params, [], w.filename, n_outputs=w.n_outputs,
                                       tuple_result=w.n_outputs != 1)
                source, py_func, compiled = w.finish()
                if kind == "jvp" and isinstance(self, CustomVJP):
                    py_func.s2sdiff_refusal = str(unsupported(
                        f"forward mode over the forward mode of custom_vjp {self.__name__} (its rows from "
                        f"{self.bwd.__name__}, one per element) is not supported: take second derivatives with "
                        f"sd.hessian (forward over reverse), or give {self.__name__} a custom_jvp rule",
                        self.bwd.__code__.co_filename, at_line(self.bwd.__code__.co_firstlineno)))
                _units[key] = Unit(function, source, py_func, compiled, w.dependencies)
            return _units[key]


class CustomJVP(_Rule):
    """`@sd.custom_jvp`: f, differentiated by the rule given to `f.defjvp`:
    `rule(primals, tangents) -> (f(*primals), tangent of the output)`."""
    what = "custom_jvp"
    rule = None

    @property
    def defined(self) -> bool:
        return self.rule is not None

    def defjvp(self, rule):
        if self.rule is not None:
            raise S2SDiffError(f"custom_jvp {self.__name__} has a rule already")
        self.rule = rule
        return rule

    def rule_functions(self) -> list:
        return [self.rule]

    @cached_property
    def flat_rule(self):
        parsed = _parsed(self.rule, self, "rule(primals, tangents)", 2)
        m, many = self.outputs
        structure = [m, m] if many else [1, 1]
        flat = _Flattened(parsed, {parsed.params[0]: len(self.params), parsed.params[1]: len(self.params)}, structure,
                          f"custom_jvp {self.__name__}: {self.rule.__name__} must return `value, tangent`"
                          + (f" with {m} values and {m} tangents, each written as a tuple" if many else ""))
        return flat.function()

    @cached_property
    def outputs(self) -> tuple:
        return self.function.n_outputs, self.function.tuple_result

    def write(self, w, kind, kinds):
        m, _ = self.outputs
        name = self.rule.__name__
        if kind == "jvp":
            tangents = w.tangent_params()
            rule = w.bind(name, self.flat_rule)
            values, outs = w.fresh_names(self.__name__, m), w.fresh_names("d" + self.__name__, m)
            given = [tangents.get(i) or f"zero_like({p})" for i, p in enumerate(self.params)]
            w.line(f"{', '.join(values + outs)} = {rule}({', '.join(self.params + given)})")
            for k, (v, d) in enumerate(zip(values, outs)):
                w.check(d, v, f"custom_jvp {self.__name__}: {name} gave a tangent for output {k + 1} that is not "
                              f"shaped like the output")
            w.returns(values + outs)
            return
        # reverse mode: the rule transposed, as s2sdiff's reverse mode of it in the tangents
        from .pipeline import derived_unit
        n = len(self.params)
        flat_params = list(inspect.signature(self.flat_rule).parameters)
        mapped = frozenset((flat_params[i + j * n], rank) for p, rank in kinds for i in range(n)
                           if self.params[i] == p for j in (0, 1))
        inner = derived_unit(kind, self.flat_rule, tuple(n + i for i in w.active), w.jit, kinds=mapped)
        seeds = w.seed_params(m)
        call = w.use(inner)
        adjoints = w.fresh_names("b", len(w.active))
        with_value = kind == "vjp"
        values = w.fresh_names(self.__name__, 2 * m) if with_value else []
        zeros = [f"zero_like({p})" for p in self.params]
        w.comment(f"custom_jvp {self.__name__}: {name} transposed (it is linear in the tangents)")
        w.line(f"{', '.join(values + adjoints)} = "
               f"{call}({', '.join(self.params + zeros + ['0.0'] * m + seeds)})")
        w.returns(values[:m] + adjoints)


class CustomVJP(_Rule):
    """`@sd.custom_vjp`: f, differentiated by the rules given to `f.defvjp(fwd, bwd)`:
    `fwd(*primals) -> (f(*primals), residuals)`, `bwd(residuals, cotangent) -> one
    cotangent per argument` (None for a zero one)."""
    what = "custom_vjp"
    fwd = bwd = None

    @property
    def defined(self) -> bool:
        return self.fwd is not None

    def defvjp(self, fwd, bwd):
        if self.fwd is not None:
            raise S2SDiffError(f"custom_vjp {self.__name__} has rules already")
        if not (callable(fwd) and callable(bwd)):
            raise S2SDiffError(f"custom_vjp {self.__name__}.defvjp(fwd, bwd) takes two functions")
        self.fwd, self.bwd = fwd, bwd

    def rule_functions(self) -> list:
        return [self.fwd, self.bwd]

    @cached_property
    def flat_rules(self) -> tuple:
        """(flat fwd, its twins returning only the value and only the residuals, flat bwd,
        the number of residuals or None for one passed as it is, the arguments bwd gives
        None for)."""
        m, many = self.function.n_outputs, self.function.tuple_result
        fwd = _parsed(self.fwd, self, "fwd", len(self.params))
        residuals = {len(r.value.elts[1].elts) if _pair(r) and isinstance(r.value.elts[1], ast.Tuple) else None
                     for r in _returns(fwd.tree)}
        if len(residuals) != 1:
            raise fwd.error(f"custom_vjp {self.__name__}: every return of {self.fwd.__name__} must give its residuals "
                            "the same way (a tuple of the same length, or one value)", _returns(fwd.tree)[0])
        k = residuals.pop()
        message = f"custom_vjp {self.__name__}: {self.fwd.__name__} must return `value, residuals`"
        structure = [m if many else 1, k or 1]
        flat_fwd = _Flattened(fwd, {}, structure, message).function()
        # The value apart from the residuals, for code s2sdiff reads again: fwd's value is
        # f's, so its derivative is the rule's (the mark), and no derivative is taken of
        # the value's code for the residuals'
        value_only = _Flattened(fwd, {}, structure, message, keep={0}, bare=not many).function()
        value_only.s2sdiff_rule = self
        residuals_only = _Flattened(fwd, {}, structure, message, keep={1}).function()
        bwd = _parsed(self.bwd, self, "bwd(residuals, cotangent)", 2)
        tuples = {bwd.params[1]: m} if many else {}
        if k is not None:
            tuples[bwd.params[0]] = k
        n = len(self.params)
        flat = _Flattened(bwd, tuples, [1] * n, f"custom_vjp {self.__name__}: {self.bwd.__name__} must return a tuple "
                                                f"of {n} cotangent(s), one per argument (None for a zero one)")
        return flat_fwd, value_only, residuals_only, flat.function(), k, flat.nones

    def write(self, w, kind, kinds):
        m = self.function.n_outputs
        fwd, value_only, residuals_only, bwd, k, nones = self.flat_rules
        values = w.fresh_names(self.__name__, m) if kind != "vjp_grad" else []
        residuals = w.fresh_names("res", 1 if k is None else k)
        bwd_name = w.bind(self.bwd.__name__, bwd)
        w.comment(f"custom_vjp {self.__name__}: {self.fwd.__name__}, then {self.bwd.__name__}")
        arguments = ", ".join(self.params)
        if kind == "jvp":
            w.line(f"{', '.join(values + residuals)} = {w.bind(self.fwd.__name__, fwd)}({arguments})")
        else:
            if values:
                w.line(f"{', '.join(values)} = {w.bind(self.fwd.__name__, value_only)}({arguments})")
            if residuals:
                w.line(f"{', '.join(residuals)}{',' if len(residuals) == 1 else ''} = "
                       f"{w.bind(self.fwd.__name__, residuals_only)}({arguments})")
        cotangents = w.fresh_names("c", len(self.params))

        def backward(seeds, indent=""):
            w.line(f"{indent}{', '.join(cotangents)}{',' if len(cotangents) == 1 else ''} = "
                   f"{bwd_name}({', '.join(residuals + seeds)})")
            for i in w.active:
                if i in nones:
                    w.line(f"{indent}{cotangents[i]} = zero_like({self.params[i]})")
                else:
                    w.check(cotangents[i], self.params[i],
                            f"custom_vjp {self.__name__}: {self.bwd.__name__} gave a cotangent for "
                            f"'{self.params[i]}' that is not shaped like it (a number for a number, an array "
                            "of its shape for an array)", indent)

        if kind in ("vjp", "vjp_grad"):
            backward(w.seed_params(m))
            w.returns((values if kind == "vjp" else []) + [cotangents[i] for i in w.active])
            return
        # forward mode: J·t row by row, one bwd per element of the value
        tangents = w.tangent_params()
        outs = w.fresh_names("d" + self.__name__, m)
        element = w.namer.fresh("k")
        for j, (value, out) in enumerate(zip(values, outs)):
            w.line(f"{out} = zero_like({value})")
        for j, (value, out) in enumerate(zip(values, outs)):
            w.line(f"for {element} in range(size_of({value})):")
            backward([f"seed_at({v}, {element})" if v == value else f"zero_like({v})" for v in values], "    ")
            terms = [f"vdot({cotangents[i]}, {tangents[i]})" for i in w.active if i not in nones]
            w.line(f"    {out} = with_element({out}, {element}, {' + '.join(terms) or '0.0'})")
        w.returns(values + outs)


def custom_jvp(fun):
    """Give `fun` a forward-mode rule: `@custom_jvp def f(x): ...`, then
    `@f.defjvp def f_jvp(primals, tangents): return f(*primals), tangent`."""
    return CustomJVP(fun)


def custom_vjp(fun):
    """Give `fun` a reverse-mode rule: `@custom_vjp def f(x): ...`, then
    `f.defvjp(f_fwd, f_bwd)`."""
    return CustomVJP(fun)


def register_jvp(func, rule):
    """Calls of `func` (a third-party function) in code s2sdiff differentiates use `rule`;
    returns the object to transform for `func` itself."""
    rule_object = CustomJVP(func)
    rule_object.defjvp(rule)
    _TABLE[func] = rule_object
    return rule_object


def register_vjp(func, fwd, bwd):
    """Calls of `func` in code s2sdiff differentiates use `fwd` and `bwd` (see custom_vjp)."""
    rule_object = CustomVJP(func)
    rule_object.defvjp(fwd, bwd)
    _TABLE[func] = rule_object
    return rule_object


@typeof_impl.register(_Rule)
def _typeof_rule(value, context):
    return numba.typeof(value.primal)


# ---- the units -----------------------------------------------------------------------

class _UnitWriter:
    """Writes one unit: the primal parameters, then tangents or seeds, as generated units have."""

    def __init__(self, rule: _Rule, kind, active, jit):
        self.rule, self.active, self.jit = rule, active, jit
        self.params = list(rule.params)
        self.namer = Namer(set(self.params) | set(HELPERS) | set(_HELPERS) | {"np"})
        names = [rule.params[i] for i in active]
        suffix = "" if len(active) == len(rule.params) else "_" + "_".join(names)
        self.name = self.namer.fresh(f"{rule.__name__}_{kind}{suffix if kind != 'primal' else ''}")
        self.lines, self.namespace, self.dependencies = [], {}, []
        self.n_outputs = 1
        function = next((f for f in rule.rule_functions() if isinstance(f, types.FunctionType)), None) \
            if kind != "primal" else None
        self.origin = function
        self.filename = function.__code__.co_filename if function else "<rule>"
        self.comment(f"{kind} of {rule.__name__} from its {rule.what} rule")

    def fresh_names(self, base, count) -> list:
        return [self.namer.fresh(base if count == 1 else f"{base}{k + 1}") for k in range(count)]

    def tangent_params(self) -> dict:
        tangents = {i: self.namer.fresh("d" + self.rule.params[i]) for i in self.active}
        self.params += list(tangents.values())
        return tangents

    def seed_params(self, m) -> list:
        seeds = self.fresh_names("b" + self.rule.__name__, m)
        self.params += seeds
        return seeds

    def bind(self, name, function) -> str:
        """A rule function called by the unit: compiled (numba) or as it is (jit=False)."""
        callee = compiler.primal(function, self.jit)
        if self.jit:        # s2sdiff reading the compiled copy back finds the user's lines (and rule)
            callee.py_func.s2sdiff_origin = function.s2sdiff_origin
            if hasattr(function, "s2sdiff_rule"):
                callee.py_func.s2sdiff_rule = function.s2sdiff_rule
        bound = self.namer.fresh(name)
        self.namespace[bound] = callee
        return bound

    def use(self, unit) -> str:
        self.dependencies.append(unit)
        bound = self.namer.fresh(unit.function.name)
        self.namespace[bound] = unit.compiled
        return bound

    def comment(self, text):
        self.lines.append(f"# {text}")

    def line(self, text):
        self.lines.append(text)

    def check(self, value, like, message, indent=""):
        self.line(f"{indent}rule_fits({value}, {like}, {message!r})")

    def returns(self, names):
        self.n_outputs = len(names)
        self.line(f"return {', '.join(names)}")

    def primal(self):
        self.namespace["_primal"] = compiler.primal(self.rule, self.jit)
        self.line(f"return _primal({', '.join(self.params)})")
        self.n_outputs = self.rule.function.n_outputs

    def finish(self) -> tuple:
        source = "\n".join([f"def {self.name}({', '.join(self.params)}):"] + ["    " + ln for ln in self.lines]) + "\n"
        namespace = dict(self.namespace, np=np, **HELPERS, **_HELPERS)
        py_func, compiled = compiler.function(source, namespace, self.name, self.jit, origin=self.origin)
        return source, py_func, compiled


# ---- flat twins of the rule functions --------------------------------------------------

def _parsed(function, rule, shape, arity):
    """The parsed rule function, with `arity` parameters (`shape` says which)."""
    if not isinstance(function, types.FunctionType):
        raise S2SDiffError(f"{rule.what} {rule.__name__}: the rule {function!r} must be a Python function "
                           "(s2sdiff reads its returns)")
    parsed = parse_function(function)
    if len(parsed.params) != arity:
        raise S2SDiffError(f"{rule.what} {rule.__name__}: {function.__name__} takes {len(parsed.params)} "
                           f"parameter(s); it must take {arity}: {shape}")
    return parsed


def _returns(tree) -> list:
    """The return statements of a function (not of functions nested in it)."""
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))
    return sorted(found, key=lambda r: r.lineno)


def _pair(ret) -> bool:
    return isinstance(ret.value, ast.Tuple) and len(ret.value.elts) == 2


class _Flattened:
    """A rule function rewritten so that its tuple parameters are flat parameters and its
    returns one flat tuple; in Python it computes what the original does."""

    def __init__(self, parsed, tuples: dict, structure: list, message: str, keep=None, bare=False):
        self.parsed, self.tuples, self.structure, self.message, self.bare = parsed, tuples, structure, message, bare
        self.keep = set(range(len(structure))) if keep is None else keep      # the parts returned
        self.nones = set()

    def function(self):
        parsed = self.parsed
        tree = copy.deepcopy(parsed.tree)
        namer = Namer({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | set(parsed.params))
        flat = {p: [namer.fresh(f"{p}_{i}") for i in range(k)] for p, k in self.tuples.items()}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in flat and not isinstance(node.ctx, ast.Load):
                raise parsed.error(f"{parsed.name} assigns its parameter '{node.id}'", node)
        tree = _Substituted(flat).visit(tree)
        returns = _returns(tree)
        if not returns:
            raise parsed.error(f"{parsed.name} has no return: {self.message}", tree)
        nones = []
        for ret in returns:
            value = ret.value
            parts = [self.part(p, size, ret, j) if j in self.keep else [] if self.fits(p, size) else None
                     for j, (p, size) in enumerate(zip(value.elts, self.structure))] \
                if isinstance(value, ast.Tuple) and len(value.elts) == len(self.structure) else [None]
            if any(p is None for p in parts):
                raise parsed.error(f"{self.message}; this return does not", ret)
            values = [e for p in parts for e in p]
            nones.append({i for i, e in enumerate(values) if isinstance(e, ast.Constant) and e.value is None})
            ret.value = values[0] if self.bare else ast.copy_location(ast.Tuple(values, ast.Load()), value)
        if any(n != nones[0] for n in nones):
            raise parsed.error(f"{parsed.name} gives None (a zero) for an argument in one return and a value in "
                               "another: give zero_like(x) (or 0.0) instead", returns[0])
        self.nones = nones[0]
        for ret in returns:
            self.unpacked_before(tree, ret)
        params = [q for p in parsed.params for q in flat.get(p, [p])]
        return _compiled_twin(parsed, tree, params)

    @staticmethod
    def fits(node, size) -> bool:
        return not isinstance(node, ast.Tuple) or len(node.elts) == size

    def part(self, node, size, ret, j):
        """The elements part j of a returned tuple stands for."""
        if isinstance(node, ast.Tuple):
            return list(node.elts) if self.fits(node, size) else None
        if size == 1:
            return [node]
        # a call giving a tuple (`return f(x), (x,)`): unpacked into names before the return
        names = [f"_{self.parsed.name}_{j}_{k}" for k in range(size)]
        ret.s2sdiff_unpack = getattr(ret, "s2sdiff_unpack", []) + [(names, node)]
        return [ast.Name(n, ast.Load()) for n in names]

    @staticmethod
    def unpacked_before(tree, ret):
        unpacks = getattr(ret, "s2sdiff_unpack", [])
        if not unpacks:
            return
        for parent in ast.walk(tree):
            for field in ("body", "orelse", "finalbody"):
                block = getattr(parent, field, None)
                if isinstance(block, list) and ret in block:
                    k = block.index(ret)
                    block[k:k] = [ast.copy_location(ast.Assign([ast.Tuple([ast.Name(n, ast.Store()) for n in names],
                                                                          ast.Store())], value), ret)
                                  for names, value in unpacks]
                    return


class _Substituted(ast.NodeTransformer):
    """Tuple parameters read as tuples of the flat ones; then `a, b = (p_0, p_1)` and
    `(p_0, p_1)[1]` taken apart, so s2sdiff sees names, not tuples."""

    def __init__(self, flat):
        self.flat = flat

    def visit_Name(self, node):
        if node.id in self.flat and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Tuple([ast.Name(n, ast.Load()) for n in self.flat[node.id]], ast.Load()), node)
        return node

    def visit_Assign(self, node):
        self.generic_visit(node)
        if len(node.targets) == 1:
            pairs = _matched(node.targets[0], node.value)
            if pairs is not None and len(pairs) > 1:
                targets, values = zip(*pairs)
                node.targets = [ast.Tuple(list(targets), ast.Store())]
                node.value = ast.Tuple(list(values), ast.Load())
            elif pairs is not None:
                node.targets, node.value = [pairs[0][0]], pairs[0][1]
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        elements = node.value.elts if isinstance(node.value, ast.Tuple) else []
        if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int) \
                and -len(elements) <= node.slice.value < len(elements):
            return elements[node.slice.value]
        return node


def _matched(target, value):
    """[(name target, value)] for a tuple target over a tuple value of the same shape."""
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, ast.Tuple):
        if len(target.elts) != len(value.elts) or any(isinstance(e, ast.Starred) for e in target.elts):
            return None
        pairs = []
        for t, v in zip(target.elts, value.elts):
            inner = _matched(t, v)
            if inner is None:
                return None
            pairs += inner
        return pairs
    if isinstance(target, ast.Name) and not isinstance(value, ast.Starred):
        return [(target, value)]
    return None


def _compiled_twin(parsed, tree, params):
    """The rewritten function as Python, each statement under a comment naming the user's
    line (parse.py maps s2sdiff's reading of it back there)."""
    lines = [f"def {parsed.name}({', '.join(params)}):"]
    for stmt in tree.body:
        text = linecache.getline(parsed.filename, stmt.lineno).strip()
        lines.append(f"    # line {stmt.lineno}: {text}")
        lines += ["    " + ln for ln in ast.unparse(stmt).splitlines()]
    namespace = dict(parsed.globals) | parsed.closure
    return compiler.function("\n".join(lines) + "\n", namespace, parsed.name, jit=False, origin=parsed.py_func)[0]


def _parameters(fun, name) -> tuple:
    """(parameter names, numeric defaults) of the function a rule is for."""
    if isinstance(fun, np.ufunc):
        return (["x"] if fun.nin == 1 else [f"x{i + 1}" for i in range(fun.nin)]), {}
    try:
        signature = inspect.signature(fun)
    except (TypeError, ValueError):
        raise S2SDiffError(f"cannot read the parameters of {name}: give a rule for a function with a signature") \
            from None
    params, defaults = [], {}
    for p in signature.parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            raise S2SDiffError(f"{name}: a function with a rule takes positional parameters only, not {p}")
        params.append(p.name)
        if isinstance(p.default, (int, float, bool)):
            defaults[p.name] = p.default
    return params, defaults


def _outputs(fun) -> tuple:
    """(number of outputs, whether a tuple) of a function s2sdiff does not read, from its returns."""
    if isinstance(fun, np.ufunc):
        return fun.nout, fun.nout > 1
    try:
        tree = parse_function(fun).tree
    except S2SDiffError:
        return 1, False
    counts = {len(r.value.elts) if isinstance(r.value, ast.Tuple) else 1 for r in _returns(tree)}
    many = all(isinstance(r.value, ast.Tuple) for r in _returns(tree)) and bool(counts)
    return (counts.pop(), many) if len(counts) == 1 else (1, False)


# ---- what numba cannot compile ---------------------------------------------------------

_NUMBA_MODULES = {"numpy", "math", "cmath", "builtins", "numba", "s2sdiff", "random", "operator"}
_THIRD_PARTY = {Path(p).resolve() for p in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])}


def _check_compiled(rule):
    """Refuse, naming the call, a rule or primal that calls what numba cannot compile
    (a SciPy function): compiled units would fail inside numba instead."""
    if not _compiles(rule.fun):
        raise S2SDiffError(f"{rule.what} {rule.__name__}: numba cannot compile {rule.fun!r}: pass jit=False to run "
                           "it and its rule in Python")
    seen, todo = set(), [f for f in [rule.fun] + rule.rule_functions() if isinstance(f, types.FunctionType)]
    while todo:
        func = todo.pop()
        if func in seen:
            continue
        seen.add(func)
        try:
            parsed = parse_function(func)
        except S2SDiffError:
            continue
        for node in ast.walk(parsed.tree):
            callee = parsed.resolve(node.func) if isinstance(node, ast.Call) else None
            inner = rule_of(callee)
            if inner is not None:
                if inner.defined:
                    todo += [f for f in inner.rule_functions() if isinstance(f, types.FunctionType)]
                callee = inner.fun
            if isinstance(callee, types.FunctionType) and not _third_party(callee):
                todo.append(callee)
            elif callee is not None and not _compiles(callee):
                raise unsupported(f"{rule.what} {rule.__name__}: {func.__name__} calls {ast.unparse(node.func)}, "
                                  "which numba cannot compile: pass jit=False to run the rule in Python, or "
                                  "register a rule for that function (sd.register_vjp)", parsed.filename, node)


def _third_party(func) -> bool:
    path = Path(func.__code__.co_filename).resolve()
    return any(root in path.parents for root in _THIRD_PARTY)


def _compiles(obj) -> bool:
    """Whether numba code can call `obj` (a user's Python function: compiler.primal makes it so)."""
    if isinstance(obj, (type, numba.core.registry.CPUDispatcher)):
        return True
    module = getattr(obj, "__module__", None) or ""
    if isinstance(obj, types.FunctionType) and not _third_party(obj) or module.split(".")[0] in _NUMBA_MODULES:
        return True
    if isinstance(obj, np.ufunc):
        return getattr(np, obj.__name__, None) is obj
    return False


# ---- helpers the units call ------------------------------------------------------------

def rule_fits(value, like, message):
    """Refuse a rule's tangent or cotangent not shaped like what it stands for."""
    if isinstance(value, np.ndarray) != isinstance(like, np.ndarray) or np.shape(value) != np.shape(like) \
            or value is None:
        raise S2SDiffError(message)


@overload(rule_fits)
def _rule_fits(value, like, message):
    if not isinstance(message, nb.Literal):
        return None             # numba asks again with the message's value
    text = message.literal_value
    arrays = [isinstance(t, nb.Array) for t in (value, like)]
    if arrays[0] != arrays[1] or isinstance(value, nb.NoneType) \
            or arrays[0] and value.ndim != like.ndim or not arrays[0] and not isinstance(value, nb.Number):
        def refuse(value, like, message):
            raise S2SDiffError(text)
        return refuse
    if arrays[0]:
        def check(value, like, message):
            if value.shape != like.shape:
                raise S2SDiffError(text)
        return check
    return lambda value, like, message: None


def seed_at(like, k):
    """A unit cotangent of like's shape: 1 at flat position k (1.0 for a number)."""
    if isinstance(like, np.ndarray):
        seed = np.zeros(like.shape)
        seed.reshape(-1)[k] = 1.0
        return seed
    return 1.0


@overload(seed_at)
def _seed_at(like, k):
    if isinstance(like, nb.Array):
        def at(like, k):
            seed = np.zeros(like.shape)
            seed.reshape(-1)[k] = 1.0
            return seed
        return at
    return lambda like, k: 1.0


def with_element(d, k, v):
    """d with its flat element k set to v (v itself for a number)."""
    if isinstance(d, np.ndarray):
        d.reshape(-1)[k] = v
        return d
    return v


@overload(with_element)
def _with_element(d, k, v):
    if isinstance(d, nb.Array):
        def put(d, k, v):
            d.reshape(-1)[k] = v
            return d
        return put
    return lambda d, k, v: v


def vdot(a, b):
    """The sum of the elementwise products (a cotangent times a tangent)."""
    return float(np.sum(np.multiply(a, b)))


@overload(vdot)
def _vdot(a, b):
    if isinstance(a, nb.Array) or isinstance(b, nb.Array):
        return lambda a, b: np.sum(a * b)
    return lambda a, b: a * b


_HELPERS = {f.__name__: f for f in (rule_fits, seed_at, with_element, vdot)}
