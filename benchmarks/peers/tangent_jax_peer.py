"""tangent-ad with `compile="jax"`: tangent-ad transforms the `jax.numpy` functions of
jax_peer (whole-array), and `jax.jit` compiles the generated gradient.

Under `jax.jit` a Python loop is unrolled while tracing, so the ODE's step count must be a
constant (a closure, not an argument) and its compile time grows faster than the step
count: it starts at 10 steps.
"""
from __future__ import annotations

import jax
import tangent

from . import Prepared, Unsupported, as_numpy
from .jax_peer import FUNCTIONS

VERSION = f"{getattr(tangent, '__version__', '?')} with jax {jax.__version__}"
PROBE = {"ode": 10}
UNROLLS = {"ode"}


def _ode_of(f_python, steps):
    def ode_fixed_steps(a, b, c, d):
        return f_python(a, b, c, d, steps)
    return ode_fixed_steps


def prepare(workload, args):
    if workload.hessian:
        raise Unsupported("tangent-ad has no Hessian or Jacobian transform")
    if workload.name == "ode":
        f, args = _ode_of(workload.f_python, args[-1]), args[:-1]
    else:
        f = FUNCTIONS[workload.name]
        args = tuple(a if isinstance(a, float) else jax.numpy.asarray(a) for a in args)
    wrt = workload.wrt if isinstance(workload.wrt, tuple) else (workload.wrt,)
    df = tangent.grad(f, wrt=wrt, compile="jax")
    return Prepared(lambda: jax.block_until_ready(df(*args)), as_numpy)
