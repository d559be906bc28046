"""User rules (sd.custom_jvp, sd.custom_vjp, sd.register_vjp): every transform goes
through the rule, never through the body, checked against closed forms."""
import math

import numba
import numpy as np
import pytest
import scipy.special

import s2sdiff as sd

JIT = [pytest.param(False, id="python"), pytest.param(True, id="compiled")]
MODES = ["forward", "reverse"]


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---- softplus: the naive derivative overflows at x = 800, the rules do not ----------

def naive_softplus(x):
    return np.log1p(np.exp(x))


@sd.custom_jvp
def softplus_j(x):
    return np.log1p(np.exp(x))


@softplus_j.defjvp
def softplus_j_rule(primals, tangents):
    (x,), (dx,) = primals, tangents
    return softplus_j(x), dx / (1.0 + np.exp(-x))


@sd.custom_vjp
def softplus_v(x):
    return np.log1p(np.exp(x))


def softplus_v_fwd(x):
    # the value computed without overflow too
    return max(x, 0.0) + np.log1p(np.exp(-abs(x))), (x,)


def softplus_v_bwd(res, g):
    x, = res
    return (g / (1.0 + np.exp(-x)),)


softplus_v.defvjp(softplus_v_fwd, softplus_v_bwd)
SOFTPLUS = [pytest.param(softplus_j, id="custom_jvp"), pytest.param(softplus_v, id="custom_vjp")]


def test_the_naive_derivative_overflows():
    assert math.isnan(sd.grad(naive_softplus, jit=False)(800.0))


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", SOFTPLUS)
def test_softplus_rule_is_exact_where_the_body_overflows(f, mode, jit):
    g = sd.grad(f, mode=mode, jit=jit)
    assert g(800.0) == 1.0
    assert g(-800.0) == 0.0
    assert g(0.3) == pytest.approx(sigmoid(0.3), rel=1e-15)
    assert sd.derivative(f, jit=jit)(800.0) == 1.0


@pytest.mark.parametrize("jit", JIT)
def test_value_from_the_stable_fwd(jit):
    value, gradient = sd.value_and_grad(softplus_v, jit=jit)(800.0)
    assert (value, gradient) == (800.0, 1.0)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("f", SOFTPLUS)
def test_softplus_second_derivative(f, jit):
    s = sigmoid(0.7)
    assert sd.hessian(f, jit=jit)(0.7) == pytest.approx(s * (1.0 - s), rel=1e-14)
    assert sd.hessian(f, jit=jit)(800.0) == 0.0


def test_custom_jvp_second_derivative_in_forward_mode():
    s = sigmoid(0.7)
    assert sd.derivative(softplus_j, order=2, jit=False)(0.7) == pytest.approx(s * (1.0 - s), rel=1e-14)


def test_rule_objects_call_the_function():
    assert softplus_v(0.5) == pytest.approx(math.log1p(math.exp(0.5)))

    @numba.njit
    def twice(x):
        return 2.0 * softplus_j(x)
    assert twice(0.5) == pytest.approx(2.0 * math.log1p(math.exp(0.5)))


# ---- a rule inside a loop of a user function ------------------------------------------

