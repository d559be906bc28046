"""Stage 7b — per-example derivatives (`batch=k`): the derivative of f at each row of the
batched arguments, stacked along a new first axis, as JAX's `vmap` of a transform.

The generated code is one loop over the examples, on all cores (`prange`), each
iteration calling the transform's code for one example — the code that a call with one
row of each batched argument runs.  How a result is stacked (a number per example, an
array, a tuple of them) is read off the first example's result, so the loop is written
at the first call of each kind of arguments, and its `.source` is readable from then on;
numba code calling the transform gets that loop.
"""
from __future__ import annotations

import numba
import numpy as np
from numba.extending import typeof_impl

from . import compile as compiler
from . import shipping, structures
from .errors import S2SDiffError
from .names import Namer
from .parse import python_function
from .pipeline import derived_unit
from .runtime import HELPERS
from .wrappers import _as_float32, call_kinds, metered, run

_made: dict = {}


def over_rows(transformed, batch: tuple, name: str):
    """`transformed` applied to each row of the parameters at positions `batch`."""
    key = (transformed, batch)
    if key not in _made:
        _made[key] = PerExample(transformed, batch, name)
    return _made[key]


def forget():
    """Drop every per-example transform and loop (sd.clear_caches)."""
    _made.clear()
    _jvp_loops.clear()


class PerExample:
    """A transform applied to each example: call it like the function, with the batched
    arguments holding one example per row."""
    recipe = None           # (shipping.py)

    def __init__(self, transformed, batch, name):
        self.one = transformed          # the transform of one example
        self.batch = batch
        self.__name__ = f"{name}_per_example"
        self._loops = {}                # kinds of one example's arguments -> (Loop, the transform it calls)
        self._last = None

    def __call__(self, *args, **kwargs):
        values = self.one._values(args, kwargs)
        params = self.one._params
        if structures.is_structured(values):
            if self.one.restructured is None:
                raise S2SDiffError(f"{self.__name__}(): batch= takes arrays and numbers here, not structures")
            # the transform of the function of the structures' leaves, per example: each
            # leaf of a batched structure holds one example per row
            return self.one.restructured(values, lambda transformed, positions: over_rows(
                transformed, tuple(p for i in self.batch for p in positions[i]), transformed.__name__))
        examples(self.__name__, [(params[i], values[i]) for i in self.batch])
        first = [v[0] if i in self.batch else v for i, v in enumerate(values)]
        kinds = call_kinds(params, first)
        if kinds not in self._loops:
            one = self.one.specialized(*first)
            if one._verify is not None:         # check=True: the first example is checked
                one(*first)
            # how one example's result stacks: the generated code's, before it is put in the
            # structure the function returns (a dict, …), which then holds the stacked leaves
            flat = run(one.__name__, one._entry, params, one._as_called(list(first))[0], one.jit)
            self._loops[kinds] = (Loop(self.__name__, one.__name__, one.dispatcher, params,
                                       {params[i] for i in self.batch}, flat, one.jit, one.source), one)
        loop, one = self._loops[kinds]
        self._last = loop
        values, single = one._as_called(values)
        # (metered: the tape meter's running count, which threads update without a lock, is
        # restored after the call)
        result, _ = metered(lambda: run(self.__name__, loop.compiled, params, values, one.jit))
        result = _as_float32(result) if single else result
        return one._shaped(result) if one._shaped is not None else result

    @property
    def output(self):
        """The structure of the function's result, or None (structures.caller reads it)."""
        return self.one.output

    @property
    def source(self) -> str:
        return self._generated().source

    @property
    def py_func(self):
        return self._generated().py_func

    def _generated(self) -> "Loop":
        if self._last is None:
            raise S2SDiffError(f"{self.__name__}: its loop is written at the first call, for the kinds of arguments "
                               "it gets; call it once first")
        return self._last

    def __reduce__(self):
        if self.recipe is None:
            raise shipping.unpicklable(self.__name__)
        return self.recipe.__reduce__()

    def __repr__(self):
        return f"<s2sdiff {self.__name__}{self.one._signature}>"


@typeof_impl.register(PerExample)
def _typeof_per_example(value, context):
    # numba code calls the loop of the last call from Python (it is written for those kinds)
    return numba.typeof(value._generated().compiled)


