"""The public transforms (DESIGN §1), built on the two core ones.

Every transform is a small generated wrapper (`f_grad`, `f_jacobian`, …) around the
tangent function (`f_jvp…`, forward mode) or the adjoint function (`f_vjp…`, reverse
mode) of the pipeline; the wrappers are generated Python too, so each result is one
njit-callable unit with readable `.source`.
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
from . import ir, selfcheck
from .analyze import array_parameters, certain_arrays, kinds_arrays, kinds_numbers, number_names
from .errors import S2SDiffError
from .names import Namer
from .normalize import normalize
from .parse import python_function
from .pipeline import LOCK, derived_unit
from .transform.batched import NotBatched
from .runtime import HELPERS

MODES = ("forward", "reverse")


class Transformed:
    """A compiled transform: call it like the function, read `.source`, call it from njit code."""

    def __init__(self, name, source, py_func, compiled, differentiated, jit=True, arrays=False, kinds=frozenset(),
                 verify=None):
        self.__name__ = name
        self._verify = verify           # check=True: verify(name, args, result) on the first call (selfcheck.py)
        self.jit = jit
        self._arrays = arrays
        self._kinds = kinds
        self.source = source
        self.py_func = py_func
        self.dispatcher = compiled
        self._signature = inspect.signature(py_func)
        self._params = list(self._signature.parameters)
        self._differentiated_positions = [i for i, p in enumerate(self._params) if p in set(differentiated)]

    variant = None      # kinds (analyze.ARRAY) -> the transform generated for arguments of those kinds

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != len(self._params):
            try:
                bound = self._signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{self.__name__}(): {exc}") from None
            bound.apply_defaults()
            args = tuple(bound.arguments.values())
        values = list(args)
        kinds = _kinds(self._params, values)
        if kinds != self._kinds and self.variant is not None:     # code for numbers and arrays of these ranks
            return self.variant(kinds)(*values)
        for i in self._differentiated_positions:
            value = values[i]
            if not (type(value) is np.ndarray and value.dtype == np.float64 and value.flags.c_contiguous
                    and value.ndim in (1, 2) and self._arrays or type(value) is float and self.jit):
                value = _differentiated_argument(self.__name__, self._params[i], value, self._arrays)
                if not self.jit and not isinstance(value, np.ndarray):
                    value = np.float64(value)   # NumPy scalars divide by zero like compiled code does
            values[i] = value
        result = _run(self.__name__, self.dispatcher, self._params, values, self.jit)
        if self._verify is not None:
            verify, self._verify = self._verify, None
            verify(self.__name__, tuple(values), result)
        return result

    def specialized(self, *args, **kwargs):
        """The transform a call with these arguments runs, generated for their kinds (number,
        or array and its rank): its `.source` is the code that runs."""
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.__name__}(): {exc}") from None
        bound.apply_defaults()
        kinds = _kinds(self._params, list(bound.arguments.values()))
        return self if kinds == self._kinds or self.variant is None else self.variant(kinds)

    def __repr__(self):
        return f"<s2sdiff {self.__name__}{self._signature}>"


@typeof_impl.register(Transformed)
def _typeof_transformed(value, context):
    # Inside njit code a transform is just its dispatcher.
    return numba.typeof(value.dispatcher)


def _run(name, compiled, params, values, jit):
    """Call generated code; errors from inside it name the arguments, with their types or shapes."""
    try:
        if not jit:
            with np.errstate(all="ignore"):
                return compiled(*values)
        return compiled(*values)
    except TypingError as exc:
        described = ", ".join(f"{n}: {numba.typeof(v)}" for n, v in zip(params, values))
        raise TypeError(f"{name}() cannot run on arguments ({described}): {_numba_reason(exc)}") from None
    except np.linalg.LinAlgError:
        raise
    except S2SDiffError as exc:          # a check of the generated code's (runtime.scalar_output)
        raise type(exc)(f"{name}(): {exc}") from None
    except ValueError as exc:          # shapes that do not fit, found inside the generated code
        shapes = ", ".join(f"{n}: {np.shape(v)}" for n, v in zip(params, values))
        raise ValueError(f"{name}(): the arguments' shapes do not fit the function ({shapes}): {exc}") from None


def _numba_reason(exc) -> str:
    """The one informative line of a numba typing error."""
    lines = [line.strip() for line in str(exc).splitlines()]
    for i, line in enumerate(lines):
        if line.startswith("No implementation of function") or line.startswith("Cannot unify"):
            detail = next((text for text in lines[i + 1:] if text.startswith(">>>")), "")
            return f"{line} {detail}".strip()
        if line.startswith("Use of unsupported NumPy function") or line.startswith("Untyped global name"):
            return f"{line} (numba cannot call it from compiled code)"
    return "numba cannot compile the generated code for these argument types"


def _differentiated_argument(function_name, name, value, arrays_allowed):
    """A differentiated argument as compiled code takes it: a float, or a float64 array."""
    if isinstance(value, np.ndarray):
        if not arrays_allowed:
            raise TypeError(f"{function_name}(): argument '{name}' is an array; sd.derivative is for functions "
                            "of one real variable, use sd.jacobian or sd.grad")
        if not np.issubdtype(value.dtype, np.floating):
            raise TypeError(f"{function_name}(): argument '{name}' is differentiated but is a {value.dtype} "
                            "array; integer arrays are never differentiated — pass a float array")
        if value.ndim not in (1, 2):
            raise TypeError(f"{function_name}(): argument '{name}' has {value.ndim} dimensions; "
                            "s2sdiff differentiates 1-D and 2-D arrays")
        return np.ascontiguousarray(value, dtype=np.float64)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{function_name}(): argument '{name}' is differentiated and must be a real number"
                        f"{' or a float array' if arrays_allowed else ''}, got {type(value).__name__}")
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


_transforms: dict = {}


def _cached(kind, f, options, build, kinds=frozenset()):
    """The transform built by `build(kinds)`, once per (function, options, kinds of arguments).

    The transform a user gets (`kinds` empty: what the code suggests) is what numba code
    calls; a call from Python gets (and caches) the variant for its arguments' kinds —
    number or array, and the array's rank — so no guess of the analysis reaches it."""
    py_func = python_function(f)
    key = (kind, py_func, py_func.__code__, options, kinds)
    with LOCK:
        if key not in _transforms:
            transformed = build(kinds)
            transformed.variant = lambda called: _cached(kind, f, options, build, called)
            _transforms[key] = transformed
        return _transforms[key]


