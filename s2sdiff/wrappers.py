"""Stage 7 — wrappers: the small generated functions a transform returns.

Every public transform (api.py) is a generated wrapper (`f_grad`, `f_jacobian`, …) around
the tangent functions (`f_jvp…`, forward mode) or the adjoint function (`f_vjp…`, reverse
mode) of the pipeline: it seeds them, sweeps them over blocks of directions or rows of a
Jacobian, and packs their results.  The wrappers are generated Python too, so each result
is one njit-callable unit with readable `.source`, called through `Transformed`, which
picks the code for the kinds of the arguments it is given.
"""
from __future__ import annotations

import inspect
import numbers
import re
import time

import numba
import numpy as np
from numba.core.errors import TypingError
from numba.extending import typeof_impl

from . import compile as compiler
from . import ir, shipping
from .analyze import array_parameters, certain_arrays, kinds_arrays, kinds_numbers, number_names, specialized
from .errors import MemoryBudgetExceeded, S2SDiffError, UnsupportedError
from .names import Namer
from .normalize import normalize
from .parse import python_function
from .pipeline import LOCK, derived_unit
from .runtime import HELD, TAPED, HELPERS, TAPE_METER, ShapesNotSupported
from .structures import takes_structures
from .transform.batched import NotBatched


class Transformed:
    """A compiled transform: call it like the function, read `.source`, call it from njit code."""

    def __init__(self, name, source, py_func, compiled, differentiated, jit=True, arrays=False, kinds=frozenset(),
                 verify=None, python_entry=False, output=None, shaped=None):
        self.__name__ = name
        # A wrapper without loops runs as Python between compiled units: numba compiles it only
        # for numba callers (typeof below), which saves a whole module's compile on the first call.
        self._entry = py_func if python_entry else compiled
        self._verify = verify           # check=True: verify(name, args, result) on the first call (selfcheck.py)
        self.output = output            # the structure of the function's result (a dict, …), or None
        self._shaped = shaped           # the generated code's flat result -> the result in that structure
        self.jit = jit
        self._arrays = arrays
        self._kinds = kinds
        self.source = source
        self.py_func = py_func
        self.dispatcher = compiled
        self._signature = inspect.signature(py_func)
        self._params = list(self._signature.parameters)
        self._differentiated_positions = [i for i, p in enumerate(self._params) if p in set(differentiated)]
        ranks = dict(kinds)
        self._ranks = tuple(ranks.get(p) for p in self._params) if kinds else None
        self._variants = {}             # the ranks of a call's arguments -> the transform for them

    output = _shaped = None     # (for an _Unbuilt, which sets neither)
    variant = None      # kinds (analyze.ARRAY) -> the transform generated for arguments of those kinds
    restructured = None     # values -> the result, for arguments with structures (structures.caller)
    checkpointed = None     # () -> this transform made with the default memory budget (made without memory=)
    race = None             # parallel=True: a Race against the serial code; False where they are one code
    tape_bytes = None       # bytes the last call taped: reverse mode's tapes and snapshots
    recipe = None           # how a public transform made it (shipping.py): what pickles

    def __reduce__(self):
        if self.recipe is None:
            raise shipping.unpicklable(self.__name__)
        return self.recipe.__reduce__()

    def __call__(self, *args, **kwargs):
        if self.race:
            return self.race.run(self, args, kwargs)
        return self._metered(args, kwargs)

    def _metered(self, args, kwargs):
        def again():
            retry = self.checkpointed()
            return retry(*args, **kwargs), retry.tape_bytes
        result, self.tape_bytes = metered(lambda: self._dispatch(args, kwargs),
                                          again if self.checkpointed is not None else None)
        return result

    def _dispatch(self, args, kwargs):
        values = self._values(args, kwargs)
        if self.restructured is not None:
            result = self.restructured(values)          # None: no structure in the call
            if result is not None:
                return result
        ranks = tuple(map(_rank, values))
        if ranks == self._ranks or self.variant is None:
            return self._call(values)
        if ranks not in self._variants:                             # code for numbers and arrays of these ranks
            self._variants[ranks] = self._variant(call_kinds(self._params, values))
        return self._variants[ranks]._call(values)

    def _values(self, args, kwargs) -> list:
        if kwargs or len(args) != len(self._params):
            try:
                bound = self._signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{self.__name__}(): {exc}") from None
            bound.apply_defaults()
            args = tuple(bound.arguments.values())
        return list(args)

    def _call(self, values):
        values, single = self._as_called(values)
        result = run(self.__name__, self._entry, self._params, values, self.jit)
        shaped = self._shaped or (lambda flat: flat)
        if self._verify is not None:
            verify, self._verify = self._verify, None
            verify(self.__name__, tuple(values), shaped(result))
        return shaped(_as_float32(result) if single else result)

    def _as_called(self, values) -> tuple:
        """(the arguments as the compiled code takes them, whether the differentiated arrays
        are all float32, whose derivatives go back in float32)."""
        single = [values[i] for i in self._differentiated_positions if isinstance(values[i], np.ndarray)]
        single = bool(single) and all(v.dtype == np.float32 for v in single)
        for i in self._differentiated_positions:
            value = values[i]
            if not (type(value) is np.ndarray and value.dtype == np.float64 and value.flags.c_contiguous
                    and value.ndim in (1, 2) and self._arrays or type(value) is float and self.jit):
                value = differentiated_argument(self.__name__, self._params[i], value, self._arrays)
                if not self.jit and not isinstance(value, np.ndarray):
                    value = np.float64(value)   # NumPy scalars divide by zero like compiled code does
            values[i] = value
        return values, single

    def specialized(self, *args, **kwargs):
        """The transform a call with these arguments runs, generated for their kinds (number,
        or array and its rank): its `.source` is the code that runs."""
        kinds = call_kinds(self._params, self._values(args, kwargs))
        return self if kinds == self._kinds or self.variant is None else self._variant(kinds)

    def _variant(self, kinds) -> "Transformed":
        variant = self.variant(kinds)
        if variant.recipe is None and self.recipe is not None:
            variant.recipe = shipping.Recipe(shipping.VARIANT, self, (kinds,), ())
        return variant

    def __repr__(self):
        return f"<s2sdiff {self.__name__}{self._signature}>"


