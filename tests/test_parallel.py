"""`parallel=True`: adjoint loops with independent iterations cut into chunks run by
numba.prange, array expressions on threads.  The gradients must equal the sequential
ones (summation order at chunk borders and in reductions may differ by rounding)."""
import functools
import math

import numpy as np
import pytest

import s2sdiff as sd
from test_reverse import forward_stencil


def objective(x, a):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += a * (x[i] - i) ** 2 + math.sin(x[i]) * math.cos(x[i + 1]) + math.exp(-x[i] ** 2)
    return s


def three_point(x):
    s = 0.0
    for i in range(1, x.shape[0] - 1):
        s += (x[i - 1] - 2.0 * x[i] + x[i + 1]) ** 2 + math.cos(x[i])
    return s


def elementwise(x, a):
    """Writes only at its own index: one prange loop, no phases."""
    s = 0.0
    for i in range(len(x)):
        u = x[i] * x[i]
        v = u + math.exp(a * u)
        s += math.sqrt(v) + math.cos(v)
    return s


def gathered(x, order):
    """Writes at data-dependent elements: left to one thread."""
    s = 0.0
    for i in range(order.shape[0]):
        s += math.sin(x[order[i]]) * x[i]
    return s


def notes_f(x):
    u = x ** 2 + np.exp(x ** 2)
    return np.sum(np.sqrt(u) + np.cos(u))


@functools.cache
def both(f, wrt=0):
    return sd.grad(f, wrt=wrt), sd.grad(f, wrt=wrt, parallel=True)


@pytest.mark.parametrize("n", [3, 1000, 50_001])
def test_chunked_loop_gradient_equals_sequential(n):
    x = np.random.default_rng(n).uniform(-1.0, 1.0, n)
    sequential, parallel = both(objective, (0, 1))
    (gx, ga), (px, pa) = sequential(x, 0.1), parallel(x, 0.1)
    np.testing.assert_allclose(px, gx, rtol=1e-13, atol=1e-15)
    assert pa == pytest.approx(ga, rel=1e-12)           # a prange reduction over chunks
    assert "prange(" in parallel.source


@pytest.mark.parametrize("n", [1, 4097, 100_000])
def test_own_index_loop_is_one_prange_loop(n):
    x = np.random.default_rng(n).uniform(-1.0, 1.0, n)
    sequential, parallel = both(elementwise, (0, 1))
    (px, pa), (gx, ga) = parallel(x, 0.3), sequential(x, 0.3)
    u = x * x
    v = u + np.exp(0.3 * u)
    outer = 0.5 / np.sqrt(v) - np.sin(v)
    np.testing.assert_allclose(px, outer * (1.0 + 0.3 * np.exp(0.3 * u)) * 2.0 * x, rtol=1e-12, atol=1e-15)
    assert pa == pytest.approx(np.sum(outer * u * np.exp(0.3 * u)), rel=1e-11)
    np.testing.assert_allclose(px, gx, rtol=1e-15)
    assert pa == pytest.approx(ga, rel=1e-12)           # a prange reduction
    assert "prange(" in parallel.source and "phase" not in parallel.source


@pytest.mark.parametrize("n", [5, 30_000])
def test_three_point_stencil(n):
    x = np.random.default_rng(7).uniform(-1.0, 1.0, n)
    sequential, parallel = both(three_point)
    np.testing.assert_allclose(parallel(x), sequential(x), rtol=1e-13, atol=1e-14)


def rosenbrock_with_squares(x):
    s = 0.0
    for i in range(len(x) - 1):
        xi = x[i]
        t = x[i + 1] - xi * xi
        s += 100.0 * t * t + (1.0 - xi) * (1.0 - xi)
    return s


@pytest.mark.parametrize("f", [forward_stencil, rosenbrock_with_squares])
def test_plain_arithmetic_loop_stays_on_one_thread(f):
    x = np.random.default_rng(5).uniform(-1.0, 1.0, 20_000)
    sequential, parallel = both(f)       # Rosenbrock: plain arithmetic
    assert "prange(" not in parallel.source
    t = x[1:] - x[:-1] ** 2
    expected = np.zeros_like(x)
    expected[:-1] += -400.0 * x[:-1] * t - 2.0 * (1.0 - x[:-1])
    expected[1:] += 200.0 * t
    np.testing.assert_allclose(parallel(x), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(parallel(x), sequential(x))


def test_data_dependent_writes_stay_on_one_thread():
    rng = np.random.default_rng(3)
    x, order = rng.uniform(-1.0, 1.0, 20_000), rng.permutation(20_000)
    sequential, parallel = both(gathered)
    assert "prange(" not in parallel.source
    np.testing.assert_allclose(parallel(x, order), sequential(x, order), rtol=1e-15)


def test_whole_array_code_compiled_parallel():
    x = np.random.default_rng(11).uniform(-1.0, 1.0, 100_000)
    sequential, parallel = both(notes_f)
    u = x ** 2 + np.exp(x ** 2)
    du = 2 * x * (1 + np.exp(x ** 2))
    np.testing.assert_allclose(parallel(x), (0.5 / np.sqrt(u) - np.sin(u)) * du, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(parallel(x), sequential(x), rtol=1e-14)


def test_parallel_is_a_reverse_mode_option():
    with pytest.raises(sd.S2SDiffError, match="parallel=True is for reverse mode"):
        sd.grad(notes_f, mode="forward", parallel=True)
