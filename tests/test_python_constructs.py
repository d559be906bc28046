"""Python as people write it (issue 17): each construct in one function, differentiated in
both modes, compiled and not, to second order, against complex step.

The oracle perturbs each input element by ih and reads Im f / h (complex step); the
Hessian's oracle is central differences of complex-step gradients.  A function whose
code compares values (max over a generator) uses central differences instead.
"""
from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pytest

import s2sdiff as sd

COEFFS = np.array([0.5, -1.5, 2.0, 0.25])
WEIGHTS = (1.0, 2.0, 3.0, 4.0)
SHIFTS = [0.1, 0.2, 0.3, 0.4]
SCALE = 1.5


# ---- lists and comprehensions --------------------------------------------------------
def comprehension_array(x):
    return np.sum(np.array([np.sin(x[i]) * x[i] for i in range(len(x))]) ** 2)


def nested_comprehension(x):
    table = np.array([[x[i] * x[j] for j in range(len(x))] for i in range(len(x))])
    return np.sum(np.tanh(table))


def stack_of_comprehension(x):
    rows = np.stack([x * k for k in range(1, 4)])
    return np.sum(rows ** 2 * np.arange(3.0)[:, None])


def list_literal(x):
    v = [x[0] * x[1], 2.0, np.exp(x[2])]
    return v[0] * v[2] + v[1] * x[3] + v[-1]


def appended_then_array(x):
    out = []
    for i in range(len(x)):
        out.append(np.cos(x[i]) * (i + 1))
    return np.sum(np.array(out) * x)


def appended_states(x):
    h = 0.0
    states = []
    for v in x:
        h = np.tanh(0.5 * h + v)
        states.append(h)
    return np.sum(np.array(states) ** 2)


def sum_of_list(x):
    return sum([x[i] ** 3 for i in range(len(x))])


def appended_conditionally(x):
    out = []
    for i in range(len(x)):
        if x[i] > 0:
            out.append(np.sin(x[i]) * x[i])
    return np.sum(np.array(out) ** 2) + sum(out) * len(out)


def filtered_comprehension(x):
    return np.sum(np.array([np.exp(v) * v for v in x if v > -0.5]) ** 2)


def appended_until_break(x):
    out = [x[0]]
    for i in range(1, len(x)):
        if x[i] > 1.0:
            break
        out.append(x[i] * x[i - 1])
        if x[i] < 0:
            out.append(np.cos(x[i]))
    return np.sum(np.array(out) ** 3)


# ---- iteration ---------------------------------------------------------------------
def for_over_array(x):
    s = 0.0
    for a in x:
        s = s * 0.5 + np.sin(a)
    return s


def for_over_rows(A):
    s = 0.0
    for row in A:
        s += np.sum(row ** 2) * row[0]
    return s


def for_over_tuple(x):
    s = 0.0
    for w in (1.0, x[0], x[1] ** 2):
        s += w * x[2]
    return s


def enumerate_loop(x):
    s = 0.0
    for i, a in enumerate(x):
        s += (i + 1) * a ** 2
    return s


def zip_loop(x):
    s = 0.0
    for a, b in zip(x[:-1], x[1:]):
        s += (b - a ** 2) ** 2
    return s


def reversed_loop(x):
    h = 0.0
    for a in reversed(x):
        h = np.tanh(h + a)
    return h


def negative_step(x):
    s = 0.0
    for i in range(len(x) - 1, -1, -2):
        s = s * x[i] + 1.0
    return s


def generator_reductions(x):
    total = sum(x[i] * x[i] for i in range(len(x)) if i != 1)
    flag = 1.0 if any(a > 10.0 for a in x) else 2.0
    return total * flag


def generator_max(x):
    return max(np.sin(a) for a in x) + min(a * a for a in x)


def builtin_sum_of_array(x):
    return sum(x * x) + sum(x)


# ---- functions -----------------------------------------------------------------------
def nested_def(x):
    def cube(t):
        return t * t * t
    return np.sum(cube(x)) + cube(x[0])


def closure_over_value(x):
    scale = np.sum(x)

    def scaled(t):
        return scale * np.sin(t)
    return np.sum(scaled(x))


def assigned_lambda(x):
    sq = lambda t: t * t
    return np.sum(sq(x) * x)


