"""sd.estimate against closed forms and mpmath: convergence orders, complex-step accuracy,
unbiasedness of the random estimators (averaged over seeds), shapes and errors."""
import itertools
import math

import mpmath
import numpy as np
import pytest

import s2sdiff as sd
from s2sdiff import estimate


def f(x):
    return np.exp(x) * np.sin(x)


def f1(x):
    return np.exp(x) * (np.sin(x) + np.cos(x))


def f2(x):
    return 2.0 * np.exp(x) * np.cos(x)


def f3(x):
    return 2.0 * np.exp(x) * (np.cos(x) - np.sin(x))


X0 = 0.7


def F(x):
    """A non-separable scalar function of a vector, with its gradient F_grad."""
    return np.sum(np.sin(x) * np.roll(x, 1)) + np.exp(0.1 * np.dot(x, x))


def F_grad(x):
    return np.cos(x) * np.roll(x, 1) + np.roll(np.sin(x), -1) + 0.2 * x * np.exp(0.1 * np.dot(x, x))


POINT = np.array([0.3, -1.2, 2.0, 0.8])


@pytest.mark.parametrize("method, order, leading", [
    ("forward", 1, lambda h: h * f2(X0) / 2),          # f(x+h) − f(x) = hf' + h²f''/2 + …
    ("backward", 1, lambda h: -h * f2(X0) / 2),
    ("central", 2, lambda h: h ** 2 * f3(X0) / 6),
])
def test_finite_difference_error_shrinks_at_its_order(method, order, leading):
    steps = [1e-2 / 2 ** k for k in range(6)]
    errors = [estimate.finite_difference(f, X0, method, h=h) - f1(X0) for h in steps]
    ratios = [a / b for a, b in itertools.pairwise(errors)]
    assert ratios == pytest.approx([2.0 ** order] * len(ratios), rel=0.02)
    # and the error is the Taylor series' leading term
    for h, error in zip(steps, errors):
        assert error == pytest.approx(leading(h), rel=0.02)


@pytest.mark.parametrize("method, tolerance", [("forward", 3e-8), ("backward", 3e-8), ("central", 1e-10)])
def test_default_steps_reach_near_optimal_accuracy(method, tolerance):
    assert estimate.finite_difference(f, X0, method) == pytest.approx(f1(X0), rel=tolerance)
    got = estimate.finite_difference(F, POINT, method)
    assert got.shape == POINT.shape
    np.testing.assert_allclose(got, F_grad(POINT), rtol=0, atol=tolerance * np.max(np.abs(F_grad(POINT))))


def test_default_step_scales_with_x():
    # d log(x)/dx at 1e6: an unscaled step of ~6e-6 would lose ~1e-4 to rounding of log(x) ≈ 13.8
    for method in estimate.METHODS:
        assert estimate.finite_difference(np.log, 1e6, method) == pytest.approx(1e-6, rel=1e-8)


def test_complex_step_is_exact_to_rounding():
    # the classic test function of Squire & Trapp (1998), against mpmath at 50 digits
    def g(x):
        return np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)

    for x in (0.5, 1.5):
        with mpmath.workdps(50):
            want = float(mpmath.diff(lambda t: mpmath.exp(t) / mpmath.sqrt(mpmath.sin(t) ** 3 + mpmath.cos(t) ** 3),
                                     mpmath.mpf(x)))
        for h in (1e-20, 1e-200):      # no subtraction, so the step can be as small as we like
            assert abs(estimate.complex_step(g, x, h=h) - want) <= 2e-15 * abs(want)
    got = estimate.complex_step(F, POINT)
    np.testing.assert_allclose(got, F_grad(POINT), rtol=2e-15, atol=0)


def test_central_difference_cannot_match_complex_step():
    # the complex step's advantage: central differences bottom out far above rounding
    best = min(abs(estimate.finite_difference(f, X0, "central", h=10.0 ** -k) - f1(X0)) for k in range(2, 12))
    assert best > 1e-13 * abs(f1(X0))
    assert abs(estimate.complex_step(f, X0) - f1(X0)) <= 2e-16 * abs(f1(X0))


