"""The pipeline driver: parse → normalize → analyze → fuse → transform → emit → compile, cached.

A *unit* is one generated function with its compiled form.  Callees a transform needs
derivatives of become units of their own (each built once, then reused by every caller).
"""
from __future__ import annotations

import threading
import types
from dataclasses import dataclass, field, replace

from . import compile as compiler
from . import custom
from .analyze import ARRAY, argument_kinds, array_ndims, check_in_place, number_names, specialized
from .concrete import concrete
from .desugar import recursion
from . import ir
from .emit import emit
from .errors import S2SDiffError, UnsupportedError
from .fusion import fuse
from .normalize import normalize
from .parallel import spread
from .parse import python_function
from .reuse import reuse_across_iterations
from .simplify import simplify
from . import runtime
from .transform.batched import batched
from .transform.forward import forward
from .transform.reverse import reverse
from .transform.sweeps import share_callee_sweeps, split


_INLINED_LINES = 60         # the longest generated function inlined into a caller


@dataclass(eq=False)
class Unit:
    function: ir.Function
    source: str
    py_func: types.FunctionType
    compiled: object
    dependencies: list = field(default_factory=list)

    @property
    def inlined(self):
        """The compiled function for a caller that calls it once: numba compiles a short one
        into that caller instead of on its own.  A long one stays a call: numba's work on one
        function grows faster than its length (ten helpers' adjoints inlined into their caller
        took 226 s to compile, 116 s called), and a call costs nothing beside a long body."""
        if self.compiled is self.py_func or self.source.count("\n") > _INLINED_LINES:
            return self.compiled
        return compiler.inlined(self.compiled)

    @property
    def full_source(self) -> str:
        """This function's source preceded by that of every generated function it calls."""
        seen, parts = set(), []

        def visit(unit):
            if id(unit) in seen:
                return
            seen.add(id(unit))
            for dep in unit.dependencies:
                visit(dep)
            parts.append(unit.source)
        visit(self)
        return "\n\n".join(parts)


_units: dict = {}
_in_progress: set = set()
# One transform is built at a time: threads asking for the same one wait and then share it.
LOCK = threading.RLock()

_TRANSFORMS = {
    # the function itself as s2sdiff lowers it: what numba lacks (np.diagonal, np.max along an
    # axis, joins of a list, …) spelled as generated code has it
    "primal": lambda fn, active, kinds, parallel, memory, jit: fn,
    "jvp": lambda fn, active, kinds, parallel, memory, jit: forward(fn, active, kinds),
    "bjvp": lambda fn, active, kinds, parallel, memory, jit: batched(forward(fn, active, kinds), len(fn.params)),
    "vjp": lambda fn, active, kinds, parallel, memory, jit: _sweeps_shared(
        reverse(fn, active, True, kinds, parallel, memory), jit),
    "vjp_grad": lambda fn, active, kinds, parallel, memory, jit: _sweeps_shared(
        reverse(fn, active, False, kinds, parallel, memory), jit),
}
# A callee's value-and-adjoint cut in two where its caller's sweeps both call it
# (transform/sweeps.py): the units are the halves of the cut the caller was written for.
_SWEEPS = {"vjp_forward": "forward", "vjp_backward": "backward"}
_splits: dict = {}


def _prepared(py_func, kind: str, active, kinds, jit: bool) -> ir.Function:
    """The function a transform of this kind reads: lowered, specialized for the kinds of the
    arguments, whole-array runs fused into loops (fusion.py)."""
    function = specialized(normalize(py_func), frozenset(kinds))
    check_in_place(function, frozenset(kinds))
    if kind != "primal":
        function = fuse(function, tuple(active), frozenset(kinds), _running_sums(kind, jit))
    return function


def _sweeps_shared(function: ir.Function, jit: bool) -> ir.Function:
    return share_callee_sweeps(function, lambda derived: _callee_sweeps(derived, jit))


def _split(function: ir.Function, active, kinds, jit: bool):
    return split(_sweeps_shared(reverse(function, tuple(active), True, frozenset(kinds)), jit), function.name,
                 function.n_outputs)


def _callee_sweeps(derived: ir.Derived, jit: bool):
    """The two sweeps of a callee's value-and-adjoint function (transform/sweeps.split), or
    None: a callee with a rule of the user's keeps its one function."""
    obj = derived.callee.obj
    if custom.rule_of(obj) is not None:
        return None
    return _sweeps_of(python_function(obj), tuple(derived.active), frozenset(derived.kinds), jit)


def _sweeps_of(py_func, active: tuple, kinds: frozenset, jit: bool):
    key = (py_func, py_func.__code__, active, kinds, jit)
    with LOCK:
        if key not in _splits:
            _splits[key] = None                 # (while it is made: a cycle of calls keeps one function)
            try:
                _splits[key] = _split(_prepared(py_func, "vjp_forward", active, kinds, jit), active, kinds, jit)
            except S2SDiffError:                # the callee's vjp unit raises it where it is built
                pass
        return _splits[key]


