"""Random programs written the way users write Python and NumPy, and an oracle for them that
shares no code with s2sdiff.

`programs()` is a hypothesis strategy for the source of a module with a function
`f(x, a, k)` — `x` a float array of length n, `a` a float, `k` a small int — and helpers it
calls. The programs use what DESIGN §2 promises, in the spellings people use:
- numbers: arithmetic, elementary functions on safe domains, `max`/`min` of two or three,
  builtin `sum((…))`, branches on comparisons (`and`/`or`/`not`, conditional expressions,
  early returns), tuple unpacking; accumulators that start as Python ints (`s = 0`,
  `p = 1`, then `s += …`, `p = p * …`);
- loops: `for` over `range` (nested, inner bounds that depend on the outer variable as in
  `range(i + 1)`, `break`/`continue` in branches, loops in branches) and `while`;
- 1-D arrays: element reads and writes, whole-array writes (`y[:] = …`, `y += …`),
  ufuncs, reductions, `np.concatenate`/`np.hstack` of tuples and lists;
- 2-D arrays: `np.zeros((m, n))`, `np.outer`, `x[:, None] * y`, `np.vstack`/`np.stack`/
  `np.column_stack` of tuples; element, row (`h[i] = …`, `h[i, :] = …`, a number broadcast
  into a row) and column (`h[:, j] = …`) writes; element, row and column reads; `np.sum`
  and `np.mean` with and without `axis=`, `np.trace`, `@`; `np.max`/`np.min` whole and
  along an axis (with `keepdims`), `np.var` (`ddof`, `axis`), `np.cumsum`, `np.flip`,
  `.ravel()`, `.reshape(-1)`, `np.prod`, `np.cumprod`, `np.diff`, `np.roll`, `np.sort`,
  `np.tile`, `np.einsum`, `keepdims=True` of a whole sum, running sums along the last axis,
  `np.tensordot` over axis lists, `@` of a stack of matrices;
- helpers: functions of numbers, functions returning arrays, and functions that write into
  their array argument called as statements (`fill(y, x, a)`), into a local array or into
  a row of a matrix.

Values stay bounded (exponentials only of bounded arguments, divisions by `1 + e²`,
products only by `tanh`), so a program is finite for x in [-2, 2] except by rare chance;
callers discard non-finite ones.

The oracle runs the same source with `math` and `np` bound to mpmath-backed stand-ins and
object arrays of mpf numbers, at 40 digits (NumPy's own joins, outer products and axis sums
work on object arrays, so they are used as they are); `oracle.py`-style central
differences of it are exact far below float64 rounding except when a branch or a kink lies
within the step — probability ~1e-12 for a random point.
"""
from __future__ import annotations

import importlib.util
import itertools
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import mpmath
import numpy as np
from hypothesis import strategies as st

# ---- the oracle's math and np ------------------------------------------------------

_ELEMENTARY = {
    "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan, "tanh": mpmath.tanh, "sinh": mpmath.sinh,
    "cosh": mpmath.cosh, "exp": mpmath.exp, "log": mpmath.log, "log1p": lambda t: mpmath.log(1 + t),
    "sqrt": mpmath.sqrt, "atan": mpmath.atan, "arctan": mpmath.atan, "arcsinh": mpmath.asinh,
    "erf": mpmath.erf, "cbrt": mpmath.cbrt, "fabs": abs, "abs": abs, "floor": mpmath.floor,
}


class _MpMath:
    """`math` for the oracle."""

    def __getattr__(self, name):
        return _ELEMENTARY[name]

    @staticmethod
    def hypot(u, v):
        return mpmath.sqrt(u * u + v * v)

    @staticmethod
    def atan2(u, v):
        return mpmath.atan2(u, v)


def _elementwise(fn):
    ufunc = np.frompyfunc(fn, 1, 1)
    return lambda t: ufunc(t) if isinstance(t, np.ndarray) else fn(t)


def _filled(shape, value):
    return np.full(shape, mpmath.mpf(value), dtype=object)


