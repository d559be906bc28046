"""Stage 5 — emit: core-language functions become Python source a person can read.

One statement per line, the user's names kept, and a comment with the user's line
number and code above each group of statements that came from it.  A temporary the
pipeline made up and that is read once, right below, is written into that expression
instead (`bx += 2 * x * ba`): that reads like a person's code, and numba fuses a
whole-array expression into one loop where separate statements would each allocate.
"""
from __future__ import annotations

import ast
import math
import re
from collections import Counter

import numba

from . import ir
from .names import Namer
from .rules import RULES
from .runtime import HELPERS


def emit(function: ir.Function, bind) -> tuple[str, dict]:
    """Source of `function` and the namespace it runs in.

    `bind(callee, sites)` returns the object a call target (ir.Derived or a user callee)
    is compiled to, given how many calls to it the function makes; it is stored under a
    fresh readable name."""
    return _Emitter(function, bind).run()


class _Emitter:
    def __init__(self, function: ir.Function, bind):
        self.fn = function
        self.bind = bind
        self.namer = Namer(ir.all_names(function) | {"math", "np", function.name})   # helpers never shadow it
        self.namespace = dict(function.namespace)
        self.namespace.update({"math": math, "np": __import__("numpy")})
        self.callee_names: dict = {}
        self.helper_names: dict = {}
        self.call_sites = Counter(_callee_key(s.value.callee) for s in ir.walk(function.body)
                                  if isinstance(getattr(s, "value", None), ir.Call))
        self.lines: list[str] = []
        self.pending: dict = {}          # deferred temporary -> its expression
        self.deps: dict = {}             # deferred temporary -> names its value depends on
        self.inlinable, self.use_site = _single_use_temporaries(function)
        self.bases = ir.view_bases(function)

    def run(self):
        fn = self.fn
        if fn.doc:
            self.lines.append(f"# {fn.doc}")
        self.lines.append(f"def {fn.name}({', '.join(fn.params)}):")
        self.block(fn.body, 1)
        return "\n".join(self.lines) + "\n", self.namespace

    # -- statements --------------------------------------------------------------------
    def block(self, body, depth, last_line=None):
        deferred, wrote = [], False
        for i, stmt in enumerate(body):
            changed = _writes(stmt)
            for name in [n for n in deferred if n in self.pending and self.deps[n] & changed]:
                self.flush(name, depth)
            if (isinstance(stmt, ir.Assign) and stmt.target in self.inlinable
                    and any(later is self.use_site[stmt.target] for later in body[i + 1:])):
                self.defer(stmt)
                deferred.append(stmt.target)
                continue
            if stmt.line != last_line and stmt.line in self.fn.source_lines:
                self.write(depth, f"# line {stmt.line}: {self.fn.source_lines[stmt.line]}")
                last_line = stmt.line
            self.statement(stmt, depth, last_line)
            wrote = True
            if isinstance(stmt, ir.Comment):
                last_line = None
        for name in deferred:
            if name in self.pending:
                self.flush(name, depth)
                wrote = True
        if not wrote:
            self.write(depth, "pass")

    def defer(self, stmt):
        consumed = {n for n in ir.value_reads(stmt.value) if n in self.pending}
        deps = set(ir.value_reads(stmt.value))
        for n in consumed:
            deps |= self.deps[n]
        # a view (`t = h[1]`) changes when its array is written: writing h flushes what reads t
        deps |= {base for n in deps for base in self.bases.get(n, ())}
        self.pending[stmt.target] = self.expr_node(stmt.value)
        self.deps[stmt.target] = deps

    def flush(self, name, depth):
        self.write(depth, f"{name} = {ast.unparse(self.pending.pop(name))}")

    def write(self, depth, text):
        self.lines.append("    " * depth + text)

    def statement(self, s, depth, line):
        if isinstance(s, ir.Assign):
            v = s.value
            if (isinstance(v, ir.Prim) and v.op == "add" and v.args[0] == ir.Name(s.target) and v.family == "op"
                    and s.target in self.fn.numbers):     # on arrays `+=` would write into a shared array
                self.write(depth, f"{s.target} += {self.atom(v.args[1])}")
            else:
                self.write(depth, f"{s.target} = {self.expr(v)}")
        elif isinstance(s, ir.SetItem):
            target = f"{s.array}[{self.index(s.index)}]"
            if s.accumulate and self.is_view(s.index):
                self.write(depth, f"{self.helper('add_into')}({target}, {self.atom(s.value)})")
            else:
                self.write(depth, f"{target} {'+=' if s.accumulate else '='} {self.atom(s.value)}")
        elif isinstance(s, ir.Comment):
            self.write(depth, f"# {s.text}")
        elif isinstance(s, ir.Unpack):
            self.write(depth, f"{', '.join(s.targets)} = {self.expr(s.value)}")
        elif isinstance(s, ir.If):
            self.write(depth, f"if {ast.unparse(s.test)}:")
            self.block(s.body, depth + 1, line)
            orelse = s.orelse
            while len(orelse) == 1 and isinstance(orelse[0], ir.If):   # elif chains stay elif
                self.write(depth, f"elif {ast.unparse(orelse[0].test)}:")
                self.block(orelse[0].body, depth + 1, line)
                orelse = orelse[0].orelse
            if orelse:
                self.write(depth, "else:")
                self.block(orelse, depth + 1, line)
        elif isinstance(s, ir.For):
            bounds = [s.start, s.stop, s.step]
            if s.step == ir.Const(1):
                bounds.pop()
                if s.start == ir.Const(0):
                    bounds.pop(0)
            if s.parallel:
                self.namespace["prange"] = numba.prange
            loop_range = "prange" if s.parallel else "range"
            self.write(depth, f"for {s.var} in {loop_range}({', '.join(map(self.atom, bounds))}):")
            self.block(s.body, depth + 1, line)
        elif isinstance(s, ir.While):
            self.write(depth, f"while {ast.unparse(s.test)}:")
            self.block(s.body, depth + 1, line)
        elif isinstance(s, ir.Return):
            self.write(depth, "return " + ", ".join(map(self.atom, s.values))
                       + ("," if s.tuple_result and len(s.values) == 1 else ""))
        elif isinstance(s, ir.Break):
            self.write(depth, "break")
        elif isinstance(s, ir.Continue):
            self.write(depth, "continue")
        elif isinstance(s, ir.Verbatim):
            self.write(depth, ast.unparse(s.stmt))
        else:
            raise TypeError(f"cannot emit {s!r}")

    # -- expressions -------------------------------------------------------------------
    def atom(self, a) -> str:
        return ast.unparse(self.atom_node(a))

    def atom_node(self, a):
        if isinstance(a, ir.Name):
            return self.pending.pop(a.id) if a.id in self.pending else ast.Name(a.id)
        value = a.value
        if isinstance(value, float) and not math.isfinite(value):
            text = "math.nan" if math.isnan(value) else ("math.inf" if value > 0 else "-math.inf")
            return ast.parse(text, mode="eval").body
        if type(value) in (int, float) and math.copysign(1, value) < 0:
            # a negation, which ast.unparse puts in parentheses where it must: (-2.0) ** 2
            return ast.UnaryOp(ast.USub(), ast.Constant(-value))
        return ast.Constant(value)

    def is_view(self, index) -> bool:
        """Whether `array[index]` is a view: a slice, the other positions numbers."""
        return any(isinstance(i, ir.Slice) for i in index) and all(
            isinstance(i, (ir.Slice, ir.Const)) or i.id in self.fn.numbers for i in index)

    def index(self, index) -> str:
        parts = []
        for i in index:
            if isinstance(i, ir.Slice):
                bounds = ["" if a is None else self.atom(a) for a in (i.lo, i.hi, i.step)]
                parts.append(":".join(bounds[:2] if i.step is None else bounds))
            else:
                parts.append(self.atom(i))
        return ", ".join(parts)

    def expr(self, e) -> str:
        return ast.unparse(self.expr_node(e))

    def expr_node(self, e):
        if isinstance(e, (ir.Name, ir.Const)):
            return self.atom_node(e)
        if isinstance(e, ir.Passive):
            return e.expr
        if isinstance(e, ir.Item):
            return ast.parse(f"({self.atom(e.array)})[{self.index(e.index)}]", mode="eval").body
        if isinstance(e, ir.Prim):
            return self.prim(e)
        if isinstance(e, (ir.Call, ir.Opaque)):
            name = e.name if isinstance(e, ir.Opaque) else self.callee_name(e.callee)
            return ast.Call(ast.Name(name), [self.atom_node(a) for a in e.args], [])
        raise TypeError(f"cannot emit {e!r}")

    def prim(self, p: ir.Prim):
        args = [self.atom_node(a) for a in p.args]
        rule = RULES[p.op]
        if p.op == "select":
            return ast.IfExp(args[0], args[1], args[2])
        if p.op == "square" and p.family == "op":
            if isinstance(args[0], ast.Name):
                return ast.BinOp(args[0], ast.Mult(), args[0])
            return ast.BinOp(args[0], ast.Pow(), ast.Constant(2))
        if p.op == "dim":
            return ast.Subscript(ast.Attribute(args[0], "shape"), args[1])
        if p.op == "size":
            return ast.Attribute(args[0], "size")
        if rule.operator is not None and p.family == "op":
            if len(args) == 2:
                return ast.BinOp(args[0], rule.operator(), args[1])
            return ast.UnaryOp(rule.operator(), args[0])
        if p.op == "sum_axis":
            return ast.Call(ast.parse("np.sum", mode="eval").body, [args[0]], [ast.keyword("axis", args[1])])
        if p.op == "transpose" and p.family == "op":
            return ast.Attribute(args[0], "T")
        spelling = rule.spelling(p.family)
        if spelling.startswith("runtime."):             # a helper of s2sdiff's, bound by name
            spelling = self.helper(spelling.split(".", 1)[1])
        return ast.Call(ast.parse(spelling, mode="eval").body, args, [])

    def helper(self, name) -> str:
        """The name a runtime helper is bound by: its own, unless the code or a callee uses it."""
        if name not in self.helper_names:
            bound = self.namer.fresh(name)
            self.namespace[bound] = HELPERS[name]
            self.helper_names[name] = bound
        return self.helper_names[name]

    def callee_name(self, callee) -> str:
        key = _callee_key(callee)
        if key not in self.callee_names:
            obj, hint = self.bind(callee, self.call_sites[key])
            name = self.namer.fresh(hint)
            self.namespace[name] = obj
            self.callee_names[key] = name
        return self.callee_names[key]


