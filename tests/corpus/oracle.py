"""Derivative oracles for the corpus, sharing no code with s2sdiff.

* Complex step, exact to rounding: every differentiable input in turn gets an imaginary
  part h = 1e-30 and the imaginary part of the output divided by h is a Jacobian column.
  The function runs in a copy of its module whose `np`, `math` and `abs` are a shim that
  keeps the arithmetic analytic: arrays made with `np.zeros` & co. are complex, `abs`,
  `sign` and `clip` look at the real part, `math.*` are NumPy's complex-capable versions,
  and NumPy's own ordering of complex numbers (by real part first) makes comparisons,
  `max`, `np.maximum` and `np.where` follow the real point. Anything the shim does not
  cover raises (a complex value cast to float raises, warnings are errors), and the
  oracle falls back to:
* Richardson-extrapolated central differences (steps h, h/2, h/4; error O(h^6)), which
  also check every complex-step Jacobian: a disagreement means the code is not analytic
  in a way the shim missed, and the oracle refuses to guess (OracleError: declare
  oracle="fd" on the case).
* Hessians: Richardson differences (smaller steps) of the exact complex-step
  gradient, or of the Richardson gradient where the complex step does not apply.
"""
from __future__ import annotations

import builtins
import functools
import math
import types
import warnings

import numpy as np
import scipy.special

COMPLEX_STEP = 1e-30


class OracleError(AssertionError):
    """The oracle cannot be trusted for this case: the case must be fixed."""


# ---- the complex-step shim --------------------------------------------------------------

def _real(z):
    return np.real(z)


def _cabs(z):
    if np.ndim(z) == 0:
        return -z if _real(z) < 0 else z
    return np.where(_real(z) < 0, -z, z)


def _complex_dtype(dtype):
    return dtype is None or dtype is float or np.dtype(dtype).kind == "f"


def _made(maker):
    def make(*args, dtype=None, **kwargs):
        return maker(*args, dtype=complex if _complex_dtype(dtype) else dtype, **kwargs)
    return make


def _made_like(maker):
    def make(a, *args, dtype=None, **kwargs):
        if dtype is None:
            dtype = np.asarray(a).dtype
        return maker(a, *args, dtype=complex if np.dtype(dtype).kind in "fc" else dtype, **kwargs)
    return make


def _as_complex(maker):
    def make(*args, **kwargs):
        out = maker(*args, **kwargs)
        return out.astype(complex) if out.dtype.kind == "f" else out
    return make


def _clip(z, lo, hi):
    out = np.where(_real(z) < _real(lo), lo, np.where(_real(z) > _real(hi), hi, z))
    return out[()] if np.ndim(out) == 0 else out


def _norm(x, ord=None, axis=None, keepdims=False):
    if ord not in (None, 2, "fro") or (ord == 2 and np.ndim(x) == 2 and axis is None):
        raise NotImplementedError(f"norm ord={ord!r} under complex step")
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


def _slogdet(a):
    det = np.linalg.det(a)
    sign = np.sign(_real(det))
    return sign, np.log(det * sign)


def _cholesky(a):
    """L with L @ L.T == a: the analytic continuation (NumPy's complex Cholesky conjugates)."""
    a = np.asarray(a)
    n = a.shape[0]
    out = np.zeros((n, n), dtype=complex)
    for j in range(n):
        out[j, j] = np.sqrt(a[j, j] - np.sum(out[j, :j] * out[j, :j]))
        for i in range(j + 1, n):
            out[i, j] = (a[i, j] - np.sum(out[i, :j] * out[j, :j])) / out[j, j]
    return out


def _atan2(y, x):
    offset = np.where(_real(x) > 0, 0.0, np.where(_real(y) >= 0, np.pi, -np.pi))
    out = np.arctan(y / x) + offset
    return out[()] if np.ndim(out) == 0 else out


def _floor_like(fn):
    return lambda z, *args, **kwargs: fn(_real(z), *args, **kwargs)


def _refuse(name):
    def refuse(*args, **kwargs):
        raise NotImplementedError(f"{name} is not analytic under complex step")
    return refuse


class _Proxy:
    """A module whose attributes are `overrides` first, then the module's own."""

    def __init__(self, module, overrides):
        self._module, self._overrides = module, overrides

    def __getattr__(self, name):
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._module, name)


_LINALG = _Proxy(np.linalg, {"norm": _norm, "slogdet": _slogdet, "cholesky": _cholesky,
                              "eigh": _refuse("eigh"), "eigvalsh": _refuse("eigvalsh"), "svd": _refuse("svd"),
                              "qr": _refuse("qr"), "eig": _refuse("eig"), "eigvals": _refuse("eigvals")})