class Race:
    """parallel=True: whichever of the threaded code and the serial code the first calls of
    about this size measured faster.  A cost model (parallel.py) keeps threads off where
    they plainly do not pay; what is left depends on the machine and the sizes."""

    def __init__(self, make_serial):
        self.make_serial = make_serial      # () -> the transform made with parallel=False
        self.serial = None
        self.trials = {}                    # size class -> _Trial

    def run(self, threaded, args, kwargs):
        if self.serial is None:
            self.serial = self.make_serial()
            if self.serial.source == threaded.source:       # nothing went on threads: nothing to choose
                threaded.race = False
                return threaded._metered(args, kwargs)
        trial = self.trials.setdefault(_size_class(args, kwargs), _Trial())
        on_threads = trial.threaded()
        began = time.perf_counter()
        result = threaded._metered(args, kwargs) if on_threads else self.serial(*args, **kwargs)
        trial.took(on_threads, time.perf_counter() - began)
        if not on_threads:
            threaded.tape_bytes = self.serial.tape_bytes
        return result


class _Trial:
    """Calls alternating between the threaded and the serial code (the first of each compiles,
    untimed; then two timed of each), the faster used from then on."""
    _TIMED = 2

    def __init__(self):
        self.times = {True: [], False: []}
        self.choice = None

    def threaded(self) -> bool:
        if self.choice is not None:
            return self.choice
        return len(self.times[True]) <= len(self.times[False])

    def took(self, threaded, seconds):
        if self.choice is not None:
            return
        self.times[threaded].append(seconds)
        timed = [t[1:] for t in (self.times[True], self.times[False])]
        if all(len(t) == self._TIMED for t in timed):
            self.choice = min(timed[0]) < min(timed[1])