def derived_unit(kind: str, func, active: tuple, jit: bool = True, node=None, filename=None,
                 kinds=frozenset(), parallel=False, memory=None) -> Unit:
    """The compiled derivative function of `func` in the parameters `active`: "primal" (no
    derivative: the function as lowered), "jvp" (forward mode), "bjvp" (forward mode in a
    block of directions), "vjp" (reverse
    mode, with the value), "vjp_grad" (without), "vjp_forward" and "vjp_backward" (the
    sweeps of "vjp", transform/sweeps.py).
    `kinds`: what a call fixes about the parameters (analyze.ARRAY); `parallel`
    compiles with numba's parallel=True and spreads loops over threads (parallel.py);
    `memory`: the budget of a loop's tape (transform/checkpoints.py), None for the default."""
    rule = custom.rule_of(func)
    if rule is not None:                    # the user's rule gives the unit (custom.py)
        return rule.unit(kind, tuple(active), jit, frozenset(kinds))
    py_func = python_function(func)
    if hasattr(py_func, "s2sdiff_refusal"):         # a unit built from a rule that cannot be differentiated
        raise UnsupportedError(py_func.s2sdiff_refusal)
    key = (kind, py_func, py_func.__code__, tuple(active), jit, frozenset(kinds), parallel, memory)
    with LOCK:
        if key in _units:
            return _units[key]
        if py_func in _in_progress:          # whatever kinds it is asked for: a cycle of calls
            raise recursion.unbounded(py_func, filename, node)
        _in_progress.add(py_func)
        try:
            if kind in _SWEEPS:
                function = getattr(_sweeps_of(py_func, tuple(active), frozenset(kinds), jit), _SWEEPS[kind])
            else:
                function = _TRANSFORMS[kind](_prepared(py_func, kind, active, kinds, jit), tuple(active),
                                             frozenset(kinds), parallel, memory, jit)
            unit = build(function, jit, parallel)
        finally:
            _in_progress.discard(py_func)
        _units[key] = unit
        return unit


def _running_sums(kind: str, jit: bool) -> frozenset:
    """The reductions fusion may compute as sums in element order: any where the value is
    not returned (its rounding is the derivative's), and np.sum where numba compiles the
    code (numba's np.sum adds in order too); none where the value returned without numba is
    NumPy's to the last bit (its np.sum adds pairwise, np.dot is BLAS's)."""
    return frozenset({"sum", "dot"}) if kind == "vjp_grad" else frozenset({"sum"}) if jit else frozenset()


def _primal_calls_for_ranks(function: ir.Function) -> ir.Function:
    """Calls of user functions for their values, with what the call fixes about the
    callee's parameters (the ranks of the arrays passed, analyze.argument_kinds), so that
    the callee's forms that depend on ranks (np.dot, np.linalg.inv of stacks) are chosen
    for them as a differentiated callee's are."""
    numbers = number_names(function, function.kinds, guess=False)
    ndims = array_ndims(function, numbers, function.kinds)

    def value(v):
        if not (isinstance(v, ir.Call) and not isinstance(v.callee, ir.Derived)
                and not compiler.is_compiled_by_user(v.callee.obj)):
            return v
        try:
            kinds = argument_kinds(v, numbers, ndims)
        except S2SDiffError:                # code s2sdiff does not read: compiled as the user wrote it
            return v
        if not any(rank not in (0, ARRAY) for _, rank in kinds):
            return v
        return ir.Call(ir.Derived("primal", v.callee, (), kinds), v.args)

    def statement(s):
        return [replace(s, value=value(s.value)) if isinstance(s, (ir.Assign, ir.Unpack)) else s]
    return replace(function, body=ir.rewritten(function.body, statement))


def _changes_arguments(callee) -> bool:
    """Whether a user's numba function changes arrays passed to it: generated code calls it
    as s2sdiff lowers it, which gives those arrays' new values (desugar.in_place)."""
    try:
        return bool(callee.function.changed)
    except S2SDiffError:
        return False


def build(function: ir.Function, jit: bool, parallel: bool = False) -> Unit:
    """Emit and compile a generated core-language function."""
    dependencies = []

    def bind(callee, sites):
        # a copy of unrolled recursion is compiled once, not again inside each level above it
        # (a level calling the next twice, as fib does, would inline exponentially many)
        inline = sites == 1 and not recursion.unrolled((callee.callee if isinstance(callee, ir.Derived) else callee).obj)
        if isinstance(callee, ir.Derived) and callee.kind != "primal":
            unit = derived_unit(callee.kind, callee.callee.obj, callee.active, jit, callee.node,
                                callee.callee.filename, callee.kinds)
            dependencies.append(unit)
            # numba links a callee's machine code into each caller and optimizes it again
            # there; a unit called once is cheaper compiled inside its caller than on its own.
            return unit.inlined if inline else unit.compiled, unit.function.name
        kinds = frozenset()
        if isinstance(callee, ir.Derived):          # a callee's value, for the ranks of the arrays passed
            callee, kinds = callee.callee, callee.kinds
        if not compiler.is_compiled_by_user(callee.obj) or _changes_arguments(callee):
            try:
                unit = derived_unit("primal", callee.obj, (), jit, callee.node, callee.filename, kinds)
            except S2SDiffError:        # code s2sdiff does not lower (and need not: no derivative)
                pass
            else:
                dependencies.append(unit)
                return unit.inlined if inline else unit.compiled, unit.function.name
        primal = compiler.primal(callee.obj, jit)
        if inline and jit and compiler.is_own_primal(primal):
            primal = compiler.inlined(primal)
        return primal, callee.py_func.__name__

    function = simplify(_primal_calls_for_ranks(function))
    if parallel:
        function, parallel = spread(function)
    # concrete code last: reuse recognises the helpers it spells out (a zeroed adjoint a loop
    # fills becomes an empty one); simplify again drops what the concrete code no longer reads
    source, namespace = emit(simplify(concrete(reuse_across_iterations(function))), bind)
    for name, value in namespace.items():   # user functions called in conditions run as primals
        if getattr(value, "__module__", None) in (runtime.__name__, custom.__name__):
            continue                         # runtime helpers carry their own numba overloads
        if isinstance(value, types.FunctionType) or hasattr(value, "py_func"):
            namespace[name] = compiler.primal(value, jit)
    py_func, compiled = compiler.function(source, namespace, function.name, jit, parallel, function.origin)
    return Unit(function, source, py_func, compiled, dependencies)
