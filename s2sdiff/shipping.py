"""Transforms sent to other processes (Dask workers, multiprocessing pools).

A transform pickles as its recipe, never as machine code: the public transform that made
it, the options, the user's function, and the text of the source files s2sdiff read.
The function itself travels the way the pickler sends functions: by module and name with
`pickle`, by value where cloudpickle (Dask's pickler) finds no importable module.  The
receiving process runs the same transform again; the generated code is the same text, so
compile.py finds its machine code in numba's disk cache when both processes share it.

The sources travel because s2sdiff reads code from files: a worker on another machine,
or a script edited since, has no file (or another one) to read.  The shipped text is
put in `linecache`, where `inspect` finds it before the file.
"""
from __future__ import annotations

import functools
import linecache
import pickle
import types
from dataclasses import dataclass

import numba

from .errors import S2SDiffError


VARIANT = "variant"       # a transform's code for other kinds of arguments (Transformed.specialized)


@dataclass(frozen=True)
class Recipe:
    """How a transform was made: `api.<transform>(f, *args, **options)`."""
    transform: str
    f: object
    args: tuple
    options: tuple            # (name, value) pairs

    def __reduce__(self):
        functions = _user_functions(self.f)
        sources = {}
        for func in functions:
            filename = func.__code__.co_filename
            if filename not in sources:
                sources[filename] = "".join(linecache.getlines(filename, func.__globals__))
        return rebuilt, (self.transform, self.f, self.args, self.options, sources,
                         [(func, func.__code__.co_filename) for func in functions])


def rebuilt(transform, f, args, options, sources, functions):
    """The transform made again in this process, reading `sources` (file name -> text)
    where the files on this machine are missing or differ.  `functions`: the user's
    functions with the files they came from, which cloudpickle's copies of them forget."""
    # a function imported here by name is this machine's version of it: its file must hold
    # the text the transform was made from, or the code read and the code run would differ
    imported = {filename for func, filename in functions if func.__code__.co_filename == filename}
    for filename, text in sources.items():
        here = "".join(linecache.getlines(filename))
        if text and here != text:
            if filename in imported and here:
                raise S2SDiffError(f"{filename} in this process differs from the file the transform was made from "
                                   "in the process that sent it: give both the same version of the code")
            linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    for func, filename in functions:
        if func.__code__.co_filename != filename:
            func.__code__ = _refiled(func.__code__, filename)
    from . import api
    if transform == VARIANT:
        return f._variant(*args)
    return getattr(api, transform)(f, *args, **dict(options))


def recorded(transform):
    """The public transform, its results remembering how they were made."""
    @functools.wraps(transform)
    def public(f, *args, **options):
        made = transform(f, *args, **options)
        if made.recipe is None:
            made.recipe = Recipe(transform.__name__, f, args, tuple(options.items()))
        return made
    return public


def unpicklable(name):
    return pickle.PicklingError(f"{name} was not made by a public s2sdiff transform (sd.grad, sd.jacobian, …), so "
                                "it cannot be sent to another process; send the transform sd.grad(f) returned")


def _user_functions(f) -> list:
    """f and the user functions it calls, directly or not: the code s2sdiff reads."""
    functions, seen, pending = [], set(), [f]
    while pending:
        func = _python(pending.pop())
        if func is None or id(func) in seen:
            continue
        seen.add(id(func))
        functions.append(func)
        pending += [func.__globals__.get(name) for name in func.__code__.co_names]
        pending += [cell.cell_contents for cell in func.__closure__ or () if _filled(cell)]
    return functions


def _refiled(code: types.CodeType, filename: str) -> types.CodeType:
    """`code`, and the code it nests, as compiled from `filename`: the disk cache knows a
    function by its code, file name included."""
    consts = tuple(_refiled(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _python(obj):
    """The Python function behind a user's function, njit dispatcher or s2sdiff object."""
    from .per_example import PerExample
    from .wrappers import Transformed
    for _ in range(8):
        if isinstance(obj, (Transformed, PerExample)):       # its own recipe carries its sources
            return None
        if isinstance(obj, types.FunctionType):
            return None if obj.__module__.split(".")[0] in ("s2sdiff", "numpy", "numba", "scipy") else obj
        if not isinstance(obj, numba.core.registry.CPUDispatcher) and not hasattr(obj, "py_func"):
            return None
        obj = obj.py_func
    return None


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True
