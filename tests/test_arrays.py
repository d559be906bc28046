"""NumPy arrays as values (float64, 1-D and 2-D): element reads, slices, elementwise
arithmetic with broadcasting, ufuncs, reductions and linear algebra.

Every scalar-valued case is checked twice:

* reverse mode (`sd.grad` in every argument at once) against an independent oracle — the
  complex step (exact to rounding, 1e-12) for analytic code, closed forms otherwise
  (np.abs, np.maximum, np.where, np.clip, np.linalg.norm are not complex-analytic), and
  central differences (loose tolerance) as a check of the closed forms;
* forward mode (`sd.jvp` along a random direction) against the reverse gradient dotted with
  that direction: the two modes must agree.

Array-valued functions go through `sd.vjp` (random cotangent) and `sd.jvp` (random tangent)
against complex-step Jacobians.  Inputs come from seeded `np.random.default_rng`.

Compile time.  numba takes 1-7 s per array transform (np.linalg and the array helpers are
instantiated per type; one function combining many operations compiles slower still), so
the one-operation-per-function tables (sections 1-3 and the array-valued table) run the
generated code with `jit=False` — the same generated source, without numba — unless
S2SDIFF_ARRAYS_JIT_ALL=1 is set (then everything is compiled: ~4 min).  Compiled by
default: one small function per path through the numba runtime helpers (section 3b), the
lecture-notes examples (section 4), the network (section 5), and the shape/dtype checks.
Every transform is built once.
"""
import functools
import os

import numpy as np
import pytest

import s2sdiff as sd
from modes import MODES, check_entry_points, recorded
from oracles import cd_jacobian, cs_jacobian

SEED = 20240611
CS = 1e-12          # complex step / closed forms vs reverse mode
AGREE = 1e-12       # forward vs reverse
FD = 1e-7           # central differences
JIT_ALL = os.environ.get("S2SDIFF_ARRAYS_JIT_ALL") == "1"
TABLE_JIT = JIT_ALL  # for the one-operation tables


def rng_for(*key):
    """A generator seeded by SEED and a test-specific key (stable across runs)."""
    return np.random.default_rng([SEED, *(sum(map(ord, str(k))) for k in key)])


# ---- transforms, built once ------------------------------------------------------------

@functools.cache
def grad_of(f, wrt, jit=True):
    return sd.grad(f, wrt=wrt, jit=jit)


def grad_all(f, n, jit=True):
    """sd.grad of f in all of its n arguments (a tuple of gradients)."""
    return grad_of(f, tuple(range(n)), jit)




def assert_close(got, want, rel, what=""):
    """Same shape, float64, and element-wise close to `rel` relative to the largest |want|."""
    want = np.asarray(want, dtype=float)
    assert np.shape(got) == want.shape, f"{what}: shape {np.shape(got)} != {want.shape}"
    got_array = np.asarray(got)
    assert got_array.dtype == np.float64, f"{what}: dtype {got_array.dtype}"
    scale = max(float(np.max(np.abs(want))) if want.size else 0.0, 1e-300)
    np.testing.assert_allclose(got_array, want, rtol=rel, atol=rel * scale, err_msg=what)


def random_like(rng, value):
    return float(rng.standard_normal()) if np.ndim(value) == 0 else rng.standard_normal(np.shape(value))


def check_reverse(f, args, oracle, rel=CS, jit=True, entry_points=True):
    """sd.grad in every argument against `oracle` ("cs", "cd" or a closed form args -> grads),
    and every other entry point against sd.grad (tests/modes.py)."""
    grads = grad_all(f, len(args), jit)(*args)
    assert isinstance(grads, tuple) and len(grads) == len(args)
    if oracle == "cs":
        want = [cs_jacobian(f, args, k) for k in range(len(args))]
    elif oracle == "cd":
        want, rel = [cd_jacobian(f, args, k) for k in range(len(args))], max(rel, FD)
    else:
        want = oracle(*args)
    for k, (g, w) in enumerate(zip(grads, want)):
        assert np.shape(g) == np.shape(args[k]), f"gradient {k} has shape {np.shape(g)}, argument {np.shape(args[k])}"
        assert_close(g, w, rel, what=f"{f.__name__}: gradient in argument {k}")
    if entry_points:
        check_entry_points("G", f, tuple(range(len(args))), tuple(args), grads)
    return grads


def check_forward_agrees(f, args, rng, jit=True, wrt=None):
    """sd.jvp along a random direction (zero outside `wrt`) == <reverse gradient, direction>;
    the jvp's value is f's."""
    wrt = tuple(range(len(args))) if wrt is None else wrt
    grads = grad_of(f, wrt, jit)(*args)
    tangents = tuple(random_like(rng, a) if k in wrt else 0.0 * np.asarray(a) for k, a in enumerate(args))
    value, derivative = sd.jvp(f, args, tangents, jit=jit)
    assert np.ndim(derivative) == 0
    assert float(value) == pytest.approx(float(f(*args)), rel=1e-13, abs=1e-13)
    terms = [np.asarray(g) * tangents[k] for g, k in zip(grads, wrt)]
    want = sum(float(np.sum(t)) for t in terms)
    scale = sum(float(np.sum(np.abs(t))) for t in terms)
    assert abs(float(derivative) - want) <= AGREE * max(scale, 1e-300), \
        f"{f.__name__}: jvp {derivative!r} != <grad, tangent> {want!r}"


# ---- s2sdiff bugs found by checking every entry point (tests/modes.py) -----------------

ENTRY_POINT_BUGS = {}


def entry_point_checked(table):
    """The names of a table's cases, for a test that checks every entry point: the cases
    with a known bug are marked (a strict xfail, conftest.py)."""
    return [pytest.param(name, marks=pytest.mark.entry_point_bug(ENTRY_POINT_BUGS[name]))
            if name in ENTRY_POINT_BUGS else name for name in table]


# ---- argument makers -------------------------------------------------------------------

def vec(n):
    return lambda rng: rng.standard_normal(n)


def mat(n, m):
    return lambda rng: rng.standard_normal((n, m))


def positive(*shape):
    return lambda rng: rng.uniform(0.2, 0.9, size=shape)


def well_conditioned(n):
    return lambda rng: 3.0 * np.eye(n) + 0.5 * rng.standard_normal((n, n))


def scalar(rng):
    return float(rng.uniform(0.5, 1.5))


def make(*makers):
    return lambda rng: tuple(m(rng) for m in makers)


# ==== 1. every operation: reverse vs oracle, forward vs reverse ========================

# -- element reads, slices, sizes
def elem_1d(x):
    return x[0] * x[3] + np.sin(x[1]) + x[2] ** 3


def elem_negative_index(x):
    return x[-1] * x[0] + x[-2] ** 2


def elem_2d(X):
    return X[0, 1] * X[2, 0] + np.exp(X[1, 1]) - X[2, 2] ** 2


def slice_shift(x):
    return np.sum(x[1:] * x[:-1] ** 2)


def slice_range(x):
    return np.sum(np.sin(x[1:4])) + np.sum(x[:2] * x[3:5])


