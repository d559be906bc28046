"""What the fuzz properties check on one random program (tests/fuzz_programs.py) and point:
every entry point of s2sdiff against the mpmath oracle and against each other.

Shared by tests/test_fuzz.py (hypothesis properties) and tests/fuzz_campaign.py (long runs).
A program or point not worth checking raises `Discard(reason)`; a refusal that is in
ACCEPTED_REFUSALS, names the program's file and line and quotes only the program's names is
reported through `note` and the entry point skipped; so is a problem that is one of the
KNOWN_BUGS (each a strict expected failure in tests/test_fuzz_regressions.py). Anything
else — another refusal, any other exception, a wrong number or shape — fails.
"""
import math
import re
from dataclasses import dataclass
from pathlib import Path

import mpmath
import numpy as np

import s2sdiff as sd
from fuzz_programs import load, oracle_function

# refusals s2sdiff may give for the programs the grammar writes, each a fragment of its message:
# docs/errors.md's reverse-mode limits, and constructs of the grammar s2sdiff does not take (yet)
ACCEPTED_REFUSALS = (
    "is assigned in a loop on some paths only",
    "is read in this loop before it is assigned in the same iteration",
    "s2sdiff records overwritten values only where they are computed in a loop",
    "s2sdiff records values assigned in a loop, not a loop's test",
    "computed from an array that a later line overwrites, and s2sdiff cannot record it",
    "s2sdiff follows that only in a call on a line of its own",
    "in place: pass it an array of this function by name",
    "in place and returns a value; s2sdiff follows a call that changes its arguments only where",
    "and gets it (or a view of it) twice",
    "cannot differentiate through np.concatenate()",
    "cannot differentiate through np.hstack()",
    "cannot differentiate through np.vstack()",
    "cannot differentiate through np.stack()",
    "cannot differentiate through np.column_stack()",
    "a list is not supported here",
    "so each assignment of it must create a new array",
    "and a view of it, read afterwards, shares it",
    "as the code does not show its number of dimensions, but it has another",
)
RTOL = 1e-7     # against the oracle: float64 rounding through a few dozen operations, with cancellation
AGREE = 1e-10   # entry points against each other: the same arithmetic in another order
HESSIAN_RTOL = 1e-6


class Discard(Exception):
    """The example is not worth checking: `reason` says why."""

    @property
    def reason(self):
        return self.args[0]


def _refusal(exc, module):
    """The accepted refusal `exc` is, or None: its message must name the program's file and a
    line, and every name it quotes must be one the program uses (not one s2sdiff made up)."""
    message = str(exc)
    reason = next((r for r in ACCEPTED_REFUSALS if r in message), None)
    if reason is None or f'File "{module.__file__}", line ' not in message:
        return None
    words = set(re.findall(r"\w+", Path(module.__file__).read_text()))
    return reason if set(re.findall(r"'([A-Za-z_]\w*)'", message)) <= words else None


def program_and_point(source, point):
    """(module, oracle) for a program worth checking at `point`, else Discard."""
    module = load(source)
    x, a, k = point
    try:
        with np.errstate(all="ignore"):
            value = module.f(x.copy(), a, k)
    except OverflowError:
        raise Discard("overflow") from None
    except ValueError as exc:       # math.sin(inf): the point is outside the program's domain
        if "math domain error" not in str(exc):
            raise
        raise Discard("outside the domain") from None
    if not math.isfinite(value):
        raise Discard("not finite")
    oracle = oracle_function(source)
    with mpmath.workdps(40):
        exact = float(oracle(x, a, k))
    if not math.isclose(value, exact, rel_tol=1e-9, abs_tol=1e-12):
        raise Discard("float and mpmath take different branches")
    return module, oracle


# ---- the oracle's derivatives ------------------------------------------------------

def _partials(fn, coords, h):
    """Central differences of fn (a list of mpf from a list of mpf) in each coordinate, as
    columns; Discard at a kink, where the one-sided differences disagree (s2sdiff then
    follows a documented convention, not the symmetric difference)."""
    base = fn(coords)
    columns = []
    for i in range(len(coords)):
        up = fn(coords[:i] + [coords[i] + h] + coords[i + 1:])
        down = fn(coords[:i] + [coords[i] - h] + coords[i + 1:])
        for u, b, d in zip(up, base, down):
            forward, backward = (u - b) / h, (b - d) / h
            if abs(forward - backward) > 1e-8 * (1 + abs(forward) + abs(backward)):
                raise Discard("the point is a kink")
        columns.append([(u - d) / (2 * h) for u, d in zip(up, down)])
    return columns


