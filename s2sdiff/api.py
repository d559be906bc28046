"""The public transforms (DESIGN §1), built on the two core ones: the tangent function
(forward mode) and the adjoint function (reverse mode) of the pipeline, wrapped by
wrappers.py into the function each transform returns."""
from __future__ import annotations

import functools
import inspect
from functools import cached_property

import numba
import numpy as np
from numba.extending import typeof_impl

from . import compile as compiler
from . import per_example, selfcheck, shipping, structures, wrappers
from .errors import S2SDiffError, UnsupportedError
from .normalize import normalize
from .parse import python_function
from .pipeline import derived_unit
from .transform import checkpoints
from .wrappers import (Race, Wrapper, cached, call_kinds, differentiated_argument, for_kinds, forward_columns,
                       is_integer, packed, partials, returns_certain_array, returns_number, reverse_columns,
                       metered, reverse_rows, run)

MODES = ("forward", "reverse")


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



# ---- public transforms ----------------------------------------------------------------

@shipping.recorded
def derivative(f, order=1, *, jit=True, check=None, batch=None):
    """f' (forward mode) of a function of one real variable, with further arguments held fixed.

    For a tuple-valued f the result is the tuple of the components' derivatives; for a
    structure (a dict, list, NamedTuple or dataclass), that structure of them.
    `check=True` (every transform takes it; $S2SDIFF_CHECK=1 turns it on everywhere)
    verifies the first call's derivative against differences of f (selfcheck.py)."""
    if not isinstance(order, (int, np.integer)) or order < 1:
        raise S2SDiffError(f"order must be a positive integer, got {order!r}")
    check = selfcheck.enabled(check)
    inner = f if order == 1 else derivative(f, order - 1, jit=jit)

    def build(kinds):
        g = for_kinds(inner, kinds)
        w = Wrapper("derivative", g, "forward", jit, kinds)
        verify = selfcheck.for_derivative(f, order, jit) if check else None
        output = normalize(python_function(f)).output     # (an inner derivative's code returns the leaves)
        shaped = None if output is None else lambda flat: structures.rebuilt(output, iter(flat))
        return w.finish(packed(forward_columns(w, g, (0,), as_array=False)[1], False), (0,), verify, shaped)
    return _per_example(cached("derivative", inner, (jit, check), build), f, batch)


@shipping.recorded
def grad(f, wrt=0, mode="reverse", *, jit=True, parallel=False, memory=None, check=None, batch=None):
    """Gradient of a scalar-valued f in the argument(s) `wrt`.  `parallel=True` runs on
    all threads what pays for them: the long adjoint loops whose iterations are independent
    (cut into chunks); plain arithmetic, NumPy array expressions and code calling BLAS stay
    serial (parallel.py).  Where some loop goes on threads, the first calls of each size
    (within a factor of two) alternate with the serial code, and the faster of the two
    serves the later calls: threads never make a gradient slower.  Numba code calling it
    gets the threaded code.
    `memory` ("256MB", or bytes; every reverse transform takes it; by default half the
    machine's memory) bounds the tapes: a loop of f's body whose tape would take more
    checkpoints its state instead (transform/checkpoints.py).  `.tape_bytes` on the result:
    the bytes its last call taped.
    `batch` (a parameter or a tuple of them; every transform takes it): per-example
    derivatives, one per row of those arguments, stacked along a new first axis, in one
    compiled loop over the examples on all cores (per_example.py)."""
    return _per_example(_gradient("grad", f, wrt, mode, jit, parallel, check, memory), f, batch)


@shipping.recorded
def value_and_grad(f, wrt=0, mode="reverse", *, jit=True, parallel=False, memory=None, check=None, batch=None):
    """`(f(*args), grad)` in one pass."""
    return _per_example(_gradient("value_and_grad", f, wrt, mode, jit, parallel, check, memory), f, batch)


