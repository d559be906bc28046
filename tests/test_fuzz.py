"""Random programs (tests/fuzz_programs.py): forward mode == reverse mode == an mpmath oracle.

Each property draws a program and a point and checks s2sdiff's gradient, JVP, VJP or
Hessian against central differences of the program run in 40-digit mpmath. Programs
whose value is not finite, or whose float and mpmath runs take different branches, are
discarded; so are those s2sdiff refuses for one of the documented known gaps
(docs/errors.md) — any other refusal fails the test.

The seed is fixed (hypothesis's derandomize) so CI sees the same programs every run.
A longer campaign (programs per property without numba, and with it; any seed):
    S2SDIFF_FUZZ_EXAMPLES=5000 S2SDIFF_FUZZ_COMPILED=300 S2SDIFF_FUZZ_SEED=1 python -m pytest tests/test_fuzz.py
Every failure found becomes a plain test in tests/test_fuzz_regressions.py.
"""
import math
import os

import mpmath
import numpy as np
from hypothesis import HealthCheck, Phase, event, given, reject, seed, settings
from hypothesis import strategies as st

import s2sdiff as sd
from fuzz_programs import load, oracle_function, points, programs

EXAMPLES = int(os.environ.get("S2SDIFF_FUZZ_EXAMPLES", "0"))
COMPILED = int(os.environ.get("S2SDIFF_FUZZ_COMPILED", "0"))
SEED = os.environ.get("S2SDIFF_FUZZ_SEED")

# the refusals docs/errors.md lists under Known gaps: constructs forward mode takes and reverse mode does not (yet)
KNOWN_GAPS = (
    "is assigned in a loop on some paths only",
    "is read in this loop before it is assigned in the same iteration",
    "s2sdiff saves overwritten elements only for reads in a loop directly inside the array's own region",
)
RTOL = 1e-7     # against the oracle: float64 rounding through a few dozen operations, with cancellation
AGREE = 1e-10   # forward against reverse mode: the same arithmetic in another order


def fuzz(examples, compiled=False):
    """Hypothesis settings: `examples` programs (S2SDIFF_FUZZ_EXAMPLES or, `compiled`, S2SDIFF_FUZZ_COMPILED
    overrides), a fixed seed unless S2SDIFF_FUZZ_SEED is set, no deadline (a first call compiles).
    A failing compiled program is reported as drawn: shrinking one takes many minutes of compiling."""
    phases = [p for p in Phase if not (compiled and p is Phase.shrink)]
    chosen = settings(max_examples=(COMPILED if compiled else EXAMPLES) or examples, derandomize=SEED is None, deadline=None, database=None,
                      phases=phases,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                             HealthCheck.data_too_large])

    def decorate(test):
        test = chosen(test)
        return seed(int(SEED))(test) if SEED is not None else test
    return decorate


def transform(make, *args, **options):
    """make(*args, **options), discarding the program if it is a documented known gap."""
    try:
        return make(*args, **options)
    except sd.UnsupportedError as exc:
        gap = next((g for g in KNOWN_GAPS if g in str(exc)), None)
        if gap is None:
            raise
        event(f"known gap: {gap}")
        reject()


def program_and_point(source, point):
    """(f, oracle, value) for a program worth checking at `point`, else the example is discarded."""
    f = load(source)
    x, a, k = point
    try:
        with np.errstate(all="ignore"):
            value = f(x.copy(), a, k)
    except OverflowError:
        reject()
    if not math.isfinite(value):
        reject()
    oracle = oracle_function(source)
    with mpmath.workdps(40):
        exact = float(oracle(x, a, k))
    if not math.isclose(value, exact, rel_tol=1e-9, abs_tol=1e-12):
        event("float and mpmath take different branches")
        reject()
    return f, oracle


def _partials(fn, coords, h):
    """Central differences of fn (a list of mpf from a list of mpf) in each coordinate, as
    columns; the example is discarded at a kink, where the one-sided differences disagree
    (s2sdiff then follows a documented convention, not the symmetric difference)."""
    base = fn(coords)
    columns = []
    for i in range(len(coords)):
        up = fn(coords[:i] + [coords[i] + h] + coords[i + 1:])
        down = fn(coords[:i] + [coords[i] - h] + coords[i + 1:])
        for u, b, d in zip(up, base, down):
            forward, backward = (u - b) / h, (b - d) / h
            if abs(forward - backward) > 1e-8 * (1 + abs(forward) + abs(backward)):
                event("the point is a kink")
                reject()
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