def slice_column(X):
    return np.sum(X[:, 1] * X[:, 2] ** 2)


def slice_row(X):
    return np.sum(np.cos(X[1, :]) * X[0, :])


def slice_row_single_index(X):
    return np.sum(X[1] ** 3)


def sizes(x, X):
    return np.sum(x) / len(x) + np.sum(X ** 2) / X.size + X.shape[0] * X[0, 0] + X.shape[1] * x[0] + len(X) * X[1, 1]


# -- elementwise arithmetic
def arith(x, y):
    return np.sum((x + y) * (x - y) / (2.0 + y * y) - x / y)


def arith_negation(x, y):
    return np.sum(-x * y + (-(x - y)) ** 2)


def power_integer(x):
    return np.sum(x ** 3 - 2.0 * x ** 2)


def power_fractional(x):
    return np.sum(x ** 0.5 + x ** -1.5)


def power_array(x, y):
    return np.sum(x ** y)


def power_base(x):
    return np.sum(2.0 ** x)


def ufuncs_2d(X):
    return np.sum(np.exp(X) * np.sin(X) - np.tanh(X) / (1.0 + X ** 2))


# -- np.* ufuncs, one at a time (x in (0.2, 0.9): inside every domain)
def u_sin(x):
    return np.sum(np.sin(x) * x)


def u_cos(x):
    return np.sum(np.cos(x) * x)


def u_tan(x):
    return np.sum(np.tan(x) * x)


def u_exp(x):
    return np.sum(np.exp(x) * x)


def u_log(x):
    return np.sum(np.log(x) * x)


def u_sqrt(x):
    return np.sum(np.sqrt(x) * x)


def u_tanh(x):
    return np.sum(np.tanh(x) * x)


def u_sinh(x):
    return np.sum(np.sinh(x) * x)


def u_cosh(x):
    return np.sum(np.cosh(x) * x)


def u_arcsin(x):
    return np.sum(np.arcsin(x) * x)


def u_arccos(x):
    return np.sum(np.arccos(x) * x)


def u_arctan(x):
    return np.sum(np.arctan(x) * x)


def u_arcsinh(x):
    return np.sum(np.arcsinh(x) * x)


def u_arctanh(x):
    return np.sum(np.arctanh(x) * x)


def u_log1p(x):
    return np.sum(np.log1p(x) * x)


def u_expm1(x):
    return np.sum(np.expm1(x) * x)


def u_log10(x):
    return np.sum(np.log10(x) * x)


def u_square(x):
    return np.sum(np.square(x) * x)


def u_reciprocal(x):
    return np.sum(np.reciprocal(x) * x * x)


# -- reductions on 1-D, dot products and matrix products
def dot_vv(x, y):
    return np.dot(x, y) ** 2


def matmul_vv(x, y):
    return np.sin(x @ y)


def dot_method(x, y):
    return x.dot(y) ** 2


def matmul_mv(A, x):
    return np.sum(np.sin(A @ x))


def dot_mv(A, x):
    return np.sum(np.dot(A, x) ** 2)


def matmul_mm(A, B):
    return np.sum(np.sin(A @ B))


def dot_mm(A, B):
    return np.sum(np.dot(A, B) ** 2)


def matmul_vm(x, A):
    return np.sum(np.sin(x @ A))


def dot_vm(x, A):
    return np.sum(np.dot(x, A) ** 2)


def transpose_attr(A, B):
    return np.sum(np.sin(A.T @ B))


def transpose_fn(A):
    return np.sum(np.transpose(A) @ np.sin(A))


def transpose_method(A):
    return np.sum(np.cos(A.transpose()) * A.T)


def outer_fn(x, y):
    return np.sum(np.sin(np.outer(x, y)))


def trace_fn(A):
    return np.trace(A @ A) + np.trace(np.sin(A))


def det_fn(A):
    return np.linalg.det(A)


def inv_fn(A):
    return np.sum(np.linalg.inv(A) ** 2)


def solve_vector(A, b):
    return np.sum(np.sin(np.linalg.solve(A, b)))


def solve_matrix(A, B):
    return np.sum(np.linalg.solve(A, B) ** 2)


def copy_fn(x):
    y = np.copy(x)
    return np.sum(y * x)


def copy_method(X):
    Y = X.copy()
    return np.sum(np.sin(Y) * X)


def loop_over_rows(X, w):
    s = 0.0
    for i in range(X.shape[0]):
        s += np.tanh(X[i, :] @ w)
    return s