def defaults_and_keywords(x):
    def huber(t, delta=1.0):
        return np.where(np.abs(t) < delta, 0.5 * t * t, delta * (np.abs(t) - 0.5 * delta))
    return np.sum(huber(x)) + np.sum(huber(x, delta=0.5))


def star_args_call(x):
    def area(a, b):
        return a * b
    sides = (x[0], x[1] + x[2])
    return area(*sides)


def helper_returning_tuple(x):
    def moments(v):
        return np.mean(v), np.mean(v * v)
    m1, m2 = moments(x)
    return m2 - m1 * m1


# ---- recursion to a depth fixed when the derivative is built --------------------------
def power_tower(x, n):
    if n == 0:
        return x
    return math.sin(power_tower(x, n - 1)) * x


def tree_sum(x, lo, hi):
    if hi - lo == 1:
        return x[lo] ** 2
    mid = (lo + hi) // 2
    return tree_sum(x, lo, mid) + tree_sum(x, mid, hi)


def even_part(x, n):
    if n == 0:
        return x
    return x * odd_part(x, n - 1) + 1.0


def odd_part(x, n):
    return np.cos(even_part(x, n - 1)) if n > 0 else x * x


def tree_of_squares(x):
    return tree_sum(np.sin(x) * x[0], 0, 8)


def mutual_recursion(x):
    return even_part(x[0] * x[1], 4) + x[2] * x[3]


def nested_recursion(x):
    def horner(t, k, scale=1.0):
        return scale if k == 0 else scale + t * horner(t, k - 1, scale) / k
    return horner(x[0], 4, scale=x[1]) * x[2] + x[3]


# ---- constants and statements --------------------------------------------------------
def module_constants(x):
    s = 0.0
    for i in range(len(x)):
        s += COEFFS[i] * x[i] + WEIGHTS[i] * x[i] ** 2 + SHIFTS[i]
    return s * SCALE * math.pi


def function_attribute(x):
    return np.sum(function_attribute.gain * x ** 2)


function_attribute.gain = np.array([1.0, 2.0, 3.0, 4.0])


def statements(x):
    """A docstring."""
    global SCALE
    assert x.shape[0] > 0, f"empty input of shape {x.shape}"
    y: float = np.sum(x ** 2) * SCALE
    tmp = 2.0 * y
    del tmp
    if y > 1e300:
        print(f"overflow at {y}")
    pass
    return y


def import_inside(x):
    from numpy import sin as s
    import math as m
    return np.sum(s(x)) * m.e


def dict_literal(x):
    params = {"w": x[:2], "b": x[2]}
    s = 0.0
    for name, value in params.items():
        s += np.sum(value ** 2)
    return s + params["b"] * params.get("scale", 2.0)


VECTOR_CASES = [comprehension_array, nested_comprehension, stack_of_comprehension, list_literal, appended_then_array,
                appended_states, sum_of_list, appended_conditionally, filtered_comprehension, appended_until_break,
                for_over_array, for_over_tuple, enumerate_loop, zip_loop, reversed_loop,
                negative_step, generator_reductions, builtin_sum_of_array, nested_def, closure_over_value,
                assigned_lambda, star_args_call, helper_returning_tuple, module_constants, function_attribute,
                statements, import_inside, dict_literal]
NOT_SMOOTH_FOR_COMPLEX = [generator_max, defaults_and_keywords]     # comparisons: central differences
X = np.array([0.3, -0.7, 1.1, 0.45])
X8 = np.linspace(-0.8, 1.3, 8)
A = np.array([[0.2, -0.4, 0.9], [1.3, 0.5, -0.6]])


def complex_step_gradient(f, x, h=1e-30):
    g = np.empty(x.size)
    for k in range(x.size):
        xc = x.astype(complex).ravel()
        xc[k] += 1j * h
        g[k] = np.imag(f(xc.reshape(x.shape))) / h
    return g.reshape(x.shape)


def central_gradient(f, x, h=1e-6):
    g = np.empty(x.size)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = h
        g[k] = (f(x + e.reshape(x.shape)) - f(x - e.reshape(x.shape))) / (2 * h)
    return g.reshape(x.shape)


