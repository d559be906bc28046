"""PyTorch, eager, float64: whole-array tensors for the array workloads, the workload's
own scalar loop on 0-d tensors for the ODE, `torch.autograd.functional.hessian` for the
Hessian."""
from __future__ import annotations

import torch

from . import Prepared

VERSION = torch.__version__


def objective(x):
    xi = x[:-1]
    d = xi - torch.arange(x.shape[0] - 1, dtype=x.dtype)
    return torch.sum(0.1 * d * d + torch.sin(xi) * torch.cos(x[1:]) + torch.exp(-xi * xi))


def rosenbrock(x):
    xi = x[:-1]
    t = x[1:] - xi * xi
    u = 1.0 - xi
    return torch.sum(100.0 * t * t + u * u)


def notes_f(x):
    u = x * x
    v = u + torch.exp(u)
    return torch.sum(torch.sqrt(v) + torch.cos(v))


def mlp(W1, b1, w2, b2, X, y):
    h = torch.relu(X @ W1 + b1)
    r = h @ w2 + b2 - y
    return torch.sum(r * r)


def softmax_chain(x):
    d = x[1:] - x[:-1]
    return torch.logsumexp(x, 0) + torch.sum(torch.cos(x)) + 0.5 * torch.sum(d * d)


FUNCTIONS = {"objective": objective, "rosenbrock": rosenbrock, "notes_f": notes_f,
             "mlp_small": mlp, "mlp_large": mlp, "hessian": softmax_chain}


def _tensor(a):
    return torch.from_numpy(a) if hasattr(a, "shape") else torch.tensor(a, dtype=torch.float64)


def _to_numpy(result):
    if isinstance(result, tuple):
        return tuple(r.item() if r.dim() == 0 else r.numpy() for r in result)
    return result.numpy()


def prepare(workload, args, f=None):
    """`f`: another function than this module's for the workload (whole_array.py's)."""
    f = f or FUNCTIONS.get(workload.name, workload.f_python)     # the ODE: the plain loop
    if workload.hessian:
        x = torch.from_numpy(args[0])
        # vectorize=True computes the rows with vmap instead of n backward passes
        return Prepared(lambda: torch.autograd.functional.hessian(f, x, vectorize=True), _to_numpy)
    indices = workload.wrt if isinstance(workload.wrt, tuple) else (workload.wrt,)
    values = [a if isinstance(a, int) else _tensor(a) for a in args]

    def gradient():
        leaves = {i: values[i].detach().requires_grad_() for i in indices}
        loss = f(*(leaves.get(i, v) for i, v in enumerate(values)))
        grads = torch.autograd.grad(loss, [leaves[i] for i in indices])
        return grads if isinstance(workload.wrt, tuple) else grads[0]

    return Prepared(gradient, _to_numpy)
