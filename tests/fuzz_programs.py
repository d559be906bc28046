"""Random programs over s2sdiff's language, and an oracle for them that shares no code with s2sdiff.

`programs()` is a hypothesis strategy for the source of a module with a function
`f(x, a, k)` — `x` a float array, `a` a float, `k` a small int — and up to two helpers it
calls. The programs use what DESIGN §2 promises: arithmetic, elementary functions on safe
domains, branches on comparisons (`and`/`or`/`not`, conditional expressions, early
returns), `for` loops over `range` (nested, with `break`/`continue`) and `while` loops,
locals overwritten inside loops, tuple unpacking, element reads of `x` and of arrays the
function makes, element writes and accumulation into them, whole-array ufuncs and
reductions, and calls to the helpers.

Values stay bounded (exponentials only of bounded arguments, divisions by `1 + e²`), so
a program is finite for x in [-2, 2] except by rare chance; callers discard non-finite ones.

The oracle runs the same source with `math` and `np` bound to mpmath-backed stand-ins and
arrays of mpf numbers, at 40 digits, and differentiates by central differences with a
step of 1e-12 (truncation error ~1e-24): exact to far below float64 rounding, except when
a branch or a kink lies within the step — probability ~1e-12 for a random point.
"""
from __future__ import annotations

import importlib.util
import itertools
import sys
import tempfile
from dataclasses import dataclass, field
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


class _MpNumpy:
    """`np` for the oracle: object arrays of mpf numbers."""

    def __getattr__(self, name):
        return _elementwise(_ELEMENTARY[name])

    @staticmethod
    def zeros(n):
        return np.array([mpmath.mpf(0)] * n, dtype=object)

    @staticmethod
    def ones_like(t):
        return np.array([mpmath.mpf(1)] * len(t), dtype=object)

    @staticmethod
    def sum(t):
        return mpmath.fsum(t)

    @staticmethod
    def dot(u, v):
        return mpmath.fsum(p * q for p, q in zip(u, v))

    @staticmethod
    def maximum(u, v):
        return np.frompyfunc(max, 2, 1)(u, v) if isinstance(u, np.ndarray) or isinstance(v, np.ndarray) else max(u, v)

    @staticmethod
    def minimum(u, v):
        return np.frompyfunc(min, 2, 1)(u, v) if isinstance(u, np.ndarray) or isinstance(v, np.ndarray) else min(u, v)


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
ARRAY_UNARY = ["np.sin({})", "np.tanh({})", "np.exp(-({}) ** 2)", "({}) * ({})", "np.sqrt(1.0 + ({}) ** 2)"]
COMPARE = ["<", ">", "<=", ">="]


@dataclass
class Scope:
    """What a statement at this point may read and write."""
    floats: list = field(default_factory=list)      # float locals assigned on every path so far
    arrays: list = field(default_factory=list)      # arrays of len(x) made in the function
    indices: list = field(default_factory=list)     # (loop variable, lowest, highest offset allowed)
    ints: list = field(default_factory=list)        # int locals (loop variables, k)
    loop_depth: int = 0
    in_for: bool = False
    in_f: bool = True                               # False in a helper: no x, a, n, k there

    def child(self, **changes):
        scope = Scope(list(self.floats), list(self.arrays), list(self.indices), list(self.ints),
                      self.loop_depth, self.in_for, self.in_f)
        for key, value in changes.items():
            setattr(scope, key, value)
        return scope


