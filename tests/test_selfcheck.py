"""check=True: each transform verifies its first call against differences and the other mode."""
import ast
import dataclasses
import math

import numpy as np
import pytest

import s2sdiff as sd
from s2sdiff import rules

JIT = pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])


def objective(x, a):
    return np.sum(np.sin(x) * a) + a ** 3


def vector(x):
    return np.sin(x) * x[0]


def pair(x):
    return math.sin(x) * x, x ** 3


def kink(x):
    return abs(x) + x


X = np.array([0.3, -1.2, 2.0])


@JIT
def test_every_transform_passes_its_check(jit):
    g = sd.grad(objective, wrt=(0, 1), check=True, jit=jit)(X, 0.7)
    np.testing.assert_allclose(g[0], 0.7 * np.cos(X), rtol=1e-14)
    assert sd.grad(objective, wrt=1, mode="forward", check=True, jit=jit)(X, 0.7) == pytest.approx(
        np.sum(np.sin(X)) + 3 * 0.7 ** 2, rel=1e-14)
    assert sd.value_and_grad(objective, wrt=0, check=True, jit=jit)(X, 0.7)[0] == objective(X, 0.7)
    for mode in ("forward", "reverse"):
        J = sd.jacobian(vector, mode=mode, check=True, jit=jit)(X)
        np.testing.assert_allclose(J, np.diag(np.cos(X) * X[0]) + np.outer(np.sin(X), [1, 0, 0]), rtol=1e-14)
    H = sd.hessian(objective, wrt=0, check=True, jit=jit)(X, 0.7)
    np.testing.assert_allclose(H, np.diag(-0.7 * np.sin(X)), rtol=1e-14)
    d2 = sd.derivative(pair, order=2, check=True, jit=jit)(0.4)
    assert d2 == pytest.approx((2 * math.cos(0.4) - 0.4 * math.sin(0.4), 2.4), rel=1e-14)
    tangent = sd.jvp(vector, (X,), (np.ones(3),), check=True, jit=jit)[1]
    np.testing.assert_allclose(tangent, np.cos(X) * X[0] + np.sin(X), rtol=1e-14)
    (cotangent,) = sd.vjp(vector, X, check=True, jit=jit)[1](np.ones(3))
    np.testing.assert_allclose(cotangent, np.cos(X) * X[0] + np.array([np.sum(np.sin(X)), 0, 0]), rtol=1e-14)


def test_a_kink_within_a_step_is_no_false_alarm():
    assert sd.grad(kink, check=True, jit=False)(0.0) == 2.0          # |x|'(0) = 1 by convention


def test_the_environment_turns_it_on(monkeypatch):
    monkeypatch.setenv("S2SDIFF_CHECK", "1")
    with _wrong_rule("sin", tangent="2 * cos(x) * dx"):
        with pytest.raises(sd.DerivativeMismatch):
            sd.grad(objective, mode="forward", jit=False)(X, 0.7)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_a_wrong_rule_is_caught_against_differences(mode):
    with _wrong_rule("sin", tangent="2 * cos(x) * dx", adjoint="2 * bz * cos(x)"):
        assert sd.grad(objective, mode=mode, jit=False)(X, 0.7) == pytest.approx(1.4 * np.cos(X))   # wrong, unchecked
        with pytest.raises(sd.DerivativeMismatch, match="objective_grad: the gradient along a random direction is"):
            sd.grad(objective, mode=mode, check=True, jit=False)(X, 0.7)


def test_per_example_transforms_check_their_first_example():
    rows = np.array([X, 2 * X])
    with _wrong_rule("sin", tangent="2 * cos(x) * dx", adjoint="2 * bz * cos(x)"):
        with pytest.raises(sd.DerivativeMismatch, match="objective_grad"):
            sd.grad(objective, batch=0, check=True, jit=False)(rows, 0.7)
        with pytest.raises(sd.DerivativeMismatch):
            sd.jvp(vector, (rows,), (np.ones_like(rows),), batch=0, check=True, jit=False)
    np.testing.assert_allclose(sd.grad(objective, batch=0, check=True, jit=False)(rows, 0.7), 0.7 * np.cos(rows),
                               rtol=1e-14)


def test_modes_that_disagree_are_caught():
    # a forward rule broken where differences do not look: reverse mode is right, so only the
    # dot-product test against forward mode can tell
    with _wrong_rule("sin", tangent="2 * cos(x) * dx"):
        with pytest.raises(sd.DerivativeMismatch, match="forward and reverse mode disagree"):
            sd.grad(objective, check=True, jit=False)(X, 0.7)
        with pytest.raises(sd.DerivativeMismatch, match="forward and reverse mode disagree"):
            sd.vjp(vector, X, check=True, jit=False)[1](np.ones(3))


class _wrong_rule:
    """A rule of the table replaced by a wrong one for the duration (a mutation test)."""

    def __init__(self, op, tangent=None, adjoint=None):
        rule = rules.RULES[op]
        changes = {}
        if tangent:
            changes["tangent"] = ast.parse(tangent, mode="eval").body
        if adjoint:
            changes["adjoints"] = (ast.parse(adjoint, mode="eval").body,)
        self.op, self.rule, self.wrong = op, rule, dataclasses.replace(rule, **changes)

    def __enter__(self):
        sd.clear_caches()
        rules.RULES[self.op] = self.wrong

    def __exit__(self, *exc):
        rules.RULES[self.op] = self.rule
        sd.clear_caches()
