"""s2sdiff gradients as SciPy's `jac`: scipy.optimize.minimize(f, x0, jac=sd.grad(f)) as is."""
import math

import numpy as np
import pytest

import s2sdiff as sd
from s2sdiff import estimate

scipy_optimize = pytest.importorskip("scipy.optimize")


def notes_f(x, a, b):
    return ((x[0] - a) / 4) ** 2 + ((x[1] - b) / 3) ** 2


def bounded_objective(x):
    """The notes' 50-dimensional objective Σ 0.1(xᵢ − i)² + sin xᵢ cos xᵢ₊₁ + e^{−xᵢ²}, i = 1 … n,
    with the index wrapping around as in the notes' code (x_{n+1} = x₁)."""
    n = len(x)
    s = 0.0
    for i in range(n):
        s += 0.1 * (x[i] - (i + 1)) ** 2 + math.sin(x[i]) * math.cos(x[(i + 1) % n]) + math.exp(-x[i] ** 2)
    return s


UPPER = np.array([1.0] * 10 + [20.0] * 40)      # x₁ … x₁₀ ≤ 1, x₁₁ … x₅₀ ≤ 20


def test_bfgs_with_an_s2sdiff_gradient():
    gradient = sd.grad(notes_f)
    g = gradient(np.array([8.0, 9.0]), 2.0, -3.0)
    assert isinstance(g, np.ndarray) and g.dtype == np.float64 and g.shape == (2,)
    result = scipy_optimize.minimize(notes_f, np.array([8.0, 9.0]), args=(2.0, -3.0), jac=gradient, method="BFGS",
                                     options={"gtol": 1e-10})
    assert result.success
    # ‖∇f‖∞ < gtol and the smallest curvature is 1/8, so each component is within 8·gtol
    np.testing.assert_allclose(result.x, (2.0, -3.0), rtol=0, atol=8e-10)


def test_l_bfgs_b_needs_far_fewer_evaluations_than_finite_differences():
    x0 = np.random.default_rng(0).random(50)
    bounds = [(None, u) for u in UPPER]
    counts = {"f": 0, "grad": 0}
    gradient = sd.grad(bounded_objective)

    def counted(x):
        counts["f"] += 1
        return bounded_objective(x)

    def counted_gradient(x):
        counts["grad"] += 1
        return gradient(x)

    with_ad = scipy_optimize.minimize(counted, x0, jac=counted_gradient, bounds=bounds, method="L-BFGS-B")
    ad_evaluations = counts["f"] + counts["grad"]
    counts["f"] = 0
    with_fd = scipy_optimize.minimize(counted, x0, bounds=bounds, method="L-BFGS-B")
    assert with_ad.success and with_fd.success
    # each finite-difference gradient costs n + 1 = 51 evaluations; counting a gradient as one evaluation:
    assert ad_evaluations * 10 < counts["f"]
    assert with_ad.fun <= with_fd.fun + 1e-9 * abs(with_fd.fun)
    # and the AD run stopped near a KKT point: a gradient (by central differences, independent of AD) that
    # pushes against the bound in the active components and nearly vanishes in the free ones — L-BFGS-B
    # stops once a step gains under factr·ε ≈ 2e-9 of |f| ≈ 1e3, so with curvatures ≈ 0.2 the free
    # components keep up to √(2 · 0.2 · 2e-6) ≈ 1e-3
    assert np.all(with_ad.x <= UPPER)
    g = estimate.finite_difference(bounded_objective, with_ad.x)
    active = with_ad.x >= UPPER - 1e-10
    assert active.any() and not active.all()
    assert np.all(g[active] < 0) and np.max(np.abs(g[~active])) < 1e-3
