"""The runtime helpers' numba overloads (plain loops, for compile time) against their Python
versions (NumPy's broadcasting, reshapes and slices), on every case of shape they branch on."""
import numba
import numpy as np
import pytest

from s2sdiff import runtime


@numba.njit
def compiled_adjoint_like(g, x):
    return runtime.adjoint_like(g, x)


@numba.njit
def compiled_products(g, v):
    return runtime.matmul_adjoint_left(g, v), runtime.matmul_adjoint_right(g, v)


@numba.njit
def compiled_seed_block(x, start, stop):
    return runtime.seed_block(x, start, stop)


@numba.njit
def compiled_store_columns(J, start, d):
    runtime.store_columns(J, start, d)


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
    left, right = compiled_products(g, v)
    np.testing.assert_array_equal(left, np.outer(g, v))
    np.testing.assert_array_equal(right, np.outer(v, g))


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
