"""Benchmark workloads for s2sdiff's reverse mode.

Each workload has
  * `f_python` — the plain-Python function handed to s2sdiff (scalar loops, element reads);
  * `primal`   — `numba.njit(f_python)`;
  * `hand_grad` — a hand-written numba adjoint, written as well as we know how;
  * `inputs(size)` — the argument tuple for a problem size;
  * `wrt` — what s2sdiff differentiates with respect to;
  * `f_complex` — the function evaluated in complex arithmetic, written independently,
    for complex-step reference derivatives (run.py checks every adjoint against it).

The s2sdiff functions must stay at module level with `def` (s2sdiff reads the source).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numba
import numpy as np

# The hand derivatives get the compile options s2sdiff's generated code gets: NumPy's error
# model, where x / 0 is inf instead of a raised error, so divisions carry no zero test
# (the test kept the notes' f loop from being scheduled well: 25% slower).
hand_written = numba.njit(error_model="numpy")


# ---------------------------------------------------------------------------------------
# (a) objective: sum_{i=0}^{n-2} 0.1 (x_i - i)^2 + sin x_i cos x_{i+1} + exp(-x_i^2)
# ---------------------------------------------------------------------------------------

def objective(x):
    n = len(x)
    s = 0.0
    for i in range(n - 1):
        xi = x[i]
        d = xi - i
        s += 0.1 * d * d + math.sin(xi) * math.cos(x[i + 1]) + math.exp(-xi * xi)
    return s


objective_primal = numba.njit(objective)


@hand_written
def objective_hand_grad(x):
    """Gather form: g[j] = 0.2 (x_j - j) + cos x_j cos x_{j+1} - 2 x_j exp(-x_j^2)
                          - sin x_{j-1} sin x_j
    (the first three terms are absent for j = n-1, the last one for j = 0).

    sin and cos of each element are computed once, together (LLVM fuses them into one
    `sincos` call), as x_{j+1} in iteration j, and carried in registers to iterations
    j+1 and j+2: one sincos and one exp per element, each g[j] written once."""
    n = x.shape[0]
    g = np.empty(n)
    if n < 2:
        for j in range(n):
            g[j] = 0.0
        return g
    s_prev = 0.0                  # sin x_{j-1} (zero: the term is absent for j = 0)
    s_cur = math.sin(x[0])        # sin x_j
    c_cur = math.cos(x[0])        # cos x_j
    for j in range(n - 1):
        xj = x[j]
        xn = x[j + 1]
        s_next = math.sin(xn)
        c_next = math.cos(xn)
        g[j] = 0.2 * (xj - j) + c_cur * c_next - 2.0 * xj * math.exp(-xj * xj) - s_prev * s_cur
        s_prev = s_cur
        s_cur = s_next
        c_cur = c_next
    g[n - 1] = -s_prev * s_cur
    return g


def objective_inputs(n):
    rng = np.random.default_rng(0)
    return (rng.uniform(-2.0, 2.0, n) + np.arange(n) * 1e-6,)


# ---------------------------------------------------------------------------------------
# (b) rosenbrock: sum_{i=0}^{n-2} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2
# ---------------------------------------------------------------------------------------

def rosenbrock(x):
    n = len(x)
    s = 0.0
    for i in range(n - 1):
        xi = x[i]
        t = x[i + 1] - xi * xi
        u = 1.0 - xi
        s += 100.0 * t * t + u * u
    return s


rosenbrock_primal = numba.njit(rosenbrock)


@hand_written
def rosenbrock_hand_grad(x):
    """Gather form: g[j] = -400 x_j t_j - 2(1 - x_j) + 200 t_{j-1}, t_j = x_{j+1} - x_j^2;
    t_{j-1} is carried from the previous element."""
    n = x.shape[0]
    g = np.empty(n)
    if n < 2:
        g[:] = 0.0
        return g
    t_prev = 0.0
    for j in range(n - 1):
        xj = x[j]
        t = x[j + 1] - xj * xj
        g[j] = -400.0 * xj * t - 2.0 * (1.0 - xj) + 200.0 * t_prev
        t_prev = t
    g[n - 1] = 200.0 * t_prev
    return g


def rosenbrock_inputs(n):
    rng = np.random.default_rng(1)
    return (rng.uniform(-1.5, 1.5, n),)


# ---------------------------------------------------------------------------------------
# (a', b') the same maths spelled otherwise: a periodic neighbour x[(i + 1) % n] and
# constant powers x[i] ** 2, timed against (a) and (b) by s2sdiff alone (no peers)
# ---------------------------------------------------------------------------------------

def objective_periodic(x):
    n = len(x)
    s = 0.0
    for i in range(n):
        xi = x[i]
        d = xi - i
        s += 0.1 * d * d + math.sin(xi) * math.cos(x[(i + 1) % n]) + np.exp(-x[i] ** 2)
    return s


objective_periodic_primal = numba.njit(objective_periodic)


@hand_written
def objective_periodic_hand_grad(x):
    """objective_hand_grad with neighbours taken around the ring: element n - 1 pairs with
    element 0, so every g[j] has all four terms."""
    n = x.shape[0]
    g = np.empty(n)
    if n == 0:
        return g
    s_first = math.sin(x[0])
    c_first = math.cos(x[0])
    s_prev = math.sin(x[n - 1])   # sin x_{j-1}, around the ring for j = 0
    s_cur = s_first
    c_cur = c_first
    for j in range(n - 1):
        xj = x[j]
        xn = x[j + 1]
        s_next = math.sin(xn)
        c_next = math.cos(xn)
        g[j] = 0.2 * (xj - j) + c_cur * c_next - 2.0 * xj * math.exp(-xj * xj) - s_prev * s_cur
        s_prev = s_cur
        s_cur = s_next
        c_cur = c_next
    xj = x[n - 1]
    g[n - 1] = 0.2 * (xj - (n - 1)) + c_cur * c_first - 2.0 * xj * math.exp(-xj * xj) - s_prev * s_cur
    return g


def rosenbrock_pow(x):
    n = len(x)
    s = 0.0
    for i in range(n - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


rosenbrock_pow_primal = numba.njit(rosenbrock_pow)


# ---------------------------------------------------------------------------------------
# (c) ode: RK4 on Lotka–Volterra, loss on the final state, gradient in (a, b, c, d)
# ---------------------------------------------------------------------------------------

ODE_DT = 1e-3


def ode(a, b, c, d, steps):
    x = 1.0
    y = 0.5
    h = 0.001
    for k in range(steps):
        k1x = a * x - b * x * y
        k1y = c * x * y - d * y
        x2 = x + 0.5 * h * k1x
        y2 = y + 0.5 * h * k1y
        k2x = a * x2 - b * x2 * y2
        k2y = c * x2 * y2 - d * y2
        x3 = x + 0.5 * h * k2x
        y3 = y + 0.5 * h * k2y
        k3x = a * x3 - b * x3 * y3
        k3y = c * x3 * y3 - d * y3
        x4 = x + h * k3x
        y4 = y + h * k3y
        k4x = a * x4 - b * x4 * y4
        k4y = c * x4 * y4 - d * y4
        x = x + h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + h / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
    ex = x - 1.0
    ey = y - 0.5
    return ex * ex + ey * ey


ode_primal = numba.njit(ode)


@hand_written
def ode_hand_grad(a, b, c, d, steps):
    """Forward sweep storing (x, y) before each step in one (steps+1, 2) array, then the
    backward sweep recomputes the step's stages and propagates (bx, by) and the
    parameter adjoints in registers.  Returns (ga, gb, gc, gd)."""
    h = 0.001
    h2 = 0.5 * h
    h6 = h / 6.0
    st = np.empty((steps + 1, 2))
    x = 1.0
    y = 0.5
    for k in range(steps):
        st[k, 0] = x
        st[k, 1] = y
        k1x = a * x - b * x * y
        k1y = c * x * y - d * y
        x2 = x + h2 * k1x
        y2 = y + h2 * k1y
        k2x = a * x2 - b * x2 * y2
        k2y = c * x2 * y2 - d * y2
        x3 = x + h2 * k2x
        y3 = y + h2 * k2y
        k3x = a * x3 - b * x3 * y3
        k3y = c * x3 * y3 - d * y3
        x4 = x + h * k3x
        y4 = y + h * k3y
        k4x = a * x4 - b * x4 * y4
        k4y = c * x4 * y4 - d * y4
        x = x + h6 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + h6 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
    bx = 2.0 * (x - 1.0)
    by = 2.0 * (y - 0.5)
    ga = 0.0
    gb = 0.0
    gc = 0.0
    gd = 0.0
    for k in range(steps - 1, -1, -1):
        x = st[k, 0]
        y = st[k, 1]
        # recompute the stages
        k1x = a * x - b * x * y
        k1y = c * x * y - d * y
        x2 = x + h2 * k1x
        y2 = y + h2 * k1y
        k2x = a * x2 - b * x2 * y2
        k2y = c * x2 * y2 - d * y2
        x3 = x + h2 * k2x
        y3 = y + h2 * k2y
        k3x = a * x3 - b * x3 * y3
        k3y = c * x3 * y3 - d * y3
        x4 = x + h * k3x
        y4 = y + h * k3y
        # x_new = x + h6 (k1x + 2 k2x + 2 k3x + k4x), same for y
        bk4x = h6 * bx
        bk4y = h6 * by
        bk3x = 2.0 * bk4x
        bk3y = 2.0 * bk4y
        bk2x = bk3x
        bk2y = bk3y
        bk1x = bk4x
        bk1y = bk4y
        nbx = bx
        nby = by
        # stage 4: k4x = a x4 - b x4 y4, k4y = c x4 y4 - d y4
        ga += bk4x * x4
        gb -= bk4x * x4 * y4
        gc += bk4y * x4 * y4
        gd -= bk4y * y4
        bx4 = bk4x * (a - b * y4) + bk4y * c * y4
        by4 = -bk4x * b * x4 + bk4y * (c * x4 - d)
        # x4 = x + h k3x
        nbx += bx4
        nby += by4
        bk3x += h * bx4
        bk3y += h * by4
        # stage 3
        ga += bk3x * x3
        gb -= bk3x * x3 * y3
        gc += bk3y * x3 * y3
        gd -= bk3y * y3
        bx3 = bk3x * (a - b * y3) + bk3y * c * y3
        by3 = -bk3x * b * x3 + bk3y * (c * x3 - d)
        nbx += bx3
        nby += by3
        bk2x += h2 * bx3
        bk2y += h2 * by3
        # stage 2
        ga += bk2x * x2
        gb -= bk2x * x2 * y2
        gc += bk2y * x2 * y2
        gd -= bk2y * y2
        bx2 = bk2x * (a - b * y2) + bk2y * c * y2
        by2 = -bk2x * b * x2 + bk2y * (c * x2 - d)
        nbx += bx2
        nby += by2
        bk1x += h2 * bx2
        bk1y += h2 * by2
        # stage 1
        ga += bk1x * x
        gb -= bk1x * x * y
        gc += bk1y * x * y
        gd -= bk1y * y
        nbx += bk1x * (a - b * y) + bk1y * c * y
        nby += -bk1x * b * x + bk1y * (c * x - d)
        bx = nbx
        by = nby
    return ga, gb, gc, gd


def ode_inputs(steps):
    return (1.1, 0.4, 0.4, 0.1, int(steps))


# ---------------------------------------------------------------------------------------
# oracles: the same functions evaluated in complex arithmetic, for the complex step
#   d f / d v  =  Im f(x + i h v) / h   (h = 1e-30: no cancellation, exact to rounding).
# They share no code with the hand adjoints or with s2sdiff.
# ---------------------------------------------------------------------------------------

def objective_complex(x):
    i = np.arange(x.shape[0] - 1)
    xi, xn = x[:-1], x[1:]
    return np.sum(0.1 * (xi - i) ** 2 + np.sin(xi) * np.cos(xn) + np.exp(-xi * xi))


def objective_periodic_complex(x):
    i = np.arange(x.shape[0])
    return np.sum(0.1 * (x - i) ** 2 + np.sin(x) * np.cos(np.roll(x, -1)) + np.exp(-x * x))


def rosenbrock_complex(x):
    xi, xn = x[:-1], x[1:]
    return np.sum(100.0 * (xn - xi * xi) ** 2 + (1.0 - xi) ** 2)


@numba.njit
def _lv_rhs(x, y, a, b, c, d):
    return a * x - b * x * y, c * x * y - d * y


@numba.njit
def ode_complex(a, b, c, d, steps):
    """RK4 Lotka–Volterra written independently (stage function, complex state)."""
    x = 1.0 + 0j
    y = 0.5 + 0j
    h = ODE_DT
    for _ in range(steps):
        k1x, k1y = _lv_rhs(x, y, a, b, c, d)
        k2x, k2y = _lv_rhs(x + 0.5 * h * k1x, y + 0.5 * h * k1y, a, b, c, d)
        k3x, k3y = _lv_rhs(x + 0.5 * h * k2x, y + 0.5 * h * k2y, a, b, c, d)
        k4x, k4y = _lv_rhs(x + h * k3x, y + h * k3y, a, b, c, d)
        x = x + h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + h / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
    return (x - 1.0) ** 2 + (y - 0.5) ** 2


# ---- (d) two-layer ReLU network, whole-array NumPy -------------------------------------

def mlp(W1, b1, w2, b2, X, y):
    h = np.maximum(X @ W1 + b1, 0.0)
    r = h @ w2 + b2 - y
    return np.sum(r * r)


mlp_primal = numba.njit(mlp)


@hand_written
def mlp_hand_grad(W1, b1, w2, b2, X, y):
    """Backpropagation as in the notes: forward pass keeping z and h, then the chain rule
    layer by layer (two matrix products for W1 and w2). The elementwise steps are fused
    loops: bias and ReLU in one pass, and the ReLU's adjoint with the bias's column sums in
    another (as whole-array steps they took a third of the time at m=256)."""
    z = X @ W1
    h = np.empty_like(z)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[i, j] += b1[j]
            h[i, j] = max(z[i, j], 0.0)
    g = 2.0 * (h @ w2 + b2 - y)               # dL/dŷ
    gw2 = h.T @ g
    gb2 = g.sum()
    gz = np.empty_like(z)                     # back through the ReLU: outer(g, w2) where z > 0
    gb1 = np.zeros_like(b1)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            gz[i, j] = g[i] * w2[j] if z[i, j] > 0.0 else 0.0
            gb1[j] += gz[i, j]
    gW1 = X.T @ gz
    return gW1, gb1, gw2, gb2


def _mlp_inputs(d, p):
    def inputs(m):
        rng = np.random.default_rng(7)
        W1 = rng.normal(size=(d, p)) / np.sqrt(d)
        return (W1, 0.1 * rng.normal(size=p), rng.normal(size=p) / np.sqrt(p), 0.1,
                rng.normal(size=(m, d)), rng.normal(size=m))
    return inputs


# ---- (e) the lecture notes' f(x) = sqrt(x² + e^{x²}) + cos(x² + e^{x²}), summed over n points

def notes_f(x):
    """A loop over the elements: the whole-array form below becomes this loop before it is
    differentiated (s2sdiff/fusion.py), so their gradients take the same time."""
    s = 0.0
    for i in range(len(x)):
        u = x[i] * x[i]
        v = u + math.exp(u)
        s += math.sqrt(v) + math.cos(v)
    return s


def notes_f_whole_array(x):
    u = x * x
    v = u + np.exp(u)
    return np.sum(np.sqrt(v) + np.cos(v))


notes_f_primal = numba.njit(notes_f)


@hand_written
def notes_f_hand_grad(x):
    """g_i = 2 x_i (1 + e^{x_i²}) (1 / (2 sqrt v_i) - sin v_i), v_i = x_i² + e^{x_i²}."""
    g = np.empty_like(x)
    for i in range(x.shape[0]):
        xi = x[i]
        e = math.exp(xi * xi)
        v = xi * xi + e
        g[i] = 2.0 * xi * (1.0 + e) * (0.5 / math.sqrt(v) - math.sin(v))
    return g


def notes_f_inputs(n):
    rng = np.random.default_rng(3)
    return (rng.uniform(-1.5, 1.5, n),)


def notes_f_complex(x):
    u = x * x
    v = u + np.exp(u)
    return np.sum(np.sqrt(v) + np.cos(v))


# ---- (f) a Hessian: log-sum-exp plus a chain of springs plus cosines, n = 100 -------------
# Its Hessian diag(p) - p pᵀ + (chain Laplacian) - diag(cos x) is dense, so no peer can
# exploit sparsity.

def softmax_chain(x):
    n = len(x)
    s = 0.0
    r = 0.0
    for i in range(n):
        s += math.exp(x[i])
        r += math.cos(x[i])
    for i in range(n - 1):
        d = x[i + 1] - x[i]
        r += 0.5 * d * d
    return math.log(s) + r


softmax_chain_primal = numba.njit(softmax_chain)


@hand_written
def softmax_chain_hand_grad(x):
    """g_i = p_i - sin x_i + (x_i - x_{i-1}) - (x_{i+1} - x_i), p = softmax(x)."""
    n = x.shape[0]
    e = np.exp(x - x.max())
    p = e / e.sum()
    g = np.empty(n)
    for i in range(n):
        g[i] = p[i] - math.sin(x[i])
    for i in range(n - 1):
        d = x[i + 1] - x[i]
        g[i] -= d
        g[i + 1] += d
    return g


@hand_written
def softmax_chain_hand_hessian(x):
    """H = diag(p) - p pᵀ - diag(cos x) + L, L the chain's Laplacian (degree on the
    diagonal, -1 beside it)."""
    n = x.shape[0]
    e = np.exp(x - x.max())
    p = e / e.sum()
    H = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            H[i, j] = -p[i] * p[j]
        H[i, i] += p[i] - math.cos(x[i])
    for i in range(n - 1):
        H[i, i] += 1.0
        H[i + 1, i + 1] += 1.0
        H[i, i + 1] -= 1.0
        H[i + 1, i] -= 1.0
    return H


def softmax_chain_inputs(n):
    rng = np.random.default_rng(5)
    return (rng.uniform(-1.0, 1.0, n),)


def softmax_chain_complex(x):
    return np.log(np.sum(np.exp(x))) + np.sum(np.cos(x)) + 0.5 * np.sum((x[1:] - x[:-1]) ** 2)


def softmax_chain_grad_complex(x):
    """The gradient written out in NumPy, for the complex-step check of the hand Hessian."""
    e = np.exp(x)
    g = e / np.sum(e) - np.sin(x)
    d = x[1:] - x[:-1]
    g[1:] += d
    g[:-1] -= d
    return g


# ---------------------------------------------------------------------------------------

@dataclass
class Workload:
    name: str
    f_python: Callable        # handed to s2sdiff
    primal: Callable          # numba.njit(f_python)
    hand_grad: Callable       # hand-written adjoint, same output layout as sd.grad
    inputs: Callable          # size -> argument tuple
    wrt: object               # sd.grad(f_python, wrt=wrt)
    size: int                 # full size (n, or steps for the ODE)
    quick_size: int           # --quick size
    f_complex: Callable       # complex-step oracle: f evaluated with complex differentiated args
    oracle_size: int          # size for the element-by-element complex-step check
    size_label: str = "n"
    title: str = ""           # what the tables call it
    loop: bool = False        # a scalar loop (the targets for loop workloads apply)
    probe_size: int = 1000    # where a peer too slow for the full size is tried first
    hand_hessian: Callable = None   # set for Hessian workloads: what every method computes
    f_other_form: Callable = None   # the same function written the other way (loops / whole arrays)
    grad_complex: Callable = None   # the gradient in complex arithmetic (checks hand_hessian)
    variant_of: str = None          # the workload whose maths this one spells otherwise: timed without peers

    @property
    def hessian(self) -> bool:
        return self.hand_hessian is not None

    @property
    def hand(self) -> Callable:
        """The hand-written derivative every method is checked against and timed beside."""
        return self.hand_hessian if self.hessian else self.hand_grad


def wrt_indices(workload) -> tuple:
    return tuple(workload.wrt) if isinstance(workload.wrt, tuple) else (workload.wrt,)


WORKLOADS = {
    "objective": Workload("objective", objective, objective_primal, objective_hand_grad, objective_inputs,
                          0, 1_000_000, 100_000, objective_complex, 200,
                          title="Σ 0.1(xᵢ−i)² + sin xᵢ cos xᵢ₊₁ + e^{−xᵢ²}", loop=True),
    "rosenbrock": Workload("rosenbrock", rosenbrock, rosenbrock_primal, rosenbrock_hand_grad, rosenbrock_inputs,
                           0, 1_000_000, 100_000, rosenbrock_complex, 200, title="Rosenbrock", loop=True),
    "objective_periodic": Workload("objective_periodic", objective_periodic, objective_periodic_primal,
                                   objective_periodic_hand_grad, objective_inputs, 0, 1_000_000, 100_000,
                                   objective_periodic_complex, 200, title="objective with x[(i + 1) % n], x[i] ** 2",
                                   loop=True, variant_of="objective"),
    "rosenbrock_pow": Workload("rosenbrock_pow", rosenbrock_pow, rosenbrock_pow_primal, rosenbrock_hand_grad,
                               rosenbrock_inputs, 0, 1_000_000, 100_000, rosenbrock_complex, 200,
                               title="Rosenbrock with x[i] ** 2", loop=True, variant_of="rosenbrock"),
    "ode": Workload("ode", ode, ode_primal, ode_hand_grad, ode_inputs, (0, 1, 2, 3),
                    100_000, 10_000, ode_complex, 100_000, size_label="steps",
                    title="RK4 Lotka–Volterra, 4 parameters", loop=True, probe_size=100),
    "notes_f": Workload("notes_f", notes_f, notes_f_primal, notes_f_hand_grad, notes_f_inputs,
                        0, 1_000_000, 100_000, notes_f_complex, 200,
                        title="Σ sqrt(x²+e^{x²}) + cos(x²+e^{x²})", loop=True, f_other_form=notes_f_whole_array),
    "mlp_small": Workload("mlp_small", mlp, mlp_primal, mlp_hand_grad, _mlp_inputs(32, 64), (0, 1, 2, 3),
                          256, 256, mlp, 16, size_label="m (d=32, p=64)",
                          title="two-layer ReLU network (d=32, p=64)", probe_size=16),
    "mlp_large": Workload("mlp_large", mlp, mlp_primal, mlp_hand_grad, _mlp_inputs(128, 256), (0, 1, 2, 3),
                          4096, 1024, mlp, 4, size_label="m (d=128, p=256)",
                          title="two-layer ReLU network (d=128, p=256)", probe_size=64),
    "hessian": Workload("hessian", softmax_chain, softmax_chain_primal, softmax_chain_hand_grad,
                        softmax_chain_inputs, 0, 100, 100, softmax_chain_complex, 100,
                        title="Hessian of log Σ eˣ + Σ cos x + ½Σ(xᵢ₊₁−xᵢ)²", probe_size=100,
                        hand_hessian=softmax_chain_hand_hessian, grad_complex=softmax_chain_grad_complex),
}
