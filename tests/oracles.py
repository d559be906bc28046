"""Independent derivative oracles for the s2sdiff tests (none of them uses s2sdiff).

* complex_step: exact to rounding for analytic code written with arithmetic and np.*
  functions (np.sin etc. accept complex numbers; math.* does not).  The perturbed value
  must not be compared (complex numbers have no order) nor passed through abs().
* mp_diff: mpmath.diff at 50 digits, for arithmetic-only code that branches on the
  differentiated value (comparisons of mpf numbers work; keep points off the switch points).
* central_difference: plain float finite difference, ~1e-9 relative at best: smoke checks only.
"""
import math

import mpmath
import numpy as np


def _replace(args, i, value):
    args = list(args)
    args[i] = value
    return args


def _each(out, fn):
    return tuple(fn(o) for o in out) if isinstance(out, tuple) else fn(out)


def complex_step(f, args, i, h=1e-30):
    """Im f(args with args[i] + i·h) / h — for a tuple result, the tuple of these."""
    out = f(*_replace(args, i, complex(args[i], h)))
    return _each(out, lambda o: complex(o).imag / h)


def central_difference(f, args, i, h=1e-6):
    """(f(x + h) − f(x − h)) / 2h in args[i]."""
    hi = f(*_replace(args, i, args[i] + h))
    lo = f(*_replace(args, i, args[i] - h))
    if isinstance(hi, tuple):
        return tuple((a - b) / (2 * h) for a, b in zip(hi, lo))
    return (hi - lo) / (2 * h)


def mp_diff(f, args, i, dps=50):
    """d f / d args[i] by mpmath.diff at `dps` significant digits (other args unchanged)."""
    with mpmath.workdps(dps):
        out = mpmath.diff(lambda t: f(*_replace(args, i, t)), mpmath.mpf(args[i]))
        return float(out)


def assert_close(got, want, rel=1e-12, abs_tol=1e-300):
    """Element-wise relative comparison of numbers, tuples or arrays (shapes must agree)."""
    if isinstance(want, (tuple, list, np.ndarray)):
        assert isinstance(got, (tuple, list, np.ndarray)), f"got {got!r}, want a sequence {want!r}"
        assert np.shape(got) == np.shape(want), f"shape {np.shape(got)} != {np.shape(want)}"
        for k, (g, w) in enumerate(zip(got, want)):
            assert math.isclose(float(g), float(w), rel_tol=rel, abs_tol=abs_tol), \
                f"component {k}: got {g!r}, want {w!r}"
        return
    assert math.isclose(float(got), float(want), rel_tol=rel, abs_tol=abs_tol), f"got {got!r}, want {want!r}"


# ---- arrays: one perturbed element at a time -------------------------------------------

def _perturbed(args, k, idx, delta):
    args = list(args)
    a = args[k]
    if np.ndim(a) == 0:
        args[k] = a + delta
    else:
        z = np.array(a, dtype=complex if isinstance(delta, complex) else float)
        z[idx] += delta
        args[k] = z
    return args


def cs_jacobian(f, args, k, h=1e-30):
    """Complex-step d f / d args[k]: shape out.shape + args[k].shape (exact to rounding)."""
    shape, out_shape = np.shape(args[k]), np.shape(f(*args))
    jac = np.empty(out_shape + shape)
    for idx in np.ndindex(shape):
        jac[(...,) + idx] = np.imag(f(*_perturbed(args, k, idx, 1j * h))) / h
    return jac if jac.ndim else float(jac)


def cd_jacobian(f, args, k, h=1e-6):
    """Central difference d f / d args[k] (~1e-9 relative at best: loose checks only)."""
    shape, out_shape = np.shape(args[k]), np.shape(f(*args))
    jac = np.empty(out_shape + shape)
    for idx in np.ndindex(shape):
        hi = np.asarray(f(*_perturbed(args, k, idx, h)))
        lo = np.asarray(f(*_perturbed(args, k, idx, -h)))
        jac[(...,) + idx] = (hi - lo) / (2 * h)
    return jac if jac.ndim else float(jac)
