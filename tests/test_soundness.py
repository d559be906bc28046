"""Code written elsewhere that s2sdiff once differentiated wrongly without a word (issue 14),
each now right against an independent oracle or refused naming the line — in every
entry point, with and without numba."""
import math

import numpy as np
import pytest

import s2sdiff as sd
from oracles import assert_close

JIT = pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])


def nested_products(x):
    s = 0.0
    for i in range(4):
        t = 1.0
        for j in range(i + 1):
            t = t * (x + j)
        s += t
    return s


def nested_products_derivative(x):
    # d/dx of Σ_i Π_{j≤i} (x + j): the product rule term by term
    return sum(sum(math.prod(x + k for k in range(i + 1) if k != j) for j in range(i + 1)) for i in range(4))


@JIT
def test_value_and_grad_and_vjp_of_nested_loops(jit):
    # value_and_grad moved the outer loop into its adjoint loop, then dropped the inner
    # loop's restart of the recomputed product: 157.15625 instead of 30.75
    want = nested_products_derivative(0.5)
    assert want == 30.75
    value, g = sd.value_and_grad(nested_products, jit=jit)(0.5)
    assert value == nested_products(0.5) and g == want
    assert sd.vjp(nested_products, 0.5, jit=jit)[1](1.0) == (want,)
    assert sd.grad(nested_products, jit=jit)(0.5) == want
    assert sd.grad(nested_products, mode="forward", jit=jit)(0.5) == want


def joined(x, y):
    return np.sum(np.concatenate((x, y)) ** 2)


def blocked(x, y):
    return np.sum(np.block((x, y)) ** 2)


def builtin_sum_of_a_tuple(x):
    return sum((x, x * x))


def largest_of_a_list(x):
    return max([x, 2.0 * x, 1.0])


