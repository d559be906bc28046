"""Every control-flow form of the differentiable language, checked against independent oracles.

Each differentiated function is defined at module level (s2sdiff reads its source).  The
oracle is the complex step (exact to rounding) whenever the perturbed value is never
compared; functions that branch on the differentiated value are arithmetic-only and
checked with mpmath.diff at 50 digits, or against a closed form.

Every check runs in forward and in reverse mode (the `ad` fixture, tests/modes.py): the
same oracle for both, and in reverse mode each result must also agree with forward mode's
to 1e-13.  Transforms are built once per (function, options, mode) and shared by all points.
"""
import math

import numba
import numpy as np
import pytest

import s2sdiff as sd
from modes import directional
from oracles import assert_close, complex_step, mp_diff

REL = 1e-12


def check_complex_step(ad, f, args, i=0):
    """s2sdiff's ∂f/∂args[i] (derivative for i = 0, grad otherwise) vs the complex step."""
    got = ad.D(f)(*args) if i == 0 else ad.G(f, i)(*args)
    assert_close(got, complex_step(f, args, i), REL)


# ---- if / elif / else ----------------------------------------------------------------

def piecewise(x):
    if x < -1.0:
        y = x * x * x
    elif x < 1.0:
        y = (x + 2.0) / (x - 3.0)
    else:
        y = x * x / (1.0 + x)
    return y * x


@pytest.mark.parametrize("x", [-2.5, -1.3, -0.4, 0.0, 0.8, 1.7, 12.0])
def test_if_elif_else_on_active_value(ad, x):
    assert_close(ad.D(piecewise)(x), mp_diff(piecewise, [x], 0), REL)


def branch_on_int(x, k):
    y = x
    if k == 0:
        y = np.sin(x) * x
    elif k == 1:
        y = np.exp(x) / (1.0 + x * x)
    elif k == 2:
        pass
    else:
        y = np.log(x) * y
    if k > 1:                      # an if without else
        y = y * y
    return y


@pytest.mark.parametrize("k", [0, 1, 2, 3])
@pytest.mark.parametrize("x", [0.4, 1.3, 2.9])
def test_if_elif_else_on_int(ad, x, k):
    check_complex_step(ad, branch_on_int, [x, k])


# ---- conditional expressions ------------------------------------------------------------

def cond_expr(x, y):
    z = x * y if x > y else x * x + y        # compound branches
    w = x if z > 1.0 else y                  # plain names (a select)
    return z * w + (z if y > 0.0 else -z)


@pytest.mark.parametrize("x, y", [(3.0, 2.0), (1.0, 2.0), (0.5, 0.2), (-1.0, 0.5), (0.3, -0.6)])
def test_conditional_expression(ad, x, y):
    assert_close(ad.G(cond_expr, (0, 1))(x, y), (mp_diff(cond_expr, [x, y], 0), mp_diff(cond_expr, [x, y], 1)), REL)


def cond_expr_int(x, k):
    return (np.sin(x) if k > 0 else np.cos(x) * x) + (x if k > 1 else 2.5)


@pytest.mark.parametrize("k", [0, 1, 2])
@pytest.mark.parametrize("x", [-0.7, 0.6, 2.2])
def test_conditional_expression_on_int(ad, x, k):
    check_complex_step(ad, cond_expr_int, [x, k])


# ---- for loops over range with runtime bounds ----------------------------------------

