"""Helpers generated reverse-mode code calls: tape arrays and adjoint initialisation.

Each is a plain Python function (so `jit=False` code runs) with a numba overload (so
compiled code inlines it)."""
from __future__ import annotations

import numpy as np
from numba.core import types
from numba.extending import overload


def new_tape(n, value):
    """An array for `n` recorded values of `value`'s type (at least one slot)."""
    return np.full(max(n, 1), value)


def grown(tape):
    """The tape with twice the room: a while loop's tape grows as it runs."""
    return np.concatenate((tape, tape))


def zero_adjoint(x):
    """The zero adjoint of a parameter: 0.0 for a number, float zeros for an array."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape)
    return 0.0


def empty_adjoint(x):
    """Room for an array's adjoint whose every element a loop will write."""
    return np.empty(x.shape)


def zero_outside(a, low, high):
    """Zero a[:low] and a[high + 1:], or all of `a` if high <= low (the loop ran no
    iteration); returns nothing useful."""
    if high <= low:
        a[:] = 0.0
    else:
        a[:max(low, 0)] = 0.0
        a[high + 1:] = 0.0
    return 0


@overload(new_tape)
def _new_tape(n, value):
    return lambda n, value: np.full(max(n, 1), value)


@overload(grown)
def _grown(tape):
    return lambda tape: np.concatenate((tape, tape))


@overload(zero_adjoint)
def _zero_adjoint(x):
    if isinstance(x, types.Array):
        return lambda x: np.zeros(x.shape)
    return lambda x: 0.0


@overload(empty_adjoint)
def _empty_adjoint(x):
    return lambda x: np.empty(x.shape)


@overload(zero_outside)
def _zero_outside(a, low, high):
    def impl(a, low, high):
        if high <= low:
            a[:] = 0.0
        else:
            a[:max(low, 0)] = 0.0
            a[high + 1:] = 0.0
        return 0
    return impl


HELPERS = {f.__name__: f for f in (new_tape, grown, zero_adjoint, empty_adjoint, zero_outside)}
