"""autograd on `autograd.numpy`: whole-array functions for the array workloads, the
workload's own scalar loop for the ODE, `autograd.hessian` for the Hessian."""
from __future__ import annotations

from importlib.metadata import version

import autograd
import autograd.numpy as anp
from autograd.scipy.special import logsumexp

from . import Prepared, as_numpy

VERSION = version("autograd")


def objective(x):
    xi = x[:-1]
    d = xi - anp.arange(len(x) - 1)
    return anp.sum(0.1 * d * d + anp.sin(xi) * anp.cos(x[1:]) + anp.exp(-xi * xi))


def rosenbrock(x):
    xi = x[:-1]
    t = x[1:] - xi * xi
    u = 1.0 - xi
    return anp.sum(100.0 * t * t + u * u)


def notes_f(x):
    u = x * x
    v = u + anp.exp(u)
    return anp.sum(anp.sqrt(v) + anp.cos(v))


def mlp(W1, b1, w2, b2, X, y):
    h = anp.maximum(X @ W1 + b1, 0.0)
    r = h @ w2 + b2 - y
    return anp.sum(r * r)


def softmax_chain(x):
    d = x[1:] - x[:-1]
    return logsumexp(x) + anp.sum(anp.cos(x)) + 0.5 * anp.sum(d * d)


FUNCTIONS = {"objective": objective, "rosenbrock": rosenbrock, "notes_f": notes_f,
             "mlp_small": mlp, "mlp_large": mlp, "hessian": softmax_chain}


def prepare(workload, args):
    f = FUNCTIONS.get(workload.name, workload.f_python)     # the ODE: the plain loop
    if workload.hessian:
        hessian = autograd.hessian(f)
        return Prepared(lambda: hessian(*args), as_numpy)
    if not isinstance(workload.wrt, tuple):
        gradient = autograd.grad(f, workload.wrt)
        return Prepared(lambda: gradient(*args), as_numpy)
    # several arguments: differentiate one tuple of them (autograd's grad takes one argnum)
    indices = workload.wrt

    def of_tuple(params, *rest):
        others = iter(rest)
        return f(*(params[indices.index(i)] if i in indices else next(others) for i in range(len(args))))

    gradient = autograd.grad(of_tuple)
    params = tuple(args[i] for i in indices)
    rest = tuple(a for i, a in enumerate(args) if i not in indices)
    return Prepared(lambda: gradient(params, *rest), as_numpy)
