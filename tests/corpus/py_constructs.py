"""Python as people write it around their numbers: lists and comprehensions, iteration over
arrays, lists, tuples, enumerate, zip and reversed, generator expressions in builtins,
nested functions, closures and lambdas, keyword and default arguments, parameters packed
into tuples, dicts, NamedTuples and dataclasses, module-level constants, and the odd
assert, del, pass, annotation and docstring — the constructs the test suites of autograd,
JAX, Tangent and PyTorch's gradcheck differentiate through, written here afresh.

Every differentiated argument is a number or a float array. Functions whose differentiated
argument is itself a structure (a tuple, dict, NamedTuple or dataclass of arrays) are at the
end, in STRUCTURED_PARAMETERS, which the harness does not run: its oracle perturbs float
and float-array arguments only, and treats any other argument as a constant."""
import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from corpus import case, mat, positive, vec

COEFFS = (0.5, -1.25, 0.75, 0.2)
WEIGHT_LIST = [1.0, 0.5, 0.25, 0.125, 0.0625]
KERNEL3 = np.array([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])
GAUSS3 = ((-0.7745966692414834, 5.0 / 9.0), (0.0, 8.0 / 9.0), (0.7745966692414834, 5.0 / 9.0))
PHYS = {"g": 9.81, "drag": 0.1, "mass": 2.0}
N_TERMS = 4
SCALE = 1.5
EPS = 1e-8


class Config(NamedTuple):
    rate: float
    steps: int
    decay: float


CFG = Config(rate=0.2, steps=3, decay=0.9)


class Affine(NamedTuple):
    w: np.ndarray
    b: float


@dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray


@dataclass
class Quadratic:
    center: np.ndarray
    curvature: float


def _softplus(v):
    return np.log1p(np.exp(v))


def _poly(t, a=1.0, b=0.5, c=0.0):
    return a * t + b * t * t + c


def _huber(r, *, delta=1.0):
    if r * r <= delta * delta:
        return 0.5 * r * r
    return delta * (math.sqrt(r * r) - 0.5 * delta)


def _moments(v):
    return np.sum(v), np.sum(v * v)


def _split_halves(v):
    n = len(v) // 2
    return v[:n], v[n:]


def _apply(fn, v):
    return fn(v)


def _total(*values):
    s = 0.0
    for v in values:
        s += v
    return s


def _annotated_norm(v: np.ndarray, power: float = 2.0) -> float:
    """The p-th power sum of v's entries."""
    return np.sum(v**power)


_cube = lambda t: t * t * t  # noqa: E731 — a module-level lambda, as people write them


def _scaled_sum(v):
    return _scaled_sum.scale * np.sum(v)


_scaled_sum.scale = 2.5


def _weighted_tail(v):
    return np.sum(v[1:] * _weighted_tail.weights[: len(v) - 1])


_weighted_tail.weights = np.array([1.0, -0.5, 0.25, -0.125])


# ---- lists and comprehensions -----------------------------------------------------------

@case(vec(5), tags=("list-comprehension", "range", "builtin-sum", "math"))
def comp_sine_sum(x):
    return sum([math.sin(x[i]) for i in range(len(x))])


@case(vec(4), tags=("list-comprehension", "np.array", "array-output"))
def comp_array_of_squares(x):
    return np.array([x[i] ** 2 + x[i] for i in range(len(x))])


@case(vec(4), tags=("list-comprehension", "np.asarray", "dot"))
def comp_asarray_ramp(x):
    ramp = np.asarray([(i + 1.0) * x[i] for i in range(len(x))])
    return np.dot(ramp, x)


@case(vec(3), tags=("nested-comprehension", "np.array", "2d"))
def comp_nested_outer(x):
    n = len(x)
    M = np.array([[x[i] * x[j] + (i == j) for j in range(n)] for i in range(n)])
    return np.sum(M @ M)


@case(mat(3, 4), tags=("list-comprehension", "np.stack", "rows", "array-output"))
def comp_stack_scaled_rows(A):
    return np.stack([A[i] * np.sum(A[i]) for i in range(A.shape[0])])


@case(vec(4), tags=("list-comprehension", "np.stack", "axis1"))
def comp_stack_powers_columns(x):
    V = np.stack([x**k for k in range(3)], axis=1)
    return np.sum(V.T @ V)


@case(1.3, tags=("list-literal", "constants", "list-index"))
def list_literal_coefficients(x):
    c = [1.0, -0.5, 0.25]
    return c[0] * x + c[1] * x**2 + c[2] * x**3


@case(vec(4, lo=0.5, hi=1.5), tags=("list-literal", "computed", "list-index"))
def list_literal_of_reductions(x):
    parts = [np.sum(x), np.prod(x), np.max(x)]
    return parts[0] * parts[1] + parts[2] ** 2


