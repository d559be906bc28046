"""Stencils in every index form (issue 19): periodic neighbours `x[(i + 1) % n]`, `x[i - 1]`,
reversed indices `x[n - 1 - i]`, reversed loops, 2-D neighbours in nested loops, and small
constant powers `x ** 2`.  reuse.py rewrites all of these (rotation, predictive commoning, a
loop split where a periodic index wraps), so each is checked against the complex step at
the sizes where the wrap-around is unusual: n = 1 (the neighbour is the element itself),
2 and 3.  Most checks run the generated Python (jit=False); a few forms are compiled once,
in module-scoped fixtures.
"""
import numpy as np
import pytest

import s2sdiff as sd
from oracles import cs_jacobian

SIZES = (1, 2, 3, 4, 7)
TOL = 1e-12


# ---- the functions: np.* so that the complex step runs through them -------------------------

def next_plain(x):
    n = len(x)
    s = 0.0
    for i in range(n - 1):
        s += np.exp(-x[i] ** 2) * x[i + 1]
    return s


def next_periodic(x):
    n = len(x)
    s = 0.0
    for i in range(n):
        s += np.exp(-x[i] ** 2) * x[(i + 1) % n]
    return s


def prev_periodic(x):
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        s += np.sin(x[i]) * np.cos(x[(i - 1) % n])
    return s


def len_inline(x):
    s = 0.0
    for i in range(len(x)):
        s += np.exp(-x[i] ** 2) * x[(i + 1) % len(x)]
    return s


