"""Optimization test functions as benchmark collections define them, in the styles their
users write: separate scalar arguments, components of one vector, loops over dimensions,
and vectorized NumPy. Points are away from kinks; a few carry closed-form gradients."""
import math

import numpy as np

from corpus import case, vec


def _rosenbrock_gradient(x):
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return {0: g}


@case(vec(5, lo=-1.5, hi=1.5), tags=("rosenbrock", "loop"), closed=_rosenbrock_gradient)
def rosenbrock_loop(x):
    total = 0.0
    for i in range(len(x) - 1):
        total += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return total


@case(vec(5, lo=-1.5, hi=1.5), tags=("rosenbrock", "vectorized", "slices"), closed=_rosenbrock_gradient)
def rosenbrock_vectorized(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


@case(vec(5, lo=-1.5, hi=1.5), tags=("rosenbrock", "x-times-x"), closed=_rosenbrock_gradient)
def rosenbrock_products(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        s = s + 100.0 * a * a + b * b
    return s


@case(-0.3, 0.8, tags=("rosenbrock-2d", "scalar-args"))
def rosenbrock_2d(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


@case(np.array([1.2, 0.4]), tags=("beale", "components"))
def beale(p):
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _booth_gradient(x, y):
    a = x + 2 * y - 7
    b = 2 * x + y - 5
    return {0: 2 * a + 4 * b, 1: 4 * a + 2 * b}


@case(0.4, 1.9, tags=("booth", "scalar-args", "closed-form"), closed=_booth_gradient)
def booth(x, y):
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


@case(np.array([2.5, 1.5]), tags=("himmelblau", "components"))
def himmelblau(v):
    return (v[0] ** 2 + v[1] - 11) ** 2 + (v[0] + v[1] ** 2 - 7) ** 2


@case(vec(3, lo=-2.0, hi=2.0), tags=("ackley", "sqrt", "cos", "len"))
def ackley(x):
    n = len(x)
    s1 = np.sum(x**2)
    s2 = np.sum(np.cos(2 * np.pi * x))
    return -20.0 * np.exp(-0.2 * np.sqrt(s1 / n)) - np.exp(s2 / n) + 20.0 + np.e


@case(vec(4, lo=-2.0, hi=2.0), tags=("rastrigin", "cos", "module-pi"))
def rastrigin(x):
    A = 10.0
    return A * len(x) + np.sum(x**2 - A * np.cos(2 * math.pi * x))


@case(vec(4, lo=-3.0, hi=3.0), tags=("styblinski-tang", "power-4"))
def styblinski_tang(x):
    return 0.5 * np.sum(x**4 - 16 * x**2 + 5 * x)


@case(vec(4), tags=("sphere", "dot"))
def sphere(x):
    return x.dot(x)


@case(vec(4), tags=("sum-squares", "weighted-by-index", "loop"))
def sum_squares_weighted(x):
    s = 0
    for i in range(len(x)):
        s += (i + 1) * x[i] ** 2
    return s


@case(0.4, -0.7, tags=("matyas", "scalar-args"))
def matyas(x, y):
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


@case(-0.5, -1.5, tags=("mccormick", "sin"))
def mccormick(x, y):
    return math.sin(x + y) + (x - y) ** 2 - 1.5 * x + 2.5 * y + 1


@case(np.array([0.7, -0.4]), tags=("three-hump-camel", "power-6"))
def three_hump_camel(x):
    a, b = x[0], x[1]
    return 2 * a**2 - 1.05 * a**4 + a**6 / 6 + a * b + b**2


@case(0.1, -0.7, tags=("six-hump-camel", "scalar-args"))
def six_hump_camel(x, y):
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


@case(np.array([0.2, -0.8]), tags=("goldstein-price", "long-expression"), expect="refused:unpack-opaque-result")
def goldstein_price(v):
    x, y = v
    t1 = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    t2 = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return t1 * t2


@case(2.9, 3.3, tags=("easom", "exp", "cos"))
def easom(x, y):
    return -math.cos(x) * math.cos(y) * math.exp(-((x - math.pi) ** 2 + (y - math.pi) ** 2))


@case(vec(4, lo=-2.0, hi=2.0), tags=("levy", "sin", "first-last-terms"))
def levy(x):
    w = 1 + (x - 1) / 4
    term1 = np.sin(np.pi * w[0]) ** 2
    term3 = (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2)
    wi = w[:-1]
    mid = np.sum((wi - 1) ** 2 * (1 + 10 * np.sin(np.pi * wi + 1) ** 2))
    return term1 + mid + term3


@case(vec(4, lo=-3.0, hi=3.0), tags=("griewank", "prod-loop", "sqrt-index"))
def griewank(x):
    s = 0.0
    p = 1.0
    for i in range(len(x)):
        s += x[i] ** 2 / 4000
        p *= math.cos(x[i] / math.sqrt(i + 1))
    return s - p + 1


@case(vec(3, lo=50.0, hi=400.0), tags=("schwefel", "abs", "sqrt"))
def schwefel(x):
    return 418.9829 * len(x) - np.sum(x * np.sin(np.sqrt(np.abs(x))))


@case(vec(4), tags=("zakharov", "arange-weights"))
def zakharov(x):
    i = np.arange(1, len(x) + 1)
    s = np.sum(0.5 * i * x)
    return np.sum(x**2) + s**2 + s**4


@case(vec(4), tags=("dixon-price", "loop-from-1"))
def dixon_price(x):
    total = (x[0] - 1) ** 2
    for i in range(1, len(x)):
        total += (i + 1) * (2 * x[i] ** 2 - x[i - 1]) ** 2
    return total


@case(vec(4), tags=("trid", "slices"))
def trid(x):
    return np.sum((x - 1) ** 2) - np.sum(x[1:] * x[:-1])


@case(vec(4), tags=("powell", "groups-of-four", "power-4"))
def powell_singular(x):
    total = 0.0
    for k in range(len(x) // 4):
        a, b, c, d = x[4 * k], x[4 * k + 1], x[4 * k + 2], x[4 * k + 3]
        total += (a + 10 * b) ** 2 + 5 * (c - d) ** 2 + (b - 2 * c) ** 4 + 10 * (a - d) ** 4
    return total


@case(vec(3, lo=0.5, hi=2.5), tags=("michalewicz", "power-20"))
def michalewicz(x):
    m = 10
    s = 0.0
    for i in range(len(x)):
        s -= math.sin(x[i]) * math.sin((i + 1) * x[i] ** 2 / math.pi) ** (2 * m)
    return s


@case(0.3, -0.6, tags=("bohachevsky", "cos"))
def bohachevsky(x1, x2):
    return x1**2 + 2 * x2**2 - 0.3 * math.cos(3 * math.pi * x1) - 0.4 * math.cos(4 * math.pi * x2) + 0.7


@case(np.array([2.5, 4.0]), tags=("branin", "module-constants-inline"))
def branin(x):
    a = 1.0
    b = 5.1 / (4 * np.pi**2)
    c = 5 / np.pi
    r, s, t = 6.0, 10.0, 1 / (8 * np.pi)
    return a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * np.cos(x[0]) + s


HARTMANN_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
HARTMANN_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


@case(np.array([0.2, 0.5, 0.8]), tags=("hartmann-3", "module-arrays", "nested-loop"))
def hartmann3(x):
    outer = 0.0
    for i in range(4):
        inner = 0.0
        for j in range(3):
            inner += HARTMANN_A[i, j] * (x[j] - HARTMANN_P[i, j]) ** 2
        outer += HARTMANN_ALPHA[i] * np.exp(-inner)
    return -outer


@case(np.array([0.8, 1.2, 0.9, 1.1]), tags=("colville", "components"))
def colville(x):
    x1, x2, x3, x4 = x[0], x[1], x[2], x[3]
    return (100 * (x1**2 - x2) ** 2 + (x1 - 1) ** 2 + (x3 - 1) ** 2 + 90 * (x3**2 - x4) ** 2
            + 10.1 * ((x2 - 1) ** 2 + (x4 - 1) ** 2) + 19.8 * (x2 - 1) * (x4 - 1))


@case(1.3, 0.7, tags=("cross-in-tray", "abs", "sqrt", "exp"))
def cross_in_tray(x, y):
    inner = abs(100 - math.sqrt(x * x + y * y) / math.pi)
    return -0.0001 * (abs(math.sin(x) * math.sin(y) * math.exp(inner)) + 1) ** 0.1


@case(np.array([400.0, 300.0]), tags=("eggholder", "abs", "sqrt"))
def eggholder(v):
    x, y = v[0], v[1]
    return -(y + 47) * np.sin(np.sqrt(np.abs(x / 2 + (y + 47)))) - x * np.sin(np.sqrt(np.abs(x - (y + 47))))


@case(0.4, 1.1, tags=("shubert", "sum-loop", "cos"))
def shubert(x, y):
    sx = 0.0
    sy = 0.0
    for i in range(1, 6):
        sx += i * math.cos((i + 1) * x + i)
        sy += i * math.cos((i + 1) * y + i)
    return sx * sy


@case(-8.0, 1.5, tags=("bukin-6", "abs", "sqrt"))
def bukin6(x, y):
    return 100 * math.sqrt(abs(y - 0.01 * x**2)) + 0.01 * abs(x + 10)


@case(vec(4), tags=("rotated-hyper-ellipsoid", "double-loop"))
def rotated_hyper_ellipsoid(x):
    total = 0.0
    for i in range(len(x)):
        for j in range(i + 1):
            total += x[j] ** 2
    return total


@case(vec(4, away=0.1), tags=("sum-of-different-powers", "abs", "int-power"))
def sum_of_different_powers(x):
    s = 0.0
    for i in range(len(x)):
        s += abs(x[i]) ** (i + 2)
    return s


@case(vec(4, away=0.1), tags=("alpine-1", "abs", "vectorized"))
def alpine1(x):
    return np.sum(np.abs(x * np.sin(x) + 0.1 * x))


@case(vec(4), tags=("quartic", "index-weights", "arange"))
def quartic(x):
    return np.sum(np.arange(1, x.size + 1) * x**4)


@case(np.array([1.1, 0.9, 1.2, 0.8]), tags=("wood", "components", "chained-assignment"))
def wood(x):
    x1 = x[0]
    x2 = x[1]
    x3 = x[2]
    x4 = x[3]
    return (100 * (x1**2 - x2) ** 2 + (x1 - 1) ** 2 + 90 * (x3**2 - x4) ** 2 + (1 - x3) ** 2
            + 10.1 * ((x2 - 1) ** 2 + (x4 - 1) ** 2) + 19.8 * (x2 - 1) * (x4 - 1))


@case(vec(3), 0.5, tags=("perm", "nested-power-loop"))
def perm_function(x, beta):
    d = len(x)
    outer = 0.0
    for i in range(1, d + 1):
        inner = 0.0
        for j in range(1, d + 1):
            inner += (j + beta) * (x[j - 1] ** i - 1.0 / j**i)
        outer += inner**2
    return outer
