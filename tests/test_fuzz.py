"""Random programs (tests/fuzz_programs.py), every entry point against an mpmath oracle.

Each example draws a program written the way users write Python and NumPy, and a point,
and checks grad and value_and_grad (both modes), jacobian (both modes), vjp, jvp, hessian,
jacobian of grad (mode forward and mode reverse), grad of grad and derivative(order=2)
of the slice a → f(x, a, k): against central differences of the program run in 40-digit
mpmath, and against each other (tests/fuzz_checks.py). Programs whose value is not
finite, or whose float and mpmath runs take different branches, are discarded; an entry
point that refuses with one of the accepted refusals (fuzz_checks.ACCEPTED_REFUSALS,
naming the program's file and line) is left out and counted as an event, and so is a
problem that is one of fuzz_checks.KNOWN_BUGS (each a strict expected failure in
tests/test_fuzz_regressions.py); any other exception or number fails the test.

The seed is fixed (hypothesis's derandomize) so CI sees the same programs every run.
A longer campaign (programs per property without numba, and with it; any seed):
    S2SDIFF_FUZZ_EXAMPLES=5000 S2SDIFF_FUZZ_COMPILED=300 S2SDIFF_FUZZ_SEED=1 python -m pytest tests/test_fuzz.py
or, with counts per outcome and parallel processes, tests/fuzz_campaign.py.
Every bug found becomes a test in tests/test_fuzz_regressions.py (a strict expected failure until fixed).
"""
import os

import numpy as np
from hypothesis import HealthCheck, Phase, event, given, reject, seed, settings
from hypothesis import strategies as st

from fuzz_checks import Discard, check_program
from fuzz_programs import points, programs

EXAMPLES = int(os.environ.get("S2SDIFF_FUZZ_EXAMPLES", "0"))
COMPILED = int(os.environ.get("S2SDIFF_FUZZ_COMPILED", "0"))
SEED = os.environ.get("S2SDIFF_FUZZ_SEED")


def fuzz(examples, compiled=False):
    """Hypothesis settings: `examples` programs (S2SDIFF_FUZZ_EXAMPLES or, `compiled`, S2SDIFF_FUZZ_COMPILED
    overrides), a fixed seed unless S2SDIFF_FUZZ_SEED is set, no deadline (a first call compiles).
    A failing program is reported as drawn: shrinking one through every entry point takes many
    minutes (minutes more of compiling, compiled); the failure lists each entry point's problem."""
    phases = [p for p in Phase if p is not Phase.shrink]
    chosen = settings(max_examples=(COMPILED if compiled else EXAMPLES) or examples, derandomize=SEED is None,
                      deadline=None, database=None, phases=phases,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                             HealthCheck.data_too_large])

    def decorate(test):
        test = chosen(test)
        return seed(int(SEED))(test) if SEED is not None else test
    return decorate


def checked(source, point, direction, cotangent, jit):
    """check_program under hypothesis: discards are rejected examples, refusals events."""
    try:
        check_program(source, point, (np.array(direction[:-1]), direction[-1]), cotangent, event, jit=jit)
    except Discard as discard:
        event(discard.reason)
        reject()


def directions():
    """A tangent for (x, a): x's part cut to its length by the test."""
    return st.lists(st.floats(-1.0, 1.0), min_size=5, max_size=5)


@fuzz(examples=60)
@given(source=programs(), point=points(), direction=directions(), cotangent=st.floats(-2.0, 2.0))
def test_entry_points(source, point, direction, cotangent):
    n = len(point[0])
    checked(source, point, [*direction[:n], direction[-1]], cotangent, jit=False)


@fuzz(examples=3, compiled=True)
@given(source=programs(), point=points(), direction=directions(), cotangent=st.floats(-2.0, 2.0))
def test_compiled_entry_points(source, point, direction, cotangent):
    """The generated code numba compiles gives the numbers the Python run gives, and the oracle's."""
    n = len(point[0])
    checked(source, point, [*direction[:n], direction[-1]], cotangent, jit=True)
