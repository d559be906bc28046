"""SciPy's special functions (s2sdiff/rules/special.py): gradients in both modes, compiled and
not, and Hessians (forward over reverse), on numbers and arrays, against mpmath run at 40
digits (its functions, differentiated by mpmath.diff), complex step and closed forms."""
import functools
import inspect

import numpy as np
import pytest
import scipy.special as ss
from scipy.special import betaln, gammaln, log_ndtr, log_softmax, logsumexp, xlogy

import s2sdiff as sd

mp = pytest.importorskip("mpmath")

RTOL = 1e-10
C = np.array([1.0, -0.5, 2.0])      # weights: each element's derivative scaled differently


# ---- elementwise functions of one argument ---------------------------------------------
# Each program sums the function of an array (weighted) and of a number (the first element
# halved): the array and the number forms of the helpers and of their derivatives.

def gammaln_program(x):
    return np.sum(C * ss.gammaln(x)) + ss.gammaln(0.5 * x[0])


def digamma_program(x):
    return np.sum(C * ss.digamma(x)) + ss.psi(0.5 * x[0])


def polygamma_program(x):
    return np.sum(C * ss.polygamma(1, x)) + ss.polygamma(2, 0.5 * x[0])


def multigammaln_program(x):
    return np.sum(C * ss.multigammaln(x, 3)) + ss.multigammaln(0.5 * x[0], 2)


def expit_program(x):
    return np.sum(C * ss.expit(x)) + ss.expit(0.5 * x[0])


def log_expit_program(x):
    return np.sum(C * ss.log_expit(x)) + ss.log_expit(0.5 * x[0])


def logit_program(x):
    return np.sum(C * ss.logit(x)) + ss.logit(0.5 * x[0])


def erf_program(x):
    return np.sum(C * ss.erf(x)) + ss.erf(0.5 * x[0])


def erfc_program(x):
    return np.sum(C * ss.erfc(x)) + ss.erfc(0.5 * x[0])


def erfinv_program(x):
    return np.sum(C * ss.erfinv(x)) + ss.erfinv(0.5 * x[0])


def erfcinv_program(x):
    return np.sum(C * ss.erfcinv(x)) + ss.erfcinv(0.5 * x[0])


def ndtr_program(x):
    return np.sum(C * ss.ndtr(x)) + ss.ndtr(0.5 * x[0])


def log_ndtr_program(x):
    return np.sum(C * ss.log_ndtr(x)) + ss.log_ndtr(0.5 * x[0])


def ndtri_program(x):
    return np.sum(C * ss.ndtri(x)) + ss.ndtri(0.5 * x[0])


def _weighted(f, g=None):
    """The mpmath form of the programs above: Σ Cᵢ f(xᵢ) + g(x₀/2)."""
    g = g or f
    return lambda x: sum(c * f(t) for c, t in zip(C, x)) + g(x[0] / 2)


def _multigammaln(d):
    return lambda a: d * (d - 1) / 4 * mp.log(mp.pi) + sum(mp.loggamma(a - mp.mpf(j) / 2) for j in range(d))