@case(vec(5), tags=("list-append", "np.array", "array-output"))
def append_then_array(x):
    out = []
    for i in range(len(x)):
        out.append(math.exp(-x[i]) * (i + 1))
    return np.array(out)


@case(mat(3, 2), tags=("list-append", "np.vstack", "rows"),
      expect="refused:other: np.vstack needs its arrays as a tuple or list written in the call")
def append_rows_vstack(A):
    rows = []
    for i in range(A.shape[0]):
        rows.append(np.tanh(A[i]) * (i + 1))
    B = np.vstack(rows)
    return np.sum(B * A)


@case(vec(4), tags=("list-literal", "negative-index"))
def list_negative_index(x):
    vals = [x[0], x[1] * x[2], x[-1]]
    return vals[-1] * vals[0] + vals[1] ** 2


@case(vec(4), tags=("list-comprehension", "builtin-sum", "start-value"))
def sum_with_start(x):
    return sum([v * v for v in x], 1.0) ** 0.5


@case(vec(6), tags=("list-comprehension", "condition"))
def comp_with_filter(x):
    return sum([x[i] * x[i] * i for i in range(len(x)) if i % 2 == 0])


@case(vec(4), tags=("list-comprehension", "for-over-array", "math"))
def comp_over_elements_tanh(x):
    return np.array([math.tanh(v) for v in x])


@case(mat(3, 4), vec(4, seed=1), tags=("list-comprehension", "for-over-rows", "dot"))
def comp_row_dots(A, w):
    scores = np.array([np.dot(row, w) for row in A])
    return np.sum(scores**2)


@case(vec(4), vec(4, seed=1), tags=("list-comprehension", "zip", "builtin-sum"))
def comp_zip_dot(x, y):
    return sum([a * b for a, b in zip(x, y)])


@case(vec(5), tags=("nested-comprehension", "flat", "triangle"))
def comp_two_fors_triangle(x):
    return sum([x[i] * x[j] for i in range(len(x)) for j in range(i)])


@case(vec(4), tags=("list-repeat", "list-item-assign", "builtin-sum"),
      expect="refused:other: arithmetic on a list is Python's (+ joins, * repeats), not NumPy's: make it an array first (np.array([...]))")
def list_filled_by_index(x):
    acc = [0.0] * len(x)
    for i in range(len(x)):
        acc[i] = x[i] * x[(i + 1) % len(x)]
    return sum(acc)


@case(vec(3), tags=("list-of-arrays", "list-index"))
def list_of_array_terms(x):
    terms = [x, x**2, np.sin(x)]
    total = terms[0] + terms[1] - terms[2]
    return np.sum(total * total)


@case(vec(4), tags=("list-comprehension", "list-slice", "reverse"))
def comp_reversed_by_slice(x):
    ys = [x[i] * (i + 1) for i in range(len(x))][::-1]
    s = 0.0
    for k in range(len(ys)):
        s += ys[k] * x[k]
    return s


@case(vec(3, lo=0.5, hi=1.5), tags=("np.array", "list-of-lists", "2x2"))
def matrix_from_elements(x):
    M = np.array([[x[0], x[1]], [x[1], x[2]]])
    return M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]


@case(vec(2), tags=("np.array", "mixed-constant-list", "array-output"))
def array_with_constants(x):
    return np.array([x[0], 0.0, x[1], 1.0]) * np.array([1.0, 2.0, 3.0, 4.0]) + x[0] * x[1]


@case(vec(5), tags=("list-comprehension", "builtin-max"))
def max_of_comprehension(x):
    return max([x[i] * x[i + 1] for i in range(len(x) - 1)])


@case(vec(5), tags=("builtin-sum", "array"))
def builtin_sum_of_array(x):
    return sum(x * x) + sum(x)


@case(mat(3, 2), tags=("builtin-sum", "2d", "rows"))
def builtin_sum_of_matrix(A):
    col = sum(A)
    return np.dot(col, col)


@case(vec(4), tags=("list-call", "for-over-list"),
      expect="refused:other: constructing list objects is not supported")
def list_of_array(x):
    items = list(x)
    s = 0.0
    for v in items:
        s += v**4
    return s


@case(vec(3), tags=("tolist", "for-over-list"), expect="refused:method:.tolist()")
def tolist_loop(x):
    s = 1.0
    for v in x.tolist():
        s *= 1.0 + v * v
    return s


@case(vec(4), tags=("list-comprehension", "np.concatenate"))
def concatenate_comprehension(x):
    z = np.concatenate([x[i:i + 2] * (i + 1) for i in range(0, len(x), 2)])
    return np.sum(z * x)


