"""Stage 5 — emit: core-language functions become Python source a person can read.

One statement per line, the user's names kept, and a comment with the user's line
number and code above each group of statements that came from it.
"""
from __future__ import annotations

import ast
import math

from . import ir
from .names import Namer
from .rules import RULES
from .runtime import HELPERS


def emit(function: ir.Function, bind) -> tuple[str, dict]:
    """Source of `function` and the namespace it runs in.

    `bind(callee)` returns the object a call target (ir.Derived or a user callee) is
    compiled to; it is stored under a fresh readable name."""
    return _Emitter(function, bind).run()


class _Emitter:
    def __init__(self, function: ir.Function, bind):
        self.fn = function
        self.bind = bind
        self.namer = Namer(ir.all_names(function) | {"math", "np"})
        self.namespace = dict(function.namespace)
        self.namespace.update({"math": math, "np": __import__("numpy")})
        self.callee_names: dict = {}
        self.lines: list[str] = []

    def run(self):
        fn = self.fn
        if fn.doc:
            self.lines.append(f"# {fn.doc}")
        self.lines.append(f"def {fn.name}({', '.join(fn.params)}):")
        self.block(fn.body, 1)
        return "\n".join(self.lines) + "\n", self.namespace

    # -- statements --------------------------------------------------------------------
    def block(self, body, depth, last_line=None):
        if not body:
            self.write(depth, "pass")
            return
        for stmt in body:
            if stmt.line != last_line and stmt.line in self.fn.source_lines:
                self.write(depth, f"# line {stmt.line}: {self.fn.source_lines[stmt.line]}")
                last_line = stmt.line
            self.statement(stmt, depth, last_line)
            if isinstance(stmt, ir.Comment):
                last_line = None

    def write(self, depth, text):
        self.lines.append("    " * depth + text)

    def statement(self, s, depth, line):
        if isinstance(s, ir.Assign):
            v = s.value
            if isinstance(v, ir.Prim) and v.op == "add" and v.args[0] == ir.Name(s.target) and v.family == "op":
                self.write(depth, f"{s.target} += {self.atom(v.args[1])}")      # adjoint accumulation
            else:
                self.write(depth, f"{s.target} = {self.expr(v)}")
        elif isinstance(s, ir.SetItem):
            target = f"{s.array}[{self.index(s.index)}]"
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
            self.write(depth, f"for {s.var} in range({', '.join(map(self.atom, bounds))}):")
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
            return ast.Name(a.id)
        value = a.value
        if isinstance(value, float) and not math.isfinite(value):
            text = "math.nan" if math.isnan(value) else ("math.inf" if value > 0 else "-math.inf")
            return ast.parse(text, mode="eval").body
        return ast.Constant(value)

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
        if isinstance(e, (ir.Name, ir.Const)):
            return self.atom(e)
        if isinstance(e, ir.Passive):
            return ast.unparse(e.expr)
        if isinstance(e, ir.Item):
            return f"{e.array.id}[{self.index(e.index)}]"
        if isinstance(e, ir.Prim):
            return ast.unparse(self.prim(e))
        if isinstance(e, (ir.Call, ir.Opaque)):
            name = e.name if isinstance(e, ir.Opaque) else self.callee_name(e.callee)
            return f"{name}({', '.join(map(self.atom, e.args))})"
        raise TypeError(f"cannot emit {e!r}")

    def prim(self, p: ir.Prim):
        args = [self.atom_node(a) for a in p.args]
        rule = RULES[p.op]
        if p.op == "select":
            return ast.IfExp(args[0], args[1], args[2])
        if p.op == "square" and p.family == "op":
            return ast.BinOp(args[0], ast.Mult(), args[0])
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
            spelling = spelling.split(".", 1)[1]
            self.namespace[spelling] = HELPERS[spelling]
        return ast.Call(ast.parse(spelling, mode="eval").body, args, [])

    def callee_name(self, callee) -> str:
        if isinstance(callee, ir.Derived):
            key = (callee.kind, callee.callee.py_func, callee.active)
        else:
            key = ("primal", callee.py_func)
        if key not in self.callee_names:
            obj, hint = self.bind(callee)
            name = self.namer.fresh(hint)
            self.namespace[name] = obj
            self.callee_names[key] = name
        return self.callee_names[key]
