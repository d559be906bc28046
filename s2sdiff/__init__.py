"""s2sdiff — a compiled source-to-source automatic differentiator for Python.

    import s2sdiff as sd
    df = sd.derivative(f)          # forward mode, compiled with numba.njit
    print(df(1.5)); sd.show(df)    # the value, and the generated source
"""
from . import estimate, optimize
from .api import (Differentiable, Transformed, clear_caches, derivative, differentiable, grad, jacobian, jvp,
                  show, value_and_grad, vjp)
from .check import check_grad
from .errors import S2SDiffError, UnsupportedError

__all__ = ["derivative", "grad", "value_and_grad", "jacobian", "jvp", "vjp", "differentiable", "show",
           "clear_caches", "Transformed", "Differentiable", "S2SDiffError", "UnsupportedError",
           "estimate", "optimize", "check_grad"]
__version__ = "0.1.0"
