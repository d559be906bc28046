"""A differential corpus: functions written the way other people write Python and NumPy.

Each module holds one kind of function (scalar code, NumPy expressions, BLAS-style
kernels, stencils, factorizations, ML objectives, ...), written in the styles other AD
tools' test suites and public benchmark kernels use, not in s2sdiff's own dialect. The
`@case(...)` decorator registers a function with the point it is evaluated at and what it
is expected to give; `harness.py` runs it on every entry point of s2sdiff and compares
with an oracle that shares no code with s2sdiff (`oracle.py`).

    @case(vec(4), 0.3, tags=("loop", "accumulate"))
    def weighted(x, a): ...

- positional arguments: the point. Floats and float arrays are differentiable; ints
  (sizes, step counts) and int arrays never are. Every call gets fresh copies.
- `wrt`: the indices `grad`/`jacobian`/`hessian` take (default: every float argument);
  `vjp` and `jvp` always see every float argument.
- `tags`: the constructs the function uses, for grouping.
- `expect`: "right", or "refused:<construct>" when s2sdiff refuses it today (the group
  name says which construct). `expect_at` overrides it per entry point pattern
  (fnmatch over harness.ENTRY_POINTS, e.g. {"hessian": "refused:..."}).
- `bugs`: {entry point pattern: "one-line reason"} — a wrong number or a crash found in
  s2sdiff; the CI test marks these xfail(strict=True). A pattern ending in "/jit" or
  "/py" applies to the compiled or the Python run only.
- `oracle`: "auto" (complex step, checked against Richardson differences) or "fd"
  (Richardson differences only: code that is not analytic in a complex argument).
- `closed`: a closed-form Jacobian, `closed(*args)` -> {arg index: array of shape
  out.shape + arg.shape}; checked against the numerical oracle and then used instead.
- `tol`: a factor on the comparison tolerance (ill-conditioned functions).
"""
from __future__ import annotations

import importlib
import zlib
from dataclasses import dataclass, field

import numpy as np

MODULES = ("scalar", "numpy_ops", "control_flow", "linalg", "blas", "stencils", "factorizations", "ml",
           "ode_physics", "optim_testfns", "patterns", "np_elementwise", "np_reductions", "np_shapes", "np_joins",
           "np_diagonals", "np_linalg", "np_creation", "np_products_linalg", "np_axis_keywords", "np_broadcast_nd",
           "py_constructs", "py_objectives")


@dataclass
class Case:
    fn: object
    args: tuple
    wrt: tuple
    tags: tuple
    expect: str
    expect_at: dict
    bugs: dict
    oracle: str
    closed: object
    tol: float
    module: str = ""

    @property
    def name(self):
        return f"{self.module}.{self.fn.__name__}"

    @property
    def float_args(self):
        """Indices of the differentiable arguments."""
        return tuple(i for i, a in enumerate(self.args) if is_float(a))

    def fresh_args(self):
        return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in self.args)

    def rng(self, salt=0):
        return np.random.default_rng(zlib.crc32(f"{self.name}:{salt}".encode()))


def is_float(value):
    if isinstance(value, np.ndarray):
        return value.dtype == np.float64
    return isinstance(value, float)


CASES: list[Case] = []


def case(*args, wrt=None, tags=(), expect="right", expect_at=None, bugs=None, oracle="auto", closed=None,
         tol=1.0):
    def register(fn):
        module = fn.__module__.rsplit(".", 1)[-1]
        indices = tuple(i for i, a in enumerate(args) if is_float(a)) if wrt is None else \
            ((wrt,) if isinstance(wrt, int) else tuple(wrt))
        CASES.append(Case(fn, args, indices, tuple(tags), expect, dict(expect_at or {}), dict(bugs or {}), oracle,
                          closed, tol, module))
        return fn
    return register


def all_cases():
    """Every case of every corpus module, in a fixed order."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return list(CASES)


# ---- points: deterministic, away from zero where that matters -------------------------

def _rng(shape, seed):
    return np.random.default_rng(zlib.crc32(repr((shape, seed)).encode()))


def vec(n, lo=-1.0, hi=1.0, seed=0, away=0.0):
    """A float vector of n values drawn uniformly from [lo, hi); `away` > 0 keeps every value
    at least that far from zero (for code with a kink there: abs, relu, max with 0)."""
    return _away(_rng((n,), seed).uniform(lo, hi, n), away)


def mat(m, n=None, lo=-1.0, hi=1.0, seed=0, away=0.0):
    n = m if n is None else n
    return _away(_rng((m, n), seed).uniform(lo, hi, (m, n)), away)


def tensor(*shape, lo=-1.0, hi=1.0, seed=0, away=0.0):
    """A float array of any shape (3-D and more), like vec and mat."""
    return _away(_rng(shape, seed).uniform(lo, hi, shape), away)


def _away(values, distance):
    return values + distance * np.sign(values) if distance else values


def spd(n, seed=0):
    """A well-conditioned symmetric positive definite matrix."""
    a = mat(n, seed=seed)
    return a @ a.T + n * np.eye(n)


def diag_dominant(n, seed=0):
    """A nonsymmetric matrix that LU factorizes without pivoting."""
    a = mat(n, seed=seed)
    return a + (n + 1.0) * np.eye(n)


def positive(n, seed=0):
    return vec(n, 0.5, 1.5, seed)
