"""The worked examples of the lecture notes (/work/shared/seeds), each against a closed form
derived here — never against a number printed in the notes without re-deriving it.

Slips found in the notes while re-deriving (the tests use the corrected forms):
* 002, ex 2.2 (gradient descent): for f = ((x1 − a)/4)² + ((x2 − b)/3)² the code hand-codes
  df/dx1 = (x1 − a)/2 and df/dx2 = 2(x2 − b)/3; the partials are (x1 − a)/8 and 2(x2 − b)/9,
  so the notes' values are 4× and 3× too large.
* 001, L5(2): besides the correct ∂f/∂y = 12(x + 2y³)y², a stray line gives 12(x + 2y³)
  (the y² is lost).

Every check runs in forward and in reverse mode (the `ad` fixture, tests/modes.py), against
the same closed form; in reverse mode each result must also agree with forward mode's.
"""
import math

import numpy as np
import pytest

from oracles import assert_close, complex_step

REL = 1e-12


# ---- automatic differentiation example (001 L5(6), 003 §6.2, 004) ------------------------

def autodiff_example(x):
    return math.sqrt(x ** 2 + math.exp(x ** 2)) + math.cos(x ** 2 + math.exp(x ** 2))


def autodiff_example_steps(x):
    # the notes' intermediate variables a … f
    a = x ** 2
    b = np.exp(a)
    c = a + b
    d = np.sqrt(c)
    e = np.cos(c)
    f = d + e
    return f


def autodiff_example_closed_form(x):
    c = x * x + math.exp(x * x)
    dc = 2 * x + 2 * x * math.exp(x * x)
    return dc / (2 * math.sqrt(c)) - math.sin(c) * dc


@pytest.mark.parametrize("x", [-1.7, -0.3, 0.0, 0.5, 1.2, 2.0])
def test_autodiff_example(ad, x):
    want = autodiff_example_closed_form(x)
    assert_close(complex_step(autodiff_example_steps, [x], 0), want, REL, abs_tol=1e-15)
    assert_close(ad.D(autodiff_example)(x), want, REL, abs_tol=1e-15)
    assert_close(ad.D(autodiff_example_steps)(x), want, REL, abs_tol=1e-15)


# ---- forward mode on f(a, b) = ln(ab + max(a, 2))  (004) --------------------------------

def log_max(a, b):
    return math.log(a * b + max(a, 2))


def log_max_partials(a, b):
    c = a * b + max(a, 2)
    return ((b + (1.0 if a > 2 else 0.0)) / c, a / c)


def test_log_max_at_the_notes_points(ad):
    # (3, 2): c = 6 + 3 = 9, ∂a = (b + 1)/9 = 1/3, ∂b = a/9 = 1/3
    assert_close(ad.G(log_max, (0, 1))(3.0, 2.0), (1 / 3, 1 / 3), REL)
    # (1, 2): max picks 2, c = 2 + 2 = 4, ∂a = b/4 = 0.5, ∂b = a/4 = 0.25
    assert_close(ad.G(log_max, (0, 1))(1.0, 2.0), (0.5, 0.25), REL)
    assert_close(ad.G(log_max, "a")(3.0, 2.0), 1 / 3, REL)
    assert_close(ad.G(log_max, "b")(1.0, 2.0), 0.25, REL)


@pytest.mark.parametrize("a, b", [(3.0, 2.0), (1.0, 2.0), (5.0, 0.5), (0.5, 3.0), (2.5, -0.4), (-1.0, -3.0)])
def test_log_max(ad, a, b):
    assert_close(ad.G(log_max, (0, 1))(a, b), log_max_partials(a, b), REL)
    assert_close(ad.D(log_max)(a, b), log_max_partials(a, b)[0], REL)


def test_log_max_at_the_kink(ad):
    # max(a, 2) has no derivative at a = 2; s2sdiff documents JAX's convention (ties split evenly)
    b = 2.0
    assert_close(ad.G(log_max, (0, 1))(2.0, b), ((b + 0.5) / 6.0, 2.0 / 6.0), REL)


# ---- partial derivatives and gradients (001 L5(2), 003 §3) ------------------------------

def quartic_xy(x, y):
    return (x + 2 * y ** 3) ** 2


def mixed_cubic(x1, x2):
    return x1 ** 2 * x2 + x1 * x2 ** 3