@case(vec(4), tags=("list-comprehension", "helper-call"))
def comp_of_helper(x):
    return sum([_softplus(v) for v in x])


@case(vec(5), tags=("list-comprehension", "np.mean"))
def mean_of_list(x):
    return np.mean([math.cos(v) for v in x]) ** 2


@case(vec(4), tags=("list-comprehension", "np.sum", "generator-free"))
def np_sum_of_list(x):
    return np.sum([x[i] * COEFFS[i] for i in range(len(x))])


@case(vec(3), tags=("list-extend", "np.array"),
      expect="refused:list")
def list_extend(x):
    out = [x[0]]
    out.extend([x[1] * 2.0, x[2] * 3.0])
    out += [x[0] * x[2]]
    return np.sum(np.array(out) ** 2)


@case(vec(3), tags=("list-insert", "list-pop"),
      expect="refused:list")
def list_pop_front(x):
    stack = [x[0], x[1], x[2]]
    s = 0.0
    while stack:
        v = stack.pop()
        s = s * 0.5 + v * v
    return s


@case(vec(4), tags=("tuple-literal", "tuple-index"))
def tuple_of_values(x):
    t = (np.sum(x), np.sum(x**2), x[0])
    return t[0] * t[2] + t[1]


@case(vec(3), tags=("list-comprehension", "array-output", "2d"))
def comp_matrix_output(x):
    return np.array([[math.sin(x[i] + j) for j in range(2)] for i in range(len(x))])


@case(mat(2, 3), tags=("list-comprehension", "np.array", "columns", "transpose"))
def comp_over_columns(A):
    norms = np.array([np.sum(col * col) for col in A.T])
    return np.sum(np.sqrt(norms))


# ---- iteration --------------------------------------------------------------------------

@case(vec(5), tags=("for-over-array", "product"))
def loop_over_elements_product(x):
    p = 1.0
    for a in x:
        p *= 1.0 + a * a
    return p


@case(mat(3, 4), tags=("for-over-rows", "sqrt"))
def loop_over_rows_norms(A):
    s = 0.0
    for row in A:
        s += np.sqrt(np.dot(row, row))
    return s


@case(mat(3, 2), tags=("for-over-rows", "array-accumulator", "array-output"))
def loop_over_rows_accumulate(A):
    acc = np.zeros(A.shape[1])
    for row in A:
        acc = acc + row * row
    return acc


@case(0.7, tags=("for-over-list", "constants", "math"))
def loop_over_list_literal(x):
    s = 0.0
    for w in [0.5, 1.5, 2.5]:
        s += math.exp(-w * x) / w
    return s


@case(0.4, tags=("for-over-tuple", "int-constants"))
def loop_over_tuple_powers(x):
    s = 0.0
    for p in (1, 2, 3):
        s += x**p / p
    return s


@case(0.6, -0.3, tags=("for-over-tuple", "computed-values"))
def loop_over_computed_tuple(x, y):
    s = 0.0
    for v in (x, y, x * y):
        s += v * v
    return s


@case(vec(4), tags=("enumerate", "start-keyword"))
def enumerate_from_one(x):
    s = 0.0
    for k, v in enumerate(x, start=1):
        s += v**2 / k
    return s


@case(mat(3, 3), tags=("enumerate", "for-over-rows"))
def enumerate_rows(A):
    s = 0.0
    for i, row in enumerate(A):
        s += (i + 1) * np.sum(row**2)
    return s


@case(0.8, tags=("enumerate", "module-tuple", "polynomial"))
def enumerate_coefficients(x):
    s = 0.0
    for k, c in enumerate(COEFFS):
        s += c * x**k
    return s


@case(vec(3), vec(3, seed=1), vec(3, seed=2), tags=("zip", "three-arrays"))
def zip_three(x, y, z):
    s = 0.0
    for a, b, c in zip(x, y, z):
        s += a * b - b * c + c * a
    return s


@case(vec(5), tags=("zip", "slices", "total-variation"))
def zip_neighbour_slices(x):
    s = 0.0
    for a, b in zip(x[:-1], x[1:]):
        s += (b - a) ** 2
    return s


@case(vec(3), tags=("zip", "list-and-array"))
def zip_list_with_array(x):
    s = 0.0
    for w, v in zip([1.0, 2.0, 3.0], x):
        s += w * math.sin(v)
    return s


@case(vec(3), mat(4, 3, seed=1), vec(4, seed=2), wrt=0, tags=("zip", "rows-and-vector", "least-squares"))
def zip_rows_targets(w, X, y):
    s = 0.0
    for row, t in zip(X, y):
        r = row @ w - t
        s += r * r
    return s


@case(vec(4), 0.7, tags=("reversed", "horner", "for-over-array"))
def reversed_horner(c, t):
    acc = 0.0
    for a in reversed(c):
        acc = acc * t + a
    return acc


