"""Forward and reverse mode side by side, and every other entry point, for the foundation tests.

Every derivative check of test_elementary, test_control_flow and test_seeds runs in both
modes against the same independent oracle; in reverse mode each result is also compared
with forward mode's (`assert_modes_agree`, 1e-13 relative).  The reverse-mode counterpart
of `sd.derivative(f)` (the derivative in the first argument) is `sd.grad(f, wrt=0)` for a
scalar-valued f and `sd.jacobian(f, wrt=0)` for a tuple-valued one (an array of shape (m,)).

Every entry point agrees.  In reverse mode each tested result is also computed through
every other public entry point that applies to it (`check_entry_points`; test_arrays'
program tables call it too), run with jit=False (the same generated code without numba's
compile, so the suite stays fast), and must agree with it to 1e-12:
* a gradient (`AD.G`, or `AD.D` of a scalar-valued f): sd.grad, sd.value_and_grad and
  sd.jacobian in both modes, sd.derivative (for a number first argument), sd.vjp with
  cotangent 1.0, sd.jvp along a random direction against <gradient, direction>; the
  values they return are f's;
* a Jacobian (`AD.J`, or `AD.D` of a tuple-valued f): sd.jacobian in both modes, sd.jvp
  along each input element (its columns), sd.vjp with each unit cotangent (its rows),
  sd.derivative for `AD.D`;
* second order, for a gradient: sd.hessian against sd.jacobian(sd.grad(f, i), j) and, for
  numbers, sd.grad(sd.grad(f, i), j) and sd.derivative(f, order=2), to 1e-8 (skipped where
  one of them is not finite: f is not twice differentiable there).
A disagreement (or an entry point that raises) is an `EntryPointMismatch`, raised by
conftest.py after the test's own checks have passed, so that a known bug's
xfail(raises=EntryPointMismatch) never hides an oracle failure.

Every transform is built (and numba-compiled) once per (function, options, mode).
"""
import contextlib
import functools
import inspect
import math
import zlib

import numpy as np

import s2sdiff as sd

MODES = ("forward", "reverse")
AGREE = 1e-13
ENTRY = 1e-12       # every first-order entry point against the tested result
SECOND = 1e-8       # the second-order entry points against each other


class EntryPointMismatch(AssertionError):
    """Two public entry points give different derivatives (or one of them fails)."""


def assert_modes_agree(reverse, forward, rel=AGREE, what=""):
    """Reverse- and forward-mode results agree element-wise to `rel` (inf and inf agree).

    A tuple from forward mode and an array from reverse mode (a jacobian column) compare
    as sequences of the same length."""
    r, f = _flat(reverse), _flat(forward)
    assert r.shape == f.shape, f"{what}: reverse {reverse!r} and forward {forward!r} differ in shape"
    k = _first_difference(r, f, rel)
    if k is not None:
        a, b = float(r[k]), float(f[k])
        raise AssertionError(f"{what}: reverse and forward modes disagree in component {k}: reverse {a!r}, "
                             f"forward {b!r} (relative difference {abs(a - b) / max(abs(a), abs(b)):.3g} > {rel:g})")


def _first_difference(a, b, rel, atol=1e-300):
    """The first component where flat arrays a and b differ by more than `rel` (or `atol`), or None."""
    for k, (x, y) in enumerate(zip(a, b)):
        x, y = float(x), float(y)
        if not (x == y or math.isclose(x, y, rel_tol=rel, abs_tol=atol) or (math.isnan(x) and math.isnan(y))):
            return k
    return None


def _flat(result):
    """A number, array or (nested) tuple of these as one flat float array."""
    if isinstance(result, tuple):
        return np.concatenate([_flat(part) for part in result])
    return np.ravel(np.asarray(result, dtype=np.float64))


# ---- the transforms, built once per mode ------------------------------------------------

@functools.cache
def derivative(f, mode):
    """d f / d(first argument): sd.derivative forward; sd.grad / sd.jacobian (wrt=0) reverse."""
    if mode == "forward":
        return sd.derivative(f)
    try:
        return sd.grad(f, wrt=0, mode="reverse")
    except sd.S2SDiffError as exc:
        if "scalar-valued" not in str(exc):
            raise
        return sd.jacobian(f, wrt=0, mode="reverse")


@functools.cache
def grad(f, wrt, mode):
    return sd.grad(f, wrt=wrt, mode=mode)


