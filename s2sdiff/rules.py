"""The derivative rules: one entry per primitive, forward and reverse rule side by side.

Each rule is mathematics in Python syntax over the primitive's arguments (`x`, `y`, …),
its result `z`, their tangents (`dx`, `dy`) and the result's adjoint (`bz`):

    forward:  dz = <linear in dx, dy, …>
    reverse:  bx += <linear in bz>,  by += …      (None: no derivative in that argument)

Calls inside a rule name other primitives of this table, so rules of rules are rules too
(that is how transforms compose into higher derivatives).  The spellings say how users
write the primitive: an operator, `math.*`, `np.*` or a builtin; generated calls keep
the family the user chose.  Adding a primitive is one entry here.

Conventions at non-differentiable points follow JAX: |x|'(0) = 1, max/min split ties
evenly, sqrt'(0) = inf, d(x**y)/dx = 0 at y = 0 and d(x**y)/dy = 0 at x = 0.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
LN2 = math.log(2.0)
LN10 = math.log(10.0)

OPERATORS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "//": ast.FloorDiv,
             "%": ast.Mod, "**": ast.Pow, "@": ast.MatMult}
UNARY_OPERATORS = {"-": ast.USub, "+": ast.UAdd}


@dataclass(frozen=True)
class Rule:
    op: str
    params: tuple            # template names of the arguments
    operator: object         # ast operator class when spelled as an operator
    spellings: dict          # family -> dotted name used when emitting ("math" -> "math.asin")
    aliases: tuple           # every dotted name users may write for it
    tangent: ast.expr | None
    adjoints: tuple          # one ast.expr or None per parameter
    result: str = "elementwise"   # "elementwise" (a number iff all arguments are), "number", "array"
    array_tangent: ast.expr | None = None    # forms for array arguments, where the number
    array_adjoints: tuple | None = None      # rule branches with `if`; np.where instead
    linear: tuple | None = None              # linear_in, where the forward rule does not show it
    defaults: dict = None                    # parameter -> its value when not given (and it may be a keyword)
    rank: int | str | None = None            # the result's number of dimensions, or the parameter whose it is

    def forms(self, arrays: bool) -> tuple:
        """(tangent, adjoints) for number or array arguments."""
        if arrays and self.array_tangent is not None:
            return self.array_tangent, self.array_adjoints
        return self.tangent, self.adjoints

    @property
    def differentiable(self) -> bool:
        return self.tangent is not None

    @property
    def differentiated(self) -> tuple:
        """Whether each argument's value flows differentiably into the result: those whose
        tangent the forward rule reads (not a condition, an axis, a shape to take)."""
        read = {n.id for n in ast.walk(self.tangent) if isinstance(n, ast.Name)} if self.tangent is not None else ()
        return tuple("d" + p in read for p in self.params)

    @cached_property
    def linear_in(self) -> tuple:
        """The arguments the primitive is linear in, so that it is zero where one of them is
        (a symbolic zero tangent): read off a forward rule that is the primitive itself,
        applied to one tangent in that argument's place per term (`sum(dx)`,
        `outer(dx, y) + outer(x, dy)`), or declared where the rule does not show it."""
        if self.linear is not None:
            return self.linear
        terms, linear = [self.tangent] if self.tangent is not None else [], set()
        while terms:
            term = terms.pop()
            if isinstance(term, ast.BinOp) and isinstance(term.op, ast.Add):
                terms += [term.left, term.right]
                continue
            if not (isinstance(term, ast.Call) and isinstance(term.func, ast.Name) and term.func.id == self.op
                    and len(term.args) == len(self.params)):
                return ()
            varied = [i for i, (a, p) in enumerate(zip(term.args, self.params))
                      if not (isinstance(a, ast.Name) and a.id == p)]
            if len(varied) != 1 or ast.unparse(term.args[varied[0]]) != "d" + self.params[varied[0]]:
                return ()
            linear.add(varied[0])
        return tuple(sorted(linear))

    def spelling(self, family: str) -> str:
        """Dotted name for a call in `family`, falling back to a family numba supports."""
        for fam in (family, "np", "math", "builtin", "runtime"):
            if fam in self.spellings:
                return self.spellings[fam]
        raise KeyError(self.op)


RULES: dict[str, Rule] = {}


def _template(text):
    return None if text is None else ast.parse(text, mode="eval").body


def _family(dotted: str) -> str:
    return dotted.split(".")[0] if "." in dotted else "builtin"


NUMBA_LACKS: dict = {}     # a spelling users write that numba cannot compile -> the one to emit


def _rule(op, params, spellings, forward, *reverse, result="elementwise", array=None, linear=None, defaults=None,
          rank=None):
    names = spellings.split()
    operator = None
    if names and names[0] in OPERATORS and len(params) == 2:
        operator = OPERATORS[names.pop(0)]
    elif names and names[0] in UNARY_OPERATORS and len(params) == 1:
        operator = UNARY_OPERATORS[names.pop(0)]
    by_family = {}
    for dotted in names:
        if not dotted.endswith("!"):   # "!": users may write it, numba lacks it, emit another
            by_family.setdefault(_family(dotted), dotted)
    for dotted in (d for d in names if d.endswith("!")):
        NUMBA_LACKS[dotted[:-1]] = by_family.get("np") or next(iter(by_family.values()))
    names = [dotted.rstrip("!") for dotted in names]
    if forward is None:
        reverse = (None,) * len(params)
    assert len(reverse) == len(params), op
    array_tangent = array_adjoints = None
    if array is not None:
        array_tangent, array_adjoints = _template(array[0]), tuple(_template(r) for r in array[1:])
    RULES[op] = Rule(op, params, operator, by_family, tuple(names), _template(forward),
                     tuple(_template(r) for r in reverse), result, array_tangent, array_adjoints, linear,
                     defaults or {}, rank)


def unary(op, spellings, forward, reverse, **options):
    _rule(op, ("x",), spellings, forward, reverse, **options)


def binary(op, spellings, forward, reverse_x, reverse_y, **options):
    _rule(op, ("x", "y"), spellings, forward, reverse_x, reverse_y, **options)


def constant(op, spellings, arity=1, result="elementwise"):
    """Piecewise-constant primitives: derivative zero wherever it exists."""
    _rule(op, ("x", "y")[:arity], spellings, None, result=result)


# ---- arithmetic ---------------------------------------------------------------------
#       op         spellings                     forward: dz =                          reverse: bx +=, by +=
binary("add",     "+ np.add",                   "dx + dy",                             "bz", "bz")
binary("sub",     "- np.subtract",              "dx - dy",                             "bz", "-bz")
binary("mul",     "* np.multiply",              "dx * y + x * dy",                     "bz * y", "x * bz")
binary("truediv", "/ np.divide np.true_divide", "(dx - z * dy) / y",                   "bz / y", "-bz * z / y")
binary("pow",     "** pow math.pow np.power np.float_power",
       "(0.0 if y == 0 else y * x ** (y - 1)) * dx + (0.0 if x == 0 else z * log(x)) * dy",
       "0.0 if y == 0 else bz * y * x ** (y - 1)", "0.0 if x == 0 else bz * z * log(x)",
       array=("choose(y == 0, 0.0, y * np.power(x, y - 1)) * dx + choose(x == 0, 0.0, z * log(x)) * dy",
              "bz * choose(y == 0, 0.0, y * np.power(x, y - 1))", "bz * choose(x == 0, 0.0, z * log(x))"))
binary("mod",     "% np.mod np.remainder",      "dx - floor(x / y) * dy",              "bz", "-bz * floor(x / y)")
unary("neg",      "- np.negative",              "-dx",                                 "-bz")
unary("pos",      "+ np.positive",              "dx",                                  "bz")
unary("float",    "float np.float64",           "dx",                                  "bz")
constant("floordiv", "// np.floor_divide", arity=2)

# ---- elementary functions -----------------------------------------------------------
unary("sin",      "math.sin np.sin",            "cos(x) * dx",                         "bz * cos(x)")
unary("cos",      "math.cos np.cos",            "-sin(x) * dx",                        "-bz * sin(x)")
unary("tan",      "math.tan np.tan",            "(1 + z * z) * dx",                    "bz * (1 + z * z)")
unary("arcsin",   "math.asin np.arcsin",        "dx / sqrt((1 - x) * (1 + x))",        "bz / sqrt((1 - x) * (1 + x))")
unary("arccos",   "math.acos np.arccos",        "-dx / sqrt((1 - x) * (1 + x))",       "-bz / sqrt((1 - x) * (1 + x))")
unary("arctan",   "math.atan np.arctan",        "dx / (1 + x * x)",                    "bz / (1 + x * x)")
binary("arctan2", "math.atan2 np.arctan2",      "(y * dx - x * dy) / (x * x + y * y)",
       "bz * y / (x * x + y * y)", "-bz * x / (x * x + y * y)")
unary("sinh",     "math.sinh np.sinh",          "cosh(x) * dx",                        "bz * cosh(x)")
unary("cosh",     "math.cosh np.cosh",          "sinh(x) * dx",                        "bz * sinh(x)")
unary("tanh",     "math.tanh np.tanh",          "sech2(x) * dx",                       "bz * sech2(x)")
# tanh′ = sech², as a primitive of its own: 1 / cosh(x)² overflows to inf / inf in its own
# derivative where |x| passes ~355, and 1 - tanh(x)² loses every digit where |x| passes ~19.
unary("sech2",    "runtime.sech2",              "-2 * z * tanh(x) * dx",               "-2 * bz * z * tanh(x)")
unary("arcsinh",  "math.asinh np.arcsinh",      "dx / sqrt(x * x + 1)",                "bz / sqrt(x * x + 1)")
unary("arccosh",  "math.acosh np.arccosh",      "dx / sqrt((x - 1) * (x + 1))",        "bz / sqrt((x - 1) * (x + 1))")
unary("arctanh",  "math.atanh np.arctanh",      "dx / ((1 - x) * (1 + x))",            "bz / ((1 - x) * (1 + x))")
unary("exp",      "math.exp np.exp",            "z * dx",                              "bz * z")
unary("exp2",     "math.exp2 np.exp2",          f"{LN2!r} * z * dx",                   f"{LN2!r} * bz * z")
unary("expm1",    "math.expm1 np.expm1",        "exp(x) * dx",                         "bz * exp(x)")
unary("log",      "math.log np.log",            "dx / x",                              "bz / x")
unary("log2",     "math.log2 np.log2",          f"dx / ({LN2!r} * x)",                 f"bz / ({LN2!r} * x)")
unary("log10",    "math.log10 np.log10",        f"dx / ({LN10!r} * x)",                f"bz / ({LN10!r} * x)")
unary("log1p",    "math.log1p np.log1p",        "dx / (1 + x)",                        "bz / (1 + x)")
unary("sqrt",     "math.sqrt np.sqrt",          "dx / (2 * z)",                        "bz / (2 * z)")
unary("cbrt",     "np.cbrt math.cbrt!",          "dx / (3 * z * z)",                    "bz / (3 * z * z)")
unary("square",   "np.square",                  "2 * x * dx",                          "2 * x * bz")
unary("reciprocal", "np.reciprocal",            "-z * z * dx",                         "-bz * z * z")
unary("abs",      "abs math.fabs np.abs np.absolute np.fabs",
                                                "dx if x >= 0 else -dx",               "bz if x >= 0 else -bz",
      array=("dx * (2.0 * (x >= 0) - 1.0)", "bz * (2.0 * (x >= 0) - 1.0)"))
binary("hypot",   "math.hypot np.hypot",        "(x * dx + y * dy) / z",               "bz * x / z", "bz * y / z")
binary("logaddexp", "np.logaddexp",          "exp(x - z) * dx + exp(y - z) * dy",   "bz * exp(x - z)", "bz * exp(y - z)")
binary("logaddexp2", "np.logaddexp2",          "exp2(x - z) * dx + exp2(y - z) * dy", "bz * exp2(x - z)", "bz * exp2(y - z)")
unary("deg2rad",  "np.deg2rad np.radians math.radians!", "deg2rad(dx)",              "deg2rad(bz)")
unary("rad2deg",  "np.rad2deg np.degrees math.degrees!", "rad2deg(dx)",              "rad2deg(bz)")
# sin(πx)/(πx): its derivatives of every order come from one helper, exact at 0 as well
unary("sinc",     "np.sinc",                    "sinc_derivative(x, 1) * dx",          "bz * sinc_derivative(x, 1)")
_rule("sinc_derivative", ("x", "n"), "runtime.sinc_derivative", "sinc_derivative(x, n + 1) * dx",
      "bz * sinc_derivative(x, n + 1)", None)
unary("nan_to_num", "np.nan_to_num",            "dx * isfinite(x)",                    "bz * isfinite(x)")
unary("erf",      "math.erf",                   f"{TWO_OVER_SQRT_PI!r} * exp(-x * x) * dx",
                                                f"{TWO_OVER_SQRT_PI!r} * bz * exp(-x * x)")
unary("erfc",     "math.erfc",                  f"-{TWO_OVER_SQRT_PI!r} * exp(-x * x) * dx",
                                                f"-{TWO_OVER_SQRT_PI!r} * bz * exp(-x * x)")
binary("maximum", "max np.maximum",             "dx if x > y else (dy if y > x else 0.5 * (dx + dy))",
       "bz if x > y else (0.0 if y > x else 0.5 * bz)", "bz if y > x else (0.0 if x > y else 0.5 * bz)",
       array=("dx * ((x > y) + 0.5 * (x == y)) + dy * ((y > x) + 0.5 * (x == y))",
              "bz * ((x > y) + 0.5 * (x == y))", "bz * ((y > x) + 0.5 * (x == y))"))
binary("minimum", "min np.minimum",             "dx if x < y else (dy if y < x else 0.5 * (dx + dy))",
       "bz if x < y else (0.0 if y < x else 0.5 * bz)", "bz if y < x else (0.0 if x < y else 0.5 * bz)",
       array=("dx * ((x < y) + 0.5 * (x == y)) + dy * ((y < x) + 0.5 * (x == y))",
              "bz * ((x < y) + 0.5 * (x == y))", "bz * ((y < x) + 0.5 * (x == y))"))
# NaN-ignoring: where one side is NaN the result is the other, and so is its derivative
binary("fmax",    "np.fmax",
       "dx * ((x > y) + 0.5 * (x == y) + isnan(y)) + dy * ((y > x) + 0.5 * (x == y) + isnan(x))",
       "bz * ((x > y) + 0.5 * (x == y) + isnan(y))", "bz * ((y > x) + 0.5 * (x == y) + isnan(x))")
binary("fmin",    "np.fmin",
       "dx * ((x < y) + 0.5 * (x == y) + isnan(y)) + dy * ((y < x) + 0.5 * (x == y) + isnan(x))",
       "bz * ((x < y) + 0.5 * (x == y) + isnan(y))", "bz * ((y < x) + 0.5 * (x == y) + isnan(x))")
_rule("select",   ("c", "x", "y"), "",          "dx if c else dy",
      None, "bz if c else 0.0", "0.0 if c else bz")

_rule("where",    ("c", "x", "y"), "np.where",  "where(c, dx, dy)",
      None, "where(c, bz, 0.0)", "where(c, 0.0, bz)", result="array")
# `a if c else b` for numbers and arrays alike: the array forms of the rules above use it.
_rule("choose",   ("c", "x", "y"), "runtime.choose", "choose(c, dx, dy)",
      None, "choose(c, bz, 0.0)", "choose(c, 0.0, bz)")

# ---- whole arrays: reductions and linear algebra --------------------------------------
#       op            spellings               forward: dz =                 reverse: bx +=, by +=
unary("sum",         "np.sum",               "sum(dx)",                    "bz", result="number")
# the largest (smallest) element: ties share the derivative evenly, as max/min above do
unary("amax",        "np.max np.amax",       "sum(dx * (x == z)) / sum(x == z)", "bz * (x == z) / sum(x == z)",
      result="number")
unary("amin",        "np.min np.amin",       "sum(dx * (x == z)) / sum(x == z)", "bz * (x == z) / sum(x == z)",
      result="number")
_rule("sum_axis",    ("x", "axis"), "",      "sum_axis(dx, axis)",         "expand(bz, axis)", None, result="array")
_rule("amax_axis",   ("x", "axis"), "runtime.amax_along",
      "sum_axis(dx * equal(x, expand(z, axis)), axis) / sum_axis(equal(x, expand(z, axis)), axis)",
      "expand(bz, axis) * equal(x, expand(z, axis)) / expand(sum_axis(equal(x, expand(z, axis)), axis), axis)", None,
      result="array")
_rule("amin_axis",   ("x", "axis"), "runtime.amin_along",
      "sum_axis(dx * equal(x, expand(z, axis)), axis) / sum_axis(equal(x, expand(z, axis)), axis)",
      "expand(bz, axis) * equal(x, expand(z, axis)) / expand(sum_axis(equal(x, expand(z, axis)), axis), axis)", None,
      result="array")
# np.average's 1-D weights of one axis of x, shaped to broadcast along that axis
_rule("weights_along", ("w", "x", "axis"), "runtime.weights_along", "weights_along(dw, x, axis)",
      "reshape_like(bz, w)", None, None, result="array", rank="x")
_rule("expand",      ("x", "axis"), "runtime.expand", "expand(dx, axis)",  "sum_axis(bz, axis)", None,
      result="array")
unary("copy",        "np.copy",              "copy(dx)",                   "bz", result="array")
unary("transpose",   "np.transpose",         "transpose(dx)",              "transpose(bz)", result="array")
# the same elements in another shape or order; the adjoint of a reshape is reshaped back
_rule("reshape",     ("x", "shape"), "np.reshape", "reshape(dx, shape)", "reshape_like(bz, x)", None, result="array")
unary("ravel",       "np.ravel",             "ravel(dx)",                  "reshape_like(bz, x)", result="array")
unary("flip",        "np.flip",              "flip(dx)",                   "flip(bz)", result="array")
unary("flipud",      "np.flipud",            "flipud(dx)",                 "flipud(bz)", result="array")
unary("fliplr",      "np.fliplr",            "fliplr(dx)",                 "fliplr(bz)", result="array")
_rule("flip_along",  ("x", "axis"), "runtime.flip_along", "flip_along(dx, axis)", "flip_along(bz, axis)", None,
      result="array", rank="x")
# running sums of the flattened array: the adjoint sums the adjoints from the end back
unary("cumsum",      "np.cumsum",            "cumsum(dx)",                 "reshape_like(flip(cumsum(flip(bz))), x)",
      result="array")
_rule("reshape_like", ("x", "like"), "runtime.reshape_like", "reshape_like(dx, like)", "reshape_like(bz, x)", None,
      result="array")
# ---- joining and splitting: pieces of an array along an axis --------------------------
# The tangent of a join needs both pieces' tangents: `densify` makes a symbolic zero one
# (a constant piece) an array of zeros.  The adjoint of a piece is the slice of the
# join's adjoint it came from (`part`), and a slice's adjoint is that slice put back into
# zeros (`put`): the two are adjoint to each other, so joins have derivatives of any order.
_rule("concat",      ("x", "y", "axis"), "runtime.concat", "concat(densify(dx, x), densify(dy, y), axis)",
      "part(bz, 0, dim(x, axis), axis)", "part(bz, dim(x, axis), dim(z, axis), axis)", None, result="array", rank="x")
_rule("part",        ("x", "start", "stop", "axis"), "runtime.part", "part(dx, start, stop, axis)",
      "put(bz, x, start, axis)", None, None, None, result="array", rank="x")
_rule("put",         ("x", "like", "start", "axis"), "runtime.put", "put(dx, like, start, axis)",
      "part(bz, start, start + dim(x, axis), axis)", None, None, None, result="array", rank="like")
# the axes in another order (np.transpose(x, axes)): the adjoint goes back by the inverse order
_rule("swapaxes",    ("x", "axis1", "axis2"), "np.swapaxes", "swapaxes(dx, axis1, axis2)", "swapaxes(bz, axis1, axis2)",
      None, None, result="array", rank="x")
_rule("moveaxis",    ("x", "source", "destination"), "runtime.moveaxis np.moveaxis!", "moveaxis(dx, source, destination)",
      "moveaxis(bz, destination, source)", None, None, result="array", rank="x")
_rule("permute",     ("x", "axes", "inverse"), "runtime.permute", "permute(dx, axes, inverse)",
      "permute(bz, inverse, axes)", None, None, result="array", rank="x")
unary("atleast_1d",  "runtime.atleast_1d np.atleast_1d!", "atleast_1d(dx)", "reshape_like(bz, x)", result="array")
unary("atleast_2d",  "runtime.atleast_2d np.atleast_2d!", "atleast_2d(dx)", "reshape_like(bz, x)", result="array")
unary("atleast_3d",  "runtime.atleast_3d np.atleast_3d!", "atleast_3d(dx)", "reshape_like(bz, x)", result="array")
unary("as_column",   "runtime.as_column",    "as_column(dx)",              "reshape_like(bz, x)", result="array")
# sorted along the last axis: each element's derivative goes where argsort puts it
unary("sort",        "np.sort",              "take_along(dx, order_of(x))", "put_along(bz, order_of(x))",
      result="array", rank="x")
_rule("take_along",  ("x", "order"), "runtime.take_along", "take_along(dx, order)", "put_along(bz, order)", None,
      result="array", rank="x")
_rule("put_along",   ("x", "order"), "runtime.put_along", "put_along(dx, order)", "take_along(bz, order)", None,
      result="array", rank="x")
# diagonals: np.diag makes a matrix of a vector and takes the diagonal of a matrix, and the
# adjoint of each is the other; diag_adjoint(g, x, k) is g in x's shape that way
_rule("diag",        ("x", "k"), "np.diag",  "diag(dx, k)",                "diag_adjoint(bz, x, k)", None,
      result="array", defaults={"k": 0})
_rule("diag_adjoint", ("g", "x", "k"), "runtime.diag_adjoint", "diag_adjoint(dg, x, k)", "diag_adjoint(bz, g, k)",
      None, None, result="array", rank="x")
_rule("tril",        ("x", "k"), "np.tril",  "tril(dx, k)",                "tril(bz, k)", None, result="array", rank="x", defaults={"k": 0})
_rule("triu",        ("x", "k"), "np.triu",  "triu(dx, k)",                "triu(bz, k)", None, result="array", rank="x", defaults={"k": 0})
_rule("broadcast_to", ("x", "shape"), "np.broadcast_to", "broadcast_to(dx, shape)", "adjoint_like(bz, x)", None,
      result="array")
binary("matmul",     "@ np.dot np.matmul",   "dx @ y + x @ dy",
       "matmul_adjoint_left(bz, y)", "matmul_adjoint_right(bz, x)", result="array")
binary("outer",      "np.outer runtime.outer",             "outer(dx, y) + outer(x, dy)", "bz @ y", "x @ bz", result="array")
unary("trace",       "np.trace",             "trace(dx)",                  "bz * eye(dim(x, 0))", result="number")
unary("norm",        "np.linalg.norm",       "sum(x * dx) / z",            "bz * x / z", result="number")
unary("det",         "np.linalg.det",        "z * trace(solve(x, dx))",    "bz * z * transpose(inv(x))",
      result="number")
unary("inv",         "np.linalg.inv",        "-(z @ dx @ z)",              "-(transpose(z) @ bz @ transpose(z))",
      result="array")
binary("solve",      "np.linalg.solve",      "solve(x, dy - dx @ z)",
       "-matmul_adjoint_left(solve(transpose(x), bz), z)", "solve(transpose(x), bz)", result="array", linear=(1,))
# Shape-dependent pieces of adjoints (runtime.py): a broadcast's adjoint summed back to
# the argument's shape, and the halves of a matrix product's adjoint.  Their own rules
# make second derivatives of array code: summing back and spreading out are adjoint to
# each other, and each half of a product's adjoint is bilinear.
binary("matmul_adjoint_left", "runtime.matmul_adjoint_left",
       "matmul_adjoint_left(dx, y) + matmul_adjoint_left(x, dy)", "bz @ y", "matmul_adjoint_right(x, bz)",
       result="array")
_rule("adjoint_like", ("x", "y"), "runtime.adjoint_like", "adjoint_like(dx, y)", "adjoint_like(bz, x)", None)
# A tangent is shaped like its value: an elementwise result broadcast larger by an operand
# with no tangent (`a + X`, X constant) gets its tangent spread to the result's shape.
_rule("tangent_like", ("x", "like"), "runtime.tangent_like", "tangent_like(dx, like)", "adjoint_like(bz, x)", None)
binary("matmul_adjoint_right", "runtime.matmul_adjoint_right",
       "matmul_adjoint_right(dx, y) + matmul_adjoint_right(x, dy)", "y @ bz", "matmul_adjoint_left(x, bz)",
       result="array")

# ---- piecewise constant -------------------------------------------------------------
constant("equal",  "np.equal", arity=2)                 # elementwise ==, as an array of truth values
constant("floor",  "math.floor np.floor")
constant("ceil",   "math.ceil np.ceil")
constant("trunc",  "math.trunc np.trunc int")
constant("round",  "round np.round np.rint")
constant("sign",   "np.sign")
constant("heaviside", "runtime.heaviside np.heaviside!", arity=2)
constant("isnan",  "np.isnan math.isnan")
constant("isinf",  "np.isinf math.isinf")
constant("isfinite", "np.isfinite math.isfinite")
constant("len",    "len", result="number")
constant("argmax", "np.argmax", result="number")        # of the whole array; along an axis kept as written
constant("argmin", "np.argmin", result="number")
_rule("argsort", ("x",), "np.argsort", None, result="array", rank="x")
_rule("order_of", ("x",), "runtime.order_of", None, result="array", rank="x")    # argsort along the last axis, of matrices too
constant("dim",    "", arity=2, result="number")        # x.shape[k]
constant("size",   "", result="number")                 # x.size
constant("eye",    "np.eye np.identity", result="array")
constant("zeros_like", "np.zeros_like", result="array")     # shaped like x, whatever x holds
constant("ones_like",  "np.ones_like", result="array")
constant("empty_like", "np.empty_like", result="array")
_rule("full_like",   ("x", "y"), "np.full_like", "full_like(x, dy)", None, "adjoint_like(bz, y)", result="array")
constant("zeros",  "np.zeros", result="array")
constant("ones",   "np.ones", result="array")
constant("empty",  "np.empty", result="array")
_rule("full",        ("shape", "x"), "np.full", "full(shape, dx)", None, "adjoint_like(bz, x)", result="array")
# Generated code's own buffers (runtime.py): tapes, and adjoints' starting zeros.  Their
# contents are written element by element, so their tangents are fresh zeros too.
constant("new_tape", "runtime.new_tape", arity=2, result="array")
constant("zero_like", "runtime.zero_like")
constant("empty_adjoint", "runtime.empty_adjoint", result="array")
unary("grown", "runtime.grown", "grown(dx)", "folded(bz)", result="array")
unary("folded", "runtime.folded", "folded(dx)", "grown(bz)", result="array")
unary("owned", "runtime.owned", "owned(dx)", "bz")

# ---- linear algebra: factorizations and decompositions ----------------------------------
# A NumPy function that returns a tuple is one primitive per component, each a function of
# the call's arguments (linalg_calls.py): `w, V = np.linalg.eigh(A)` is w = eigvalsh(A),
# V = eigh_vectors(A).  A component's rule reads the others as calls on the same arguments,
# which the common-subexpression pass shares with the user's.  Every rule below is written
# with primitives of this table (the linear maps first), so rules of rules give second
# derivatives.  On 2-D arrays; right-hand sides may be 1-D.
#
# np.linalg.eigh, eigvalsh and cholesky read only the lower triangle of A (as LAPACK does):
# A's tangent enters as sym_lower(dA), the symmetric matrix that triangle spells, and the
# adjoint leaves through its transpose fold_lower, so the upper triangle's derivative is 0.
# SciPy's solve_triangular reads one triangle likewise; cho_solve((c, lower), b) is lowered
# to two triangular solves with c.
#
# Where the derivative does not exist it is not made finite:
# * eigh, svd: repeated eigenvalues (singular values) give inverse_gaps an inf, so the
#   eigenvector (singular vector) derivatives are inf/nan; eigenvalues and singular values
#   stay finite, as JAX's do.  A zero singular value of a non-square matrix divides by 0.
# * slogdet at a singular matrix, cholesky of a matrix that is not positive definite,
#   qr of a matrix without full column rank (also: wider than tall, not implemented): the
#   factorization or its solves raise LinAlgError, or the division by a zero pivot gives inf.
# * pinv and lstsq without full rank (singular values counted as each function counts
#   them): nan, through the piecewise-constant factor full_rank.  With full rank, pinv's
#   rule holds for tall and wide matrices, lstsq's for full column or full row rank.
# Eigenvector and singular vector signs are LAPACK's, locally constant: a derivative is of
# the vectors with those signs held.
unary("sym_lower",    "runtime.sym_lower",    "sym_lower(dx)",          "fold_lower(bz)", result="array", rank=2)
unary("fold_lower",   "runtime.fold_lower",   "fold_lower(dx)",         "sym_lower(bz)", result="array", rank=2)
_rule("triangle", ("x", "lower", "k"), "runtime.triangle", "triangle(dx, lower, k)", "triangle(bz, lower, k)",
      None, None, result="array", rank=2)      # np.tril(x, k) or np.triu(x, k)
unary("lower_halved", "runtime.lower_halved", "lower_halved(dx)",       "lower_halved(bz)", result="array", rank=2)
# F[i, j] = 1 / (w[j] - w[i]) off the diagonal: dF[i, j] = F[i, j]² (dw[i] - dw[j])
unary("inverse_gaps", "runtime.inverse_gaps", "z * z * (expand(dx, 1) - expand(dx, 0))",
      "sum_axis(bz * z * z, 1) - sum_axis(bz * z * z, 0)", result="array", rank=2)
# op(T) z = y for the triangle T of x (op: transpose where trans is 1): dz = op(T)⁻¹ (dy - op(dT) z)
_rule("solve_triangular", ("x", "y", "trans", "lower"), "runtime.solve_triangular",
      "solve_triangular(x, dy - (transpose(triangle(dx, lower, 0)) if trans == 1 else triangle(dx, lower, 0)) @ z,"
      " trans, lower)",
      "-triangle(matmul_adjoint_left(z, solve_triangular(x, bz, 1 - trans, lower)) if trans == 1"
      " else matmul_adjoint_left(solve_triangular(x, bz, 1 - trans, lower), z), lower, 0)",
      "solve_triangular(x, bz, 1 - trans, lower)", None, None, result="array", linear=(1,), rank="y")
# A = L Lᵀ: dL = L Φ(L⁻¹ dA L⁻ᵀ), Φ the lower triangle with the diagonal halved
unary("cholesky",     "np.linalg.cholesky",
      "z @ lower_halved(solve_triangular(z, transpose(solve_triangular(z, transpose(sym_lower(dx)), 0, True)),"
      " 0, True))",
      "fold_lower(transpose(solve_triangular(z, transpose(solve_triangular(z, lower_halved(transpose(z) @ bz),"
      " 1, True)), 1, True)))", result="array", rank=2)
constant("slogdet_sign", "runtime.slogdet_sign", result="number")
unary("logabsdet",    "runtime.logabsdet",    "trace(solve(x, dx))",    "bz * transpose(inv(x))", result="number")
# A = V diag(w) Vᵀ: dw = diag(Vᵀ dA V), dV = V (F ∘ (Vᵀ dA V)) with F = inverse_gaps(w)
unary("eigvalsh",     "np.linalg.eigvalsh",   "sum_axis(eigh_vectors(x) * (sym_lower(dx) @ eigh_vectors(x)), 0)",
      "fold_lower((eigh_vectors(x) * bz) @ transpose(eigh_vectors(x)))", result="array", rank=1)
unary("eigh_vectors", "runtime.eigh_vectors",
      "z @ (inverse_gaps(eigvalsh(x)) * (transpose(z) @ sym_lower(dx) @ z))",
      "fold_lower(z @ (inverse_gaps(eigvalsh(x)) * (transpose(z) @ bz)) @ transpose(z))", result="array", rank=2)
# A = U diag(s) Vt (reduced), V = Vtᵀ, dP = Uᵀ dA V, F = inverse_gaps(s²):
#   ds = diag(dP),  dU = U (F ∘ (dP S + S dPᵀ)) + (I - U Uᵀ) dA V S⁻¹,
#   dV = V (F ∘ (S dP + dPᵀ S)) + (I - V Vᵀ) dAᵀ U S⁻¹
_S, _F = "svdvals(x)", "inverse_gaps(square(svdvals(x)))"
_DP_U = "(transpose(z) @ dx @ transpose(svd_vt(x)))"            # dP in svd_u's rule, U = z
_DP_VT = "(transpose(svd_u(x)) @ dx @ transpose(z))"            # in svd_vt's, Vt = z
_G_U = f"({_F} * (transpose(z) @ bz))"                           # F ∘ (Uᵀ bU)
_G_VT = f"({_F} * (z @ transpose(bz)))"                          # F ∘ (Vᵀ bV)
unary("svdvals",      "runtime.svdvals",      "sum_axis(svd_u(x) * (dx @ transpose(svd_vt(x))), 0)",
      "(svd_u(x) * bz) @ svd_vt(x)", result="array", rank=1)
unary("svd_u",        "runtime.svd_u",
      f"z @ ({_F} * ({_DP_U} * {_S} + expand({_S}, 1) * transpose({_DP_U})))"
      f" + (dx @ transpose(svd_vt(x)) - z @ {_DP_U}) / {_S}",
      f"(z @ ({_G_U} * {_S} + transpose(expand({_S}, 1) * {_G_U}))"
      f" + bz / {_S} - z @ (transpose(z) @ (bz / {_S}))) @ svd_vt(x)", result="array", rank=2)
unary("svd_vt",       "runtime.svd_vt",
      f"transpose(transpose(z) @ ({_F} * (expand({_S}, 1) * {_DP_VT} + transpose({_DP_VT}) * {_S}))"
      f" + (transpose(dx) @ svd_u(x) - transpose(z) @ transpose({_DP_VT})) / {_S})",
      f"svd_u(x) @ ((expand({_S}, 1) * {_G_VT} + transpose({_G_VT} * {_S})) @ z"
      f" + transpose(transpose(bz) / {_S} - transpose(z) @ (z @ (transpose(bz) / {_S}))))", result="array", rank=2)
# A = Q R (reduced, A tall of full column rank), C = Qᵀ dA R⁻¹, Ω = tril(C, -1) - tril(C, -1)ᵀ:
#   dQ = Q (Ω - C) + dA R⁻¹,  dR = (C - Ω) R
_DA_RINV_Q = "transpose(solve_triangular(qr_r(x), transpose(dx), 1, False))"      # dA R⁻¹ in qr_q's rule
_DA_RINV_R = "transpose(solve_triangular(z, transpose(dx), 1, False))"            # in qr_r's
_C_Q = f"(transpose(z) @ {_DA_RINV_Q})"
_C_R = f"(transpose(qr_q(x)) @ {_DA_RINV_R})"
_M, _N = "(transpose(z) @ bz)", "(bz @ transpose(z))"                             # Qᵀ bQ, bR Rᵀ
unary("qr_q",         "runtime.qr_q",
      f"z @ (triangle({_C_Q}, True, -1) - transpose(triangle({_C_Q}, True, -1)) - {_C_Q}) + {_DA_RINV_Q}",
      f"transpose(solve_triangular(qr_r(x), transpose(bz + z @ (triangle({_M} - transpose({_M}), True, -1) - {_M})),"
      " 0, False))", result="array", rank=2)
unary("qr_r",         "runtime.qr_r",
      f"({_C_R} - triangle({_C_R}, True, -1) + transpose(triangle({_C_R}, True, -1))) @ z",
      f"transpose(solve_triangular(z, transpose(qr_q(x) @ ({_N} + triangle(transpose({_N}) - {_N}, True, -1))),"
      " 0, False))", result="array", rank=2)
# Z = A⁺ of constant rank: dZ = -Z dA Z + Z Zᵀ dAᵀ (I - A Z) + (I - Z A) dAᵀ Zᵀ Z
_W, _Y = "(z @ transpose(z) @ transpose(dx))", "(transpose(dx) @ transpose(z) @ z)"
_V, _U = "(transpose(bz) @ z @ transpose(z))", "(transpose(z) @ z @ transpose(bz))"
_rule("pinv", ("x", "rcond"), "np.linalg.pinv",
      f"full_rank(x, rcond) * (-(z @ dx @ z) + {_W} - {_W} @ x @ z + {_Y} - z @ (x @ {_Y}))",
      f"full_rank(x, rcond) * (-(transpose(z) @ bz @ transpose(z)) + {_V} - x @ (z @ {_V}) + {_U} - {_U} @ z @ x)",
      None, result="array", rank=2)
constant("full_rank", "runtime.full_rank", arity=2, result="number")
# z = A⁺ y, r = y - A z: dz = A⁺ (dy - dA z + A⁺ᵀ dAᵀ r) + (I - A⁺ A) dAᵀ A⁺ᵀ z, A⁺ v = lstsq(A, v)
_rule("lstsq", ("x", "y"), "runtime.lstsq_solution",
      "full_rank(x, None) * (lstsq(x, dy - dx @ z + lstsq(transpose(x), transpose(dx) @ (y - x @ z)))"
      " + transpose(dx) @ lstsq(transpose(x), z) - lstsq(x, x @ (transpose(dx) @ lstsq(transpose(x), z))))",
      "full_rank(x, None) * (matmul_adjoint_left(y - x @ z, lstsq(x, lstsq(transpose(x), bz)))"
      " - matmul_adjoint_left(lstsq(transpose(x), bz), z)"
      " + matmul_adjoint_left(lstsq(transpose(x), z), bz - lstsq(x, x @ bz)))",
      "full_rank(x, None) * lstsq(transpose(x), bz)", result="array", linear=(1,), rank="y")
constant("lstsq_rank", "runtime.lstsq_rank", arity=2, result="number")

# Calls that return a new array: never merged with an equal call, and the only values an
# array assigned elements (y[i] = ...) may take.
CREATIONS = frozenset({"zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
                       "copy", "new_tape", "zero_like", "empty_adjoint", "grown", "owned"})

# Plain arithmetic on numbers: a few cycles and no call. A value made only of these is not
# worth keeping for the next iteration (reuse.py), nor a loop of only these worth threads
# (parallel.py): it streams memory at vector speed on one core.
CHEAP = frozenset({"add", "sub", "mul", "square", "neg", "pos", "float", "select", "dim", "size", "len", "abs",
                   "maximum", "minimum", "floor", "ceil", "trunc", "round", "sign"})


# Results that may share their first argument's memory (NumPy returns views): a write
# into one is a write into the other.
VIEWS = frozenset({"transpose", "reshape", "ravel", "flip", "flipud", "fliplr", "flip_along", "atleast_1d", "atleast_2d", "atleast_3d", "as_column",
                   "weights_along", "broadcast_to", "diag", "permute", "swapaxes", "moveaxis"})


def makes_new_array(op: str) -> bool:
    """Whether `op` on arrays returns an array no other name refers to (not a view, not
    one of its arguments)."""
    rule = RULES[op]
    return op in CREATIONS or rule.result in ("elementwise", "array") and rule.differentiable \
        and op not in VIEWS | {"select", "choose", "expand", "pos", "adjoint_like", "tangent_like", "reshape_like"}


def _objects() -> dict:
    """Python object -> (op, family) for every spelling that names a real function."""
    import builtins
    from . import runtime
    roots = {"math": math, "np": np, "builtin": builtins, "runtime": runtime}
    table = {}
    for rule in RULES.values():
        for dotted in rule.aliases:
            family = _family(dotted)
            if family not in roots:
                continue
            obj = roots[family]
            for part in (dotted.split(".")[1:] if family != "builtin" else [dotted]):
                obj = getattr(obj, part, None)
            if obj is not None:
                table.setdefault(id(obj), (obj, rule.op, family))
    return {key: (op, family) for key, (obj, op, family) in table.items()}


PRIMITIVE_OBJECTS = _objects()


def primitive_of(obj):
    """(op, family) if `obj` is a function the rule table covers, else None."""
    try:
        return PRIMITIVE_OBJECTS.get(id(obj))
    except TypeError:
        return None
