"""The runtime helpers' numba overloads (plain loops, for compile time) against their Python
versions (NumPy's broadcasting, reshapes and slices), on every case of shape they branch on."""
import numba
import numpy as np
import pytest

from s2sdiff import runtime
from s2sdiff.wrappers import BLOCK_WIDTH


@numba.njit
def compiled_adjoint_like(g, x):
    return runtime.adjoint_like(g, x)


@numba.njit
def compiled_products(g, x, y):
    return runtime.matmul_adjoint_left(g, x, y), runtime.matmul_adjoint_right(g, x, y)


@numba.njit
def compiled_matmul(x, y):
    return x @ y


@numba.njit
def compiled_seed_block(x, start, stop):
    return runtime.seed_block(x, start, stop)


@numba.njit
def compiled_store_columns(J, start, d):
    runtime.store_columns(J, start, d)


@numba.njit
def compiled_shaped_partial(J, out, like):
    return runtime.shaped_partial(J, out, like)


block_width = eval("lambda n: " + BLOCK_WIDTH.format(n="n"))      # as the wrappers write it
compiled_block_width = numba.njit(block_width)


def numbers(*shape):
    return np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape) ** 1.5


@pytest.mark.parametrize("g_shape, x_shape", [((3, 4), (3, 4)), ((3, 4), (1, 4)), ((3, 4), (3, 1)),
                                              ((3, 4), (1, 1)), ((1, 4), (3, 4)), ((3, 1), (3, 4)),
                                              ((1, 1), (3, 4)), ((3, 1), (1, 4))])
def test_a_matrix_adjoint_summed_or_spread_to_its_arguments_shape(g_shape, x_shape):
    g, x = numbers(*g_shape), np.zeros(x_shape)
    want = runtime.adjoint_like(g, x)
    assert want.shape == x_shape
    np.testing.assert_array_equal(compiled_adjoint_like(g, x), want)


def test_the_adjoints_of_a_product_of_vectors_are_outer_products():
    g, v = numbers(3), numbers(5)[::-1].copy()
    left, _ = compiled_products(g, np.zeros((3, 5)), v)           # z = M v
    _, right = compiled_products(g, v, np.zeros((5, 3)))          # z = v N
    np.testing.assert_array_equal(left, np.outer(g, v))
    np.testing.assert_array_equal(right, np.outer(v, g))


@pytest.mark.parametrize("x_shape, y_shape", [((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)),
                                              ((4,), (2, 4, 5)), ((2, 3, 4), (4,)), ((2, 1, 3, 4), (5, 4, 2))])
def test_products_of_stacks_and_their_adjoints(x_shape, y_shape):
    # numba's @ takes vectors and matrices; the runtime's overload does stacks, broadcast as NumPy
    x, y = numbers(*x_shape), numbers(*y_shape)[..., ::-1].copy()
    z = x @ y
    np.testing.assert_allclose(compiled_matmul(x, y), z, rtol=1e-13)
    g = numbers(*z.shape) + 0.5
    left, right = compiled_products(g, x, y)
    np.testing.assert_allclose(left, runtime.matmul_adjoint_left(g, x, y), rtol=1e-13)
    np.testing.assert_allclose(right, runtime.matmul_adjoint_right(g, x, y), rtol=1e-13)
    # the adjoints of x ↦ x @ y and y ↦ x @ y: <g, dx @ y> = <left, dx>
    dx, dy = np.cos(numbers(*x_shape)), np.sin(numbers(*y_shape))
    assert np.sum(g * (dx @ y)) == pytest.approx(np.sum(left * dx), rel=1e-12)
    assert np.sum(g * (x @ dy)) == pytest.approx(np.sum(right * dy), rel=1e-12)


@pytest.mark.parametrize("shape, start, stop", [((5,), 0, 5), ((5,), 1, 4), ((2, 3), 0, 6), ((2, 3), 2, 5)])
def test_unit_seeds_of_a_block_of_elements(shape, start, stop):
    x = np.zeros(shape)
    want = runtime.seed_block(x, start, stop)
    assert want.shape == shape + (stop - start,) and want.sum() == stop - start
    np.testing.assert_array_equal(compiled_seed_block(x, start, stop), want)


@pytest.mark.parametrize("d_shape", [(3,), (4, 3), (2, 4, 3)])
def test_a_batched_tangent_stored_as_columns_of_a_jacobian(d_shape):
    d = numbers(*d_shape)
    rows = int(np.prod(d_shape[:-1]))
    want, got = np.full((rows, 7), -1.0), np.full((rows, 7), -1.0)
    runtime.store_columns(want, 2, d)
    compiled_store_columns(got, 2, d)
    assert (want[:, 2:5] != -1.0).all() and (want[:, :2] == -1.0).all()
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("out, like", [(1.0, 2.0), (np.zeros(3), np.zeros(4)), (1.0, np.zeros(4)),
                                       (np.zeros(3), 2.0), (np.zeros((2, 3)), np.zeros(2))])
def test_a_jacobian_shaped_like_its_output_and_input(out, like):
    J = numbers(np.size(out), np.size(like))
    want = runtime.shaped_partial(J, out, like)
    assert np.shape(want) == np.shape(out) + np.shape(like)
    np.testing.assert_array_equal(compiled_shaped_partial(J, out, like), want)


@pytest.mark.parametrize("n, width", [(0, 64), (1, 64), (100, 64), (1 << 16, 64), (1 << 17, 32), (1 << 22, 1),
                                      (1 << 23, 1)])
def test_the_directions_a_batched_sweep_carries(n, width):
    assert block_width(n) == compiled_block_width(n) == width
