"""Central finite differences of the numba primal, where at most 1000 scalars are
differentiated: (f(x + h eⱼ) − f(x − h eⱼ)) / 2h with h = ε^{1/3} max(1, |xⱼ|), and for
the Hessian the four-point second difference with h = ε^{1/4} max(1, |xⱼ|)."""
from __future__ import annotations

import numpy as np

from . import Prepared, Unsupported

VERSION = f"numpy {np.__version__}"
MAX_N = 1000
FULL_SIZE_ONLY = True      # never tried at a reduced size: the point is n ≤ 1000 as asked
RTOL = 1e-5                # truncation and cancellation: no better is to be had
EPS = np.finfo(float).eps


def _flat(workload, args):
    """The differentiated arguments as one vector, and f of such a vector."""
    indices = workload.wrt if isinstance(workload.wrt, tuple) else (workload.wrt,)
    shapes = [np.shape(args[i]) for i in indices]
    x0 = np.concatenate([np.ravel(np.asarray(args[i], dtype=float)) for i in indices])

    def f(v):
        full, k = list(args), 0
        for i, shape in zip(indices, shapes):
            size = int(np.prod(shape))
            full[i] = v[k:k + size].reshape(shape) if shape else float(v[k])
            k += size
        return workload.primal(*full)

    def unflatten(v):
        pieces, k = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            pieces.append(v[k:k + size].reshape(shape) if shape else float(v[k]))
            k += size
        return tuple(pieces) if isinstance(workload.wrt, tuple) else pieces[0]

    return x0, f, unflatten


def gradient(f, x0):
    g = np.empty_like(x0)
    x = x0.copy()
    for j in range(x0.size):
        h = EPS ** (1 / 3) * max(1.0, abs(x0[j]))
        x[j] = x0[j] + h
        up = f(x)
        x[j] = x0[j] - h
        g[j] = (up - f(x)) / (2 * h)
        x[j] = x0[j]
    return g


def hessian(f, x0):
    n = x0.size
    H = np.empty((n, n))
    h = EPS ** 0.25 * np.maximum(1.0, np.abs(x0))
    x = x0.copy()
    for i in range(n):
        for j in range(i, n):
            total = 0.0
            for si, sj, sign in ((1, 1, 1.0), (1, -1, -1.0), (-1, 1, -1.0), (-1, -1, 1.0)):
                x[i] += si * h[i]
                x[j] += sj * h[j]
                total += sign * f(x)
                x[i] = x0[i]
                x[j] = x0[j]
            H[i, j] = H[j, i] = total / (4 * h[i] * h[j])
    return H


def prepare(workload, args):
    x0, f, unflatten = _flat(workload, args)
    if x0.size > MAX_N:
        raise Unsupported(f"{x0.size} differentiated inputs > {MAX_N}")
    if workload.hessian:
        return Prepared(lambda: hessian(f, x0), lambda H: H)
    return Prepared(lambda: gradient(f, x0), unflatten)