NP = _Proxy(np, {
    "abs": _cabs, "absolute": _cabs, "fabs": _cabs, "sign": lambda z: np.sign(_real(z)),
    "clip": _clip, "cbrt": lambda z: np.where(_real(z) < 0, -((-z) ** (1 / 3)), z ** (1 / 3))[()],
    "hypot": lambda a, b: np.sqrt(a * a + b * b), "arctan2": _atan2,
    "floor": _floor_like(np.floor), "ceil": _floor_like(np.ceil), "round": _floor_like(np.round),
    "rint": _floor_like(np.rint), "trunc": _floor_like(np.trunc),
    "zeros": _made(np.zeros), "ones": _made(np.ones), "empty": _made(np.empty), "full": _made(np.full),
    "eye": _made(np.eye), "identity": _made(np.identity), "linspace": _as_complex(np.linspace),
    "zeros_like": _made_like(np.zeros_like), "ones_like": _made_like(np.ones_like),
    "empty_like": _made_like(np.empty_like), "full_like": _made_like(np.full_like),
    "array": _as_complex(np.array), "asarray": _as_complex(np.asarray), "vdot": _refuse("vdot"),
    "conj": _refuse("conj"), "conjugate": _refuse("conjugate"), "real": _refuse("real"), "imag": _refuse("imag"),
    "linalg": _LINALG,
})

MATH = _Proxy(math, {
    **{name: getattr(np, name) for name in ("sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "expm1", "log1p",
                                             "sqrt", "log10", "log2")},
    "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "asinh": np.arcsinh, "acosh": np.arccosh,
    "atanh": np.arctanh, "atan2": _atan2, "fabs": _cabs, "hypot": lambda a, b: np.sqrt(a * a + b * b),
    "log": lambda z, base=None: np.log(z) if base is None else np.log(z) / np.log(base),
    "pow": lambda a, b: a ** b, "erf": scipy.special.erf, "erfc": scipy.special.erfc,
    "lgamma": scipy.special.loggamma, "gamma": scipy.special.gamma,
    "floor": lambda z: math.floor(_real(z)), "ceil": lambda z: math.ceil(_real(z)),
    "copysign": lambda a, b: _cabs(a) * (1.0 if _real(b) >= 0 else -1.0),
})


def _complex_float(value):
    if isinstance(value, (complex, np.complexfloating)) and value.imag != 0:
        raise TypeError("float() of a perturbed value")
    return builtins.float(np.real(value))


_MATH_NAMES = {id(getattr(math, name)): name for name in dir(math) if callable(getattr(math, name))}


@functools.cache
def _shimmed_namespace(module):
    """A copy of the module's globals in which every function runs under the shim."""
    namespace = dict(vars(module))
    for name, value in vars(module).items():
        if value is np:
            namespace[name] = NP
        elif value is math:
            namespace[name] = MATH
        elif id(value) in _MATH_NAMES and getattr(math, _MATH_NAMES[id(value)]) is value:
            namespace[name] = getattr(MATH, _MATH_NAMES[id(value)])   # from math import sin
        elif isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            namespace[name] = _rebind(value, namespace)
        elif hasattr(value, "py_func") and getattr(value.py_func, "__module__", None) == module.__name__:
            namespace[name] = _rebind(value.py_func, namespace)       # a numba.njit function
    namespace.update(abs=_cabs, float=_complex_float)
    return namespace


def _rebind(function, namespace):
    return types.FunctionType(function.__code__, namespace, function.__name__, function.__defaults__,
                              function.__closure__)


def complex_function(fn):
    import sys
    return _shimmed_namespace(sys.modules[fn.__module__])[fn.__name__]


# ---- flattening -----------------------------------------------------------------------

def flat_output(out):
    """The output as one flat complex or float array: a number, tuple of numbers, array, tuple of arrays."""
    if isinstance(out, tuple):
        return np.concatenate([np.ravel(np.asarray(o)) for o in out])
    if out is None:
        raise OracleError("the function returns None")
    return np.ravel(np.asarray(out))


def _with(args, index, value):
    args = list(args)
    args[index] = value
    return tuple(args)


def _perturbed(args, index, k, delta, dtype=None):
    """args with element k of argument `index` moved by delta (fresh copies throughout)."""
    args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    value = args[index]
    if isinstance(value, np.ndarray):
        moved = value.astype(dtype or value.dtype)
        moved.flat[k] += delta
        return _with(args, index, moved)
    return _with(args, index, value + delta)


# ---- Jacobians ------------------------------------------------------------------------

def complex_step_jacobian(fn, args, index):
    """d out / d args[index], flat: (output size, input size)."""
    shimmed = complex_function(fn)
    size = np.size(args[index])
    args = tuple(a.astype(complex) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                 else np.complex128(a) if isinstance(a, float) else a for a in args)
    columns = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            for k in range(size):
                out = flat_output(shimmed(*_perturbed(args, index, k, 1j * COMPLEX_STEP, complex)))
                columns.append(np.imag(out) / COMPLEX_STEP)
    return np.stack(columns, axis=1).astype(float)


def richardson_column(evaluate, h):
    """d/dt evaluate(t) at t = 0 (evaluate returns a flat array) by central differences
    at h, h/2, h/4 combined to cancel the h^2 and h^4 error terms."""
    d = [(evaluate(step) - evaluate(-step)) / (2 * step) for step in (h, h / 2, h / 4)]
    first = [(4 * d[1] - d[0]) / 3, (4 * d[2] - d[1]) / 3]
    return (16 * first[1] - first[0]) / 15