def hessian_oracle(gradient, x, h=1e-4):
    n = x.size
    H = np.empty((n, n))
    for k in range(n):
        e = np.zeros(n)
        e[k] = h
        H[:, k] = ((gradient(x + e.reshape(x.shape)) - gradient(x - e.reshape(x.shape))) / (2 * h)).ravel()
    return H.reshape(x.shape + x.shape)


@pytest.fixture(scope="module")
def transforms():
    """Each transform built once (numba compiles are slow)."""
    built = {}

    def get(kind, f, **options):
        key = (kind, f, tuple(sorted(options.items())))
        if key not in built:
            built[key] = getattr(sd, kind)(f, **options)
        return built[key]
    return get


CASES = [(f, X, "cs") for f in VECTOR_CASES] + [(f, X, "cd") for f in NOT_SMOOTH_FOR_COMPLEX] + [(for_over_rows, A, "cs")]


@pytest.mark.parametrize("f, x, oracle", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient_both_modes_compiled_and_not(transforms, f, x, oracle):
    want = complex_step_gradient(f, x) if oracle == "cs" else central_gradient(f, x)
    rel = 1e-12 if oracle == "cs" else 1e-7
    for mode in ("reverse", "forward"):
        for jit in (True, False):
            got = transforms("grad", f, mode=mode, jit=jit)(x)
            np.testing.assert_allclose(got, want, rtol=rel, atol=rel, err_msg=f"{f.__name__} {mode} jit={jit}")
    value, gradient = transforms("value_and_grad", f)(x)
    assert value == pytest.approx(f(x), rel=1e-13)
    np.testing.assert_allclose(gradient, want, rtol=rel, atol=rel)


@pytest.mark.parametrize("f, x, oracle", CASES, ids=[c[0].__name__ for c in CASES])
def test_hessian(transforms, f, x, oracle):
    gradient = (lambda v: complex_step_gradient(f, v)) if oracle == "cs" else (lambda v: central_gradient(f, v, 1e-5))
    want = hessian_oracle(gradient, x, 1e-4 if oracle == "cs" else 1e-3)
    got = transforms("hessian", f)(x)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 if oracle == "cs" else 1e-4)


def test_vjp_and_jvp_of_a_comprehension():
    def squares(x):
        return np.array([x[i] ** 2 * x[-1] for i in range(len(x))])
    J = np.diag(2 * X * X[-1])
    J[:, -1] += X ** 2
    value, vjp_fn = sd.vjp(squares, X)
    u = np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(value, X ** 2 * X[-1], rtol=1e-15)
    np.testing.assert_allclose(vjp_fn(u)[0], u @ J, rtol=1e-13)
    np.testing.assert_allclose(sd.jvp(squares, (X,), (u,))[1], J @ u, rtol=1e-13)
    np.testing.assert_allclose(sd.jacobian(squares, mode="reverse")(X), J, rtol=1e-13)


LISTS_OF_NUMBERS = [comprehension_array, appended_then_array, appended_states, appended_conditionally,
                    filtered_comprehension]


@pytest.mark.parametrize("f", LISTS_OF_NUMBERS, ids=[f.__name__ for f in LISTS_OF_NUMBERS])
def test_lists_of_no_items(transforms, f):
    """A loop of no iteration makes an empty list, as in Python: an empty array, sum 0."""
    empty = np.zeros(0)
    assert f(empty) == 0.0
    for mode in ("reverse", "forward"):
        for jit in (True, False):
            value, gradient = transforms("value_and_grad", f, mode=mode, jit=jit)(empty)
            assert value == 0.0 and gradient.shape == (0,), f"{f.__name__} {mode} jit={jit}"


def test_a_filter_passing_nothing(transforms):
    negative = -np.abs(X) - 1.0            # every item filtered out: the derivative of 0
    for mode in ("reverse", "forward"):
        for jit in (True, False):
            np.testing.assert_array_equal(transforms("grad", filtered_comprehension, mode=mode, jit=jit)(negative),
                                          np.zeros(X.size))
    np.testing.assert_array_equal(transforms("hessian", appended_conditionally)(negative), np.zeros((X.size, X.size)))


@pytest.mark.parametrize("f, x", [(mutual_recursion, X), (nested_recursion, X), (tree_of_squares, X8)],
                         ids=["mutual", "nested", "tree"])
