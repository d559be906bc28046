"""Factorizations and decompositions (issue 16): np.linalg.cholesky, slogdet, eigh, eigvalsh,
svd (reduced, and compute_uv=False), qr, pinv, lstsq, and SciPy's solve_triangular and
cho_solve, in both modes, compiled and not, through grad, jacobian and hessian.

Oracles.  The complex step where the maths has an analytic form NumPy evaluates in complex
numbers: log det, the normal equations for pinv and lstsq, np.linalg.solve of the triangle
or of c cᵀ.  eigh, svd, qr and cholesky of a complex matrix are the Hermitian versions, not
the analytic continuation: for those, central differences at 40 digits in mpmath
(mp.eigsy, mp.svd_r, mp.qr, mp.cholesky), of objectives that do not depend on the signs of
eigenvectors and singular vectors.  Hessians: central differences of the complex-step
gradient, or second differences at 40 digits.  NumPy's eigh and cholesky read the lower
triangle only, so the mpmath oracles build the symmetric matrix from it too."""
import mpmath as mp
import numpy as np
import pytest
import scipy.linalg
from scipy.linalg import cho_solve, solve_triangular

import s2sdiff as sd
from oracles import cs_jacobian
from s2sdiff.errors import UnsupportedError
from s2sdiff.runtime import ShapesNotSupported

MODES = ["reverse", "forward"]
JIT = [False, True]
RNG = np.random.default_rng(16)
SPD = np.array([[4.0, 1.2, -0.7], [1.2, 3.0, 0.4], [-0.7, 0.4, 2.0]])
SPD_UNSYMMETRIC = SPD + np.triu(RNG.standard_normal((3, 3)), 1)     # the upper triangle is never read
TALL = RNG.standard_normal((4, 3))
WIDE = RNG.standard_normal((3, 4))
LOWER = np.tril(RNG.standard_normal((3, 3))) + 2.5 * np.eye(3)
WEIGHTS = np.array([1.0, -2.0, 0.5])
B3 = np.array([[2.0, 0.3, -1.0], [0.3, 1.0, 0.2], [-1.0, 0.2, 0.5]])


# ---- oracles ---------------------------------------------------------------------------

def mp_jacobian(f, a, h=mp.mpf("1e-15")):
    """d f / d a by central differences at 40 digits; f maps an mp.matrix to an mpf, or to an
    mp.matrix (a column: a vector)."""
    with mp.workdps(40):
        columns = []
        for idx in np.ndindex(a.shape):
            plus, minus = mp.matrix(a.tolist()), mp.matrix(a.tolist())
            plus[idx] += h
            minus[idx] -= h
            difference = (f(plus) - f(minus)) / (2 * h)
            shape = () if not isinstance(difference, mp.matrix) else \
                (difference.rows,) if difference.cols == 1 else (difference.rows, difference.cols)
            columns.append(np.array(difference.tolist() if shape else difference, dtype=float).reshape(shape))
    return np.stack(columns, axis=-1).reshape(shape + a.shape)


def mp_hessian(f, a, h=mp.mpf("1e-12")):
    """Second differences of a scalar f at 40 digits."""
    n = a.size
    H = np.empty((n, n))
    with mp.workdps(40):
        def at(steps):
            m = mp.matrix(a.tolist())
            for k, s in steps:
                m[np.unravel_index(k, a.shape)] += s * h
            return f(m)
        for i in range(n):
            for j in range(i, n):
                H[i, j] = H[j, i] = float((at([(i, 1), (j, 1)]) - at([(i, 1), (j, -1)]) - at([(i, -1), (j, 1)])
                                           + at([(i, -1), (j, -1)])) / (4 * h * h))
    return H.reshape(a.shape + a.shape)


def cs_hessian(f, args, k=0, h=1e-3):
    """Central differences of the complex-step gradient in args[k], Richardson-extrapolated
    from steps h and h/2 (error of order h⁴)."""
    a = args[k]

    def difference(idx, step):
        e = np.zeros(a.shape)
        e[idx] = step
        hi, lo = list(args), list(args)
        hi[k], lo[k] = a + e, a - e
        return (cs_jacobian(f, hi, k) - cs_jacobian(f, lo, k)) / (2 * step)
    columns = [(4 * difference(idx, h / 2) - difference(idx, h)) / 3 for idx in np.ndindex(a.shape)]
    return np.stack(columns, axis=-1).reshape(a.shape + a.shape)


