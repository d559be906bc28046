"""The public surface: caching, .source/.py_func, jit=False, njit interop, decorator, CLI."""
import ast
import math
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import s2sdiff as sd
from s2sdiff.__main__ import main


def poly(x, y):
    return x * x * y + 3.0 * y


def trig(t):
    return math.sin(t) * math.exp(-t)


def test_same_options_give_the_same_object():
    assert sd.derivative(trig) is sd.derivative(trig)
    assert sd.grad(poly, wrt=(0, 1), mode="forward") is sd.grad(poly, wrt=("x", "y"), mode="forward")
    assert sd.derivative(trig) is not sd.derivative(trig, jit=False)


def test_njit_dispatcher_is_accepted_like_its_python_function():
    jitted = numba.njit(trig)
    assert sd.derivative(jitted)(0.7) == sd.derivative(trig)(0.7)


def test_source_is_valid_readable_python():
    d = sd.grad(poly, wrt=("x", "y"), mode="forward")
    tree = ast.parse(d.source)
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert names == {"poly_jvp_x", "poly_jvp_y", "poly_grad"}
    assert "dx" in d.source and "dy" in d.source          # tangents named after the variables
    assert "# line" in d.source                            # comments point at the user's lines
    assert callable(d.py_func) and d.py_func.__name__ == "poly_grad"


def test_jit_false_runs_the_python_and_agrees():
    compiled, plain = sd.derivative(trig), sd.derivative(trig, jit=False)
    assert not isinstance(plain.dispatcher, numba.core.registry.CPUDispatcher)
    for t in (0.1, 1.0, 2.5):
        assert compiled(t) == pytest.approx(plain(t), rel=1e-15)
        assert compiled(t) == pytest.approx(math.exp(-t) * (math.cos(t) - math.sin(t)), rel=1e-14)


def test_transforms_are_callable_from_njit_code():
    d = sd.derivative(trig)
    g = sd.grad(poly, wrt=(0, 1), mode="forward")

    @numba.njit
    def user_loop(n):
        total = 0.0
        for i in range(n):
            gx, gy = g(0.5 + i, 2.0)
            total += d(0.1 * i) + gx + gy
        return total

    expected = sum(trig_derivative(0.1 * i) + 2 * (0.5 + i) * 2.0 + (0.5 + i) ** 2 + 3.0 for i in range(5))
    assert user_loop(5) == pytest.approx(expected, rel=1e-13)


def trig_derivative(t):
    return math.exp(-t) * (math.cos(t) - math.sin(t))


def test_grad_wrt_forms():
    by_index = sd.grad(poly, wrt=1, mode="forward")(2.0, 5.0)
    by_name = sd.grad(poly, wrt="y", mode="forward")(2.0, 5.0)
    both = sd.grad(poly, wrt=(0, "y"), mode="forward")(2.0, 5.0)
    assert by_index == by_name == 7.0
    assert both == (20.0, 7.0)
    assert isinstance(sd.grad(poly, wrt=(0,), mode="forward")(2.0, 5.0), tuple)


def test_jacobian_shapes():
    def_values = sd.jacobian(poly, wrt=(0, 1))(1.0, 2.0)
    assert def_values == (4.0, 4.0)
    jac = sd.jacobian(pair_out)(0.5)
    assert isinstance(jac, np.ndarray) and jac.shape == (2,)
    np.testing.assert_allclose(jac, [math.cos(0.5), 2 * 0.5], rtol=1e-15)


def pair_out(t):
    return math.sin(t), t * t


def test_jvp_is_the_directional_derivative():
    value, tangent = sd.jvp(poly, (2.0, 5.0), (0.5, -1.0))
    assert value == poly(2.0, 5.0)
    assert tangent == pytest.approx(0.5 * 20.0 - 1.0 * 7.0)
    values, tangents = sd.jvp(pair_out, (0.5,), (2.0,))
    assert values == pair_out(0.5)
    assert tangents == pytest.approx((2 * math.cos(0.5), 2 * 2 * 0.5))


def test_differentiable_decorator():
    @sd.differentiable
    def energy(x, k):
        return 0.5 * k * x * x

    assert energy(2.0, 3.0) == 6.0
    assert energy.derivative(2.0, 3.0) == 6.0
    assert energy.jacobian(2.0, 3.0) == 6.0

    @numba.njit
    def uses_it(x):
        return energy(x, 1.0)
    assert uses_it(2.0) == 2.0

    plain = sd.differentiable(jit=False)(trig)
    assert plain.derivative(0.3) == pytest.approx(trig_derivative(0.3), rel=1e-14)


def test_higher_order_derivative_by_composition():
    d4 = sd.derivative(trig, order=4)
    # (e^{-t} sin t)'''' = -4 e^{-t} sin t
    assert d4(0.8) == pytest.approx(-4 * math.exp(-0.8) * math.sin(0.8), rel=1e-12)
    assert "trig_jvp_jvp" in d4.source or "trig_derivative_jvp" in d4.source


def test_lambda_is_accepted_when_unambiguous():
    square = lambda x: x * x * x  # noqa: E731
    assert sd.derivative(square)(2.0) == 12.0


def test_show_prints_the_source(capsys):
    d = sd.derivative(trig)
    sd.show(d)
    assert capsys.readouterr().out.strip() == d.source.strip()


EXAMPLE = """
import math

def model(a, b):
    return math.log(a * b + max(a, 2))
"""


def test_cli_show(tmp_path, capsys):
    path = tmp_path / "example_model.py"
    path.write_text(EXAMPLE)
    assert main(["show", f"{path}:model", "--mode", "forward", "--wrt", "a,b"]) == 0
    out = capsys.readouterr().out
    assert "def model_jvp_a(a, b, da):" in out and "def model_grad(a, b):" in out
    ast.parse(out)


def test_cli_reports_errors(tmp_path, capsys):
    path = tmp_path / "bad_model.py"
    path.write_text("def model(x):\n    try:\n        return x\n    except Exception:\n        return 0.0\n")
    assert main(["show", f"{path}:model"]) == 1
    assert "try/except" in capsys.readouterr().err


def test_cli_as_a_module(tmp_path):
    path = tmp_path / "cli_model.py"
    path.write_text(EXAMPLE)
    done = subprocess.run([sys.executable, "-m", "s2sdiff", "show", f"{path}:model"],
                          capture_output=True, text=True, check=True)
    assert "def model_jvp" in done.stdout


def test_quickstart_example_runs():
    script = Path(__file__).parents[1] / "examples" / "quickstart.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    x = 1.5
    c, dc = x * x + math.exp(x * x), 2 * x + 2 * x * math.exp(x * x)
    printed = float(done.stdout.split("f'(1.5) = ")[1].split()[0])
    assert printed == pytest.approx(dc / (2 * math.sqrt(c)) - math.sin(c) * dc, rel=1e-13)
    assert "def f_jvp(x, dx):" in done.stdout