def loop_range(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.sin(i * x) / (i + 1)
    return s


@pytest.mark.parametrize("n", [0, 1, 7])
@pytest.mark.parametrize("x", [-1.1, 0.35, 2.0])
def test_for_range_n(ad, x, n):
    check_complex_step(ad, loop_range, [x, n])


def loop_start_stop(x, a, b):
    p = 1.0
    for i in range(a, b):
        p = p * (x + i)
    return p


@pytest.mark.parametrize("x, a, b", [(0.3, 2, 6), (-1.7, -3, 2), (1.1, 4, 4), (0.9, 5, 1), (2.5, 0, 9)])
def test_for_range_start_stop(ad, x, a, b):
    check_complex_step(ad, loop_start_stop, [x, a, b])


def loop_step(x, a, b, step):
    s = 1.0
    for i in range(a, b, step):
        s = s * x + i * np.cos(x)
    return s


@pytest.mark.parametrize("a, b, step", [(5, -1, -2), (10, 0, -3), (6, 0, -1), (3, 3, -1), (0, 9, 4)])
@pytest.mark.parametrize("x", [-0.8, 0.45, 1.6])
def test_for_range_negative_step(ad, x, a, b, step):
    check_complex_step(ad, loop_step, [x, a, b, step])


def horner(x, n):
    s = 0.0
    for k in range(n - 1, -1, -1):       # bounds computed from the int argument
        s = s * x + (k + 1.0) / (k + 2.0)
    return s


@pytest.mark.parametrize("n", [1, 2, 8])
@pytest.mark.parametrize("x", [-1.3, 0.2, 1.1])
def test_for_range_computed_negative_step(ad, x, n):
    check_complex_step(ad, horner, [x, n])


def loop_variable_reuses_name(x, n):
    i = x * 2.0                     # `i` holds an active value ...
    s = i
    for i in range(n):              # ... until the loop rebinds it to plain ints
        s = s + i * x
    return s + i


@pytest.mark.parametrize("x, n", [(1.5, 3), (-0.7, 5), (2.0, 1), (0.9, 0)])
def test_for_loop_variable_reusing_an_active_name(ad, x, n):
    # s = 2x + x·(0 + 1 + … + n−1); the returned i is 2x when n = 0, else the int n − 1
    want = 2.0 + n * (n - 1) / 2 + (2.0 if n == 0 else 0.0)
    assert_close(complex_step(loop_variable_reuses_name, [x, n], 0), want, REL)
    assert_close(ad.D(loop_variable_reuses_name)(x, n), want, REL)


def power_series(x, n):
    s = 0.0
    for i in range(n):
        s = s + x ** i
    return s


@pytest.mark.parametrize("x", [-0.6, 0.5, 1.5])
def test_power_series_loop(ad, x):
    check_complex_step(ad, power_series, [x, 6])


def test_power_series_loop_at_zero(ad):
    # d/dx (1 + x + x² + …) at 0 is 1; the i = 0 term x**0 has derivative 0 there.
    assert ad.D(power_series)(0.0, 4) == 1.0


def int_accumulator(x, n):
    s = 0                           # an int that becomes a float
    for i in range(n):
        s += x * i + np.sin(x)
    return s


@pytest.mark.parametrize("x", [-0.4, 0.9, 3.1])
def test_int_initialized_accumulator(ad, x):
    check_complex_step(ad, int_accumulator, [x, 5])


# ---- while ---------------------------------------------------------------------------

def newton_sqrt(a):
    x = a + 1.0                     # above sqrt(a): Newton decreases monotonically
    step = 1.0
    while abs(step) > 1e-15 * x:
        x_new = 0.5 * (x + a / x)
        step = x_new - x
        x = x_new
    return x


@pytest.mark.parametrize("a", [0.3, 2.0, 17.5, 1e4])
def test_while_newton_sqrt(ad, a):
    assert_close(ad.D(newton_sqrt)(a), 0.5 / math.sqrt(a), REL)


def halve_until_small(x):
    while x > 1.0:
        x = x / 2.0
    return x * x


@pytest.mark.parametrize("x", [0.7, 3.3, 100.25, 1e6])
def test_while_halving(ad, x):
    m = 0                           # number of halvings: x / 2**m is the first value <= 1
    while x / 2.0 ** m > 1.0:
        m += 1
    assert_close(ad.D(halve_until_small)(x), 2.0 * x / 4.0 ** m, REL)


def while_counter(x, n):
    k = 0
    y = x
    while k < n:
        y = np.sin(y) + x
        k += 1
    return y


@pytest.mark.parametrize("n", [0, 1, 6])
@pytest.mark.parametrize("x", [-0.9, 0.5, 2.4])
def test_while_counter(ad, x, n):
    check_complex_step(ad, while_counter, [x, n])


# ---- break / continue ----------------------------------------------------------------

def break_on_value(x, n):
    s = 1.0
    for i in range(n):
        s = s * x + 1.0
        if s > 50.0:
            break
    return s * x


@pytest.mark.parametrize("x", [0.5, 2.0, 3.5, -1.5])
def test_break_on_active_value(ad, x):
    assert_close(ad.D(break_on_value)(x, 10), mp_diff(break_on_value, [x, 10], 0), REL)


def break_on_index(x, n, stop):
    s = 0.0
    for i in range(n):
        if i == stop:
            break
        s = s + np.exp(x / (i + 1.0))
    return s


@pytest.mark.parametrize("stop", [0, 3, 99])
@pytest.mark.parametrize("x", [-1.2, 0.3, 1.9])
def test_break_on_index(ad, x, stop):
    check_complex_step(ad, break_on_index, [x, 8, stop])


def skip_odd(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 1:
            continue
        s = s + np.cos(i * x) * x
    return s


@pytest.mark.parametrize("x", [-0.7, 0.25, 1.8])
def test_continue_in_for(ad, x):
    check_complex_step(ad, skip_odd, [x, 9])


def while_continue(x, n):
    i = 0
    s = x
    while i < n:
        i += 1
        if i % 3 == 0:
            continue
        s = s * np.cos(s) + x / i
    return s


@pytest.mark.parametrize("x", [-0.5, 0.6, 1.4])
def test_continue_in_while(ad, x):
    check_complex_step(ad, while_continue, [x, 8])


# ---- return inside a branch and inside a loop ------------------------------------------

def return_in_branch(x, k):
    if k == 0:
        return np.exp(x) * x
    elif k == 1:
        y = x * x
        return y * np.sin(y)
    return np.log(x) / x


@pytest.mark.parametrize("k", [0, 1, 2])
@pytest.mark.parametrize("x", [0.3, 1.1, 2.6])
def test_return_in_branch(ad, x, k):
    check_complex_step(ad, return_in_branch, [x, k])


def return_on_sign(x):
    if x < 0.0:
        return -x * x * x
    y = x * x
    if y > 4.0:
        return y / x
    return y + 1.0 / (1.0 + x)


@pytest.mark.parametrize("x", [-1.5, 0.5, 1.9, 3.0])
def test_return_in_branch_on_active_value(ad, x):
    assert_close(ad.D(return_on_sign)(x), mp_diff(return_on_sign, [x], 0), REL)


def return_in_loop(x, n):
    s = x
    for i in range(n):
        s = s * x + 1.0
        if s > 100.0:
            return s * 2.0 + x
    return s - x


@pytest.mark.parametrize("x", [0.5, 1.5, 3.0, 7.0])
def test_return_in_loop(ad, x):
    assert_close(ad.D(return_in_loop)(x, 6), mp_diff(return_in_loop, [x, 6], 0), REL)


def return_from_while_true(x, n):
    k = 0
    y = x
    while True:
        y = y * np.cos(y) + x
        k += 1
        if k >= n:
            return y * y


@pytest.mark.parametrize("n", [1, 5])
@pytest.mark.parametrize("x", [-0.4, 0.7, 1.3])
def test_return_from_while_true(ad, x, n):
    check_complex_step(ad, return_from_while_true, [x, n])


# ---- nested loops --------------------------------------------------------------------

def nested(x, n, m):
    s = 0.0
    for i in range(n):
        t = 1.0
        for j in range(i, m):
            t = t * np.sin(x + j)
        s = s + t * x ** i
    return s


@pytest.mark.parametrize("x", [-0.3, 0.8, 2.1])
def test_nested_loops(ad, x):
    check_complex_step(ad, nested, [x, 4, 6])


def nested_break_continue(x, n):
    s = x
    for i in range(n):
        if i == 1:
            continue
        for j in range(n):
            if j > i:
                break
            s = s + np.sin(s * j + i)
    return s


@pytest.mark.parametrize("x", [-1.0, 0.2, 1.7])
def test_nested_loops_with_break_and_continue(ad, x):
    # at x = 0.2 the derivative (8.6e-8) is small against its terms: forward and reverse
    # round differently by ~1e-13 relative (both are within 1e-12 of the complex step)
    check_complex_step(ad.tolerating(1e-12), nested_break_continue, [x, 5])


# ---- augmented assignment, unpacking, rebinding ----------------------------------------

def augmented(x, y):
    z = x
    z += y * x
    z -= np.sin(y)
    z *= x
    z /= 1.0 + y * y
    z **= 3
    w = z
    w **= y
    return w + z


@pytest.mark.parametrize("x, y", [(1.3, 0.7), (2.0, 1.5), (0.9, -0.4)])
def test_augmented_assignment(ad, x, y):
    assert_close(ad.G(augmented, (0, 1))(x, y),
                 (complex_step(augmented, [x, y], 0), complex_step(augmented, [x, y], 1)), REL)


def augmented_in_loop(x, n):
    s = 1.0
    for i in range(n):
        s += x
        s *= x
        s -= 0.5 * x
        s /= 1.0 + x * x
    s **= 2
    return s


@pytest.mark.parametrize("x", [-0.8, 0.4, 1.9])
def test_augmented_assignment_in_loop(ad, x):
    check_complex_step(ad, augmented_in_loop, [x, 6])


def swap_once(x, y):
    a, b = x * x, y
    a, b = b, a
    return a * 3.0 + b * np.sin(b)


def swap_in_loop(x, y, n):
    a, b = x, y * y
    for i in range(n):
        a, b = b, a
        a, b = a + b, a * b
    return a - 0.5 * b


@pytest.mark.parametrize("x, y", [(0.6, 1.3), (-1.1, 0.4), (1.5, -0.9)])
def test_tuple_unpacking_and_swap(ad, x, y):
    assert_close(ad.G(swap_once, (0, 1))(x, y),
                 (complex_step(swap_once, [x, y], 0), complex_step(swap_once, [x, y], 1)), REL)
    for i in (0, 1):
        assert_close(ad.G(swap_in_loop, i)(x, y, 3), complex_step(swap_in_loop, [x, y, 3], i), REL)


def rebind_chain(x):
    x = np.sin(x)
    x = x * x
    x = np.exp(x)
    x = x / (1.0 + x)
    x = np.sqrt(x)
    x = x - x * x
    x = np.log(x + 2.0)
    x = x ** 3
    x = np.tanh(x)
    x = x * np.cos(x) + x
    return x


@pytest.mark.parametrize("x", [-2.0, 0.3, 1.2, 4.0])
def test_reassignment_chain(ad, x):
    check_complex_step(ad, rebind_chain, [x])


def update_second(x, y):
    y = y * x + 1.0                 # a parameter that is not differentiated, made active
    return y * y


@pytest.mark.parametrize("x, y", [(0.5, 2.0), (1.5, -0.5), (-2.0, 3.0)])
def test_reassigned_parameter_not_differentiated(ad, x, y):
    assert_close(ad.G(update_second, 1)(x, y), 2.0 * (y * x + 1.0) * x, REL)   # y differentiated: fine
    # d/dx (yx + 1)² = 2(yx + 1)·y — y is not differentiated but becomes active when reassigned
    assert_close(ad.G(update_second, 0)(x, y), 2.0 * (y * x + 1.0) * y, REL)


# ---- calls to user functions ---------------------------------------------------------

def h2(u, v):
    return u * np.sin(v) + v * v / u


def calls_twice(x, c):
    return h2(x, c) + h2(c, x) + h2(x, x) + h2(c, c)


@pytest.mark.parametrize("x, c", [(0.7, 1.3), (1.9, -0.4), (-1.2, 2.5)])
def test_helper_called_with_different_active_arguments(ad, x, c):
    assert_close(ad.G(calls_twice, (0, 1))(x, c),
                 (complex_step(calls_twice, [x, c], 0), complex_step(calls_twice, [x, c], 1)), REL)
    assert_close(ad.D(calls_twice)(x, c), complex_step(calls_twice, [x, c], 0), REL)   # h2(c, c) runs as primal


def polar(r, th):
    return r * np.cos(th), r * np.sin(th)


def uses_polar(x, y):
    a, b = polar(x, y * x)
    c, d = polar(b, 0.5)            # only the first argument active
    e, f = polar(2.0, x)            # only the second
    return a * b + c - d * d + e * f


def returns_polar(x):
    return polar(x, x * x)


@pytest.mark.parametrize("x, y", [(0.8, 1.1), (1.7, -0.3), (-0.6, 2.0)])
def test_helper_returning_tuple(ad, x, y):
    assert_close(ad.G(uses_polar, (0, 1))(x, y),
                 (complex_step(uses_polar, [x, y], 0), complex_step(uses_polar, [x, y], 1)), REL)
    assert_close(ad.D(returns_polar)(x), complex_step(returns_polar, [x], 0), REL)


def powsum(u, p=3.0, q=2):
    return u ** p + q * u


def calls_defaults(x):
    return powsum(x) + powsum(x, 2.0) + powsum(x, q=5) + powsum(2.0, x)


@pytest.mark.parametrize("x", [0.4, 1.0, 2.3])
def test_helper_with_default_argument(ad, x):
    check_complex_step(ad, calls_defaults, [x])
    # the helper itself, its defaults filled in by the transform's wrapper
    assert_close(ad.D(powsum)(x), 3 * x * x + 2, REL)
    assert_close(ad.G(powsum, "p")(x), x ** 3 * math.log(x), REL)
    assert_close(ad.G(powsum, "p")(x, 1.5, 4), x ** 1.5 * math.log(x), REL)
    # 3x² + 2 + 2x + 2 + 3x² + 5 + 2^x ln 2 + 2·0
    assert_close(ad.D(calls_defaults)(x), 6 * x * x + 2 * x + 9 + 2.0 ** x * math.log(2.0), REL)


def scale_first(u, v):
    u = u * v
    return u + v


def calls_scale_first(x, c):
    return scale_first(c, x)        # only v is active in the callee, whose u is reassigned


@pytest.mark.parametrize("x, c", [(0.5, 2.0), (1.5, -3.0), (-2.0, 0.25)])
def test_helper_reassigning_an_inactive_parameter(ad, x, c):
    # d/dx (c·x + x) = c + 1
    assert_close(ad.D(calls_scale_first)(x, c), c + 1.0, REL)


@numba.njit
def jit_poly(u, v):
    return u * u * v + np.cos(u * v)


def calls_jitted(x, y):
    return jit_poly(x, y) * x + jit_poly(y, x)


@pytest.mark.parametrize("x, y", [(0.5, 1.5), (-1.3, 0.7), (2.2, -0.4)])
def test_numba_njit_function(ad, x, y):
    assert_close(ad.G(calls_jitted, (0, 1))(x, y),
                 (complex_step(calls_jitted, [x, y], 0), complex_step(calls_jitted, [x, y], 1)), REL)
    # the njit dispatcher itself: d/du (u²v + cos(uv)) = 2uv − v sin(uv)
    assert_close(ad.D(jit_poly)(x, y), 2 * x * y - y * math.sin(x * y), REL)


# ---- module constants and closures ---------------------------------------------------

SCALE = 1.75
POWER = 3


def uses_globals(x):
    return SCALE * x ** POWER + np.sin(np.pi * x) + math.e * x


@pytest.mark.parametrize("x", [-1.4, 0.35, 2.0])
def test_module_constants(ad, x):
    check_complex_step(ad, uses_globals, [x])
    assert_close(ad.D(uses_globals)(x), 3 * SCALE * x * x + math.pi * math.cos(math.pi * x) + math.e, REL)


def make_scaled(k):
    def scaled(x):
        return k * np.sin(k * x) + x * x / k
    return scaled


scaled_3 = make_scaled(3.0)
scaled_half = make_scaled(0.5)


@pytest.mark.parametrize("x", [-0.9, 0.7, 2.5])
@pytest.mark.parametrize("k, f", [(3.0, scaled_3), (0.5, scaled_half)], ids=["k=3", "k=0.5"])
def test_closure_constant(ad, x, k, f):
    check_complex_step(ad, f, [x])
    assert_close(ad.D(f)(x), k * k * math.cos(k * x) + 2 * x / k, REL)


def make_repeated(k, n):
    def repeated(x):
        y = x
        for i in range(n):          # a closed-over int as a loop bound
            y = y * np.cos(y) + k
        return y
    return repeated


repeated_3 = make_repeated(0.25, 3)


def calls_closures(x):
    return scaled_3(x) * x + repeated_3(x * x)


@pytest.mark.parametrize("x", [-0.6, 0.4, 1.3])
def test_closures_called_from_another_function(ad, x):
    check_complex_step(ad, repeated_3, [x])
    check_complex_step(ad, calls_closures, [x])


# ---- several arguments: grad by index, name and tuple; jvp (reverse mode: vjp rows) ------

def three(x, y, z):
    return x * y * y + np.exp(z * x) - y / z


THREE_POINTS = [(0.5, 1.5, 2.0), (-1.2, 0.3, 0.7), (2.0, -1.1, -0.6)]


def three_partials(x, y, z):
    return (y * y + z * math.exp(z * x), 2 * x * y - 1 / z, x * math.exp(z * x) + y / (z * z))


@pytest.mark.parametrize("p", THREE_POINTS)
def test_grad_by_index_name_and_tuple(ad, p):
    px, py, pz = three_partials(*p)
    for i in range(3):
        assert_close(complex_step(three, p, i), three_partials(*p)[i], REL)   # the closed form
    assert_close(ad.G(three, 0)(*p), px, REL)
    assert_close(ad.G(three, "y")(*p), py, REL)
    assert_close(ad.G(three, -1)(*p), pz, REL)
    assert_close(ad.G(three, (0, "y", 2))(*p), (px, py, pz), REL)
    assert_close(ad.G(three, ("z", 0))(*p), (pz, px), REL)
    assert_close(ad.G(three, ("y",))(*p), (py,), REL)


def mixed_int(x, n, y):
    s = y
    for i in range(n):
        s = s * x + y / (i + 1)
    return s


@pytest.mark.parametrize("x, n, y", [(0.7, 4, 1.3), (-1.5, 6, 0.4), (1.2, 0, -2.0)])
def test_int_argument_never_differentiated(ad, x, n, y):
    want = (complex_step(mixed_int, [x, n, y], 0), complex_step(mixed_int, [x, n, y], 2))
    assert_close(ad.D(mixed_int)(x, n, y), want[0], REL)
    assert_close(ad.G(mixed_int, (0, 2))(x, n, y), want, REL)
    assert_close(ad.G(mixed_int, ("y", "x"))(x, n, y), want[::-1], REL)


def _jvp_oracle(f, primals, tangents):
    terms = [complex_step(f, primals, i) * t for i, t in enumerate(tangents) if t != 0]
    return math.fsum(terms), math.fsum(abs(t) for t in terms)


@pytest.mark.parametrize("p, t", [(THREE_POINTS[0], (1.0, 0.0, 0.0)), (THREE_POINTS[1], (0.3, -1.2, 2.0)),
                                  (THREE_POINTS[2], (-0.5, 0.25, 1.0))])
def test_jvp(ad, p, t):
    value, tangent = directional(ad, three, p, t)
    want, scale = _jvp_oracle(three, p, t)
    assert_close(value, three(*p), REL)
    assert abs(tangent - want) <= REL * scale
    partials = ad.G(three, (0, 1, 2))(*p)          # s2sdiff's own partials agree too
    assert abs(tangent - math.fsum(d * ti for d, ti in zip(partials, t))) <= REL * scale


@pytest.mark.parametrize("p, t", [((0.7, 4, 1.3), (1.0, 0, 0.5)), ((-1.5, 6, 0.4), (-0.3, 0, 2.0))])
def test_jvp_with_int_argument(ad, p, t):
    value, tangent = directional(ad, mixed_int, p, t)
    want, scale = _jvp_oracle(mixed_int, p, t)
    assert_close(value, mixed_int(*p), REL)
    assert abs(tangent - want) <= REL * scale


# ---- tuple results: derivative and jacobian ------------------------------------------

def vec3(x, y):
    return np.sin(x) * y, x * x, np.exp(x * y)


@pytest.mark.parametrize("x, y", [(0.4, 1.2), (-1.3, 0.5), (2.0, -0.8)])
def test_tuple_result_derivative_and_jacobian(ad, x, y):
    dx = (math.cos(x) * y, 2 * x, y * math.exp(x * y))
    dy = (math.sin(x), 0.0, x * math.exp(x * y))
    assert_close(complex_step(vec3, [x, y], 0), dx, REL)
    assert_close(complex_step(vec3, [x, y], 1), dy, REL)

    got = ad.D(vec3)(x, y)          # forward: sd.derivative's tuple; reverse: sd.jacobian's column
    assert isinstance(got, np.ndarray if ad.reverse else tuple) and len(got) == 3
    assert_close(got, dx, REL)

    col = ad.J(vec3, 0)(x, y)
    assert isinstance(col, np.ndarray) and col.shape == (3,)
    assert_close(col, dx, REL)
    assert_close(ad.J(vec3, "y")(x, y), dy, REL)

    cols = ad.J(vec3, (0, 1))(x, y)
    assert isinstance(cols, tuple) and len(cols) == 2
    assert all(isinstance(c, np.ndarray) and c.shape == (3,) for c in cols)
    assert_close(cols[0], dx, REL)
    assert_close(cols[1], dy, REL)

    value, tangent = directional(ad, vec3, (x, y), (1.0, 2.0))
    assert_close(value, vec3(x, y), REL)
    assert_close(tangent, tuple(a + 2.0 * b for a, b in zip(dx, dy)), REL)


# ---- large trip counts ----------------------------------------------------------------

def long_loop(x, n):
    for i in range(n):
        x = x + 1e-5 * np.sin(x)
    return x


def harmonic(x, n):
    s = 0.0
    for i in range(n):
        s = s + x / (i + 1.0)
    return s


@pytest.mark.parametrize("x", [0.3, 1.0, 2.9])
def test_loop_of_1e5_iterations(ad, x):
    n = 100_000
    # 1e5 rounding steps in both the oracle and the tangent: a looser, still tight tolerance
    assert_close(ad.D(long_loop)(x, n), complex_step(long_loop, [x, n], 0), 1e-10)
    assert_close(ad.D(harmonic)(x, n), math.fsum(1.0 / (i + 1.0) for i in range(n)), 1e-12)


# ---- control flow that reverse mode has to replay backwards -----------------------------
# (run in both modes like everything above; these shapes stress the reverse tapes)

def while_counter_long(x, n):
    k = 0
    y = x
    while k < n:                    # trip count unknown when the tape is created
        y = y + 0.1 * np.sin(y * x)
        k += 1
    return y * y


@pytest.mark.parametrize("n", [17, 64, 1000])
@pytest.mark.parametrize("x", [-0.8, 0.45, 1.7])
def test_while_loop_longer_than_16_iterations(ad, x, n):
    check_complex_step(ad, while_counter_long, [x, n])


def while_grow(x):
    s = 1.0
    k = 0
    while s < 1e6:                  # the trip count depends on the differentiated value
        s = s * x + 1.0 / (1.0 + s * s)
        k += 1
    return s / k


@pytest.mark.parametrize("x", [1.1, 1.5, 1.9])
def test_while_on_active_value_longer_than_16_iterations(ad, x):
    n = 0                           # 137, 34 and 22 iterations
    s = 1.0
    while s < 1e6:
        s = s * x + 1.0 / (1.0 + s * s)
        n += 1
    assert n > 16
    assert_close(ad.D(while_grow)(x), mp_diff(while_grow, [x], 0), REL)


def break_in_inner_loop(x, n):
    s = 0.0
    for i in range(n):
        t = x + 0.1 * i
        for j in range(n):
            t = t * x + 1.0 / (1.0 + t * t)
            if t > 3.0:             # leaves the inner loop only
                break
        s = s + t / (i + 1.0)
    return s


@pytest.mark.parametrize("x", [0.6, 1.04, 1.3, 2.2])    # no break, some, all, all at j = 0
def test_break_in_nested_inner_loop(ad, x):
    assert_close(ad.D(break_in_inner_loop)(x, 6), mp_diff(break_in_inner_loop, [x, 6], 0), REL)


def break_in_inner_loop_on_index(x, n):
    s = x
    for i in range(n):
        for j in range(n):
            if j > i:
                break
            s = s * np.cos(s) + x / (i + j + 1.0)
        s = s + np.sin(x * i)
    return s


@pytest.mark.parametrize("x", [-0.9, 0.35, 1.4])
def test_break_in_nested_inner_loop_on_index(ad, x):
    check_complex_step(ad, break_in_inner_loop_on_index, [x, 5])


def return_in_nested_loop(x, n):
    s = x
    for i in range(n):
        for j in range(i + 1):
            s = s * x + 0.5 / (1.0 + s * s)
            if s > 40.0:
                return s * s - x    # leaves both loops
    return -s


@pytest.mark.parametrize("x", [0.5, 1.2, 1.6, 2.5])     # returns at the end, end, (3, 0), (2, 0)
def test_early_return_from_nested_loop(ad, x):
    assert_close(ad.D(return_in_nested_loop)(x, 5), mp_diff(return_in_nested_loop, [x, 5], 0), REL)


def reassigned_three_times(x, n):
    for i in range(n):
        x = np.sin(x)
        x = x * x
        x = x + 1.0
    return x


@pytest.mark.parametrize("x", [-2.0, 0.4, 1.3])
def test_loop_body_reassigning_one_variable_1000_times(ad, x):
    got = ad.D(reassigned_three_times)(x, 1000)
    assert got != 0.0               # |d/dx| ~ 0.6**1000: tiny but a normal number
    # 3000 rounded factors in the product: 1e-11 relative
    assert_close(got, complex_step(reassigned_three_times, [x, 1000], 0), 1e-11)


def assigned_in_one_branch(x, n):
    y = x * x                       # defined before the loop ...
    s = 0.0
    for i in range(n):
        if i % 3 == 1:
            y = np.sin(y) + x       # ... reassigned only in one branch
        s = s + y * x
    return s + y


@pytest.mark.parametrize("n", [0, 1, 2, 8])
@pytest.mark.parametrize("x", [-1.1, 0.3, 1.6])
def test_variable_assigned_in_one_branch_inside_loop(ad, x, n):
    check_complex_step(ad, assigned_in_one_branch, [x, n])


def assigned_in_one_branch_on_value(x, n):
    y = x
    s = 0.0
    for i in range(n):
        if s < 2.0:                 # the branch taken depends on the differentiated value
            y = y * x + 1.0 / (1.0 + y * y)
        s = s + y
    return s * y


@pytest.mark.parametrize("x", [-0.7, 0.3, 0.9, 1.4])    # the branch is taken 5, 3, 2, 1 times of 7
def test_variable_assigned_in_one_branch_on_active_value(ad, x):
    assert_close(ad.D(assigned_in_one_branch_on_value)(x, 7),
                 mp_diff(assigned_in_one_branch_on_value, [x, 7], 0), REL)


def tuple_valued_loop(x, y, n):
    a = x
    b = y
    for i in range(n):
        a, b = a * np.cos(b), b + np.sin(a * x)
    return a + b, a * b, np.exp(-a * a)


@pytest.mark.parametrize("f, args", [(vec3, (0.4, 1.2)), (vec3, (-1.3, 0.5)),
                                     (tuple_valued_loop, (0.7, -0.4, 5)),
                                     (tuple_valued_loop, (-1.2, 0.9, 3))],
                         ids=["vec3-a", "vec3-b", "loop-a", "loop-b"])
def test_vjp_of_tuple_valued_function_is_jacobian_transpose_times_cotangent(ad, f, args):
    cotangent = (0.7, -1.3, 2.5)
    value, vjp_fn = sd.vjp(f, *args)
    assert_close(value, f(*args), REL)
    got = vjp_fn(cotangent)
    assert isinstance(got, tuple) and len(got) == len(args)
    columns = ad.J(f, (0, 1))(*args)               # ∂f/∂x and ∂f/∂y, each of shape (3,)
    for i, column in enumerate(columns):
        assert_close(column, complex_step(f, args, i), REL)
        terms = [c * d for c, d in zip(cotangent, column)]
        assert abs(got[i] - math.fsum(terms)) <= REL * math.fsum(map(abs, terms))
    if len(args) == 3:
        assert got[2] == 0.0                        # the int argument