def mixed_quadratic(x1, x2):          # 003's exercise: x1² x2 + x1 x2²
    return x1 ** 2 * x2 + x1 * x2 ** 2


def sin_plus_square(x, y):           # 002 ex: sin(x) + 3y²
    return math.sin(x) + 3 * y ** 2


POINTS = [(0.5, 1.5), (-1.2, 0.7), (2.0, -0.3), (3.0, 2.0)]


@pytest.mark.parametrize("x, y", POINTS)
def test_partials_of_x_plus_2y_cubed_squared(ad, x, y):
    u = x + 2 * y ** 3
    want = (2 * u, 12 * u * y ** 2)
    assert_close(ad.G(quartic_xy, (0, 1))(x, y), want, REL)
    assert_close(ad.G(quartic_xy, "y")(x, y), want[1], REL)


@pytest.mark.parametrize("x1, x2", POINTS)
def test_gradient_of_mixed_polynomials(ad, x1, x2):
    assert_close(ad.G(mixed_cubic, (0, 1))(x1, x2), (2 * x1 * x2 + x2 ** 3, x1 ** 2 + 3 * x1 * x2 ** 2), REL)
    assert_close(ad.G(mixed_quadratic, (0, 1))(x1, x2), (2 * x1 * x2 + x2 ** 2, x1 ** 2 + 2 * x1 * x2), REL)
    assert_close(ad.G(sin_plus_square, (0, 1))(x1, x2), (math.cos(x1), 6 * x2), REL)


# ---- chain rule through intermediate variables -----------------------------------------

def exp_plus_cube(x1, x2):
    return np.exp(x1) + 2 * x2 ** 3


def chain_exp_cube(t):               # 002 ex 1.2: x1 = 2t, x2 = t²
    x1 = 2 * t
    x2 = t * t
    return exp_plus_cube(x1, x2)


@pytest.mark.parametrize("t", [-1.5, -0.4, 0.0, 0.8, 1.6])
def test_chain_rule_exp_plus_cube(ad, t):
    # d/dt (e^{2t} + 2t⁶) = 2e^{2t} + 12t⁵
    want = 2 * math.exp(2 * t) + 12 * t ** 5
    assert_close(ad.D(chain_exp_cube)(t), want, REL)
    assert_close(complex_step(chain_exp_cube, [t], 0), want, REL)


def exp_x1_x2_squared(x1, x2):
    return np.exp(x1 * x2 ** 2)


def h_of_t(t):                       # 001 L5(3), 003 §4: x1 = t cos t, x2 = t sin t
    x1 = t * np.cos(t)
    x2 = t * np.sin(t)
    return exp_x1_x2_squared(x1, x2)


@pytest.mark.parametrize("t", [-2.0, -0.6, 0.3, 1.1, 2.5])
def test_chain_rule_h_of_t(ad, t):
    # h = exp(t³ cos t sin² t), h' = h·(3t² cos t sin² t − t³ sin³ t + 2t³ cos² t sin t)
    s, c = math.sin(t), math.cos(t)
    want = math.exp(t ** 3 * c * s * s) * (3 * t * t * c * s * s - t ** 3 * s ** 3 + 2 * t ** 3 * c * c * s)
    assert_close(ad.D(h_of_t)(t), want, REL)
    # the notes' form: ∂f/∂x · dx/dt
    x1, x2 = t * c, t * s
    e = math.exp(x1 * x2 * x2)
    assert_close(e * x2 * x2 * (c - t * s) + 2 * e * x1 * x2 * (s + t * c), want, REL)


def square_plus_twice(x1, x2):
    return x1 ** 2 + 2 * x2


def chain_sin_cos(t):                # 001 L5(2), 003 §3.1: x1 = sin t, x2 = cos t
    return square_plus_twice(np.sin(t), np.cos(t))


@pytest.mark.parametrize("t", [-2.2, -0.5, 0.7, 1.9, 3.0])
def test_chain_rule_sin_cos(ad, t):
    assert_close(ad.D(chain_sin_cos)(t), 2 * math.sin(t) * math.cos(t) - 2 * math.sin(t), REL)


# ---- single-variable examples (002 ex 1.1, 003 §2) --------------------------------------

def three_x_sin_x(x):
    return 3 * x * math.sin(x)


