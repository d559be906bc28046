"""The three objectives of benchmarks/python_objectives.py (issue 17), differentiated as
written — parameters in dicts, comprehensions, appends, nested helpers, zip — against
fourth-order central differences (their math.* calls take no complex step)."""
import sys
from pathlib import Path

import numpy as np
import pytest

import s2sdiff as sd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from python_objectives import (gmm_log_likelihood, gmm_problem, lstm_loss, lstm_problem,  # noqa: E402
                               reprojection_cost, reprojection_problem, reprojection_residual)


def differences(f, x, h=1e-3):
    """∂f/∂x by the five-point stencil, error O(h⁴)."""
    x = np.asarray(x, dtype=float)
    g = np.empty(x.size)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = h
        e = e.reshape(x.shape)
        g[k] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return g.reshape(x.shape)


@pytest.fixture(scope="module")
def gmm():
    params, X = gmm_problem(True)
    return params, X[:20]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("jit", [True, False])
def test_gmm_gradient_in_every_parameter(gmm, mode, jit):
    params, X = gmm
    got = sd.grad(gmm_log_likelihood, mode=mode, jit=jit)(params, X)
    assert set(got) == set(params)
    for key, value in params.items():
        want = differences(lambda v: gmm_log_likelihood({**params, key: v}, X), value)
        np.testing.assert_allclose(got[key], want, rtol=1e-7, atol=1e-7)


def test_gmm_hessian_in_the_means(gmm):
    params, X = gmm
    H = sd.hessian(gmm_log_likelihood)(params, X)
    gradient = sd.grad(gmm_log_likelihood)

    def means_gradient(m):
        return gradient({**params, "means": m}, X)["means"]
    want = np.stack([differences(lambda v: means_gradient(v).ravel()[k], params["means"]).ravel()
                     for k in range(params["means"].size)])
    np.testing.assert_allclose(H["means"]["means"].reshape(want.shape), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_lstm_gradient_in_every_parameter(mode):
    params, inputs, targets = lstm_problem(True)
    inputs, targets = inputs[:12], targets[:12]
    got = sd.grad(lstm_loss, mode=mode)(params, inputs, targets)
    for key, value in params.items():
        want = differences(lambda v: lstm_loss({**params, key: v}, inputs, targets), value)
        np.testing.assert_allclose(got[key], want, rtol=1e-7, atol=1e-9, err_msg=key)
    value, grads = sd.value_and_grad(lstm_loss, jit=False)(params, inputs, targets)
    assert value == pytest.approx(lstm_loss(params, inputs, targets), rel=1e-13)
    np.testing.assert_allclose(grads["Wh"], got["Wh"], rtol=1e-12)


def test_reprojection_jacobian_per_observation():
    cameras, points, pairs, observed = reprojection_problem(True)
    jacobian = sd.jacobian(reprojection_residual, wrt=(0, 1))
    for (cam, pt), uv in list(zip(pairs, observed))[:5]:
        d_camera, d_point = jacobian(cameras[cam], points[pt], uv)
        assert d_camera.shape == (2, 7) and d_point.shape == (2, 3)
        for k in range(2):
            want = differences(lambda c: reprojection_residual(c, points[pt], uv)[k], cameras[cam])
            np.testing.assert_allclose(d_camera[k], want, rtol=1e-7, atol=1e-7)
            want = differences(lambda p: reprojection_residual(cameras[cam], p, uv)[k], points[pt])
            np.testing.assert_allclose(d_point[k], want, rtol=1e-7, atol=1e-7)


def test_reprojection_cost_gradient():
    cameras, points, pairs, observed = reprojection_problem(True)
    pairs, observed = pairs[:15], observed[:15]
    d_cameras, d_points = sd.grad(reprojection_cost, wrt=(0, 1))(cameras, points, pairs, observed)
    want = differences(lambda c: reprojection_cost(c, points, pairs, observed), cameras, h=1e-4)
    np.testing.assert_allclose(d_cameras, want, rtol=1e-6, atol=1e-6)
    want = differences(lambda p: reprojection_cost(cameras, p, pairs, observed), points, h=1e-4)
    np.testing.assert_allclose(d_points, want, rtol=1e-6, atol=1e-6)
