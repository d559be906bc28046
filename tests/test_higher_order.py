"""Higher-order derivatives by composing the transforms: Hessians (forward over reverse),
k-th derivatives (forward applied k times), gradients of functions that call generated
gradients (reverse over reverse), and Taylor polynomials.

Oracles: closed forms; mpmath.diff with partial orders (50 digits) for arithmetic-only
loop code; the complex step through a hand-written closed-form gradient (exact to
rounding) for an n-dimensional Hessian; numpy.roots for Newton's method.
"""
import functools
import math

import mpmath
import numpy as np
import pytest

import s2sdiff as sd


# ---- functions ------------------------------------------------------------------------

def rosenbrock2(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def rosenbrock_vector(v):
    s = 0.0
    for i in range(v.shape[0] - 1):
        s += 100.0 * (v[i + 1] - v[i] ** 2) ** 2 + (1.0 - v[i]) ** 2
    return s


def square_of_sum(v):
    return v[0] ** 2 + 2.0 * v[0] * v[1] + v[1] ** 2


def loop_recurrence(x, y):
    """Arithmetic only, so mpmath numbers run through it unchanged."""
    s = x
    for k in range(4):
        s = s * y / (1.0 + s * s) + x * k
    return s * s


def chain_of_sines(v):
    s = 0.0
    for i in range(v.shape[0] - 1):
        s += np.sin(v[i] * v[i + 1]) + 0.5 * v[i] ** 3
    return s


def chain_of_sines_gradient(v):
    """Hand-derived gradient of chain_of_sines (complex-analytic: the complex step applies)."""
    g = np.zeros_like(v)
    c = np.cos(v[:-1] * v[1:])
    g[:-1] += c * v[1:] + 1.5 * v[:-1] ** 2
    g[1:] += c * v[:-1]
    return g


def complex_step_jacobian(gradient, v):
    """Column j: Im gradient(v + i h e_j) / h, h = 1e-30 (exact to rounding, no cancellation)."""
    columns = []
    for j in range(len(v)):
        z = v.astype(complex)
        z[j] += 1e-30j
        columns.append(np.imag(gradient(z)) / 1e-30)
    return np.array(columns).T.reshape(len(v), len(v))


def quartic(x):
    return x ** 4 + 7.0 * x ** 3 + 5.0 * x ** 2 - 17.0 * x + 3.0


def polynomial(x):
    return 3.0 * x ** 5 - 2.0 * x ** 3 + x - 4.0


def sine(x):
    return math.sin(x)


def exponential(x):
    return math.exp(2.0 * x)


def square_root(x):
    return math.sqrt(x)


def inner_objective(x, y):
    return x * x * y + math.sin(x * y)


inner_gradient = sd.grad(inner_objective, wrt=(0, 1))


def gradient_norm(x, y):
    """Calls a generated gradient: its own gradient is reverse mode over reverse mode."""
    gx, gy = inner_gradient(x, y)
    return gx * gx + gy * gy


def matrix_objective(W, x):
    return np.sum(np.tanh(W @ x) ** 2)


matrix_gradient = sd.grad(matrix_objective, wrt=0)


def matrix_gradient_norm(W, x):
    return np.sum(matrix_gradient(W, x) ** 2)


@functools.cache
def hessian_of(f, wrt=0):
    return sd.hessian(f, wrt=wrt)


# ---- Hessians -------------------------------------------------------------------------

@pytest.mark.parametrize("x, y", [(1.5, 0.5), (-0.3, 2.0), (1.0, 1.0)])
def test_hessian_of_2d_rosenbrock_matches_closed_form(x, y):
    (hxx, hxy), (hyx, hyy) = hessian_of(rosenbrock2, (0, 1))(x, y)
    assert hxx == pytest.approx(2.0 + 1200.0 * x * x - 400.0 * y, rel=1e-14)
    assert hxy == hyx == pytest.approx(-400.0 * x, rel=1e-14)
    assert hyy == pytest.approx(200.0, rel=1e-14)
    H = hessian_of(rosenbrock_vector)(np.array([x, y]))
    assert H.shape == (2, 2)
    np.testing.assert_allclose(H, [[hxx, hxy], [hyx, hyy]], rtol=1e-14)


def test_hessian_of_a_scalar_parameter_is_a_number():
    assert hessian_of(rosenbrock2, 1)(0.3, 0.7) == pytest.approx(200.0, rel=1e-15)


def test_square_of_sum_hessian_and_its_exact_second_order_taylor_expansion():
    H = hessian_of(square_of_sum)(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(H, [[2.0, 2.0], [2.0, 2.0]])
    poly = sd.taylor(square_of_sum, np.array([1.0, 2.0]), order=2)
    for point in ([0.0, 0.0], [3.0, -1.0], [-2.5, 4.0]):
        assert poly(point) == pytest.approx(square_of_sum(np.array(point)), rel=1e-14, abs=1e-14)
    linear = sd.taylor(square_of_sum, np.array([1.0, 2.0]), order=1)
    assert linear(np.array([1.1, 2.0])) == pytest.approx(9.0 + 6.0 * 0.1, rel=1e-14)


@pytest.mark.parametrize("x, y", [(0.7, 1.3), (-1.1, 0.4)])
def test_hessian_of_a_loop_matches_mpmath(x, y):
    H = hessian_of(loop_recurrence, (0, 1))(x, y)
    with mpmath.workdps(50):
        for i in range(2):
            for j in range(2):
                order = tuple(int(k == i) + int(k == j) for k in range(2))
                want = float(mpmath.diff(loop_recurrence, (mpmath.mpf(x), mpmath.mpf(y)), order))
                assert H[i][j] == pytest.approx(want, rel=1e-12), (i, j)


@pytest.mark.parametrize("n", [1, 2, 7, 30, 64, 65, 130])     # blocks of 64 directions: 64, 64 + 1, 64 + 64 + 2
def test_n_dimensional_hessian_matches_complex_step_of_the_hand_gradient(n):
    v = np.random.default_rng(n).uniform(-1.0, 1.0, n)
    H = hessian_of(chain_of_sines)(v)
    assert H.shape == (n, n)
    np.testing.assert_allclose(H, complex_step_jacobian(chain_of_sines_gradient, v), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(H, H.T, rtol=1e-13, atol=1e-14)


def scaled(a, c):
    """Reassigns its parameter: batched, its seed must be a copy, not the caller's vector."""
    a = a * c
    return a


def passed_through(a):
    """Hands back the tangent it was given, which the caller then writes."""
    return a


def chain_through_helpers(v):
    s = 0.0
    for i in range(v.shape[0] - 1):
        t = passed_through(v[i])
        u = scaled(v[i + 1], 2.0)
        t = t * u
        s += np.sin(t) + 0.5 * u * u
    return s


def chain_through_helpers_gradient(v):
    """Σ sin(2 v_i v_{i+1}) + 2 v_{i+1}², differentiated by hand."""
    g = np.zeros_like(v)
    c = np.cos(2.0 * v[:-1] * v[1:])
    g[:-1] += 2.0 * v[1:] * c
    g[1:] += 2.0 * v[:-1] * c + 4.0 * v[1:]
    return g


def powered(a, c):
    """Rebinds its parameter in a loop: batched, that tangent is written in place, so it
    must be a copy of the caller's, not the caller's own vector."""
    for _ in range(3):
        a = a * c
    return a


def powered_sum(v):
    s = 0.0
    for i in range(v.shape[0]):
        s += powered(v[i], 1.5) * v[i]
    return s


def discounted_sums(v):
    out = np.empty_like(v)
    acc = 0.0
    for i in range(v.shape[0]):
        acc = 0.5 * acc + math.sin(v[i])
        out[i] = acc
    return out


@pytest.mark.parametrize("n", [3, 70])
def test_batched_hessian_through_helpers(n):
    v = np.random.default_rng(n).uniform(-1.0, 1.0, n)
    H = hessian_of(chain_through_helpers)(v)
    np.testing.assert_allclose(H, complex_step_jacobian(chain_through_helpers_gradient, v), rtol=1e-12, atol=1e-13)
    source = hessian_of(chain_through_helpers).source
    assert "def scaled_vjp_a_jvp_a_bscaled_batched(" in source and "def passed_through_vjp_jvp_batched(" in source


def test_batched_helper_rebinding_its_parameter_keeps_the_callers_tangents():
    v = np.array([0.3, -0.7, 1.2, 2.0])
    np.testing.assert_allclose(hessian_of(powered_sum)(v), np.diag(np.full(4, 2.0 * 1.5 ** 3)), rtol=1e-15)


def test_batched_forward_jacobian_of_a_written_array():
    n = 100
    v = np.random.default_rng(1).uniform(-2.0, 2.0, n)
    jacobian = sd.jacobian(discounted_sums, mode="forward")
    i, j = np.indices((n, n))
    want = np.where(j <= i, 0.5 ** (i - j) * np.cos(v)[j], 0.0)
    np.testing.assert_allclose(jacobian(v), want, rtol=1e-13, atol=1e-300)
    assert "seed_block(v, start, stop)" in jacobian.source


def test_forward_gradient_of_many_inputs_sweeps_narrower_blocks():
    n = 70_000                      # 2**22 // n = 59 directions per sweep, the last block shorter
    v = np.random.default_rng(2).uniform(-1.0, 1.0, n)
    np.testing.assert_allclose(sd.grad(chain_of_sines, mode="forward")(v), chain_of_sines_gradient(v),
                               rtol=1e-13, atol=1e-15)


def test_hessian_is_the_jacobian_of_the_gradient_and_reads_as_a_composition():
    v = np.array([0.3, -0.8, 1.1])
    direct = sd.jacobian(sd.grad(rosenbrock_vector), mode="forward")(v)
    np.testing.assert_allclose(hessian_of(rosenbrock_vector)(v), direct, rtol=1e-15)
    source = hessian_of(rosenbrock_vector).source
    assert "def rosenbrock_vector_hessian(v):" in source
    # the tangent of the reverse sweep, in a block of directions: adjoints `bv` and their
    # tangents `dbv` side by side, the tangents with a trailing axis of K directions
    assert "def rosenbrock_vector_vjp_grad_jvp_v_batched(v, brosenbrock_vector, dv):" in source
    assert "bv = " in source and "dbv = batched_zeros(bv, K)" in source


def test_differentiable_has_a_hessian():
    f = sd.differentiable(rosenbrock_vector)
    np.testing.assert_allclose(f.hessian(np.array([1.0, 1.0])), [[802.0, -400.0], [-400.0, 200.0]], rtol=1e-15)


# ---- k-th derivatives --------------------------------------------------------------------

@pytest.mark.parametrize("f, derivatives", [
    (sine, [math.cos, lambda x: -math.sin(x), lambda x: -math.cos(x), math.sin]),
    (exponential, [lambda x, k=k: 2.0 ** k * math.exp(2.0 * x) for k in range(1, 5)]),
    (polynomial, [lambda x: 15 * x ** 4 - 6 * x ** 2 + 1, lambda x: 60 * x ** 3 - 12 * x,
                  lambda x: 180 * x ** 2 - 12, lambda x: 360 * x]),
])
@pytest.mark.parametrize("x", [-0.7, 0.4, 1.9])
def test_derivative_of_order_k_up_to_4(f, derivatives, x):
    for k, want in enumerate(derivatives, start=1):
        assert sd.derivative(f, order=k)(x) == pytest.approx(want(x), rel=1e-13, abs=1e-13), k


def test_newton_finds_the_three_critical_points_and_the_global_minimum():
    d1, d2, d3 = (sd.derivative(quartic, order=k) for k in (1, 2, 3))
    critical = []
    for start in (-6.0, -1.0, 2.0):
        x = start
        for _ in range(50):                 # Newton on f' = 0
            step = d1(x) / d2(x)
            x -= step
            if abs(step) < 1e-14:
                break
        critical.append(x)
    roots = np.sort(np.roots([4.0, 21.0, 10.0, -17.0]).real)        # f'(x) = 4x³ + 21x² + 10x − 17
    np.testing.assert_allclose(sorted(critical), roots, rtol=1e-12)
    minima = [x for x in critical if d2(x) > 0]
    assert len(minima) == 2 and d2(roots[1]) < 0                     # the middle one is a maximum
    best = min(minima, key=quartic)
    assert best == pytest.approx(-4.48, abs=5e-3)
    assert d3(best) == pytest.approx(24 * best + 42, rel=1e-12)


def test_linearization_of_the_square_root_at_4():
    tangent = sd.taylor(square_root, 4.0, order=1)
    assert tangent.coefficients == pytest.approx((2.0, 0.25), rel=1e-15)
    assert tangent(4.001) == pytest.approx(2.00025, rel=1e-15)
    # the error is the next term, −f''(4) δ²/2 = δ²/64
    assert tangent(4.001) - math.sqrt(4.001) == pytest.approx(0.001 ** 2 / 64, rel=1e-3)
    cubic = sd.taylor(square_root, 4.0, order=3)
    assert cubic.coefficients[2] == pytest.approx(-1 / 64, rel=1e-14)
    assert abs(cubic(4.1) - math.sqrt(4.1)) < abs(tangent(4.1) - math.sqrt(4.1)) / 100


def test_taylor_rejects_bad_orders():
    with pytest.raises(sd.S2SDiffError, match="order"):
        sd.taylor(sine, 0.0, order=-1)
    with pytest.raises(sd.S2SDiffError, match="up to degree 2"):
        sd.taylor(square_of_sum, np.zeros(2), order=3)


# ---- reverse over reverse ----------------------------------------------------------------

def test_gradient_of_a_function_calling_a_generated_gradient():
    x, y = 0.7, 1.3
    got = sd.grad(gradient_norm, wrt=(0, 1))(x, y)
    forward = [sd.jvp(gradient_norm, (x, y), t)[1] for t in ((1.0, 0.0), (0.0, 1.0))]
    with mpmath.workdps(40):
        def norm(a, b):
            gx = 2 * a * b + mpmath.cos(a * b) * b
            gy = a * a + mpmath.cos(a * b) * a
            return gx * gx + gy * gy
        want = [float(mpmath.diff(norm, (x, y), o)) for o in ((1, 0), (0, 1))]
    np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_allclose(forward, want, rtol=1e-13)


def test_gradient_through_a_generated_matrix_gradient():
    r = np.random.default_rng(3)
    W, x = r.normal(size=(3, 4)), r.normal(size=4)
    got = sd.grad(matrix_gradient_norm)(W, x)
    want = np.empty_like(W)
    for idx in np.ndindex(W.shape):             # complex step through the closed-form gradient
        Z = W.astype(complex)
        Z[idx] += 1e-30j
        t = np.tanh(Z @ x)
        g = np.outer(2 * t * (1 - t * t), x)
        want[idx] = np.imag(np.sum(g * g)) / 1e-30
    np.testing.assert_allclose(got, want, rtol=1e-12)
