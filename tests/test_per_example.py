"""batch=: per-example derivatives, one per row of the batched arguments, against closed
forms and the complex step of each example (tests/oracles.py)."""
import numpy as np
import pytest

import s2sdiff as sd
from oracles import cs_jacobian


def logistic_loss(w, x, y):
    """One example's loss: log(1 + exp(-y wᵀx))."""
    z = np.dot(x, w)
    return np.log(1.0 + np.exp(-y * z))


def mlp_loss(W1, b1, w2, x, y):
    """A one-hidden-layer network's squared error on one example, written with loops and an
    accumulator that starts as an int."""
    out = 0
    for j in range(len(b1)):
        a = b1[j]
        for k in range(len(x)):
            a += W1[j, k] * x[k]
        out += w2[j] * np.tanh(a)
    return 0.5 * (out - y) ** 2


def spring(x, k):
    """A number per example (rows of a 1-D array are numbers)."""
    return k * x ** 3 + np.sin(x)


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 4))
    y = np.where(rng.normal(size=40) > 0, 1.0, -1.0)
    w = rng.normal(size=4)
    return w, X, y


@pytest.fixture(scope="module")
def network():
    rng = np.random.default_rng(3)
    return rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=5), rng.normal(size=(12, 3)), \
        rng.normal(size=12)


@pytest.mark.parametrize("jit", [True, False])
def test_per_example_gradients_of_a_logistic_loss(data, jit):
    w, X, y = data
    per_example = sd.grad(logistic_loss, batch=("x", "y"), jit=jit)(w, X, y)
    margins = y * (X @ w)
    want = -(y * sigmoid(-margins))[:, None] * X        # d/dw log(1 + e^(-y wᵀx))
    np.testing.assert_allclose(per_example, want, rtol=1e-13, atol=1e-15)
    assert per_example.shape == X.shape


def test_value_and_grad_per_example_in_two_arguments(data):
    w, X, y = data
    values, (gw, gx) = sd.value_and_grad(logistic_loss, wrt=(0, 1), batch=(1, 2))(w, X, y)
    margins = y * (X @ w)
    np.testing.assert_allclose(values, np.log1p(np.exp(-margins)), rtol=1e-13)
    scale = -(y * sigmoid(-margins))[:, None]
    np.testing.assert_allclose(gw, scale * X, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gx, scale * w, rtol=1e-13, atol=1e-15)


def test_per_example_hessians_and_jacobians(data):
    w, X, y = data
    H = sd.hessian(logistic_loss, batch=(1, 2), jit=False)(w, X, y)
    s = sigmoid(y * (X @ w))
    want = (s * (1 - s))[:, None, None] * X[:, :, None] * X[:, None, :]
    np.testing.assert_allclose(H, want, rtol=1e-12, atol=1e-15)
    J = sd.jacobian(spring, batch=0, jit=False)(np.linspace(-1.0, 1.0, 7), 2.0)
    x = np.linspace(-1.0, 1.0, 7)
    np.testing.assert_allclose(J, 6.0 * x ** 2 + np.cos(x), rtol=1e-14)


def test_per_example_gradients_of_a_looped_network(network):
    # without numba: the compiled loop is tested on the logistic loss, and numba compiles are CI time
    W1, b1, w2, X, y = network
    gW1, gb1, gw2 = sd.grad(mlp_loss, wrt=(0, 1, 2), batch=(3, 4), jit=False)(W1, b1, w2, X, y)
    assert gW1.shape == (12,) + W1.shape and gb1.shape == (12, 5) and gw2.shape == (12, 5)
    for i in (0, 5, 11):
        example = [W1, b1, w2, X[i], y[i]]
        np.testing.assert_allclose(gW1[i], cs_jacobian(mlp_loss, example, 0), rtol=1e-12)
        np.testing.assert_allclose(gb1[i], cs_jacobian(mlp_loss, example, 1), rtol=1e-12)
        np.testing.assert_allclose(gw2[i], cs_jacobian(mlp_loss, example, 2), rtol=1e-12)


def test_per_example_directional_derivatives(data):
    w, X, y = data
    rng = np.random.default_rng(1)
    dw, dX = rng.normal(size=w.shape), rng.normal(size=X.shape)
    values, tangents = sd.jvp(logistic_loss, (w, X, y), (dw, dX, np.zeros_like(y)), batch=(1, 2), jit=False)
    margins = y * (X @ w)
    np.testing.assert_allclose(values, np.log1p(np.exp(-margins)), rtol=1e-13)
    want = -y * sigmoid(-margins) * (X @ dw + dX @ w)
    np.testing.assert_allclose(tangents, want, rtol=1e-12, atol=1e-15)


def hinge(w, x):
    return max(0.0, 1.0 - np.dot(x, w))


def test_the_generated_loop_is_readable_and_the_transform_cached(data):
    w, X, y = data
    g = sd.grad(hinge, batch=1, jit=False)
    assert sd.grad(hinge, batch="x", jit=False) is g
    with pytest.raises(sd.S2SDiffError, match="first call"):
        g.source
    np.testing.assert_allclose(g(w, X), np.where(X @ w < 1.0, -1.0, 0.0)[:, None] * X, rtol=1e-15)
    assert "for i in prange(1, n):" in g.source and "hinge_grad(w, x[i])" in g.source