def loop_dynamic_slices(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += np.sum(x[i:i + 2] ** 2) * x[i]
    return s


ANALYTIC_CASES = {
    "x[i]": (elem_1d, make(vec(5))),
    "x[-1]": (elem_negative_index, make(vec(5))),
    "X[i, j]": (elem_2d, make(mat(3, 4))),
    "x[1:] * x[:-1]": (slice_shift, make(vec(6))),
    "x[a:b]": (slice_range, make(vec(6))),
    "X[:, j]": (slice_column, make(mat(4, 3))),
    "X[i, :]": (slice_row, make(mat(3, 5))),
    "X[i]": (slice_row_single_index, make(mat(3, 5))),
    "len/shape/size": (sizes, make(vec(4), mat(3, 5))),
    "+ - * /": (arith, make(vec(5), positive(5))),
    "unary minus": (arith_negation, make(vec(5), vec(5))),
    "x ** int": (power_integer, make(vec(5))),
    "x ** float": (power_fractional, make(positive(5))),
    "x ** y": (power_array, make(positive(5), vec(5))),
    "2.0 ** x": (power_base, make(vec(5))),
    "ufuncs on 2-D": (ufuncs_2d, make(mat(3, 4))),
    **{f"np.{f.__name__[2:]}": (f, make(positive(5))) for f in (
        u_sin, u_cos, u_tan, u_exp, u_log, u_sqrt, u_tanh, u_sinh, u_cosh, u_arcsin, u_arccos,
        u_arctan, u_arcsinh, u_arctanh, u_log1p, u_expm1, u_log10, u_square, u_reciprocal)},
    "np.dot(v, v)": (dot_vv, make(vec(5), vec(5))),
    "v @ v": (matmul_vv, make(vec(5), vec(5))),
    "v.dot(v)": (dot_method, make(vec(5), vec(5))),
    "M @ v": (matmul_mv, make(mat(3, 5), vec(5))),
    "np.dot(M, v)": (dot_mv, make(mat(3, 5), vec(5))),
    "M @ M": (matmul_mm, make(mat(3, 4), mat(4, 2))),
    "np.dot(M, M)": (dot_mm, make(mat(3, 4), mat(4, 2))),
    "v @ M": (matmul_vm, make(vec(3), mat(3, 4))),
    "np.dot(v, M)": (dot_vm, make(vec(3), mat(3, 4))),
    "X.T": (transpose_attr, make(mat(3, 4), mat(3, 2))),
    "np.transpose": (transpose_fn, make(mat(3, 4))),
    "X.transpose()": (transpose_method, make(mat(3, 4))),
    "np.outer": (outer_fn, make(vec(3), vec(4))),
    "np.trace": (trace_fn, make(mat(4, 4))),
    "np.linalg.det": (det_fn, make(well_conditioned(4))),
    "np.linalg.inv": (inv_fn, make(well_conditioned(4))),
    "np.linalg.solve(A, b)": (solve_vector, make(well_conditioned(4), vec(4))),
    "np.linalg.solve(A, B)": (solve_matrix, make(well_conditioned(4), mat(4, 3))),
    "np.copy": (copy_fn, make(vec(5))),
    "X.copy()": (copy_method, make(mat(3, 4))),
    "loop over rows X[i, :] @ w": (loop_over_rows, make(mat(4, 3), vec(3))),
    "loop with x[i:i + 2]": (loop_dynamic_slices, make(vec(6))),
}


@pytest.mark.parametrize("name", entry_point_checked(ANALYTIC_CASES))
def test_reverse_gradient_matches_complex_step(name):
    f, make_args = ANALYTIC_CASES[name]
    check_reverse(f, make_args(rng_for(name)), "cs", jit=TABLE_JIT)


@pytest.mark.parametrize("name", list(ANALYTIC_CASES))
def test_forward_jvp_agrees_with_reverse_gradient(name):
    f, make_args = ANALYTIC_CASES[name]
    check_forward_agrees(f, make_args(rng_for(name)), rng_for(name, "tangent"), jit=TABLE_JIT)


# -- the non-analytic ones: closed forms
def abs_fn(x):
    return np.sum(np.abs(x) * x)


def relu_fn(x):
    return np.sum(np.maximum(x, 0.0) ** 2)


def relu_left(x, y):
    return np.sum(np.maximum(0.0, x) * y)


def max_min(x, y):
    return np.sum(2.0 * np.maximum(x, y) + np.minimum(x, y) ** 2)


def where_fn(x):
    return np.sum(np.where(x > 0.0, x ** 2, np.sin(x)))


def where_arrays(x, y):
    return np.sum(np.where(x > y, x * y, x - y))


def clip_fn(x):
    return np.sum(np.clip(x, -0.5, 0.5) ** 2)


def norm_vector(x):
    return np.linalg.norm(x)


def norm_difference(x, y):
    return np.linalg.norm(x - y) ** 2


def norm_frobenius(X):
    return np.linalg.norm(X) ** 3


def _pos(x):
    return (x > 0).astype(float)


PIECEWISE_CASES = {
    "np.abs": (abs_fn, make(vec(6)), lambda x: (2 * np.abs(x),)),
    "np.maximum(z, 0.0)": (relu_fn, make(vec(6)), lambda x: (2 * np.maximum(x, 0.0),)),
    "np.maximum(0.0, z)": (relu_left, make(vec(6), vec(6)), lambda x, y: (_pos(x) * y, np.maximum(x, 0.0))),
    "np.maximum/np.minimum": (max_min, make(vec(6), vec(6)),
                              lambda x, y: (2.0 * (x > y) + 2 * np.minimum(x, y) * (x < y),
                                            2.0 * (y > x) + 2 * np.minimum(x, y) * (y < x))),
    "np.where(x > 0, ...)": (where_fn, make(vec(6)), lambda x: (np.where(x > 0, 2 * x, np.cos(x)),)),
    "np.where(x > y, ...)": (where_arrays, make(vec(6), vec(6)),
                             lambda x, y: (np.where(x > y, y, 1.0), np.where(x > y, x, -1.0))),
    "np.clip": (clip_fn, lambda rng: (rng.uniform(-1.0, 1.0, 8),),
                lambda x: (2 * np.clip(x, -0.5, 0.5) * (np.abs(x) < 0.5),)),
    "np.linalg.norm(v)": (norm_vector, make(vec(5)), lambda x: (x / np.sqrt(x @ x),)),
    "np.linalg.norm(x - y) ** 2": (norm_difference, make(vec(5), vec(5)), lambda x, y: (2 * (x - y), -2 * (x - y))),
    "np.linalg.norm(X) (Frobenius)": (norm_frobenius, make(mat(3, 4)),
                                      lambda X: (3 * np.sqrt(np.sum(X ** 2)) * X,)),
}


@pytest.mark.parametrize("name", entry_point_checked(PIECEWISE_CASES))
def test_reverse_gradient_of_piecewise_and_norms_matches_closed_form(name):
    f, make_args, closed = PIECEWISE_CASES[name]
    args = make_args(rng_for(name))
    check_reverse(f, args, closed, jit=TABLE_JIT)
    check_reverse(f, args, "cd", jit=TABLE_JIT, entry_points=False)   # the closed form, against finite differences


@pytest.mark.parametrize("name", list(PIECEWISE_CASES))
def test_forward_jvp_of_piecewise_and_norms_agrees_with_reverse(name):
    f, make_args, _ = PIECEWISE_CASES[name]
    check_forward_agrees(f, make_args(rng_for(name)), rng_for(name, "tangent"), jit=TABLE_JIT)


def test_kinks_follow_the_documented_conventions():
    # |x|'(0) = 1 and max/min split ties evenly, elementwise as for numbers.
    x = np.array([0.0, 1.0, -1.0])
    # f = 2 max(x, y) + min(x, y)², at x == y: df/dx = 2·½ + 2·min·½ = 1 + x.
    assert_close(grad_all(abs_fn, 1, TABLE_JIT)(x)[0], [0.0, 2.0, 2.0], 0.0)     # d(|x| x) = 2|x|
    assert_close(grad_all(relu_left, 2, TABLE_JIT)(x, np.ones(3))[0], [0.5, 1.0, 0.0], 0.0)
    assert_close(grad_all(max_min, 2, TABLE_JIT)(x, x)[0], [1.0, 2.0, 0.0], 1e-15)
    assert_close(grad_all(max_min, 2, TABLE_JIT)(x, x)[1], [1.0, 2.0, 0.0], 1e-15)
    for f, args in [(abs_fn, (x,)), (relu_left, (x, np.ones(3))), (max_min, (x, x))]:
        check_entry_points("G", f, tuple(range(len(args))), args, grad_all(f, len(args), TABLE_JIT)(*args))


# ==== 2. broadcasting ===================================================================

def scalar_times_array(a, x):
    return np.sum(a * x)


def scalar_with_matrix(a, X):
    return np.sum(np.sin(a * X + a) / (a + X ** 2))


def scalar_power(a, X):
    return np.sum(X ** a + a ** X)


def row_add(X, r):
    return np.sum(np.sin(X + r))


def row_sub_reversed(r, X):
    return np.sum((r - X) ** 2 * r)


def row_divide(X, r):
    return np.sum(np.exp(X / r))


def column_mul(X, c):
    return np.sum(np.sin(X * c))


def column_first(c, X):
    return np.sum((c - X) ** 3 / c)


def row_2d(R, X):
    return np.sum(np.exp(R / (2.0 + X ** 2)) * R)


def column_plus_row(c, R):
    return np.sum(np.sin(c + R) * c * R)


def column_times_vector(c, r):
    return np.sum(np.cos(c * r))


BROADCAST_CASES = {
    "scalar * vector": (scalar_times_array, make(scalar, vec(5))),
    "scalar with (n, m)": (scalar_with_matrix, make(scalar, positive(3, 4))),
    "(n, m) ** scalar, scalar ** (n, m)": (scalar_power, make(scalar, positive(3, 4))),
    "(n, m) + (m,)": (row_add, make(mat(4, 3), vec(3))),
    "(m,) - (n, m)": (row_sub_reversed, make(vec(3), mat(4, 3))),
    "(n, m) / (m,)": (row_divide, make(mat(4, 3), positive(3))),
    "(n, m) * (n, 1)": (column_mul, make(mat(4, 3), mat(4, 1))),
    "(n, 1) - (n, m)": (column_first, make(positive(4, 1), mat(4, 3))),
    "(1, m) with (n, m)": (row_2d, make(mat(1, 3), mat(4, 3))),
    "(n, 1) + (1, m)": (column_plus_row, make(mat(4, 1), mat(1, 3))),
    "(n, 1) * (m,)": (column_times_vector, make(mat(4, 1), vec(3))),
}


@pytest.mark.parametrize("name", entry_point_checked(BROADCAST_CASES))
def test_broadcast_gradient_has_the_argument_shape_and_matches_complex_step(name):
    f, make_args = BROADCAST_CASES[name]
    args = make_args(rng_for(name))
    grads = check_reverse(f, args, "cs", jit=TABLE_JIT)
    for g, a in zip(grads, args):
        assert np.shape(g) == np.shape(a)


@pytest.mark.parametrize("name", list(BROADCAST_CASES))
def test_broadcast_forward_agrees_with_reverse(name):
    f, make_args = BROADCAST_CASES[name]
    check_forward_agrees(f, make_args(rng_for(name)), rng_for(name, "tangent"), jit=TABLE_JIT)


def test_gradient_in_a_broadcast_scalar_is_the_sum():
    x = rng_for("scalar sum").standard_normal(7)
    ga, gx = grad_all(scalar_times_array, 2, TABLE_JIT)(1.7, x)
    assert np.ndim(ga) == 0
    assert float(ga) == pytest.approx(np.sum(x), rel=1e-14)
    assert_close(gx, np.full(7, 1.7), 0.0)


def test_gradient_in_a_broadcast_row_sums_over_rows():
    rng = rng_for("row sum")
    X, r = rng.standard_normal((4, 3)), rng.standard_normal(3)
    gX, gr = grad_all(row_add, 2, TABLE_JIT)(X, r)
    assert gX.shape == (4, 3) and gr.shape == (3,)
    assert_close(gr, np.cos(X + r).sum(axis=0), 1e-14)
    assert_close(gX, np.cos(X + r), 1e-15)


def transposed_row_add(A, r):
    return np.sum(np.sin(A.T + r))


def test_gradient_in_a_row_broadcast_over_a_transpose_sums_over_rows():
    rng = rng_for("transposed row sum")
    A, r = rng.standard_normal((3, 50)), rng.standard_normal(3)
    gA, gr = sd.grad(transposed_row_add, wrt=(0, 1))(A, r)
    assert_close(gr, np.cos(A.T + r).sum(axis=0), 1e-14)
    assert_close(gA, np.cos(A + r[:, None]), 1e-15)


@pytest.mark.parametrize("order", ["C", "F"])
def test_column_sums_of_either_layout_are_numpys(order):
    from s2sdiff.runtime import column_sums
    g = np.asarray(rng_for("column sums").standard_normal((40, 7)), order=order)
    assert_close(column_sums(g), g.sum(axis=0), 1e-14)
    assert_close(column_sums(g.T), g.T.sum(axis=0), 1e-14)


def test_gradient_in_a_broadcast_column_sums_over_columns():
    rng = rng_for("column sum")
    X, c = rng.standard_normal((4, 3)), rng.standard_normal((4, 1))
    gX, gc = grad_all(column_mul, 2, TABLE_JIT)(X, c)
    assert gX.shape == (4, 3) and gc.shape == (4, 1)
    assert_close(gc, (np.cos(X * c) * X).sum(axis=1, keepdims=True), 1e-14)


def test_broadcast_of_a_single_row_and_a_single_column():
    rng = rng_for("1x1")
    c, R = rng.standard_normal((1, 1)), rng.standard_normal((1, 3))
    # the same function at other sizes: (1, 1) + (1, m) and (n, 1) + (1, 1)
    check_reverse(column_plus_row, (c, R), "cs", jit=TABLE_JIT)
    check_reverse(column_plus_row, (rng.standard_normal((4, 1)), c), "cs", jit=TABLE_JIT)


# ==== 3. sum / mean, with and without axis, as functions and as methods =================

def sum_all(X):
    return np.sum(X) ** 2


def sum_axis0(X):
    return np.sum(np.sin(np.sum(X, axis=0)))


def sum_axis1(X):
    return np.sum(np.sin(np.sum(X, axis=1)))


def sum_axis_positional(X):
    return np.sum(np.sin(np.sum(X, 1)))


def sum_method(X):
    return np.sin(X.sum())


def sum_method_axis0(X):
    s = X.sum(axis=0)
    return np.sum(s * s)


def sum_method_axis1(X):
    s = X.sum(axis=1)
    return np.sum(s ** 3)


def sum_method_positional(X):
    s = X.sum(0)
    return np.sum(np.sin(s))


def mean_all(X):
    return np.mean(X) ** 2


def mean_axis0(X):
    return np.sum(np.sin(np.mean(X, axis=0)))


def mean_axis1(X):
    return np.sum(np.mean(X, axis=1) ** 3)


def mean_method(X):
    return np.sin(X.mean())


def mean_method_axis0(X):
    m = X.mean(axis=0)
    return np.sum(m * m)


def mean_method_axis1(X):
    m = X.mean(axis=1)
    return np.sum(np.exp(m))


def sum_1d(x):
    return np.sum(x) ** 2 + x.sum() * np.mean(x) + x.mean()


def ones_like(X):
    return np.ones(X.shape)


REDUCTION_CASES = {
    "np.sum(X)": (sum_all, lambda X: 2 * np.sum(X) * ones_like(X)),
    "np.sum(X, axis=0)": (sum_axis0, lambda X: np.cos(X.sum(axis=0)) * ones_like(X)),
    "np.sum(X, axis=1)": (sum_axis1, lambda X: np.cos(X.sum(axis=1))[:, None] * ones_like(X)),
    "np.sum(X, 1)": (sum_axis_positional, lambda X: np.cos(X.sum(axis=1))[:, None] * ones_like(X)),
    "X.sum()": (sum_method, lambda X: np.cos(X.sum()) * ones_like(X)),
    "X.sum(axis=0)": (sum_method_axis0, lambda X: 2 * X.sum(axis=0) * ones_like(X)),
    "X.sum(axis=1)": (sum_method_axis1, lambda X: 3 * X.sum(axis=1)[:, None] ** 2 * ones_like(X)),
    "X.sum(0)": (sum_method_positional, lambda X: np.cos(X.sum(axis=0)) * ones_like(X)),
    "np.mean(X)": (mean_all, lambda X: 2 * X.mean() / X.size * ones_like(X)),
    "np.mean(X, axis=0)": (mean_axis0, lambda X: np.cos(X.mean(axis=0)) / X.shape[0] * ones_like(X)),
    "np.mean(X, axis=1)": (mean_axis1, lambda X: 3 * X.mean(axis=1)[:, None] ** 2 / X.shape[1] * ones_like(X)),
    "X.mean()": (mean_method, lambda X: np.cos(X.mean()) / X.size * ones_like(X)),
    "X.mean(axis=0)": (mean_method_axis0, lambda X: 2 * X.mean(axis=0) / X.shape[0] * ones_like(X)),
    "X.mean(axis=1)": (mean_method_axis1, lambda X: np.exp(X.mean(axis=1))[:, None] / X.shape[1] * ones_like(X)),
}


@pytest.mark.parametrize("name", entry_point_checked(REDUCTION_CASES))
def test_reduction_gradient_matches_closed_form(name):
    f, closed = REDUCTION_CASES[name]
    X = rng_for(name).standard_normal((4, 3))
    check_reverse(f, (X,), lambda X: (closed(X),), rel=1e-13, jit=TABLE_JIT)
    check_reverse(f, (X,), "cs", jit=TABLE_JIT, entry_points=False)
    check_forward_agrees(f, (X,), rng_for(name, "tangent"), jit=TABLE_JIT)


def test_reductions_of_a_vector():
    x = rng_for("sum_1d").standard_normal(6)
    n, s = len(x), np.sum(x)
    check_reverse(sum_1d, (x,), lambda x: (np.full(n, 2 * s + 2 * s / n + 1 / n),), rel=1e-13, jit=TABLE_JIT)
    check_forward_agrees(sum_1d, (x,), rng_for("sum_1d", "tangent"), jit=TABLE_JIT)


def sum_vector_axis0(x):
    return np.sum(x, axis=0) ** 2


def mean_vector_axis0(x):
    return np.mean(x, axis=0) ** 2


def test_sum_and_mean_of_a_vector_along_axis_0():
    # NumPy: np.sum(x, axis=0) of a 1-D x is a number, like np.sum(x).
    x = rng_for("axis0 1-D").standard_normal(5)
    assert_close(grad_of(sum_vector_axis0, 0)(x), np.full(5, 2 * np.sum(x)), 1e-14)
    assert_close(grad_of(mean_vector_axis0, 0)(x), np.full(5, 2 * np.mean(x) / 5), 1e-14)


def sum_negative_axis(X):
    return np.sum(np.sin(np.sum(X, axis=-1)))


def test_sum_along_a_negative_axis():
    X = rng_for("axis -1").standard_normal((4, 3))
    assert_close(grad_of(sum_negative_axis, 0)(X), np.cos(X.sum(axis=1))[:, None] * ones_like(X), 1e-14)


# ==== 3b. compiled with numba ==========================================================
# The tables above run the generated code without numba by default (see the module
# docstring).  Compiled code has its own versions of the runtime helpers (numba overloads:
# adjoints summed back to an argument's shape, the halves of matrix-product adjoints,
# elementwise choices), so one small function per helper path runs compiled here; the
# lecture-notes examples and the network (sections 4, 5) are compiled too and cover the
# matrix products (v·v, M·v, v·M, M·M), det, inv, solve, norm, trace and ReLU.

def _case(name):
    for table in (ANALYTIC_CASES, PIECEWISE_CASES, BROADCAST_CASES):
        if name in table:
            f, make_args, *closed = table[name]
            return f, make_args, (closed[0] if closed else "cs")
    f, closed = REDUCTION_CASES[name]
    return f, (lambda rng: (rng.standard_normal((4, 3)),)), (lambda X: (closed(X),))


COMPILED = [   # x[1:] and a broadcast number run compiled below and in section 5
    "X[i, j]", "X[:, j]", "x ** y", "X.T", "np.abs", "np.clip", "np.where(x > y, ...)",
    "(n, m) + (m,)", "(n, m) * (n, 1)", "(1, m) with (n, m)", "np.sum(X, axis=0)", "X.mean(axis=1)",
]
COMPILED_FORWARD = ["x ** y", "np.where(x > y, ...)", "(1, m) with (n, m)", "np.sum(X, axis=0)"]


@pytest.mark.parametrize("name", COMPILED)
def test_compiled_reverse_gradient_matches_oracle(name):
    f, make_args, oracle = _case(name)
    check_reverse(f, make_args(rng_for("compiled", name)), oracle)


@pytest.mark.parametrize("name", COMPILED_FORWARD)
def test_compiled_forward_jvp_agrees_with_reverse(name):
    f, make_args, _ = _case(name)
    check_forward_agrees(f, make_args(rng_for("compiled", name)), rng_for("compiled", name, "tangent"))


def compiled_array_valued(A, x, X, r):
    # A: (3, 4); x: (4,); X: (3, 2); r: (2,)  ->  (3,)
    return np.tanh(A @ x) + np.sum(X * r, axis=1) + x[1:] * 2.0


def test_compiled_vjp_and_jvp_of_an_array_valued_function():
    rng = rng_for("array valued")
    args = (rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 2)), rng.standard_normal(2))
    jacobians = [cs_jacobian(compiled_array_valued, args, k) for k in range(4)]
    tangents = tuple(rng.standard_normal(a.shape) for a in args)
    value, derivative = sd.jvp(compiled_array_valued, args, tangents)
    assert_close(value, compiled_array_valued(*args), 1e-14)
    assert_close(derivative, sum(np.tensordot(J, t, axes=t.ndim) for J, t in zip(jacobians, tangents)), CS)
    value, vjp_fn = sd.vjp(compiled_array_valued, *args)
    assert_close(value, compiled_array_valued(*args), 1e-14)
    cotangent = rng.standard_normal(3)
    for k, (got, J) in enumerate(zip(vjp_fn(cotangent), jacobians)):
        assert_close(got, np.tensordot(cotangent, J, axes=1), CS, what=f"cotangent {k}")


