"""Stage 6 — compile: generated source becomes a function, then a numba.njit dispatcher.

The source is registered with `linecache` under a `<s2sdiff:…>` file name, so tracebacks
show it and s2sdiff can read its own output back (that is how transforms compose).
"""
from __future__ import annotations

import itertools
import linecache
import types

import numba

# error_model="numpy": division by zero gives inf/nan like NumPy instead of raising, so
# the derivative code has no hidden exception branches and non-finite values propagate.
NJIT_OPTIONS = {"error_model": "numpy"}

_counter = itertools.count(1)


def load(source: str, namespace: dict, name: str) -> types.FunctionType:
    """Execute `source` in `namespace` and return the function `name` it defines."""
    filename = f"<s2sdiff:{name}:{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def jit(func: types.FunctionType):
    return numba.njit(**NJIT_OPTIONS)(func)


_primals: dict = {}


def primal(obj, enabled: bool = True):
    """What generated code calls to run a user function's primal: its njit dispatcher."""
    if not enabled:
        return getattr(obj, "py_func", obj)
    if isinstance(obj, numba.core.registry.CPUDispatcher):
        return obj
    inner = getattr(obj, "primal", None)            # sd.differentiable objects
    if inner is not None:
        return inner
    if obj not in _primals:
        _primals[obj] = numba.njit(obj)
    return _primals[obj]
