"""sd.check_grad: the AD gradient against a numerical reference, component by component."""
from __future__ import annotations

import math
import types

import numpy as np

from . import estimate, structures
from .api import grad, resolve_wrt
from .compile import PYTHON_MATH
from .errors import S2SDiffError
from .parse import python_function

_EPS = np.finfo(np.float64).eps
# Reference components below this fraction of the largest one are judged absolutely (against
# the fraction), so a component whose true value is zero is not divided by rounding noise.
_RELATIVE_FLOOR = 1e-6


class GradientCheck(float):
    """The largest relative error of the AD gradient — a float, so `check_grad(f, x) < 1e-10`
    reads naturally — with the details: `.reference` (how the reference was computed),
    `.rows` (label, AD value, reference value, relative error; worst first).
    `str()` is a readable report of the worst components."""

    def __new__(cls, error, name, reference, rows, shown):
        self = super().__new__(cls, error)
        self.function, self.reference, self.rows, self._shown = name, reference, rows, shown
        return self

    def __repr__(self):
        return f"GradientCheck({float(self):.3g} against {self.reference.split(' (')[0]})"

    def __str__(self):
        lines = [f"check_grad({self.function}): largest relative error {float(self):.3g} against {self.reference}",
                 f"  {'component':<14}{'gradient':>24}{'reference':>24}{'rel. error':>12}"]
        lines += [f"  {label:<14}{ad:>24.16g}{ref:>24.16g}{error:>12.3g}" for label, ad, ref, error in
                  self.rows[:self._shown]]
        if len(self.rows) > self._shown:
            lines.append(f"  … {len(self.rows) - self._shown} more component(s), all with smaller errors")
        return "\n".join(lines)


def check_grad(f, *args, wrt=0, mode="reverse", jac=None, show=5):
    """Largest relative error of the gradient `sd.grad(f, wrt, mode)(*args)` — or of a gradient
    function `jac` given instead, called the same way — against a numerical gradient.

    The reference is the complex step Im f(x + ih)/h, exact to rounding, with the `math.*`
    calls in f's own body evaluated by their NumPy versions (which accept complex numbers).
    Where f cannot take complex input — a comparison, a helper using `math.*` — or where the
    complex step disagrees with central differences (f takes complex input but is not
    analytic in it: abs(), a cast to float), central differences are the reference. Each
    component's error is |AD − ref| / max(|ref|, 1e-6·max|ref|) (absolute if ref = 0).
    Arguments named in `wrt` may be numbers or 1-D/2-D float arrays; `show` sets how many
    of the worst components the report lists.
    """
    indices, many = resolve_wrt(f, wrt)
    if not many and structures.structure_of(args[indices[0]]) is not None and jac is None:
        # a structure: checked as the vector of its leaves (the report names them v[k])
        if indices[0] != 0:
            raise S2SDiffError("check_grad checks a structured argument where it is the first parameter")
        g, v0, _ = structures.vector_function(f, args[0], len(args) - 1)
        return check_grad(g, v0, *args[1:], mode=mode, show=show)
    computed = (grad(f, wrt=wrt, mode=mode) if jac is None else jac)(*args)
    computed = computed if many else (computed,)
    function = _complex_capable(python_function(f))
    names = list(function.__code__.co_varnames[:function.__code__.co_argcount])
    rows, references = [], set()
    for index, ad in zip(indices, computed):
        value = args[index]
        shape = np.shape(value)

        def partial(flat, index=index, shape=shape):
            changed = list(args)
            changed[index] = flat.reshape(shape) if shape else flat
            return function(*changed)

        reference, how = _reference(partial, np.ravel(np.asarray(value, dtype=np.float64)) if shape
                                    else float(value))
        references.add(how)
        ad, reference = np.ravel(np.asarray(ad, dtype=np.float64)), np.ravel(reference)
        if ad.shape != reference.shape:
            raise S2SDiffError(f"check_grad: the gradient in {names[index]!r} has {ad.size} component(s), the "
                               f"argument has {reference.size}")
        scale = np.max(np.abs(reference))
        floor = _RELATIVE_FLOOR * scale if scale > 0 else 1.0
        errors = np.abs(ad - reference) / np.maximum(np.abs(reference), floor)
        errors = np.where(np.isnan(errors), np.inf, errors)
        for k in range(len(errors)):
            rows.append((_label(names[index], shape, k), float(ad[k]), float(reference[k]), float(errors[k])))
    rows.sort(key=lambda row: -row[3])
    return GradientCheck(rows[0][3], function.__name__, "; ".join(sorted(references)), rows, show)


def _reference(partial, point):
    """(numerical gradient of `partial` at `point`, a description of how it was computed)."""
    central = estimate.finite_difference(partial, point)
    try:
        with np.errstate(all="ignore"):
            stepped = estimate.complex_step(partial, point)
    except Exception as exc:  # noqa: BLE001 — user code rejects complex input in any way: math.*, order, numba
        return central, f"central differences (f cannot take complex input: {type(exc).__name__}: {exc})"
    # Central differences are good to ~1e-10 relative plus rounding ε|f|/h; a complex step that
    # misses them by 1e-3 has gone through a non-analytic operation.
    steps = np.cbrt(_EPS) * np.maximum(1.0, np.abs(point))
    tolerance = 1e-3 * np.max(np.abs(central)) + 1e3 * _EPS * abs(partial(point)) / steps
    if not np.all(np.abs(np.asarray(stepped) - central) <= tolerance):
        return central, ("central differences (the complex step disagrees with them: f takes complex input but "
                         "is not analytic in it, e.g. abs() or a cast to float)")
    return stepped, "complex step"


def _complex_capable(function):
    """f with `math` in its globals replaced by NumPy's versions of the math functions."""
    if function.__globals__.get("math") is not math:
        return function
    namespace = dict(function.__globals__, math=PYTHON_MATH)
    return types.FunctionType(function.__code__, namespace, function.__name__, function.__defaults__,
                              function.__closure__)


def _label(name, shape, k):
    if not shape:
        return name
    return f"{name}[{', '.join(str(int(i)) for i in np.unravel_index(k, shape))}]"
