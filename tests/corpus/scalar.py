"""Functions of a few real numbers: the elementary-function checks every AD test suite has."""
import math
from math import exp, log, sqrt

import numpy as np

from corpus import case

GRAVITY = 9.81
COEFFS = (0.5, -1.25, 2.0, 0.75)


@case(0.7, tags=("math",))
def sin_times_cos(x):
    return math.sin(x) * math.cos(x)


@case(1.3, tags=("power",))
def cubic_poly(x):
    return 3 * x**3 - 2 * x**2 + x - 7


@case(0.4, tags=("division",))
def rational_fn(x):
    return (x**2 + 1) / (x - 3)


@case(0.3, tags=("math",))
def exp_of_exp(x):
    return math.exp(math.exp(x) / 3)


@case(-0.8, tags=("math",))
def logistic_scalar(x):
    return 1 / (1 + math.exp(-x))


@case(0.9, tags=("math",))
def softplus_scalar(x):
    return math.log1p(math.exp(x))


@case(0.35, tags=("math",))
def tanh_from_exp(x):
    e2 = exp(2 * x)
    return (e2 - 1) / (e2 + 1)


@case(1.1, 2.7, tags=("power",))
def real_power(x, p):
    return x**p


@case(0.6, -1.2, tags=("math",))
def product_and_sine(x, y):
    return x * y + math.sin(x * y)


@case(0.8, -0.6, tags=("math",))
def euclid_length(x, y):
    return sqrt(x * x + y * y)


@case(0.5, -1.5, tags=("math",))
def polar_angle(y, x):
    return math.atan2(y, x)


@case(0.45, tags=("numpy-scalar",))
def numpy_on_scalar(x):
    return np.sin(x) ** 2 + np.cos(x) ** 2 * np.exp(x)


@case(-1.3, tags=("abs",))
def signed_square(x):
    return abs(x) * x


@case(0.75, tags=("branch", "early-return"))
def piecewise_branch(x):
    if x > 0:
        return x**2
    else:
        return -x


@case(0.3, 1.7, tags=("builtin-max",))
def squared_max(x, y):
    return max(x, y) ** 2


@case(0.8, tags=("math",))
def normal_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@case(2.3, tags=("math", "special"), expect="refused:call:math.lgamma")
def log_gamma(x):
    return math.lgamma(x)


@case(0.6, tags=("for-over-tuple", "int-init"))
def horner_tuple(x):
    acc = 0
    for c in COEFFS:
        acc = acc * x + c
    return acc


@case(0.9, tags=("loop", "augmented"))
def exp_series(x):
    total = 0.0
    term = 1.0
    for k in range(1, 15):
        total += term
        term *= x / k
    return total


@case(1.4, tags=("augmented",))
def augmented_chain(x):
    y = x
    y *= 2
    y += x**2
    y /= 3
    y -= 1
    y **= 2
    return y


@case(0.4, tags=("chained-comparison", "ternary"))
def chained_compare(x):
    return x * 2 if 0 < x < 1 else x


@case(0.3, 0.8, tags=("tuple-assign", "loop"))
def fibonacci_like(a, b):
    for _ in range(4):
        a, b = b, a + b * 0.5
    return a * b


@case(0.7, tags=("lambda",))
def uses_lambda(x):
    sq = lambda t: t * t  # noqa: E731
    return sq(x) + sq(2 * x)


@case(0.7, tags=("closure", "nested-def"))
def uses_inner_function(x):
    def inner(t):
        return math.sin(t) * x
    return inner(x) + inner(2 * x)


@case(0.25, tags=("math-constants",))
def with_pi_and_e(x):
    return math.cos(math.pi * x) + math.e * x


@case(2.3, tags=("floor",))
def fractional_part(x):
    return x - math.floor(x)


@case(2.3, tags=("modulo",), oracle="fd")
def float_modulo(x):
    return (x % 1.0) * x


@case(1.7, tags=("numpy-scalar",))
def cube_root(x):
    return np.cbrt(x) + x ** (1 / 3)


@case(0.3, -0.4, tags=("math",))
def log_sum_exp2(x, y):
    return log(exp(x) + exp(y))


@case(0.2, tags=("branch",))
def sinc_scalar(x):
    return math.sin(x) / x if x != 0 else 1.0


@case(0.3, 0.1, 1.4, tags=("math",))
def gaussian_density(x, mu, sigma):
    z = (x - mu) / sigma
    return math.exp(-0.5 * z * z) / (sigma * math.sqrt(2 * math.pi))


def _power_helper(x, power=2):
    return x**power


@case(0.8, tags=("call-keyword", "default-arg"))
def helper_with_keyword(x):
    return _power_helper(x, power=3) + _power_helper(x)


@case(1.3, 2.0, tags=("default-arg",))
def default_parameter(x, scale=2.0):
    return scale * math.sin(x)


@case(1.6, tags=("math",))
def x_log_x(x):
    return x * math.log(x)


@case(0.9, 3, tags=("recursion",), expect="refused:recursion")
def recursive_power(x, n):
    if n == 0:
        return 1.0
    return x * recursive_power(x, n - 1)


@case(1.2, tags=("module-constant",))
def fall_height(t):
    return 0.5 * GRAVITY * t**2


@case(0.55, tags=("math",))
def inverse_trig(x):
    return math.asin(x) + math.acos(x / 2) * math.atan(x)


@case(1.5, tags=("math",))
def inverse_hyperbolic(x):
    return math.asinh(x) * math.acosh(x + 1) - math.atanh(x / 3)


@case(0.65, tags=("math",))
def log_variants(x):
    return math.log10(x) + math.log2(x) + math.log(x, 3.0)


@case(0.4, tags=("math",))
def hyperbolic_mix(x):
    return math.sinh(x) / math.cosh(x) - math.tanh(x) ** 2


@case(0.7, tags=("power", "sqrt"))
def powers_and_roots(x):
    return x**0.5 + x**-1.5 + math.pow(x, 2.5)


@case(1.2, tags=("branch", "elif"))
def elif_ladder(x):
    if x < 0:
        y = -x
    elif x < 1:
        y = x**2
    elif x < 2:
        y = 2 * x - 1 + math.sin(x)
    else:
        y = x**3
    return y


@case(0.3, -0.2, tags=("tuple-return",))
def polar_to_cartesian(r, theta):
    return r * math.cos(theta), r * math.sin(theta)


@case(0.5, tags=("math", "expm1"))
def expm1_ratio(x):
    return math.expm1(x) / x


@case(0.8, tags=("bool-ops",))
def boolean_condition(x):
    if x > 0 and not x > 1 or x < -5:
        return x * x * x
    return x