# ==== 4. the lecture notes' matrix examples =============================================

A_NOTES = np.array([[1.0, 2.0, -0.5, 0.25],
                    [-1.0, 0.0, 3.0, 1.5],
                    [0.5, -2.0, 1.0, 4.0]])


def affine(A, x):
    return A @ x


def affine_constant(x):
    return A_NOTES @ x


def test_jacobian_of_Ax_is_A_row_by_row_through_vjp():
    rng = rng_for("Ax rows")
    A, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    value, vjp_fn = sd.vjp(affine, A, x)
    assert_close(value, A @ x, 1e-15)
    for i in range(3):
        e = np.eye(3)[i]
        bA, bx = vjp_fn(e)
        assert_close(bx, A[i], 1e-15, what=f"row {i}")
        assert_close(bA, np.outer(e, x), 1e-15, what=f"d/dA row {i}")


def test_jacobian_of_constant_A_times_x_through_vjp():
    value, vjp_fn = sd.vjp(affine_constant, np.ones(4))
    assert_close(value, A_NOTES.sum(axis=1), 1e-15)
    for i in range(3):
        (bx,) = vjp_fn(np.eye(3)[i])
        assert_close(bx, A_NOTES[i], 0.0)


def test_jacobian_of_Ax_is_A_column_by_column_through_jvp():
    rng = rng_for("Ax columns")
    A, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    for j in range(4):
        value, column = sd.jvp(affine, (A, x), (np.zeros_like(A), np.eye(4)[j]))
        assert_close(value, A @ x, 1e-15)
        assert_close(column, A[:, j], 1e-15, what=f"column {j}")
        value, column = sd.jvp(affine_constant, (x,), (np.eye(4)[j],))
        assert_close(column, A_NOTES[:, j], 0.0)
    # and along A: d(Ax)[dA] = dA x
    dA = rng.standard_normal((3, 4))
    assert_close(sd.jvp(affine, (A, x), (dA, np.zeros(4)))[1], dA @ x, 1e-14)