@functools.cache
def jacobian(f, wrt, mode):
    return sd.jacobian(f, wrt=wrt, mode=mode)


class AD:
    """The transforms of one mode, as the tests call them: `ad.D(f)(x)`, `ad.G(f, wrt)(x, y)`,
    `ad.J(f, wrt)(x, y)`.  In reverse mode every call also runs forward mode on the same
    arguments and asserts that the two agree (`agree`: the relative tolerance), and checks
    every other entry point against the result (`check_entry_points`)."""

    def __init__(self, mode, agree=AGREE):
        self.mode = mode
        self.agree = agree
        self.reverse = mode == "reverse"

    def __repr__(self):
        return self.mode

    def tolerating(self, agree):
        """The same transforms, with a looser forward/reverse agreement (ill-conditioned results)."""
        return AD(self.mode, agree)

    def D(self, f):
        return self._checked(derivative, f)

    def G(self, f, wrt):
        return self._checked(grad, f, wrt)

    def J(self, f, wrt):
        return self._checked(jacobian, f, wrt)

    def _checked(self, build, *key):
        transform = build(*key, self.mode)
        if not self.reverse:
            return transform
        forward = build(*key, "forward")
        f, *options = key
        name = f"{build.__name__}({', '.join([f.__name__, *map(repr, options)])})"
        kind, wrt = {"derivative": ("D", 0), "grad": ("G", *options), "jacobian": ("J", *options)}[build.__name__]

        def both(*args, **kwargs):
            got = transform(*args, **kwargs)
            assert_modes_agree(got, forward(*args, **kwargs), self.agree, what=f"{name} at {args}")
            check_entry_points(kind, f, wrt, _all_positional(f, args, kwargs), got, max(ENTRY, self.agree))
            return got
        return both


def directional(ad, f, primals, tangents):
    """(f(*primals), J·tangents): `sd.jvp` in forward mode; in reverse mode one `sd.vjp`
    per output (a unit cotangent gives a row of J) dotted with the tangents, checked
    against `sd.jvp` too.  A tuple of directional derivatives for a tuple-valued f."""
    value, tangent = sd.jvp(f, primals, tangents)
    if not ad.reverse:
        return value, tangent
    rev_value, vjp_fn = sd.vjp(f, *primals)
    m = len(rev_value) if isinstance(rev_value, tuple) else 1
    rows = [vjp_fn(tuple(float(j == k) for j in range(m)) if m > 1 else 1.0) for k in range(m)]
    rev_tangent = tuple(math.fsum(r * t for r, t in zip(row, tangents)) for row in rows)
    rev_tangent = rev_tangent if isinstance(rev_value, tuple) else rev_tangent[0]
    assert_modes_agree(rev_value, value, ad.agree, what=f"vjp({f.__name__}) value at {primals}")
    assert_modes_agree(rev_tangent, tangent, ad.agree, what=f"vjp({f.__name__}) · tangents at {primals}")
    return rev_value, rev_tangent


# ---- every other entry point, without numba ---------------------------------------------

pending: list = []      # disagreements of the running test; conftest.py raises them after it


def raise_pending():
    if pending:
        found, pending[:] = list(pending), []
        raise EntryPointMismatch(f"{len(found)} disagreement(s) between entry points:\n" + "\n".join(found))


@functools.cache
def _plain(kind, f, *options):
    """sd.<kind>(f, *options, jit=False), built once."""
    return getattr(sd, kind)(f, *options, jit=False)


def _python(f):
    while not inspect.isfunction(f) and hasattr(f, "py_func"):
        f = f.py_func
    return f


def _all_positional(f, args, kwargs):
    """The call's arguments, defaults included, as one tuple (sd.jvp and sd.vjp take them all)."""
    bound = inspect.signature(_python(f)).bind(*args, **kwargs)
    bound.apply_defaults()
    return tuple(bound.arguments.values())


def _indices(f, wrt):
    """(argument indices, whether `wrt` is a tuple), as sd resolves `wrt`."""
    params = list(inspect.signature(_python(f)).parameters)
    many = isinstance(wrt, tuple)
    return tuple(params.index(w) if isinstance(w, str) else w % len(params) for w in (wrt if many else (wrt,))), many


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _parts(result):
    return result if isinstance(result, tuple) else (result,)


