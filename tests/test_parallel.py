"""`parallel=True`: adjoint loops with independent iterations cut into chunks run by
numba.prange, only where threads pay (parallel.py).  The
gradients must equal the sequential ones (summation order at chunk borders and in
reductions may differ by rounding)."""
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


def parallel_loops(transform, *args) -> list:
    """What numba made parallel loops of in the adjoint function a call with these
    arguments runs (after that call): "prange", "array expression", …"""
    transform(*args)
    namespace = transform.specialized(*args).py_func.__globals__
    vjp, = (v for k, v in namespace.items() if "_vjp" in k and hasattr(v, "overloads"))
    # (code from the disk cache carries no metadata, serial code no parallel loops)
    diagnostics = (next(iter(vjp.overloads.values())).metadata or {}).get("parfor_diagnostics")
    loops = getattr(diagnostics, "initial_parfors", [])
    return [p.patterns[0][0] if isinstance(p.patterns[0], tuple) else p.patterns[0].split(" (")[0] for p in loops]


@pytest.mark.parametrize("n", [3, 1000, 50_001])
def test_chunked_loop_gradient_equals_sequential(n):
    x = np.random.default_rng(n).uniform(-1.0, 1.0, n)
    sequential, parallel = both(objective, (0, 1))
    (gx, ga), (px, pa) = sequential(x, 0.1), parallel(x, 0.1)
    np.testing.assert_allclose(px, gx, rtol=1e-13, atol=1e-15)
    assert pa == pytest.approx(ga, rel=1e-12)           # a prange reduction over chunks
    assert "prange(" in parallel.source
    if n < 4 * 4096:                                    # too short for threads: the loop as it was
        np.testing.assert_array_equal(px, gx)


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
    assert parallel_loops(parallel, x, 0.3) == ["prange"]      # not the zeroing of bx too


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