def test_recursion_unrolled_at_constant_arguments(transforms, f, x):
    """Each copy is a unit of its own: compiled in reverse mode once, the other entry points without jit."""
    want = complex_step_gradient(f, x)
    np.testing.assert_allclose(transforms("grad", f)(x), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(transforms("grad", f, mode="forward", jit=False)(x), want, rtol=1e-12, atol=1e-12)
    value, tangent = sd.jvp(f, (x,), (x[::-1],), jit=False)
    assert value == pytest.approx(f(x), rel=1e-14)
    assert tangent == pytest.approx(want @ x[::-1], rel=1e-12)
    want_hessian = hessian_oracle(lambda v: complex_step_gradient(f, v), x)
    np.testing.assert_allclose(transforms("hessian", f, jit=False)(x), want_hessian, rtol=1e-6, atol=1e-6)


def tower_of_four(x):
    return power_tower(x, 4)


def power_tower_and_derivative(x, n):
    """p_0 = x, p_k = sin(p_(k-1)) x and its derivative by the chain rule, as a loop."""
    p, dp = x, 1.0
    for _ in range(n):
        p, dp = math.sin(p) * x, math.cos(p) * dp * x + math.sin(p)
    return p, dp


@pytest.mark.parametrize("jit", [True, False])
def test_recursion_at_constant_depth_against_closed_form(jit):
    x, h = 0.7, 1e-5
    p, dp = power_tower_and_derivative(x, 4)
    second = (power_tower_and_derivative(x + h, 4)[1] - power_tower_and_derivative(x - h, 4)[1]) / (2 * h)
    assert sd.derivative(tower_of_four, jit=jit)(x) == pytest.approx(dp, rel=1e-13)
    assert sd.grad(tower_of_four, jit=jit)(x) == pytest.approx(dp, rel=1e-13)
    value, tangent = sd.jvp(tower_of_four, (x,), (2.0,), jit=jit)
    assert (value, tangent) == pytest.approx((p, 2.0 * dp), rel=1e-13)
    value, vjp_fn = sd.vjp(tower_of_four, x, jit=jit)
    assert (value, vjp_fn(-1.5)[0]) == pytest.approx((p, -1.5 * dp), rel=1e-13)
    assert sd.hessian(tower_of_four, jit=jit)(x) == pytest.approx(second, rel=1e-8)


def chebyshev(x, n):
    if n == 0:
        return 1.0
    if n == 1:
        return x
    return 2.0 * x * chebyshev(x, n - 1) - chebyshev(x, n - 2)


def chebyshev_8(x):
    return chebyshev(x, 8)


@pytest.mark.parametrize("jit", [True, False])
def test_overlapping_recursion_against_closed_form(jit):
    """Each level calls two below (copies shared, never inlined twice): T_8(cos t) = cos(8 t)."""
    x, n = 0.3, 8
    t = math.acos(x)
    value, first = math.cos(n * t), n * math.sin(n * t) / math.sin(t)
    second = (x * first - n * n * value) / (1 - x * x)       # Chebyshev's differential equation
    assert sd.value_and_grad(chebyshev_8, jit=jit)(x) == pytest.approx((value, first), rel=1e-12)
    assert sd.hessian(chebyshev_8, jit=jit)(x) == pytest.approx(second, rel=1e-11)


# ---- parameter structures ------------------------------------------------------------
Layer = namedtuple("Layer", "w b")


@dataclass
class Affine:
    w: np.ndarray
    b: float


def dict_loss(p, X):
    return np.sum(np.tanh(X @ p["w"] + p["b"]) ** 2)


def tuple_loss(p, X):
    w, b = p
    return np.sum(np.tanh(X @ w + b) ** 2)


def layers_loss(layers, X):
    h = X
    for w, b in layers:
        h = np.tanh(h @ w + b)
    return np.sum(h ** 2)


def namedtuple_loss(p, X):
    return np.sum(np.tanh(X @ p.w + p.b) ** 2) + p[1] ** 2


def dataclass_loss(p, X):
    return np.sum(np.tanh(X @ p.w + p.b) ** 2)


def nested_dict_loss(p, X):
    s = 0.0
    for name, layer in p.items():
        s += np.sum(np.tanh(X @ layer["w"] + layer["b"]) ** 2)
    return s


def cell(p, h, x):
    return np.tanh(p["w"] * h + x + p["b"])


def readout(weights, h):
    w, b = weights
    return np.sum(w * h) + b


def structure_to_helpers(p, X):
    h = np.zeros(3)
    s = 0.0
    for x in X:
        h = cell(p, h, x)
        s += readout((p["w"], 0.5), h) ** 2
    return s


RNG = np.random.default_rng(3)
DATA = RNG.normal(size=(5, 3))
W = RNG.normal(size=3)
M = RNG.normal(size=(3, 3)) * 0.5
STRUCTURES = [
    (dict_loss, {"w": W, "b": 0.3}),
    (tuple_loss, (W, 0.3)),
    (layers_loss, [(M, np.full(3, 0.1)), (M.T, np.zeros(3))]),
    (namedtuple_loss, Layer(W, 0.3)),
    (dataclass_loss, Affine(W, 0.3)),
    (nested_dict_loss, {"a": {"w": W, "b": 0.2}, "c": {"w": -W, "b": 0.1}}),
    (structure_to_helpers, {"w": W, "b": 0.3}),
]


def _leaves(p):
    if isinstance(p, dict):
        return [leaf for v in p.values() for leaf in _leaves(v)]
    if isinstance(p, (tuple, list)):
        return [leaf for v in p for leaf in _leaves(v)]
    if isinstance(p, Affine):
        return [p.w, p.b]
    return [p]


def _rebuilt(p, leaves):
    if isinstance(p, dict):
        return {k: _rebuilt(v, leaves) for k, v in p.items()}
    if isinstance(p, Layer):
        return Layer(*(_rebuilt(v, leaves) for v in p))
    if isinstance(p, tuple):
        return tuple(_rebuilt(v, leaves) for v in p)
    if isinstance(p, list):
        return [_rebuilt(v, leaves) for v in p]
    if isinstance(p, Affine):
        return Affine(_rebuilt(p.w, leaves), _rebuilt(p.b, leaves))
    return leaves.pop(0)


def _flat_oracle(f, p):
    """Complex-step gradient in every leaf, as a flat vector."""
    sizes = [np.size(leaf) for leaf in _leaves(p)]
    flat = np.concatenate([np.ravel(leaf) for leaf in _leaves(p)]).astype(float)

    def of_vector(v):
        parts, start = [], 0
        for leaf, size in zip(_leaves(p), sizes):
            part = v[start:start + size]
            parts.append(part.reshape(np.shape(leaf)) if np.ndim(leaf) else part[0])
            start += size
        return f(_rebuilt(p, parts), DATA)
    return complex_step_gradient(of_vector, flat), of_vector, flat


@pytest.mark.parametrize("f, p", STRUCTURES, ids=[s[0].__name__ for s in STRUCTURES])
def test_structured_parameters(transforms, f, p):
    want, of_vector, flat = _flat_oracle(f, p)
    for mode in ("reverse", "forward"):
        for jit in (True, False):
            got = transforms("grad", f, mode=mode, jit=jit)(p, DATA)
            assert type(got) is type(p)
            leaves = np.concatenate([np.ravel(leaf) for leaf in _leaves(got)])
            np.testing.assert_allclose(leaves, want, rtol=1e-12, atol=1e-12, err_msg=f"{mode} jit={jit}")
    value, vjp_fn = sd.vjp(f, p, DATA)
    assert value == pytest.approx(f(p, DATA), rel=1e-14)
    cotangent = vjp_fn(1.0)[0]
    np.testing.assert_allclose(np.concatenate([np.ravel(v) for v in _leaves(cotangent)]), want, rtol=1e-12)
    direction = _rebuilt(p, [np.ones(np.shape(leaf)) if np.ndim(leaf) else 1.0 for leaf in _leaves(p)])
    _, derivative = sd.jvp(f, (p, DATA), (direction, np.zeros_like(DATA)))
    assert derivative == pytest.approx(np.sum(want), rel=1e-12)


def test_hessian_of_a_dict_parameter(transforms):
    p = {"w": W, "b": 0.3}
    _, of_vector, flat = _flat_oracle(dict_loss, p)
    want = hessian_oracle(lambda v: complex_step_gradient(of_vector, v), flat)
    H = transforms("hessian", dict_loss)(p, DATA)
    assert set(H) == {"w", "b"} and set(H["w"]) == {"w", "b"}
    np.testing.assert_allclose(H["w"]["w"], want[:3, :3], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H["w"]["b"], want[:3, 3], rtol=1e-6, atol=1e-8)
    assert H["b"]["b"] == pytest.approx(want[3, 3], rel=1e-6)


# ---- structured results ----------------------------------------------------------------
def summary(x):
    m = np.mean(x)
    return {"mean": m, "spread": [np.sum((x - m) ** 2), np.sin(x[0])]}


@pytest.mark.parametrize("jit", [True, False])
def test_a_returned_dict_in_vjp_and_jvp(jit):
    u = np.array([1.0, -2.0, 0.5, 3.0])
    value, tangent = sd.jvp(summary, (X,), (u,), jit=jit)
    m = np.mean(X)
    assert value["mean"] == pytest.approx(m, rel=1e-15)
    assert tangent["mean"] == pytest.approx(np.mean(u), rel=1e-14)
    assert tangent["spread"][0] == pytest.approx(np.sum(2 * (X - m) * (u - np.mean(u))), rel=1e-13)
    assert tangent["spread"][1] == pytest.approx(np.cos(X[0]) * u[0], rel=1e-14)
    value, vjp_fn = sd.vjp(summary, X, jit=jit)
    assert value["spread"][1] == pytest.approx(np.sin(X[0]), rel=1e-15)
    (cotangent,) = vjp_fn({"mean": 2.0, "spread": [1.0, -1.0]})
    want = 2.0 / len(X) + 2 * (X - m)
    want[0] -= np.cos(X[0])
    np.testing.assert_allclose(cotangent, want, rtol=1e-13)
    with pytest.raises(sd.S2SDiffError, match="returns a dict; use sd.jacobian or sd.vjp"):
        sd.grad(summary)(X)


class Moments(NamedTuple):
    mean: float
    centred: np.ndarray


@dataclass
class Fit:
    residual: np.ndarray
    loss: float
    scale: float = 2.0


def named_result(x):
    m = np.mean(x)
    return Moments(m, (x - m) ** 2)                  # by position


def dataclass_result(x):
    r = np.sin(x) * x[0]
    return Fit(loss=np.sum(r * r), residual=r)       # by name, `scale` its default


def list_result(x):
    return [np.exp(x[1]) * x, x[0] * x[2]]


def fields_read(x):
    p = Moments(np.sum(x), x * x)
    return p.mean * np.sum(p.centred) + p[0]


def _result_leaves(value):
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _result_leaves(v)]
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _result_leaves(v)]
    if isinstance(value, Fit):
        return [*_result_leaves(value.residual), value.loss, value.scale]
    return [value]