def _same(got, want, rel, what, against="the tested result", atol=1e-300):
    """`got` has `want`'s structure (tuple length, shapes) and agrees element-wise to `rel`."""
    gs, ws = _parts(got), _parts(want)
    shapes = [np.shape(g) for g in gs], [np.shape(w) for w in ws]
    if shapes[0] != shapes[1]:
        raise EntryPointMismatch(f"{what}: shape {shapes[0]}, {against} {shapes[1]}: {got!r} vs {want!r}")
    g, w = _flat(got), _flat(want)
    k = _first_difference(g, w, rel, atol)
    if k is not None:
        raise EntryPointMismatch(f"{what} {float(g[k])!r}, {against} {float(w[k])!r} (component {k}; "
                                 f"{got!r} vs {want!r})")


def _same_value(got, f, args):
    """The value an entry point returns is f's, to the last bits (the generated Python may
    call NumPy's libm where f calls math's: math.tanh(0.8) and np.tanh(0.8) differ by 1 ulp)."""
    want = f(*args)
    if _first_difference(_flat(got), _flat(want), 1e-15) is not None:
        raise EntryPointMismatch(f"value {got!r}, f gives {want!r}")


def check_entry_points(kind, f, wrt, args, got, rel=ENTRY):
    """Every other entry point against the tested result `got` of `kind` at `args` (all
    positional): "G" a gradient `sd.grad(f, wrt)`, "J" a Jacobian `sd.jacobian(f, wrt)`,
    "D" the derivative in the first argument (forward mode's tuple for a tuple-valued f).
    Each disagreement is recorded in `pending` (conftest.py raises them after the test)."""
    where = f"{f.__name__} at {args}"
    vector = isinstance(f(*args), tuple)
    if kind == "D" and vector:
        _attempt(f"sd.derivative of {where}",
                 lambda: _same(_plain("derivative", f)(*args), tuple(_flat(got)), rel, "derivative"))
    if kind == "D":
        kind, got = ("J", np.asarray(got)) if vector else ("G", got)
    if kind == "G":
        _gradient_entry_points(f, wrt, args, got, rel, where)
        _second_order(f, wrt, args, got, where)
    else:
        _jacobian_entry_points(f, wrt, args, got, rel, where)


@contextlib.contextmanager
def recorded(what):
    """Run one entry point's check: a disagreement, or an exception where the tested entry
    point worked, goes to `pending` under `what`."""
    try:
        yield
    except EntryPointMismatch as exc:
        pending.append(f"{what}: {exc}")
    except Exception as exc:
        pending.append(f"{what} raised {type(exc).__name__}: {exc}")


def _attempt(what, check):
    with recorded(what):
        check()


def _gradient_entry_points(f, wrt, args, got, rel, where):
    indices, many = _indices(f, wrt)
    partials = _parts(got) if many else (got,)
    for mode in MODES:
        _attempt(f"sd.grad(wrt={wrt!r}, mode={mode!r}) of {where}",
                 lambda: _same(_plain("grad", f, wrt, mode)(*args), got, rel, "gradient"))

        def value_and_grad():
            value, gradient = _plain("value_and_grad", f, wrt, mode)(*args)
            _same(gradient, got, rel, "gradient")
            _same_value(value, f, args)
        _attempt(f"sd.value_and_grad(wrt={wrt!r}, mode={mode!r}) of {where}", value_and_grad)
        _attempt(f"sd.jacobian(wrt={wrt!r}, mode={mode!r}) of {where}",
                 lambda: _same(_plain("jacobian", f, wrt, mode)(*args), got, rel, "jacobian"))

    if 0 in indices and np.ndim(args[0]) == 0:
        _attempt(f"sd.derivative of {where}",
                 lambda: _same(_plain("derivative", f)(*args), partials[indices.index(0)], rel, "derivative"))

    def vjp():
        value, vjp_fn = sd.vjp(f, *args, jit=False)
        _same_value(value, f, args)
        cotangents = vjp_fn(1.0)
        _same(tuple(cotangents[i] for i in indices), tuple(partials), rel, f"cotangents of arguments {indices}")
    _attempt(f"sd.vjp(f, *args)[1](1.0) of {where}", vjp)

    def jvp():
        rng = np.random.default_rng(zlib.crc32(f.__name__.encode()))
        tangents = list(_zero_tangents(args))
        for i in indices:
            tangents[i] = rng.standard_normal(np.shape(args[i])) if np.ndim(args[i]) else float(rng.standard_normal())
        value, derivative = sd.jvp(f, args, tuple(tangents), jit=False)
        _same_value(value, f, args)
        terms = np.concatenate([np.ravel(np.asarray(g, dtype=float) * tangents[i]) for g, i in zip(partials, indices)])
        want = math.fsum(terms)
        if not (abs(float(derivative) - want) <= rel * math.fsum(np.abs(terms)) + 1e-300 or derivative == want
                or math.isnan(derivative) and math.isnan(want)):
            raise EntryPointMismatch(f"along {tuple(tangents)}: {derivative!r}, <tested gradient, direction> {want!r}")
    _attempt(f"sd.jvp of {where}", jvp)