def shape_inline(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.sin(x[i]) * np.cos(x[(i - 1) % x.shape[0]])
    return s


def wraps_twice(x):
    """The loop runs past n: the index wraps at i = n - 1 and again at 2n - 1."""
    n = len(x)
    s = 0.0
    for i in range(2 * n + 1):
        s += np.sin(x[i % n]) * np.exp(x[(i + 1) % n])
    return s


def bound_periodic(x, m):
    """A ring of the first m elements: the modulus is the loop bound, not the length."""
    s = 0.0
    for i in range(m):
        s += np.sin(x[i]) * np.cos(x[(i + 1) % m])
    return s


def prev_plain(x):
    n = x.shape[0]
    s = 0.0
    for i in range(1, n):
        s += np.sin(x[i]) * np.cos(x[i - 1])
    return s


def reversed_index(x):
    n = len(x)
    s = 0.0
    for i in range(n - 1):
        s += np.exp(-x[n - 1 - i] ** 2) * np.sin(x[n - 2 - i])
    return s


def reversed_loop(x):
    n = len(x)
    s = 0.0
    for i in range(n - 1, 0, -1):
        s += np.sin(x[i]) * np.cos(x[i - 1])
    return s


def rosenbrock_pow(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def powers(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i] ** 2 + 0.5 * x[i] ** 3 - 0.1 * x[i] ** 4
    return s


def powers_whole_array(x):
    return np.sum(x ** 3 - 2.0 * x ** 2 + np.exp(x) ** 2)


def ring(x):
    """A vector result: each element pairs with its periodic neighbour."""
    n = len(x)
    y = np.empty_like(x)
    for i in range(n):
        y[i] = np.sin(x[i]) * x[(i + 1) % n] ** 2
    return y


def grid(u):
    s = 0.0
    for i in range(u.shape[0] - 1):
        for j in range(1, u.shape[1]):
            s += np.sin(u[i, j]) * np.cos(u[i + 1, j]) + np.exp(u[i, j - 1] * u[i, j])
    return s


def grid_periodic(u):
    n, m = u.shape
    s = 0.0
    for i in range(n):
        for j in range(m):
            s += np.sin(u[i, j]) * np.cos(u[i, (j + 1) % m]) + u[(i + 1) % n, j] ** 2 * u[i, j]
    return s


def rewritten_neighbour(x):
    """Reads y[i - 1] after the previous iteration wrote it: sin(y[i]) of one iteration is not
    sin(y[i - 1]) of the next, so nothing may be handed on (it was, before issue 19)."""
    n = len(x)
    y = x.copy()
    s = 0.0
    for i in range(1, n):
        a = np.sin(y[i - 1])
        b = np.sin(y[i])
        y[i] = a * b + x[i]
        s += y[i]
    return s


VECTOR_FORMS = [next_plain, next_periodic, prev_periodic, len_inline, shape_inline, wraps_twice, prev_plain, reversed_index, reversed_loop,
                rosenbrock_pow, powers, powers_whole_array, rewritten_neighbour]
GRID_FORMS = [grid, grid_periodic]
GRID_SHAPES = [(1, 1), (1, 3), (2, 1), (2, 2), (3, 4), (4, 2)]


def point(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape)


def complex_gradient(f, x, *rest):
    return cs_jacobian(f, (x,) + rest, 0)


# ---- reverse mode, generated Python: every form at every size ----------------------------------

@pytest.mark.parametrize("f", VECTOR_FORMS, ids=lambda f: f.__name__)
def test_gradient_of_every_vector_form(f):
    g = sd.grad(f, jit=False)
    for n in SIZES:
        x = point(n, n)
        np.testing.assert_allclose(g(x), complex_gradient(f, x), rtol=TOL, atol=TOL, err_msg=f"n={n}")


@pytest.mark.parametrize("f", GRID_FORMS, ids=lambda f: f.__name__)
def test_gradient_of_every_grid_form(f):
    g = sd.grad(f, jit=False)
    for shape in GRID_SHAPES:
        u = point(shape, sum(shape))
        np.testing.assert_allclose(g(u), complex_gradient(f, u), rtol=TOL, atol=TOL, err_msg=f"shape={shape}")


def test_gradient_of_a_ring_shorter_than_the_array():
    g = sd.grad(bound_periodic, jit=False)
    for n in (1, 2, 3, 5):
        for m in range(n + 1):
            x = point(n, 10 * n + m)
            np.testing.assert_allclose(g(x, m), complex_gradient(bound_periodic, x, m), rtol=TOL, atol=TOL,
                                       err_msg=f"n={n}, m={m}")


def test_values_read_from_an_array_the_loop_writes_are_not_handed_on():
    x = point(6, 5)
    value, g = sd.value_and_grad(rewritten_neighbour, jit=False)(x)
    assert value == pytest.approx(rewritten_neighbour(x), rel=1e-14)
    np.testing.assert_allclose(g, complex_gradient(rewritten_neighbour, x), rtol=TOL, atol=TOL)


# ---- the other entry points on the periodic form --------------------------------------------------

def next_periodic_gradient(x):
    """The closed-form gradient of next_periodic: its complex step gives the Hessian."""
    e = np.exp(-x * x)
    return -2.0 * x * e * np.roll(x, -1) + np.roll(e, 1)


@pytest.mark.parametrize("n", (1, 2, 3, 5))
def test_entry_points_on_a_periodic_neighbour(n):
    x = point(n, 100 + n)
    want = complex_gradient(next_periodic, x)
    np.testing.assert_allclose(next_periodic_gradient(x), want, rtol=TOL, atol=TOL)
    value, g = sd.value_and_grad(next_periodic, jit=False)(x)
    assert value == pytest.approx(next_periodic(x), rel=1e-14)
    np.testing.assert_allclose(g, want, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(sd.grad(next_periodic, mode="forward", jit=False)(x), want, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(sd.jacobian(next_periodic, jit=False)(x), want, rtol=TOL, atol=TOL)
    v = point(n, 200 + n)
    value, tangent = sd.jvp(next_periodic, (x,), (v,), jit=False)
    assert tangent == pytest.approx(want @ v, rel=1e-12, abs=1e-12)
    value, pullback = sd.vjp(next_periodic, x, jit=False)
    np.testing.assert_allclose(pullback(2.0)[0], 2.0 * want, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(sd.hessian(next_periodic, jit=False)(x), cs_jacobian(next_periodic_gradient, (x,), 0),
                               rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("n", (1, 2, 3, 5))
def test_jacobian_and_vjp_of_a_vector_ring(n):
    x = point(n, 300 + n)
    want = cs_jacobian(ring, (x,), 0)
    np.testing.assert_allclose(sd.jacobian(ring, jit=False)(x), want, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(sd.jacobian(ring, mode="reverse", jit=False)(x), want, rtol=TOL, atol=TOL)
    w = point(n, 400 + n)
    _, pullback = sd.vjp(ring, x, jit=False)
    np.testing.assert_allclose(pullback(w)[0], w @ want, rtol=TOL, atol=TOL)


# ---- compiled: a few forms, each compiled once ----------------------------------------------------

@pytest.fixture(scope="module")
def compiled():
    return {f.__name__: sd.grad(f) for f in (next_periodic, prev_periodic, reversed_index, grid)}


@pytest.mark.parametrize("name", ["next_periodic", "prev_periodic", "reversed_index"])
def test_compiled_gradient(compiled, name):
    f = globals()[name]
    for n in SIZES + (1000,):
        x = point(n, n)
        np.testing.assert_allclose(compiled[name](x), complex_gradient(f, x), rtol=TOL, atol=TOL, err_msg=f"n={n}")


def test_compiled_grid_gradient(compiled):
    for shape in GRID_SHAPES + [(30, 40)]:
        u = point(shape, sum(shape))
        np.testing.assert_allclose(compiled["grid"](u), complex_gradient(grid, u), rtol=TOL, atol=TOL,
                                   err_msg=f"shape={shape}")


def test_compiled_value_and_hessian_of_a_periodic_neighbour():
    x = point(6, 7)
    value, g = sd.value_and_grad(next_periodic)(x)
    assert value == pytest.approx(next_periodic(x), rel=1e-14)
    np.testing.assert_allclose(g, complex_gradient(next_periodic, x), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(sd.hessian(next_periodic)(x), cs_jacobian(next_periodic_gradient, (x,), 0),
                               rtol=1e-11, atol=1e-11)


# ---- what the generated code does -----------------------------------------------------------------

def _code(transformed) -> str:
    """The generated source without its comments (which quote the user's lines)."""
    return "\n".join(line for line in transformed.source.splitlines() if not line.strip().startswith("#"))


def test_periodic_neighbour_is_rotated_not_taken_modulo_every_iteration():
    """The adjoint loop's middle part reads x[i + 1] and stores each element once; `%` stays
    only in the iterations where the index wraps."""
    code = _code(sd.grad(next_periodic, jit=False))
    assert code.count("for it in range(") == 2 and code.count(" % n") == 1
    assert "bx_next" in code and "empty_adjoint" in code


@pytest.mark.parametrize("f", [len_inline, shape_inline], ids=lambda f: f.__name__)
def test_periodic_neighbour_modulo_a_length_written_in_the_index(f):
    code = _code(sd.grad(f, jit=False))          # split around the wrap (before it too for i - 1)
    assert code.count("for it in range(") == (2 if f is len_inline else 3) and "_next" in code


def test_two_dimensional_neighbours_rotate_along_the_inner_loop():
    assert "bu_next" in _code(sd.grad(grid, jit=False))


def test_powers_of_negative_constants():
    """`(-2.0) ** 2` keeps its parentheses now that `-2.0` is a constant, not a negation."""
    def f(x):
        return (-2.0) ** 2 * x + (-x) ** 3 + x ** -1 + 2 ** -1 * x + (-1) ** 3 * x ** 4

    x = 1.5
    want = 4.0 - 3.0 * x ** 2 - 1.0 / x ** 2 + 0.5 - 4.0 * x ** 3
    assert sd.grad(f, jit=False)(x) == pytest.approx(want, rel=1e-14)
    assert sd.derivative(f, jit=False)(x) == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("f", [powers, rosenbrock_pow, powers_whole_array], ids=lambda f: f.__name__)
def test_small_powers_are_products(f):
    """`x ** 2`, `x ** 3`, `x ** 4` cost what products cost in every generated function:
    the primal copy, the tangent, the adjoint and the Hessian."""
    for transformed in (sd.grad(f, jit=False), sd.value_and_grad(f, jit=False),
                        sd.grad(f, mode="forward", jit=False), sd.hessian(f, jit=False)):
        code = _code(transformed)
        assert "**" not in code and "np.power" not in code and " pow(" not in code, code
