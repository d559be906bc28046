"""sd.check_grad: small for s2sdiff's gradients, the exact relative error for a wrong one,
the right reference for functions that cannot take complex input, and a readable report."""
import math

import numpy as np
import pytest

import s2sdiff as sd


def notes_f(x, a, b):
    return ((x[0] - a) / 4) ** 2 + ((x[1] - b) / 3) ** 2


def notes_hand_gradient(x, a, b):
    """The gradient as the lecture notes' code writes it: (x₁ − a)/2 and 2(x₂ − b)/3, where
    differentiating f gives (x₁ − a)/8 and 2(x₂ − b)/9."""
    return np.array([(x[0] - a) / 2, 2 * (x[1] - b) / 3])


def loop_objective(x, n):
    s = 0.0
    for i in range(n):
        s += 0.1 * (x[i] - i) ** 2 + math.sin(x[i]) * math.cos(x[(i + 1) % n]) + math.exp(-x[i] ** 2)
    return s


def branchy(x):
    if x > 0.0:
        return x ** 3
    return math.sin(x)


def with_abs(x):
    return np.sum(np.abs(x) * x + np.sin(x))


def weighted(W, c):
    return np.sum(np.sin(W)) * c


X = np.linspace(-1.0, 1.5, 12)


def test_correct_gradients_check_to_rounding_against_the_complex_step():
    check = sd.check_grad(notes_f, np.array([8.0, 9.0]), 2.0, -3.0)
    assert check < 1e-14 and check.reference == "complex step"
    # math.* code: its math calls are evaluated with NumPy's complex-capable versions
    check = sd.check_grad(loop_objective, X, len(X))
    assert check < 1e-12 and check.reference == "complex step"


def test_a_wrong_gradient_gives_its_exact_relative_error():
    check = sd.check_grad(notes_f, np.array([8.0, 9.0]), 2.0, -3.0, jac=notes_hand_gradient)
    # component 0 is 4× too large (error 3), component 1 3× (error 2)
    assert float(check) == pytest.approx(3.0, rel=1e-12)
    assert [(label, error) for label, _, _, error in check.rows] == [("x[0]", pytest.approx(3.0, rel=1e-12)),
                                                                     ("x[1]", pytest.approx(2.0, rel=1e-12))]
    report = str(check)
    assert "largest relative error 3 against complex step" in report
    assert report.index("x[0]") < report.index("x[1]")


def test_central_differences_where_the_complex_step_does_not_apply():
    # a comparison of the perturbed value: complex numbers have no order
    for x in (0.7, -0.4):
        check = sd.check_grad(branchy, x)
        assert check < 1e-8
        assert check.reference.startswith("central differences (f cannot take complex input: TypeError")
    assert sd.check_grad(branchy, -0.4, mode="forward") < 1e-8
    # abs() of a complex number is its modulus: the complex step runs but is wrong, and is caught
    check = sd.check_grad(with_abs, X)
    assert check < 1e-8
    assert check.reference.startswith("central differences (the complex step disagrees")


def test_several_and_two_dimensional_arguments():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((3, 4))
    # the generated gradient run as Python (jit=False): numba takes seconds to compile 2-D array code
    gradient = sd.grad(weighted, wrt=("W", "c"), jit=False)
    check = sd.check_grad(weighted, W, 1.5, wrt=("W", "c"), jac=gradient, show=3)
    assert check < 1e-13
    assert len(check.rows) == 12 + 1
    assert {label for label, *_ in check.rows} >= {"W[0, 0]", "W[2, 3]", "c"}
    report = str(check)
    assert "… 10 more component(s)" in report and len(report.splitlines()) == 2 + 3 + 1
    # each component against its closed form: ∂/∂W_jk = 1.5 cos(W_jk), ∂/∂c = Σ sin(W_jk)
    for label, ad, reference, _ in check.rows:
        if label.startswith("W"):
            j, k = (int(i) for i in label[2:-1].split(","))
            assert ad == pytest.approx(1.5 * np.cos(W[j, k]), rel=1e-14)
            assert reference == pytest.approx(1.5 * np.cos(W[j, k]), rel=1e-14)
        else:
            assert reference == pytest.approx(np.sin(W).sum(), rel=1e-14)


def test_result_behaves_as_a_float():
    check = sd.check_grad(notes_f, np.array([8.0, 9.0]), 2.0, -3.0, jac=notes_hand_gradient)
    assert isinstance(check, float) and f"{check:.1f}" == "3.0" and check > 2.9
    assert repr(check) == "GradientCheck(3 against complex step)"


def test_bad_arguments():
    with pytest.raises(sd.S2SDiffError, match="wrt='y'"):
        sd.check_grad(notes_f, np.array([8.0, 9.0]), 2.0, -3.0, wrt="y")
    with pytest.raises(sd.S2SDiffError, match="has 3 component"):
        sd.check_grad(notes_f, np.array([8.0, 9.0]), 2.0, -3.0, jac=lambda x, a, b: np.ones(3))