def _leaf_jacobians(f, x, h=1e-30):
    """Complex step: each leaf of f's result differentiated, shape leaf.shape + x.shape."""
    columns = []
    for k in range(x.size):
        xc = x.astype(complex)
        xc[k] += 1j * h
        columns.append([np.imag(leaf) / h for leaf in _result_leaves(f(xc))])
    return [np.moveaxis(np.array(parts), 0, -1) for parts in zip(*columns)]


STRUCTURED_RESULTS = [summary, named_result, dataclass_result, list_result]


@pytest.mark.parametrize("f", STRUCTURED_RESULTS, ids=[f.__name__ for f in STRUCTURED_RESULTS])
def test_the_jacobian_of_a_structured_result_has_its_structure(transforms, f):
    want = _leaf_jacobians(f, X)
    for mode in ("forward", "reverse"):
        for jit in (True, False):
            got = transforms("jacobian", f, mode=mode, jit=jit)(X)
            assert type(got) is type(f(X)), f"{mode} jit={jit}"
            for J, oracle in zip(_result_leaves(got), want, strict=True):
                np.testing.assert_allclose(J, oracle, rtol=1e-13, atol=1e-15, err_msg=f"{mode} jit={jit}")


@pytest.mark.parametrize("jit", [True, False])
def test_jvp_and_vjp_of_a_namedtuple_and_a_dataclass(jit):
    u = np.array([1.0, -2.0, 0.5, 3.0])
    for f in (named_result, dataclass_result):
        J = _leaf_jacobians(f, X)
        value, tangent = sd.jvp(f, (X,), (u,), jit=jit)
        assert type(value) is type(tangent) is type(f(X))
        np.testing.assert_allclose(np.hstack(_result_leaves(value)), np.hstack(_result_leaves(f(X))), rtol=1e-15)
        for got, oracle in zip(_result_leaves(tangent), J, strict=True):
            np.testing.assert_allclose(got, oracle @ u, rtol=1e-13, atol=1e-15)
        value, vjp_fn = sd.vjp(f, X, jit=jit)
        cotangent = (Moments(2.0, np.arange(4.0)) if f is named_result
                     else Fit(residual=np.arange(4.0), loss=-1.5, scale=3.0))
        (got,) = vjp_fn(cotangent)
        want = sum(np.tensordot(w, oracle, axes=np.ndim(w)) for w, oracle in zip(_result_leaves(cotangent), J))
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_fields_read_of_a_namedtuple_built_in_the_function(transforms):
    for mode in ("reverse", "forward"):
        got = transforms("grad", fields_read, mode=mode)(X)
        np.testing.assert_allclose(got, complex_step_gradient(fields_read, X), rtol=1e-13)


