"""sd.optimize on the lecture notes' example f = ((x₁ − a)/4)² + ((x₂ − b)/3)², a = 2, b = −3,
from (8, 9): iteration counts and iterates against the closed form of descent on a
quadratic, momentum against its linear recurrence, Adam against its defining formulas,
SGD against least squares."""
import math
import sys

import numba
import numpy as np
import pytest

import s2sdiff as sd
from s2sdiff import optimize

A, B = 2.0, -3.0
START = np.array([8.0, 9.0])
CURVATURE = np.array([1 / 8, 2 / 9])        # ∇f = CURVATURE · (x − (a, b)), f = Σ CURVATURE·e²/2
TOL = 1e-6


def notes_f(x, a, b):
    return ((x[0] - a) / 4) ** 2 + ((x[1] - b) / 3) ** 2


def notes_value(errors):
    """f at x = (a, b) + errors (errors of shape (..., 2))."""
    return 0.5 * np.sum(CURVATURE * errors ** 2, axis=-1)


def descend(lr, momentum=0.0, max_iter=20_000, **options):
    return optimize.gradient_descent(notes_f, START, lr=lr, momentum=momentum, tol=TOL, max_iter=max_iter,
                                     args=(A, B), **options)


@pytest.mark.parametrize("lr", [0.1, 1.0, 4.0])
def test_gradient_descent_follows_the_closed_form(lr):
    # each error component shrinks by (1 − γλ) a step; the run stops at the first k with max |λ e_k| ≤ tol
    start_errors = START - (A, B)
    factors = 1 - lr * CURVATURE
    steps_needed = int(np.max(np.ceil(np.log(TOL / (CURVATURE * np.abs(start_errors))) / np.log(np.abs(factors)))))
    result = descend(lr)
    assert result.converged and result.nit == steps_needed
    errors = start_errors * factors ** np.arange(steps_needed + 1)[:, None]
    np.testing.assert_allclose(result.x, (A, B) + errors[-1], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(result.history, notes_value(errors), rtol=1e-11, atol=1e-18)
    assert result.fun == result.history[-1] == notes_f(result.x, A, B)


def test_momentum_converges_in_fewer_iterations():
    # heavy ball on a quadratic is linear: per component (z, e) ← [[α, λ], [−γα, 1 − γλ]] (z, e)
    lr, alpha = 1e-2, 0.8
    state = np.array([[0.0, e] for e in START - (A, B)])
    matrices = [np.array([[alpha, lam], [-lr * alpha, 1 - lr * lam]]) for lam in CURVATURE]
    steps_needed = 0
    while np.max(CURVATURE * np.abs(state[:, 1])) > TOL:
        state = np.array([m @ s for m, s in zip(matrices, state)])
        steps_needed += 1
    plain, heavy = descend(lr), descend(lr, alpha)
    assert heavy.converged and heavy.nit == steps_needed
    np.testing.assert_allclose(heavy.x, (A, B) + state[:, 1], rtol=1e-12, atol=1e-12)
    # for γλ ≪ 1 momentum acts as the learning rate γ/(1 − α): about 1/(1 − α) = 5× fewer steps
    assert plain.converged and 4.5 < plain.nit / heavy.nit < 5.5
    np.testing.assert_allclose(heavy.x, (A, B), atol=1e-5)


def test_adam_follows_its_formulas():
    lr, beta1, beta2, eps = 0.1, 0.9, 0.999, 1e-8
    x, m, v, values = START.copy(), np.zeros(2), np.zeros(2), []
    for t in range(1, 20_000):
        values.append(notes_f(x, A, B))
        g = CURVATURE * (x - (A, B))
        if np.max(np.abs(g)) <= TOL:
            break
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        x = x - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    result = optimize.adam(notes_f, START, lr=lr, tol=TOL, max_iter=20_000, args=(A, B))
    assert result.converged and result.nit == len(values) - 1
    np.testing.assert_allclose(result.x, x, rtol=1e-10)
    np.testing.assert_allclose(result.history, values, rtol=1e-8, atol=1e-14)


def sine_fit(x):
    return (math.sin(x) - 0.5) ** 2


def test_a_float_start_gives_a_float():
    result = optimize.gradient_descent(sine_fit, 0.0, lr=0.5, tol=1e-10)
    assert isinstance(result.x, float) and result.converged
    # near the minimum ∇f ≈ 2cos²(x*)(x − x*), so |x − x*| ≤ tol / (2cos²x*)
    assert abs(result.x - math.asin(0.5)) <= 1e-10 / (2 * math.cos(math.asin(0.5)) ** 2)


def notes_gradient(x, a, b):
    return np.array([(x[0] - a) / 8, 2 * (x[1] - b) / 9])


def test_a_given_gradient_runs_compiled_or_in_python_with_the_same_iterates():
    reference = descend(1.0, 0.5)
    in_python = descend(1.0, 0.5, jac=notes_gradient)
    compiled = optimize.gradient_descent(numba.njit(notes_f), START, lr=1.0, momentum=0.5, tol=TOL,
                                         args=(A, B), jac=numba.njit(notes_gradient))
    for result in (in_python, compiled):
        assert result.nit == reference.nit
        np.testing.assert_allclose(result.x, reference.x, rtol=1e-14)
        # values near the minimum carry the cancellation of x − (a, b): compare them to x's rounding
        np.testing.assert_allclose(result.history, reference.history, rtol=1e-14, atol=1e-16)


def test_a_matrix_start_in_the_python_loop():
    target = np.arange(6.0).reshape(2, 3)
    result = optimize.gradient_descent(lambda W: np.sum((W - target) ** 2), np.zeros((2, 3)), lr=0.25,
                                       jac=lambda W: 2 * (W - target))
    # W ← W − 0.5 (W − T): the error halves each step, and the gradient 2(W − T) drops below 1e-6 after
    # ⌈log₂(2 · 5 / 1e-6)⌉ = 24 steps
    assert result.converged and result.nit == 24 and result.x.shape == (2, 3)
    np.testing.assert_allclose(result.x, target - target / 2 ** 24, rtol=1e-15, atol=0)


def test_stopping_on_max_iter_and_on_divergence():
    result = descend(1.0, max_iter=5)
    assert not result.converged and result.nit == 5 and len(result.history) == 6
    assert result.message == "stopped after max_iter updates"
    errors = (START - (A, B)) * (1 - CURVATURE) ** 5
    np.testing.assert_allclose(result.x, (A, B) + errors, rtol=1e-14)
    # γ = 10 > 2/λ_max = 9: the x₂ error grows by |1 − 20/9| a step until it overflows
    result = descend(10.0)
    assert not result.converged and result.message.startswith("diverged")
    assert not np.isfinite(result.fun) and result.nit == np.isfinite(result.history).sum()
    assert result.nit < 20_000


def test_progress_bar(capsys, monkeypatch):
    quiet = descend(0.1, 0.5)                        # pytest's stderr is not a terminal: no bar by default
    assert capsys.readouterr().err == ""
    pytest.importorskip("tqdm")
    shown = descend(0.1, 0.5, progress=True)        # the loop runs in chunks between bar updates
    assert "gradient descent" in capsys.readouterr().err
    assert shown.nit == quiet.nit
    np.testing.assert_array_equal(shown.history, quiet.history)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # without tqdm: a warning, and the same run
    with pytest.warns(UserWarning, match="progress=True needs tqdm"):
        missing = descend(0.1, 0.5, progress=True)
    np.testing.assert_array_equal(missing.history, quiet.history)


def squared_error(w, X, y):
    r = X @ w - y
    return np.mean(r ** 2)


@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(200)
    return X, y


def test_sgd_reaches_the_least_squares_solution(regression_data):
    X, y = regression_data
    best = np.linalg.lstsq(X, y, rcond=None)[0]
    result = optimize.sgd(squared_error, np.zeros(3), (X, y), lr=0.02, batch_size=10, tol=1e-7, max_iter=5000)
    assert result.converged and result.nit % 20 == 0            # stops at the end of an epoch (20 minibatches)
    assert result.message == "converged: an epoch changed the objective by at most tol"
    assert len(result.history) == result.nit // 20 + 1
    np.testing.assert_allclose(result.x, best, atol=2e-2)
    assert result.fun == pytest.approx(squared_error(result.x, X, y), rel=1e-14)
    assert result.fun <= 1.1 * squared_error(best, X, y)
    again = optimize.sgd(squared_error, np.zeros(3), (X, y), lr=0.02, batch_size=10, tol=1e-7, max_iter=5000)
    np.testing.assert_array_equal(again.x, result.x)
    other = optimize.sgd(squared_error, np.zeros(3), (X, y), lr=0.02, batch_size=10, tol=1e-7, max_iter=5000,
                         seed=1)
    assert not np.array_equal(other.x, result.x)


def test_full_batch_sgd_is_gradient_descent(regression_data):
    X, y = regression_data
    stochastic = optimize.sgd(squared_error, np.zeros(3), (X, y), lr=0.05, batch_size=len(y), momentum=0.3,
                              tol=0.0, max_iter=40)
    full = optimize.gradient_descent(squared_error, np.zeros(3), lr=0.05, momentum=0.3, tol=0.0, max_iter=40,
                                     args=(X, y))
    assert stochastic.nit == full.nit == 40
    np.testing.assert_allclose(stochastic.x, full.x, rtol=1e-12)
    np.testing.assert_allclose(stochastic.history, full.history, rtol=1e-12)


def test_bad_options_are_named(regression_data):
    X, y = regression_data
    for options, message in [({"lr": -1.0}, "lr must be positive"), ({"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
                             ({"tol": -1.0}, "tol must be a non-negative"), ({"max_iter": 2.5}, "max_iter must be")]:
        with pytest.raises(sd.S2SDiffError, match=message):
            optimize.gradient_descent(notes_f, START, args=(A, B), **options)
    with pytest.raises(sd.S2SDiffError, match="beta2 must be in"):
        optimize.adam(notes_f, START, beta2=1.5, args=(A, B))
    with pytest.raises(TypeError, match="lr must be a positive number"):
        optimize.adam(notes_f, START, lr="fast", args=(A, B))
    with pytest.raises(sd.S2SDiffError, match="x0 must be a number or a 1-D or 2-D array"):
        optimize.gradient_descent(notes_f, np.zeros((2, 2, 2)), args=(A, B))
    with pytest.raises(sd.S2SDiffError, match="data: the arrays must share"):
        optimize.sgd(squared_error, np.zeros(3), (X, y[:-1]))
    with pytest.raises(TypeError, match="data must be a non-empty tuple"):
        optimize.sgd(squared_error, np.zeros(3), X)
    with pytest.raises(sd.S2SDiffError, match="batch_size must be an integer from 1 to the number of samples"):
        optimize.sgd(squared_error, np.zeros(3), (X, y), batch_size=0)