def test_float32_examples_give_float32_gradients(data):
    w, X, y = data
    got = sd.grad(logistic_loss, batch=(1, 2), jit=False)(w.astype(np.float32), X.astype(np.float32), y)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, sd.grad(logistic_loss, batch=(1, 2), jit=False)(w, X, y), rtol=1e-5)


def test_batched_arguments_are_checked(data):
    w, X, y = data
    g = sd.grad(logistic_loss, batch=(1, 2), jit=False)
    with pytest.raises(ValueError, match="'x' has 40, 'y' has 39 rows"):
        g(w, X, y[:-1])
    with pytest.raises(ValueError, match="no examples"):
        g(w, X[:0], y[:0])
    with pytest.raises(TypeError, match="'y' is batched"):
        g(w, X, 1.0)
    with pytest.raises(sd.S2SDiffError, match="no parameter of that name"):
        sd.grad(logistic_loss, batch="z")


def network_loss(params, x, y):
    """Parameters in a dict, as JAX users keep them."""
    h = np.tanh(x @ params["W"] + params["b"])
    return (np.dot(h, params["v"]) - y) ** 2


def test_per_example_gradients_in_a_parameter_structure(network):
    W1, b1, w2, X, y = network
    params = {"W": W1.T.copy(), "b": b1, "v": w2}
    value, grads = sd.value_and_grad(network_loss, batch=(1, 2), jit=False)(params, X, y)
    assert set(grads) == {"W", "b", "v"} and grads["W"].shape == (12, 3, 5)
    for i in (0, 7):
        h = np.tanh(X[i] @ params["W"] + params["b"])
        r = np.dot(h, params["v"]) - y[i]
        assert value[i] == pytest.approx(r ** 2, rel=1e-14)
        back = 2 * r * params["v"] * (1 - h ** 2)          # d loss / d (pre-activation)
        np.testing.assert_allclose(grads["v"][i], 2 * r * h, rtol=1e-13)
        np.testing.assert_allclose(grads["b"][i], back, rtol=1e-11)
        np.testing.assert_allclose(grads["W"][i], np.outer(X[i], back), rtol=1e-11)


def weighted_squares(r, n, out, i):
    """Parameters named as the generated loop's own variables would be."""
    s = 0.0
    for k in range(n):
        s += out * r[k] ** 2 + i
    return s


def test_the_loop_keeps_clear_of_the_parameters_names():
    R = np.arange(12.0).reshape(4, 3)
    got = sd.grad(weighted_squares, wrt=(0, 2, 3), batch=0, jit=False)(R, 2, 0.5, 1.5)
    np.testing.assert_allclose(got[0], np.where(np.arange(3) < 2, 2 * 0.5 * R, 0.0), rtol=1e-15)
    np.testing.assert_allclose(got[1], (R[:, :2] ** 2).sum(axis=1), rtol=1e-15)
    np.testing.assert_allclose(got[2], np.full(4, 2.0), rtol=1e-15)


def test_numba_code_calls_the_per_example_loop(data):
    import numba
    w, X, y = data
    per_example = sd.grad(logistic_loss, batch=(1, 2))
    first = per_example(w, X, y)

    @numba.njit
    def mean_gradient_norm(w, X, y):
        G = per_example(w, X, y)
        return np.sqrt((G ** 2).sum(axis=1)).mean()
    assert mean_gradient_norm(w, X, y) == pytest.approx(np.linalg.norm(first, axis=1).mean(), rel=1e-14)


def moments(x, scale):
    """A structure returned: its per-example Jacobians stack leaf by leaf, as JAX's vmap."""
    return {"mean": scale * np.mean(x), "spread": np.sum((x - np.mean(x)) ** 2)}


def test_structured_results_and_primals_stack_leaf_by_leaf():
    X = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])
    J = sd.jacobian(moments, batch=0, jit=False)(X, 2.0)
    assert set(J) == {"mean", "spread"} and J["mean"].shape == (2, 3)
    np.testing.assert_allclose(J["mean"], np.full((2, 3), 2.0 / 3.0), rtol=1e-15)
    np.testing.assert_allclose(J["spread"], 2 * (X - X.mean(axis=1, keepdims=True)), rtol=1e-14)
    params = {"w": np.array([0.3, -0.2]), "b": 0.1}
    rows, tangent_rows = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[0.5, 0.0], [0.0, 1.0]])
    values, tangents = sd.jvp(lambda p, x: np.tanh(np.dot(p["w"], x) + p["b"]), (params, rows),
                              ({"w": np.array([1.0, 0.0]), "b": 0.0}, tangent_rows), batch=1, jit=False)
    z = rows @ params["w"] + params["b"]
    np.testing.assert_allclose(values, np.tanh(z), rtol=1e-15)
    np.testing.assert_allclose(tangents, (1 - np.tanh(z) ** 2) * (rows[:, 0] + tangent_rows @ params["w"]), rtol=1e-14)


def count_and_square(x, k):
    return k * 2, np.sum(x * x)


@pytest.mark.parametrize("jit", [True, False])
def test_an_integer_result_stacks_as_integers(jit):
    X = np.arange(6.0).reshape(3, 2)
    values, tangents = sd.jvp(count_and_square, (X, 3), (np.ones_like(X), 0), batch=0, jit=jit)
    assert values[0].dtype == np.int64 and list(values[0]) == [6, 6, 6]     # as one call gives int 6
    np.testing.assert_allclose(values[1], (X * X).sum(axis=1), rtol=1e-15)
    np.testing.assert_allclose(tangents[1], 2 * X.sum(axis=1), rtol=1e-15)
