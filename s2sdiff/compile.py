"""Stage 6 — compile: generated source becomes a function, then a numba.njit dispatcher.

The source is registered with `linecache` under a `<s2sdiff:…>` file name, so tracebacks
show it and s2sdiff can read its own output back (that is how transforms compose).
"""
from __future__ import annotations

import itertools
import linecache
import math
import types

import numba
import numpy as np

# error_model="numpy": division by zero gives inf/nan like NumPy instead of raising, so
# the derivative code has no hidden exception branches and non-finite values propagate.
NJIT_OPTIONS = {"error_model": "numpy"}

_counter = itertools.count(1)


def _python_math():
    shim = types.SimpleNamespace(**{k: getattr(math, k) for k in dir(math) if not k.startswith("_")})
    from .rules import RULES
    for rule in RULES.values():
        name = rule.spellings.get("math")
        if name and "np" in rule.spellings and rule.op not in ("floor", "ceil", "trunc"):
            setattr(shim, name.split(".")[1], getattr(np, rule.spellings["np"].split(".")[1]))
    return shim


PYTHON_MATH = _python_math()


def load(source: str, namespace: dict, name: str, jit: bool = True) -> types.FunctionType:
    """Execute `source` in `namespace` and return the function `name` it defines.

    Without numba, `math` is replaced by NumPy's versions of its functions, so the Python
    run returns inf and nan where compiled code does instead of raising."""
    if not jit and namespace.get("math") is math:
        namespace["math"] = PYTHON_MATH
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
    inner = getattr(obj, "primal", None) or getattr(obj, "dispatcher", None)   # sd.differentiable, transforms
    if inner is not None:
        return inner
    if obj not in _primals:
        _primals[obj] = numba.njit(obj)
    return _primals[obj]
