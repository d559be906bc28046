"""Loops and branches as people write them: while loops, break/continue, early returns,
iteration over arrays, enumerate/zip, lists built in loops, int-initialized accumulators."""
import math

import numpy as np

from corpus import case, positive, vec


@case(1.3, tags=("while", "data-dependent-trip-count"))
def grow_until(x):
    while x < 10.0:
        x = x * 1.5 + 0.1
    return x


@case(vec(6, away=0.1), tags=("continue", "branch-on-element"))
def skip_negatives(x):
    total = 0.0
    for i in range(len(x)):
        if x[i] < 0:
            continue
        total += x[i] ** 2
    return total


@case(0.8, tags=("break",))
def break_on_threshold(x):
    s = 0.0
    for k in range(20):
        s += math.sin(k * x) + 1.0
        if s > 5.0:
            break
    return s * x


@case(vec(5, lo=0.2, hi=1.0), tags=("early-return-in-loop",))
def first_large_partial_sum(x):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * (i + 1)
        if s > 2.0:
            return s * x[0]
    return -s


@case(vec(5), tags=("triangular-loop",))
def lower_triangle_pairs(x):
    n = len(x)
    acc = 0.0
    for i in range(n):
        for j in range(i):
            acc += x[i] * x[j] / (1 + i + j)
    return acc


@case(vec(5), tags=("for-over-array",))
def iterate_elements(x):
    s = 0.0
    for v in x:
        s += v * v * v
    return s


@case(vec(5), tags=("enumerate",))
def enumerate_weights(x):
    s = 0.0
    for i, v in enumerate(x):
        s += (i + 1) * math.sin(v)
    return s


@case(vec(4), vec(4, seed=1), tags=("zip",))
def zipped_products(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s += a * b + a**2
    return s


@case(vec(5), tags=("reversed",))
def reversed_recurrence(x):
    h = 0.0
    for i in reversed(range(len(x))):
        h = math.tanh(h + x[i])
    return h


@case(vec(6), tags=("negative-step",))
def countdown_range(x):
    h = 1.0
    for i in range(len(x) - 1, -1, -1):
        h = h * 0.5 + x[i] * h
    return h


@case(vec(6), tags=("range-step",))
def every_other(x):
    s = 0.0
    for i in range(0, len(x), 2):
        s += x[i] * x[i + 1]
    return s


@case(vec(5), tags=("while", "index-counter"))
def while_index(x):
    i = 0
    s = 0.0
    while i < len(x):
        s += math.exp(x[i]) / (i + 1)
        i += 1
    return s


@case(0.7, tags=("try",), expect="refused:statement:try/except")
def guarded_log(x):
    try:
        return math.log(x)
    except ValueError:
        return 0.0


@case(vec(5), tags=("list-append", "builtin-sum"))
def list_of_terms(x):
    terms = []
    for v in x:
        terms.append(v * v)
    return sum(terms)


@case(vec(5), tags=("list-comprehension",))
def comprehension_sum(x):
    return sum([v**2 for v in x])


@case(vec(5), tags=("generator",))
def generator_sum(x):
    return sum(math.cos(v) for v in x)


@case(-1.5, tags=("int-init", "loop"))
def int_initialized_product(a):
    out = 1
    for i in range(2):
        out = out * a
    return out


@case(vec(4), tags=("int-init", "accumulate"))
def int_initialized_sum(x):
    total = 0
    for i in range(len(x)):
        total += x[i] * x[i]
    return total


@case(0.9, 12, tags=("fixed-point", "int-argument"))
def babylonian_sqrt(a, steps):
    g = 1.0
    for _ in range(steps):
        g = 0.5 * (g + a / g)
    return g


@case(0.6, tags=("newton", "while", "tolerance"))
def newton_cube_root(a):
    x = 1.0
    while abs(x**3 - a) > 1e-14:
        x = x - (x**3 - a) / (3 * x**2)
    return x


@case(2.4, tags=("if-elif-else", "loop"))
def piecewise_in_loop(x):
    y = 0.0
    for k in range(5):
        if k % 3 == 0:
            y += x * k
        elif k % 3 == 1:
            y -= math.sqrt(x) * k
        else:
            y *= 1.0 + x / 10
    return y


@case(0.35, tags=("ternary", "loop"))
def conditional_expression_loop(x):
    s = 0.0
    for i in range(6):
        s += x**i if i % 2 == 0 else -math.sin(x * i)
    return s


@case(1.2, tags=("assert",))
def asserts_positive(x):
    assert x > 0
    return math.log(x) * x


@case(0.5, tags=("loop-inside-if",))
def loop_in_branch(a):
    if a < 20:
        for i in range(3):
            a = a * a
    return a


@case(vec(4), tags=("dict",))
def with_dictionary(x):
    params = {"scale": 2.0, "shift": 0.5}
    return np.sum(params["scale"] * x + params["shift"]) ** 2


@case(vec(6), tags=("max-of-loop", "builtin-max"))
def running_maximum(x):
    best = x[0]
    for i in range(1, len(x)):
        best = max(best, x[i])
    return best**2 + x[0]


@case(positive(4), tags=("while-true", "break"))
def while_true_break(x):
    k = 0
    acc = 0.0
    while True:
        acc += x[k] / (k + 1)
        k += 1
        if k == len(x):
            break
    return acc


@case(0.3, tags=("loop-else",), expect="refused:for-else")
def search_with_else(x):
    for k in range(5):
        if x * k > 10:
            found = k * x
            break
    else:
        found = -x
    return found


@case(vec(5), tags=("nested-loop", "break-inner"))
def nested_break(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(len(x)):
            if j > i:
                break
            s += x[i] * x[j]
    return s


@case(vec(4), 0.2, tags=("loop-carried-array", "array-rebinding"))
def relax_vector(x, rate):
    y = x.copy()
    for _ in range(5):
        y = y - rate * (y - np.mean(y))
    return np.sum(y * x)


@case(0.5, 1.5, tags=("multiple-returns", "branch"))
def two_returns(x, y):
    if x < y:
        return x * y**2
    return y * x**2


@case(0.25, tags=("global-counter", "module-constant"))
def uses_module_array(x):
    s = 0.0
    for i in range(len(WEIGHTS)):
        s += WEIGHTS[i] * x ** (i + 1)
    return s


WEIGHTS = np.array([0.5, -1.0, 2.0, 0.25])