@case(vec(4), tags=("reversed", "list"))
def reversed_list(x):
    vals = [x[0], 2.0 * x[1], 3.0 * x[2], 4.0 * x[3]]
    h = 0.0
    for v in reversed(vals):
        h = math.tanh(h + v)
    return h


@case(vec(7), tags=("range", "negative-step", "step-two"))
def range_down_by_two(x):
    s = 0.0
    for i in range(len(x) - 1, 0, -2):
        s += x[i] * x[i - 1]
    return s


@case(vec(4), tags=("range", "negative-indices"))
def range_negative_indices(x):
    s = 0.0
    for i in range(-1, -len(x) - 1, -1):
        s += x[i] * i
    return s * s


@case(vec(5), tags=("generator-expression", "builtin-sum", "range"))
def gen_sum_neighbours(x):
    return sum(x[i] * x[i - 1] for i in range(1, len(x)))


@case(vec(5, away=0.1), tags=("generator-expression", "builtin-max"))
def gen_max_of_squares(x):
    return max(v * v for v in x)


@case(vec(5), tags=("generator-expression", "builtin-min"))
def gen_min_pair_sum(x):
    return min(x[i] + 2.0 * x[i + 1] for i in range(len(x) - 1))


@case(vec(4), tags=("generator-expression", "builtin-any", "branch"))
def gen_any_guard(x):
    if any(v > 2.0 for v in x):
        return 0.0
    return np.sum(np.exp(x))


@case(positive(4), tags=("generator-expression", "builtin-all", "branch", "log"))
def gen_all_guard(x):
    if all(v > 0 for v in x):
        return np.sum(np.log(x))
    return np.sum(x)


@case(mat(3, 2), tags=("generator-expression", "builtin-sum", "rows", "array-output"))
def gen_sum_of_rows(A):
    return sum(row * row for row in A)


@case(vec(5), tags=("builtin-max", "builtin-min", "array"))
def builtin_max_min_of_array(x):
    return max(x) - min(x) + np.sum(x) * 0.1


@case(mat(2, 3), tags=("for-over-rows", "for-over-elements", "nested"))
def nested_iteration_elements(A):
    s = 0.0
    for row in A:
        for v in row:
            s += v**3
    return s


@case(vec(6), tags=("for-over-slice", "step-slice"))
def loop_over_strided_slice(x):
    s = 0.0
    for v in x[::2]:
        s += math.cos(v)
    return s


@case(vec(4), tags=("zip", "reversed", "palindrome"))
def zip_with_reversed(x):
    s = 0.0
    for a, b in zip(x, reversed(x)):
        s += a * b
    return s


@case(vec(3), vec(3, seed=1), tags=("enumerate", "zip", "nested-target"))
def enumerate_zip(x, y):
    s = 0.0
    for i, (a, b) in enumerate(zip(x, y)):
        s += (i + 1) * a * b
    return s


@case(vec(4), tags=("map", "builtin-sum", "math"),
      expect="refused:other: constructing map objects is not supported")
def map_sine(x):
    return sum(map(math.sin, x))


@case(vec(4, lo=0.5, hi=1.5), tags=("functools.reduce", "lambda"),
      expect="refused:lambda")
def reduce_product(x):
    return functools.reduce(lambda a, b: a * b, x)


@case(vec(4), tags=("for-over-array", "break", "inf"))
def first_above_threshold(x):
    found = 0.0
    for v in x:
        if v > -np.inf:
            found = v * v
            break
    return found + np.sum(x)


@case(vec(5), tags=("for-over-array", "continue"))
def skip_negative_terms(x):
    s = 0.0
    for v in x:
        if v < 0:
            continue
        s += v**2
    return s + np.sum(x) * 0.5


@case(mat(3, 3), tags=("zip", "rows-of-two-matrices"))
def zip_rows_two_matrices(A):
    B = A @ A
    s = 0.0
    for a, b in zip(A, B):
        s += np.dot(a, b)
    return s


@case(vec(4), tags=("while", "list-index", "counter"))
def while_over_list(x):
    vals = [v * 2.0 for v in x]
    i = 0
    s = 0.0
    while i < len(vals):
        s += vals[i] ** 2
        i += 1
    return s


# ---- functions: nested def, closures, lambdas, keywords ---------------------------------

@case(vec(4), tags=("nested-def",))
def nested_def_square(x):
    def square(v):
        return v * v
    return np.sum(square(x) + square(x[0]))


@case(vec(4), 0.8, tags=("nested-def", "closure-over-parameter"))
def closure_over_parameter(x, a):
    def scaled(v):
        return a * v + a * a
    return np.sum(scaled(x) ** 2)