#        program               its mpmath form                                           points
UNARY = {
    "gammaln":      (gammaln_program, _weighted(lambda t: mp.log(abs(mp.gamma(t)))),      (-2.5, 0.7, 9.0)),
    "digamma":      (digamma_program, _weighted(mp.digamma),                              (-2.5, 0.7, 9.0)),
    "polygamma":    (polygamma_program, _weighted(lambda t: mp.psi(1, t), lambda t: mp.psi(2, t)), (-2.5, 0.7, 9.0)),
    "multigammaln": (multigammaln_program, _weighted(_multigammaln(3), _multigammaln(2)), (2.5, 3.7, 9.0)),
    "expit":        (expit_program, _weighted(lambda t: 1 / (1 + mp.exp(-t))),           (-3.0, 0.5, 30.0)),
    "log_expit":    (log_expit_program, _weighted(lambda t: -mp.log1p(mp.exp(-t))),       (-40.0, 0.5, 30.0)),
    "logit":        (logit_program, _weighted(lambda t: mp.log(t / (1 - t))),             (0.1, 0.5, 0.97)),
    "erf":          (erf_program, _weighted(mp.erf),                                      (-1.5, 0.3, 2.0)),
    "erfc":         (erfc_program, _weighted(mp.erfc),                                    (-1.5, 0.3, 5.0)),
    "erfinv":       (erfinv_program, _weighted(mp.erfinv),                                (-0.9, 0.3, 0.999)),
    "erfcinv":      (erfcinv_program, _weighted(lambda t: mp.erfinv(1 - t)),              (0.05, 1.3, 1.9)),
    "ndtr":         (ndtr_program, _weighted(mp.ncdf),                                    (-5.0, 0.3, 2.0)),
    "log_ndtr":     (log_ndtr_program, _weighted(lambda t: mp.log(mp.ncdf(t))),           (-30.0, 0.3, 4.0)),
    "ndtri":        (ndtri_program, _weighted(lambda t: mp.sqrt(2) * mp.erfinv(2 * t - 1)), (0.001, 0.4, 0.9)),
}


# ---- elementwise functions of two arguments --------------------------------------------
# v holds x (its first three elements) and y: the function of two arrays, of a number and
# an array each way round, of two numbers, and of a column and a row broadcast together.

def xlogy_program(v):
    x, y = v[:3], v[3:]
    return (np.sum(C * ss.xlogy(x, y)) + np.sum(ss.xlogy(x[1], y)) + np.sum(ss.xlogy(x, y[2]))
            + ss.xlogy(0.5 * x[0], y[1]) + np.sum(ss.xlogy(x[:2, None], y[None, :])))


def xlog1py_program(v):
    x, y = v[:3], v[3:]
    return (np.sum(C * ss.xlog1py(x, y)) + np.sum(ss.xlog1py(x[1], y)) + np.sum(ss.xlog1py(x, y[2]))
            + ss.xlog1py(0.5 * x[0], y[1]) + np.sum(ss.xlog1py(x[:2, None], y[None, :])))


def betaln_program(v):
    x, y = v[:3], v[3:]
    return (np.sum(C * ss.betaln(x, y)) + np.sum(ss.betaln(x[1], y)) + np.sum(ss.betaln(x, y[2]))
            + ss.betaln(0.5 * x[0], y[1]) + np.sum(ss.betaln(x[:2, None], y[None, :])))


def _pairs(f):
    """The mpmath form of the programs above."""
    def program(v):
        x, y = v[:3], v[3:]
        return (sum(c * f(a, b) for c, a, b in zip(C, x, y)) + sum(f(x[1], b) for b in y) + sum(f(a, y[2]) for a in x)
                + f(x[0] / 2, y[1]) + sum(f(a, b) for a in x[:2] for b in y))
    return program


BINARY = {
    "xlogy":   (xlogy_program, _pairs(lambda a, b: a * mp.log(b)),          (0.5, 2.0, 3.0, 0.3, 1.5, 4.0)),
    "xlog1py": (xlog1py_program, _pairs(lambda a, b: a * mp.log1p(b)),      (0.5, 2.0, 3.0, -0.5, 0.2, 3.0)),
    "betaln":  (betaln_program, _pairs(lambda a, b: mp.log(abs(mp.beta(a, b)))), (0.5, 2.0, 30.0, 1.5, 0.7, 4.0)),
}


# ---- logsumexp, softmax, log_softmax ---------------------------------------------------
ROWS = np.array([0.3, -1.0, 2.0])
COLUMNS = np.array([[1.0, 0.5, -0.7, 2.0]])
MIXED = np.arange(12.0).reshape(3, 4) / 7 - 0.6
ALONG = np.array([1.5, -0.5, 0.25])


