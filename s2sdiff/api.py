"""The public transforms (DESIGN §1), built on the core tangent transform.

`derivative`, `grad(mode="forward")`, `jacobian(mode="forward")` and `jvp` are thin
generated wrappers around one tangent function `f_jvp`; the wrappers are generated
Python too, so the whole result is one njit-callable unit with readable `.source`.
"""
from __future__ import annotations

import inspect
import numbers
from functools import cached_property

import numba
import numpy as np
from numba.core.errors import TypingError
from numba.extending import typeof_impl

from . import compile as compiler
from .errors import S2SDiffError
from .names import Namer
from .normalize import normalize
from .parse import python_function
from .pipeline import tangent_unit

MODES = ("forward", "reverse")


class Transformed:
    """A compiled transform: call it like the function, read `.source`, call it from njit code."""

    def __init__(self, name, source, py_func, compiled, differentiated, jit=True):
        self.__name__ = name
        self.jit = jit
        self.source = source
        self.py_func = py_func
        self.dispatcher = compiled
        self._signature = inspect.signature(py_func)
        self._differentiated = set(differentiated)

    def __call__(self, *args, **kwargs):
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.__name__}(): {exc}") from None
        bound.apply_defaults()
        values = []
        for name, value in bound.arguments.items():
            if name in self._differentiated:
                value = _real_argument(self.__name__, name, value)
                if not self.jit:            # NumPy scalars divide by zero like compiled code does
                    value = np.float64(value)
            values.append(value)
        if not self.jit:
            with np.errstate(all="ignore"):
                return self.dispatcher(*values)
        try:
            return self.dispatcher(*values)
        except TypingError as exc:
            described = ", ".join(f"{n}: {numba.typeof(v)}" for n, v in zip(bound.arguments, values))
            raise TypeError(f"{self.__name__}() cannot run on arguments ({described}): "
                            f"{_numba_reason(exc)}") from None

    def __repr__(self):
        return f"<s2sdiff {self.__name__}{self._signature}>"


@typeof_impl.register(Transformed)
def _typeof_transformed(value, context):
    # Inside njit code a transform is just its dispatcher.
    return numba.typeof(value.dispatcher)


def _numba_reason(exc) -> str:
    """The one informative line of a numba typing error."""
    lines = [line.strip() for line in str(exc).splitlines()]
    for i, line in enumerate(lines):
        if line.startswith("No implementation of function") or line.startswith("Cannot unify"):
            detail = next((l for l in lines[i + 1:] if l.startswith(">>>")), "")
            return f"{line} {detail}".strip()
    return "numba cannot compile the generated code for these argument types"