def _kinds(params, values) -> frozenset:
    """The kinds (analyze.ARRAY) of a call's arguments: numbers, and arrays with their ranks."""
    return frozenset((p, v.ndim if isinstance(v, np.ndarray) else 0) for p, v in zip(params, values)
                     if isinstance(v, np.ndarray) or _is_number(v))


# ---- wrapper generation ---------------------------------------------------------------

class _Wrapper:
    """Writes the small generated function a transform returns (`f_grad`, `f_jacobian`, …):
    it calls compiled units and packs their results, and is compiled like them."""

    def __init__(self, kind, f, mode, jit, kinds=frozenset(), of=None):
        self.kind, self.mode, self.jit, self.kinds = kind, mode, jit, kinds
        self.function = normalize(python_function(f))
        self.of = of or self.function.name            # the user's function, named in the wrapper
        self.namer = Namer(set(self.function.params) | {"np", "math"} | set(HELPERS))
        self.units, self.lines, self.namespace = [], [], {}

    def use(self, unit) -> str:
        if unit not in self.units:
            self.units.append(unit)
            self.namer.taken.add(unit.function.name)
        return unit.function.name

    def finish(self, returned: str, differentiated, verify=None) -> "Transformed":
        fn = self.function
        name = self.namer.fresh(f"{self.of}_{self.kind}")
        params = ", ".join(_with_default(p, fn.defaults) for p in fn.params)
        source = "\n".join([f"# {self.kind} of {self.of} — {self.mode} mode, generated by s2sdiff",
                            f"def {name}({params}):"]
                           + ["    " + line for line in self.lines + [f"return {returned}"]]) + "\n"
        namespace = {unit.function.name: unit.compiled for unit in self.units}
        namespace.update(self.namespace, np=np, **HELPERS)
        py, compiled = compiler.function(source, namespace, name, self.jit, origin=self.function.origin)
        return Transformed(name, _joined_sources(self.units) + "\n\n\n" + source, py, compiled,
                           [fn.params[i] for i in differentiated], self.jit, arrays=self.kind != "derivative",
                           kinds=self.kinds, verify=verify)

    def numbers(self) -> set:
        """Parameters the generated code takes as numbers."""
        return set(self.function.params) - array_parameters(self.function) - kinds_arrays(self.kinds) \
            | kinds_numbers(self.kinds)

    def unit(self, kind, f, active, parallel=False):
        return derived_unit(kind, f, active, self.jit, kinds=self.kinds, parallel=parallel)