def test_array_valued_f_gives_the_jacobian_and_vectorized_calls_f_once():
    def v(x):
        return np.array([np.sin(x[0]) * x[1], x[0] ** 2, np.exp(x[1])])

    x = np.array([0.4, -0.9])
    want = np.array([[np.cos(0.4) * -0.9, np.sin(0.4)], [0.8, 0.0], [0.0, np.exp(-0.9)]])
    np.testing.assert_allclose(estimate.complex_step(v, x), want, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(estimate.finite_difference(v, x), want, rtol=1e-9, atol=1e-10)
    curve = estimate.complex_step(lambda t: np.array([t, t ** 3]), 2.0)      # R → R²
    np.testing.assert_allclose(curve, [1.0, 12.0], rtol=1e-15)

    calls = []

    def stacked(points):                 # one point per row → one value per row
        calls.append(points.shape)
        return points[:, 0] * points[:, -1] + np.sum(points ** 2, axis=1)

    def single(p):
        return p[0] * p[-1] + np.sum(p ** 2)

    for method in estimate.METHODS:
        calls.clear()
        together = estimate.finite_difference(stacked, POINT, method, vectorized=True)
        assert len(calls) == 1
        np.testing.assert_allclose(together, estimate.finite_difference(single, POINT, method), rtol=1e-12)
    calls.clear()
    np.testing.assert_allclose(estimate.spsa(stacked, POINT, samples=7, vectorized=True),
                               estimate.spsa(single, POINT, samples=7), rtol=1e-12)
    np.testing.assert_allclose(estimate.regression(stacked, POINT, vectorized=True),
                               estimate.regression(single, POINT), rtol=1e-12)
    assert calls == [(14, 4), (9, 4)]
    # a float x with vectorized=True passes a 1-D array of points
    assert estimate.complex_step(np.sin, 0.3, vectorized=True) == pytest.approx(math.cos(0.3), rel=1e-15)


def test_extra_arguments_go_to_f():
    def scaled(x, a, b):
        return a * np.sin(b * x)

    assert estimate.complex_step(scaled, 0.2, args=(3.0, 2.0)) == pytest.approx(6 * math.cos(0.4), rel=1e-15)
    assert estimate.regression(scaled, 0.2, delta=1e-7, args=(3.0, 2.0)) == pytest.approx(6 * math.cos(0.4),
                                                                                           rel=1e-6)


def test_regression_gradient_is_unbiased_on_a_noisy_objective():
    # f(x) plus N(0, σ²) noise: single estimates are off by ~σ/(δ√m); their mean over seeds is not
    sigma, delta, seeds = 1e-3, 1e-2, 300
    noise = np.random.default_rng(12345)

    def noisy(x):
        return F(x) + sigma * noise.standard_normal()

    estimates = np.array([estimate.regression(noisy, POINT, samples=12, delta=delta, seed=s) for s in range(seeds)])
    spread = estimates.std(axis=0)
    assert np.all(spread > 2e-2)                    # the noise does reach the single estimates
    mean_error = estimates.mean(axis=0) - F_grad(POINT)
    assert np.all(np.abs(mean_error) < 5 * spread / np.sqrt(seeds))
    # without noise a single small-δ fit is accurate to O(δ)
    np.testing.assert_allclose(estimate.regression(F, POINT, delta=1e-6), F_grad(POINT), rtol=0, atol=1e-5)


def test_spsa_is_unbiased_with_the_variance_of_gaussian_directions():
    # mean over seeds → ∇f; component k of one sample has variance ‖∇f‖² + (∂ₖf)² (Gaussian z)
    samples, seeds = 4, 400
    g = F_grad(POINT)
    estimates = np.array([estimate.spsa(F, POINT, samples=samples, seed=s) for s in range(seeds)])
    variance = (np.dot(g, g) + g ** 2) / samples
    assert np.all(np.abs(estimates.mean(axis=0) - g) < 5 * np.sqrt(variance / seeds))
    np.testing.assert_allclose(estimates.var(axis=0), variance, rtol=0.3)


def test_random_estimators_are_reproducible_by_seed():
    for method in (estimate.regression, estimate.spsa):
        first = method(F, POINT, seed=3)
        np.testing.assert_array_equal(first, method(F, POINT, seed=3))
        assert not np.array_equal(first, method(F, POINT, seed=4))
        np.testing.assert_array_equal(first, method(F, POINT, seed=np.random.default_rng(3)))


def test_bad_options_are_named():
    with pytest.raises(sd.S2SDiffError, match="method must be one of"):
        estimate.finite_difference(f, X0, method="centered")
    with pytest.raises(sd.S2SDiffError, match="x must be a number or a 1-D array"):
        estimate.finite_difference(F, np.ones((2, 2)))
    with pytest.raises(TypeError, match="x must be a real number"):
        estimate.complex_step(f, "0.7")
    with pytest.raises(sd.S2SDiffError, match="h must be positive"):
        estimate.finite_difference(f, X0, h=-1e-3)
    with pytest.raises(sd.S2SDiffError, match="h must be a number or have one entry per component"):
        estimate.finite_difference(F, POINT, h=np.ones(3))
    with pytest.raises(sd.S2SDiffError, match="samples must be an integer ≥ 4"):
        estimate.regression(F, POINT, samples=3)
    with pytest.raises(sd.S2SDiffError, match="samples must be a positive integer"):
        estimate.spsa(F, POINT, samples=0)
    with pytest.raises(sd.S2SDiffError, match="delta must be positive"):
        estimate.spsa(F, POINT, delta=0.0)
    with pytest.raises(sd.S2SDiffError, match="scalar-valued f"):
        estimate.spsa(np.sin, POINT)
    with pytest.raises(sd.S2SDiffError, match="one value per point"):
        estimate.finite_difference(lambda p: np.sum(p), POINT, vectorized=True)
    with pytest.raises(sd.S2SDiffError, match="dropped the imaginary part"):
        estimate.complex_step(lambda x: float(np.real(x)) ** 2, X0)

    def stores_into_floats(x):
        y = np.zeros(len(x))
        y[:] = x ** 2
        return np.sum(y) + x[0]

    with pytest.raises(sd.S2SDiffError, match="dropped the imaginary part"):
        estimate.complex_step(stores_into_floats, POINT)
    with pytest.raises(TypeError):                  # math.sin rejects complex input itself
        estimate.complex_step(math.sin, X0)