def rosenbrock_with_powers(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


@pytest.mark.parametrize("f", [forward_stencil, rosenbrock_with_squares, rosenbrock_with_powers])
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
    assert parallel_loops(parallel, x) == []
    small = x[:300]
    np.testing.assert_allclose(parallel(small), sd.estimate.complex_step(f, small), rtol=1e-13, atol=1e-12)


def test_data_dependent_writes_stay_on_one_thread():
    rng = np.random.default_rng(3)
    x, order = rng.uniform(-1.0, 1.0, 20_000), rng.permutation(20_000)
    sequential, parallel = both(gathered)
    assert "prange(" not in parallel.source
    np.testing.assert_allclose(parallel(x, order), sequential(x, order), rtol=1e-15)


def mlp(W1, b1, w2, b2, X, y):
    h = np.maximum(X @ W1.T + b1, 0.0)
    r = h @ w2 + b2 - y
    return np.sum(r * r)


def test_matrix_products_stay_on_one_thread():
    """BLAS runs its own threads; numba's, waiting for work after each parallel loop, took
    the cores from it (the MLP's gradient at 4096×128×256: 2.2 serial, 3.8–6.5 on threads)."""
    rng = np.random.default_rng(2)
    W1, b1, w2, X, y = (rng.normal(size=s) for s in ((16, 8), 16, 16, (40, 8), 40))
    sequential, parallel = both(mlp, (0, 1, 2, 3))
    assert parallel_loops(parallel, W1, b1, w2, 0.1, X, y) == []
    z = X @ W1.T + b1
    h = np.maximum(z, 0.0)
    g = 2.0 * (h @ w2 + 0.1 - y)
    gz = np.outer(g, w2) * (z > 0)
    expected = (gz.T @ X, gz.sum(axis=0), h.T @ g, g.sum())
    for got, serial, want in zip(parallel(W1, b1, w2, 0.1, X, y), sequential(W1, b1, w2, 0.1, X, y), expected):
        np.testing.assert_array_equal(got, serial)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def softmax_chain(x):
    s = 0.0
    r = 0.0
    for i in range(len(x)):
        s += math.exp(x[i])
        r += math.cos(x[i])
    for i in range(len(x) - 1):
        d = x[i + 1] - x[i]
        r += 0.5 * d * d
    return math.log(s) + r


def test_loops_over_numbers_compile_serial():
    """No array expression and no loop worth threads: numba's parallel=True would only add
    thread start-ups."""
    x = np.random.default_rng(4).uniform(-1.0, 1.0, 100)
    sequential, parallel = both(softmax_chain)
    assert parallel_loops(parallel, x) == []
    np.testing.assert_array_equal(parallel(x), sequential(x))
    complex_form = lambda z: np.log(np.sum(np.exp(z))) + np.sum(np.cos(z)) + 0.5 * np.sum((z[1:] - z[:-1]) ** 2)
    np.testing.assert_allclose(parallel(x), sd.estimate.complex_step(complex_form, x), rtol=1e-13, atol=1e-13)


def centred_energy(X):
    """Rows centred by a keepdims mean: X - mu broadcasts along an axis of length one,
    which numba's parallel array expressions stop at."""
    mu = np.mean(X, axis=1, keepdims=True)
    return np.sum(np.exp(0.1 * (X - mu)))


def test_whole_array_code_stays_off_numbas_array_expression_threads():
    x = np.random.default_rng(11).uniform(-1.0, 1.0, 100_000)
    sequential, parallel = both(notes_f)
    u = x ** 2 + np.exp(x ** 2)
    du = 2 * x * (1 + np.exp(x ** 2))
    np.testing.assert_allclose(parallel(x), (0.5 / np.sqrt(u) - np.sin(u)) * du, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(parallel(x), sequential(x), rtol=1e-14)
    assert "array expression" not in parallel_loops(parallel, x)
    X = np.random.default_rng(12).uniform(-1.0, 1.0, (40, 7))
    sequential, parallel = both(centred_energy)
    e = np.exp(0.1 * (X - X.mean(axis=1, keepdims=True)))
    want = 0.1 * (e - e.mean(axis=1, keepdims=True))          # d/dX of sum exp(0.1 (X - mean))
    np.testing.assert_allclose(parallel(X), want, rtol=1e-12)
    np.testing.assert_allclose(parallel(X), sequential(X), rtol=1e-14)


def test_parallel_is_a_reverse_mode_option():
    with pytest.raises(sd.S2SDiffError, match="parallel=True is for reverse mode"):
        sd.grad(notes_f, mode="forward", parallel=True)


def sine_energy(x):
    s = 0.0
    for i in range(len(x)):
        s += math.exp(math.sin(x[i]))
    return s


def test_threads_serve_only_the_sizes_they_measured_faster_at(monkeypatch):
    """parallel=True times its threaded code against the serial code on the first calls of
    each size (a factor of two), then keeps the faster: a clock that makes the threads slow
    at one size and fast at another picks the serial code there and the threads here."""
    from s2sdiff import wrappers
    parallel = sd.grad(sine_energy, parallel=True)
    assert "prange(" in parallel.source
    clock, used = [0.0], []
    metered = wrappers.Transformed._metered
    slow_threads = {True: True}

    def timed(self, args, kwargs):
        threaded = self is parallel
        used.append("threads" if threaded else "serial")
        clock[0] += (2.0 if threaded == slow_threads[True] else 1.0)
        return metered(self, args, kwargs)
    monkeypatch.setattr(wrappers.Transformed, "_metered", timed)
    monkeypatch.setattr(wrappers.time, "perf_counter", lambda: clock[0])
    for n, slow in ((100_000, True), (30_000, False)):
        slow_threads[True], used[:] = slow, []
        x = np.random.default_rng(n).uniform(-2.0, 2.0, n)
        for _ in range(8):
            np.testing.assert_allclose(parallel(x), np.cos(x) * np.exp(np.sin(x)), rtol=1e-13)
        chosen = "serial" if slow else "threads"
        assert used == ["threads", "serial"] * 3 + [chosen] * 2


def test_code_with_nothing_on_threads_is_not_timed():
    x = np.random.default_rng(6).uniform(-1.0, 1.0, 1000)
    parallel = sd.grad(rosenbrock_with_squares, parallel=True)
    np.testing.assert_allclose(parallel(x), sd.grad(rosenbrock_with_squares)(x), rtol=1e-15)
    assert parallel.race is False       # dropped untimed


def rosenbrock_with_pow_calls(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += 100.0 * pow(x[i + 1] - np.power(x[i], 2), 2) + pow(1.0 - x[i], 2)
    return s


def test_integer_powers_called_as_functions_are_products():
    """pow(x, 2) and np.power(x, 2) are multiplications, as x ** 2 is: plain arithmetic."""
    x = np.random.default_rng(8).uniform(-1.0, 1.0, 300)
    parallel = sd.grad(rosenbrock_with_pow_calls, parallel=True)
    code = "\n".join(line.split("#")[0] for line in parallel.source.splitlines()).replace("rosenbrock_with_pow", "")
    assert "pow" not in code and "**" not in code
    assert "prange(" not in parallel.source
    np.testing.assert_allclose(parallel(x), sd.estimate.complex_step(rosenbrock_with_pow_calls, x), rtol=1e-13,
                               atol=1e-12)