def _size_class(args, kwargs) -> int:
    """Calls whose arrays hold about as many elements (within a factor of two) time alike."""
    values = list(args) + list(kwargs.values())
    return sum(v.size for v in values if isinstance(v, np.ndarray)).bit_length()


def _as_float32(result):
    """Derivatives of float32 arrays are computed in float64 and handed back in float32, as
    NumPy would compute the function itself."""
    if isinstance(result, tuple):
        return tuple(_as_float32(r) for r in result)
    if isinstance(result, (np.ndarray, float, np.floating)):
        return np.float32(result) if np.ndim(result) == 0 else result.astype(np.float32)
    return result


@typeof_impl.register(Transformed)
def _typeof_transformed(value, context):
    # Inside njit code a transform is just its dispatcher.
    return numba.typeof(value.dispatcher)


def metered(call, again=None):
    """(call(), the bytes it taped), counted by the tape meter (runtime.py).  Where whole
    tapes would pass the default budget, again() instead: (the call through code made with
    that budget, whose loops checkpoint, and its bytes); `again` None: the error."""
    taped, held = TAPE_METER[TAPED], TAPE_METER[HELD]
    try:
        return call(), TAPE_METER[TAPED] - taped
    except MemoryBudgetExceeded:
        if again is None:
            raise
    finally:
        TAPE_METER[HELD] = held         # an adjoint an error stopped holds no tapes either
    return again()


def run(name, compiled, params, values, jit):
    """Call generated code; errors from inside it name the arguments, with their types or shapes."""
    try:
        if not jit:
            with np.errstate(all="ignore"):
                return compiled(*values)
        return compiled(*values)
    except TypingError as exc:
        described = ", ".join(f"{n}: {numba.typeof(v)}" for n, v in zip(params, values))
        raise TypeError(f"{name}() cannot run on arguments ({described}): {_numba_reason(exc)}") from None
    except (np.linalg.LinAlgError, ShapesNotSupported):      # (the latter names the user's line)
        raise
    except (UnsupportedError, MemoryBudgetExceeded) as exc:    # a refusal only the values show (expect_ndim)
        exc.args = (f"{name}(): {exc}",)
        raise exc.with_traceback(None) from None
    except S2SDiffError as exc:          # a check of the generated code's (runtime.scalar_output)
        raise S2SDiffError(f"{name}(): {exc}") from None
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


def differentiated_argument(function_name, name, value, arrays_allowed):
    """A differentiated argument as compiled code takes it: a float, or a float64 array."""
    if isinstance(value, np.ndarray):
        if not arrays_allowed:
            raise TypeError(f"{function_name}(): argument '{name}' is an array; sd.derivative is for functions "
                            "of one real variable, use sd.jacobian or sd.grad")
        if not np.issubdtype(value.dtype, np.floating):
            raise TypeError(f"{function_name}(): argument '{name}' is differentiated but is a {value.dtype} "
                            "array; integer arrays are never differentiated — pass a float array")
        if value.ndim == 0:
            raise TypeError(f"{function_name}(): argument '{name}' is a 0-d array; pass a number (float(...))")
        return np.ascontiguousarray(value, dtype=np.float64)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{function_name}(): argument '{name}' is differentiated and must be a real number"
                        f"{' or a float array' if arrays_allowed else ''}, got {type(value).__name__}")
    return float(value)



def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


transforms: dict = {}


def cached(kind, f, options, build, kinds=frozenset()):
    """The transform built by `build(kinds)`, once per (function, options, kinds of arguments).

    The transform a user gets (`kinds` empty: what the code suggests) is what numba code
    calls; a call from Python gets (and caches) the variant for its arguments' kinds —
    number or array, and the array's rank — so no guess of the analysis reaches it."""
    py_func = python_function(f)
    key = (kind, py_func, py_func.__code__, options, kinds)
    with LOCK:
        if key not in transforms:
            try:
                transformed = build(kinds)
            except UnsupportedError as error:
                # A transform of a transform reads the code numba callers of the inner one get,
                # written for no particular kinds; the code a call gets may well be readable.
                # So may a function's whose parameters a call shows to be structures.
                if kinds or not (isinstance(f, Transformed) or takes_structures(f)):
                    raise
                transformed = _Unbuilt(f"{py_func.__name__}_{kind}", py_func, error)
            transformed.variant = lambda called: cached(kind, f, options, build, called)
            transforms[key] = transformed
        return transforms[key]