def _packed(results, many) -> str:
    return ", ".join(results) + ("," if len(results) == 1 else "") if many else results[0]


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


def _forward_columns(w: _Wrapper, f, indices, as_array) -> tuple:
    """d(outputs)/d(param) for each index, a tuple result's partials packed into an array
    (`as_array`) or a tuple."""
    fn = w.function
    arrays = set(fn.params) - w.numbers()
    results, first_values = [], None
    for index in indices:
        values, partials = _partials(w, f, index)
        first_values = first_values or values
        if not fn.tuple_result:
            results.append(partials[0])
            continue
        packed = f"({', '.join(partials)},)"
        if not as_array:                    # returned as it is: a tuple is no value to name
            results.append(packed)
            continue
        result = w.namer.fresh("d_d" + fn.params[index])
        pack = "np.stack" if fn.params[index] in arrays else "np.array"
        w.lines.append(f"{result} = {pack}({packed})")
        results.append(result)
    return first_values, results


def _partials(w: _Wrapper, f, index) -> tuple:
    """(value names, [d output_k / d param for each output k]): one tangent sweep seeded
    with 1.0, or for an array parameter batched sweeps of unit seeds (one per
    element where the tangent code does not batch), each partial then shaped
    output.shape + param.shape.

    Each sweep uses a tangent function in that one parameter, so the other parameters'
    tangents are symbolic zeros: a partial never picks up 0 * inf from another one."""
    fn = w.function
    param = fn.params[index]
    m = fn.n_outputs
    values = [w.namer.fresh(f"z{k + 1}" if fn.tuple_result else "z") for k in range(m)]
    tangents = [w.namer.fresh(f"dz{k + 1}_d{param}" if fn.tuple_result else f"d{fn.name}_d{param}")
                for k in range(m)]
    if param not in w.numbers():
        try:
            batched_jvp = w.unit("bjvp", f, (index,))
        except NotBatched:
            jvp = w.use(w.unit("jvp", f, (index,)))
            return _column_sweeps(w, param, jvp, values, tangents)
        return _block_sweeps(w, param, w.use(batched_jvp), values, tangents)
    jvp = w.use(w.unit("jvp", f, (index,)))
    w.lines.append(f"{', '.join(values + tangents)} = {jvp}({', '.join(fn.params + ['1.0'])})")
    return values, tangents


def _jacobian_names(w: _Wrapper, param) -> tuple:
    """Names for the (outputs × inputs) matrices of each output's partials in `param`, and
    for those partials shaped output.shape + param.shape."""
    fn = w.function
    outputs = range(fn.n_outputs)
    jacs = [w.namer.fresh(f"J{j + 1 if fn.tuple_result else ''}_{param}") for j in outputs]
    partials = [w.namer.fresh(f"dz{j + 1}_d{param}" if fn.tuple_result else f"d{fn.name}_d{param}") for j in outputs]
    return jacs, partials