def results_in_a_parameters_structure(p, x):
    return Moments(mean=np.sum(p.w * x) + p.b, centred=x * p.b)


def test_the_jacobian_nests_the_parameters_structure_in_the_results():
    p = Layer(W, 0.3)
    J = sd.jacobian(results_in_a_parameters_structure, wrt=(0, 1), mode="reverse")(p, W)
    assert type(J) is Moments and type(J.mean[0]) is Layer       # output outermost, as JAX's jacrev
    np.testing.assert_allclose(J.mean[0].w, W, rtol=1e-15)
    assert J.mean[0].b == 1.0
    np.testing.assert_allclose(J.mean[1], W, rtol=1e-15)
    np.testing.assert_allclose(J.centred[0].w, np.zeros((3, 3)), atol=0)
    np.testing.assert_allclose(J.centred[0].b, W, rtol=1e-15)
    np.testing.assert_allclose(J.centred[1], 0.3 * np.eye(3), rtol=1e-15)


def test_check_verifies_a_structured_result():
    u = np.array([1.0, -2.0, 0.5, 3.0])
    for f in (summary, dataclass_result):
        sd.jacobian(f, mode="reverse", check=True)(X)
        sd.jvp(f, (X,), (u,), check=True)
        _, vjp_fn = sd.vjp(f, X, check=True)
        vjp_fn(f(X))