def _coordinates(x, a):
    return [mpmath.mpf(t) for t in x] + [mpmath.mpf(a)]


def oracle_gradient(oracle, x, a, k):
    """∂f/∂(x, a) by central differences at 40 digits (step 1e-12: truncation ~1e-24)."""
    with mpmath.workdps(40):
        columns = _partials(lambda c: [oracle(c[:-1], c[-1], k)], _coordinates(x, a), mpmath.mpf("1e-12"))
        return np.array([float(column[0]) for column in columns])


def oracle_hessian(oracle, x, a, k):
    """∂²f/∂(x, a)²: central differences (step 1e-12) of central differences (step 1e-25) at 70 digits."""
    with mpmath.workdps(70):
        def gradient(c):
            return [column[0] for column in _partials(lambda d: [oracle(d[:-1], d[-1], k)], c, mpmath.mpf("1e-25"))]
        columns = _partials(gradient, _coordinates(x, a), mpmath.mpf("1e-12"))
        return np.array([[float(v) for v in column] for column in columns])


def assert_matches(got, want, rtol, what):
    """got ≈ want component-wise, relative to the largest component (cancellation makes small ones noisy)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    scale = 1.0 + np.max(np.abs(want))
    error = np.max(np.abs(got - want)) / scale
    assert error <= rtol, f"{what}: got {got}, want {want} (error {error:.3g} of the scale {scale:.3g})"


# ---- results as the contract shapes them ---------------------------------------------

def _number(value, what, zero_d=False):
    """A float (or, `zero_d`, a 0-d float array: a Jacobian's block of shape () + ())."""
    assert np.ndim(value) == 0 and (isinstance(value, (float, np.floating)) or zero_d and isinstance(value, np.ndarray)
                                    and value.dtype == np.float64), \
        f"{what}: expected a float, got {value!r} ({type(value).__name__})"
    return float(value)


def _array(value, shape, what):
    assert isinstance(value, np.ndarray) and value.shape == shape and value.dtype == np.float64, \
        f"{what}: expected a float64 array of shape {shape}, got {value!r}"
    return value


def _same(g):
    return np.ravel(g)


def _gradient(result, n, what, zero_d=False):
    """A (∂x, ∂a) pair as one flat vector, after checking its structure."""
    assert isinstance(result, tuple) and len(result) == 2, f"{what}: expected (∂x, ∂a), got {result!r}"
    gx, ga = result
    return np.append(_array(gx, (n,), f"{what} ∂x"), _number(ga, f"{what} ∂a", zero_d))


def _value(value, want, what):
    assert np.ndim(value) == 0 and math.isclose(float(value), want, rel_tol=1e-12, abs_tol=1e-14), \
        f"{what}: value {value!r}, f gives {want!r}"


# ---- every entry point ---------------------------------------------------------------

def first_order(module, point, direction, cotangent, jit):
    """{entry point: (make, what the oracle's gradient g maps to, whether that is g itself)} for
    grad, value_and_grad, jacobian (both modes), vjp and jvp; `make()` gives a flat vector."""
    f = module.f
    x, a, k = point
    n = len(x)
    tx, ta = direction
    value = float(f(x.copy(), a, k))
    out = {}

    def grad(mode):
        return _gradient(sd.grad(f, wrt=(0, 1), mode=mode, jit=jit)(x, a, k), n, f"grad {mode}")

    def value_and_grad(mode):
        v, g = sd.value_and_grad(f, wrt=(0, 1), mode=mode, jit=jit)(x, a, k)
        _value(v, value, f"value_and_grad {mode}")
        return _gradient(g, n, f"value_and_grad {mode}")

    def jacobian(mode):
        return _gradient(sd.jacobian(f, wrt=(0, 1), mode=mode, jit=jit)(x, a, k), n, f"jacobian {mode}", zero_d=True)

    def vjp():
        v, vjp_fn = sd.vjp(f, x, a, k, jit=jit)
        _value(v, value, "vjp")
        cotangents = vjp_fn(cotangent)
        assert isinstance(cotangents, tuple) and len(cotangents) == 3, f"vjp_fn: {cotangents!r}"
        return _gradient(cotangents[:2], n, "vjp")

    def jvp():
        v, tangent = sd.jvp(f, (x, a, k), (tx, ta, 0), jit=jit)
        _value(v, value, "jvp")
        return np.array([_number(tangent, "jvp")])

    def along(g):
        return np.array([g @ np.append(tx, ta)])

    for mode in ("reverse", "forward"):
        out[f"grad {mode}"] = (lambda m=mode: grad(m), _same, True)
        out[f"value_and_grad {mode}"] = (lambda m=mode: value_and_grad(m), _same, True)
        out[f"jacobian {mode}"] = (lambda m=mode: jacobian(m), _same, True)
    out["vjp"] = (vjp, lambda g: cotangent * g, False)
    out["jvp"] = (jvp, along, False)
    return out


def second_order(module, point, jit):
    """{entry point: (make, what the oracle's Hessian H maps to, whether that is all of H)} for
    hessian, jacobian of grad (mode forward and mode reverse), grad of grad and
    derivative(order=2) of the slice a → f(x, a, k)."""
    f, f_of_a = module.f, module.f_of_a
    x, a, k = point
    n = len(x)

    def hessian():
        result = sd.hessian(f, wrt=(0, 1), jit=jit)(x, a, k)
        assert isinstance(result, tuple) and len(result) == 2, f"hessian: {result!r}"
        (hxx, hxa), (hax, haa) = result
        _array(hxx, (n, n), "hessian ∂x∂x")
        _array(hxa, (n,), "hessian ∂x∂a")
        _array(hax, (n,), "hessian ∂a∂x")
        _number(haa, "hessian ∂a∂a")
        return np.block([[hxx, np.reshape(hxa, (-1, 1))], [np.reshape(hax, (1, -1)), np.reshape(haa, (1, 1))]]).ravel()

    def jacobian_of_grad(mode):
        result = sd.jacobian(sd.grad(f, wrt=0, jit=jit), wrt=(0, 1), mode=mode, jit=jit)(x, a, k)
        assert isinstance(result, tuple) and len(result) == 2, f"jacobian of grad: {result!r}"
        jxx, jxa = result
        _array(jxx, (n, n), f"jacobian {mode} of grad ∂x")
        _array(jxa, (n,), f"jacobian {mode} of grad ∂a")
        return np.concatenate([jxx.ravel(), jxa])

    def grad_of_grad():
        return np.array([_number(sd.grad(sd.grad(f_of_a, jit=jit), jit=jit)(a, x, k), "grad(grad)")])

    def second_derivative():
        return np.array([_number(sd.derivative(f_of_a, order=2, jit=jit)(a, x, k), "derivative(order=2)")])

    def x_block(h):
        return np.concatenate([h[:n, :n].ravel(), h[:n, n]])

    return {
        "hessian": (hessian, np.ravel, True),
        "jacobian forward of grad": (lambda: jacobian_of_grad("forward"), x_block, False),
        "jacobian reverse of grad": (lambda: jacobian_of_grad("reverse"), x_block, False),
        "grad of grad": (grad_of_grad, lambda h: h[n, n:], False),
        "derivative order 2": (second_derivative, lambda h: h[n, n:], False),
    }


class ProgramFailed(AssertionError):
    """Entry points that failed on one program: [(entry point, what went wrong)]."""

    def __init__(self, problems, source, point):
        self.problems = problems
        lines = [f"{name}: {problem}" for name, problem in problems]
        x, a, k = point
        super().__init__("\n".join(lines) + f"\nat x = {x.tolist()!r}, a = {a!r}, k = {k!r} in\n{source}")


def run_entry_points(entries, module, note, problems):
    """{name: result} of the entry points that neither refuse nor fail. An accepted refusal is
    noted and its entry point left out; any other exception is a problem of that entry point."""
    results = {}
    for name, (make, _, _) in entries.items():
        try:
            results[name] = make()
        except Exception as exc:
            reason = _refusal(exc, module) if isinstance(exc, sd.UnsupportedError) else None
            if reason is None:
                problems.append((name, f"{type(exc).__name__}: {exc}"))
            else:
                note(f"{name} refused: {reason}")
    return results


def compare(entries, results, want, rtol, problems):
    """Each result against the oracle; those right against the first right whole result (the
    gradient or Hessian itself, not a product with it): all entry points agree to AGREE."""
    right = {}
    for name, got in results.items():
        try:
            assert_matches(got, entries[name][1](want), rtol, "against the oracle")
            right[name] = got
        except AssertionError as exc:
            problems.append((name, str(exc)))
    reference = next((name for name in right if entries[name][2]), None)
    for name, got in right.items():
        if reference is not None and name != reference:
            try:
                assert_matches(got, entries[name][1](np.reshape(right[reference], np.shape(want))), AGREE,
                               f"against {reference}")
            except AssertionError as exc:
                problems.append((name, str(exc)))


def _problems(source, point, direction, cotangent, note, jit):
    """(problems, entry points checked) of one program at one point."""
    module, oracle = program_and_point(source, point)
    x, a, k = point
    problems = []
    first = first_order(module, point, direction, cotangent, jit)
    first_results = run_entry_points(first, module, note, problems)
    compare(first, first_results, oracle_gradient(oracle, x, a, k), RTOL, problems)
    second = second_order(module, point, jit)
    second_results = run_entry_points(second, module, note, problems)
    if second_results:
        try:
            compare(second, second_results, oracle_hessian(oracle, x, a, k), HESSIAN_RTOL, problems)
        except Discard as discard:      # a kink of the gradient: the first-order checks stand
            note(f"second order not checked: {discard.reason}")
            second_results = {}
    if jit:
        def ignore(reason):
            pass
        python = {**run_entry_points(first_order(module, point, direction, cotangent, False), module, ignore, []),
                  **run_entry_points(second_order(module, point, False), module, ignore, [])}
        for name, got in {**first_results, **second_results}.items():
            try:
                assert name in python, "compiled, but the generated Python refused or failed"
                assert_matches(got, python[name], AGREE, "compiled, against the generated Python")
            except AssertionError as exc:
                problems.append((name, str(exc)))
    return problems, [*first_results, *second_results]


def check_program(source, point, direction, cotangent, note, jit=False):
    """Every entry point on one program and point, against the oracle and each other; with
    `jit`, also the compiled results against the generated Python's. Returns the entry points
    checked. Problems that are known bugs (KNOWN_BUGS) are noted; any other raises ProgramFailed."""
    problems, checked = _problems(source, point, direction, cotangent, note, jit)
    unknown = []
    for name, problem in problems:
        bug = next((bug for bug in KNOWN_BUGS if bug.shows_in(name, problem, source)), None)
        if bug is None:
            unknown.append((name, problem))
        else:
            note(f"known bug: {bug.test}")
    if unknown:
        raise ProgramFailed(unknown, source, point)
    if not checked:
        raise Discard("every entry point refused")
    return checked


# ---- known bugs ------------------------------------------------------------------------
# Each is a strict expected failure in tests/test_fuzz_regressions.py (named here): when the
# lead fixes one, its test turns red, and the entry here goes with the mark.

@dataclass(frozen=True)
class KnownBug:
    test: str               # the regression test holding its smallest program
    entries: tuple          # the entry points it shows in
    problem: str            # a regular expression the problem's text matches
    program: str = ""       # one the program's source matches

    def shows_in(self, name, problem, source):
        return name in self.entries and re.search(self.problem, problem, re.S) is not None \
            and re.search(self.program, source, re.M) is not None


KNOWN_BUGS = (
    KnownBug("test_hessian_past_an_array_rebuilt_and_written_in_branches",
             ("hessian", "jacobian forward of grad", "jacobian reverse of grad", "grad of grad", "derivative order 2"),
             r"a second derivative through this line is not supported yet: the first derivative's code gives an "
             r"array it writes element by element another name"),
    KnownBug("test_hessian_past_a_helper_returning_a_floor",
             ("hessian", "jacobian forward of grad", "jacobian reverse of grad", "grad of grad", "derivative order 2"),
             r"an array of integers \(or booleans\) is assigned differentiated values", r"math\.floor\(p1\)\)$"),
)
