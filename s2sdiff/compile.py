"""Stage 6 — compile: generated source becomes a function, then a numba.njit dispatcher.

Compiled code is kept on disk between processes through numba's own cache: each
generated function is written as a module file named by a hash of everything its
machine code depends on (its source, the values and code it refers to, the versions of
s2sdiff, numba and NumPy), so a changed function gets a new file and never a stale
compile.  The directory is $S2SDIFF_CACHE_DIR, else s2sdiff/ in the user's cache
directory, created readable by the user only; S2SDIFF_CACHE=0 turns the disk cache off.
Without numba (jit=False) the source is only registered with `linecache`, under a
`<s2sdiff:…>` name.  Either way tracebacks show it and s2sdiff can read its own output
back (that is how transforms compose).
"""
from __future__ import annotations

import ast
import builtins
import hashlib
import importlib.metadata
import linecache
import marshal
import math
import os
import sys
import tempfile
import types
import warnings
from pathlib import Path

import numba
import numpy as np

from . import runtime

# error_model="numpy": division by zero gives inf/nan like NumPy instead of raising, so
# the derivative code has no hidden exception branches and non-finite values propagate.
NJIT_OPTIONS = {"error_model": "numpy"}

def _python_math():
    shim = types.SimpleNamespace(**{k: getattr(math, k) for k in dir(math) if not k.startswith("_")})
    from .rules import RULES
    for rule in RULES.values():
        name = rule.spellings.get("math")
        if name and "np" in rule.spellings and rule.op not in ("floor", "ceil", "trunc"):
            setattr(shim, name.split(".")[1], getattr(np, rule.spellings["np"].split(".")[1]))
    return shim


PYTHON_MATH = _python_math()


def function(source: str, namespace: dict, name: str, jit: bool = True, parallel=False,
             origin=None, cache_parallel=False) -> tuple:
    """(the Python function `name` that `source` defines in `namespace`, its compiled form;
    `parallel`: numba's parallel option (True, or a dict of its parts), for prange loops and
    array expressions on threads; `cache_parallel`: keep such code in the disk cache too
    (numba caches prange loops since 0.45; s2sdiff does so only for the per-example loop,
    whose prange holds nothing but calls);
    `origin`: the user's function the code was generated from, which s2sdiff names in its
    messages when it reads the code back — parse.py).

    Without numba, `math` is replaced by NumPy's versions of its functions, so the Python
    run returns inf and nan where compiled code does instead of raising."""
    if not jit:
        if namespace.get("math") is math:
            namespace["math"] = PYTHON_MATH
        py_func = _load(source, namespace, name, _memory_name(name, source), origin)
        return py_func, py_func
    # threaded code stays in memory unless it opts in: numba's cache of it was untried here
    # before the per-example loop
    key = None if parallel and not cache_parallel else _fingerprint(source, namespace)
    path = _cache_file(name, key, source) if key else None
    parallel = dict(parallel) if isinstance(parallel, dict) else parallel      # (numba takes its options out of it)
    if path is None:
        py_func = _load(source, namespace, name, _memory_name(name, source), origin)
        compiled = numba.njit(parallel=parallel, **NJIT_OPTIONS)(py_func)
        compiled.s2sdiff_key = ""           # kept in memory only: so is what calls it
        return py_func, compiled
    # numba finds a cached function's globals by importing its module: register one.
    module = types.ModuleType(f"s2sdiff_generated_{path.stem}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    module.__dict__.update(namespace)
    py_func = _load(source, module.__dict__, name, str(path), origin)
    compiled = numba.njit(cache=True, parallel=parallel, **NJIT_OPTIONS)(py_func)
    compiled.s2sdiff_key = key
    return py_func, compiled


_inlined: dict = {}


def inlined(compiled):
    """`compiled` as a function numba inlines into its callers (its IR, before typing)."""
    if compiled not in _inlined:
        dispatcher = numba.njit(inline="always", **NJIT_OPTIONS)(compiled.py_func)
        key = getattr(compiled, "s2sdiff_key", None)
        if key is not None:                 # generated code (a user function is known by its code)
            dispatcher.s2sdiff_key = key and key + ":inlined"
        _inlined[compiled] = dispatcher
    return _inlined[compiled]


def _memory_name(name, source) -> str:
    """The traceback file name of code not on disk; the same code always gets the same one."""
    return f"<s2sdiff:{name}:{hashlib.sha256(source.encode()).hexdigest()[:10]}>"


def _load(source, namespace, name, filename, origin=None) -> types.FunctionType:
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), namespace)
    py_func = namespace[name]
    if origin is not None:
        py_func.s2sdiff_origin = getattr(origin, "s2sdiff_origin", origin)
    return py_func


# ---- the disk cache ------------------------------------------------------------------

def cache_dir() -> Path | None:
    """The directory of the disk cache, created if needed; None when it is off or unusable."""
    if os.environ.get("S2SDIFF_CACHE", "1") == "0":
        return None
    configured = os.environ.get("S2SDIFF_CACHE_DIR")
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    base = Path(configured) if configured else user_cache / "s2sdiff"
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        warnings.warn(f"s2sdiff: no disk cache ({base}: {exc}); compiling in memory only", stacklevel=3)
        return None
    return base


# A generated name lists the parameters it differentiates in; file names end at 255 bytes.
_LONGEST_NAME = 120