def wrong_twice(x):
    return {"a": x * 2.0, "b": np.sum(x)}


def test_check_catches_a_wrong_vjp_of_a_structured_result(monkeypatch):
    _, vjp_fn = sd.vjp(wrong_twice, X, check=True)
    # the differences the check takes now see another function: the cotangent's first call must fail
    monkeypatch.setattr(wrong_twice, "__code__", (lambda x: {"a": x * 3.0, "b": np.sum(x)}).__code__)
    with pytest.raises(sd.DerivativeMismatch):
        vjp_fn({"a": np.ones(4), "b": 1.0})


def curve(t):
    return {"position": np.array([np.cos(t), np.sin(t)]) * t, "speed": [t * t]}


@pytest.mark.parametrize("jit", [True, False])
def test_the_derivative_of_a_structured_result_has_its_structure(jit):
    t, h = 0.7, 1e-30
    for order in (1, 2):
        got = sd.derivative(curve, order, jit=jit)(t)
        first = {"position": np.array([np.cos(t) - t * np.sin(t), np.sin(t) + t * np.cos(t)]), "speed": [2 * t]}
        second = {"position": np.array([-2 * np.sin(t) - t * np.cos(t), 2 * np.cos(t) - t * np.sin(t)]),
                  "speed": [2.0]}
        want = first if order == 1 else second
        assert set(got) == {"position", "speed"} and type(got["speed"]) is list
        np.testing.assert_allclose(got["position"], want["position"], rtol=1e-14)
        assert got["speed"][0] == pytest.approx(want["speed"][0], rel=1e-14)
    assert sd.derivative(curve)(t)["speed"][0] == pytest.approx(np.imag(curve(t + 1j * h)["speed"][0]) / h)


def pair_of_arrays(x):
    return np.sin(x), x * x[0]


