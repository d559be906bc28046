"""s2sdiff — a compiled source-to-source automatic differentiator for Python.

    import s2sdiff as sd
    df = sd.derivative(f)          # forward mode, compiled with numba.njit
    print(df(1.5)); sd.show(df)    # the value, and the generated source
"""
from . import estimate, optimize
from .api import (Differentiable, clear_caches, derivative, differentiable, grad, hessian, jacobian, jvp, show,
                  value_and_grad, vjp)
from .check import check_grad
from .custom import CustomJVP, CustomVJP, custom_jvp, custom_vjp, register_jvp, register_vjp
from .errors import DerivativeMismatch, MemoryBudgetExceeded, S2SDiffError, UnsupportedError
from .taylor import TaylorPolynomial, taylor
from .wrappers import Transformed

__all__ = ["derivative", "grad", "value_and_grad", "jacobian", "hessian", "jvp", "vjp", "taylor", "differentiable",
           "show", "clear_caches", "Transformed", "Differentiable", "TaylorPolynomial", "S2SDiffError",
           "UnsupportedError", "DerivativeMismatch", "MemoryBudgetExceeded", "estimate", "optimize", "check_grad",
           "custom_jvp", "custom_vjp", "register_jvp", "register_vjp", "CustomJVP", "CustomVJP"]
__version__ = "0.1.0"


def __getattr__(name):
    """`sd.dask`, imported on first use: importing s2sdiff does not import dask."""
    if name != "dask":
        raise AttributeError(f"module 's2sdiff' has no attribute {name!r}")
    try:
        import dask.array  # noqa: F401  (the optional extra's packages, checked before s2sdiff.dask needs them)
        import dask.delayed  # noqa: F401
    except ImportError as error:
        raise ImportError(f"sd.dask needs dask: pip install 's2sdiff[dask]' ({error})") from error
    import importlib
    return importlib.import_module(".dask", __name__)