def quadratic_matmul(x, A):
    return x @ A @ x


def quadratic_loops(x, A):
    s = 0.0
    for i in range(len(x)):
        for j in range(len(x)):
            s += x[i] * A[i, j] * x[j]
    return s


@pytest.mark.parametrize("f", [quadratic_matmul, quadratic_loops])
def test_gradient_of_quadratic_form_is_A_plus_A_transpose_times_x(f):
    rng = rng_for(f.__name__)
    x, A = rng.standard_normal(5), rng.standard_normal((5, 5))   # not symmetric
    gx, gA = grad_all(f, 2)(x, A)
    assert_close(gx, (A + A.T) @ x, 1e-13)
    assert_close(gA, np.outer(x, x), 1e-13)
    value, gx = sd.value_and_grad(f, jit=False)(x, A)
    assert float(value) == pytest.approx(x @ A @ x, rel=1e-13)
    assert_close(gx, (A + A.T) @ x, 1e-13)
    check_forward_agrees(f, (x, A), rng_for(f.__name__, "tangent"))


def least_squares_loops(theta, Phi, y):
    s = 0.0
    for i in range(Phi.shape[0]):
        r = y[i]
        for j in range(Phi.shape[1]):
            r -= Phi[i, j] * theta[j]
        s += r * r
    return s