def _block_sweeps(w: _Wrapper, param, jvp, values, tangents) -> tuple:
    """The partials in blocks of columns (runtime.block_width: up to 64), each block one
    batched tangent sweep."""
    fn = w.function
    n, width, start, stop = (w.namer.fresh(name) for name in (f"n_{param}", "width", "start", "stop"))
    jacs, partials = _jacobian_names(w, param)
    seeds = f"seed_block({param}, {start}, {stop})"
    sweep = f"{', '.join(values + tangents)} = {jvp}({', '.join(fn.params + [seeds])})"
    w.lines += [f"{n} = size_of({param})",
                f"{width} = block_width({n})",
                f"{start}, {stop} = 0, min({width}, {n})", sweep]
    w.lines += [f"{jac} = np.empty((size_of({z}), {n}))" for jac, z in zip(jacs, values)]
    w.lines += [f"store_columns({jac}, {start}, {t})" for jac, t in zip(jacs, tangents)]
    w.lines += [f"for {start} in range({width}, {n}, {width}):",
                f"    {stop} = min({start} + {width}, {n})",
                f"    {sweep}"]
    w.lines += [f"    store_columns({jac}, {start}, {t})" for jac, t in zip(jacs, tangents)]
    w.lines += [f"{d} = shaped_partial({jac}, {z}, {param})" for d, jac, z in zip(partials, jacs, values)]
    return values, partials


def _column_sweeps(w: _Wrapper, param, jvp, values, tangents) -> tuple:
    """The partials one column at a time, a unit seed per element of the parameter."""
    fn = w.function
    seed, tangent, k = (w.namer.fresh(n) for n in (f"seed_{param}", f"d{param}", "k"))
    jacs, partials = _jacobian_names(w, param)
    sweep = f"{', '.join(values + tangents)} = {jvp}({', '.join(fn.params + [tangent])})"
    # size_of, seed_view and shaped_partial: a number passed for a parameter the code may use
    # as an array (`np.sum(x * a)`) is one column
    w.lines += [f"{seed} = np.zeros(size_of({param}))",
                f"{seed}[0] = 1.0",
                f"{tangent} = seed_view({seed}, {param})", sweep]
    w.lines += [f"{jac} = np.empty((size_of({t}), size_of({param})))" for jac, t in zip(jacs, tangents)]
    w.lines += [f"store_column({jac}, 0, {t})" for jac, t in zip(jacs, tangents)]
    w.lines += [f"for {k} in range(1, size_of({param})):",
                f"    {seed}[{k} - 1] = 0.0",
                f"    {seed}[{k}] = 1.0",
                f"    {sweep}"]
    w.lines += [f"    store_column({jac}, {k}, {t})" for jac, t in zip(jacs, tangents)]
    w.lines += [f"{d} = shaped_partial({jac}, {t}, {param})" for d, jac, t in zip(partials, jacs, tangents)]
    return values, partials


def _reverse_rows(w: _Wrapper, f, indices, with_value, seeds=None, parallel=False):
    """One adjoint sweep: (value names, adjoint names) for the parameters `indices`."""
    fn = w.function
    vjp = w.use(w.unit("vjp" if with_value else "vjp_grad", f, tuple(indices), parallel))
    values = ([w.namer.fresh("value")] if not fn.tuple_result
              else [w.namer.fresh(f"value{k + 1}") for k in range(fn.n_outputs)]) if with_value else []
    adjoints = [w.namer.fresh(f"d{fn.name}_d{fn.params[i]}") for i in indices]
    seeds = seeds or ["1.0"]
    w.lines.append(f"{', '.join(values + adjoints)} = {vjp}({', '.join(fn.params + list(seeds))})")
    return values, adjoints


def _reverse_columns(w: _Wrapper, f, indices) -> list:
    """Jacobian columns in reverse mode: one adjoint sweep per output, then regroup."""
    fn = w.function
    if _returns_array(fn, w.kinds):
        return _array_rows(w, f, indices)
    if not fn.tuple_result:
        return _reverse_rows(w, f, indices, with_value=False)[1]
    rows = []
    for k in range(fn.n_outputs):
        seeds = ["1.0" if j == k else "0.0" for j in range(fn.n_outputs)]
        rows.append(_reverse_rows(w, f, indices, with_value=False, seeds=seeds)[1])
    columns, arrays = [], set(fn.params) - w.numbers()
    for j, index in enumerate(indices):
        column = w.namer.fresh("d_d" + fn.params[index])
        stack = "np.stack" if fn.params[index] in arrays else "np.array"
        w.lines.append(f"{column} = {stack}(({', '.join(row[j] for row in rows)},))")
        columns.append(column)
    return columns