def richardson_jacobian(fn, args, index):
    size = np.size(args[index])
    columns = []
    with np.errstate(all="ignore"):
        for k in range(size):
            step = 2e-3 * max(1.0, abs(np.ravel(args[index])[k]))
            columns.append(richardson_column(
                lambda t, k=k: flat_output(fn(*_perturbed(args, index, k, t))).astype(float), step))
    return np.stack(columns, axis=1)


def _agree(a, b, rel):
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0), 1e-300)
    return np.all(np.abs(a - b) <= rel * (np.abs(a) + 1e-2 * scale)) and np.all(np.isfinite(a))


class Oracle:
    """The value, Jacobians and Hessian of one corpus case, computed on demand and kept."""

    def __init__(self, case):
        self.case = case
        self.value = case.fn(*case.fresh_args())
        self.kind = _output_kind(self.value)
        self._jacobians, self.how = {}, {}

    def jacobian(self, index):
        """Flat Jacobian (output size, input size) in args[index], and its tolerance."""
        if index not in self._jacobians:
            self._jacobians[index] = self._compute_jacobian(index)
        return self._jacobians[index]

    def _compute_jacobian(self, index):
        case = self.case
        fd = richardson_jacobian(case.fn, case.args, index)
        if case.oracle == "auto":
            try:
                cs = complex_step_jacobian(case.fn, case.args, index)
            except Exception as exc:   # noqa: BLE001 — any failure of complex input means: not analytic here
                raise OracleError(f"{case.name}: the complex step fails ({type(exc).__name__}: {exc}); "
                                  "declare oracle='fd' if the code is not complex-safe") from exc
            if not _agree(cs, fd, 1e-5):
                raise OracleError(f"{case.name}: complex step and Richardson differences disagree in argument "
                                  f"{index}:\n{cs}\n{fd}\ndeclare oracle='fd' if the code is not analytic")
            best, tol, how = cs, 1e-9, "complex step"
        else:
            best, tol, how = fd, 1e-6, "Richardson differences"
        if case.closed is not None and index in case.closed(*case.fresh_args()):
            closed = np.asarray(case.closed(*case.fresh_args())[index], dtype=float).reshape(best.shape)
            if not _agree(closed, best, 1e-6):
                raise OracleError(f"{case.name}: the closed form disagrees with the {how} in argument {index}:\n"
                                  f"{closed}\n{best}")
            best, tol, how = closed, 1e-10, "closed form"
        self.how[index] = how
        return best, tol * case.tol

    def gradient_function(self, wrt):
        """x_flat (the wrt arguments, concatenated) -> the gradient there, flat."""
        case = self.case
        sizes = [np.size(case.args[i]) for i in wrt]

        def unflatten(flat):
            args, start = list(case.fresh_args()), 0
            for i, size in zip(wrt, sizes):
                part = flat[start:start + size]
                args[i] = part.reshape(np.shape(case.args[i])).copy() if isinstance(case.args[i], np.ndarray) \
                    else float(part[0])
                start += size
            return tuple(args)

        def gradient(flat):
            args = unflatten(flat)
            jac = complex_step_jacobian if case.oracle == "auto" else richardson_jacobian
            return np.concatenate([jac(case.fn, args, i)[0] for i in wrt])
        return gradient

    @functools.cached_property
    def hessian(self):
        """The Hessian of a scalar function in all its wrt arguments, flat, and its tolerance."""
        case = self.case
        wrt = case.wrt
        point = np.concatenate([np.ravel(np.asarray(case.args[i], dtype=float)) for i in wrt])
        gradient = self.gradient_function(wrt)
        columns = []
        for k in range(point.size):
            def moved(t, k=k):
                p = point.copy()
                p[k] += t
                return gradient(p)
            with np.errstate(all="ignore"):
                columns.append(richardson_column(moved, 1e-3 * max(1.0, abs(point[k]))))
        hess = np.stack(columns, axis=1)
        return (hess + hess.T) / 2, (1e-6 if case.oracle == "auto" else 1e-4) * case.tol

    def second_derivative(self):
        """d^2 f / d args[0]^2 for a scalar-valued f of a float first argument."""
        if self.case.wrt and self.case.wrt[0] == 0:
            hess, tol = self.hessian
            return hess[0, 0], tol
        gradient = self.gradient_function((0,))
        x = float(self.case.args[0])
        with np.errstate(all="ignore"):
            second = richardson_column(lambda t: gradient(np.array([x + t])), 1e-3 * max(1.0, abs(x)))[0]
        return second, (1e-6 if self.case.oracle == "auto" else 1e-4) * self.case.tol


def _output_kind(value):
    if isinstance(value, tuple):
        return "tuple" if all(np.ndim(v) == 0 for v in value) else "tuple-of-arrays"
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return "array"
    if isinstance(value, (float, np.floating)):
        return "scalar"
    raise OracleError(f"unexpected output {value!r}")
