"""Call-time validation (issue 7.4) beyond docs/errors.md's rows: every transform checks
its arguments and names the one at fault; the cases that still give an unclear error or a
wrong answer are strict xfails, each with its reason."""
import re

import numba
import numpy as np
import pytest

import s2sdiff as sd


def loss(v, A):
    return np.sum((A @ v) ** 2)


def first(v, n):
    return v[0] * n


def pair(x, y):
    return x * y, x + y


def double(v):
    return v * 2.0


def at(x, v, i):
    return x * v[i]


def solve_sum(b, A):
    return np.sum(np.linalg.solve(A, b))


def contracted(x, v):
    return x * np.sum(np.gradient(v))


def write_then_loop(v, n):
    y = np.zeros(n)
    y[0] = v[0]
    s = 0.0
    for i in range(n):
        s += y[i]
    z = y
    return s + np.sum(z)


def reads_last_iterations(x, n):
    s = 0.0
    for i in range(n):
        if i > 0:
            s = s + t
        t = x * i
    return s


TRANSFORMS = {
    "grad": lambda f, **o: sd.grad(f, **o),
    "grad-forward": lambda f, **o: sd.grad(f, mode="forward", **o),
    "value_and_grad": lambda f, **o: sd.value_and_grad(f, **o),
    "jacobian": lambda f, **o: sd.jacobian(f, **o),
    "jacobian-reverse": lambda f, **o: sd.jacobian(f, mode="reverse", **o),
    "hessian": lambda f, **o: sd.hessian(f, **o),
}


@pytest.mark.parametrize("name", TRANSFORMS)
def test_every_transform_checks_its_differentiated_array(name):
    g = TRANSFORMS[name](loss, jit=False)        # the checks run before any compiled code
    with pytest.raises(TypeError, match=r"argument 'v' is differentiated but is a int64 array"):
        g(np.arange(2), np.eye(2))
    with pytest.raises(TypeError, match=r"argument 'v' is a 0-d array; pass a number"):
        g(np.array(1.0), np.eye(2))
    with pytest.raises(TypeError, match=r"argument 'v' is differentiated and must be a real number or a float "
                                        r"array, got set"):
        g({1.0, 2.0}, np.eye(2))
    # a list is a parameter structure (as in JAX); `A @ v` of it is refused, naming the line
    with pytest.raises(sd.UnsupportedError, match=r"a list is not supported here(.|\n)*A @ v"):
        g([1.0, 2.0], np.eye(2))
    with pytest.raises(TypeError, match=r"missing a required argument: 'A'"):
        g(np.ones(2))


@pytest.mark.parametrize("name", ["grad", "grad-forward", "value_and_grad", "jacobian"])
def test_compiled_shape_mismatch_names_every_argument_shape(name):
    with pytest.raises(ValueError, match=re.escape("the arguments' shapes do not fit the function "
                                                   "(v: (3,), A: (2, 2))")):
        TRANSFORMS[name](loss)(np.ones(3), np.eye(2))


def test_jvp_and_vjp_check_their_arguments():
    # an integer array is never differentiated: its tangent must be zero
    with pytest.raises(ValueError, match=r"jvp: 'v' is an integer, never differentiated: its tangent must be 0"):
        sd.jvp(first, (np.arange(3), 2.0), (np.ones(3), 0.0))
    with pytest.raises(TypeError, match=r"first\(\): argument 'v' is a 0-d array"):
        sd.vjp(first, np.array(1.0), 2.0)
    with pytest.raises(TypeError, match=r"argument 'n' is differentiated and must be a real number or a float "
                                        r"array, got str"):
        sd.jvp(first, (np.ones(3), "two"), (np.ones(3), 0.0))


def test_strided_float32_arrays_are_computed_in_float64_and_given_back_in_float32():
    v = np.arange(6, dtype=np.float32)[::2]
    g = sd.grad(first, jit=False)(v, 2.0)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [2.0, 0.0, 0.0])


def test_out_of_range_index_raises_without_numba():
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        sd.derivative(at, jit=False)(1.0, np.ones(3), 3)


# ---- not yet a clear error ---------------------------------------------------------------

@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_grad_of_an_array_valued_function(mode):
    with pytest.raises((sd.S2SDiffError, TypeError, ValueError), match="scalar"):
        sd.grad(double, mode=mode, jit=False)(np.ones(3))


def test_singular_matrix():
    with pytest.raises(np.linalg.LinAlgError) as info:
        sd.grad(solve_sum)(np.ones(2), np.zeros((2, 2)))
    assert "shapes" not in str(info.value)


@pytest.mark.parametrize("call", ["jvp", "vjp"])
def test_jvp_and_vjp_shape_mismatch(call):
    with pytest.raises(ValueError, match=re.escape("v: (3,)")):
        if call == "jvp":
            sd.jvp(loss, (np.ones(3), np.eye(2)), (np.ones(3), np.zeros((2, 2))))
        else:
            sd.vjp(loss, np.ones(3), np.eye(2))


def test_vjp_cotangent_of_the_wrong_shape():
    _, vjp_fn = sd.vjp(double, np.ones(3))
    with pytest.raises((sd.S2SDiffError, ValueError)):
        vjp_fn(np.ones(2))


def test_vjp_of_a_tuple_valued_function_given_one_cotangent():
    _, vjp_fn = sd.vjp(pair, 1.0, 2.0)
    with pytest.raises(sd.S2SDiffError, match="vjp_fn: pair has 2 output"):
        vjp_fn(1.0)


def test_python_run_shape_mismatch_names_the_arguments():
    with pytest.raises(ValueError, match=re.escape("v: (3,)")):
        sd.grad(loss, jit=False)(np.ones(3), np.eye(2))


def test_a_numpy_function_numba_lacks_is_named():
    with pytest.raises(TypeError, match="gradient"):
        sd.grad(contracted)(1.0, np.ones(2))


def test_caret_of_an_error_found_after_lowering():
    with pytest.raises(sd.UnsupportedError) as info:
        sd.grad(write_then_loop)
    *_, shown, caret = str(info.value).splitlines()
    assert shown.strip() == "z = y"
    assert len(caret) == len(shown)
    assert ", column 5" in str(info.value)


@pytest.mark.xfail(strict=True, raises=numba.core.errors.NotDefinedError,
                   reason="valid Python that numba rejects (t read in a later iteration than the one that sets "
                          "it): reverse mode refuses it at transform time, forward mode raises numba's "
                          "NotDefinedError at the first call")
def test_forward_mode_refuses_what_numba_cannot_compile():
    assert sd.derivative(reads_last_iterations, jit=False)(2.0, 4) == 3.0      # the generated Python is right
    with pytest.raises(sd.S2SDiffError, match="'t' is read in this loop before it is assigned"):
        sd.derivative(reads_last_iterations)(2.0, 4)
