"""Derivatives of every elementary primitive, checked against mpmath at 50 digits.

Each primitive is written in every spelling a user may choose (`math.X`, `np.X`, builtin,
operator).  The oracle is the closed-form derivative evaluated in mpmath at the exact
binary64 input (no rounding of the input, 50 significant digits), and the generated
derivative must match it to a relative error of 1e-12 — near the edges of each domain
too.  Where the true derivative is (close to) zero an absolute floor is used instead.

Also covered: the documented JAX conventions at non-differentiable points, calling a
generated derivative from the user's own `numba.njit` code, `jit=False`, and `.source`.

Every check runs in forward and in reverse mode (the `mode` fixture) against the same
oracle, and the reverse-mode result must also agree with the forward-mode one to 1e-13
(tests/modes.py).  In reverse mode `sd.derivative(f)` is `sd.grad(f, wrt=0)`.

In reverse mode every result is also computed through every other entry point (grad,
value_and_grad, jacobian, vjp, jvp, hessian, derivative(order=2), grad(grad(f)); see
tests/modes.py) and must agree with it.

Every transform is built (and numba-compiled) once per mode and cached in `_BUILT`; the
tests are parametrized over points.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numba
import numpy as np
import pytest

import s2sdiff as sd
from modes import MODES, assert_modes_agree, check_entry_points

mp = mpmath.mp
mp.dps = 50

RTOL = 1e-12


# =====================================================================================
# Functions under test (module level: s2sdiff reads their source with inspect)
# =====================================================================================

# ---- trigonometric ------------------------------------------------------------------
def math_sin(x): return math.sin(x)
def np_sin(x): return np.sin(x)
def math_cos(x): return math.cos(x)
def np_cos(x): return np.cos(x)
def math_tan(x): return math.tan(x)
def np_tan(x): return np.tan(x)
def math_asin(x): return math.asin(x)
def np_arcsin(x): return np.arcsin(x)
def math_acos(x): return math.acos(x)
def np_arccos(x): return np.arccos(x)
def math_atan(x): return math.atan(x)
def np_arctan(x): return np.arctan(x)
def math_atan2(y, x): return math.atan2(y, x)
def np_arctan2(y, x): return np.arctan2(y, x)


# ---- hyperbolic ---------------------------------------------------------------------
def math_sinh(x): return math.sinh(x)
def np_sinh(x): return np.sinh(x)
def math_cosh(x): return math.cosh(x)
def np_cosh(x): return np.cosh(x)
def math_tanh(x): return math.tanh(x)
def np_tanh(x): return np.tanh(x)
def math_asinh(x): return math.asinh(x)
def np_arcsinh(x): return np.arcsinh(x)
def math_acosh(x): return math.acosh(x)
def np_arccosh(x): return np.arccosh(x)
def math_atanh(x): return math.atanh(x)
def np_arctanh(x): return np.arctanh(x)


# ---- exponential and logarithmic ----------------------------------------------------
def math_exp(x): return math.exp(x)
def np_exp(x): return np.exp(x)
def math_exp2(x): return math.exp2(x)
def np_exp2(x): return np.exp2(x)
def math_expm1(x): return math.expm1(x)
def np_expm1(x): return np.expm1(x)
def math_log(x): return math.log(x)
def np_log(x): return np.log(x)
def math_log2(x): return math.log2(x)
def np_log2(x): return np.log2(x)
def math_log10(x): return math.log10(x)
def np_log10(x): return np.log10(x)
def math_log1p(x): return math.log1p(x)
def np_log1p(x): return np.log1p(x)
def math_log_base(x, base): return math.log(x, base)


# ---- roots and powers ---------------------------------------------------------------
def math_sqrt(x): return math.sqrt(x)
def np_sqrt(x): return np.sqrt(x)
def math_cbrt(x): return math.cbrt(x)
def np_cbrt(x): return np.cbrt(x)
def op_pow(x, y): return x ** y
def np_power(x, y): return np.power(x, y)
def math_pow(x, y): return math.pow(x, y)
def builtin_pow(x, y): return pow(x, y)
def op_cube(x): return x ** 3
def op_inverse_square(x): return x ** -2
def op_pow_half(x): return x ** 0.5
def op_pow_fraction(x): return x ** 2.5
def np_square(x): return np.square(x)
def np_reciprocal(x): return np.reciprocal(x)


# ---- absolute value, hypot, error functions -----------------------------------------
def builtin_abs(x): return abs(x)
def math_fabs(x): return math.fabs(x)
def np_abs(x): return np.abs(x)
def np_absolute(x): return np.absolute(x)
def np_fabs(x): return np.fabs(x)
def math_hypot(x, y): return math.hypot(x, y)
def np_hypot(x, y): return np.hypot(x, y)
def math_erf(x): return math.erf(x)
def math_erfc(x): return math.erfc(x)


# ---- max / min ----------------------------------------------------------------------
def builtin_max(x, y): return max(x, y)
def builtin_min(x, y): return min(x, y)
def np_maximum(x, y): return np.maximum(x, y)
def np_minimum(x, y): return np.minimum(x, y)


# ---- arithmetic ---------------------------------------------------------------------
def op_div(x, y): return x / y
def np_divide(x, y): return np.divide(x, y)
def op_neg(x): return -x
def np_negative(x): return np.negative(x)
def op_mod(x, y): return x % y
def np_mod(x, y): return np.mod(x, y)
def np_remainder(x, y): return np.remainder(x, y)
def op_floordiv(x, y): return x // y
def np_floor_divide(x, y): return np.floor_divide(x, y)


# ---- piecewise constant -------------------------------------------------------------
def math_floor(x): return math.floor(x)
def np_floor(x): return np.floor(x)
def math_ceil(x): return math.ceil(x)
def np_ceil(x): return np.ceil(x)
def builtin_round(x): return round(x)
def np_round(x): return np.round(x)
def np_rint(x): return np.rint(x)
def np_sign(x): return np.sign(x)
def builtin_int(x): return int(x)
def math_trunc(x): return math.trunc(x)
def np_trunc(x): return np.trunc(x)


# =====================================================================================
# Oracles: closed-form derivatives evaluated in mpmath (inputs are converted exactly)
# =====================================================================================

def M(v):
    """The exact value of a binary64 number as an mpmath number."""
    return mpmath.mpf(float(v))


LN2 = mpmath.log(2)
LN10 = mpmath.log(10)


def d_pow(x, y):
    """(d/dx, d/dy) of x**y; d/dy is undefined (None) for a negative base."""
    x, y = M(x), M(y)
    dx = y * x ** (y - 1) if x != 0 or y >= 1 else None
    if x > 0:
        dy = x ** y * mpmath.log(x)
    else:
        dy = None
    return dx, dy


def d_mod(x, y):
    return mpmath.mpf(1), -mpmath.floor(M(x) / M(y))


def d_max(x, y):
    return (mpmath.mpf(1), mpmath.mpf(0)) if x > y else (mpmath.mpf(0), mpmath.mpf(1))


def d_min(x, y):
    return (mpmath.mpf(1), mpmath.mpf(0)) if x < y else (mpmath.mpf(0), mpmath.mpf(1))


def d_zero(*args):
    return tuple(mpmath.mpf(0) for _ in args)


# One oracle per mathematical primitive; several spellings share it.
ORACLES = {
    "sin": lambda x: mpmath.cos(M(x)),
    "cos": lambda x: -mpmath.sin(M(x)),
    "tan": lambda x: mpmath.sec(M(x)) ** 2,
    "arcsin": lambda x: 1 / mpmath.sqrt(1 - M(x) ** 2),
    "arccos": lambda x: -1 / mpmath.sqrt(1 - M(x) ** 2),
    "arctan": lambda x: 1 / (1 + M(x) ** 2),
    "arctan2": lambda y, x: (M(x) / (M(x) ** 2 + M(y) ** 2), -M(y) / (M(x) ** 2 + M(y) ** 2)),
    "sinh": lambda x: mpmath.cosh(M(x)),
    "cosh": lambda x: mpmath.sinh(M(x)),
    "tanh": lambda x: mpmath.sech(M(x)) ** 2,
    "arcsinh": lambda x: 1 / mpmath.sqrt(M(x) ** 2 + 1),
    "arccosh": lambda x: 1 / mpmath.sqrt(M(x) ** 2 - 1),
    "arctanh": lambda x: 1 / (1 - M(x) ** 2),
    "exp": lambda x: mpmath.exp(M(x)),
    "exp2": lambda x: LN2 * mpmath.power(2, M(x)),
    "expm1": lambda x: mpmath.exp(M(x)),
    "log": lambda x: 1 / M(x),
    "log2": lambda x: 1 / (M(x) * LN2),
    "log10": lambda x: 1 / (M(x) * LN10),
    "log1p": lambda x: 1 / (1 + M(x)),
    "log_base": lambda x, b: (1 / (M(x) * mpmath.log(M(b))),
                              -mpmath.log(M(x)) / (M(b) * mpmath.log(M(b)) ** 2)),
    "sqrt": lambda x: 1 / (2 * mpmath.sqrt(M(x))),
    "cbrt": lambda x: 1 / (3 * mpmath.cbrt(abs(M(x))) ** 2),     # real cube root, x < 0 too
    "pow": d_pow,
    "pow_x": lambda x, y: d_pow(x, y)[0],
    "cube": lambda x: 3 * M(x) ** 2,
    "inverse_square": lambda x: -2 * M(x) ** -3,
    "pow_half": lambda x: mpmath.mpf("0.5") * M(x) ** mpmath.mpf("-0.5"),
    "pow_fraction": lambda x: mpmath.mpf("2.5") * M(x) ** mpmath.mpf("1.5"),
    "square": lambda x: 2 * M(x),
    "reciprocal": lambda x: -1 / M(x) ** 2,
    "abs": lambda x: mpmath.sign(M(x)),
    "hypot": lambda x, y: (M(x) / mpmath.hypot(M(x), M(y)), M(y) / mpmath.hypot(M(x), M(y))),
    "erf": lambda x: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-M(x) ** 2),
    "erfc": lambda x: -2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-M(x) ** 2),
    "maximum": d_max,
    "minimum": d_min,
    "div": lambda x, y: (1 / M(y), -M(x) / M(y) ** 2),
    "neg": lambda x: mpmath.mpf(-1),
    "mod": d_mod,
    "zero": d_zero,
}

# The primal of each oracle, used only to self-check the oracles with mpmath.diff.
PRIMALS = {
    "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan, "arcsin": mpmath.asin,
    "arccos": mpmath.acos, "arctan": mpmath.atan, "arctan2": mpmath.atan2,
    "sinh": mpmath.sinh, "cosh": mpmath.cosh, "tanh": mpmath.tanh, "arcsinh": mpmath.asinh,
    "arccosh": mpmath.acosh, "arctanh": mpmath.atanh, "exp": mpmath.exp,
    "exp2": lambda x: mpmath.power(2, x), "expm1": mpmath.expm1, "log": mpmath.log,
    "log2": lambda x: mpmath.log(x, 2), "log10": mpmath.log10, "log1p": mpmath.log1p,
    "log_base": lambda x, b: mpmath.log(x) / mpmath.log(b),
    "sqrt": mpmath.sqrt, "cbrt": mpmath.cbrt, "pow": mpmath.power,
    "pow_x": mpmath.power, "cube": lambda x: x ** 3, "inverse_square": lambda x: x ** -2,
    "pow_half": lambda x: x ** mpmath.mpf("0.5"), "pow_fraction": lambda x: x ** mpmath.mpf("2.5"),
    "square": lambda x: x * x, "reciprocal": lambda x: 1 / x, "abs": abs,
    "hypot": mpmath.hypot, "erf": mpmath.erf, "erfc": mpmath.erfc,
    "maximum": max, "minimum": min, "div": lambda x, y: x / y, "neg": lambda x: -x,
    "mod": lambda x, y: x - y * mpmath.floor(x / y),
}


# =====================================================================================
# Cases: a function, its oracle, the points, and how it is differentiated
# =====================================================================================

@dataclass(frozen=True)
class Case:
    name: str                 # readable id: how the user spells the primitive
    func: object
    oracle: str               # key of ORACLES
    points: tuple             # argument tuples
    wrt: tuple = (0,)         # (0,): sd.derivative (reverse: sd.grad(wrt=0)); otherwise sd.grad(wrt=...)

    @property
    def is_grad(self):
        return self.wrt != (0,)


class Tiny(tuple):
    """A point where the derivative is ~0 (underflows): checked with an absolute floor `atol`."""

    def __new__(cls, *args, atol):
        point = super().__new__(cls, args)
        point.atol = atol
        return point


def _pts(*xs):
    return tuple(x if isinstance(x, tuple) else (x,) for x in xs)


TRIG_PTS = _pts(-3.0, -0.5, 0.0, 1e-8, 1.0, 2.5, math.pi / 2, 40.0)
TAN_PTS = _pts(-1.4, -0.5, 0.0, 0.7, 1.5, 1.5707)
ASIN_PTS = _pts(-0.999, -0.5, 0.0, 1e-8, 0.3, 0.999)
ATAN_PTS = _pts(-1e3, -2.0, 0.0, 0.5, 10.0, 1e8)
ATAN2_PTS = ((1.0, 2.0), (-3.0, 0.5), (0.5, -4.0), (-1e-8, -1.0), (2.0, 0.0), (0.0, 3.0), (1e5, 1e-5))
SINH_PTS = _pts(-50.0, -2.0, 0.0, 0.5, 3.0, 50.0)
COSH_PTS = _pts(-50.0, -2.0, 0.0, 1e-8, 0.5, 3.0, 50.0)
# tanh'(10) = 8.2e-9 is an ordinary relative-accuracy point; tanh'(+-30) = 3.5e-26 underflows
# against tanh'(0) = 1, so there only an absolute error of 1e-15 is asked for.
TANH_PTS = _pts(-3.0, -0.5, 0.0, 0.8, 4.0, 10.0, Tiny(-30.0, atol=1e-15), Tiny(30.0, atol=1e-15))
ASINH_PTS = _pts(-1e4, -2.0, 0.0, 0.5, 3.0, 1e8)
ACOSH_PTS = _pts(1.0001, 1.5, 3.0, 1e4)
ATANH_PTS = _pts(-0.99, -0.5, 0.0, 0.3, 0.99)
EXP_PTS = _pts(-50.0, -1.0, 0.0, 1e-10, 2.0, 50.0)
EXP2_PTS = _pts(-50.0, -1.5, 0.0, 3.0, 50.0)
# expm1 exists for accuracy; its derivative exp(x) must stay accurate for x << 0 too (-20).
EXPM1_PTS = _pts(-20.0, -1.0, -1e-10, 0.0, 1e-10, 1.0, 50.0)
LOG_PTS = _pts(1e-8, 0.5, 1.0, 2.0, 1e10)
LOG1P_PTS = _pts(-1 + 1e-8, -0.5, -1e-10, 0.0, 1e-10, 3.0, 1e10)
SQRT_PTS = _pts(1e-8, 0.25, 2.0, 1e10)
CBRT_PTS = _pts(-27.0, -1e-8, 1e-8, 0.5, 8.0, 1e10)
POW_PTS = ((2.0, 3.0), (0.5, 0.5), (1e-8, 2.5), (3.0, -1.5), (1.5, 1 / 3), (10.0, 0.0), (0.25, 7.0))
POW_NEG_BASE_PTS = ((-2.0, 3.0), (-1.5, 2.0), (-3.0, -1.0))
# s2sdiff bugs found by checking every entry point (tests/modes.py); each test still runs its own checks
JVP_POW_NEGATIVE_BASE = ("sd.jvp(pow, (-2.0, 3.0), (1.0, 0.0)) is nan (0 * log(-2)); the derivative along x is 12 "
                         "(sd.derivative and sd.grad say so)")
ABS_PTS = _pts(-3.0, -1e-8, 1e-8, 2.5)
HYPOT_PTS = ((3.0, 4.0), (-1e-8, 2.0), (-5.0, -12.0), (1e150, 1e150), (0.0, 2.0))
ERF_PTS = _pts(-3.0, -0.5, 0.0, 1e-8, 1.0, 5.0, Tiny(27.0, atol=1e-320))      # erf'(27) is subnormal
MAXMIN_PTS = ((1.0, 2.0), (2.0, 1.0), (-3.0, -3.0000001), (-1e-8, 1e-8))
DIV_PTS = ((1.0, 3.0), (-2.5, 1e-8), (1e10, -7.0), (0.0, 2.0))
MOD_PTS = ((7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (1.0, 3.0), (10.25, 0.5))
FLOORDIV_PTS = ((7.0, 2.0), (-7.5, 2.0), (7.5, -2.0), (1.0, 3.0))
STEP_PTS = _pts(-2.5, -0.3, 0.7, 3.2)


def spelled(func):
    """How the user spelled the primitive: math.asin, np.arcsin, pow, x**y."""
    family, _, name = func.__name__.partition("_")
    if family == "op":
        return {"pow": "x**y"}[name]
    return name if family == "builtin" else f"{family}.{name}"


def _spellings(oracle, points, *funcs, **kw):
    return [Case(spelled(f), f, oracle, points, **kw) for f in funcs]


BOTH = (0, 1)

CASES = [
    *_spellings("sin", TRIG_PTS, math_sin, np_sin),
    *_spellings("cos", TRIG_PTS, math_cos, np_cos),
    *_spellings("tan", TAN_PTS, math_tan, np_tan),
    *_spellings("arcsin", ASIN_PTS, math_asin, np_arcsin),
    *_spellings("arccos", ASIN_PTS, math_acos, np_arccos),
    *_spellings("arctan", ATAN_PTS, math_atan, np_arctan),
    *_spellings("arctan2", ATAN2_PTS, math_atan2, np_arctan2, wrt=BOTH),
    *_spellings("sinh", SINH_PTS, math_sinh, np_sinh),
    *_spellings("cosh", COSH_PTS, math_cosh, np_cosh),
    *_spellings("tanh", TANH_PTS, math_tanh, np_tanh),
    *_spellings("arcsinh", ASINH_PTS, math_asinh, np_arcsinh),
    *_spellings("arccosh", ACOSH_PTS, math_acosh, np_arccosh),
    *_spellings("arctanh", ATANH_PTS, math_atanh, np_arctanh),
    *_spellings("exp", EXP_PTS, math_exp, np_exp),
    *_spellings("exp2", EXP2_PTS, math_exp2, np_exp2),
    *_spellings("expm1", EXPM1_PTS, math_expm1, np_expm1),
    *_spellings("log", LOG_PTS, math_log, np_log),
    *_spellings("log2", LOG_PTS, math_log2, np_log2),
    *_spellings("log10", LOG_PTS, math_log10, np_log10),
    *_spellings("log1p", LOG1P_PTS, math_log1p, np_log1p),
    Case("math.log(x,base)", math_log_base, "log_base",
         ((3.0, 2.0), (0.5, 10.0), (100.0, 0.5), (1e-8, 3.0), (2.0, 1e-8)), wrt=BOTH),
    *_spellings("sqrt", SQRT_PTS, math_sqrt, np_sqrt),
    *_spellings("cbrt", CBRT_PTS, math_cbrt, np_cbrt),
    *_spellings("pow", POW_PTS, op_pow, np_power, math_pow, builtin_pow, wrt=BOTH),
    # negative base, integer exponent, both arguments active: d/dx is 3*x**2 etc.
    # (d/dy is not real there and is not checked)
    *[Case(c.name + "@neg_base", c.func, "pow", POW_NEG_BASE_PTS, wrt=BOTH)
      for c in _spellings("pow", (), op_pow, np_power, math_pow, builtin_pow)],
    # the exponent held fixed (only x active): negative bases and integer exponents too
    *[Case(c.name + "@x_only", c.func, "pow_x", POW_NEG_BASE_PTS + POW_PTS + ((-2.0, 3),))
      for c in _spellings("pow", (), op_pow, np_power, math_pow, builtin_pow)],
    Case("x**3", op_cube, "cube", _pts(-2.0, -0.5, 0.0, 1e-8, 1.5, 1e5)),
    Case("x**-2", op_inverse_square, "inverse_square", _pts(-3.0, -1e-8, 0.5, 2.0)),
    Case("x**0.5", op_pow_half, "pow_half", _pts(1e-8, 0.5, 4.0, 1e10)),
    Case("x**2.5", op_pow_fraction, "pow_fraction", _pts(0.0, 1e-8, 0.5, 4.0)),
    Case("np.square", np_square, "square", _pts(-3.0, 0.0, 1e-8, 2.5, 1e150)),
    Case("np.reciprocal", np_reciprocal, "reciprocal", _pts(-4.0, 1e-8, 0.5, 3.0)),
    *_spellings("abs", ABS_PTS, builtin_abs, math_fabs, np_abs, np_absolute, np_fabs),
    *_spellings("hypot", HYPOT_PTS, math_hypot, np_hypot, wrt=BOTH),
    Case("math.erf", math_erf, "erf", ERF_PTS),
    Case("math.erfc", math_erfc, "erfc", ERF_PTS),
    *_spellings("maximum", MAXMIN_PTS, builtin_max, np_maximum, wrt=BOTH),
    *_spellings("minimum", MAXMIN_PTS, builtin_min, np_minimum, wrt=BOTH),
    Case("x/y", op_div, "div", DIV_PTS, wrt=BOTH),
    Case("np.divide", np_divide, "div", DIV_PTS, wrt=BOTH),
    Case("-x", op_neg, "neg", _pts(-2.0, 0.0, 3.5)),
    Case("np.negative", np_negative, "neg", _pts(-2.0, 0.0, 3.5)),
    Case("x%y", op_mod, "mod", MOD_PTS, wrt=BOTH),
    *_spellings("mod", MOD_PTS, np_mod, np_remainder, wrt=BOTH),
    Case("x//y", op_floordiv, "zero", FLOORDIV_PTS, wrt=BOTH),
    Case("np.floor_divide", np_floor_divide, "zero", FLOORDIV_PTS, wrt=BOTH),
    *_spellings("zero", STEP_PTS, math_floor, np_floor, math_ceil, np_ceil, builtin_round,
                np_round, np_rint, np_sign, builtin_int, math_trunc, np_trunc),
]

_names = [c.name for c in CASES]
assert len(set(_names)) == len(_names), "case names must be unique"

_BUILT: dict = {}


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


def transformed(case: Case, mode: str, jit: bool = True):
    """The derivative (or gradient) of case.func in `mode`, built once per session."""
    key = (case.name, mode, jit)
    if key not in _BUILT:
        if case.is_grad:
            _BUILT[key] = sd.grad(case.func, wrt=case.wrt, mode=mode, jit=jit)
        elif mode == "forward":
            _BUILT[key] = sd.derivative(case.func, jit=jit)
        else:
            _BUILT[key] = sd.grad(case.func, wrt=0, mode=mode, jit=jit)
    return _BUILT[key]


def case_of(func, oracle=None):
    return next(c for c in CASES if c.func is func and oracle in (None, c.oracle))


def expected(case: Case, point):
    ref = ORACLES[case.oracle](*point)
    return ref if isinstance(ref, tuple) else (ref,)


def computed(case: Case, point, mode, jit=True):
    got = transformed(case, mode, jit)(*point)
    if mode == "reverse" and jit:
        check_entry_points("G" if case.is_grad else "D", case.func, case.wrt if case.is_grad else 0, tuple(point), got)
    return got if isinstance(got, tuple) else (got,)


def assert_matches(got, ref, atol=0.0, what=""):
    """|got - ref| <= RTOL*|ref| + atol, with ref an mpmath number (None: not checked)."""
    if ref is None:
        return
    assert isinstance(got, (float, np.floating)), f"{what}: not a float: {got!r}"
    assert math.isfinite(got), f"{what}: got {got!r}, expected {mpmath.nstr(ref, 17)}"
    err = abs(mpmath.mpf(float(got)) - ref)
    tol = RTOL * abs(ref) + atol
    rel = float(err / abs(ref)) if ref != 0 else float(err)
    assert err <= tol, (f"{what}: got {float(got)!r}, expected {mpmath.nstr(ref, 20)} "
                        f"(relative error {rel:.3g} > {RTOL:g})")


def _fmt(v):
    return repr(v) if isinstance(v, int) else f"{v:.10g}"


def _case_points():
    for case in CASES:
        for point in case.points:
            bug = case.name.endswith("@x_only") and point[0] < 0
            yield pytest.param(case, point, id=f"{case.name}({', '.join(map(_fmt, point))})",
                               marks=[pytest.mark.entry_point_bug(JVP_POW_NEGATIVE_BASE)] if bug else [])


# =====================================================================================
# The main check: every primitive, every spelling, every point
# =====================================================================================

@pytest.mark.parametrize("case, point", list(_case_points()))
def test_derivative_matches_mpmath(mode, case, point):
    got = computed(case, point, mode)
    ref = expected(case, point)
    assert len(got) == len(case.wrt)
    for i, (g, r) in enumerate(zip(got, ref)):
        assert_matches(g, r, getattr(point, "atol", 0.0),
                       what=f"{mode} d{case.name}/d(arg {case.wrt[i]}) at {point}")
    if mode == "reverse":
        assert_modes_agree(got, computed(case, point, "forward"), what=f"d{case.name} at {point}")


# Oracle self-check: the closed forms above agree with mpmath.diff (pure mpmath, fast).
BINARY_ORACLES = {"arctan2", "hypot", "pow", "pow_x", "log_base", "maximum", "minimum", "div", "mod"}


@pytest.mark.parametrize("name", sorted(PRIMALS))
def test_oracle_agrees_with_mpmath_diff(name):
    primal, oracle = PRIMALS[name], ORACLES[name]
    nargs = 2 if name in BINARY_ORACLES else 1
    points = {1: [(0.3,), (0.7,), (1.7,)], 2: [(0.7, 1.9), (2.3, 0.6), (1.3, 3.5)]}
    if name == "arccosh":
        points[1] = [(1.3,), (2.0,), (5.0,)]
    for point in points[nargs]:
        ref = oracle(*point)
        ref = ref if isinstance(ref, tuple) else (ref,)
        args = [M(p) for p in point]
        for i, r in enumerate(ref):
            if r is None or name == "pow_x" and i > 0:
                continue
            order = tuple(int(j == i) for j in range(nargs))
            numeric = mpmath.diff(primal, args, order) if nargs > 1 else mpmath.diff(primal, args[0])
            assert abs(numeric - r) <= mpmath.mpf(10) ** -30 * max(1, abs(r)), (name, point, i)


# =====================================================================================
# Conventions at non-differentiable points (JAX's)
# =====================================================================================

ABS_FUNCS = [builtin_abs, math_fabs, np_abs, np_absolute, np_fabs]


@pytest.mark.parametrize("func", ABS_FUNCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("zero", [0.0, -0.0], ids=["+0", "-0"])
def test_abs_derivative_at_zero_is_one(mode, func, zero):
    assert computed(case_of(func), (zero,), mode) == (1.0,)


MAX_MIN = [builtin_max, np_maximum, builtin_min, np_minimum]


@pytest.mark.parametrize("func", MAX_MIN, ids=lambda f: f.__name__)
@pytest.mark.parametrize("tie", [1.0, -2.5, 0.0])
def test_max_min_split_ties_evenly(mode, func, tie):
    assert computed(case_of(func), (tie, tie), mode) == (0.5, 0.5)


@pytest.mark.parametrize("func", [math_sqrt, np_sqrt], ids=lambda f: f.__name__)
def test_sqrt_derivative_at_zero_is_plus_inf(mode, func):
    assert computed(case_of(func), (0.0,), mode) == (math.inf,)


POW_FUNCS = [op_pow, np_power, math_pow, builtin_pow]


@pytest.mark.parametrize("func", POW_FUNCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("y", [2.0, 0.5, 3.0])
def test_pow_derivative_in_exponent_at_zero_base_is_zero(mode, func, y):
    dx, dy = computed(case_of(func, "pow"), (0.0, y), mode)
    assert dy == 0.0
    assert dx == (0.0 if y > 1 else math.inf)      # y * 0**(y-1)


JVP_POW_ZERO_BASE = ("sd.jvp(pow, (0.0, 0.5), (0.0, u)) is nan: 0 (the x tangent) times the infinite partial in x; "
                     "the derivative along y is 0")


@pytest.mark.parametrize("func", POW_FUNCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("y", [2.0, pytest.param(0.5, marks=pytest.mark.entry_point_bug(JVP_POW_ZERO_BASE)), 3.0])
def test_pow_derivative_in_exponent_at_zero_base_is_zero_exponent_only(mode, func, y):
    key = (func.__name__, "wrt=y", mode)
    if key not in _BUILT:
        _BUILT[key] = sd.grad(func, wrt="y", mode=mode)
    got = _BUILT[key](0.0, y)
    assert got == 0.0
    if mode == "reverse":
        check_entry_points("G", func, "y", (0.0, y), got)


# =====================================================================================
# Calling generated derivatives from numba, jit=False, and the generated source
# =====================================================================================

def test_derivative_callable_from_user_njit_code(mode):
    d_sin = transformed(case_of(math_sin), mode)
    g_pow = transformed(case_of(op_pow, "pow"), mode)
    d_tanh = transformed(case_of(np_tanh), mode)

    @numba.njit
    def loop(xs):
        out = np.empty((xs.size, 4))
        for i in range(xs.size):
            out[i, 0] = d_sin(xs[i])
            dx, dy = g_pow(xs[i], 2.5)
            out[i, 1] = dx
            out[i, 2] = dy
            out[i, 3] = d_tanh(xs[i])
        return out

    xs = np.linspace(0.1, 3.0, 17)
    out = loop(xs)
    for i, x in enumerate(xs):
        x = float(x)
        assert out[i, 0] == d_sin(x)
        assert (out[i, 1], out[i, 2]) == g_pow(x, 2.5)
        assert out[i, 3] == d_tanh(x)
        assert_matches(out[i, 0], ORACLES["sin"](x), what=f"sin' at {x}")
        ref_dx, ref_dy = ORACLES["pow"](x, 2.5)
        assert_matches(out[i, 1], ref_dx, what=f"d(x**2.5)/dx at {x}")
        assert_matches(out[i, 2], ref_dy, what=f"d(x**2.5)/dy at {x}")
        assert_matches(out[i, 3], ORACLES["tanh"](x), what=f"tanh' at {x}")


# A spread of cases and points, including the convention points: jit=False must agree.
NOJIT = [
    ("math.sin", (0.7,)), ("np.cos", (2.0,)), ("math.asin", (0.999,)), ("np.arctan2", (-3.0, 0.5)),
    ("math.expm1", (1e-10,)), ("np.log1p", (-1 + 1e-8,)), ("math.cbrt", (-27.0,)),
    ("x**y", (1.5, 1 / 3)), ("math.pow", (0.0, 2.0)), ("pow", (2.0, 3.0)),
    ("math.hypot", (3.0, 4.0)), ("math.erf", (1.0,)), ("max", (1.0, 2.0)),
    ("max", (1.0, 1.0)), ("np.minimum", (-2.5, -2.5)), ("abs", (0.0,)),
    ("math.fabs", (-3.0,)), ("x%y", (-7.5, 2.0)), ("math.floor", (2.5,)), ("np.sign", (-0.3,)),
    ("math.sqrt", (2.0,)), ("math.sqrt", (0.0,)), ("np.sqrt", (0.0,)),
]


@pytest.mark.parametrize("name, point", NOJIT, ids=[f"{n}{p}" for n, p in NOJIT])
def test_jit_false_gives_the_same_numbers(mode, name, point):
    case = next(c for c in CASES if c.name == name)
    with np.errstate(divide="ignore"):
        plain = computed(case, point, mode, jit=False)
    compiled = computed(case, point, mode, jit=True)
    assert len(plain) == len(compiled)
    for p, c in zip(plain, compiled):
        assert p == c or abs(p - c) <= 4 * np.spacing(abs(c)), (plain, compiled)


def test_generated_source_is_valid_python_and_uses_math_cos(mode):
    df = transformed(case_of(math_sin), mode)
    compile(df.source, "<s>", "exec")
    assert "math.cos" in df.source
    dn = transformed(case_of(np_sin), mode)
    compile(dn.source, "<s>", "exec")
    assert "np.cos" in dn.source


def tanh_times_identity(t):
    return math.tanh(t) * t


@pytest.mark.parametrize("t", [0.3, -2.0, 25.0, -400.0])
@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_tanh_second_and_third_derivatives_stay_finite_for_large_arguments(t, jit):
    # tanh′ was 1 / cosh²: its own derivative became inf / inf past |x| ≈ 355
    for order in (2, 3):
        got = sd.derivative(tanh_times_identity, order=order, jit=jit)(t)
        want = float(mpmath.diff(lambda u: mpmath.tanh(u) * u, t, order))
        assert got == pytest.approx(want, rel=1e-12, abs=1e-300)