def _gradient(kind, f, wrt, mode, jit, parallel=False, check=None, memory=None):
    again = functools.partial(_gradient, kind, f, wrt, mode, jit, parallel, check)
    serial = functools.partial(_gradient, kind, f, wrt, mode, jit, False, check, memory)
    memory = None if memory is None else checkpoints.budget(memory)
    wrt, paths = structures.fields(f, wrt)
    indices, many = resolve_wrt(f, wrt)
    _check_mode(mode)
    name = python_function(f).__name__
    try:
        function = normalize(python_function(f))
    except UnsupportedError:
        if not structures.takes_structures(f):
            raise
        function = None                         # read when a call shows the parameters' structures
    if function is not None and function.returns_changed:
        written = ", ".join(f"'{p}'" for p in function.changed)
        raise S2SDiffError(f"{kind} needs a scalar-valued function, but {name} returns nothing: its outputs are the "
                           f"final values of what it writes into ({written}); use sd.jacobian, sd.jvp or sd.vjp, or "
                           f"differentiate a scalar objective that calls {name}(...) on a line of its own and returns "
                           "a number made of them (np.sum(...))")
    if function is not None and function.tuple_result:
        output = function.output
        what = f"a tuple of {function.n_outputs}" if output is None else \
            f"a {output.kind}" + (f" ({output.cls.__name__})" if output.cls is not None else "")
        raise S2SDiffError(f"{kind} needs a scalar-valued function, but {name} returns {what}; use sd.jacobian"
                           + (" or sd.vjp" if function.output is not None else ""))
    with_value = kind == "value_and_grad"

    if parallel and mode != "reverse":
        raise S2SDiffError("parallel=True is for reverse mode")
    check = selfcheck.enabled(check)

    def build(kinds):
        g = for_kinds(f, kinds)
        w = Wrapper(kind, g, mode, jit, kinds, memory=memory)
        if returns_certain_array(w.function, kinds):
            raise S2SDiffError(f"{kind} needs a scalar-valued function, but {name} returns an array; "
                               "use sd.jacobian")
        # a value that may be an array is checked, never silently summed (as JAX does); the code
        # numba callers get (no kinds) takes `x[i]` for a number, which numba's typing holds it to
        checked = not returns_number(w.function, kinds, guess=not kinds)
        if mode == "forward" or _generated(g):
            values, results = forward_columns(w, g, indices, as_array=False)
        else:
            values, results = reverse_rows(w, g, indices, with_value or checked, parallel=parallel)
        if checked:
            w.lines.append(f"scalar_output({values[0]})")
        gradient = packed(results, many)
        verify = selfcheck.for_gradient(f, indices, many, mode, with_value, jit) if check else None
        return w.finish(f"{values[0]}, ({gradient})" if with_value and many
                        else f"{values[0]}, {gradient}" if with_value else gradient, indices, verify)
    transformed = _budgeted(cached(kind, f, (indices, many, mode, jit, parallel, check, tuple(paths.items()), memory),
                                   build), memory, again)
    if parallel and jit and transformed.race is None:
        transformed.race = Race(serial)     # measured against the threads on the first calls
    return _structured(transformed,
                       kind, f, indices, many, lambda flat, leaves: _gradient(kind, flat, leaves, mode, jit, parallel,
                                                                              check, memory), paths)


def _per_example(transformed, f, batch):
    """`transformed`, or with `batch=` its per-example form over the rows of those parameters."""
    if batch is None:
        return transformed
    return per_example.over_rows(transformed, resolve_wrt(f, batch)[0], transformed.__name__)


def _budgeted(transformed, memory, remake):
    """Without memory=, a call whose whole tapes would pass the default budget runs again
    through `remake(memory=default)`, whose loops checkpoint (transform/checkpoints.py)."""
    if memory is None and transformed.checkpointed is None:
        transformed.checkpointed = lambda: remake(memory=checkpoints.default_budget())
    return transformed


def _structured(transformed, kind, f, indices, many, remake, paths=None):
    """The transform, taking parameter structures too (structures.py); `paths`: the parts
    of parameters `wrt` names ("params.w")."""
    if transformed.restructured is None:
        transformed.restructured = structures.caller(kind, f, indices, many, remake, paths)
    return transformed