@case(vec(4), tags=("nested-def", "closure-over-local", "differentiated-capture"))
def closure_over_mean(x):
    m = np.mean(x)

    def centred(v):
        return v - m
    return np.sum(centred(x) ** 2)


@case(vec(4), tags=("nested-def", "closure", "list-comprehension"))
def closure_in_comprehension(x):
    shift = x[0]

    def f(v):
        return math.exp(v - shift)
    return sum([f(v) for v in x])


@case(1.1, tags=("lambda", "assigned"))
def lambda_assigned(x):
    f = lambda t: t**3 - 2.0 * t  # noqa: E731
    return f(x) + f(2.0 * x)


@case(vec(3), 0.5, tags=("lambda", "closure-over-parameter"))
def lambda_closure(x, a):
    g = lambda v: np.exp(a * v)  # noqa: E731
    return np.sum(g(x))


@case(0.7, tags=("lambda", "module-level"))
def module_lambda(x):
    return _cube(x) + _cube(1.0 - x)


@case(0.9, tags=("default-arguments", "helper"))
def defaults_used(x):
    return _poly(x) + _poly(x * x)


@case(0.9, 0.4, tags=("keyword-arguments", "helper"))
def keywords_at_call(x, y):
    return _poly(x, b=y) + _poly(t=y, a=x, c=1.0)


@case(vec(4, lo=-2.0, hi=2.0, away=0.2), tags=("keyword-only", "helper", "branch"),
      expect="refused:other: keyword-only parameters are not supported")
def keyword_only_huber(x):
    s = 0.0
    for i in range(len(x)):
        s += _huber(x[i], delta=0.8)
    return s


@case(vec(4), tags=("tuple-return", "helper", "unpack"))
def helper_tuple_unpack(x):
    s1, s2 = _moments(x)
    n = len(x)
    return s2 / n - (s1 / n) ** 2


@case(vec(6), tags=("tuple-return", "arrays", "helper"))
def helper_tuple_of_arrays(x):
    a, b = _split_halves(x)
    return np.dot(a, b) + np.sum(a**2)


@case(vec(3), tags=("nested-def", "calls-nested-def"))
def nested_defs_chain(x):
    def inner(v):
        return np.sin(v)

    def outer(v):
        return inner(v) * inner(2.0 * v)
    return np.sum(outer(x))


@case(vec(3), tags=("nested-def", "default-captures-loop-variable"),
      expect="refused:other: a nested function's default may not depend on the enclosing function's values")
def default_captures_loop(x):
    s = 0.0
    for k in range(3):
        def term(v, k=k):
            return v ** (k + 1)
        s += np.sum(term(x))
    return s


@case(vec(4), tags=("higher-order", "function-argument"),
      expect="refused:attribute:.sin")
def pass_function_to_helper(x):
    return np.sum(_apply(np.sin, x) * _apply(np.exp, x))


@case(vec(3), 1.2, tags=("nested-def", "factory", "closure"),
      expect="refused:other: calling the local value 'h' is not supported (s2sdiff calls only functions it can see at transform time)")
def closure_factory(x, s):
    def make(scale):
        def g(v):
            return scale * v * v
        return g
    h = make(s)
    return np.sum(h(x))


@case(0.3, 0.6, tags=("star-args", "helper"),
      expect="refused:other: the default of _total's parameter 'values' is not a number")
def star_args_helper(x, y):
    return _total(x, x * y, y**2)


@case(vec(4), tags=("annotations", "default-argument", "helper"))
def annotated_helper(x):
    return _annotated_norm(x) + _annotated_norm(x, power=4.0)


@case(vec(3), tags=("nonlocal", "nested-def"), expect="refused:nested-function-with-a-nonlocal-statement")
def nonlocal_accumulator(x):
    total = 0.0

    def add(v):
        nonlocal total
        total += v * v
    for i in range(len(x)):
        add(x[i])
    return total


@case(vec(3), tags=("lambda", "sorted-free", "inline-call"),
      expect="refused:call-of-expression")
def lambda_called_inline(x):
    return (lambda u, v: np.sum(u * v))(x, x[::-1])


@case(vec(4), tags=("lambda", "list-of-functions"), expect="refused:attribute:.sin")
def list_of_lambdas(x):
    fs = [np.sin, np.cos, lambda v: v * v]
    s = 0.0
    for f in fs:
        s += np.sum(f(x))
    return s


@case(vec(4), tags=("dict-of-functions", "string-keys"), expect="refused:attribute:.tanh")
def dict_of_functions(x):
    acts = {"tanh": np.tanh, "softplus": _softplus}
    return np.sum(acts["tanh"](x) * acts["softplus"](x))