def _callee_key(callee) -> tuple:
    if isinstance(callee, ir.Derived):
        return (callee.kind, callee.callee.py_func, callee.active, callee.kinds)
    return ("primal", callee.py_func)


_TEMPORARY = re.compile(r"[bd]*t\d+(_\d+)?")


def _single_use_temporaries(function: ir.Function):
    """Made-up names assigned once from a pure expression and read once, by the
    expression of a statement (not a condition): name -> that statement."""
    assigned = Counter(t for s in ir.walk(function.body) for t in ir.targets(s))
    reads, use_site = Counter(), {}
    for s in ir.walk(function.body):
        for name in _occurrences(s):
            reads[name] += 1
            kept_whole = isinstance(s, (ir.If, ir.While, ir.Verbatim)) or isinstance(getattr(s, "value", None), ir.Passive)
            use_site[name] = None if kept_whole else s      # conditions stay as the user wrote them
    pure = {s.target for s in ir.walk(function.body)
            if isinstance(s, ir.Assign) and isinstance(s.value, (ir.Prim, ir.Item, ir.Passive))}
    inlinable = {n for n in pure if assigned[n] == 1 and reads[n] == 1 and use_site.get(n) is not None
                 and _TEMPORARY.fullmatch(n) and n not in function.user_names and n not in function.params}
    return inlinable, use_site


def _occurrences(s) -> list:
    """Names a statement reads, once per occurrence (`x * x` reads x twice)."""
    if isinstance(s, (ir.Assign, ir.Unpack)) and not isinstance(s.value, ir.Passive):
        atoms = ir.operands(s.value)
    elif isinstance(s, ir.SetItem):
        atoms = ir.index_atoms(s.index) + (s.value,)
    elif isinstance(s, ir.For):
        atoms = (s.start, s.stop, s.step)
    elif isinstance(s, ir.Return):
        atoms = s.values
    else:
        return list(ir.reads(s))
    return [a.id for a in atoms if isinstance(a, ir.Name)] + ([s.array] if isinstance(s, ir.SetItem) else [])


def _writes(stmt) -> set:
    """Names a statement (with everything nested in it) may change, arrays it writes included."""
    names = set()
    for s in ir.walk([stmt]):
        names |= set(ir.targets(s))
        if isinstance(s, ir.For):
            names.add(s.var)
        elif isinstance(s, ir.SetItem):
            names.add(s.array)
    return names