@shipping.recorded
def jacobian(f, wrt=0, mode="forward", *, jit=True, memory=None, check=None, batch=None):
    """Jacobian with shape out.shape + in.shape (a tuple result counts as 1-D); for a result
    that is a structure (a dict, list, NamedTuple or dataclass), that structure with each
    leaf's Jacobian in its place, as JAX gives it."""
    again = functools.partial(jacobian, f, wrt, mode, jit=jit, check=check)
    memory = None if memory is None else checkpoints.budget(memory)
    wrt, paths = structures.fields(f, wrt)
    indices, many = resolve_wrt(f, wrt)
    _check_mode(mode)
    check = selfcheck.enabled(check)

    def build(kinds):
        g = for_kinds(f, kinds)
        w = Wrapper("jacobian", g, mode, jit, kinds, memory=memory)
        output = w.function.output
        if mode == "forward" or _generated(g):
            results = forward_columns(w, g, indices, as_array=output is None)[1]
        else:
            results = reverse_columns(w, g, indices, as_array=output is None)
        verify = selfcheck.for_jacobian(f, indices, many, mode, jit, output) if check else None
        shaped = None if output is None else lambda flat: structures.jacobian_in(
            output, flat if many else (flat,), lambda partials: tuple(partials) if many else partials[0])
        return w.finish(packed(results, many), indices, verify, shaped)
    return _per_example(_structured(_budgeted(cached("jacobian", f, (indices, many, mode, jit, check,
                                                      tuple(paths.items()), memory), build), memory, again),
                                    "jacobian", f, indices, many,
                                    lambda flat, leaves: jacobian(flat, leaves, mode, jit=jit, memory=memory,
                                                                  check=check), paths), f, batch)


@shipping.recorded
def hessian(f, wrt=0, *, jit=True, memory=None, check=None, batch=None):
    """Second derivatives of a scalar-valued f, forward mode over the reverse-mode gradient:
    shape in.shape + in.shape for one `wrt`; for a tuple `wrt`, a tuple of tuples with
    H[i][j] = d²f / d(wrt i) d(wrt j)."""
    plain, paths = structures.fields(f, wrt)
    indices, many = resolve_wrt(f, plain)
    gradient = grad(f, wrt=plain, jit=jit, memory=memory)
    check = selfcheck.enabled(check)

    def build(kinds):
        inner = for_kinds(gradient, kinds)
        w = Wrapper("hessian", inner, "forward over reverse", jit, kinds, of=python_function(f).__name__)
        columns = [partials(w, inner, j)[1] for j in indices]      # columns[j][i] = d g_i / d x_j
        verify = selfcheck.for_hessian(f, indices, many, jit) if check else None
        if not many:
            return w.finish(columns[0][0], indices, verify)
        rows = [f"({', '.join(column[i] for column in columns)},)" for i in range(len(indices))]
        return w.finish(f"({', '.join(rows)},)", indices, verify)
    again = functools.partial(hessian, f, wrt, jit=jit, check=check)
    return _per_example(_structured(_budgeted(cached("hessian", f, (indices, many, jit, check, tuple(paths.items()),
                                                                 memory), build), memory, again),
                                    "hessian", f, indices, many,
                                    lambda flat, leaves: hessian(flat, leaves, jit=jit, memory=memory, check=check),
                                    paths), f, batch)


def _generated(f) -> bool:
    """Whether `f` is s2sdiff's own code (a gradient, for its gradient or Jacobian): that is
    taken in forward mode, the same numbers in as many sweeps (a gradient's Jacobian is
    square), for reverse mode cannot always prove what it needs of code it wrote (a value
    recomputed in a branch and read under the same condition) and forward mode needs none
    of it."""
    return hasattr(python_function(f), "s2sdiff_origin")