def logsumexp_program(X):        # X: 3 × 4
    return (ss.logsumexp(X) + np.sum(ROWS * ss.logsumexp(X, axis=1))
            + np.sum(COLUMNS * ss.logsumexp(X, 0, keepdims=True))
            + np.sum(ROWS[:, None] * ss.logsumexp(X, axis=-1, keepdims=True)) + ss.logsumexp(X, keepdims=True)[0, 0])


def logsumexp_axes_program(T):   # T: 2 × 3 × 2
    return np.sum(ALONG * ss.logsumexp(T, axis=(0, 2))) + ss.logsumexp(T, axis=(0, 1, 2), keepdims=True)[0, 0, 0]


def softmax_program(X):          # X: 3 × 4
    return (np.sum(MIXED * ss.softmax(X, axis=1)) + np.sum(MIXED * ss.log_softmax(X, axis=0))
            + np.sum(MIXED * ss.softmax(X)) + ss.log_softmax(X[0])[1])


def _mp_array(f):
    return np.vectorize(f, otypes=[object])


def _mp_logsumexp(A, axis=None, keepdims=False):
    total = _mp_array(mp.exp)(A).sum(axis=axis, keepdims=keepdims)
    return _mp_array(mp.log)(total) if np.ndim(total) else mp.log(total)


def _mp_log_softmax(A, axis=None):
    return A - _mp_logsumexp(A, axis, keepdims=True)


def _mp_logsumexp_program(v):
    X = np.array(v, dtype=object).reshape(3, 4)
    return (_mp_logsumexp(X) + np.sum(ROWS * _mp_logsumexp(X, 1)) + np.sum(COLUMNS * _mp_logsumexp(X, 0, True))
            + np.sum(ROWS[:, None] * _mp_logsumexp(X, -1, True)) + _mp_logsumexp(X))


def _mp_logsumexp_axes_program(v):
    T = np.array(v, dtype=object).reshape(2, 3, 2)
    return np.sum(ALONG * _mp_logsumexp(T, (0, 2))) + _mp_logsumexp(T)


def _mp_softmax_program(v):
    X = np.array(v, dtype=object).reshape(3, 4)
    softmax = lambda A, axis=None: _mp_array(mp.exp)(_mp_log_softmax(A, axis))
    return (np.sum(MIXED * softmax(X, 1)) + np.sum(MIXED * _mp_log_softmax(X, 0)) + np.sum(MIXED * softmax(X))
            + _mp_log_softmax(X[0])[1])


REDUCTIONS = {
    "logsumexp":      (logsumexp_program, _mp_logsumexp_program, np.linspace(-2.0, 3.0, 12).reshape(3, 4) ** 2 / 3),
    "logsumexp_axes": (logsumexp_axes_program, _mp_logsumexp_axes_program, np.cos(np.arange(12.0)).reshape(2, 3, 2)),
    "softmax":        (softmax_program, _mp_softmax_program, np.sin(np.arange(12.0)).reshape(3, 4) * 2),
}

CASES = UNARY | BINARY | REDUCTIONS


# ---- oracles ----------------------------------------------------------------------------

def mp_gradient(f, x):
    """∂f/∂xₖ by mpmath.diff at 40 digits (f takes the elements of x as a list)."""
    point = [mp.mpf(float(t)) for t in np.ravel(x)]
    n = len(point)
    with mp.workdps(40):
        return np.array([float(mp.diff(lambda *v: f(list(v)), point, tuple(int(i == k) for i in range(n))))
                         for k in range(n)]).reshape(np.shape(x))


def mp_hessian(f, x):
    point = [mp.mpf(float(t)) for t in np.ravel(x)]
    n = len(point)
    H = np.empty((n, n))
    with mp.workdps(40):
        for j in range(n):
            for k in range(j, n):
                orders = tuple((i == j) + (i == k) for i in range(n))
                H[j, k] = H[k, j] = float(mp.diff(lambda *v: f(list(v)), point, orders))
    return H.reshape(np.shape(x) * 2)