def least_squares_matmul(theta, Phi, y):
    r = y - Phi @ theta
    return r @ r


def least_squares_sum(theta, Phi, y):
    return np.sum((y - Phi @ theta) ** 2)


def least_squares_norm(theta, Phi, y):
    return np.linalg.norm(y - Phi @ theta) ** 2


@pytest.mark.parametrize("f, jit", [(least_squares_loops, True), (least_squares_matmul, True),
                                    (least_squares_sum, TABLE_JIT), (least_squares_norm, TABLE_JIT)],
                         ids=["loops", "matmul", "np.sum", "np.linalg.norm"])
def test_least_squares_gradient_is_minus_two_phi_transpose_residual(f, jit):
    rng = rng_for("least squares")
    Phi, y, theta = rng.standard_normal((7, 3)), rng.standard_normal(7), rng.standard_normal(3)
    r = y - Phi @ theta
    g_theta, g_Phi, g_y = grad_all(f, 3, jit)(theta, Phi, y)
    assert_close(g_theta, -2 * Phi.T @ r, 1e-13)
    assert_close(g_Phi, -2 * np.outer(r, theta), 1e-13)
    assert_close(g_y, 2 * r, 1e-13)
    assert_close(grad_of(f, 0, False)(theta, Phi, y), -2 * Phi.T @ r, 1e-13)     # in theta alone
    # at the least-squares solution the gradient vanishes
    best = np.linalg.lstsq(Phi, y, rcond=None)[0]
    assert np.max(np.abs(grad_all(f, 3, jit)(best, Phi, y)[0])) < 1e-12
    check_forward_agrees(f, (theta, Phi, y), rng_for(f.__name__, "tangent"), jit=jit)


def trace_of_product(A, B):
    return np.trace(A @ B)


def test_gradient_of_trace_AB_is_B_transpose():
    rng = rng_for("trace AB")
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    gA, gB = grad_all(trace_of_product, 2)(A, B)
    assert_close(gA, B.T, 1e-15)
    assert_close(gB, A.T, 1e-15)
    check_forward_agrees(trace_of_product, (A, B), rng_for("trace AB", "tangent"))


def test_gradient_of_det_is_det_times_inverse_transpose():
    X = well_conditioned(4)(rng_for("det"))
    want = np.linalg.det(X) * np.linalg.inv(X).T
    assert_close(grad_all(det_fn, 1)(X)[0], want, 1e-12)
    value, g = sd.value_and_grad(det_fn, jit=False)(X)
    assert float(value) == pytest.approx(np.linalg.det(X), rel=1e-13)
    assert_close(g, want, 1e-12)


def bilinear_inverse(X, a, b):
    return a @ np.linalg.inv(X) @ b


def bilinear_solve(X, a, b):
    return a @ np.linalg.solve(X, b)


@pytest.mark.parametrize("f", [bilinear_inverse, bilinear_solve])
def test_gradient_of_a_transpose_X_inverse_b(f):
    rng = rng_for("a X^-1 b")
    X, a, b = well_conditioned(4)(rng), rng.standard_normal(4), rng.standard_normal(4)
    Xinv_T = np.linalg.inv(X).T
    gX, ga, gb = grad_all(f, 3)(X, a, b)
    assert_close(gX, -Xinv_T @ np.outer(a, b) @ Xinv_T, 1e-12)
    assert_close(ga, np.linalg.solve(X, b), 1e-12)
    assert_close(gb, np.linalg.solve(X.T, a), 1e-12)
    check_reverse(f, (X, a, b), "cs")
    check_forward_agrees(f, (X, a, b), rng_for(f.__name__, "tangent"))


# ==== 5. a two-layer ReLU network, batched ==============================================

def network_loss(X, W1, b1, w2, b2, y):
    H = np.maximum(X @ W1 + b1, 0.0)
    return np.sum((H @ w2 + b2 - y) ** 2)


def network_backprop(X, W1, b1, w2, b2, y):
    """The hand derivation, in NumPy: forward pass, then adjoints layer by layer."""
    Z = X @ W1 + b1                 # (m, p)
    H = np.maximum(Z, 0.0)
    r = H @ w2 + b2 - y             # (m,)
    d_yhat = 2.0 * r
    d_w2 = H.T @ d_yhat
    d_b2 = np.sum(d_yhat)
    d_H = np.outer(d_yhat, w2)
    d_Z = d_H * (Z > 0)
    d_W1 = X.T @ d_Z
    d_b1 = d_Z.sum(axis=0)
    return d_W1, d_b1, d_w2, d_b2


def network_data(key="network"):
    m, d, p = 8, 5, 6
    rng = rng_for(key)
    X = rng.standard_normal((m, d))
    W1, b1 = rng.standard_normal((d, p)) / np.sqrt(d), 0.1 * rng.standard_normal(p)
    w2, b2 = rng.standard_normal(p) / np.sqrt(p), 0.3
    y = rng.standard_normal(m)
    Z = X @ W1 + b1
    assert np.min(np.abs(Z)) > 1e-3 and 0 < np.mean(Z > 0) < 1    # off the kinks, both sides used
    return X, W1, b1, w2, b2, y