def _all_arguments(f, args, what, jit, primals=True):
    """sd.jvp's and sd.vjp's arguments as the generated code takes them: integers and, among
    primals, integer arrays stay as they are (never differentiated: loop bounds, indices,
    labels), the rest as differentiated (without numba, NumPy numbers, which divide by zero
    as compiled code does)."""
    params = _params(f)
    if len(args) != len(params):
        raise S2SDiffError(f"{what}: {python_function(f).__name__} takes {len(params)} argument(s), got {len(args)}")
    name = python_function(f).__name__
    return tuple(v if is_integer(v) or primals and _integer_array(v) else _number(differentiated_argument(name, p, v, True), jit)
                 for p, v in zip(params, args))


def _number(value, jit):
    return np.float64(value) if not jit and type(value) is float else value


def _copies(values) -> list:
    return [v.copy() if isinstance(v, np.ndarray) else v for v in values]


def _integer_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in "iub"






def jvp(f, primals, tangents, *, jit=True, check=None, batch=None):
    """(f(*primals), J·tangents): the directional derivative of f along `tangents`.
    `batch` (a parameter or a tuple of them): per example, the rows of those primals and
    of their tangents, in one compiled loop over the examples (per_example.py)."""
    if structures.is_structured(primals):
        flat_f, flat_primals, _, positions = structures.flattened(f, list(primals))
        rows = None if batch is None else tuple(p for i in resolve_wrt(f, batch)[0] for p in positions[i])
        return jvp(flat_f, flat_primals, structures.structured_tangents(primals, tangents), jit=jit, check=check,
                   batch=rows)
    primals = _all_arguments(f, tuple(primals), "jvp primals", jit)
    tangents = _all_arguments(f, tuple(tangents), "jvp tangents", jit, primals=False)
    params = _params(f)
    for p, primal, tangent in zip(params, primals, tangents):
        if np.shape(primal) != np.shape(tangent):
            raise ValueError(f"jvp: the tangent of '{p}' has shape {np.shape(tangent)}, its primal {np.shape(primal)}")
        if (is_integer(primal) or _integer_array(primal)) and np.any(tangent != 0):
            raise ValueError(f"jvp: '{p}' is an integer, never differentiated: its tangent must be 0, got {tangent!r}")
    tangents = tuple(0.0 if is_integer(primal) else np.zeros(primal.shape) if _integer_array(primal) else t
                     for primal, t in zip(primals, tangents))
    names = params + [f"d{p}" for p in params]
    function = normalize(python_function(f))
    if batch is not None:
        rows = resolve_wrt(f, batch)[0]
        if selfcheck.enabled(check):        # the first example's derivative, checked
            jvp(f, *(tuple(v[0] if i in rows else v for i, v in enumerate(part)) for part in (primals, tangents)),
                jit=jit, check=True)
        out = per_example.jvp_rows(f, names, primals + tangents, rows, jit)
    else:
        unit = derived_unit("jvp", f, tuple(range(len(primals))), jit, kinds=call_kinds(params, primals))
        out = run(unit.function.name, unit.compiled, names, primals + tangents, jit)
    if function.tuple_result:
        m = function.n_outputs
        out = tuple(out[:m]), tuple(out[m:])
    if function.output is not None:         # a structure returned: the value and tangent in it
        out = tuple(structures.rebuilt(function.output, iter(part)) for part in out)
    if selfcheck.enabled(check) and batch is None:
        selfcheck.check_jvp(f"jvp({python_function(f).__name__})", f, primals, tangents, out[1], jit)
    return out[0], out[1]