class _MpNumpy:
    """`np` for the oracle: object arrays of mpf numbers. Joins, stacks, outer products,
    `@` and axis sums are NumPy's own, which work on object arrays with Python arithmetic."""

    def __getattr__(self, name):
        return _elementwise(_ELEMENTARY[name])

    @staticmethod
    def zeros(shape):
        return _filled(shape, 0)

    @staticmethod
    def ones(shape):
        return _filled(shape, 1)

    @staticmethod
    def zeros_like(t):
        return _filled(t.shape, 0)

    @staticmethod
    def ones_like(t):
        return _filled(t.shape, 1)

    @staticmethod
    def sum(t, axis=None, keepdims=False):
        if not isinstance(t, np.ndarray):
            return t
        if axis is not None:
            return np.sum(t, axis=axis, keepdims=keepdims)
        total = mpmath.fsum(t.ravel())
        return np.array(total, dtype=object).reshape((1,) * t.ndim) if keepdims else total

    @staticmethod
    def mean(t, axis=None):
        return _MpNumpy.sum(t, axis) / (t.size if axis is None else t.shape[axis])

    @staticmethod
    def var(t, axis=None, ddof=0):
        centred = t - (_MpNumpy.mean(t) if axis is None else np.expand_dims(_MpNumpy.mean(t, axis), axis))
        count = t.size if axis is None else t.shape[axis]
        total = _MpNumpy.sum(centred * centred, axis)
        return total / (count - ddof) if count > ddof else total * mpmath.nan     # NumPy: nan, not an error

    @staticmethod
    def dot(u, v):
        if np.ndim(u) == np.ndim(v) == 1:
            return mpmath.fsum(p * q for p, q in zip(u, v))
        return np.dot(u, v)

    @staticmethod
    def trace(t):
        return mpmath.fsum(np.diagonal(t))


    @staticmethod
    def maximum(u, v):
        return np.frompyfunc(max, 2, 1)(u, v) if isinstance(u, np.ndarray) or isinstance(v, np.ndarray) else max(u, v)

    @staticmethod
    def minimum(u, v):
        return np.frompyfunc(min, 2, 1)(u, v) if isinstance(u, np.ndarray) or isinstance(v, np.ndarray) else min(u, v)


# NumPy's own functions on object arrays of mpf numbers: extremes, running sums and products,
# flips, differences, rotations, sorting, tiling, einsum, outer products and joins
for _name in ("max", "min", "cumsum", "cumprod", "prod", "flip", "diff", "roll", "sort", "tile", "einsum", "outer",
              "concatenate", "hstack", "vstack", "stack", "column_stack", "tensordot"):
    setattr(_MpNumpy, _name, staticmethod(getattr(np, _name)))


# ---- programs ----------------------------------------------------------------------

UNARY = [  # {} is the argument
    "math.sin({})", "math.cos({})", "math.tanh({})", "math.atan({})", "math.exp(-({}) ** 2)",
    "math.exp(math.sin({}))", "math.log(1.0 + ({}) ** 2)", "math.sqrt(0.5 + ({}) ** 2)", "math.log1p(({}) * ({}))",
    "math.erf({})", "np.arcsinh({})", "np.cos({})", "abs({})", "math.cbrt(2.0 + math.sin({}))", "({}) ** 2",
    "({}) ** 3", "1.0 / (1.0 + ({}) ** 2)", "math.floor({})", "math.sinh(math.sin({}))",
]
BINARY = [
    "({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1.5 + ({}) ** 2)", "max({}, {})", "min({}, {})",
    "np.maximum({}, {})", "math.hypot({}, 1.0 + ({}) ** 2)", "math.atan2({}, 1.0 + ({}) ** 2)",
]
ARRAY_UNARY = ["np.sin({})", "np.tanh({})", "np.exp(-({}) ** 2)", "({}) * ({})", "np.sqrt(1.0 + ({}) ** 2)",
               "np.abs({})"]
COMPARE = ["<", ">", "<=", ">="]


@dataclass
class Scope:
    """What a statement at this point may read and write. Every array has length n, every
    matrix n columns: rows and columns mix freely with x."""
    floats: list = field(default_factory=list)      # number locals assigned on every path so far (some ints: s = 0)
    vectors: list = field(default_factory=list)     # 1-D arrays it may read (x, parameters, locals)
    writable: list = field(default_factory=list)    # the 1-D arrays among them made here (writes allowed)
    matrices: list = field(default_factory=list)    # (name, rows): 2-D locals of shape (rows, n); rows "n", 2 or 3
    indices: list = field(default_factory=list)     # (loop variable, lowest, highest offset keeping it in 0..n-1)
    ints: list = field(default_factory=list)        # int locals (loop variables, k)
    loop_depth: int = 0
    in_for: bool = False
    in_f: bool = True                               # x, a, k and early returns exist (not in helpers)
    has_n: bool = True                              # n and arrays exist (not in helpers of numbers)

    def child(self, **changes):
        copied = {name: list(getattr(self, name)) for name in ("floats", "vectors", "writable", "matrices",
                                                                 "indices", "ints")}
        return replace(self, **{**copied, **changes})


