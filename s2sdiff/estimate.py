"""Numerical derivative estimators (DESIGN §1): the classical alternatives to AD, used as
oracles and for functions whose source s2sdiff cannot read.

Every estimator takes f and a point x — a float or a 1-D array — and returns an estimate
of the derivative with x's shape (a float for a float x). Further positional arguments
of f go in `args`. With `vectorized=True` f is called once, on the stack of all the
points the estimator needs (a 2-D array with one point per row; a 1-D array of points
for a float x), and must return one value per point along its first axis.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from .errors import S2SDiffError

METHODS = ("forward", "backward", "central")

_EPS = np.finfo(np.float64).eps
_ComplexWarning = np.exceptions.ComplexWarning if hasattr(np, "exceptions") else np.ComplexWarning
# A one-sided difference errs by ≈ h|f''|/2 + 2ε|f|/h, smallest near h = √ε; a central one
# by ≈ h²|f'''|/6 + ε|f|/h, smallest near h = ∛ε (both relative to the scale of x).
_DEFAULT_STEP = {"forward": np.sqrt(_EPS), "backward": np.sqrt(_EPS), "central": np.cbrt(_EPS)}


def finite_difference(f, x, method="central", h=None, *, args=(), vectorized=False):
    """Finite-difference derivative of f at x, one coordinate direction eₖ at a time:

        forward    (f(x + h eₖ) − f(x)) / h             error O(h)
        backward   (f(x) − f(x − h eₖ)) / h             error O(h)
        central    (f(x + h eₖ) − f(x − h eₖ)) / 2h     error O(h²)

    `h` (a positive number, or one per component of x) defaults to √ε·max(1, |xₖ|) for the
    one-sided methods and ∛ε·max(1, |xₖ|) for the central one. The divisor is the step
    actually taken, (xₖ + h) − xₖ, so rounding x + h costs no accuracy. An array-valued f
    gives the Jacobian, shape f(x).shape + x.shape.
    """
    if method not in METHODS:
        raise S2SDiffError(f"method must be one of {METHODS}, got {method!r}")
    point, scalar = _point(x)
    if h is None:
        h = _DEFAULT_STEP[method] * np.maximum(1.0, np.abs(point))
    h = _steps("h", h, point)
    up = (point + h) - point
    down = point - (point - h)
    taken = {"forward": up, "backward": down, "central": up + down}[method]
    if np.any(taken == 0.0):
        k = int(np.argmax(taken == 0.0))
        raise S2SDiffError(f"finite_difference: the step h = {np.ravel(h)[k]:g} is below the spacing of floats at "
                           f"x = {point[k]:g} ({np.spacing(point[k]):g}): x + h == x, so the difference is 0/0; "
                           "use a larger h (the default is ∛ε·max(1, |x|) for central differences)")
    if method == "forward":
        values = _values(f, np.vstack([point, point + np.diag(up)]), args, scalar, vectorized)
        columns = (values[1:] - values[0]) / _along_first(up, values)
    elif method == "backward":
        values = _values(f, np.vstack([point, point - np.diag(down)]), args, scalar, vectorized)
        columns = (values[0] - values[1:]) / _along_first(down, values)
    else:
        values = _values(f, np.vstack([point + np.diag(up), point - np.diag(down)]), args, scalar, vectorized)
        n = len(point)
        columns = (values[:n] - values[n:]) / _along_first(up + down, values)
    return _shaped(columns, scalar)


def complex_step(f, x, h=1e-20, *, args=(), vectorized=False):
    """Complex-step derivative Im f(x + ih eₖ) / h.

    f(x + ih) = f(x) + ih f'(x) − h² f''(x)/2 + O(h³), so the imaginary part carries f'
    with error O(h²) and, unlike a difference quotient, no subtraction: any h down to the
    smallest normal numbers works and the result is exact to rounding. f must be analytic
    code that accepts complex numbers — arithmetic and np.* functions; math.* functions,
    comparisons and abs() do not qualify. An array-valued f gives the Jacobian.
    """
    point, scalar = _point(x)
    h = _steps("h", h, point)
    dropped = S2SDiffError("complex_step: f dropped the imaginary part of its complex input (float(), a store "
                           "into a float array or a real-only function does); write f with arithmetic and np.* "
                           "functions, or use finite_difference")
    with warnings.catch_warnings():
        warnings.simplefilter("error", _ComplexWarning)
        try:
            values = _values(f, point + 1j * np.diag(h), args, scalar, vectorized)
        except _ComplexWarning:
            raise dropped from None
    if not np.iscomplexobj(values):
        raise dropped
    return _shaped(values.imag / _along_first(h, values), scalar)


def regression(f, x, samples=None, delta=1e-3, seed=0, *, args=(), vectorized=False):
    """Regression gradient of a scalar f: the least-squares fit of g in the first-order model

        f(x + Δx⁽ʲ⁾) − f(x) ≈ gᵀ Δx⁽ʲ⁾,   j = 1 … m,   that is   g = ΔX⁺ Δf,

    over m = `samples` (default 2n, at least n) perturbations Δx⁽ʲ⁾ ~ N(0, δ² I). The
    curvature term ½ΔxᵀHΔx is even in Δx, so over the symmetric perturbations its fit
    averages to zero: the estimate's bias is O(δ²); noise in f is averaged down over m
    samples, which is what the method is for. `seed`: anything np.random.default_rng takes.
    """
    point, scalar = _point(x)
    n = len(point)
    samples = 2 * n if samples is None else samples
    if not _is_count(samples) or samples < n:
        raise S2SDiffError(f"samples must be an integer ≥ {n} (the number of components of x) for the fit to "
                           f"determine the gradient, got {samples!r}")
    delta = _positive("delta", delta)
    perturbations = delta * np.random.default_rng(seed).standard_normal((samples, n))
    values = _scalar_values("regression", f, np.vstack([point, point + perturbations]), args, scalar, vectorized)
    gradient, *_ = np.linalg.lstsq(perturbations, values[1:] - values[0], rcond=None)
    return float(gradient[0]) if scalar else gradient


def spsa(f, x, samples=1, delta=1e-3, seed=0, *, args=(), vectorized=False):
    """Simultaneous-perturbation (SPSA) gradient of a scalar f, averaged over `samples`:

        ∇f(x) ≈ (1/m) Σⱼ [f(x + δzⱼ) − f(x − δzⱼ)] / 2δ · zⱼ,   zⱼ ~ N(0, I).

    Each sample is the central-difference directional derivative ∇fᵀz (error O(δ²)) times
    z; since E[zzᵀ] = I the estimate is unbiased whatever n is, at two evaluations a
    sample. Its variance is large — component k has variance (‖∇f‖² + (∂ₖf)²)/m.
    """
    point, scalar = _point(x)
    if not _is_count(samples) or samples < 1:
        raise S2SDiffError(f"samples must be a positive integer, got {samples!r}")
    delta = _positive("delta", delta)
    directions = np.random.default_rng(seed).standard_normal((samples, len(point)))
    points = np.vstack([point + delta * directions, point - delta * directions])
    values = _scalar_values("spsa", f, points, args, scalar, vectorized)
    slopes = (values[:samples] - values[samples:]) / (2 * delta)
    gradient = directions.T @ slopes / samples
    return float(gradient[0]) if scalar else gradient


# ---- helpers ----------------------------------------------------------------------------

def _point(x):
    """(x as a 1-D float64 array, whether x was a number)."""
    point = np.asarray(x)
    if point.dtype.kind not in "iuf":
        raise TypeError(f"x must be a real number or a 1-D float array, got {type(x).__name__} "
                        f"of dtype {point.dtype}")
    if point.ndim > 1:
        raise S2SDiffError(f"x must be a number or a 1-D array; got an array of shape {point.shape} "
                           "(flatten it and reshape inside f)")
    if point.size == 0:
        raise S2SDiffError("x is an empty array: there is nothing to differentiate")
    return point.astype(np.float64).reshape(-1), point.ndim == 0


def _steps(name, h, point):
    try:
        steps = np.asarray(h, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a positive number or an array of them, got {h!r}") from None
    if steps.ndim and steps.shape != point.shape:
        raise S2SDiffError(f"{name} must be a number or have one entry per component of x ({point.size}), "
                           f"got shape {steps.shape}")
    if not np.all(np.isfinite(steps) & (steps > 0)):
        raise S2SDiffError(f"{name} must be positive and finite, got {h!r}")
    return np.broadcast_to(steps, point.shape).astype(np.float64)


def _positive(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise S2SDiffError(f"{name} must be positive and finite, got {value!r}")
    return float(value)


def _is_count(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _values(f, points, args, scalar, vectorized):
    """f at each row of `points` (shape (k, n)), stacked: shape (k,) + f's output shape."""
    if vectorized:
        values = np.asarray(f(points[:, 0] if scalar else points, *args))
        if values.shape[:1] != (len(points),):
            raise S2SDiffError(f"vectorized=True: f returned shape {values.shape} for {len(points)} points; it "
                               "must return one value per point along its first axis")
        return values
    # a float x reaches f as a Python number, as the caller passed it (math.* then rejects complex input)
    return np.stack([np.asarray(f(row[0].item() if scalar else row, *args)) for row in points])


def _scalar_values(what, f, points, args, scalar, vectorized):
    values = _values(f, points, args, scalar, vectorized)
    if values.ndim != 1:
        raise S2SDiffError(f"{what} estimates the gradient of a scalar-valued f, but f returned values of shape "
                           f"{values.shape[1:]}")
    if np.iscomplexobj(values):
        raise S2SDiffError(f"{what}: f returned complex values for real input")
    return values


def _along_first(steps, values):
    """The steps shaped to divide a stack of values (one per coordinate) along its first axis."""
    return steps.reshape((-1,) + (1,) * (values.ndim - 1))


def _shaped(columns, scalar):
    """Derivatives along each coordinate, shape (n,) + out, rearranged to out + x's shape."""
    result = np.moveaxis(columns, 0, -1)
    if scalar:
        result = result[..., 0]
    return float(result) if result.ndim == 0 else result