def test_hand_backprop_matches_central_differences():
    args = network_data()
    hand = network_backprop(*args)
    for k, h in zip((1, 2, 3, 4), hand):
        assert_close(h, cd_jacobian(network_loss, args, k), FD, what=f"argument {k}")


WEIGHTS = (1, 2, 3, 4)


def test_network_gradients_match_hand_backprop():
    args = network_data()
    grads = grad_of(network_loss, WEIGHTS)(*args)
    assert len(grads) == 4
    for name, g, h, a in zip(("W1", "b1", "w2", "b2"), grads, network_backprop(*args), args[1:5]):
        assert np.shape(g) == np.shape(a), name
        assert_close(g, h, 1e-13, what=name)


def test_network_value_and_grad_and_forward_mode():
    args = network_data("network 2")
    assert_close(grad_of(network_loss, WEIGHTS)(*args)[0], network_backprop(*args)[0], 1e-13)
    value, grads = sd.value_and_grad(network_loss, wrt=("W1", "b1", "w2", "b2"), jit=False)(*args)
    assert float(value) == pytest.approx(network_loss(*args), rel=1e-14)
    for g, h in zip(grads, network_backprop(*args)):
        assert_close(g, h, 1e-13)
    check_forward_agrees(network_loss, args, rng_for("network", "tangent"), wrt=WEIGHTS)


# ==== array-valued functions through vjp and jvp ========================================

def ew_product(x, y):
    return np.sin(x) * y


def transpose_value(X):
    return X.T * 2.0


def row_broadcast_value(X, r):
    return np.exp(X + r)


def column_sums(X):
    return np.sum(X ** 2, axis=0)


def matmul_value(A, B):
    return A @ B


def outer_value(x, y):
    return np.outer(x, y)


def inverse_value(A):
    return np.linalg.inv(A)


def solve_value(A, b):
    return np.linalg.solve(A, b)


def slice_value(x):
    return x[1:] - x[:-1]


VALUE_CASES = {
    "sin(x) * y": (ew_product, make(vec(4), vec(4))),
    "X.T": (transpose_value, make(mat(3, 4))),
    "exp(X + r)": (row_broadcast_value, make(mat(3, 4), vec(4))),
    "np.sum(X ** 2, axis=0)": (column_sums, make(mat(3, 4))),
    "A @ x": (affine, make(mat(3, 4), vec(4))),
    "A @ B": (matmul_value, make(mat(3, 4), mat(4, 2))),
    "np.outer": (outer_value, make(vec(3), vec(2))),
    "np.linalg.inv": (inverse_value, make(well_conditioned(3))),
    "np.linalg.solve": (solve_value, make(well_conditioned(3), vec(3))),
    "x[1:] - x[:-1]": (slice_value, make(vec(5))),
}


@pytest.mark.parametrize("name", list(VALUE_CASES))
def test_vjp_of_array_valued_function_matches_complex_step(name):
    f, make_args = VALUE_CASES[name]
    rng = rng_for(name)
    args = make_args(rng)
    value, vjp_fn = sd.vjp(f, *args, jit=TABLE_JIT)
    assert_close(value, f(*args), 1e-14)
    cotangent = rng.standard_normal(np.shape(value))
    cotangents = vjp_fn(cotangent)
    assert len(cotangents) == len(args)
    for k, (got, a) in enumerate(zip(cotangents, args)):
        jac = cs_jacobian(f, args, k)
        assert_close(got, np.tensordot(cotangent, jac, axes=cotangent.ndim), CS, what=f"cotangent {k}")
        assert np.shape(got) == np.shape(a)
    check_jacobians(f, args, lambda J: tuple(np.tensordot(cotangent, j, axes=cotangent.ndim) for j in J), cotangents)


@pytest.mark.parametrize("name", list(VALUE_CASES))
def test_jvp_of_array_valued_function_matches_complex_step(name):
    f, make_args = VALUE_CASES[name]
    rng = rng_for(name)
    args = make_args(rng)
    tangents = tuple(random_like(rng, a) for a in args)
    value, derivative = sd.jvp(f, args, tangents, jit=TABLE_JIT)
    assert_close(value, f(*args), 1e-14)
    want = sum(np.tensordot(cs_jacobian(f, args, k), t, axes=np.ndim(t)) for k, t in enumerate(tangents))
    assert_close(derivative, want, CS)
    check_jacobians(f, args, lambda J: sum(np.tensordot(j, t, axes=np.ndim(t)) for j, t in zip(J, tangents)), derivative)


@functools.cache
def plain_jacobian(f, wrt, mode):
    return sd.jacobian(f, wrt=wrt, mode=mode, jit=False)


def check_jacobians(f, args, contract, tested):
    """sd.jacobian in every argument, both modes (jit=False), contracted as the tested vjp
    or jvp contracts it, gives the tested result (a disagreement fails after the test)."""
    for mode in MODES:
        with recorded(f"sd.jacobian(mode={mode!r}) of {f.__name__}, against the tested result"):
            got = _tuple(contract(plain_jacobian(f, tuple(range(len(args))), mode)(*args)))
            assert len(got) == len(_tuple(tested))
            for k, (g, t) in enumerate(zip(got, _tuple(tested))):
                assert_close(g, t, AGREE, what=f"part {k}")


def _tuple(result):
    return result if isinstance(result, tuple) else (result,)


def test_vjp_of_scalar_valued_array_function_is_the_gradient_scaled():
    rng = rng_for("vjp scalar")
    A, x = rng.standard_normal((3, 5)), rng.standard_normal(5)
    value, vjp_fn = sd.vjp(matmul_mv, A, x)
    assert float(value) == pytest.approx(matmul_mv(A, x), rel=1e-14)
    gA, gx = grad_all(matmul_mv, 2, TABLE_JIT)(A, x)
    bA, bx = vjp_fn(2.5)
    assert_close(bA, 2.5 * gA, 1e-15)
    assert_close(bx, 2.5 * gx, 1e-15)


# ==== loops carrying whole arrays =======================================================

def recurrent(W, x):
    h = x
    for k in range(3):
        h = np.tanh(W @ h)
    return np.sum(h)


def euler_steps(x0, A, dt):
    x = x0
    k = 0
    while k < 20:                        # a while loop: the tape of states grows
        x = x + dt * np.tanh(A @ x)
        k += 1
    return np.sum(x * x)


@pytest.mark.parametrize("f, make", [
    (recurrent, lambda r: (r.standard_normal((4, 4)), r.standard_normal(4))),
    (euler_steps, lambda r: (r.standard_normal(3), r.standard_normal((3, 3)), 0.125)),
], ids=["recurrent", "euler_steps"])
def test_arrays_carried_through_loops_are_taped_per_iteration(f, make):
    args = make(rng_for(f.__name__))
    n = len(args)
    got = grad_all(f, n)(*args)
    for k in range(n):
        assert_close(got[k], cs_jacobian(f, args, k), CS, what=f"{f.__name__} argument {k}")
    check_forward_agrees(f, args, rng_for(f.__name__, "tangent"))
    # h = tanh(W @ h): a shape not proved the same in every iteration, each kept on its own
    assert "array_tape(" in grad_all(f, n).source
    check_entry_points("G", f, tuple(range(n)), args, got)