def examples(name, batched) -> int:
    """The number of examples: the common length of the batched arguments' first axes."""
    lengths = {}
    for param, value in batched:
        if not isinstance(value, np.ndarray) or value.ndim == 0:
            raise TypeError(f"{name}(): argument '{param}' is batched (one example per row) and must be an array, "
                            f"got {type(value).__name__}")
        lengths[param] = len(value)
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"'{p}' has {k}" for p, k in lengths.items())
        raise ValueError(f"{name}(): the batched arguments must have one row per example each, but {shown} rows")
    n = next(iter(lengths.values()))
    if n == 0:
        raise ValueError(f"{name}(): no examples (the batched arguments have no rows)")
    return n


_jvp_loops: dict = {}


def jvp_rows(f, names, values, rows, jit):
    """sd.jvp per example: `values` the primals then the tangents (parameters `names`),
    the primals at positions `rows` and their tangents batched."""
    m = len(values) // 2
    batched = [k for k in range(len(values)) if k % m in rows]
    name = f"{python_function(f).__name__}_jvp_per_example"
    examples(name, [(names[k], values[k]) for k in batched])
    first = [v[0] if k in batched else v for k, v in enumerate(values)]
    unit = derived_unit("jvp", f, tuple(range(m)), jit, kinds=call_kinds(names[:m], first[:m]))
    key = (unit, tuple(rows))
    if key not in _jvp_loops:
        result = run(unit.function.name, unit.compiled, names, first, jit)
        _jvp_loops[key] = Loop(name, unit.function.name, unit.compiled, names, {names[k] for k in batched}, result,
                               jit)
    return metered(lambda: run(name, _jvp_loops[key].compiled, names, values, jit))[0]


class Loop:
    """The generated loop `name(*params)` calling `callee` once per example, the parameters
    in `batched` read a row at a time, each leaf of the per-example result (`result`, one
    example's) stacked into an array with a row per example."""

    def __init__(self, name, callee_name, callee, params, batched, result, jit, callee_source=""):
        namer = Namer(set(params) | {name, callee_name, "np", "prange"} | set(HELPERS))
        n, i, r = namer.fresh("n"), namer.fresh("i"), namer.fresh("r")
        arguments = ", ".join(f"{p}[{i}]" if p in batched else p for p in params)
        first_arguments = ", ".join(f"{p}[0]" if p in batched else p for p in params)
        leaves = list(_leaves(result, ""))
        outs = [namer.fresh(f"out{k + 1}" if len(leaves) > 1 else "out") for k in range(len(leaves))]
        rows = next(p for p in params if p in batched)
        lines = [f"{n} = {rows}.shape[0]",
                 f"{r} = {callee_name}({first_arguments})"]
        for out, (path, leaf) in zip(outs, leaves):
            # stacked in the dtype of one example's value: an integer result stays an integer
            dtype = np.asarray(leaf).dtype
            stacked = f"{n}, np.{'bool_' if dtype == bool else dtype}" if np.ndim(leaf) == 0 else \
                f"({n},) + {r}{path}.shape, {r}{path}.dtype"
            lines += [f"{out} = np.empty({stacked})", f"{out}[0] = {r}{path}"]
        lines += [f"for {i} in prange(1, {n}):",
                  f"    {r} = {callee_name}({arguments})"]
        lines += [f"    {out}[{i}] = {r}{path}" for out, (path, _) in zip(outs, leaves)]
        lines.append(f"return {_packed(result, iter(outs))}")
        self.source = "\n".join([f"# {name}: {callee_name} of each example, the rows of "
                                 f"{', '.join(p for p in params if p in batched)} on all cores — generated by s2sdiff",
                                 f"def {name}({', '.join(params)}):"] + ["    " + line for line in lines]) + "\n"
        namespace = {callee_name: callee, "np": np, "prange": numba.prange, **HELPERS}
        self.py_func, self.compiled = compiler.function(self.source, namespace, name, jit, parallel=True,
                                                          cache_parallel=True)
        self.source = callee_source + "\n\n\n" + self.source if callee_source else self.source


def _leaves(result, path):
    """(index path, value) of each number or array in a (nested) tuple result."""
    if isinstance(result, tuple):
        for k, item in enumerate(result):
            yield from _leaves(item, f"{path}[{k}]")
    elif isinstance(result, np.ndarray) or isinstance(result, (float, int, np.number)):
        yield path, result
    else:
        raise S2SDiffError(f"batch=: a result of {type(result).__name__} cannot be stacked per example")


def _packed(result, outs) -> str:
    if isinstance(result, tuple):
        items = [_packed(item, outs) for item in result]
        return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
    return next(outs)