class _Unbuilt(Transformed):
    """A transform of a transform whose code for no particular kinds s2sdiff cannot write:
    calls get the code for their arguments' kinds; anything else raises the refusal."""

    def __init__(self, name, like, error):
        self.__name__, self._error = name, error
        self._signature = inspect.signature(like)
        self._params = list(self._signature.parameters)
        self._ranks, self._variants, self._verify = None, {}, None

    def _call(self, values):
        raise self._error

    def __getattr__(self, name):            # .source, .py_func, .dispatcher
        if name in ("source", "py_func", "dispatcher"):
            raise self._error
        raise AttributeError(name)


def for_kinds(f, kinds):
    """`f`, or where f is itself a transform (a composition), its variant for arguments of
    these kinds: the code the outer transform reads is the code that would run."""
    return f.variant(kinds) if kinds and isinstance(f, Transformed) and f.variant is not None else f


def call_kinds(params, values) -> frozenset:
    """The kinds (analyze.ARRAY) of a call's arguments: numbers, and arrays with their ranks."""
    return frozenset((p, rank) for p, rank in zip(params, map(_rank, values)) if rank is not None)


def _rank(value):
    """An array's number of dimensions, 0 for a number, None for anything else."""
    if isinstance(value, np.ndarray):
        return value.ndim
    return 0 if type(value) is float or type(value) is int or is_number(value) else None



# ---- wrapper generation ---------------------------------------------------------------

class Wrapper:
    """Writes the small generated function a transform returns (`f_grad`, `f_jacobian`, …):
    it calls compiled units and packs their results, and is compiled like them."""

    def __init__(self, kind, f, mode, jit, kinds=frozenset(), of=None, memory=None):
        self.kind, self.mode, self.jit, self.kinds, self.memory = kind, mode, jit, kinds, memory
        self.function = specialized(normalize(python_function(f)), frozenset(kinds))
        self.of = of or self.function.name            # the user's function, named in the wrapper
        self.namer = Namer(set(self.function.params) | {"np", "math"} | set(HELPERS))
        self.units, self.lines, self.namespace = [], [], {}

    def use(self, unit) -> str:
        if unit not in self.units:
            self.units.append(unit)
            self.namer.taken.add(unit.function.name)
        return unit.function.name

    def finish(self, returned: str, differentiated, verify=None, shaped=None) -> "Transformed":
        """The wrapper returning `returned`; `shaped` takes its result into the structure of
        the function's (a result a structure: numba code gets the flat result)."""
        fn = self.function
        name = self.namer.fresh(f"{self.of}_{self.kind}")
        params = ", ".join(_with_default(p, fn.defaults) for p in fn.params)
        source = "\n".join([f"# {self.kind} of {self.of} — {self.mode} mode, generated by s2sdiff",
                            f"def {name}({params}):"]
                           + ["    " + line for line in self.lines + [f"return {returned}"]]) + "\n"
        straight = not any(line.startswith(("for ", "while ")) for line in self.lines)
        # a wrapper that runs compiled (it loops) has a unit it calls once compiled inside it
        namespace = {unit.function.name: unit.inlined if not straight and _calls(self.lines, unit) == 1
                     else unit.compiled for unit in self.units}
        namespace.update(self.namespace, np=np, **HELPERS)
        py, compiled = compiler.function(source, namespace, name, self.jit, origin=self.function.origin)
        return Transformed(name, _joined_sources(self.units) + "\n\n\n" + source, py, compiled,
                           [fn.params[i] for i in differentiated], self.jit, arrays=self.kind != "derivative",
                           kinds=self.kinds, verify=verify, python_entry=straight, output=fn.output, shaped=shaped)

    def numbers(self) -> set:
        """Parameters the generated code takes as numbers."""
        return set(self.function.params) - array_parameters(self.function) - kinds_arrays(self.kinds) \
            | kinds_numbers(self.kinds)

    def unit(self, kind, f, active, parallel=False):
        return derived_unit(kind, f, active, self.jit, kinds=self.kinds, parallel=parallel,
                            memory=self.memory if kind.startswith("vjp") else None)


