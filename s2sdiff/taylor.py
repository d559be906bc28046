"""Taylor polynomials and linearization, from the transforms' derivatives.

For f: R -> R the polynomial of degree k at x0 is Σ_{j≤k} f⁽ʲ⁾(x0)/j! (x − x0)ʲ, with
f⁽ʲ⁾ from `derivative(f, order=j)` (forward mode applied j times).  For f: Rⁿ -> R it
is f(x0) + ∇f(x0)·δ + ½ δᵀ H(x0) δ with δ = x − x0, up to degree 2 (gradient in reverse
mode, Hessian forward over reverse).  Degree 1 is the linearization (tangent plane).
"""
from __future__ import annotations

import inspect
import math

import numpy as np

from . import api
from .errors import S2SDiffError
from .parse import python_function
from .pipeline import derived_unit
from .wrappers import call_kinds


class TaylorPolynomial:
    """The polynomial itself: call it at x; `coefficients` are f(x0), f'(x0), f''(x0)/2, …
    for a scalar x0, and (f(x0), ∇f(x0), H(x0)/2) for an array x0."""

    def __init__(self, center, coefficients):
        self.center = center
        self.coefficients = tuple(coefficients)
        self.degree = len(self.coefficients) - 1

    def __call__(self, x):
        delta = np.asarray(x, dtype=np.float64) - self.center
        if np.ndim(self.center) == 0:
            return float(sum(c * delta ** j for j, c in enumerate(self.coefficients)))
        total = self.coefficients[0]
        if self.degree >= 1:
            total = total + float(np.sum(self.coefficients[1] * delta))
        if self.degree >= 2:
            total = total + float(delta.ravel() @ self.coefficients[2].reshape(delta.size, delta.size) @ delta.ravel())
        return total

    def __repr__(self):
        return f"<TaylorPolynomial of degree {self.degree} at {self.center!r}>"


def taylor(f, x0, order=1, args=(), *, jit=True) -> TaylorPolynomial:
    """The Taylor polynomial of degree `order` of f in its first argument at x0, the other
    arguments held at `args`.  A scalar x0 takes any order; an array x0 at most 2."""
    if not isinstance(order, (int, np.integer)) or order < 0:
        raise S2SDiffError(f"order must be a non-negative integer, got {order!r}")
    if np.ndim(x0) and order > 2:
        raise S2SDiffError(f"for an array x0 the Taylor polynomial goes up to degree 2 (the Hessian); got {order}")
    args = tuple(args)
    params = list(inspect.signature(python_function(f)).parameters)
    value = derived_unit("primal", f, (), jit, kinds=call_kinds(params, (x0,) + args)).compiled(x0, *args)
    if np.ndim(x0) == 0:
        x0 = float(x0)
        terms = [value] + [api.derivative(f, j, jit=jit)(x0, *args) / math.factorial(j) for j in range(1, order + 1)]
        return TaylorPolynomial(x0, terms)
    x0 = np.asarray(x0, dtype=np.float64)
    terms = [value]
    if order >= 1:
        terms.append(api.grad(f, jit=jit)(x0, *args))
    if order >= 2:
        terms.append(api.hessian(f, jit=jit)(x0, *args) / 2.0)
    return TaylorPolynomial(x0, terms)
