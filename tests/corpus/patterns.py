"""The patterns issue 14 reported as silently wrong or crashing, each with relatives: the
same construct spelled the other ways people spell it."""
import math

import numpy as np

from corpus import case, mat, vec

# ---- 1. value_and_grad / vjp of nested loops -------------------------------------------------


@case(0.5, tags=("nested-loop", "issue-14-repro-1"))
def nested_loop_product(x):
    s = 0.0
    for i in range(4):
        t = 1.0
        for j in range(i + 1):
            t = t * (x + j)
        s += t
    return s


@case(0.7, 0.3, tags=("nested-loop", "two-inputs"))
def nested_loop_two_inputs(x, y):
    s = 0.0
    for i in range(3):
        p = y
        for j in range(i + 2):
            p = p * x + j
        s += p * p
    return s


@case(vec(3), tags=("nested-loop", "array-element-inner"))
def nested_loop_array(x):
    s = 0.0
    for i in range(len(x)):
        acc = 1.0
        for j in range(i + 1):
            acc = acc * x[j] + 1.0
        s = s + acc
    return s


# ---- 2. NumPy calls taking a tuple or list of differentiated arrays -----------------------


@case(np.array([1.0, 2.0]), np.array([3.0, 4.0]), tags=("concatenate", "tuple-of-arrays", "issue-14-repro-2"))
def concatenate_tuple(x, y):
    return np.sum(np.concatenate((x, y)) ** 2)


@case(np.array([1.0, 2.0]), np.array([3.0, 4.0]), tags=("concatenate", "list-of-arrays"))
def concatenate_list(x, y):
    return np.sum(np.concatenate([x, y]) ** 2)


@case(vec(3), vec(3, seed=1), tags=("vstack", "tuple-of-arrays"))
def vstack_tuple(x, y):
    return np.sum(np.vstack((x, y)) ** 2)


@case(vec(3), vec(3, seed=1), tags=("hstack", "tuple-of-arrays"))
def hstack_tuple(x, y):
    return np.sum(np.hstack((x, y)) ** 2)


@case(vec(3), vec(3, seed=1), tags=("column_stack", "tuple-of-arrays"))
def column_stack_tuple(x, y):
    return np.sum(np.column_stack((x, y)) ** 2)


@case(vec(3), vec(3, seed=1), tags=("stack", "tuple-of-arrays"))
def stack_tuple(x, y):
    return np.sum(np.stack((x, y)) ** 2)


@case(vec(3), vec(3, seed=1), tags=("stack", "axis"))
def stack_axis1(x, y):
    S = np.stack((x, y), axis=1)
    return np.sum(S[:, 0] * S[:, 1])


@case(mat(2, 2), mat(2, 2, seed=1), tags=("dstack", "3d-result"))
def dstack_tuple(A, B):
    return np.sum(np.dstack((A, B)) ** 2)


@case(2.3, tags=("builtin-sum", "tuple-of-numbers", "issue-14-repro-2"))
def builtin_sum_tuple(x):
    return sum((x, x * x))


@case(vec(3), tags=("builtin-sum", "tuple-of-arrays"))
def builtin_sum_arrays(x):
    return np.sum(sum((x, x * x)))


@case(vec(3), vec(3, seed=1), tags=("concatenate", "array-return"))
def concatenate_returned(x, y):
    return np.concatenate((np.sin(x), y * x))


# ---- 3. kernels called as statements that write into an argument -------------------------------


def scale_add_kernel(C, A):
    C[:] = 2.0 * A + C


@case(mat(2, 2), mat(2, 2, seed=1), tags=("kernel-writes-argument", "call-statement", "issue-14-repro-3"))
def call_statement_objective(C, A):
    scale_add_kernel(C, A)
    return np.sum(C)


def gemm_update(C, A, B, alpha, beta):
    C[:] = alpha * A @ B + beta * C


@case(mat(2, 2), mat(2, 2, seed=1), mat(2, 2, seed=2), 0.7, 1.3, tags=("kernel-writes-argument", "gemm"))
def gemm_call_statement(C, A, B, alpha, beta):
    gemm_update(C, A, B, alpha, beta)
    return np.sum(C**2)


def fill_squares(out, x):
    for i in range(len(x)):
        out[i] = x[i] ** 2


@case(vec(4), tags=("kernel-writes-local", "call-statement", "loop-kernel"))
def call_statement_into_local(x):
    out = np.zeros(len(x))
    fill_squares(out, x)
    return np.sum(out * x)