def _array_rows(w: _Wrapper, f, indices) -> list:
    """The Jacobian of an array-valued f, shape out.shape + param.shape: one adjoint sweep
    per output element, seeded with a unit cotangent viewed in the output's shape."""
    fn = w.function
    params = [fn.params[i] for i in indices]
    vjp = w.use(w.unit("vjp_grad", f, tuple(indices)))
    primal = w.namer.fresh(f"{fn.name}_primal")
    w.namespace[primal] = compiler.primal(f, w.jit)
    value, seed, cotangent, k = (w.namer.fresh(n) for n in ("value", "seed", "cotangent", "k"))
    jacs = [w.namer.fresh(f"J_{p}") for p in params]
    adjoints = [w.namer.fresh(f"b{p}") for p in params]
    w.lines += [f"{value} = {primal}({', '.join(fn.params)})",
                f"{seed} = np.zeros({value}.size)",
                f"{cotangent} = {seed}.reshape({value}.shape)"]
    w.lines += [f"{jac} = np.empty(({value}.size, size_of({p})))" for jac, p in zip(jacs, params)]
    w.lines += [f"for {k} in range({value}.size):",
                f"    {seed}[{k}] = 1.0",
                f"    {', '.join(adjoints)} = "
                f"{vjp}({', '.join(fn.params + [cotangent])})",
                f"    {seed}[{k}] = 0.0"]
    w.lines += [f"    store_row({jac}, {k}, {b})" for jac, b in zip(jacs, adjoints)]
    results = []
    for jac, p in zip(jacs, params):
        results.append(w.namer.fresh("d_d" + p))
        w.lines.append(f"{results[-1]} = {jac}.reshape({value}.shape + shape_of({p}))")
    return results


def _returns_certain_array(fn, kinds) -> bool:
    (value,) = next(s for s in ir.walk(fn.body) if isinstance(s, ir.Return)).values[:1]
    return not fn.tuple_result and isinstance(value, ir.Name) and value.id in certain_arrays(fn, kinds_arrays(kinds))


def _returns_number(fn, kinds) -> bool:
    """Whether f returns one value that is certainly a number."""
    (value,) = next(s for s in ir.walk(fn.body) if isinstance(s, ir.Return)).values[:1]
    return isinstance(value, ir.Const) or value.id in number_names(fn, kinds, guess=False)


def _returns_array(fn, kinds) -> bool:
    """Whether f returns one value that is not a number (by the evidence of its code)."""
    if fn.tuple_result:
        return False
    (value,) = next(s for s in ir.walk(fn.body) if isinstance(s, ir.Return)).values
    return isinstance(value, ir.Name) and value.id not in number_names(fn, kinds)


# ---- public transforms ----------------------------------------------------------------

def derivative(f, order=1, *, jit=True, check=None):
    """f' (forward mode) of a function of one real variable, with further arguments held fixed.

    For a tuple-valued f the result is the tuple of the components' derivatives.
    `check=True` (every transform takes it; $S2SDIFF_CHECK=1 turns it on everywhere)
    verifies the first call's derivative against differences of f (selfcheck.py)."""
    if not isinstance(order, (int, np.integer)) or order < 1:
        raise S2SDiffError(f"order must be a positive integer, got {order!r}")
    check = selfcheck.enabled(check)
    inner = f if order == 1 else derivative(f, order - 1, jit=jit)

    def build(kinds):
        w = _Wrapper("derivative", inner, "forward", jit, kinds)
        verify = selfcheck.for_derivative(f, order, jit) if check else None
        return w.finish(_packed(_forward_columns(w, inner, (0,), as_array=False)[1], False), (0,), verify)
    return _cached("derivative", inner, (jit, check), build)


def grad(f, wrt=0, mode="reverse", *, jit=True, parallel=False, check=None):
    """Gradient of a scalar-valued f in the argument(s) `wrt`.  `parallel=True` compiles
    with numba's parallel=True: array expressions run on all threads, and so do the
    adjoint loops whose iterations are independent (cut into chunks, see parallel.py)."""
    return _gradient("grad", f, wrt, mode, jit, parallel, check)


def value_and_grad(f, wrt=0, mode="reverse", *, jit=True, parallel=False, check=None):
    """`(f(*args), grad)` in one pass."""
    return _gradient("value_and_grad", f, wrt, mode, jit, parallel, check)