@JIT
def test_tuples_of_differentiated_values(jit):
    # the tuple was kept whole, with no derivative: zero gradients
    gx, gy = sd.grad(joined, wrt=(0, 1), jit=jit)(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_array_equal(gx, [2.0, 4.0])
    np.testing.assert_array_equal(gy, [6.0, 8.0])
    with pytest.raises(sd.UnsupportedError, match=r"cannot differentiate through np.block\(\)") as info:
        sd.grad(blocked, wrt=(0, 1), jit=jit)(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert "test_soundness.py" in str(info.value) and "np.block((x, y))" in str(info.value)
    assert sd.grad(builtin_sum_of_a_tuple, jit=jit)(2.3) == pytest.approx(1 + 2 * 2.3, rel=1e-15)
    assert sd.grad(largest_of_a_list, mode="forward", jit=jit)(0.75) == 2.0


def kernel(C, A):
    C[:] = 2.0 * A + C


def kernel_objective(C, A):
    kernel(C, A)
    return np.sum(C)


def kernel_returning_a_copy(C, A):
    C = C.copy()
    C[:] = 2.0 * A + C
    return C


def objective_as_the_message_suggests(C, A):
    C = kernel_returning_a_copy(C, A)
    return np.sum(C)


def sorts_in_place(x):
    y = x * 1.0
    y.sort()
    return y[0]


@JIT
def test_calls_that_change_their_arguments(jit):
    # the call statement was once kept as written, with no derivative: d/dA came out 0; now
    # the kernel's written C is its output (C = kernel(C, A)), as the fix once suggested
    C, A = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    for objective in (kernel_objective, objective_as_the_message_suggests):
        gC, gA = sd.grad(objective, wrt=(0, 1), jit=jit)(C, A)
        assert gC.tolist() == [1.0, 1.0] and gA.tolist() == [2.0, 2.0]
    assert C.tolist() == [1.0, -2.0]
    with pytest.raises(sd.UnsupportedError, match=r"y.sort\(\) may change 'y' in place"):
        sd.grad(sorts_in_place, jit=jit)


def power_from_an_int(a):
    out = 1
    for i in range(2):
        out = out * a
    return out


def counted_scale(x, gamma):
    w = 1
    s = 0.0
    for t in range(3):
        s += w * math.sin(x * t)
        w = w * gamma
    return s


@JIT
def test_a_value_that_starts_as_an_int(jit):
    # the tape took the int's dtype and truncated the floats: -2.5 instead of -3.0
    assert sd.grad(power_from_an_int, jit=jit)(-1.5) == -3.0
    assert sd.hessian(power_from_an_int, jit=jit)(-1.5) == 2.0
    # an inactive int that becomes a float through a parameter not differentiated
    want = sum(t * 0.5 ** t * math.cos(0.4 * t) for t in range(3))      # d/dx Σ γ^t sin(x t)
    assert_close(sd.grad(counted_scale, jit=jit)(0.4, 0.5), want, rel=1e-14)


def row_write(v):
    h = np.zeros((2, 3))
    h[1] = v
    return np.sum(h)


def number_broadcast_into_a_row(v):
    h = np.zeros((2, 3))
    h[1] = v[0]
    return np.sum(h * h)


def rnn(W, U, xs):
    H = np.zeros((4, 3))
    h = np.zeros(3)
    for t in range(4):
        h = np.tanh(W @ h + U * xs[t])
        H[t] = h
    return np.sum(H * H)


@JIT
def test_row_writes(jit):
    # the adjoint of h[1] = v was a view of bh, zeroed right after it was read: zeros
    v = np.array([1.0, -2.0, 0.5])
    for mode in ("reverse", "forward"):
        assert sd.grad(row_write, mode=mode, jit=jit)(v).tolist() == [1.0, 1.0, 1.0]
        assert sd.grad(number_broadcast_into_a_row, mode=mode, jit=jit)(v).tolist() == [6.0, 0.0, 0.0]
    rng = np.random.default_rng(3)
    W, U, xs = 0.5 * rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal(4)
    want = _five_point_gradient(lambda w: rnn(w, U, xs), W)      # H holds floats: no complex step
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(sd.grad(rnn, mode=mode, jit=jit)(W, U, xs), want, rtol=1e-8, atol=1e-10)


def squared_in_a_branch(a):
    if a < 20:
        for i in range(3):
            a = a * a
    return a


@JIT
def test_second_derivative_of_a_loop_in_a_branch(jit):
    # the adjoint of the tape, read after the branch, was zeroed inside it: an unbound name
    assert_close(sd.grad(sd.grad(squared_in_a_branch, jit=jit), jit=jit)(1.1), 56 * 1.1 ** 6, rel=1e-13)
    assert_close(sd.derivative(squared_in_a_branch, order=2, jit=jit)(1.1), 56 * 1.1 ** 6, rel=1e-13)


def state_made_active(w, state):
    s = state
    for t in range(2):
        s = s[0] * w + state
    return np.sum(s)


def broadcast_by_a_constant(a, X):
    return np.sum(a + X)


def dot_with_a_number(x):
    return np.sum(np.dot(2.0, x))


def mean_of_a_number(x):
    return np.mean(x * 2.0)


@JIT
def test_tangents_have_their_values_shape(jit):
    # ds started as the number 0.0; a + X had the tangent da, not da in each of X's elements
    w, state = np.array([0.5, -1.0, 2.0]), np.array([[1.0, 2.0, 3.0], [0.1, 0.2, 0.3]])
    want = 2 * state[0] * (2 * w + 1)                 # Σ rows of (s0 w + s0) w + state
    for mode in ("forward", "reverse"):
        assert sd.grad(state_made_active, mode=mode, jit=jit)(w, state).tolist() == want.tolist()
        assert sd.grad(broadcast_by_a_constant, mode=mode, jit=jit)(0.5, np.ones((2, 3))) == 6.0
        assert sd.grad(dot_with_a_number, mode=mode, jit=jit)(np.array([1.0, 2.0])).tolist() == [2.0, 2.0]
        assert sd.grad(mean_of_a_number, mode=mode, jit=jit)(1.5) == 2.0


def trace_of_square(X):
    return np.trace(X @ X)


def two_values(x):
    return math.sin(x) * x, x ** 3


@JIT
def test_transforms_read_their_own_code(jit):
    # `(X @ X).shape[0]` in the gradient and a tuple named in the derivative were refused
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    H = sd.hessian(trace_of_square, jit=jit)(X)
    want = np.zeros((2, 2, 2, 2))                      # d/dX_kl of 2 X_ji is 2 δ_jk δ_il
    for i in range(2):
        for j in range(2):
            want[i, j, j, i] = 2.0
    assert H.tolist() == want.tolist()
    d2 = sd.derivative(two_values, order=2, jit=jit)(0.4)
    assert_close(d2, (2 * math.cos(0.4) - 0.4 * math.sin(0.4), 6 * 0.4), rel=1e-14)


def vector_valued(x):
    return x * 2.0


def vector_valued_through_a_helper(x):
    return vector_valued(x)


@JIT
def test_grad_of_an_array_valued_function_raises(jit):
    # it used to give the gradient of the sum of the elements; an array of one element is
    # refused too, as JAX does
    with pytest.raises(sd.S2SDiffError, match="scalar-valued"):
        sd.grad(vector_valued, jit=jit)(np.ones(3))
    for mode in ("reverse", "forward"):
        for x in (np.ones(3), np.ones(1)):
            with pytest.raises(sd.S2SDiffError, match="scalar-valued"):
                sd.grad(vector_valued_through_a_helper, mode=mode, jit=jit)(x)


def view_read_after_a_write(x, a):
    H = np.zeros((2, 3))
    r = H[1]
    H[1, 0] = a
    return np.sum(r * x)


def copied_before_a_write(x, a):
    H = np.zeros((2, 3))
    r = H[1].copy()
    H[1, 0] = a
    return np.sum(r * x) + np.sum(H[1] * x)


def shares_an_updated_array(h0, dt):
    h = h0
    h += dt
    return np.sum(h * h0)


def updates_its_own_copy(h0, dt):
    h = h0
    for t in range(3):
        h += dt * np.sin(h)
    return np.sum(h)


@JIT
def test_views_and_in_place_updates(jit):
    # the adjoint of a view ran after the adjoint of a write through the array: da was 0
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(sd.UnsupportedError, match="'r' is a view of 'H'"):
        sd.grad(view_read_after_a_write, wrt=(0, 1), jit=jit)(x, 0.5)
    for mode in ("reverse", "forward"):
        gx, ga = sd.grad(copied_before_a_write, wrt=(0, 1), mode=mode, jit=jit)(x, 0.5)
        assert gx.tolist() == [0.5, 0.0, 0.0] and ga == 1.0
    with pytest.raises(sd.UnsupportedError, match="changes the array 'h' in place, and 'h0'"):
        sd.grad(shares_an_updated_array, jit=jit)(np.array([0.3, 0.5]), 0.1)
    h0 = np.array([0.3, 0.5])
    want = _complex_step_gradient(lambda h: updates_its_own_copy(h.copy(), 0.1), h0)
    assert_close(sd.grad(updates_its_own_copy, jit=jit)(h0.copy(), 0.1), want, rel=1e-13)


def test_finite_differences_refuse_a_step_below_the_spacing_of_floats():
    with pytest.raises(sd.S2SDiffError, match="below the spacing of floats"):
        sd.estimate.finite_difference(lambda x: x * x, 1e8, h=1e-10)


def _five_point_gradient(f, x, h=1e-3):
    """Central differences on five points, error O(h⁴) ~ 1e-12 here."""
    out = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[k] = h
        out[k] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return out


def _complex_step_gradient(f, x, h=1e-30):
    out = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        step = np.zeros(x.shape, dtype=complex)
        step[k] = 1j * h
        out[k] = np.imag(f(x + step)) / h
    return out


def written_into_an_integer_array(a, idx):
    y = np.zeros_like(idx)
    y[0] = a * 2.5
    return np.sum(y) * 1.0


def written_into_a_float_copy(a, x):
    y = np.zeros_like(x)
    y[0] = a * 2.5
    return np.sum(y)


@JIT
def test_differentiated_values_written_into_an_integer_array(jit):
    # the array truncates them: the derivative is 0, and the tangent said 2.5
    for mode in ("reverse", "forward"):
        with pytest.raises(sd.S2SDiffError, match="an array of integers .* is assigned differentiated values"):
            sd.grad(written_into_an_integer_array, mode=mode, jit=jit)(0.7, np.array([1, 2]))
        assert sd.grad(written_into_a_float_copy, mode=mode, jit=jit)(0.7, np.ones(2)) == 2.5


def unreadable_into_unreadable(A):
    return np.sum(np.log(np.diag(np.linalg.eigvals(A))))


def masked_squares(x):
    mask = x > 0
    return np.sum(x[mask] ** 2)


def gathered_squares(x, idx):
    return np.sum(x[idx] ** 2)


def copy_into(out, v):
    for i in range(len(out)):
        out[i] = v[i]


def fills_a_row(x, a):
    h = np.zeros((2, len(x)))
    copy_into(h[0], x)
    return np.sum(h) * a


def row_used_before_a_write(x, a):
    H = np.ones((2, 3))
    t = H[1]
    s = np.sum(t * x)
    H[1, 0] = a
    return s + np.sum(H)


@JIT
def test_what_s2sdiff_cannot_see_through_is_refused(jit):
    # np.diag(np.linalg.cholesky(A)) gave a zero gradient: the second call's argument did not
    # count as differentiated (cholesky has a rule now; eigvals, the general eigenproblem, has
    # none); x[idx] with a repeated index gave one contribution, not two
    with pytest.raises(sd.UnsupportedError, match=r"cannot differentiate through np.linalg.eigvals\(\)"):
        sd.grad(unreadable_into_unreadable, jit=jit)(np.eye(2) * 2.0)
    with pytest.raises(sd.UnsupportedError, match="indexing with the array 'mask'"):
        sd.grad(masked_squares, jit=jit)(np.array([1.0, -2.0]))
    with pytest.raises(sd.UnsupportedError, match="indexing with the array 'idx'"):
        sd.grad(gathered_squares, jit=jit)(np.array([1.0, -2.0]), np.array([0, 0, 1]))
    with pytest.raises(sd.UnsupportedError, match=r"copy_into\(\) changes its parameter 'out' in place: pass it an "
                                                  r"array of this function by name \(not h\[0\]\)"):
        sd.grad(fills_a_row, jit=jit)
    # the adjoint of t * x reads the row t, which the write changes afterwards
    with pytest.raises(sd.UnsupportedError, match="the adjoint needs the value of 'H'"):
        sd.grad(row_used_before_a_write, wrt=(0, 1), jit=jit)(np.array([1.0, 2.0, 3.0]), 0.5)
    gx, ga = sd.grad(row_used_before_a_write, wrt=(0, 1), mode="forward", jit=jit)(np.array([1.0, 2.0, 3.0]), 0.5)
    assert gx.tolist() == [1.0, 1.0, 1.0] and ga == 1.0


def sine_times_first(x):
    return np.sum(np.sin(x) * x[0])


def test_a_derivative_of_a_jacobian_is_refused_and_of_a_reverse_mode_gradient_right():
    # A Jacobian's code stores its columns in place; a reverse-mode gradient is differentiated. f = x0 Σ sin x: H = [[2cos x0 - x0 sin x0, cos x1], [cos x1, -x0 sin x1]]
    x = np.array([0.3, 0.5])
    for inner in (sd.grad(sine_times_first, mode="forward"), sd.jacobian(sd.grad(sine_times_first))):
        with pytest.raises(sd.UnsupportedError, match="differentiating a Jacobian, a Hessian or a forward-mode gradient again"):
            sd.jacobian(inner, jit=False)(x)
    want = [[2 * math.cos(x[0]) - x[0] * math.sin(x[0]), math.cos(x[1])], [math.cos(x[1]), -x[0] * math.sin(x[1])]]
    np.testing.assert_allclose(sd.jacobian(sd.grad(sine_times_first), jit=False)(x), want, rtol=1e-14)


def int_start_then_branchy_products(x, a, k):
    s = 1
    for i in range(k):
        s = s * a
    for i in range(len(x) - 1):
        s = s * x[i] if x[i] > 0.0 else s + a
    return s * a


@JIT
def test_a_tape_for_a_value_that_may_still_be_an_int(jit):
    # k = 0 leaves s the int 1 at the second loop; its tape was an int array there (NumPy
    # takes the dtype of the first value) and truncated s x0 = 0.5 to 0. f = x0 x1 a
    x, a = np.array([0.5, 0.7, 0.9]), 1.3
    gx, ga = sd.grad(int_start_then_branchy_products, wrt=(0, 1), jit=jit)(x, a, 0)
    np.testing.assert_allclose(gx, [x[1] * a, x[0] * a, 0.0], rtol=1e-15)
    assert ga == pytest.approx(x[0] * x[1], rel=1e-15)
