"""Every construct outside the language fails at transform time, naming file, line and code."""
import math
import re

import numpy as np
import pytest

import s2sdiff as sd


def with_try(x):
    try:
        y = x * 2
    except ValueError:
        y = 0.0
    return y


def with_with(x):
    with open(__file__) as handle:
        y = x
    return y


def generator(x):
    yield x


def passes_lambda(x):
    return np.sum(np.apply_along_axis(lambda u: 2 * u, 0, x))


def recursive(x, n):
    if n == 0:
        return x
    return recursive(x * x, n - 1)


def mutual_a(x, n):
    return mutual_b(x, n) + 1.0


def mutual_b(x, n):
    return mutual_a(x, n - 1) * x if n > 0 else x


def star_args(*xs):
    return xs[0]


def star_kwargs(x, **options):
    return x


def writes_global(x):
    global COUNTER
    COUNTER = x
    return x


def writes_nonlocal_factory():
    total = 0.0

    def inner(x):
        nonlocal total
        total = x
        return x
    return inner


def string_math(x):
    return "value" + x


def unknown_function(x):
    return math.gamma(x)


def no_return(x):
    y = x * 2


def falls_off_end(x):
    if x > 0:
        return x


def loop_over_list_with_break(x):
    s = 0.0
    for v in [1.0, 2.0]:
        if v > x:
            break
        s += v * x
    return s


def calls_local_function(f, x):
    return f(x)


def two_for_comprehension(x):
    return np.array([x * i * j for i in range(3) for j in range(2)])


def list_arithmetic(x):
    return np.sum(np.array([x * i for i in range(3)] * 2))


CASES = [
    (with_try, "try/except", "try:"),
    (with_with, "with", "with open(__file__) as handle:"),
    (generator, "yield", "yield x"),
    (passes_lambda, "lambda", "return np.sum(np.apply_along_axis(lambda u: 2 * u, 0, x))"),
    (recursive, "recursion", "return recursive(x * x, n - 1)"),
    (star_args, "*args", "def star_args(*xs):"),
    (star_kwargs, "**kwargs", "def star_kwargs(x, **options):"),
    (writes_global, "global", "global COUNTER"),
    (writes_nonlocal_factory(), "nonlocal", "nonlocal total"),
    (string_math, "string", 'return "value" + x'),
    (unknown_function, "gamma", "return math.gamma(x)"),
    (no_return, "returns no value", "def no_return(x):"),
    (falls_off_end, "without returning", "def falls_off_end(x):"),
    (loop_over_list_with_break, "break", "break"),
    (calls_local_function, "local value 'f'", "return f(x)"),
    (two_for_comprehension, "write the loop", "return np.array([x * i * j for i in range(3) for j in range(2)])"),
    (list_arithmetic, "Python's", "return np.sum(np.array([x * i for i in range(3)] * 2))"),
]


@pytest.mark.parametrize("func, what, code", CASES, ids=[c[0].__name__ for c in CASES])
def test_unsupported_construct_names_file_line_and_code(func, what, code):
    with pytest.raises(sd.UnsupportedError) as info:
        sd.derivative(func)
    message = str(info.value)
    assert what in message
    assert __file__ in message
    assert code in message
    line = int(re.search(r"line (\d+)", message).group(1))
    with open(__file__) as handle:
        assert code in handle.read().splitlines()[line - 1]
    assert "^" in message                         # a caret under the construct


def test_mutual_recursion_is_reported():
    with pytest.raises(sd.UnsupportedError, match="recursion"):
        sd.derivative(mutual_a)


def test_unsupported_error_is_an_s2sdiff_error_and_a_value_error():
    assert issubclass(sd.UnsupportedError, sd.S2SDiffError)
    assert issubclass(sd.S2SDiffError, ValueError)


def test_function_without_source():
    namespace = {}
    exec("def made_at_runtime(x):\n    return x * x\n", namespace)
    with pytest.raises(sd.S2SDiffError, match="cannot read the source"):
        sd.derivative(namespace["made_at_runtime"])
    with pytest.raises(sd.S2SDiffError, match="Python functions"):
        sd.derivative(math.sin)


def scale(x, n):
    return x * n


def pair(x, y):
    return x * y, x + y


def test_bad_options():
    with pytest.raises(sd.S2SDiffError, match="no parameter"):
        sd.grad(scale, wrt="z", mode="forward")
    with pytest.raises(sd.S2SDiffError, match="has 2 parameter"):
        sd.grad(scale, wrt=2, mode="forward")
    with pytest.raises(sd.S2SDiffError, match="mode"):
        sd.grad(scale, mode="sideways")
    with pytest.raises(sd.S2SDiffError, match="scalar-valued"):
        sd.grad(pair)
    with pytest.raises(sd.S2SDiffError, match="twice"):
        sd.grad(scale, wrt=(0, "x"), mode="forward")
    with pytest.raises(sd.S2SDiffError, match="order"):
        sd.derivative(scale, order=0)
    with pytest.raises(sd.S2SDiffError, match="scalar-valued"):
        sd.grad(pair, mode="forward")


def first_element(x, n):
    return x[0] * n


def test_call_time_type_errors_name_the_argument():
    d = sd.derivative(scale)
    with pytest.raises(TypeError, match="argument 'x'.*real number, got str"):
        d("1.0", 2)
    with pytest.raises(TypeError, match="argument 'x' is an array; sd.derivative is for functions of one real"):
        d(np.ones(3), 2)
    with pytest.raises(TypeError, match="argument 'x'.*int64 array; integer arrays are never differentiated"):
        sd.grad(first_element)(np.arange(3), 2)
    with pytest.raises(TypeError, match=r"n: unicode_type"):
        d(1.0, "two")
    with pytest.raises(TypeError, match="missing a required argument: 'n'"):
        d(1.0)
    assert d(1, 3) == 3.0                         # an int where a float is differentiated is fine