def _gradient(kind, f, wrt, mode, jit, parallel=False, check=None):
    indices, many = resolve_wrt(f, wrt)
    _check_mode(mode)
    function = normalize(python_function(f))
    if function.tuple_result:
        raise S2SDiffError(f"{kind} needs a scalar-valued function, but {function.name} returns a tuple of "
                           f"{function.n_outputs}; use sd.jacobian")
    with_value = kind == "value_and_grad"

    if parallel and mode != "reverse":
        raise S2SDiffError("parallel=True is for reverse mode")
    check = selfcheck.enabled(check)

    def build(kinds):
        w = _Wrapper(kind, f, mode, jit, kinds)
        if _returns_certain_array(w.function, kinds):
            raise S2SDiffError(f"{kind} needs a scalar-valued function, but {function.name} returns an array; "
                               "use sd.jacobian")
        # a value that may be an array is checked, never silently summed (as JAX does)
        checked = not _returns_number(w.function, kinds)
        if mode == "forward":
            values, results = _forward_columns(w, f, indices, as_array=False)
        else:
            values, results = _reverse_rows(w, f, indices, with_value or checked, parallel=parallel)
        if checked:
            w.lines.append(f"scalar_output({values[0]})")
        gradient = _packed(results, many)
        verify = selfcheck.for_gradient(f, indices, many, mode, with_value, jit) if check else None
        return w.finish(f"{values[0]}, ({gradient})" if with_value and many
                        else f"{values[0]}, {gradient}" if with_value else gradient, indices, verify)
    return _cached(kind, f, (indices, many, mode, jit, parallel, check), build)


def jacobian(f, wrt=0, mode="forward", *, jit=True, check=None):
    """Jacobian with shape out.shape + in.shape (a tuple result counts as 1-D)."""
    indices, many = resolve_wrt(f, wrt)
    _check_mode(mode)
    check = selfcheck.enabled(check)

    def build(kinds):
        w = _Wrapper("jacobian", f, mode, jit, kinds)
        if mode == "forward":
            results = _forward_columns(w, f, indices, as_array=True)[1]
        else:
            results = _reverse_columns(w, f, indices)
        verify = selfcheck.for_jacobian(f, indices, many, mode, jit) if check else None
        return w.finish(_packed(results, many), indices, verify)
    return _cached("jacobian", f, (indices, many, mode, jit, check), build)


def hessian(f, wrt=0, *, jit=True, check=None):
    """Second derivatives of a scalar-valued f, forward mode over the reverse-mode gradient:
    shape in.shape + in.shape for one `wrt`; for a tuple `wrt`, a tuple of tuples with
    H[i][j] = d²f / d(wrt i) d(wrt j)."""
    indices, many = resolve_wrt(f, wrt)
    gradient = grad(f, wrt=wrt, jit=jit)
    check = selfcheck.enabled(check)

    def build(kinds):
        inner = gradient.variant(kinds) if kinds else gradient      # its zeros take the arrays' shapes
        w = _Wrapper("hessian", inner, "forward over reverse", jit, kinds, of=python_function(f).__name__)
        columns = [_partials(w, inner, j)[1] for j in indices]      # columns[j][i] = d g_i / d x_j
        verify = selfcheck.for_hessian(f, indices, many, jit) if check else None
        if not many:
            return w.finish(columns[0][0], indices, verify)
        rows = [f"({', '.join(column[i] for column in columns)},)" for i in range(len(indices))]
        return w.finish(f"({', '.join(rows)},)", indices, verify)
    return _cached("hessian", f, (indices, many, jit, check), build)


def _all_arguments(f, args, what, arrays):
    """sd.jvp's and sd.vjp's arguments as the generated code takes them: integers stay
    integers (never differentiated: loop bounds, indices), the rest as differentiated."""
    params = _params(f)
    if len(args) != len(params):
        raise S2SDiffError(f"{what}: {python_function(f).__name__} takes {len(params)} argument(s), got {len(args)}")
    name = python_function(f).__name__
    return tuple(v if _is_integer(v) else _differentiated_argument(name, p, v, arrays) for p, v in zip(params, args))


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))