def assert_matches(got, want, rtol, what, source):
    """got ≈ want component-wise, relative to the largest component (cancellation makes small ones noisy)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = 1.0 + np.max(np.abs(want))
    error = np.max(np.abs(got - want)) / scale
    assert error <= rtol, f"{what}: got {got}, want {want} (error {error:.3g} of the scale {scale:.3g})\n{source}"


def flat_gradient(result):
    gx, ga = result
    return np.concatenate([np.ravel(gx), [ga]])


@fuzz(examples=400)
@given(source=programs(), point=points())
def test_gradients_forward_reverse_oracle(source, point):
    f, oracle = program_and_point(source, point)
    x, a, k = point
    value, reverse = transform(sd.value_and_grad, f, wrt=(0, 1), jit=False)(x, a, k)
    forward = transform(sd.grad, f, wrt=(0, 1), mode="forward", jit=False)(x, a, k)
    assert math.isclose(value, f(x.copy(), a, k), rel_tol=1e-12, abs_tol=1e-14), source
    want = oracle_gradient(oracle, x, a, k)
    assert_matches(flat_gradient(reverse), want, RTOL, "reverse-mode gradient", source)
    assert_matches(flat_gradient(forward), flat_gradient(reverse), AGREE, "forward against reverse mode", source)


@fuzz(examples=200)
@given(source=programs(), point=points(), direction=st.lists(st.floats(-1.0, 1.0), min_size=5, max_size=5),
       cotangent=st.floats(-2.0, 2.0))
def test_jvp_and_vjp(source, point, direction, cotangent):
    f, oracle = program_and_point(source, point)
    x, a, k = point
    tx, ta = np.array(direction[:len(x)]), direction[-1]
    gradient = oracle_gradient(oracle, x, a, k)
    value, tangent = transform(sd.jvp, f, (x, a, k), (tx, ta, 0), jit=False)
    assert_matches(tangent, gradient @ np.append(tx, ta), RTOL, "jvp", source)
    value_v, vjp_fn = transform(sd.vjp, f, x, a, k, jit=False)
    bx, ba, _ = vjp_fn(cotangent)
    assert math.isclose(value, value_v, rel_tol=1e-13, abs_tol=1e-15), source
    assert_matches(np.append(bx, ba), cotangent * gradient, RTOL, "vjp", source)


@fuzz(examples=120)
@given(source=programs(), point=points())
def test_hessians(source, point):
    f, oracle = program_and_point(source, point)
    x, a, k = point
    (hxx, hxa), (hax, haa) = transform(sd.hessian, f, wrt=(0, 1), jit=False)(x, a, k)
    got = np.block([[hxx, np.reshape(hxa, (-1, 1))], [np.reshape(hax, (1, -1)), np.reshape(haa, (1, 1))]])
    assert_matches(got, oracle_hessian(oracle, x, a, k), 1e-6, "hessian", source)


@fuzz(examples=12, compiled=True)
@given(source=programs(), point=points())
def test_compiled_gradients(source, point):
    """The generated code numba compiles gives the numbers the Python run gives (the
    gradients against the oracle, the Hessians against the Python run's)."""
    f, oracle = program_and_point(source, point)
    x, a, k = point
    value, reverse = transform(sd.value_and_grad, f, wrt=(0, 1))(x, a, k)
    forward = transform(sd.grad, f, wrt=(0, 1), mode="forward")(x, a, k)
    assert math.isclose(value, f(x.copy(), a, k), rel_tol=1e-12, abs_tol=1e-14), source
    assert_matches(flat_gradient(reverse), oracle_gradient(oracle, x, a, k), RTOL, "compiled reverse mode", source)
    assert_matches(flat_gradient(forward), flat_gradient(reverse), AGREE, "compiled forward mode", source)
    compiled_hessian = transform(sd.hessian, f, wrt=(0, 1))(x, a, k)          # batched tangents, compiled
    python_hessian = transform(sd.hessian, f, wrt=(0, 1), jit=False)(x, a, k)
    for got, want in zip(compiled_hessian, python_hessian):
        assert_matches(np.block([np.ravel(g) for g in got]), np.block([np.ravel(w) for w in want]), AGREE,
                       "compiled hessian", source)