def _calls(lines, unit) -> int:
    call = re.compile(rf"\b{re.escape(unit.function.name)}\(")
    return sum(len(call.findall(line)) for line in lines)


def packed(results, many) -> str:
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


def forward_columns(w: Wrapper, f, indices, as_array) -> tuple:
    """d(outputs)/d(param) for each index, a tuple result's partials packed into an array
    (`as_array`) or a tuple."""
    fn = w.function
    arrays = set(fn.params) - w.numbers()
    results, first_values = [], None
    for index in indices:
        values, columns = partials(w, f, index)
        first_values = first_values or values
        if not fn.tuple_result:
            results.append(columns[0])
            continue
        together = f"({', '.join(columns)},)"
        if not as_array:                    # returned as it is: a tuple is no value to name
            results.append(together)
            continue
        result = w.namer.fresh("d_d" + fn.params[index])
        pack = "np.stack" if fn.params[index] in arrays else "np.array"
        w.lines.append(f"{result} = {pack}({together})")
        results.append(result)
    return first_values, results


def partials(w: Wrapper, f, index) -> tuple:
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
    w.lines.append(f"{', '.join(values + tangents)} = {jvp}({', '.join(fn.params + [_seed(w, 1.0)])})")
    return values, tangents


def _jacobian_names(w: Wrapper, param) -> tuple:
    """Names for the (outputs × inputs) matrices of each output's partials in `param`, and
    for those partials shaped output.shape + param.shape."""
    fn = w.function
    outputs = range(fn.n_outputs)
    jacs = [w.namer.fresh(f"J{j + 1 if fn.tuple_result else ''}_{param}") for j in outputs]
    partials = [w.namer.fresh(f"dz{j + 1}_d{param}" if fn.tuple_result else f"d{fn.name}_d{param}") for j in outputs]
    return jacs, partials


# Directions per batched sweep for n inputs: 64, enough for the loops over them to
# vectorize, and fewer where a tangent (n × the width) would pass 2**22 numbers.
BLOCK_WIDTH = f"64 if {{n}} <= 65536 else ({2 ** 22} // {{n}} if {{n}} <= {2 ** 22} else 1)"


def _block_sweeps(w: Wrapper, param, jvp, values, tangents) -> tuple:
    """The partials in blocks of columns (BLOCK_WIDTH), each block one batched tangent
    sweep.  One call site of the sweep, so that numba compiles it inside the wrapper; the
    first block (there is one even for an empty parameter) sizes J."""
    fn = w.function
    n, width, start, stop = (w.namer.fresh(name) for name in (f"n_{param}", "width", "start", "stop"))
    jacs, partials = _jacobian_names(w, param)
    size = f"{param}.size" if param in kinds_arrays(w.kinds) else f"size_of({param})"
    w.lines += [f"{n} = {size}", f"{width} = {BLOCK_WIDTH.format(n=n)}"]
    w.lines += [f"{jac} = np.empty((0, {n}))" for jac in jacs]
    # (min() and max() of numbers cost numba a tenth of a second to compile: conditionals)
    w.lines += [f"for {start} in range(0, {n} if {n} > 0 else 1, {width}):",
                f"    {stop} = {start} + {width} if {start} + {width} < {n} else {n}",
                f"    {', '.join(values + tangents)} = {jvp}({', '.join(fn.params + [f'seed_block({param}, {start}, {stop})'])})",
                f"    if {start} == 0:"]
    w.lines += [f"        {jac} = np.empty((size_of({z}), {n}))" for jac, z in zip(jacs, values)]
    w.lines += [f"    store_columns({jac}, {start}, {t})" for jac, t in zip(jacs, tangents)]
    w.lines += [f"{d} = shaped_partial({jac}, {z}, {param})" for d, jac, z in zip(partials, jacs, values)]
    return values, partials