def log_cube(x):
    return math.log(x ** 3)


def two_x_plus_one_fourth(x):
    return (2 * x + 1) ** 4


def square(x):
    return x ** 2


@pytest.mark.parametrize("x", [-2.0, -0.5, 0.3, 1.0, 4.5])
def test_single_variable_examples(ad, x):
    assert_close(ad.D(three_x_sin_x)(x), 3 * math.sin(x) + 3 * x * math.cos(x), REL)
    assert_close(ad.D(two_x_plus_one_fourth)(x), 8 * (2 * x + 1) ** 3, REL)
    assert_close(ad.D(square)(x), 2 * x, REL)


@pytest.mark.parametrize("x", [0.2, 1.0, 2.5, 40.0])
def test_log_of_cube(ad, x):
    assert_close(ad.D(log_cube)(x), 3 / x, REL)


def test_derivative_of_square_at_2(ad):
    assert ad.D(square)(2.0) == 4.0


# ---- vector-valued function: r(t) = (sin t, cos t, t²)  (002 def 1.5) -------------------

def position(t):
    return np.sin(t), np.cos(t), t * t


@pytest.mark.parametrize("t", [-1.0, 0.0, 0.6, 2.4])
def test_velocity_jacobian(ad, t):
    want = (math.cos(t), -math.sin(t), 2 * t)
    assert_close(ad.D(position)(t), want, REL, abs_tol=1e-15)
    v = ad.J(position, 0)(t)
    assert isinstance(v, np.ndarray) and v.shape == (3,)
    assert_close(v, want, REL, abs_tol=1e-15)


# ---- gradient descent on the quadratic of 002 ex 2.2 ------------------------------------

def fxy(x1, x2, a, b):
    f = ((x1 - a) / 4) ** 2 + ((x2 - b) / 3) ** 2
    return f


@pytest.mark.parametrize("x1, x2, a, b", [(8.0, 9.0, 2.0, -3.0), (0.0, 0.0, 2.0, -3.0), (-4.5, 1.25, 1.0, 5.0)])
def test_quadratic_gradient(ad, x1, x2, a, b):
    want = ((x1 - a) / 8, 2 * (x2 - b) / 9)
    assert_close(ad.G(fxy, (0, 1))(x1, x2, a, b), want, REL, abs_tol=1e-15)
    assert_close(ad.G(fxy, ("a", "b"))(x1, x2, a, b), (-want[0], -want[1]), REL, abs_tol=1e-15)
    if x1 != a and x2 != b:          # the notes' hand-coded partials are 4× and 3× these
        assert math.isclose(((x1 - a) / 2) / want[0], 4.0)
        assert math.isclose((2 * (x2 - b) / 3) / want[1], 3.0)


def test_gradient_descent_reaches_the_minimum(ad):
    a, b = 2.0, -3.0
    gradient = ad.G(fxy, (0, 1))
    x1, x2 = 8.0, 9.0
    for _ in range(400):             # step 1: contraction 7/8 in x1, 7/9 in x2
        g1, g2 = gradient(x1, x2, a, b)
        x1, x2 = x1 - g1, x2 - g2
    assert abs(x1 - a) < 1e-12 and abs(x2 - b) < 1e-12


# ---- linearization and Taylor examples (003 §7) -----------------------------------------

def square_root(x):
    return np.sqrt(x)


def test_linearization_of_sqrt_at_4(ad):
    slope = ad.D(square_root)(4.0)
    assert slope == 0.25
    approx = 2.0 + slope * 0.001     # 2.00025; the true √4.001 = 2.0002499843…
    assert abs(approx - math.sqrt(4.001)) / math.sqrt(4.001) < 1e-8


def taylor_quadratic(x, y):
    return x ** 2 + 2 * x * y + y ** 2


@pytest.mark.parametrize("x, y", [(1.0, 2.0), (-0.5, 3.0), (2.5, -1.5)])
def test_taylor_example_gradient(ad, x, y):
    # ∇(x² + 2xy + y²) = (2x + 2y, 2x + 2y): (6, 6) at the notes' point (1, 2)
    assert_close(ad.G(taylor_quadratic, (0, 1))(x, y), (2 * x + 2 * y, 2 * x + 2 * y), REL, abs_tol=1e-15)
