"""Forward and reverse mode side by side, for the foundation tests.

Every derivative check of test_elementary, test_control_flow and test_seeds runs in both
modes against the same independent oracle; in reverse mode each result is also compared
with forward mode's (`assert_modes_agree`, 1e-13 relative).  The reverse-mode counterpart
of `sd.derivative(f)` (the derivative in the first argument) is `sd.grad(f, wrt=0)` for a
scalar-valued f and `sd.jacobian(f, wrt=0)` for a tuple-valued one (an array of shape (m,)).

Every transform is built (and numba-compiled) once per (function, options, mode).
"""
import functools
import math

import numpy as np

import s2sdiff as sd

MODES = ("forward", "reverse")
AGREE = 1e-13


def assert_modes_agree(reverse, forward, rel=AGREE, what=""):
    """Reverse- and forward-mode results agree element-wise to `rel` (inf and inf agree).

    A tuple from forward mode and an array from reverse mode (a jacobian column) compare
    as sequences of the same length."""
    r, f = _flat(reverse), _flat(forward)
    assert r.shape == f.shape, f"{what}: reverse {reverse!r} and forward {forward!r} differ in shape"
    for k, (a, b) in enumerate(zip(r, f)):
        a, b = float(a), float(b)
        same = a == b or math.isclose(a, b, rel_tol=rel, abs_tol=1e-300) or (math.isnan(a) and math.isnan(b))
        assert same, (f"{what}: reverse and forward modes disagree in component {k}: reverse {a!r}, "
                      f"forward {b!r} (relative difference {abs(a - b) / max(abs(a), abs(b)):.3g} > {rel:g})")


def _flat(result):
    """A number, tuple of numbers, array or tuple of arrays as one flat float array."""
    parts = result if isinstance(result, tuple) else (result,)
    return np.concatenate([np.ravel(np.asarray(p, dtype=np.float64)) for p in parts])


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
    arguments and asserts that the two agree (`agree`: the relative tolerance)."""

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

        def both(*args, **kwargs):
            got = transform(*args, **kwargs)
            assert_modes_agree(got, forward(*args, **kwargs), self.agree, what=f"{name} at {args}")
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