def _column_sweeps(w: Wrapper, param, jvp, values, tangents) -> tuple:
    """The partials one column at a time, a unit seed per element of the parameter, from
    one call site of the sweep (compiled inside the wrapper); an empty parameter still
    runs one sweep with a zero seed, for the outputs' shapes."""
    fn = w.function
    n, seed, tangent, k = (w.namer.fresh(name) for name in (f"n_{param}", f"seed_{param}", f"d{param}", "k"))
    jacs, partials = _jacobian_names(w, param)
    # size_of, seed_view and shaped_partial: a number passed for a parameter the code may use
    # as an array (`np.sum(x * a)`) is one column
    w.lines += [f"{n} = size_of({param})",
                f"{seed} = np.zeros({n})",
                f"{tangent} = seed_view({seed}, {param})"]
    w.lines += [f"{jac} = np.empty((0, {n}))" for jac in jacs]
    w.lines += [f"for {k} in range({n} if {n} > 0 else 1):",
                f"    if {k} < {n}:",
                f"        {seed}[{k}] = 1.0",
                f"    {', '.join(values + tangents)} = {jvp}({', '.join(fn.params + [tangent])})",
                f"    if {k} == 0:"]
    w.lines += [f"        {jac} = np.empty((size_of({t}), {n}))" for jac, t in zip(jacs, tangents)]
    w.lines += [f"    if {k} < {n}:"]
    w.lines += [f"        store_column({jac}, {k}, {t})" for jac, t in zip(jacs, tangents)]
    w.lines += [f"        {seed}[{k}] = 0.0      # after the stores: a tangent may be the seed itself"]
    w.lines += [f"{d} = shaped_partial({jac}, {t}, {param})" for d, jac, t in zip(partials, jacs, tangents)]
    return values, partials


def _seed(w: Wrapper, value: float) -> str:
    """A number seeding a sweep: without numba a NumPy scalar, as the arguments are, so that
    derivative code dividing it by a number gives inf or nan, as compiled code does, where
    Python's floats raise ZeroDivisionError."""
    return repr(value) if w.jit else f"np.float64({value!r})"


def reverse_rows(w: Wrapper, f, indices, with_value, seeds=None, parallel=False):
    """One adjoint sweep: (value names, adjoint names) for the parameters `indices`."""
    fn = w.function
    vjp = w.use(w.unit("vjp" if with_value else "vjp_grad", f, tuple(indices), parallel))
    values = ([w.namer.fresh("value")] if not fn.tuple_result
              else [w.namer.fresh(f"value{k + 1}") for k in range(fn.n_outputs)]) if with_value else []
    adjoints = [w.namer.fresh(f"d{fn.name}_d{fn.params[i]}") for i in indices]
    seeds = seeds or [_seed(w, 1.0)]
    w.lines.append(f"{', '.join(values + adjoints)} = {vjp}({', '.join(fn.params + list(seeds))})")
    return values, adjoints


def reverse_columns(w: Wrapper, f, indices, as_array=True) -> list:
    """Jacobian columns in reverse mode, one per parameter in `indices`: adjoint sweeps,
    one per output (per output element where it may be an array), then a tuple result's
    partials packed into an array (`as_array`) or a tuple."""
    fn = w.function
    if _returns_array(fn, w.kinds):
        return _element_rows(w, f, indices)[0]
    if not fn.tuple_result:
        return reverse_rows(w, f, indices, with_value=False)[1]
    returned = next(s for s in ir.walk(fn.body) if isinstance(s, ir.Return)).values
    numbers = number_names(fn, w.kinds)
    if all(isinstance(v, ir.Const) or v.id in numbers for v in returned):
        rows = []
        for k in range(fn.n_outputs):
            seeds = [_seed(w, 1.0 if j == k else 0.0) for j in range(fn.n_outputs)]
            rows.append(reverse_rows(w, f, indices, with_value=False, seeds=seeds)[1])
    else:          # a seed of 1.0 for an array output would sum its rows: a sweep per element
        rows = _element_rows(w, f, indices)
    columns, arrays = [], set(fn.params) - w.numbers()
    for j, index in enumerate(indices):
        together = f"({', '.join(row[j] for row in rows)},)"
        if not as_array:
            columns.append(together)
            continue
        column = w.namer.fresh("d_d" + fn.params[index])
        stack = "np.stack" if fn.params[index] in arrays else "np.array"
        w.lines.append(f"{column} = {stack}({together})")
        columns.append(column)
    return columns