@dataclass
class Helpers:
    """The helpers defined so far, which later code may call."""
    numbers: list = field(default_factory=list)     # (name, arity): numbers in, a number out
    vectors: list = field(default_factory=list)     # name(v, c): an array of len(v) out
    fills: list = field(default_factory=list)       # name(out, v, c): writes into out, returns nothing


class Builder:
    """Draws one function; `draw` is hypothesis's."""

    def __init__(self, draw, helpers, prefix=""):
        self.draw = draw
        self.helpers = helpers
        self.prefix = prefix            # keeps helper locals apart from f's in the generated module
        self.counter = itertools.count()

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def chance(self, p):
        return self.draw(st.integers(0, 99)) < 100 * p

    def new(self, kind):
        return f"{kind}{self.prefix}{next(self.counter)}"

    # -- indices -----------------------------------------------------------------------

    def index(self, scope):
        """An index expression inside 0..n-1."""
        if scope.indices and self.draw(st.booleans()):
            var, low, high = self.pick(scope.indices)
            offset = self.draw(st.integers(low, high))
            return f"{var}{f' + {offset}' if offset > 0 else f' - {-offset}' if offset < 0 else ''}"
        if scope.ints and self.draw(st.booleans()):
            return f"{self.pick(scope.ints)} % n"
        return self.pick(["0", "n - 1", "n // 2"])

    def row(self, scope, rows):
        """A row index of a matrix with `rows` rows."""
        if rows == "n":
            return self.index(scope)
        return self.pick(["0", str(rows - 1)] + [f"{var} % {rows}" for var in scope.ints])

    # -- numbers -----------------------------------------------------------------------

    def leaf(self, scope):
        kinds = ["const"] + ["a", "x"] * scope.in_f + ["float"] * bool(scope.floats) + ["int"] * bool(scope.ints)
        kinds += ["vector"] * (scope.has_n and bool(scope.vectors)) + ["matrix"] * bool(scope.matrices)
        kind = self.pick(kinds)
        if kind == "const":
            return repr(self.pick([0.5, 1.5, -0.75, 2.0, 0.1, 3.0]))
        if kind == "a":
            return "a"
        if kind == "x":
            return f"x[{self.index(scope)}]"
        if kind == "float":
            return self.pick(scope.floats)
        if kind == "int":
            return f"0.1 * {self.pick(scope.ints)}"
        if kind == "vector":
            return f"{self.pick(scope.vectors)}[{self.index(scope)}]"
        name, rows = self.pick(scope.matrices)
        return f"{name}[{self.row(scope, rows)}, {self.index(scope)}]"

    def expr(self, scope, depth=2):
        if depth == 0:
            return self.leaf(scope)
        kind = self.pick(["leaf", "unary", "binary", "binary", "ifexp", "call", "reduce", "several"])
        if kind == "unary":
            return self.pick(UNARY).replace("{}", self.expr(scope, depth - 1))
        if kind == "binary":
            return self.pick(BINARY).format(self.expr(scope, depth - 1), self.expr(scope, depth - 1))
        if kind == "ifexp":
            return f"({self.expr(scope, depth - 1)} if {self.condition(scope)} else {self.expr(scope, depth - 1)})"
        if kind == "call" and self.helpers.numbers:
            name, arity = self.pick(self.helpers.numbers)
            return f"{name}({', '.join(self.expr(scope, depth - 1) for _ in range(arity))})"
        if kind == "reduce" and scope.has_n:
            return self.reduction(scope)
        if kind == "several":       # builtins over two or three numbers, as a tuple or as arguments
            parts = ", ".join(self.expr(scope, depth - 1) for _ in range(self.draw(st.integers(2, 3))))
            return self.pick([f"max({parts})", f"min({parts})", f"sum(({parts}))"])
        return self.leaf(scope)

    # -- arrays ------------------------------------------------------------------------

    def vector(self, scope, depth=1):
        """An expression for a 1-D array of length n."""
        kinds = ["name", "name", "row"] + ["ufunc", "scaled", "sum2", "axis", "tuple"] * (depth > 0)
        kinds += ["helper", "helper"] * (depth > 0 and bool(self.helpers.vectors))
        kind = self.pick(kinds)
        if kind == "row" and scope.matrices:
            name, rows = self.pick(scope.matrices)
            if rows == "n" and self.chance(0.4):
                return f"{name}[:, {self.index(scope)}]"
            return f"{name}[{self.row(scope, rows)}{self.pick(['', ', :'])}]"
        if kind == "ufunc":
            return self.pick(ARRAY_UNARY).replace("{}", self.vector(scope, depth - 1))
        if kind == "scaled":
            return f"{self.vector(scope, depth - 1)} * {self.leaf(scope.child(indices=[]))}"
        if kind == "sum2":
            return f"{self.vector(scope, depth - 1)} {self.pick(['+', '-'])} {self.vector(scope, depth - 1)}"
        if kind == "axis":
            matrix, rows, cols = self.matrix(scope)
            if cols == "n" and (rows != "n" or self.draw(st.booleans())):
                return f"np.{self.pick(['sum', 'mean'])}({matrix}, axis=0)"
            if rows == "n":
                return f"np.{self.pick(['sum', 'mean'])}({matrix}, axis=1)" if cols != "n" or self.chance(0.7) \
                    else f"{matrix} @ {self.vector(scope, 0)}"
        if kind == "tuple":
            parts = ", ".join(self.vector(scope, 0) for _ in range(self.draw(st.integers(2, 3))))
            if self.chance(0.7):
                return f"sum(({parts}))"
            return self.pick([f"np.sum(np.vstack(({parts})), axis=0)", f"np.mean(np.stack(({parts})), axis=0)"])
        if kind == "helper":
            return f"{self.pick(self.helpers.vectors)}({self.vector(scope, depth - 1)}, {self.expr(scope, 1)})"
        return self.pick(scope.vectors)

    def matrix(self, scope):
        """(expression, rows, columns) of a 2-D array; rows and columns are "n" or a count."""
        kind = self.pick(["local", "local", "local", "outer", "outer", "newaxis", "newaxis", "ufunc", "join"])
        if kind == "local" and scope.matrices:
            name, rows = self.pick(scope.matrices)
            return name, rows, "n"
        if kind == "newaxis":
            return f"{self.pick(scope.vectors)}[:, None] * {self.vector(scope, 0)}", "n", "n"
        if kind == "join":
            join = self.pick(["vstack", "stack", "column_stack"])
            if join == "vstack":
                return f"np.vstack(({self.vector(scope, 0)}, {self.vector(scope, 1)}))", 2, "n"
            if join == "stack":
                return f"np.stack(({', '.join(self.vector(scope, 0) for _ in range(3))}))", 3, "n"
            return f"np.column_stack(({self.vector(scope, 0)}, {self.vector(scope, 0)}))", "n", 2
        if kind == "ufunc":
            matrix, rows, cols = self.matrix(scope)
            return self.pick([f"np.sin({matrix})", f"np.tanh({matrix}) * {self.leaf(scope)}", f"({matrix}) ** 2"]), \
                rows, cols
        return f"np.outer({self.vector(scope, 0)}, {self.vector(scope, 1)})", "n", "n"

    def joined(self, scope, parts=2):
        """A 1-D array of length parts·n, joined from a tuple or a list."""
        items = ", ".join(self.vector(scope, 0) for _ in range(parts))
        if self.chance(0.05):
            return f"np.concatenate([{items}])"
        return self.pick([f"np.concatenate(({items}))", f"np.hstack(({items}))"])

    def reduction(self, scope):
        kind = self.pick(["sum", "sum", "dot", "dot", "mean", "matrix", "matrix", "matrix", "joined", "order"])
        if kind == "order":                 # the largest, the spread, running sums, reversed, flattened
            matrix, _, _ = self.matrix(scope)
            return self.pick([f"np.max({self.vector(scope)})", f"{self.vector(scope, 0)}.min()",
                              f"np.var({self.vector(scope)})", f"np.var({self.vector(scope)}, ddof=1)",
                              f"np.sum(np.cumsum({self.vector(scope)}) ** 2) / n",
                              f"np.dot(np.flip({self.vector(scope)}), {self.vector(scope)})",
                              f"np.sum(np.max({matrix}, axis=0))", f"np.sum(np.min({matrix}, axis=1, keepdims=True))",
                              f"np.mean(np.var({matrix}, axis=0))", f"np.sum(({matrix}).ravel() ** 2)",
                              f"np.max(({matrix}).reshape(-1))", f"np.prod({self.vector(scope)})",
                              f"np.sum(np.cumprod({self.vector(scope)})) / n",
                              f"np.sum(np.diff({self.vector(scope)}) ** 2)",
                              f"np.dot(np.roll({self.vector(scope)}, 1), {self.vector(scope)})",
                              f"np.dot(np.sort({self.vector(scope)}), {self.vector(scope)})",
                              f"np.sum(np.tile({self.vector(scope)}, 2) ** 2)",
                              f"np.sum(np.einsum('ij->j', {matrix}) ** 2)",
                              f"np.einsum('ij,ij->', {matrix}, {matrix})",
                              f"np.sum({matrix} / (1.0 + np.sum({matrix} ** 2, keepdims=True)))",
                              f"np.sum(np.cumsum({matrix}, axis=-1) ** 2) / n",
                              f"np.sum(np.tensordot({matrix}, {matrix}, axes=([0], [0])) ** 2) / n",
                              f"np.sum((({matrix})[None] @ ({matrix}).T) ** 2) / n"])
        if kind == "dot":
            return f"np.dot({self.vector(scope, 0)}, {self.vector(scope)})"
        if kind == "mean":
            return self.pick([f"np.sum({self.vector(scope)}) / n", f"np.mean({self.vector(scope)})"])
        if kind == "matrix":
            matrix, rows, cols = self.matrix(scope)
            options = [f"np.sum({matrix})", f"np.mean({matrix})", f"np.sum(np.sum({matrix}, axis=1) ** 2)"]
            if rows == cols == "n":
                options.append(f"np.trace({matrix})")
            return self.pick(options)
        if kind == "joined":
            parts = self.draw(st.integers(2, 3))
            return self.pick([f"np.sum({self.joined(scope, parts)} ** 2)", f"np.mean({self.joined(scope, parts)})",
                              f"np.dot({self.joined(scope, parts)}, {self.joined(scope, parts)})"])
        return f"np.sum({self.vector(scope)})"

    def condition(self, scope, depth=1):
        kind = self.pick(["compare", "compare", "int"] + ["and", "not"] * (depth > 0))
        if kind == "int" and scope.ints:
            var = self.pick(scope.ints)
            return self.pick([f"{var} % 2 == 0", f"{var} > {self.pick(['k', '1'] if scope.in_f else ['1'])}",
                              f"{var} < 2"])
        if kind == "and":
            return f"{self.condition(scope, 0)} {self.pick(['and', 'or'])} {self.condition(scope, 0)}"
        if kind == "not":
            return f"not {self.condition(scope, 0)}"
        return f"{self.expr(scope, 1)} {self.pick(COMPARE)} {self.expr(scope, 1)}"

    # -- statements ------------------------------------------------------------------

    def block(self, scope, size, indent):
        lines = []
        for _ in range(size):
            lines += self.statement(scope, indent)
        return lines or [indent + "pass"]

    def loop_bounds(self, scope):
        """`range` arguments, each with the offsets (lowest, highest) that keep its variable
        plus the offset inside 0..n-1, or None where it may run past n."""
        bounds = [("n", 0, 0), ("n - 1", 0, 1), ("1, n", -1, 0)] + [("k", None, None)] * scope.in_f
        for var, low, high in scope.indices:      # inner bounds that follow the outer variable
            bounds += [(f"{var} + 1", 0, high), (var, 0, high + 1), (f"{var}, n", low, 0)]
        bounds += [(f"{var} + 1", None, None) for var in scope.ints if var != "k"
                   and all(var != index[0] for index in scope.indices)]
        return bounds

    def loop(self, scope, indent, body):
        """A `for` loop whose body `body(inner scope, indent)` writes."""
        var = self.new("i")
        text, low, high = self.pick(self.loop_bounds(scope))
        inner = scope.child(loop_depth=scope.loop_depth + 1, in_for=True, ints=scope.ints + [var])
        if low is not None:
            inner.indices = scope.indices + [(var, low, high)]
        return [f"{indent}for {var} in range({text}):"] + body(inner, indent + "    ")

    def statement(self, scope, indent):
        kinds = ["assign", "assign", "update", "if", "unpack"]
        if scope.has_n:
            kinds += ["for", "for", "accumulate"] * (scope.loop_depth < 2)
            kinds += ["write", "write"] * bool(scope.writable) + ["matrix write", "matrix write"] * bool(scope.matrices)
            kinds += ["fill"] * bool(self.helpers.fills and (scope.writable or scope.matrices))
        if scope.in_f:
            kinds += ["return"] + ["while"] * (scope.loop_depth < 2)
        kinds += ["jump"] * scope.in_for
        kind = self.pick(kinds)
        if kind == "update" and scope.floats:
            return [indent + self.update(scope, self.pick(scope.floats))]
        if kind == "unpack" and scope.floats:
            var = self.pick(scope.floats)
            new = self.new("u")
            line = f"{indent}{var}, {new} = {self.expr(scope, 1)}, {self.expr(scope, 1)}"
            scope.floats.append(new)
            return [line]
        if kind == "if":
            lines = [f"{indent}if {self.condition(scope)}:"]
            lines += self.block(scope.child(), self.draw(st.integers(1, 2)), indent + "    ")
            if self.draw(st.booleans()):
                lines += [f"{indent}else:"] + self.block(scope.child(), self.draw(st.integers(1, 2)), indent + "    ")
            return lines
        if kind == "for":
            def body(inner, deeper):
                return self.block(inner, self.draw(st.integers(1, 3)), deeper)
            return self.loop(scope, indent, body)
        if kind == "accumulate":
            return self.accumulate(scope, indent)
        if kind == "while":
            var = self.new("j")
            inner = scope.child(loop_depth=scope.loop_depth + 1, in_for=False, ints=scope.ints + [var])
            return [f"{indent}{var} = 0", f"{indent}while {var} < k:", f"{indent}    {var} += 1"] + \
                self.block(inner, self.draw(st.integers(1, 2)), indent + "    ")
        if kind == "jump":
            return [f"{indent}if {self.condition(scope)}:", f"{indent}    {self.pick(['break', 'continue'])}"]
        if kind == "write":
            return [indent + self.write(scope)]
        if kind == "matrix write":
            return [indent + self.matrix_write(scope)]
        if kind == "fill":
            return [indent + self.fill_call(scope)]
        if kind == "return":
            return [f"{indent}if {self.condition(scope)}:", f"{indent}    return {self.expr(scope)}"]
        var = self.new("t")
        value = self.pick(["0", "1", "0.0"]) if self.chance(0.2) else self.expr(scope)
        scope.floats.append(var)
        return [f"{indent}{var} = {value}"]

    def update(self, scope, var):
        """A new value for the number `var`; products only by tanh, so they stay bounded over loops."""
        form = self.pick(["+=", "-=", "*=", "sin", "plus", "times"])
        value = self.expr(scope)
        if form == "*=":
            return f"{var} *= math.tanh({value})"
        if form == "sin":
            return f"{var} = math.sin({var} + {value})"
        if form == "plus":
            return f"{var} = {var} + {value}"
        if form == "times":
            return f"{var} = {var} * math.tanh({value})"
        return f"{var} {form} {value}"

    def accumulate(self, scope, indent):
        """An accumulator started as a user starts one (`s = 0`, `p = 1`, `s = 0.0`) and updated in a
        loop, sometimes in a nested loop whose bound follows the outer variable (`range(i + 1)`)."""
        var = self.new("s")
        lines = [f"{indent}{var} = {self.pick(['0', '1', '0.0', '1.0'])}"]
        scope.floats.append(var)
        nested = scope.loop_depth == 0 and self.draw(st.booleans())

        def body(inner, deeper):
            lines = self.block(inner, self.draw(st.integers(0, 1)), deeper) if self.chance(0.3) else []
            lines = [line for line in lines if line.strip() != "pass"]
            if nested and inner.loop_depth == 1:
                return lines + self.loop(inner, deeper, body)
            return lines + [deeper + self.update(inner, var)]
        return lines + self.loop(scope, indent, body)

    def write(self, scope):
        """A write into a 1-D local: one element or the whole array."""
        array = self.pick(scope.writable)
        form = self.pick(["element", "element", "element", "slice", "augmented"])
        if form == "slice":
            return f"{array}[:] = {self.vector(scope)}"
        if form == "augmented":
            return f"{array} {self.pick(['+=', '-='])} {self.vector(scope)}"
        return f"{array}[{self.index(scope)}] {self.pick(['=', '+='])} {self.expr(scope)}"

    def matrix_write(self, scope):
        """A write into a 2-D local: an element, a row (an array, or a number broadcast), a column."""
        name, rows = self.pick(scope.matrices)
        form = self.pick(["element", "element", "row", "row", "row slice", "row number", "row add", "column"])
        if form == "element":
            return f"{name}[{self.row(scope, rows)}, {self.index(scope)}] {self.pick(['=', '+='])} {self.expr(scope)}"
        if form == "row":
            return f"{name}[{self.row(scope, rows)}] = {self.vector(scope)}"
        if form == "row slice":
            return f"{name}[{self.row(scope, rows)}, :] = {self.vector(scope)}"
        if form == "row number":
            return f"{name}[{self.row(scope, rows)}] = {self.expr(scope, 1)}"
        if form == "row add":
            return f"{name}[{self.row(scope, rows)}] += {self.vector(scope)}"
        if rows == "n":
            column = self.vector(scope)
        else:
            other = f"{name}[:, {self.index(scope)}]"
            column = self.pick([self.expr(scope, 1), f"{other} * {self.leaf(scope)}", f"np.sin({other})"])
        return f"{name}[:, {self.index(scope)}] = {column}"

    def fill_call(self, scope):
        """A helper that writes into its first argument, called as a statement: into a 1-D
        local or into a row of a matrix (a view)."""
        targets = list(scope.writable)
        for name, rows in scope.matrices:
            targets.append(f"{name}[{self.row(scope, rows)}]")
        return f"{self.pick(self.helpers.fills)}({self.pick(targets)}, {self.vector(scope)}, {self.expr(scope, 1)})"

    # -- functions ---------------------------------------------------------------------

    def number_helper(self, name, arity):
        params = [f"p{i}" for i in range(arity)]
        scope = Scope(floats=list(params), in_f=False, has_n=False)
        body = [line for line in self.block(scope, self.draw(st.integers(0, 2)), "    ") if line.strip() != "pass"]
        return [f"def {name}({', '.join(params)}):"] + body + [f"    return {self.expr(scope)}"]

    def local_arrays(self, scope, source, count):
        """Up to `count` 1-D locals made from `source`, then filled by the body."""
        lines = []
        for _ in range(self.draw(st.integers(0, count))):
            array = self.new("y")
            made = self.pick(["np.zeros(n)", f"{source} * 1.0", f"np.sin({source})", f"np.ones_like({source})",
                              f"{source}.copy()", f"np.zeros_like({source})"])
            lines.append(f"    {array} = {made}")
            scope.vectors.append(array)
            scope.writable.append(array)
        return lines

    def vector_helper(self, name):
        """name(v, c): an array of len(v), from a few statements."""
        scope = Scope(floats=["c"], vectors=["v"], in_f=False)
        lines = [f"def {name}(v, c):", "    n = len(v)"] + self.local_arrays(scope, "v", 1)
        lines += [line for line in self.block(scope, self.draw(st.integers(0, 2)), "    ") if line.strip() != "pass"]
        return lines + [f"    return {self.vector(scope)}"]

    def fill_helper(self, name):
        """name(out, v, c): writes into `out` and returns nothing, as in-place kernels do."""
        scope = Scope(floats=["c"], vectors=["out", "v"], writable=["out"], in_f=False)
        lines = [f"def {name}(out, v, c):", "    n = len(out)"]
        lines += [line for line in self.block(scope, self.draw(st.integers(0, 1)), "    ") if line.strip() != "pass"]
        form = self.pick(["slice", "augmented", "loop", "element"])
        if form == "slice":
            return lines + [f"    out[:] = {self.vector(scope)}"]
        if form == "augmented":
            return lines + [f"    out {self.pick(['+=', '-='])} {self.vector(scope)}"]
        if form == "element":
            return lines + [f"    out[{self.index(scope)}] {self.pick(['=', '+='])} {self.expr(scope)}"]
        inner = scope.child(loop_depth=1, in_for=True, ints=["i"], indices=[("i", 0, 0)])
        return lines + ["    for i in range(n):", f"        out[i] {self.pick(['=', '+='])} {self.expr(inner)}"]

    def function(self):
        scope = Scope(floats=["a"], vectors=["x"], ints=["k"])
        lines = ["def f(x, a, k):", "    n = len(x)"] + self.local_arrays(scope, "x", 2)
        for _ in range(self.draw(st.integers(0, 2))):
            matrix = self.new("h")
            rows = self.pick(["n", 2, 3])
            shape = "(n, n)" if rows == "n" else f"({rows}, n)"
            made = self.pick([f"np.zeros({shape})", f"np.zeros({shape})", f"np.ones({shape})"])
            if rows == "n" and self.chance(0.3):
                made = self.pick([f"np.outer(x, {self.vector(scope, 0)})", f"x[:, None] * {self.vector(scope, 0)}"])
            elif rows == 2 and self.chance(0.1):
                made = f"np.vstack((x, {self.vector(scope, 0)}))"
            lines.append(f"    {matrix} = {made}")
            scope.matrices.append((matrix, rows))
        lines += self.block(scope, self.draw(st.integers(1, 5)), "    ")
        lines.append(f"    return {self.expr(scope)}")
        return lines