@case(mat(2, 3), 0.5, tags=("keyword-arguments", "numpy-call"))
def numpy_keyword_call(A, a):
    ramp = np.linspace(0.0, 1.0, num=A.shape[1])
    return np.sum(np.mean(np.tanh(a * A) * ramp, axis=0, keepdims=True) ** 2)


@case(vec(3), tags=("recursion-free", "helper-calls-helper"))
def helper_calls_helper(x):
    return np.sum(_softplus(_softplus(x)))


# ---- parameters packed into structures inside the function -------------------------------

@case(vec(5), tags=("tuple-pack", "unpack", "slices"))
def tuple_params_inside(x):
    params = (x[:2], x[2:4], x[4])
    w, v, b = params
    return np.dot(w, v) + b * b


@case(vec(4), mat(3, 3, seed=1), wrt=0, tags=("dict", "string-keys", "params"))
def dict_params_inside(theta, D):
    p = {"w": theta[:3], "b": theta[3]}
    z = D @ p["w"] + p["b"]
    return np.sum(z * z)


@case(vec(5), tags=("dict", "iterate-keys", "regularizer"))
def dict_iterate_keys(theta):
    p = {"w": theta[:3], "b": theta[3:]}
    total = 0.0
    for key in p:
        total += np.sum(p[key] ** 2)
    return total


@case(vec(5), tags=("dict", "values", "generator-expression"),
      expect="refused:other: the dict 'p' is supported indexed by its keys written out (p['a']), looped over, or with .get")
def dict_values_sum(theta):
    p = {"a": theta[:2], "b": theta[2:]}
    return sum(np.sum(np.sin(v)) for v in p.values())


@case(vec(4), tags=("dict", "items", "weights"))
def dict_items_weighted(theta):
    scales = {"first": (theta[:2], 1.0), "second": (theta[2:], 3.0)}
    s = 0.0
    for name, (v, w) in scales.items():
        s += w * np.sum(v**2)
    return s


@case(vec(3), tags=("namedtuple", "attribute"))
def namedtuple_inside(x):
    p = Affine(w=x[:2], b=x[2])
    return np.sum(p.w**2) * p.b + p.b


@case(mat(2, 3), vec(3, seed=1), tags=("dataclass", "attribute"))
def dataclass_inside(W, b):
    layer = Layer(W=W, b=b)
    h = np.tanh(np.array([1.0, -0.5]) @ layer.W + layer.b)
    return np.sum(h**2)


@case(vec(3), tags=("dict-comprehension", "enumerate", "string-keys"),
      expect="refused:dict-comprehension")
def dict_comprehension(x):
    d = {name: x[i] * (i + 1) for i, name in enumerate(("a", "b", "c"))}
    return d["a"] * d["c"] + d["b"] ** 2


@case(vec(3), tags=("nested-unpack", "tuple"),
      expect="refused:unpack-nested-target")
def nested_tuple_unpack(x):
    (a, b), c = (x[0], x[1]), x[2]
    return a * b + c**3


@case(vec(2), tags=("list-of-tuples", "for-unpack"))
def list_of_pairs(x):
    pairs = [(x[0], 1.0), (x[1], 2.0), (x[0] * x[1], 0.5)]
    s = 0.0
    for v, w in pairs:
        s += w * v**2
    return s


@case(vec(4), tags=("starred-unpack",),
      expect="refused:unpack-nested-target")
def starred_unpack(x):
    first, *rest = x
    return first * sum(rest)


@case(vec(3), tags=("dict", "get-default"))
def dict_get_default(x):
    opts = {"scale": 2.0}
    return np.sum(opts.get("scale", 1.0) * x**2 + opts.get("shift", 0.5) * x)


@case(vec(4), tags=("dict", "update-in-loop"),
      expect="refused:dict")
def dict_updated_in_loop(x):
    state = {"h": 0.0, "c": 1.0}
    for i in range(len(x)):
        state["h"] = math.tanh(state["h"] + x[i] * state["c"])
        state["c"] = state["c"] * 0.9
    return state["h"]


@case(vec(3), (1.0, 2.0, 3.0), wrt=0, tags=("tuple-argument", "constant-parameter"))
def tuple_constant_argument(x, weights):
    s = 0.0
    for i in range(len(x)):
        s += weights[i] * x[i] ** 2
    return s


@case(vec(3), CFG, wrt=0, tags=("namedtuple-argument", "constant-parameter"))
def namedtuple_constant_argument(x, cfg):
    y = x.copy()
    for _ in range(cfg.steps):
        y = y - cfg.rate * np.sin(y)
    return np.sum(y**2)


# ---- constants --------------------------------------------------------------------------

@case(0.6, tags=("module-tuple", "loop-index"))
def module_tuple_indexed(x):
    s = 0.0
    for i in range(len(COEFFS)):
        s += COEFFS[i] * x**i
    return s