def _real_argument(function_name, name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        kind = "an array" if isinstance(value, np.ndarray) else type(value).__name__
        raise TypeError(f"{function_name}(): argument '{name}' is differentiated and must be a real number, "
                        f"got {kind}")
    return float(value)


# ---- options ------------------------------------------------------------------------

def _params(f) -> list:
    return list(inspect.signature(python_function(f)).parameters)


def resolve_wrt(f, wrt) -> tuple[tuple, bool]:
    """(parameter indices, whether the caller asked for a tuple)."""
    params = _params(f)
    many = isinstance(wrt, (tuple, list))
    indices = []
    for item in (wrt if many else (wrt,)):
        if isinstance(item, str):
            if item not in params:
                raise S2SDiffError(f"wrt={item!r}: {python_function(f).__name__} has no parameter of that name "
                                   f"(parameters: {', '.join(params)})")
            indices.append(params.index(item))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not -len(params) <= item < len(params):
                raise S2SDiffError(f"wrt={item}: {python_function(f).__name__} has {len(params)} parameter(s)")
            indices.append(int(item) % len(params))
        else:
            raise S2SDiffError(f"wrt must be a parameter index, a name or a tuple of these; got {item!r}")
    if many and not indices:
        raise S2SDiffError("wrt=() differentiates nothing")
    if len(set(indices)) != len(indices):
        raise S2SDiffError(f"wrt={wrt!r} names a parameter twice")
    return tuple(indices), many


def _check_mode(mode):
    if mode not in MODES:
        raise S2SDiffError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "reverse":
        raise S2SDiffError("reverse mode is not available in this version; pass mode='forward'")


_transforms: dict = {}


def _cached(kind, f, options, build):
    py_func = python_function(f)
    key = (kind, py_func, py_func.__code__, options)
    if key not in _transforms:
        _transforms[key] = build()
    return _transforms[key]


# ---- wrapper generation ---------------------------------------------------------------

class _Wrapper:
    """Writes the small generated function a transform returns (`f_grad`, `f_jacobian`, …):
    it calls compiled units and packs their results, and is compiled like them."""

    def __init__(self, kind, f, mode, jit):
        self.kind, self.mode, self.jit = kind, mode, jit
        self.function = normalize(python_function(f))
        self.namer = Namer(set(self.function.params) | {"np", "math"})
        self.units, self.lines = [], []

    def use(self, unit) -> str:
        if unit not in self.units:
            self.units.append(unit)
            self.namer.taken.add(unit.function.name)
        return unit.function.name

    def finish(self, results, many, differentiated) -> "Transformed":
        fn = self.function
        name = self.namer.fresh(f"{fn.name}_{self.kind}")
        params = ", ".join(_with_default(p, fn.defaults) for p in fn.params)
        packed = ", ".join(results) + ("," if len(results) == 1 else "") if many else results[0]
        source = "\n".join([f"# {self.kind} of {fn.name} — {self.mode} mode, generated by s2sdiff",
                            f"def {name}({params}):"]
                           + ["    " + line for line in self.lines + [f"return {packed}"]]) + "\n"
        namespace = {unit.function.name: unit.compiled for unit in self.units}
        namespace["np"] = np
        py = compiler.load(source, namespace, name, self.jit)
        compiled = compiler.jit(py) if self.jit else py
        sources = _joined_sources(self.units)
        return Transformed(name, sources + "\n\n" + source, py, compiled,
                           [fn.params[i] for i in differentiated], self.jit)


def _joined_sources(units) -> str:
    seen, parts = set(), []
    for unit in units:
        for part in unit.full_source.split("\n\n\n"):
            if part not in seen:
                seen.add(part)
                parts.append(part)
    return "\n\n\n".join(parts)


def _with_default(param, defaults):
    if param in defaults and isinstance(defaults[param], (int, float, bool)):
        return f"{param}={defaults[param]!r}"
    return param


def _forward_columns(w: _Wrapper, f, indices, as_array) -> list:
    """d(outputs)/d(param) for each index: one tangent sweep each, seeded with 1.0.

    Each sweep uses a tangent function in that one parameter, so the other parameters'
    tangents are symbolic zeros: a partial never picks up 0 * inf from another one."""
    fn = w.function
    results = []
    for index in indices:
        param = fn.params[index]
        jvp = w.use(tangent_unit(f, (index,), w.jit))
        if fn.tuple_result:
            values = [w.namer.fresh(f"z{k + 1}") for k in range(fn.n_outputs)]
            tangents = [w.namer.fresh(f"dz{k + 1}_d{param}") for k in range(fn.n_outputs)]
        else:
            values, tangents = [w.namer.fresh("z")], [w.namer.fresh(f"d{fn.name}_d{param}")]
        w.lines.append(f"{', '.join(values + tangents)} = {jvp}({', '.join(fn.params + ['1.0'])})")
        if not fn.tuple_result:
            results.append(tangents[0])
            continue
        result = w.namer.fresh("d_d" + param)
        packed = f"({', '.join(tangents)},)"
        w.lines.append(f"{result} = " + (f"np.array({packed})" if as_array else packed))
        results.append(result)
    return results


# ---- public transforms ----------------------------------------------------------------

def derivative(f, order=1, *, jit=True):
    """f' (forward mode) of a function of one real variable, with further arguments held fixed.

    For a tuple-valued f the result is the tuple of the components' derivatives."""
    if not isinstance(order, (int, np.integer)) or order < 1:
        raise S2SDiffError(f"order must be a positive integer, got {order!r}")
    if order > 1:
        return derivative(derivative(f, order - 1, jit=jit), jit=jit)

    def build():
        w = _Wrapper("derivative", f, "forward", jit)
        return w.finish(_forward_columns(w, f, (0,), as_array=False), False, (0,))
    return _cached("derivative", f, (jit,), build)


def grad(f, wrt=0, mode="reverse", *, jit=True):
    """Gradient of a scalar-valued f in the argument(s) `wrt`."""
    indices, many = resolve_wrt(f, wrt)
    _check_mode(mode)
    function = normalize(python_function(f))
    if function.tuple_result:
        raise S2SDiffError(f"grad needs a scalar-valued function, but {function.name} returns a tuple of "
                           f"{function.n_outputs}; use sd.jacobian")

    def build():
        w = _Wrapper("grad", f, mode, jit)
        return w.finish(_forward_columns(w, f, indices, as_array=False), many, indices)
    return _cached("grad", f, (indices, many, mode, jit), build)


def jacobian(f, wrt=0, mode="forward", *, jit=True):
    """Jacobian with shape out.shape + in.shape (a tuple result counts as 1-D)."""
    indices, many = resolve_wrt(f, wrt)
    _check_mode(mode)

    def build():
        w = _Wrapper("jacobian", f, mode, jit)
        return w.finish(_forward_columns(w, f, indices, as_array=True), many, indices)
    return _cached("jacobian", f, (indices, many, mode, jit), build)


def jvp(f, primals, tangents, *, jit=True):
    """(f(*primals), J·tangents): the directional derivative of f along `tangents`."""
    primals, tangents = tuple(primals), tuple(tangents)
    params = _params(f)
    if len(primals) != len(params) or len(tangents) != len(params):
        raise S2SDiffError(f"jvp: {python_function(f).__name__} takes {len(params)} argument(s); "
                           f"got {len(primals)} primal(s) and {len(tangents)} tangent(s)")
    name = python_function(f).__name__
    primals = tuple(_real_argument(name, p, v) for p, v in zip(params, primals))
    tangents = tuple(_real_argument(name, "d" + p, v) for p, v in zip(params, tangents))
    unit = tangent_unit(f, tuple(range(len(params))), jit)
    out = unit.compiled(*primals, *tangents)
    m = unit.function.n_outputs // 2
    if not normalize(python_function(f)).tuple_result:
        return out[0], out[1]
    return tuple(out[:m]), tuple(out[m:])


def clear_caches():
    """Forget every transform built so far (the next request re-reads the source)."""
    from . import normalize as normalize_stage, pipeline
    _transforms.clear()
    pipeline._units.clear()
    normalize_stage._normalized.clear()


def show(obj):
    """Print the generated source of a transform."""
    print(obj.source)


class Differentiable:
    """`@sd.differentiable`: calls the njit-compiled primal; transforms hang off it."""

    def __init__(self, f, jit=True):
        self.py_func = python_function(f)
        self.jit = jit
        self.primal = compiler.primal(f, jit)
        self.__name__ = self.py_func.__name__
        self.__doc__ = self.py_func.__doc__

    def __call__(self, *args, **kwargs):
        return self.primal(*args, **kwargs)

    @cached_property
    def derivative(self):
        return derivative(self.py_func, jit=self.jit)

    @cached_property
    def grad(self):
        return grad(self.py_func, jit=self.jit)

    @cached_property
    def jacobian(self):
        return jacobian(self.py_func, jit=self.jit)

    def __repr__(self):
        return f"<s2sdiff.differentiable {self.__name__}>"


@typeof_impl.register(Differentiable)
def _typeof_differentiable(value, context):
    return numba.typeof(value.primal)


def differentiable(f=None, *, jit=True):
    if f is None:
        return lambda g: Differentiable(g, jit)
    return Differentiable(f, jit)