def _zero_tangents(args):
    return tuple(0 if _is_int(a) else np.zeros(np.shape(a)) if np.ndim(a) else 0.0 for a in args)


def _unit(shape, element):
    if not shape:
        return 1.0
    e = np.zeros(shape)
    e[element] = 1.0
    return e


def _jacobian_entry_points(f, wrt, args, got, rel, where):
    indices, many = _indices(f, wrt)
    columns = _parts(got) if many else (got,)
    for mode in MODES:
        _attempt(f"sd.jacobian(wrt={wrt!r}, mode={mode!r}) of {where}",
                 lambda: _same(_plain("jacobian", f, wrt, mode)(*args), got, rel, "jacobian"))
    value = f(*args)
    outputs = _flat(value).size
    blocks = {i: np.reshape(jac, (outputs,) + np.shape(args[i])) for i, jac in zip(indices, columns)}

    def jvp_columns():
        for i, jac in blocks.items():
            for element in np.ndindex(np.shape(args[i])):
                tangents = list(_zero_tangents(args))
                tangents[i] = _unit(np.shape(args[i]), element)
                _, column = sd.jvp(f, args, tuple(tangents), jit=False)
                _same(_flat(column), jac[(...,) + element], rel, f"column of argument {i}, element {element}")
    _attempt(f"sd.jvp of {where}", jvp_columns)

    def vjp_rows():
        value, vjp_fn = sd.vjp(f, *args, jit=False)
        _same_value(value, f, args)
        for r in range(outputs):
            unit = np.eye(outputs)[r]
            cotangent = (tuple(map(float, unit)) if isinstance(value, tuple)
                         else unit.reshape(np.shape(value)) if np.ndim(value) else 1.0)
            row = vjp_fn(cotangent)
            for i, jac in blocks.items():
                _same(row[i], jac[r], rel, f"row {r}, argument {i}")
    _attempt(f"sd.vjp of {where}", vjp_rows)


def _second_order(f, wrt, args, gradient, where):
    """sd.hessian against sd.jacobian(sd.grad(f, i), j), sd.grad(sd.grad(f, i), j) and
    sd.derivative(f, order=2), each block (i, j) of the Hessian, to SECOND relative to the
    largest entry of the Hessian or of the gradient: a second derivative that is zero
    (x² / x) comes out as the rounding of terms of the gradient's size."""
    indices, many = _indices(f, wrt)
    hessian = []

    def build():
        hessian.append(_plain("hessian", f, wrt)(*args))
    _attempt(f"sd.hessian(wrt={wrt!r}) of {where}", build)
    if not hessian:
        return
    entries = np.abs(np.concatenate([_flat(hessian[0]), _flat(gradient)]))
    scale = float(np.max(entries[np.isfinite(entries)], initial=0.0))
    for a, i in enumerate(indices):
        for b, j in enumerate(indices):
            numbers = np.ndim(args[i]) == 0 and np.ndim(args[j]) == 0
            block = hessian[0][a][b] if many else hessian[0]
            others = {f"sd.jacobian(sd.grad(f, {i}), {j})":
                      lambda: _plain("jacobian", _plain("grad", f, i, "reverse"), j, "forward")}
            if numbers:
                others[f"sd.grad(sd.grad(f, {i}), {j})"] = \
                    lambda: _plain("grad", _plain("grad", f, i, "reverse"), j, "reverse")
            if numbers and i == j == 0:
                others["sd.derivative(f, order=2)"] = lambda: _plain("derivative", f, 2)
            for name, transform in others.items():
                def compare():
                    value = transform()(*args)
                    if np.all(np.isfinite(value)) and np.all(np.isfinite(block)):
                        _same(value, block, SECOND, "its value", f"sd.hessian(wrt={wrt!r})'s",
                              max(SECOND * scale, np.finfo(float).tiny))    # subnormals carry fewer digits
                _attempt(f"{name} of {where}", compare)