@case(vec(5), tags=("module-list", "loop-index"))
def module_list_indexed(x):
    s = 0.0
    for i in range(len(x)):
        s += WEIGHT_LIST[i] * math.exp(x[i])
    return s


@case(mat(3, 3), tags=("module-array", "2d-index"))
def module_array_2d_index(A):
    s = 0.0
    for i in range(3):
        for j in range(3):
            s += KERNEL3[i, j] * A[i, j] ** 2
    return s


@case(vec(4), tags=("function-attribute",), oracle="fd")
def function_attribute_constant(x):
    return _scaled_sum(x * x)


@case(vec(4), tags=("function-attribute", "array-constant"), oracle="fd")
def function_attribute_array(x):
    return _weighted_tail(np.sin(x))


@case(0.3, tags=("math.pi", "math.e", "math.tau"))
def math_constants(x):
    return math.sin(math.pi * x) + math.e ** x + math.cos(math.tau * x)


@case(vec(5), tags=("inf", "running-minimum"))
def running_min_from_inf(x):
    best = np.inf
    for i in range(len(x)):
        if x[i] * x[i] < best:
            best = x[i] * x[i]
    return best + np.sum(x)


@case(vec(4), tags=("inf", "comparison", "branch"))
def inf_comparison_guard(x):
    s = np.sum(x**2)
    if s < np.inf and s > -math.inf:
        return s
    return 0.0


@case(0.5, tags=("module-int", "range"))
def module_int_terms(x):
    s = 0.0
    term = 1.0
    for k in range(1, N_TERMS + 1):
        term = term * x / k
        s += term
    return s


@case(vec(2, lo=0.5, hi=1.5), tags=("module-dict", "string-keys"))
def module_dict_constants(v):
    speed2 = v[0] ** 2 + v[1] ** 2
    return PHYS["mass"] * (0.5 * speed2 + PHYS["g"] * v[1]) - PHYS["drag"] * speed2**1.5


@case(0.8, tags=("module-tuple-of-pairs", "for-unpack", "quadrature"))
def gauss_quadrature(a):
    s = 0.0
    for node, weight in GAUSS3:
        t = 0.5 * a * (node + 1.0)
        s += weight * math.exp(-t * t)
    return 0.5 * a * s


@case(vec(3), tags=("global-statement", "module-float"))
def global_read(x):
    global SCALE
    return SCALE * np.sum(x**2)


@case(positive(3), tags=("module-float", "epsilon"))
def module_epsilon(x):
    return np.sum(np.log(x + EPS))


@case(vec(3), tags=("module-namedtuple", "attribute"))
def module_namedtuple_config(x):
    y = x
    for _ in range(CFG.steps):
        y = CFG.decay * y + CFG.rate * np.tanh(y)
    return np.sum(y)


@case(vec(4), tags=("module-tuple", "zip", "constants"))
def zip_with_module_tuple(x):
    s = 0.0
    for c, v in zip(COEFFS, x):
        s += c * v**2
    return s


# ---- other statements -------------------------------------------------------------------

@case(vec(3, lo=0.5, hi=1.5), tags=("assert", "f-string"))
def assert_fstring(x):
    assert len(x) == 3, f"expected 3 values, got {len(x)}"
    return np.sum(np.log(x))


@case(mat(2, 3), tags=("assert", "ndim", "f-string"))
def assert_ndim(A):
    assert A.ndim == 2, f"A must be 2-D, not {A.ndim}-D"
    return np.sum(A @ A.T)


@case(vec(4), tags=("del",))
def del_temporary(x):
    tmp = x * 2.0
    s = np.sum(tmp**2)
    del tmp
    return s + np.sum(x)


@case(0.4, tags=("pass", "branch"))
def pass_in_branch(x):
    y = x * x
    if x > 10.0:
        pass
    else:
        y = y + math.sin(x)
    return y


@case(0.6, tags=("docstring",))
def with_docstring(x):
    """Computes x·exp(-x²), the derivative of a Gaussian up to a factor."""
    return x * math.exp(-x * x)


@case(vec(3), tags=("annotations", "annotated-locals"))
def annotated_locals(x: np.ndarray) -> float:
    total: float = 0.0
    n: int = len(x)
    for i in range(n):
        total += x[i] ** 2
    return total


@case(0.9, tags=("annotation-without-value",))
def annotation_declared_first(x):
    y: float
    y = x**2 + 1.0
    return math.log(y)


@case(vec(3), tags=("print", "branch-not-taken"))
def print_when_large(x):
    s = np.sum(x**2)
    if s > 1e6:
        print(f"large sum: {s}")
    return s


@case(vec(3), tags=("raise", "f-string", "branch-not-taken"),
      expect="refused:other: an f-string is not supported here")