def loop_objective(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += softplus_j(x[i] * (i + 1.0)) + 0.5 * softplus_v(x[i] - 1.0) ** 2
    return s


def loop_gradient(x):
    c = np.arange(1.0, len(x) + 1.0)
    return c * sigmoid(c * x) + naive_softplus(x - 1.0) * sigmoid(x - 1.0)


def loop_hessian(x):
    c = np.arange(1.0, len(x) + 1.0)
    s, t = sigmoid(c * x), sigmoid(x - 1.0)
    return np.diag(c * c * s * (1.0 - s) + t * t + naive_softplus(x - 1.0) * t * (1.0 - t))


X = np.array([0.3, -1.2, 2.5, 0.05])


@pytest.fixture(scope="module")
def compiled_loop():
    return {mode: sd.grad(loop_objective, mode=mode) for mode in MODES} | {"hessian": sd.hessian(loop_objective)}


@pytest.mark.parametrize("mode", MODES)
def test_rule_in_a_loop_compiled(compiled_loop, mode):
    np.testing.assert_allclose(compiled_loop[mode](X), loop_gradient(X), rtol=1e-14)


def test_rule_in_a_loop_hessian_compiled(compiled_loop):
    np.testing.assert_allclose(compiled_loop["hessian"](X), loop_hessian(X), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("mode", MODES)
def test_rule_in_a_loop_python(mode):
    np.testing.assert_allclose(sd.grad(loop_objective, mode=mode, jit=False)(X), loop_gradient(X), rtol=1e-14)
    np.testing.assert_allclose(sd.hessian(loop_objective, jit=False)(X), loop_hessian(X), rtol=1e-13, atol=1e-15)


# ---- tuple outputs, two arguments: jacobian, jvp, vjp -----------------------------------

@sd.custom_jvp
def polar_j(r, t):
    return r * np.cos(t), r * np.sin(t)


@polar_j.defjvp
def polar_j_rule(primals, tangents):
    r, t = primals
    dr, dt = tangents
    return polar_j(r, t), (dr * np.cos(t) - r * np.sin(t) * dt, dr * np.sin(t) + r * np.cos(t) * dt)


@sd.custom_vjp
def polar_v(r, t):
    return r * np.cos(t), r * np.sin(t)


def polar_v_fwd(r, t):
    return (r * np.cos(t), r * np.sin(t)), (r, t)


def polar_v_bwd(res, g):
    r, t = res
    ga, gb = g
    return ga * np.cos(t) + gb * np.sin(t), r * (gb * np.cos(t) - ga * np.sin(t))


polar_v.defvjp(polar_v_fwd, polar_v_bwd)
POLAR = [pytest.param(polar_j, id="custom_jvp"), pytest.param(polar_v, id="custom_vjp")]
R, T = 2.0, 0.3
POLAR_J = np.array([[math.cos(T), -R * math.sin(T)], [math.sin(T), R * math.cos(T)]])


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", POLAR)
def test_jacobian_of_a_tuple_valued_rule(f, mode, jit):
    d_r, d_t = sd.jacobian(f, wrt=(0, 1), mode=mode, jit=jit)(R, T)
    np.testing.assert_allclose(np.stack([d_r, d_t], axis=1), POLAR_J, rtol=1e-15)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("f", POLAR)
def test_jvp_and_vjp_entry_points(f, jit):
    value, tangent = sd.jvp(f, (R, T), (1.0, 0.5), jit=jit)
    np.testing.assert_allclose(value, (R * math.cos(T), R * math.sin(T)), rtol=1e-15)
    np.testing.assert_allclose(tangent, POLAR_J @ [1.0, 0.5], rtol=1e-15)
    value, vjp_fn = sd.vjp(f, R, T, jit=jit)
    np.testing.assert_allclose(vjp_fn((1.0, -2.0)), POLAR_J.T @ [1.0, -2.0], rtol=1e-15)


@sd.custom_vjp
def weighted(x, y):
    return np.sum(x * y)


def weighted_fwd(x, y):
    return weighted(x, y), (x, y)


def weighted_bwd(res, g):
    x, y = res
    return g * y, g * x


weighted.defvjp(weighted_fwd, weighted_bwd)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
def test_array_arguments(mode, jit):
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    gx, gy = sd.grad(weighted, wrt=(0, 1), mode=mode, jit=jit)(x, y)
    np.testing.assert_array_equal(gx, y)
    np.testing.assert_array_equal(gy, x)
    h = sd.hessian(weighted, wrt=(0, 1), jit=jit)(x, y)
    np.testing.assert_array_equal(h[0][1], np.eye(3))
    np.testing.assert_array_equal(h[0][0], np.zeros((3, 3)))


@sd.custom_vjp
def power(x, n):
    return x ** n


def power_fwd(x, n):
    return power(x, n), (x, n)


def power_bwd(res, g):
    x, n = res
    return g * n * x ** (n - 1), None


power.defvjp(power_fwd, power_bwd)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
def test_integer_argument_gets_none(mode, jit):
    assert sd.grad(power, mode=mode, jit=jit)(1.5, 3) == pytest.approx(3 * 1.5 ** 2, rel=1e-15)


# ---- rules for SciPy functions (jit=False) ----------------------------------------------

@sd.custom_vjp
def erf(x):
    return scipy.special.erf(x)


def erf_fwd(x):
    return scipy.special.erf(x), x


def erf_bwd(x, g):
    return (g * 2.0 / math.sqrt(math.pi) * np.exp(-x * x),)


erf.defvjp(erf_fwd, erf_bwd)


def erf_prime(x):
    return 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@pytest.mark.parametrize("mode", MODES)
def test_scipy_primal_without_numba(mode):
    assert sd.grad(erf, mode=mode, jit=False)(0.4) == pytest.approx(erf_prime(0.4), rel=1e-15)
    assert sd.hessian(erf, jit=False)(0.4) == pytest.approx(-2 * 0.4 * erf_prime(0.4), rel=1e-14)
    value, vjp_fn = sd.vjp(erf, 0.4, jit=False)
    assert value == scipy.special.erf(0.4)
    assert vjp_fn(2.0)[0] == pytest.approx(2.0 * erf_prime(0.4), rel=1e-15)
    assert sd.jvp(erf, (0.4,), (3.0,), jit=False)[1] == pytest.approx(3.0 * erf_prime(0.4), rel=1e-15)


def test_scipy_primal_compiled_is_refused_naming_the_call():
    with pytest.raises(sd.UnsupportedError, match=r"scipy\.special\.erf.*jit=False"):
        sd.grad(erf)(0.4)


def dawson_fwd(x):
    value = scipy.special.dawsn(x)
    return value, (x, value)


def dawson_bwd(res, g):
    x, value = res
    return (g * (1.0 - 2.0 * x * value),)       # D′(x) = 1 − 2x·D(x)


# a SciPy function without a built-in rule (registering is global: ndtr's built-in rule
# would be replaced for every later test)
dawsn = sd.register_vjp(scipy.special.dawsn, dawson_fwd, dawson_bwd)


def likelihood(w):
    s = 0.0
    for i in range(w.shape[0]):
        s += np.log(scipy.special.dawsn(w[i] * (i + 1.0)))
    return s


@pytest.mark.parametrize("mode", MODES)
def test_registered_rule_for_a_third_party_function(mode):
    w = np.array([0.2, 0.4, 1.1])
    c = np.arange(1.0, 4.0)
    value = scipy.special.dawsn(c * w)
    expected = c * (1.0 - 2.0 * c * w * value) / value
    np.testing.assert_allclose(sd.grad(likelihood, mode=mode, jit=False)(w), expected, rtol=1e-13)
    want = 1.0 - 2.0 * 0.3 * scipy.special.dawsn(0.3)
    assert sd.grad(dawsn, jit=False)(0.3) == pytest.approx(want, rel=1e-15)


# ---- errors ------------------------------------------------------------------------------

@sd.custom_vjp
def short_bwd(x, y):
    return x * y


def short_bwd_fwd(x, y):
    return short_bwd(x, y), (x, y)


def short_bwd_bwd(res, g):
    x, y = res
    return (g * y,)


short_bwd.defvjp(short_bwd_fwd, short_bwd_bwd)


def test_wrong_number_of_cotangents_names_the_rule():
    with pytest.raises(sd.S2SDiffError, match=r"short_bwd_bwd must return a tuple of 2 cotangent"):
        sd.grad(short_bwd, jit=False)(1.0, 2.0)


@sd.custom_vjp
def misshaped(x):
    return np.sum(x)


def misshaped_fwd(x):
    return misshaped(x), None


def misshaped_bwd(res, g):
    return (g,)


misshaped.defvjp(misshaped_fwd, misshaped_bwd)


@pytest.mark.parametrize("jit", JIT)
def test_misshaped_cotangent_names_the_rule(jit):
    with pytest.raises(sd.S2SDiffError, match=r"misshaped_bwd gave a cotangent for 'x' that is not shaped like it"):
        sd.grad(misshaped, jit=jit)(np.ones(3))


@sd.custom_jvp
def misshaped_tangent(x):
    return 2.0 * x


@misshaped_tangent.defjvp
def misshaped_tangent_rule(primals, tangents):
    return misshaped_tangent(primals[0]), tangents[0] * np.ones(2)


@pytest.mark.parametrize("jit", JIT)
def test_misshaped_tangent_names_the_rule(jit):
    with pytest.raises(sd.S2SDiffError, match=r"misshaped_tangent_rule gave a tangent for output 1"):
        sd.derivative(misshaped_tangent, jit=jit)(1.0)


def test_rule_with_wrong_parameters_and_missing_rule():
    @sd.custom_jvp
    def f(x):
        return x

    with pytest.raises(sd.S2SDiffError, match="has no rule yet"):
        sd.derivative(f, jit=False)(1.0)
    f.defjvp(lambda primals: primals)
    with pytest.raises(sd.S2SDiffError, match="must take 2"):
        sd.derivative(f, jit=False)(1.0)


def test_forward_over_forward_of_custom_vjp_is_refused():
    with pytest.raises(sd.UnsupportedError, match="sd.hessian"):
        sd.derivative(softplus_v, order=2, jit=False)(0.3)