def jvp(f, primals, tangents, *, jit=True, check=None):
    """(f(*primals), J·tangents): the directional derivative of f along `tangents`."""
    primals = _all_arguments(f, tuple(primals), "jvp primals", arrays=True)
    tangents = _all_arguments(f, tuple(tangents), "jvp tangents", arrays=True)
    unit = derived_unit("jvp", f, tuple(range(len(primals))), jit, kinds=_kinds(_params(f), primals))
    params = _params(f)
    for p, primal, tangent in zip(params, primals, tangents):
        if np.shape(primal) != np.shape(tangent):
            raise ValueError(f"jvp: the tangent of '{p}' has shape {np.shape(tangent)}, its primal {np.shape(primal)}")
        if _is_integer(primal) and tangent != 0:
            raise ValueError(f"jvp: '{p}' is an integer, never differentiated: its tangent must be 0, got {tangent!r}")
    tangents = tuple(0.0 if _is_integer(primal) else t for primal, t in zip(primals, tangents))
    out = _run(unit.function.name, unit.compiled, params + [f"d{p}" for p in params], primals + tangents, jit)
    if normalize(python_function(f)).tuple_result:
        m = unit.function.n_outputs // 2
        out = tuple(out[:m]), tuple(out[m:])
    if selfcheck.enabled(check):
        selfcheck.check_jvp(f"jvp({python_function(f).__name__})", f, primals, tangents, out[1], jit)
    return out[0], out[1]


def vjp(f, *primals, jit=True, check=None):
    """`(f(*primals), vjp_fn)`; `vjp_fn(cotangent)` returns one cotangent per argument."""
    primals = _all_arguments(f, primals, "vjp", arrays=True)
    function = normalize(python_function(f))
    unit = derived_unit("vjp", f, tuple(range(len(primals))), jit, kinds=_kinds(_params(f), primals))
    params = _params(f)
    try:
        value = _run(function.name, compiler.primal(f, jit), params, primals, jit)
    except TypeError:           # numba lacks a form the code uses (np.dot of a number): the Python run's value
        value = _run(function.name, python_function(f), params, primals, False)
    checks = [True] if selfcheck.enabled(check) else []     # the first call of vjp_fn is checked
    m = function.n_outputs
    values = value if function.tuple_result else (value,)

    def vjp_fn(cotangent):
        if function.tuple_result and not isinstance(cotangent, (tuple, list)):
            raise S2SDiffError(f"vjp_fn: {function.name} has {m} outputs: give a tuple of {m} cotangents")
        seeds = tuple(cotangent) if function.tuple_result else (cotangent,)
        if len(seeds) != m:
            raise S2SDiffError(f"vjp_fn: {function.name} has {m} output(s), got {len(seeds)} cotangent(s)")
        for k, (seed, out) in enumerate(zip(seeds, values)):
            if np.shape(seed) != np.shape(out):
                raise ValueError(f"vjp_fn: cotangent {k} has shape {np.shape(seed)}, the output {np.shape(out)}")
        seeds = tuple(np.asarray(c, dtype=np.float64) if np.ndim(c) else float(c) for c in seeds)
        seed_names = [f"b{function.name}{k + 1 if m > 1 else ''}" for k in range(m)]
        out = _run(unit.function.name, unit.compiled, params + seed_names, primals + seeds, jit)
        if checks:
            checks.clear()
            selfcheck.check_vjp(f"vjp({function.name})", f, primals, cotangent, tuple(out[m:]), jit)
        return tuple(out[m:])
    return value, vjp_fn


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
    def value_and_grad(self):
        return value_and_grad(self.py_func, jit=self.jit)

    @cached_property
    def jacobian(self):
        return jacobian(self.py_func, jit=self.jit)

    @cached_property
    def hessian(self):
        return hessian(self.py_func, jit=self.jit)

    def __repr__(self):
        return f"<s2sdiff.differentiable {self.__name__}>"


@typeof_impl.register(Differentiable)
def _typeof_differentiable(value, context):
    return numba.typeof(value.primal)


def differentiable(f=None, *, jit=True):
    if f is None:
        return lambda g: Differentiable(g, jit)
    return Differentiable(f, jit)