def _element_rows(w: Wrapper, f, indices) -> list:
    """rows[k][j]: the partials of output k in parameter indices[j], shape
    output.shape + param.shape: one adjoint sweep per element of each output, seeded with a
    unit cotangent viewed in the output's shape (or its one number: a value that may be an
    array may turn out a number), the other outputs' cotangents zero."""
    fn = w.function
    params = [fn.params[i] for i in indices]
    vjp = w.use(w.unit("vjp_grad", f, tuple(indices)))
    primal = w.use(w.unit("primal", f, ()))        # as lowered: numba lacks np.sum(keepdims=True), …
    values = [w.namer.fresh(f"value{k + 1}" if fn.tuple_result else "value") for k in range(fn.n_outputs)]
    zeros = [w.namer.fresh(f"zero{k + 1}") for k in range(fn.n_outputs)] if fn.tuple_result else []
    # the primal on copies: an update of an argument in place must not reach the adjoint sweeps
    w.lines.append(f"{', '.join(values)} = {primal}({', '.join(f'owned({p})' for p in fn.params)})")
    w.lines += [f"{zero} = zero_like({value})" for zero, value in zip(zeros, values)]
    rows = []
    for k, value in enumerate(values):
        seed, cotangent, e = (w.namer.fresh(n) for n in ("seed", "cotangent", "e"))
        jacs = [w.namer.fresh(f"J{k + 1 if fn.tuple_result else ''}_{p}") for p in params]
        adjoints = [w.namer.fresh(f"b{p}") for p in params]
        seeds = [cotangent if j == k else zero for j, zero in enumerate(zeros)] or [cotangent]
        w.lines.append(f"{seed} = np.zeros(size_of({value}))")
        w.lines += [f"{jac} = np.empty((size_of({value}), size_of({p})))" for jac, p in zip(jacs, params)]
        w.lines += [f"for {e} in range(size_of({value})):",
                    f"    {seed}[{e}] = 1.0",
                    f"    {cotangent} = seed_view({seed}, {value})",
                    f"    {', '.join(adjoints)} = {vjp}({', '.join(fn.params + seeds)})"]
        w.lines += [f"    store_row({jac}, {e}, {b})" for jac, b in zip(jacs, adjoints)]
        w.lines += [f"    {seed}[{e}] = 0.0      # after the stores: an adjoint may be a view of the seed"]
        rows.append([w.namer.fresh(f"d{k + 1 if fn.tuple_result else ''}_d{p}") for p in params])
        w.lines += [f"{d} = shaped_partial({jac}, {value}, {p})" for d, jac, p in zip(rows[-1], jacs, params)]
    return rows


def returns_certain_array(fn, kinds) -> bool:
    (value,) = next(s for s in ir.walk(fn.body) if isinstance(s, ir.Return)).values[:1]
    return not fn.tuple_result and isinstance(value, ir.Name) and value.id in certain_arrays(fn, kinds_arrays(kinds))


def returns_number(fn, kinds, guess) -> bool:
    """Whether f returns one value that is a number (`guess`: taking `x[i]` for one where
    x's rank is not known)."""
    (value,) = next(s for s in ir.walk(fn.body) if isinstance(s, ir.Return)).values[:1]
    return isinstance(value, ir.Const) or value.id in number_names(fn, kinds, guess=guess)


def _returns_array(fn, kinds) -> bool:
    """Whether f returns one value that is not a number (by the evidence of its code)."""
    if fn.tuple_result:
        return False
    (value,) = next(s for s in ir.walk(fn.body) if isinstance(s, ir.Return)).values
    return isinstance(value, ir.Name) and value.id not in number_names(fn, kinds)