class Builder:
    """Draws one program; `draw` is hypothesis's."""

    def __init__(self, draw, helpers):
        self.draw = draw
        self.helpers = helpers          # names of callable helpers: (name, arity)
        self.counter = itertools.count()

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def new(self, prefix):
        return f"{prefix}{next(self.counter)}"

    # -- expressions -----------------------------------------------------------------

    def element(self, scope, array):
        """`array[index]` with an index inside 0..len(x)-1."""
        if scope.indices and self.draw(st.booleans()):
            var, low, high = self.pick(scope.indices)
            offset = self.draw(st.integers(low, high))
            return f"{array}[{var}{f' + {offset}' if offset > 0 else f' - {-offset}' if offset < 0 else ''}]"
        if scope.ints and self.draw(st.booleans()):
            return f"{array}[{self.pick(scope.ints)} % n]"
        return f"{array}[{self.pick(['0', 'n - 1', 'n // 2'])}]"

    def leaf(self, scope):
        kinds = ["const"] + ["a", "x"] * scope.in_f + ["float"] * bool(scope.floats) + ["int"] * bool(scope.ints)
        kinds += ["array"] * bool(scope.arrays)
        kind = self.pick(kinds)
        if kind == "const":
            return repr(self.pick([0.5, 1.5, -0.75, 2.0, 0.1, 3.0]))
        if kind == "a":
            return "a"
        if kind == "x":
            return self.element(scope, "x")
        if kind == "float":
            return self.pick(scope.floats)
        if kind == "int":
            return f"0.1 * {self.pick(scope.ints)}"
        return self.element(scope, self.pick(scope.arrays))

    def expr(self, scope, depth=2):
        if depth == 0:
            return self.leaf(scope)
        kind = self.pick(["leaf", "unary", "binary", "binary", "ifexp", "call", "reduce"])
        if kind == "unary":
            return self.pick(UNARY).replace("{}", self.expr(scope, depth - 1))
        if kind == "binary":
            return self.pick(BINARY).format(self.expr(scope, depth - 1), self.expr(scope, depth - 1))
        if kind == "ifexp":
            return f"({self.expr(scope, depth - 1)} if {self.condition(scope)} else {self.expr(scope, depth - 1)})"
        if kind == "call" and self.helpers:
            name, arity = self.pick(self.helpers)
            return f"{name}({', '.join(self.expr(scope, depth - 1) for _ in range(arity))})"
        if kind == "reduce" and scope.in_f:
            return self.reduction(scope)
        return self.leaf(scope)

    def array_expr(self, scope):
        array = self.pick(["x"] + scope.arrays)
        kind = self.pick(["plain", "ufunc", "scaled", "sum2"])
        if kind == "ufunc":
            return self.pick(ARRAY_UNARY).replace("{}", array)
        if kind == "scaled":
            return f"{array} * {self.leaf(scope.child(indices=[]))}"
        if kind == "sum2":
            return f"{array} + {self.pick(['x'] + scope.arrays)}"
        return array

    def reduction(self, scope):
        kind = self.pick(["sum", "dot", "mean"])
        if kind == "dot":
            return f"np.dot({self.pick(['x'] + scope.arrays)}, {self.array_expr(scope)})"
        if kind == "mean":
            return f"np.sum({self.array_expr(scope)}) / n"
        return f"np.sum({self.array_expr(scope)})"

    def condition(self, scope, depth=1):
        kind = self.pick(["compare", "compare", "int"] + ["and", "not"] * (depth > 0))
        if kind == "int" and scope.ints:
            var = self.pick(scope.ints)
            return self.pick([f"{var} % 2 == 0", f"{var} > k", f"{var} < 2"])
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

    def statement(self, scope, indent):
        kinds = ["assign", "assign", "update", "if", "unpack"]
        if scope.in_f:
            kinds += ["return"] + ["for", "for", "while"] * (scope.loop_depth < 2)
            kinds += ["write", "write"] * bool(scope.arrays)
        kinds += ["jump"] * scope.in_for
        kind = self.pick(kinds)
        if kind == "update" and scope.floats:
            var = self.pick(scope.floats)
            op = self.pick(["+=", "-=", "*=", "="])
            value = self.expr(scope)
            if op in ("*=", "="):       # bounded, so products over loop iterations stay finite
                value = f"math.tanh({value})" if op == "*=" else f"math.sin({var} + {value})"
            return [f"{indent}{var} {op} {value}"]
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
            var = self.new("i")
            bounds = self.pick([("n", 0, 0), ("n - 1", 0, 1), ("1, n", -1, 0), ("k", None, None)])
            low, high = bounds[1], bounds[2]
            inner = scope.child(loop_depth=scope.loop_depth + 1, in_for=True, ints=scope.ints + [var])
            if low is not None:
                inner.indices = scope.indices + [(var, low, high)]
            return [f"{indent}for {var} in range({bounds[0]}):"] + \
                self.block(inner, self.draw(st.integers(1, 3)), indent + "    ")
        if kind == "while":
            var = self.new("j")
            inner = scope.child(loop_depth=scope.loop_depth + 1, in_for=False, ints=scope.ints + [var])
            return [f"{indent}{var} = 0", f"{indent}while {var} < k:", f"{indent}    {var} += 1"] + \
                self.block(inner, self.draw(st.integers(1, 2)), indent + "    ")
        if kind == "jump":
            return [f"{indent}if {self.condition(scope)}:", f"{indent}    {self.pick(['break', 'continue'])}"]
        if kind == "write":
            array = self.pick(scope.arrays)
            target = self.element(scope, array)
            return [f"{indent}{target} {self.pick(['=', '+='])} {self.expr(scope)}"]
        if kind == "return":
            return [f"{indent}if {self.condition(scope)}:", f"{indent}    return {self.expr(scope)}"]
        var = self.new("t")
        line = f"{indent}{var} = {self.expr(scope)}"
        scope.floats.append(var)
        return [line]

    def helper(self, name, arity):
        params = [f"p{i}" for i in range(arity)]
        scope = Scope(floats=list(params), in_f=False)
        body = self.block(scope, self.draw(st.integers(0, 2)), "    ")
        body = [line for line in body if line.strip() != "pass"]
        return [f"def {name}({', '.join(params)}):"] + body + [f"    return {self.expr(scope)}"]

    def function(self):
        scope = Scope(floats=["a"], ints=["k"])
        lines = ["def f(x, a, k):", "    n = len(x)"]
        for _ in range(self.draw(st.integers(0, 2))):
            array = self.new("y")
            lines.append(f"    {array} = {self.pick(['np.zeros(n)', 'x * 1.0', 'np.sin(x)', 'np.ones_like(x)'])}")
            scope.arrays.append(array)
        lines += self.block(scope, self.draw(st.integers(1, 5)), "    ")
        lines.append(f"    return {self.expr(scope)}")
        return lines


@st.composite
def programs(draw):
    """The source of a module: imports, 0–2 helpers and `f(x, a, k)`."""
    helpers, lines = [], ["import math", "", "import numpy as np", ""]
    for i in range(draw(st.integers(0, 2))):
        name, arity = f"helper{i}", draw(st.integers(1, 2))
        builder = Builder(draw, list(helpers))
        lines += ["", *builder.helper(name, arity), ""]
        helpers.append((name, arity))
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


def load(source):
    """The source as a real module file (s2sdiff reads the source): its `f`."""
    name = f"fuzz_program_{next(_loaded)}"
    path = _FOLDER / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.f


def oracle_function(source):
    """`f` run in mpmath: takes (x as a sequence, a, k) of mpf numbers, returns an mpf."""
    namespace = {"math": _MpMath(), "np": _MpNumpy()}
    body = "\n".join(line for line in source.splitlines() if not line.startswith("import "))
    exec(compile(body, "<oracle>", "exec"), namespace)
    f = namespace["f"]

    def run(x, a, k):
        return f(np.array([mpmath.mpf(t) for t in x], dtype=object), mpmath.mpf(a), k)
    return run