def test_reverse_jacobian_of_a_tuple_of_arrays_sweeps_each_element():
    # a seed of 1.0 for an array output would have summed the Jacobian's rows
    want = np.array(_leaf_jacobians(pair_of_arrays, X))
    np.testing.assert_allclose(sd.jacobian(pair_of_arrays, mode="reverse")(X), want, rtol=1e-14, atol=1e-15)


@dataclass
class Checked:
    value: float

    def __post_init__(self):
        self.value = abs(self.value)


def builds_a_checked_dataclass(x):
    return Checked(x[0]).value * x[1]


def test_a_dataclass_with_post_init_is_refused_naming_the_line():
    with pytest.raises(sd.UnsupportedError, match="does more than set its fields") as info:
        sd.grad(builds_a_checked_dataclass)(X)
    assert "test_python_constructs.py" in str(info.value)


def test_grad_refuses_a_structured_result():
    for f, what in ((named_result, r"a namedtuple \(Moments\)"), (dataclass_result, r"a dataclass \(Fit\)")):
        with pytest.raises(sd.S2SDiffError, match=f"returns {what}; use sd.jacobian or sd.vjp"):
            sd.grad(f)(X)


# ---- refused, naming the line --------------------------------------------------------
def appends_in_a_while_loop(x):
    out = []
    k = 0
    while k < len(x):
        out.append(x[k] ** 2)
        k += 2
    return np.sum(np.array(out))


def list_arithmetic(x):
    return np.sum(np.array([x[0], 1.0] * 2))


def reads_a_helpers_dict(x):
    d = summary(x)
    return d["mean"]


def reads_a_helpers_tuple_whole(x):
    pair = helper_pair(x)
    return pair[0]


def helper_pair(x):
    return x[0], x[1]


@pytest.mark.parametrize("f, fragment", [
    (appends_in_a_while_loop, r"write a for loop over range\(most_iterations\) that breaks"),
    (list_arithmetic, "arithmetic on a list is Python's"),
    (reads_a_helpers_dict, "summary returns a dict"),
    (reads_a_helpers_tuple_whole, r"helper_pair returns 2 values: unpack them \(a, b = helper_pair"),
])
def test_refused_by_name(f, fragment):
    with pytest.raises(sd.UnsupportedError, match=fragment) as info:
        sd.grad(f)(X)
    assert "test_python_constructs.py" in str(info.value)


def tower_at_runtime_depth(x, n):
    return power_tower(x[0], n) * x[1]


def halve(x):
    if x < 1.0:
        return x
    return halve(x / 2.0) * 2.0


def halving(x):
    return halve(np.sum(x * x))


def tower_without_base_case(x):
    return power_tower(x[0], -1)


def scaled_halve(x, k):
    if x < 1.0:
        return x * k
    return scaled_halve(x / 2.0, k)


def halving_at_constant_scale(x):
    return scaled_halve(np.sum(x * x), 3)


def too_wide(x):
    return tree_sum(x, 0, 256)          # refused before it would read past x


RUNTIME_DEPTH = "power_tower calls itself \\(directly or through other functions\\) with arguments not all constants"


@pytest.mark.parametrize("f, args, fragment, line", [
    (power_tower, (0.7, 3), RUNTIME_DEPTH, "return math.sin(power_tower(x, n - 1)) * x"),
    (tower_at_runtime_depth, (X, 3), RUNTIME_DEPTH, "return math.sin(power_tower(x, n - 1)) * x"),
    (halving, (X,), "halve calls itself", "return halve(x / 2.0) * 2.0"),
    (tower_without_base_case, (X,), "the recursion of power_tower is deeper than 32 calls",
     "return math.sin(power_tower(x, n - 1)) * x"),
    (halving_at_constant_scale, (X,), r"scaled_halve calls itself again with the same constant arguments \(k=3\)",
     "return scaled_halve(x / 2.0, k)"),
    (too_wide, (X,), "the recursion of tree_sum unrolls into more than 256 specialized calls",
     "return tree_sum(x, lo, mid) + tree_sum(x, mid, hi)"),
])
def test_recursion_without_a_constant_depth_is_refused_naming_the_line(f, args, fragment, line):
    with pytest.raises(sd.UnsupportedError, match=fragment) as info:
        sd.grad(f)(*args)
    message = str(info.value)
    assert "test_python_constructs.py" in message and line in message and "^" in message
    assert "write a loop" in message