def _cache_file(name: str, key: str, source: str) -> Path | None:
    base = cache_dir()
    if base is None:
        return None
    path = base / f"{name[:_LONGEST_NAME]}_{key[:24]}.py"      # (the key tells functions apart)
    if not path.exists():          # written whole or not at all: several processes may race here
        fd, tmp = tempfile.mkstemp(dir=base, suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            out.write(source)
        os.replace(tmp, path)
    return path


# What else compiled code depends on: the versions, and the helpers' numba overloads.
_VERSIONS = (tuple(importlib.metadata.version(p) for p in ("s2sdiff", "numba", "numpy")) + (sys.version,)
             + (hashlib.sha256(Path(runtime.__file__).read_bytes()).hexdigest(),))


def _fingerprint(source: str, namespace: dict) -> str | None:
    """A hash of what the compiled code depends on, or None if some value has no stable
    identity across processes (then the function is compiled in memory only)."""
    digest = hashlib.sha256(repr(_VERSIONS).encode())
    digest.update(source.encode())
    for name in sorted(namespace):
        if name.startswith("__"):
            continue
        identity = _identity(namespace[name], set())
        if identity is None:
            return None
        digest.update(f"{name}={identity};".encode())
    return digest.hexdigest()


def _identity(value, seen: set):
    if isinstance(value, types.ModuleType):
        return f"module {value.__name__}"
    if isinstance(value, (types.BuiltinFunctionType, type)) and value.__module__.split(".")[0] in ("builtins", "numba"):
        return f"{value.__module__} {value.__qualname__}"
    if isinstance(value, (bool, int, float, complex, str, type(None), np.number)):
        return repr(value)
    if isinstance(value, np.ndarray):
        return f"array {value.dtype} {value.shape} {hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()}"
    key = getattr(value, "s2sdiff_key", None)
    if key is not None:                               # a generated function: its own fingerprint
        return key or None
    func = getattr(value, "py_func", value)
    if isinstance(func, types.FunctionType):
        if func.__module__ == runtime.__name__:
            return f"runtime {func.__name__}"         # s2sdiff's version covers its helpers
        if id(func) in seen:
            return f"function {func.__qualname__}"
        seen.add(id(func))
        # A user function: its code, and the globals it reads, recursively.
        parts = [func.__qualname__, hashlib.sha256(marshal.dumps(func.__code__)).hexdigest()]
        for global_name in func.__code__.co_names:
            if global_name in func.__globals__:
                identity = _identity(func.__globals__[global_name], seen)
                if identity is None:
                    return None
                parts.append(f"{global_name}={identity}")
        return "function " + " ".join(parts)
    return None


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
        _primals[obj] = None                          # a recursive call finds no dispatcher yet
        _primals[obj] = numba.njit(_calling_primals(obj))
    return _primals[obj]


def is_compiled_by_user(obj) -> bool:
    """Whether `obj` is the user's own numba function (or an s2sdiff transform): called as
    it is, with the options it was compiled with."""
    return isinstance(obj, numba.core.registry.CPUDispatcher) or \
        getattr(obj, "primal", None) is not None or getattr(obj, "dispatcher", None) is not None


def is_own_primal(dispatcher) -> bool:
    """Whether s2sdiff compiled this primal (not the user, whose dispatcher keeps its options)."""
    return any(dispatcher is made for made in _primals.values())


def _calling_primals(func: types.FunctionType) -> types.FunctionType:
    """`func` with the plain Python functions it calls replaced by their njit primals:
    numba compiles a call only to something it can type."""
    from .linalg_calls import is_linalg
    namespace = dict(func.__globals__)
    for name in func.__code__.co_names:
        value = namespace.get(name)
        if isinstance(value, types.FunctionType) and value is not func and _primals.get(value, 0) is not None \
                and not is_linalg(value) and value not in runtime.SCIPY_OVERLOADS:   # SciPy's solves: respelled below
            namespace[name] = primal(value)
    plain = _respelled(func, namespace)
    if plain is None:
        plain = types.FunctionType(func.__code__, namespace, func.__name__, func.__defaults__, func.__closure__)
    plain.__qualname__, plain.__module__ = func.__qualname__, func.__module__
    return plain


def _respelled(func: types.FunctionType, namespace: dict):
    """`func` recompiled from its source with what numba lacks respelled (`math.cbrt` ->
    `np.cbrt`, as generated code has it), in `namespace`; None if it uses none of that."""
    from . import linalg_calls
    from .normalize import MEAN_ALONG, respelled
    from .parse import parse_function
    from .rules import NUMBA_LACKS
    names = func.__code__.co_names
    lacking = {"sum", "mean"} | {dotted.split(".")[1] for dotted in NUMBA_LACKS} | linalg_calls.NAMES
    if func.__closure__ or not lacking & set(names):
        return None

    def resolve(call_func):
        if isinstance(call_func, ast.Attribute) and isinstance(call_func.value, ast.Name):
            return getattr(namespace.get(call_func.value.id), call_func.attr, None)
        if isinstance(call_func, ast.Name):
            return namespace.get(call_func.id, getattr(builtins, call_func.id, None))
        return None

    original = parse_function(func).tree
    tree = respelled(original, resolve, {"np": "_s2sdiff_np"})
    if tree is original:
        return None
    namespace.update({"_s2sdiff_np": np, MEAN_ALONG: runtime.mean_along} | linalg_calls.helpers())
    tree.decorator_list = []
    exec(compile(ast.fix_missing_locations(ast.Module([tree], [])), func.__code__.co_filename, "exec"), namespace)
    respelled_func = namespace.pop(func.__name__)
    respelled_func.__defaults__ = func.__defaults__
    return respelled_func