def sym_lower(m):
    """The symmetric mp.matrix NumPy's eigh and cholesky see: m's lower triangle."""
    s = m.copy()
    for i in range(m.rows):
        for j in range(i + 1, m.cols):
            s[i, j] = m[j, i]
    return s


def mp_sum(m, power):
    return mp.fsum(m[i, j] ** power for i in range(m.rows) for j in range(m.cols))


def mp_vector(values):
    return mp.matrix(list(values))


# ---- objectives and their mpmath forms ---------------------------------------------------

def cholesky_of(A):
    return np.linalg.cholesky(A)


def cholesky_cubed(A):
    return np.sum(np.linalg.cholesky(A) ** 3)


def mp_cholesky_cubed(m):
    return mp_sum(mp.cholesky(sym_lower(m)), 3)


def eigh_objective(A):
    w, V = np.linalg.eigh(A)
    return np.sum(w ** 3 * WEIGHTS) + np.sum(V * (B3 @ V)) + V[:, 0] @ A @ V[:, 0]


def mp_eigh_objective(m):
    w, V = mp.eigsy(sym_lower(m))
    columns = [V[:, k] for k in range(m.cols)]
    return (mp.fsum(w[k] ** 3 * WEIGHTS[k] for k in range(m.cols))
            + mp.fsum((c.T * mp.matrix(B3.tolist()) * c)[0] for c in columns) + (columns[0].T * m * columns[0])[0])


def eigenvalues(A):
    return np.linalg.eigvalsh(A)


def mp_eigenvalues(m):
    return mp.eigsy(sym_lower(m))[0]


