"""JAX: `jax.jit(jax.grad(f))` (and `jax.jit(jax.hessian(f))`) in float64.

Each function is written the way JAX is best used: whole-array `jax.numpy` for the
elementwise and stencil workloads, `lax.scan` for the ODE's recurrence. They use
`len(x)` rather than `x.shape` so that tangent-ad's JAX backend can read them too.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from . import Prepared, as_numpy

jax.config.update("jax_enable_x64", True)
VERSION = jax.__version__


def objective(x):
    xi = x[:-1]
    d = xi - jnp.arange(len(x) - 1)
    return jnp.sum(0.1 * d * d + jnp.sin(xi) * jnp.cos(x[1:]) + jnp.exp(-xi * xi))


def rosenbrock(x):
    xi = x[:-1]
    t = x[1:] - xi * xi
    u = 1.0 - xi
    return jnp.sum(100.0 * t * t + u * u)


def notes_f(x):
    u = x * x
    v = u + jnp.exp(u)
    return jnp.sum(jnp.sqrt(v) + jnp.cos(v))


def mlp(W1, b1, w2, b2, X, y):
    h = jnp.maximum(X @ W1 + b1, 0.0)
    r = h @ w2 + b2 - y
    return jnp.sum(r * r)


def softmax_chain(x):
    d = x[1:] - x[:-1]
    return jax.nn.logsumexp(x) + jnp.sum(jnp.cos(x)) + 0.5 * jnp.sum(d * d)


def _rk4_step(state, a, b, c, d):
    x, y = state
    h = 1e-3
    k1x, k1y = a * x - b * x * y, c * x * y - d * y
    x2, y2 = x + 0.5 * h * k1x, y + 0.5 * h * k1y
    k2x, k2y = a * x2 - b * x2 * y2, c * x2 * y2 - d * y2
    x3, y3 = x + 0.5 * h * k2x, y + 0.5 * h * k2y
    k3x, k3y = a * x3 - b * x3 * y3, c * x3 * y3 - d * y3
    x4, y4 = x + h * k3x, y + h * k3y
    k4x, k4y = a * x4 - b * x4 * y4, c * x4 * y4 - d * y4
    return (x + h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x),
            y + h / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y))


def ode(a, b, c, d, steps):
    # unroll=4 halves XLA's per-iteration loop overhead against fori_loop / unroll=1;
    # unroll=8 compiled into code 30x slower here.
    (x, y), _ = lax.scan(lambda s, _: (_rk4_step(s, a, b, c, d), None),
                         (jnp.float64(1.0), jnp.float64(0.5)), length=steps, unroll=4)
    return (x - 1.0) ** 2 + (y - 0.5) ** 2


def gmm(alphas, means, icf, x, gamma, m):
    """benchmarks/gmm.py's objective, whole-array: the K inverse factors at once, every point
    against every component by einsum."""
    n, d = x.shape
    below_rows, below_cols = zip(*[(i, j) for j in range(d) for i in range(j + 1, d)])   # column by column
    diagonal = jnp.exp(icf[:, :d])
    Q = jnp.zeros((len(alphas), d, d)).at[:, below_rows, below_cols].set(icf[:, d:])
    Q = Q + diagonal[:, :, None] * jnp.eye(d)
    y = jnp.einsum("kij,nkj->nki", Q, x[:, None, :] - means[None, :, :])
    terms = alphas + jnp.sum(icf[:, :d], axis=1) - 0.5 * jnp.sum(y * y, axis=2)
    likelihood = jnp.sum(jax.nn.logsumexp(terms, axis=1))
    prior = jnp.sum(0.5 * gamma * gamma * (jnp.sum(diagonal * diagonal, axis=1) + jnp.sum(icf[:, d:] ** 2, axis=1))
                    - m * jnp.sum(icf[:, :d], axis=1))
    return -(likelihood - n * jax.nn.logsumexp(alphas) - n * d * 0.5 * jnp.log(2.0 * jnp.pi)) + prior


def first_call(name, args, wrt, hessian=False) -> float:
    """Seconds of the first call of jax.jit(jax.grad) (or hessian) of FUNCTIONS[name]: trace,
    compile and one run."""
    import time
    derivative = (jax.hessian if hessian else jax.grad)(FUNCTIONS[name], argnums=wrt)
    static = tuple(i for i, a in enumerate(args) if isinstance(a, int))
    device_args = tuple(a if isinstance(a, (int, float)) else jnp.asarray(a) for a in args)
    t0 = time.perf_counter()
    jax.block_until_ready(jax.jit(derivative, static_argnums=static)(*device_args))
    return time.perf_counter() - t0


FUNCTIONS = {"objective": objective, "rosenbrock": rosenbrock, "notes_f": notes_f, "ode": ode,
             "mlp_small": mlp, "mlp_large": mlp, "hessian": softmax_chain, "gmm": gmm}


def prepare(workload, args, f=None):
    """`f`: another function than this module's for the workload (whole_array.py's)."""
    f = f or FUNCTIONS[workload.name]
    static = tuple(i for i, a in enumerate(args) if isinstance(a, int))   # the ODE's step count
    if workload.hessian:
        derivative = jax.hessian(f, argnums=workload.wrt)
    else:
        derivative = jax.grad(f, argnums=workload.wrt)
    compiled = jax.jit(derivative, static_argnums=static)
    device_args = tuple(a if isinstance(a, (int, float)) else jnp.asarray(a) for a in args)
    return Prepared(lambda: jax.block_until_ready(compiled(*device_args)), as_numpy)