def normalize_in_place(v):
    v /= np.sqrt(np.sum(v * v))


@case(vec(4), tags=("kernel-augmented-argument", "call-statement", "copy-first"))
def normalize_copy_then_call(x):
    v = x.copy()
    normalize_in_place(v)
    return v[0] + 2 * v[1]


def add_outer(M, u, v):
    M += np.outer(u, v)
    return M


@case(mat(3), vec(3), vec(3, seed=1), tags=("kernel-writes-and-returns", "call-expression"))
def kernel_result_used(M, u, v):
    N = add_outer(M.copy(), u, v)
    return np.sum(N**2)


# ---- 4. int-initialized accumulators --------------------------------------------------------


@case(-1.5, tags=("int-init", "reverse-tape", "issue-14-repro-4"))
def int_init_power(a):
    out = 1
    for i in range(2):
        out = out * a
    return out


@case(0.8, tags=("int-init", "augmented"))
def int_init_augmented(a):
    out = 1
    for i in range(3):
        out *= a + i
    return out


@case(vec(3), tags=("int-init", "array-elements"))
def int_init_array_product(x):
    p = 1
    for i in range(len(x)):
        p = p * (x[i] + 2)
    return p


@case(0.6, tags=("int-init", "while"))
def int_init_while(a):
    s = 0
    k = 0
    while k < 4:
        s = s * a + k
        k += 1
    return s


@case(1.7, tags=("int-init", "branch"))
def int_init_branch(a):
    r = 0
    for i in range(3):
        if i % 2 == 0:
            r = r + a * a
        else:
            r = r * a
    return r


# ---- 5. whole-row and column writes into 2-D local arrays ---------------------------------------


@case(vec(3), tags=("row-write", "issue-14-repro-5"))
def row_write(v):
    h = np.zeros((2, 3))
    h[1] = v
    return np.sum(h)


@case(vec(3), tags=("row-write", "broadcast-number"))
def row_write_number(v):
    h = np.zeros((2, 3))
    h[1] = v[0]
    return np.sum(h * h)


@case(vec(3), tags=("row-slice-write",))
def row_slice_write(v):
    h = np.zeros((2, 3))
    h[1, :] = v
    return np.sum(h)


@case(vec(2), tags=("column-write",))
def column_write(v):
    h = np.zeros((2, 3))
    h[:, 1] = v * v
    return np.sum(h)


@case(vec(3), tags=("row-write", "loop", "rows-read-back"))
def row_writes_in_loop(v):
    H = np.zeros((3, 3))
    H[0] = v
    for t in range(1, 3):
        H[t] = np.tanh(H[t - 1] + v)
    return np.sum(H[2] ** 2)


@case(vec(3), tags=("row-augmented-write",))
def row_augmented_write(v):
    H = np.ones((2, 3))
    H[0] += v
    H[1] -= 2 * v
    return np.sum(H**2)


@case(vec(2), tags=("column-write", "loop"))
def column_writes_in_loop(v):
    M = np.zeros((2, 3))
    for j in range(3):
        M[:, j] = v * (j + 1)
    return np.sum(M * M)


# ---- 6. grad(grad(f)) of a loop inside an if -----------------------------------------------------


@case(0.5, tags=("loop-inside-if", "issue-14-repro-6"))
def loop_inside_if(a):
    if a < 20:
        for i in range(3):
            a = a * a
    return a


@case(0.9, tags=("loop-inside-else",))
def loop_inside_else(a):
    if a > 5:
        a = a + 1
    else:
        for i in range(2):
            a = math.sin(a) * a
    return a


# ---- 7. an array that becomes differentiated inside a loop, then is indexed -------------------


@case(np.array([0.5, -1.0, 2.0]), np.array([[1.0, 2.0, 3.0], [0.1, 0.2, 0.3]]), wrt=0,
      tags=("becomes-active-in-loop", "row-read", "issue-14-repro-7"))
def becomes_active_in_loop(w, state):
    s = state
    for t in range(2):
        s = s[0] * w + state
    return np.sum(s)


@case(vec(3), 0.7, tags=("dot-with-number",))
def dot_with_number(x, a):
    return np.sum(np.dot(a, x))


@case(0.8, tags=("mean-of-number",))
def mean_of_number(a):
    return np.mean(a * a)