def svd_objective(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return np.sum(s ** 3 * WEIGHTS) + np.sum(U ** 4) + np.sum((Vt * Vt) @ np.ones(A.shape[1]) * WEIGHTS) \
        + np.sum(((U * s) @ Vt) ** 2)


def mp_svd_objective(m):
    U, s, Vt = mp.svd_r(m)
    weights = mp_vector(WEIGHTS)
    return (mp.fsum(s[k] ** 3 * weights[k] for k in range(len(s))) + mp_sum(U, 4)
            + mp.fsum(Vt[k, j] ** 2 * weights[k] for k in range(Vt.rows) for j in range(Vt.cols)) + mp_sum(m, 2))


def singular_values(A):
    return np.linalg.svd(A, compute_uv=False)


def mp_singular_values(m):
    return mp.svd_r(m, compute_uv=False)


def qr_objective(A):
    Q, R = np.linalg.qr(A)
    return np.sum(R ** 4) + np.sum(Q ** 4 * WEIGHTS) + np.sum(R[0] ** 2)


def mp_qr_objective(m):
    Q, R = mp.qr(m, mode="skinny")
    return mp_sum(R, 4) + mp.fsum(Q[i, j] ** 4 * WEIGHTS[j] for i in range(Q.rows) for j in range(Q.cols)) \
        + mp.fsum(R[0, j] ** 2 for j in range(R.cols))


def log_determinant(A):
    sign, logdet = np.linalg.slogdet(A)
    return sign * logdet + np.linalg.slogdet(A)[1] ** 2 + np.linalg.slogdet(2.0 * A).logabsdet


def log_determinant_complex(A):
    sign = np.sign(np.linalg.det(A.real))
    logdet = np.log(sign * np.linalg.det(A))
    return sign * logdet + logdet ** 2 + logdet + 3 * np.log(2.0)


def pseudo_inverse(A):
    return np.linalg.pinv(A)


def pseudo_inverse_complex(A):
    # full rank: the normal equations, with transposes (analytic), not conjugate transposes
    return np.linalg.solve(A.T @ A, A.T) if A.shape[0] >= A.shape[1] else A.T @ np.linalg.inv(A @ A.T)


def pinv_cubed(A):
    return np.sum(np.linalg.pinv(A) ** 3)


def least_squares(A, b):
    return np.linalg.lstsq(A, b, rcond=None)[0]


def least_squares_complex(A, b):
    return np.linalg.solve(A.T @ A, A.T @ b) if A.shape[0] >= A.shape[1] else A.T @ np.linalg.solve(A @ A.T, b)


def least_squares_cubed(A, b):
    x, residuals, rank, s = np.linalg.lstsq(A, b, rcond=None)
    return np.sum(x ** 3) + rank


def least_squares_cubed_complex(A, b):
    return np.sum(least_squares_complex(A, b) ** 3) + 3


def triangular_solves(A, b):
    return solve_triangular(A, b, lower=True) + 2.0 * scipy.linalg.solve_triangular(A.T, b, trans="T") \
        - solve_triangular(A, b, 1, True)


def triangular_solves_complex(A, b):
    L = np.tril(A)
    return np.linalg.solve(L, b) + 2.0 * np.linalg.solve(np.triu(A.T).T, b) - np.linalg.solve(L.T, b)


def triangular_cubed(A, b):
    return np.sum(solve_triangular(A, b, lower=True, trans=1) ** 3)


def triangular_cubed_complex(A, b):
    return np.sum(np.linalg.solve(np.tril(A).T, b) ** 3)


def cholesky_solves(c, b):
    return cho_solve((c, True), b) + cho_solve((c.T, False), b)


def cholesky_solves_complex(c, b):
    L = np.tril(c)
    return 2.0 * np.linalg.solve(L @ L.T, b)


# ---- gradients and Jacobians in both modes ----------------------------------------------

@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
def test_cholesky_reads_the_lower_triangle(mode, jit):
    expected = mp_jacobian(lambda m: mp.cholesky(sym_lower(m)), SPD_UNSYMMETRIC)
    got = sd.jacobian(cholesky_of, mode=mode, jit=jit)(SPD_UNSYMMETRIC)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert not got[..., 0, 2].any()                   # the upper triangle is never read
    np.testing.assert_allclose(sd.grad(cholesky_cubed, mode=mode, jit=jit)(SPD_UNSYMMETRIC),
                               mp_jacobian(mp_cholesky_cubed, SPD_UNSYMMETRIC), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
def test_eigh_values_and_vectors(mode, jit):
    np.testing.assert_allclose(sd.grad(eigh_objective, mode=mode, jit=jit)(SPD_UNSYMMETRIC),
                               mp_jacobian(mp_eigh_objective, SPD_UNSYMMETRIC), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(sd.jacobian(eigenvalues, mode=mode, jit=jit)(SPD_UNSYMMETRIC),
                               mp_jacobian(mp_eigenvalues, SPD_UNSYMMETRIC), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("A", [TALL, WIDE], ids=["tall", "wide"])
def test_svd_reduced_and_singular_values(A, mode, jit):
    np.testing.assert_allclose(sd.grad(svd_objective, mode=mode, jit=jit)(A), mp_jacobian(mp_svd_objective, A),
                               rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(sd.jacobian(singular_values, mode=mode, jit=jit)(A),
                               mp_jacobian(mp_singular_values, A), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("A", [TALL, SPD_UNSYMMETRIC], ids=["tall", "square"])
def test_qr_reduced(A, mode, jit):
    np.testing.assert_allclose(sd.grad(qr_objective, mode=mode, jit=jit)(A), mp_jacobian(mp_qr_objective, A),
                               rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("A", [SPD, -SPD], ids=["positive", "negative determinant"])
def test_slogdet_unpacked_indexed_and_by_field(A, mode, jit):
    value, gradient = sd.value_and_grad(log_determinant, mode=mode, jit=jit)(A)
    sign, logdet = np.linalg.slogdet(A)
    assert value == pytest.approx(sign * logdet + logdet ** 2 + logdet + 3 * np.log(2.0), rel=1e-13)
    np.testing.assert_allclose(gradient, cs_jacobian(log_determinant_complex, (A,), 0), rtol=1e-12)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("A", [TALL, WIDE], ids=["tall", "wide"])
def test_pinv_of_full_rank(A, mode, jit):
    np.testing.assert_allclose(sd.jacobian(pseudo_inverse, mode=mode, jit=jit)(A),
                               cs_jacobian(pseudo_inverse_complex, (A,), 0), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("A, b", [(TALL, RNG.standard_normal(4)), (TALL, RNG.standard_normal((4, 2))),
                                  (WIDE, RNG.standard_normal(3))], ids=["tall", "several right-hand sides", "wide"])
def test_lstsq_solution(A, b, mode, jit):
    jacobian = sd.jacobian(least_squares, wrt=(0, 1), mode=mode, jit=jit)(A, b)
    for k in (0, 1):
        np.testing.assert_allclose(jacobian[k], cs_jacobian(least_squares_complex, (A, b), k), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("b", [RNG.standard_normal(3), RNG.standard_normal((3, 2))], ids=["vector", "matrix"])
def test_scipy_triangular_and_cholesky_solves(b, mode, jit):
    A = LOWER + np.triu(RNG.standard_normal((3, 3)), 1)       # solve_triangular(A, b, lower=True) reads tril(A)
    for f, oracle, c in ((triangular_solves, triangular_solves_complex, A),
                         (cholesky_solves, cholesky_solves_complex, LOWER)):
        jacobian = sd.jacobian(f, wrt=(0, 1), mode=mode, jit=jit)(c, b)
        for k in (0, 1):
            np.testing.assert_allclose(jacobian[k], cs_jacobian(oracle, (c, b), k), rtol=1e-11, atol=1e-12)


# ---- second order --------------------------------------------------------------------------

# compiled: all but the SVD, whose compiled Hessian alone takes most of a minute to build
@pytest.mark.parametrize("f, mp_f, A, jit", [
    (cholesky_cubed, mp_cholesky_cubed, SPD, jit) for jit in JIT] + [
    (eigh_objective, mp_eigh_objective, SPD, jit) for jit in JIT] + [
    (svd_objective, mp_svd_objective, TALL, False)] + [
    (qr_objective, mp_qr_objective, TALL, jit) for jit in JIT],
    ids=[f"{name}-{jit}" for name in ("cholesky", "eigh") for jit in JIT] + ["svd-False"] + [f"qr-{jit}" for jit in JIT])
def test_hessians_of_the_decompositions(f, mp_f, A, jit):
    np.testing.assert_allclose(sd.hessian(f, jit=jit)(A), mp_hessian(mp_f, A), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("f, oracle, args, k", [
    (log_determinant, log_determinant_complex, (SPD,), 0),
    (pinv_cubed, lambda A: np.sum(pseudo_inverse_complex(A) ** 3), (TALL,), 0),
    (least_squares_cubed, least_squares_cubed_complex, (TALL, RNG.standard_normal(4)), 0),
    (least_squares_cubed, least_squares_cubed_complex, (TALL, RNG.standard_normal(4)), 1),
    (triangular_cubed, triangular_cubed_complex, (LOWER, RNG.standard_normal(3)), 0)],
    ids=["slogdet", "pinv", "lstsq in A", "lstsq in b", "solve_triangular"])
def test_hessians_of_the_solves(f, oracle, args, k, jit):
    np.testing.assert_allclose(sd.hessian(f, wrt=k, jit=jit)(*args), cs_hessian(oracle, args, k), rtol=1e-7, atol=1e-8)


def gradient_of_eigenvalues_cubed(A):
    return np.sum(np.linalg.eigvalsh(A) ** 3)


def test_grad_of_grad():
    # the reverse-mode gradient, differentiated again in reverse mode (a Hessian-vector product)
    inner = sd.grad(gradient_of_eigenvalues_cubed, jit=False)

    def directional(A):
        return np.sum(inner(A) * B3)
    np.testing.assert_allclose(sd.grad(directional, jit=False)(SPD),
                               np.tensordot(mp_hessian(lambda m: mp.fsum(w ** 3 for w in mp.eigsy(sym_lower(m))[0]),
                                                       SPD), B3, axes=((0, 1), (0, 1))), rtol=1e-8, atol=1e-9)


# ---- where no derivative exists --------------------------------------------------------------

def eigenvector_objective(A):
    w, V = np.linalg.eigh(A)
    return np.sum(V ** 4) + np.sum(w * WEIGHTS)


def svd_vectors_objective(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return np.sum(U ** 4) + np.sum(s)


def pinv_sum(A):
    return np.sum(np.linalg.pinv(A))


def lstsq_sum(A, b):
    return np.sum(np.linalg.lstsq(A, b, rcond=None)[0])


@pytest.mark.parametrize("mode", MODES)
def test_no_finite_derivative_where_none_exists(mode):
    # a repeated eigenvalue or singular value: the vectors' derivative is inf/nan, the values' finite
    repeated = np.diag([1.0, 1.0, 2.0])
    assert not np.isfinite(sd.grad(eigenvector_objective, mode=mode, jit=False)(repeated)).all()
    assert np.isfinite(sd.jacobian(eigenvalues, mode=mode, jit=False)(repeated)).all()
    assert not np.isfinite(sd.grad(svd_vectors_objective, mode=mode, jit=False)(repeated)).all()
    assert np.isfinite(sd.jacobian(singular_values, mode=mode, jit=False)(repeated)).all()
    # rank-deficient pinv and lstsq: nan, not the derivative along matrices of that rank
    rank_one = np.outer([1.0, 2.0, -1.0, 0.5], [1.0, -1.0, 3.0])
    assert np.isnan(sd.grad(pinv_sum, mode=mode, jit=True)(rank_one)).all()
    gA, gb = sd.grad(lstsq_sum, wrt=(0, 1), mode=mode, jit=True)(rank_one, np.ones(4))
    assert np.isnan(gA).all() and np.isnan(gb).all()


# ---- refusals --------------------------------------------------------------------------------

def eigh_upper(A):
    w, V = np.linalg.eigh(A, UPLO="U")
    return np.sum(w)


def cholesky_upper(A):
    return np.sum(np.linalg.cholesky(A, upper=True))


def svd_full(A):
    U, s, Vt = np.linalg.svd(A)
    return np.sum(s)


def lstsq_cutoff(A, b):
    return np.sum(np.linalg.lstsq(A, b, rcond=1e-3)[0])


def unit_triangle(A, b):
    return np.sum(solve_triangular(A, b, unit_diagonal=True))


def eigh_as_a_value(A):
    pair = np.linalg.eigh(A)
    return np.sum(pair[0])


def residuals_used(A, b):
    x, residuals, rank, s = np.linalg.lstsq(A, b, rcond=None)
    return np.sum(x) + np.sum(residuals)


def qr_complete(A):
    return np.sum(np.linalg.qr(A, mode="complete")[1])


@pytest.mark.parametrize("f, message", [
    (eigh_upper, r"keyword 'UPLO=' of np.linalg.eigh is not supported"),
    (cholesky_upper, r"keyword 'upper=' of np.linalg.cholesky is not supported"),
    (lstsq_cutoff, r"rcond=0.001 is not supported here"),
    (unit_triangle, r"keyword 'unit_diagonal=' of solve_triangular is not supported"),
    (eigh_as_a_value, r"np.linalg.eigh returns a tuple: unpack it \(eigenvalues, eigenvectors = ...\)"),
    (qr_complete, r"mode='complete' is not supported here"),
], ids=lambda v: getattr(v, "__name__", None))
def test_what_is_not_handled_is_refused_naming_it(f, message):
    with pytest.raises(UnsupportedError, match=message) as info:
        sd.grad(f, jit=False)
    assert f"line {f.__code__.co_firstlineno + 1}" in str(info.value)      # the user's line, shown


def test_the_default_full_svd_is_the_reduced_one_of_a_square_matrix():
    square = TALL[:3]
    U, _, Vt = np.linalg.svd(square)
    np.testing.assert_allclose(sd.grad(svd_full, jit=False)(square), U @ Vt, rtol=1e-12, atol=1e-12)  # d Σσ = U Vᵀ
    with pytest.raises(ShapesNotSupported, match="pass full_matrices=False") as info:
        sd.grad(svd_full, jit=False)(TALL)
    assert f"line {svd_full.__code__.co_firstlineno + 1}" in str(info.value)


def test_differentiated_residuals_of_lstsq_are_refused():
    # the message shows the residuals as numba computes them (lstsq takes no rcond=None there)
    refused = r"no derivative for \w*lstsq\(A, b\)\[1\], which depends on a differentiated value"
    with pytest.raises(UnsupportedError, match=refused):
        sd.grad(residuals_used, jit=False)(TALL, np.ones(4))
    # the solution alone is differentiated; the rank is piecewise constant
    np.testing.assert_allclose(sd.grad(least_squares_cubed, wrt=1, jit=False)(TALL, np.ones(4)),
                               cs_jacobian(least_squares_cubed_complex, (TALL, np.ones(4)), 1), rtol=1e-11)


def unpacked_over_its_argument(A):
    A, R = np.linalg.qr(A)           # R is of the A on entry
    return np.sum(R ** 2) + np.sum(A ** 4)


def test_unpacking_into_an_argument_of_the_call():
    np.testing.assert_allclose(sd.grad(unpacked_over_its_argument, jit=False)(TALL),
                               mp_jacobian(lambda m: mp_sum(mp.qr(m, mode="skinny")[1], 2)
                                           + mp_sum(mp.qr(m, mode="skinny")[0], 4), TALL), rtol=1e-9, atol=1e-11)
