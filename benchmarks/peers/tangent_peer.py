"""tangent-ad, its default (NumPy) backend, on the plain Python loop functions that
s2sdiff gets, and on the whole-array NumPy MLP.

tangent-ad has no reverse rule for `math.exp` & co., so the loops call `np.exp` & co. on
scalars; the RK4 ODE and Rosenbrock use no math functions and are the workloads' own.
"""
from __future__ import annotations

import numpy as np
import tangent

from . import Prepared, Unsupported, as_numpy

VERSION = getattr(tangent, "__version__", None)
if VERSION is None:      # the 2017 `tangent` package, which does not import on Python 3.11 anyway
    raise ImportError("the `tangent` package installed is the 2017 one; this needs tangent-ad")


def objective(x):
    n = len(x)
    s = 0.0
    for i in range(n - 1):
        xi = x[i]
        d = xi - i
        s += 0.1 * d * d + np.sin(xi) * np.cos(x[i + 1]) + np.exp(-xi * xi)
    return s


def notes_f(x):
    s = 0.0
    for i in range(len(x)):
        u = x[i] * x[i]
        v = u + np.exp(u)
        s += np.sqrt(v) + np.cos(v)
    return s


def _function(workload):
    own = {"objective": objective, "notes_f": notes_f}
    return own.get(workload.name, workload.f_python)


def prepare(workload, args):
    if workload.hessian:
        raise Unsupported("tangent-ad has no Hessian or Jacobian transform")
    wrt = workload.wrt if isinstance(workload.wrt, tuple) else (workload.wrt,)
    df = tangent.grad(_function(workload), wrt=wrt)
    return Prepared(lambda: df(*args), as_numpy)