# ==== 5c. Jacobians with shape out.shape + in.shape, both modes ===========================

def two_outputs(x, c):
    return np.sum(x * x) * c, np.sum(np.sin(x))


@functools.cache
def jacobian_of(f, wrt, mode):
    return sd.jacobian(f, wrt=wrt, mode=mode)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_Ax_is_A_and_in_A_is_x_spread(mode):
    rng = rng_for("jacobian Ax", mode)
    A, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    JA, Jx = jacobian_of(affine, (0, 1), mode)(A, x)
    assert Jx.shape == (3, 4) and JA.shape == (3, 3, 4)
    assert_close(Jx, A, 1e-15)
    assert_close(JA, np.einsum("ij,k->ijk", np.eye(3), x), 1e-15)     # d(Ax)_i / dA_jk = δ_ij x_k


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_an_elementwise_matrix_function(mode):
    X = rng_for("elementwise jacobian").standard_normal((2, 3))
    J = jacobian_of(sin_weighted_elements, 0, mode)(X)
    assert J.shape == (2, 3, 2, 3)
    assert_close(J, cs_jacobian(sin_weighted_elements, (X,), 0), CS)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_a_tuple_result_in_an_array_and_a_number(mode):
    x = rng_for("tuple jacobian").standard_normal(5)
    Jx, Jc = jacobian_of(two_outputs, (0, 1), mode)(x, 0.7)
    assert Jx.shape == (2, 5) and Jc.shape == (2,)
    assert_close(Jx, np.array([2 * 0.7 * x, np.cos(x)]), 1e-14)
    assert_close(Jc, np.array([x @ x, 0.0]), 1e-14)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_a_scalar_function_is_its_gradient(mode):
    X = rng_for("scalar jacobian").standard_normal((3, 2))
    J = jacobian_of(sin_weighted, 0, mode)(X)
    assert J.shape == (3, 2)
    assert_close(J, np.sin(X) + X * np.cos(X), 1e-14)


def test_forward_mode_gradient_over_arrays_equals_reverse():
    rng = rng_for("forward grad")
    x, A = rng.standard_normal(5), rng.standard_normal((5, 5))
    forward = sd.grad(quadratic_matmul, wrt=(0, 1), mode="forward")(x, A)
    assert_close(forward[0], (A + A.T) @ x, 1e-13)
    assert_close(forward[1], np.outer(x, x), 1e-13)


# ==== 6. shapes, dtypes and argument checks ============================================

def sin_weighted(X):
    return np.sum(np.sin(X) * X)


def sin_weighted_elements(X):
    return np.sin(X) * X            # no evidence in the code that X is an array: found at the call


@pytest.mark.parametrize("shape", [(5,), (1,), (3, 4), (4, 1), (1, 4), (1, 1)])
def test_gradient_keeps_the_argument_shape_and_is_float64(shape):
    X = rng_for("shape", shape).standard_normal(shape)
    g = grad_of(sin_weighted, 0)(X)
    assert isinstance(g, np.ndarray) and g.shape == shape and g.dtype == np.float64
    assert_close(g, np.cos(X) * X + np.sin(X), 1e-15)


def test_float32_arguments_give_float32_gradients_computed_in_float64():
    X = rng_for("layouts").standard_normal((4, 6))
    g32 = grad_of(sin_weighted, 0)(X.astype(np.float32))
    assert g32.dtype == np.float32 and g32.shape == (4, 6)
    X32 = X.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(g32, (np.cos(X32) * X32 + np.sin(X32)).astype(np.float32), rtol=1.2e-7)


def test_non_contiguous_arguments_give_float64_gradients():
    X = rng_for("layouts").standard_normal((4, 6))
    for view in (X[:, ::2], X.T, np.asfortranarray(X), X[::-1]):
        g = grad_of(sin_weighted, 0)(view)
        assert g.shape == view.shape and g.dtype == np.float64
        assert_close(g, np.cos(view) * view + np.sin(view), 1e-15)


def test_gradients_for_a_tuple_of_arguments_keep_each_shape():
    args = network_data()
    grads = grad_all(network_loss, 6, TABLE_JIT)(*args)
    for g, a in zip(grads, args):
        assert np.shape(g) == np.shape(a)
        assert np.asarray(g).dtype == np.float64


def sum_of_sum(x, y):
    return np.sum(x + y)


def test_gradients_of_different_arguments_are_independent_arrays():
    # Both adjoints of x + y are the result's adjoint; the returned gradients must still be
    # separate arrays (an optimizer scales them in place).
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    gx, gy = grad_all(sum_of_sum, 2)(x, y)
    assert_close(gx, np.ones(3), 0.0)
    assert_close(gy, np.ones(3), 0.0)
    assert not np.shares_memory(gx, gy)
    gx *= 0.5
    assert_close(gy, np.ones(3), 0.0)


def test_wrt_by_name_is_wrt_by_index():
    rng = rng_for("by name")
    A, x = rng.standard_normal((3, 5)), rng.standard_normal(5)
    by_name = sd.grad(matmul_mv, wrt="x", jit=TABLE_JIT)(A, x)
    assert_close(by_name, grad_all(matmul_mv, 2, TABLE_JIT)(A, x)[1], 1e-15)


INTEGER_ARRAYS = [np.arange(5), np.arange(5, dtype=np.int32), np.array([1, 0, 2], dtype=np.uint8)]


@pytest.mark.parametrize("ints", INTEGER_ARRAYS, ids=lambda a: str(a.dtype))
def test_integer_array_for_a_differentiated_argument_is_a_type_error(ints):
    with pytest.raises(TypeError, match="integer"):
        grad_of(sin_weighted, 0)(ints)
    with pytest.raises(TypeError, match="integer"):
        sd.value_and_grad(sin_weighted)(ints)
    with pytest.raises(TypeError, match="integer"):
        sd.jvp(sin_weighted, (np.ones(len(ints)),), (ints,))
    # sd.vjp and sd.jvp take every argument: an integer array is one never differentiated
    # (class labels, indices), with a zero cotangent and a zero tangent only
    assert sd.vjp(sin_weighted, ints)[1](1.0)[0].tolist() == [0.0] * len(ints)
    with pytest.raises(ValueError, match="is an integer, never differentiated"):
        sd.jvp(sin_weighted, (ints,), (np.ones(len(ints)),))


def test_integer_array_is_rejected_for_each_differentiated_argument_of_a_tuple():
    rng = rng_for("int tuple")
    A, x = rng.standard_normal((3, 5)), rng.standard_normal(5)
    with pytest.raises(TypeError, match="integer"):
        grad_of(matmul_mv, (0, 1))(A, np.arange(5))
    with pytest.raises(TypeError, match="integer"):
        grad_of(matmul_mv, (0, 1))(np.ones((3, 5), dtype=np.int64), x)