@case(vec(3), vec(3, seed=1), wrt=0, tags=("becomes-active-in-loop", "element-read"))
def becomes_active_element(w, data):
    s = data
    for t in range(3):
        s = s * w + data[0]
    return s[1]


# ---- 8. transforms over transforms ---------------------------------------------------------------


@case(mat(3), tags=("trace", "matmul", "issue-14-repro-8"))
def trace_matmul(X):
    return np.trace(X @ X)


@case(0.4, tags=("two-returns", "issue-14-repro-8"))
def two_returns_second_derivative(x):
    if x > 0:
        return x**3
    return -x


@case(0.3, np.array([0.3, -1.1, 0.9]), tags=("number-against-data-array", "second-derivative"))
def squared_deviations(mu, x):
    return np.sum((x - mu) ** 2)


@case(mat(2, 3), tags=("3d-local-array", "outer", "row-of-3d"))
def stacked_outer_products(X):
    T = np.zeros((2, 3, 3))
    for k in range(2):
        T[k] = np.outer(X[k], X[k])
    return np.sum(T**2)


# ---- style relatives: x ** 2 vs x * x, (i + 1) % n, .T, @, axis= / keepdims= ----------------


@case(vec(5), tags=("x-squared",))
def square_by_power(x):
    return np.sum(x**2 * np.sin(x))


@case(vec(5), tags=("x-times-x",))
def square_by_product(x):
    return np.sum(x * x * np.sin(x))


@case(vec(5), tags=("periodic-modulo", "loop"))
def ring_coupling(x):
    n = len(x)
    e = 0.0
    for i in range(n):
        e += math.cos(x[(i + 1) % n] - x[i])
    return e


@case(mat(3, 2), tags=("transpose-attribute", "matmul"))
def gram_by_transpose(A):
    return np.sum(A.T @ A)


@case(mat(3, 2), tags=("transpose-function",))
def gram_by_np_transpose(A):
    return np.sum(np.transpose(A) @ A)


@case(mat(3, 2), tags=("axis-keyword",))
def column_sums_axis(A):
    return np.sum(np.sum(A, axis=0) ** 2)


@case(mat(3, 2), tags=("axis-positional",))
def column_sums_positional(A):
    return np.sum(np.sum(A, 0) ** 2)


@case(mat(3, 2), tags=("keepdims",))
def keepdims_normalize(A):
    return np.sum(A / np.sum(A**2, axis=1, keepdims=True))


@case(mat(3, 2), tags=("negative-axis",))
def negative_axis(A):
    return np.sum(np.mean(A, axis=-1) ** 2)


@case(vec(4), tags=("parameter-write", "in-place-argument"))
def writes_parameter_element(x):
    x[0] = x[0] * 2.0
    return np.sum(x**2)


@case(vec(4), tags=("parameter-augmented", "in-place-argument"))
def augments_parameter(x):
    x += 1.0
    return np.sum(x**3)


@case(vec(4), tags=("copy-hint-followed", "parameter-rebinding"))
def copy_then_write(x):
    x = x.copy()
    x[0] = x[0] * 2.0
    return np.sum(x**2)


@case(vec(4), tags=("view-write", "alias"), expect="refused:written-array-not-new")
def write_through_view(x):
    y = x.copy()
    tail = y[1:]
    tail[0] = 5.0 * tail[0]
    return np.sum(y**2)


@case(vec(4), tags=("alias", "second-name"), expect="refused:written-array-not-new")
def alias_then_write(x):
    y = np.zeros(4)
    z = y
    z[1] = x[1]
    return np.sum(y * x)


@case(vec(4), tags=("overwrite-in-loop", "element-reread"))
def overwrite_then_read(x):
    y = x.copy()
    for i in range(1, len(y)):
        y[i] = y[i] * y[i - 1]
    return np.sum(y)


@case(vec(4), tags=("shape-tuple", "zeros-of-shape"))
def zeros_from_shape(x):
    out = np.zeros(x.shape)
    for i in range(x.shape[0]):
        out[i] = math.exp(x[i])
    return np.sum(out)


@case(vec(4), tags=("float-of-element", "cast"), oracle="fd")
def float_cast(x):
    return float(x[0]) * x[1] + float(np.sum(x))


@case(vec(4), tags=("int-cast", "piecewise-constant"), oracle="fd")
def int_cast_index(x):
    k = int(abs(x[0]) * 3) % len(x)
    return x[k] ** 2 + x[0]
