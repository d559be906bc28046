"""The rules of elementwise primitives: arithmetic, elementary functions, and piecewise-constant
functions (derivative zero wherever it exists), generated code's own buffers among them.
"""
from . import _rule, LN10, LN2, binary, constant, unary

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
# ties (x == y) share the derivative evenly; unordered (a NaN), Python's max and min return
# the first argument, and so the derivative is the first's.  On numbers, `choose` (every
# side computed, one picked) and not `if`: a branch on the sign of a ReLU's input is taken
# at random, and the mispredictions made a fused ReLU's adjoint loop 5× slower
binary("maximum", "max np.maximum",
       "choose(x > y, dx, choose(y > x, dy, choose(x == y, 0.5 * (dx + dy), dx)))",
       "choose(y > x, 0.0, choose(x == y, 0.5 * bz, bz))", "choose(y > x, bz, choose(x == y, 0.5 * bz, 0.0))",
       array=("dx * ((x > y) + 0.5 * (x == y)) + dy * ((y > x) + 0.5 * (x == y))",
              "bz * ((x > y) + 0.5 * (x == y))", "bz * ((y > x) + 0.5 * (x == y))"))
binary("minimum", "min np.minimum",
       "choose(x < y, dx, choose(y < x, dy, choose(x == y, 0.5 * (dx + dy), dx)))",
       "choose(y < x, 0.0, choose(x == y, 0.5 * bz, bz))", "choose(y < x, bz, choose(x == y, 0.5 * bz, 0.0))",
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
constant("stacked_empty", "runtime.stacked_empty", arity=2, result="array")   # a list comprehension's array
_rule("full",        ("shape", "x"), "np.full", "full(shape, dx)", None, "adjoint_like(bz, x)", result="array")
# Generated code's own buffers (runtime.py): tapes, and adjoints' starting zeros.  Their
# contents are written element by element, so their tangents are fresh zeros too.
constant("new_tape", "runtime.new_tape", arity=2, result="array")
constant("step_tape", "runtime.step_tape", arity=2, result="array")
# A tape of arrays whose shape changes (a list), and the copies its slots are given: counted
# against the memory budget as the primal's (a tangent's tape, like a tape's zeros, is not).
constant("array_tape", "runtime.array_tape", arity=2, result="array")
unary("kept", "runtime.kept", "owned(dx)", "bz")
unary("step_kept", "runtime.step_kept", "owned(dx)", "bz")
# A checkpointed loop's bookkeeping (transform/reverse.py): sizes and steps, never differentiated.
constant("nbytes_of", "runtime.nbytes_of", result="number")
_rule("start_tapes", ("budget",), "runtime.start_tapes", None, result="number")
_rule("snapshot_slots", ("steps", "state", "budget"), "runtime.snapshot_slots", None, result="number")
_rule("checkpoint_split", ("start", "stop", "free"), "runtime.checkpoint_split", None, result="number")
constant("zero_like", "runtime.zero_like")
constant("empty_adjoint", "runtime.empty_adjoint", result="array")
unary("grown", "runtime.grown", "grown(dx)", "folded(bz)", result="array")
unary("step_grown", "runtime.step_grown", "step_grown(dx)", "folded(bz)", result="array")
unary("folded", "runtime.folded", "folded(dx)", "grown(bz)", result="array")
unary("owned", "runtime.owned", "owned(dx)", "bz")