def raise_on_bad_input(x):
    if len(x) < 2:
        raise ValueError(f"need at least 2 values, got {len(x)}")
    return x[0] * x[1] + x[-1]


@case(0.35, tags=("chained-comparison", "branch"))
def chained_comparison(x):
    if 0.0 < x < 1.0:
        return x * (1.0 - x)
    return 0.0


@case(vec(4), tags=("walrus", "branch"),
      expect="refused:other: the := operator is not supported here")
def walrus_in_condition(x):
    if (s := np.sum(x * x)) > 0.0:
        return s * s
    return s


@case(0.7, tags=("multiple-target-assign",))
def chained_assignment(x):
    a = b = x * 2.0
    a = a + 1.0
    return a * b


@case(vec(4), tags=("with-statement", "errstate"),
      expect="refused:statement:with")
def with_errstate(x):
    with np.errstate(over="ignore"):
        y = np.exp(x)
    return np.sum(y)


@case(vec(3), tags=("isinstance", "branch"),
      expect_at={"hessian": "refused:attribute:.ndarray"})
def isinstance_branch(x):
    if isinstance(x, np.ndarray):
        return np.sum(x**3)
    return x**3


@case(0.8, tags=("ternary", "comparison-with-int"))
def ternary_expression(x):
    y = x**2 if x > 0 else -x
    return y + (math.exp(x) if y < 5 else 0.0)


@case(vec(3), tags=("augmented-list-item",))
def augmented_list_item(x):
    acc = [0.0, 0.0]
    for i in range(len(x)):
        acc[i % 2] += x[i] ** 2
    return acc[0] * acc[1] + acc[0]


@case(0.6, tags=("is-none", "optional"))
def optional_value(x):
    best = None
    for k in range(1, 4):
        v = math.sin(k * x)
        if best is None or v > best:
            best = v
    return best


@case(vec(3), tags=("try-finally",),
      expect="refused:statement:try/except")
def try_finally(x):
    try:
        s = np.sum(x**2)
    finally:
        pass
    return s


@case(vec(3), tags=("match-statement",),
      expect="refused:other: match is not supported in differentiated code")
def match_on_length(x):
    match len(x):
        case 3:
            return x[0] * x[1] * x[2]
        case _:
            return np.sum(x)


@case(vec(4), tags=("bool-accumulator", "short-circuit"))
def boolean_flags(x):
    positive_first = x[0] > 0 and x[1] > -1
    return np.sum(x**2) * (2.0 if positive_first else 1.0)


@case(vec(3), tags=("string-formatting", "unused-string"),
      expect="refused:other: string operations are not supported in differentiated code")
def unused_label(x):
    label = "loss=%d" % len(x)
    if not label:
        return 0.0
    return np.sum(np.cos(x))


# ---- parameters that are structures (not run: see the module docstring) ------------------

def structured_tuple(params):
    w, b = params
    return np.sum(np.tanh(X_STRUCT @ w + b) ** 2)


def structured_list(weights):
    h = X_STRUCT
    for W in weights:
        h = np.tanh(h @ W)
    return np.sum(h**2)


def structured_dict(params):
    return np.sum((X_STRUCT @ params["w"] + params["b"]) ** 2) + 0.1 * np.sum(params["w"] ** 2)


def structured_namedtuple(p):
    return np.sum((X_STRUCT @ p.w + p.b) ** 2)


def structured_dataclass(q):
    d = X_STRUCT[0] - q.center
    return q.curvature * np.dot(d, d)


def structured_nested(params):
    (W1, b1), (W2, b2) = params["layers"]
    h = np.tanh(X_STRUCT @ W1 + b1)
    return np.sum((h @ W2 + b2) ** 2)


X_STRUCT = np.array([[0.5, -1.0, 0.25], [1.5, 0.3, -0.7]])

# Functions whose differentiated argument is a tuple, list, dict, NamedTuple, dataclass or
# a nesting of them, with a point each; the gradient would have the argument's structure.
# The harness skips them: Case.float_args and the oracle know only float and float-array
# arguments, and any other argument is passed through as a constant.
STRUCTURED_PARAMETERS = (
    (structured_tuple, ((vec(3), 0.1),)),
    (structured_list, ([mat(3, 3, lo=-0.5, hi=0.5), mat(3, 2, seed=1)],)),
    (structured_dict, ({"w": vec(3), "b": 0.2},)),
    (structured_namedtuple, (Affine(w=vec(3), b=-0.3),)),
    (structured_dataclass, (Quadratic(center=vec(3), curvature=1.5),)),
    (structured_nested, ({"layers": [(mat(3, 2), vec(2)), (mat(2, 1, seed=1), vec(1, seed=1))]},)),
)