@pytest.fixture(scope="module")
def oracles():
    """name -> (point, gradient, Hessian) from mpmath, each computed once."""
    @functools.cache
    def of(name):
        _, mp_program, point = CASES[name]
        point = np.array(point, dtype=float)
        return point, mp_gradient(mp_program, point), mp_hessian(mp_program, point)
    return of


@pytest.fixture(scope="module")
def transforms():
    """(name, what, jit) -> the transform, built once (numba compiles it at its first call)."""
    @functools.cache
    def of(name, what, jit):
        program = CASES[name][0]
        if what == "hessian":
            return sd.hessian(program, jit=jit)
        return sd.grad(program, mode=what, jit=jit)
    return of


def assert_close(got, want, rtol=RTOL):
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.max(np.abs(want)) * 1e-3)


@pytest.mark.parametrize("jit", [True, False], ids=["compiled", "python"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("name", list(CASES))
def test_gradient(name, mode, jit, oracles, transforms):
    point, gradient, _ = oracles(name)
    got = transforms(name, mode, jit)(point)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert_close(got, gradient)


@pytest.mark.parametrize("jit", [True, False], ids=["compiled", "python"])
@pytest.mark.parametrize("name", list(CASES))
def test_hessian(name, jit, oracles, transforms):
    point, _, hessian = oracles(name)
    assert_close(transforms(name, "hessian", jit)(point), hessian)


# functions SciPy also evaluates at complex points: the compiled gradient against complex step
@pytest.mark.parametrize("name", ["digamma", "erf", "erfc", "ndtr", "log_ndtr", "xlogy", "xlog1py", "logsumexp",
                                  "softmax"])
def test_gradient_against_complex_step(name, oracles, transforms):
    point, program = oracles(name)[0], CASES[name][0]
    flat = sd.estimate.complex_step(lambda v: program(v.reshape(point.shape)), point.ravel())
    assert_close(transforms(name, "reverse", True)(point), flat.reshape(point.shape), 1e-12)


def test_polygamma_of_higher_orders_and_below_zero():
    """The compiled ψ⁽ⁿ⁾ is s2sdiff's own (cython_special has no Hurwitz zeta): every order a
    Hessian of digamma reaches, left of zero too, against mpmath; poles signed as SciPy's."""
    derivative = sd.derivative(digamma_of, order=4)
    for x in (-7.3, -0.4, 0.01, 1.0, 3.5, 24.9, 300.0):
        assert_close(derivative(x), float(mp.psi(4, x)), 1e-12)
    assert ss.polygamma(1, 0.0) == sd.derivative(digamma_of)(0.0) == np.inf


# ---- numerics at the extremes ------------------------------------------------------------

def test_softmax_and_logsumexp_gradients_do_not_overflow(transforms):
    """Shifted by 1000 (e^1000 overflows), the gradients are those at the unshifted point:
    logsumexp moves by the shift and softmax does not move."""
    for name in ("logsumexp", "softmax"):
        point = CASES[name][2]
        for mode in ("reverse", "forward"):
            assert_close(transforms(name, mode, True)(point + 1000.0), transforms(name, mode, True)(point), 1e-11)


def test_tails():
    """expit′ = expit(x) expit(−x) and log_ndtr′ = φ/Φ far into the tails, where the naive
    forms overflow or cancel (e^800 / (1 + e^800)², exp(−x²/2 − log_ndtr(x)))."""
    expit_slope = sd.derivative(expit_of)
    assert expit_slope(-800.0) == 0.0 and expit_slope(800.0) == 0.0
    assert_close(expit_slope(-40.0), float(mp.exp(-40) / (1 + mp.exp(-40)) ** 2), 1e-13)
    log_ndtr_slope = sd.derivative(log_ndtr_of)
    for x in (-1e4, -200.0, -38.0, 0.0, 9.0):
        with mp.workdps(40):
            want = float(mp.npdf(x) / mp.ncdf(x))
        assert_close(log_ndtr_slope(x), want, 1e-13)


def digamma_of(x):
    return ss.digamma(x)


def expit_of(x):
    return ss.expit(x)


def log_ndtr_of(x):
    return log_ndtr(x)


# ---- xlogy's convention ------------------------------------------------------------------

def multinomial_nll(p, k):
    return -np.sum(xlogy(k, p))


@pytest.mark.parametrize("jit", [True, False], ids=["compiled", "python"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_xlogy_is_zero_where_x_is_zero_and_so_is_its_derivative_in_y(mode, jit):
    """xlogy(0, y) = 0 for every y, p = 0 included: its derivative in y there is 0 (not 0/0);
    in x it is log y, the exact derivative of x log y."""
    p, k = np.array([0.5, 0.0, 0.2, 0.3]), np.array([3.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(sd.grad(multinomial_nll, mode=mode, jit=jit)(p, k), [-6.0, 0.0, 0.0, -1 / 0.3])
    in_k = sd.grad(multinomial_nll, wrt=1, mode=mode, jit=jit)(np.array([0.5, 0.2]), np.array([3.0, 0.0]))
    np.testing.assert_allclose(in_k, -np.log([0.5, 0.2]), rtol=1e-15)


# ---- objectives ----------------------------------------------------------------------------
Y = np.array([0.8, 2.5, 1.1, 4.0, 0.3])
K, N = np.array([3.0, 0.0, 7.0, 5.0]), np.array([10.0, 4.0, 9.0, 5.0])


def gamma_nll(theta, y):
    """The negative log-likelihood of a gamma distribution, log shape and log rate."""
    shape, rate = np.exp(theta[0]), np.exp(theta[1])
    return -np.sum(shape * np.log(rate) - gammaln(shape) + xlogy(shape - 1.0, y) - rate * y)


def beta_binomial_nll(theta, k, n):
    a, b = np.exp(theta[0]), np.exp(theta[1])
    return -np.sum(betaln(k + a, n - k + b) - betaln(a, b))


def _mp_gamma_nll(theta):
    shape, rate = mp.exp(theta[0]), mp.exp(theta[1])
    return -sum(shape * mp.log(rate) - mp.loggamma(shape) + (shape - 1) * mp.log(y) - rate * y for y in Y)


def _mp_beta_binomial_nll(theta):
    a, b = mp.exp(theta[0]), mp.exp(theta[1])
    return -sum(mp.log(mp.beta(k + a, n - k + b)) - mp.log(mp.beta(a, b)) for k, n in zip(K, N))


@pytest.mark.parametrize("jit", [True, False], ids=["compiled", "python"])
@pytest.mark.parametrize("objective, mp_objective, data", [
    (gamma_nll, _mp_gamma_nll, (Y,)), (beta_binomial_nll, _mp_beta_binomial_nll, (K, N))],
    ids=["gamma", "beta_binomial"])
def test_likelihoods(objective, mp_objective, data, jit):
    theta = np.array([0.4, -0.3])
    gradient, hessian = mp_gradient(mp_objective, theta), mp_hessian(mp_objective, theta)
    for mode in ("reverse", "forward"):
        assert_close(sd.grad(objective, mode=mode, jit=jit)(theta, *data), gradient)
    assert_close(sd.hessian(objective, jit=jit)(theta, *data), hessian)


def cross_entropy(W, X, labels):
    Z = X @ W
    return np.sum(logsumexp(Z, axis=1)) - np.sum(labels * Z)


def cross_entropy_of_log_softmax(W, X, labels):
    return -np.sum(labels * log_softmax(X @ W, axis=1))


@pytest.mark.parametrize("objective", [cross_entropy, cross_entropy_of_log_softmax])
@pytest.mark.parametrize("jit", [True, False], ids=["compiled", "python"])
def test_softmax_cross_entropy(objective, jit):
    """The gradient Xᵀ(P − labels) and the Hessian Σₙ xₙxₙᵀ ⊗ (diag pₙ − pₙpₙᵀ), P the softmax
    of each row."""
    rng = np.random.default_rng(3)
    X, W = rng.normal(size=(6, 4)), rng.normal(size=(4, 3))
    labels = np.eye(3)[rng.integers(0, 3, size=6)]
    Z = X @ W
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    hessian = np.einsum("na,nb,nij->aibj", X, X, np.einsum("ni,ij->nij", P, np.eye(3)) - np.einsum("ni,nj->nij", P, P))
    for mode in ("reverse", "forward"):
        assert_close(sd.grad(objective, mode=mode, jit=jit)(W, X, labels), X.T @ (P - labels), 1e-12)
    assert_close(sd.hessian(objective, jit=jit)(W, X, labels), hessian, 1e-12)


def row_log_softmax(X):
    return log_softmax(X, axis=1) + ss.expit(X)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_an_array_valued_function(mode):
    """∂ log_softmax(X)ᵢⱼ / ∂Xₖₗ = δᵢₖ (δⱼₗ − Pₖₗ), plus expit′ on the diagonal: forward mode's
    Jacobian sweeps its directions in blocks, reverse mode's its rows."""
    X = np.arange(6.0).reshape(2, 3) / 5 - 0.4
    P, slope = ss.softmax(X, axis=1), ss.expit(X) * ss.expit(-X)
    want = (np.einsum("ik,jl->ijkl", np.eye(2), np.eye(3)) - np.einsum("ik,kl,j->ijkl", np.eye(2), P, np.ones(3))
            + np.einsum("ij,ik,jl->ijkl", slope, np.eye(2), np.eye(3)))
    assert_close(sd.jacobian(row_log_softmax, mode=mode)(X), want, 1e-14)


def probit_nll(w, X, signs):
    return -np.sum(log_ndtr(signs * (X @ w)))


def test_probit_regression():
    X = np.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.2], [4.0, 1.0]])
    signs, w = np.array([1.0, -1.0, 1.0, -1.0]), np.array([0.7, -1.3])

    def mp_objective(v):
        return -sum(mp.log(mp.ncdf(s * (row[0] * v[0] + row[1] * v[1]))) for row, s in zip(X, signs))
    for mode in ("reverse", "forward"):
        assert_close(sd.grad(probit_nll, mode=mode)(w, X, signs), mp_gradient(mp_objective, w))
    assert_close(sd.hessian(probit_nll)(w, X, signs), mp_hessian(mp_objective, w))


# ---- the user's own code, and what is refused ----------------------------------------------

def model(x):
    return np.sum(gammaln(x) * ss.expit(x)) + ss.logsumexp(x, axis=0) + np.sum(ss.softmax(x) ** 2)


def test_the_users_function_compiles_as_it_is():
    """numba learns scipy.special's functions (sd.differentiable compiles the primal)."""
    x = np.array([0.5, 1.5, 4.0])
    assert_close(sd.differentiable(model)(x), model(x), 1e-14)


def weighted_logsumexp(x, w):
    return ss.logsumexp(x, b=w)


def signed_logsumexp(x):
    return ss.logsumexp(x, return_sign=True)[0]


def gammaln_into(x, out):
    return np.sum(ss.gammaln(x, out=out))


def softmax_with_a_variable_axis(x, k):
    return np.sum(ss.softmax(x, axis=k)[0])


@pytest.mark.parametrize("function, args, message", [
    (weighted_logsumexp, (np.ones(3), np.ones(3)), "'b=' of ss.logsumexp is not supported"),
    (signed_logsumexp, (np.ones(3),), "'return_sign=' of ss.logsumexp is not supported"),
    (gammaln_into, (np.ones(3), np.ones(3)), "keyword 'out=' of ss.gammaln is not supported"),
    (softmax_with_a_variable_axis, (np.ones((2, 3)), 1), "the axis must be a constant integer")])
def test_refusals_name_the_line(function, args, message):
    with pytest.raises(sd.UnsupportedError, match=message) as refusal:
        sd.grad(function)(*args)
    line = inspect.getsource(function).splitlines()[1].strip()
    assert "test_special.py" in str(refusal.value) and line in str(refusal.value)