@st.composite
def programs(draw):
    """The source of a module: imports, helpers (of numbers, returning arrays, writing into
    an array argument) and `f(x, a, k)`."""
    helpers, lines = Helpers(), ["import math", "", "import numpy as np", ""]
    for i in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["number", "number", "vector", "fill"]))
        builder = Builder(draw, replace(helpers, numbers=list(helpers.numbers), vectors=list(helpers.vectors),
                                        fills=list(helpers.fills)), prefix=f"_{i}_")
        if kind == "number":
            name, arity = f"helper{i}", draw(st.integers(1, 2))
            lines += ["", *builder.number_helper(name, arity), ""]
            helpers.numbers.append((name, arity))
        elif kind == "vector":
            lines += ["", *builder.vector_helper(f"vec{i}"), ""]
            helpers.vectors.append(f"vec{i}")
        else:
            lines += ["", *builder.fill_helper(f"fill{i}"), ""]
            helpers.fills.append(f"fill{i}")
    lines += ["", *Builder(draw, helpers).function(), ""]
    return "\n".join(lines)


@st.composite
def points(draw, size=None):
    """(x, a, k): x of length 1–4 in [-2, 2], a in [-2, 2], k in 0..3. No coordinate is 0 and no two are
    equal: there the generated programs meet kinks (|0|, ties of max) whose conventions differences cannot check."""
    n = size or draw(st.integers(1, 4))
    coordinate = st.floats(-2.0, 2.0, allow_nan=False).map(lambda t: round(t, 6)).filter(lambda t: t != 0.0)
    # distinct coordinates: a tie (max(x0, a) at x0 == a) takes the documented ½ split, not a difference
    values = draw(st.lists(coordinate, min_size=n + 1, max_size=n + 1, unique=True))
    return np.array(values[:n], dtype=np.float64), values[n], draw(st.integers(0, 3))


# ---- loading and the oracle --------------------------------------------------------

_FOLDER = Path(tempfile.mkdtemp(prefix="s2sdiff_fuzz_"))
_loaded = itertools.count()

# a scalar slice of f for sd.grad(sd.grad(·)) and sd.derivative(·, order=2): a → f(x, a, k)
SLICE = "\n\ndef f_of_a(a, x, k):\n    return f(x, a, k)\n"


def load(source):
    """The source as a real module file (s2sdiff reads the source), with `f_of_a` added: the module."""
    name = f"fuzz_program_{next(_loaded)}"
    path = _FOLDER / f"{name}.py"
    path.write_text(source + SLICE)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def oracle_function(source):
    """`f` run in mpmath: takes (x as a sequence, a, k) of mpf numbers, returns an mpf."""
    namespace = {"math": _MpMath(), "np": _MpNumpy()}
    body = "\n".join(line for line in source.splitlines() if not line.startswith("import "))
    exec(compile(body, "<oracle>", "exec"), namespace)
    f = namespace["f"]

    def run(x, a, k):
        return f(np.array([mpmath.mpf(t) for t in x], dtype=object), mpmath.mpf(a), k)
    return run