def vjp(f, *primals, jit=True, memory=None, check=None):
    """`(f(*primals), vjp_fn)`; `vjp_fn(cotangent)` returns one cotangent per argument."""
    memory = None if memory is None else checkpoints.budget(memory)
    if structures.is_structured(primals):
        flat_f, flat_primals, nodes, _ = structures.flattened(f, list(primals))
        value, flat_vjp = vjp(flat_f, *flat_primals, jit=jit, memory=memory, check=check)
        return value, lambda cotangent: structures.regrouped(flat_vjp(cotangent), nodes)
    primals = _all_arguments(f, primals, "vjp", jit)
    function = normalize(python_function(f))
    kinds = call_kinds(_params(f), primals)
    unit = derived_unit("vjp", f, tuple(range(len(primals))), jit, kinds=kinds, memory=memory)
    params = _params(f)
    try:
        # the function as s2sdiff lowers it (numba compiles no comprehension or nested def),
        # on copies: a function that updates an argument in place (x += 1.0) must not change
        # the values the adjoint runs on
        value = run(function.name, derived_unit("primal", f, (), jit, kinds=kinds).compiled, params,
                    _copies(primals), jit)
    except TypeError:           # numba lacks a form the code uses (np.dot of a number): the Python run's value
        value = run(function.name, python_function(f), params, _copies(primals), False)
    checks = [True] if selfcheck.enabled(check) else []     # the first call of vjp_fn is checked
    m = function.n_outputs
    values = value if function.tuple_result else (value,)

    def vjp_fn(cotangent):
        if function.output is not None:     # a structure returned: its cotangent has that structure
            cotangent = tuple(structures.leaves(cotangent, function.output))
        if function.tuple_result and not isinstance(cotangent, (tuple, list)):
            raise S2SDiffError(f"vjp_fn: {function.name} has {m} outputs: give a tuple of {m} cotangents")
        seeds = tuple(cotangent) if function.tuple_result else (cotangent,)
        if len(seeds) != m:
            raise S2SDiffError(f"vjp_fn: {function.name} has {m} output(s), got {len(seeds)} cotangent(s)")
        for k, (seed, out) in enumerate(zip(seeds, values)):
            if np.shape(seed) != np.shape(out):
                raise ValueError(f"vjp_fn: cotangent {k} has shape {np.shape(seed)}, the output {np.shape(out)}")
        seeds = tuple(np.asarray(c, dtype=np.float64) if np.ndim(c) else _number(float(c), jit) for c in seeds)
        seed_names = [f"b{function.name}{k + 1 if m > 1 else ''}" for k in range(m)]

        def checkpointed():
            budgeted = derived_unit("vjp", f, tuple(range(len(primals))), jit, kinds=kinds,
                                    memory=checkpoints.default_budget())
            return metered(lambda: run(budgeted.function.name, budgeted.compiled, params + seed_names,
                                       primals + seeds, jit))
        out, vjp_fn.tape_bytes = metered(lambda: run(unit.function.name, unit.compiled, params + seed_names,
                                                     primals + seeds, jit), checkpointed if memory is None else None)
        # integers are never differentiated: their cotangents are zeros
        cotangents = tuple(np.zeros(np.shape(p)) if _integer_array(p) else 0.0 if is_integer(p) else c
                           for p, c in zip(primals, out[m:]))
        if checks:
            checks.clear()
            if function.output is not None:     # in the order of the result's leaves, which the check reads
                cotangent = structures.rebuilt(function.output, iter(seeds))
            selfcheck.check_vjp(f"vjp({function.name})", f, primals, cotangent, cotangents, jit)
        return cotangents
    if function.output is not None:
        value = structures.rebuilt(function.output, iter(value))
    return value, vjp_fn


def clear_caches():
    """Forget every transform built so far (the next request re-reads the source)."""
    from . import normalize as normalize_stage, pipeline
    wrappers.transforms.clear()
    pipeline._units.clear()
    normalize_stage._normalized.clear()
    per_example.forget()


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

    def __reduce__(self):          # (shipping.py) compiled again in the other process
        return Differentiable, (self.py_func, self.jit)

    def __repr__(self):
        return f"<s2sdiff.differentiable {self.__name__}>"


@typeof_impl.register(Differentiable)
def _typeof_differentiable(value, context):
    return numba.typeof(value.primal)


def differentiable(f=None, *, jit=True):
    if f is None:
        return lambda g: Differentiable(g, jit)
    return Differentiable(f, jit)
