"""The differential corpus (tests/corpus): every case on every entry point that applies.

Each (case, entry point) runs with jit=False; a fixed sample also runs compiled. An outcome
must be what the case declares — "right", or a clear refusal where s2sdiff does not
support a construct yet — so a fix that turns a refusal into a derivative fails here until
the declaration is updated. `wrong` and `crash` never pass; the ones known today are
xfail(strict=True) with the bug named, and flip when s2sdiff is fixed.
`python tests/corpus/report.py` prints the table.
"""
import pytest

from corpus import all_cases, harness

CASES = all_cases()
# Compiled runs are slow to build (numba): every COMPILED_EVERY-th case's reverse gradient
# (or reverse Jacobian, or VJP), and every HESSIAN_EVERY-th case's Hessian.
COMPILED_EVERY, HESSIAN_EVERY = 32, 96


def compiled_sample(cases):
    """[(case, entry point)] run compiled in CI; report.py --compiled sample uses it too."""
    sample = []
    for k, case in enumerate(cases):
        points = harness.applicable(case)
        if k % COMPILED_EVERY == 0:
            sample.append((case, next(p for p in ("grad.rev", "jac.rev", "vjp") if p in points)))
        if k % HESSIAN_EVERY == 0 and "hessian" in points:
            sample.append((case, "hessian"))
    return sample


def _params(pairs, jit):
    params = []
    for case, point in pairs:
        _, reason = harness.expectation(case, point, jit)
        marks = [pytest.mark.xfail(strict=True, reason=f"s2sdiff bug: {reason}")] if reason else []
        params.append(pytest.param(case, point, id=f"{case.name}-{point}", marks=marks))
    return params


def check(case, point, jit):
    outcome = harness.run(case, point, jit)
    expected, bug = harness.expectation(case, point, jit)
    assert outcome.status not in ("wrong", "crash"), f"{case.name} {point} jit={jit}: {outcome}"
    # a declared bug that now gives a number or a clear refusal passes (XPASS, strict): update the case
    assert bug or outcome.label == expected, \
        f"{case.name} {point} jit={jit}: declared {expected}, got {outcome} — update the declaration"


@pytest.mark.parametrize("case, point", _params([(c, p) for c in CASES for p in harness.applicable(c)], False))
def test_python(case, point):
    check(case, point, jit=False)


@pytest.mark.parametrize("case, point", _params(compiled_sample(CASES), True))
def test_compiled(case, point):
    check(case, point, jit=True)


def test_corpus_size():
    assert len(CASES) >= 800
    assert len({case.name for case in CASES}) == len(CASES)
