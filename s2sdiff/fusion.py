"""Stage 2c — fusion: whole-array elementwise code as one loop over the elements.

`u = x * x; v = u + np.exp(u); return np.sum(np.sqrt(v) + np.cos(v))` makes an array per
operation, and its derivative code makes two more per operation (DESIGN §4 asks for
whole-array NumPy within 1.1× of the same maths written as a loop).  Before a transform,
a run of consecutive statements over arrays provably of one shape becomes one loop over
the elements, which the transforms then differentiate as any loop — per-element scalars,
no temporaries, reductions as running sums that tape nothing:

    u = x * x                 for i in range(len(x)):
    v = u + np.exp(u)    →        x_i = x[i]
    s = np.sum(v)                 u = x_i * x_i
                                  v = u + np.exp(u)
                                  s = s + v

Provably one shape: every array in a run has the *root* array's shape, because it is the
root or is computed elementwise from arrays that are (numbers besides); windows of one
array cut alike (`x[1:]`, `x[:-1]`) share a root and are read from the array itself.
Only names bound once are reasoned about, and ranks come from the call
(analyze.array_ndims); where a rank is not known the code is left as written.  Arrays of
other roots (a bias row, a keepdims mean, `x[:, None]` beside `y[None, :]`) are read
broadcast: the loop then runs over NumPy's broadcast shape, found as the code runs, each
array read with a step of 0 along its axes of length 1.  A run holds statements that
reach a differentiated output (activity), so their values are floats; it ends at
anything else except a plain assignment the loop need not wait for, which moves before
it.  A value read outside its run (returned, used by a matrix product, by a later run) is
written into an array of the loop's shape as the loop goes; one read for its shape only
(`np.mean`'s `u.size`) reads the root's, or the loop's bounds, instead.

A reduction (np.sum, np.mean's sum, np.dot of two vectors of the run) becomes a running
sum only where its rounding is not a value NumPy gives (pipeline._running_sums): NumPy's
np.sum adds pairwise and np.dot is BLAS's, so where the value is returned without numba
the reduction reads an array the loop fills.  A sum along one axis adds into its result's
elements in the loop, under the same rule.  Running sums start at NumPy's zero
(np.float64) and the scalar functions are NumPy's, so code run without numba gives inf
and nan where NumPy does, never Python's exceptions.
"""
from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from . import ir, runtime
from .analyze import active_names, array_ndims, number_names
from .errors import S2SDiffError
from .names import Namer

# Elementwise primitives with the same meaning on one element as on arrays, in NumPy
# (without numba) and in numba.
_MAPS = frozenset({"add", "sub", "mul", "truediv", "pow", "neg", "pos", "square", "abs",
                   "exp", "expm1", "exp2", "log", "log1p", "log2", "log10", "sqrt",
                   "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan",
                   "arcsinh", "arccosh", "arctanh", "arctan2", "hypot", "maximum", "minimum"})
_SHAPE_READS = frozenset({"size", "len", "dim"})
_LOOP_VARIABLES = "ijklmn"


def fuse(function: ir.Function, active_params: tuple, kinds=frozenset(), reductions=frozenset()) -> ir.Function:
    """The function with its runs of elementwise statements as loops (above), for the
    derivative in the parameters at indices `active_params`.  `reductions`: those a loop
    may compute as running sums ("sum", "dot"); the others end a run and read an array."""
    if not kinds:
        return function
    try:
        active = active_names(function, [function.params[k] for k in active_params])
    except S2SDiffError:            # the transform names what it refuses
        return function
    numbers = number_names(function, kinds, guess=False)
    ndims = array_ndims(function, numbers, kinds)
    fusion = _Fusion(function, active, numbers, ndims, reductions)
    body = fusion.block(function.body)
    return replace(function, body=body, namespace=fusion.namespace) if fusion.changed else function


@dataclass
class _Run:
    root: str
    members: list = field(default_factory=list)     # the statements the loop computes
    before: list = field(default_factory=list)      # statements moved ahead of the loop
    sums: set = field(default_factory=set)          # targets of reductions: running sums
    broadcast: list = field(default_factory=list)   # the arrays it reads broadcast (_Fusion._broadcast_in)


class _Fusion:
    def __init__(self, function, active, numbers, ndims, reductions):
        self.function = function
        self.reductions = reductions
        self.active = active
        self.numbers = numbers
        self.namer = Namer(ir.all_names(function) | {"np", "math"})
        self.namespace = dict(function.namespace)
        writes = Counter(t for s in ir.walk(function.body) for t in ir.targets(s))
        writes.update(s.var for s in ir.walk(function.body) if isinstance(s, ir.For))
        writes.update(function.params)
        once = {n for n, c in writes.items() if c == 1}
        # arrays of a known rank, bound once: each its own root, or an elementwise result of one
        self.root = {n: n for n in once if ndims.get(n, 0) >= 1}
        self.window = {}                # a window -> (its array, where it starts on each axis): its elements read there
        self.rebound = set()            # arrays bound more than once that windows are of
        written = {s.array for s in ir.walk(function.body) if isinstance(s, ir.SetItem)}
        reading = Counter(n for s in ir.walk(function.body) for n in ir.reads(s))
        self._windows(function.body, once, written, reading)
        self.rank = ndims
        self.roles = {}                 # id(statement) -> ("map" | "sum" | "dot", root): what a run may compute
        self.broadcast = {}             # id(statement) -> its arrays of another root, broadcast into its own
        self.conditional = set()        # results of runs that broadcast: of that shape, not provably their root's
        self._classify(function.body, set(function.params))
        self.readers = {}               # name -> the statements reading it
        for s in ir.walk(function.body):
            for n in ir.reads(s):
                self.readers.setdefault(n, []).append(s)
        self.changed = False

    def _windows(self, body, once, written, reading):
        """Windows of one array cut alike along each axis (`x[1:]`, `x[:-1]`, `u[2:, 1:-1]`,
        `u[:-2, 1:-1]`: as much cut at both ends together) are of one shape, so one root: the
        first of them in the block, defined before any statement reading another.  Windows in
        different blocks are not compared.  Not of an array written element by element
        (`written`: a stencil written in place tapes its reads), and of one bound more than
        once (`once`: bound once) only where each statement reading the window (`reading`:
        name -> how many statements read it) comes before the array is bound again in the block
        (the fused loop reads the array itself, and nothing moves a binding of it before the loop)."""
        first, version = {}, Counter()
        for k, s in enumerate(body):
            if isinstance(s, ir.If):
                self._windows(s.body, once, written, reading)
                self._windows(s.orelse, once, written, reading)
            elif isinstance(s, (ir.For, ir.While)):
                self._windows(s.body, once, written, reading)
            elif isinstance(s, ir.Assign) and s.target in self.root and isinstance(s.value, ir.Item) \
                    and s.value.array.id not in written:
                base, cut = s.value.array.id, _cut(s.value.index)
                if cut is not None and (base in once or self._read_before_bound(body, k, base, s.target, reading)):
                    self.root[s.target] = first.setdefault((base, version[base], cut[1]), s.target)
                    self.window[s.target] = (s.value.array, cut[0])
                    if base not in once:
                        self.rebound.add(base)
            version.update(ir.assigned_within([s]))

    @staticmethod
    def _read_before_bound(body, k, base, window, reading) -> bool:
        end = next((j for j in range(k + 1, len(body)) if base in ir.assigned_within([body[j]])), len(body))
        if end < len(body) and isinstance(body[end], ir.Assign):
            end += 1            # `u = u[1:-1] + …` reads the window before it binds u
        return sum(window in ir.reads(s) for s in ir.walk(body[k + 1:end])) == reading[window]

    def _classify(self, body, visible):
        """Roots and roles, taking an array's shape from its definition only where that is
        certain to have run last before the reading statement: earlier in the same block or
        in a block around it (not in a branch that may have been skipped since, nor later in
        a loop, the value of an earlier iteration)."""
        for s in body:
            if isinstance(s, ir.If):
                self._classify(s.body, set(visible))
                self._classify(s.orelse, set(visible))
            elif isinstance(s, (ir.For, ir.While)):
                self._classify(s.body, visible | {s.var} if isinstance(s, ir.For) else set(visible))
            elif isinstance(s, ir.Assign):
                role = self._role(s, visible)
                if role is not None:
                    self.roles[id(s)] = role[:2]
                    if role[0] == "map":
                        self.root[s.target] = role[1]
                        self.broadcast[id(s)] = role[2]
                        if role[2] or ir.reads(s) & self.conditional:
                            self.conditional.add(s.target)
            visible |= set(ir.targets(s))

    def _role(self, s, visible):
        """("map", root, broadcast arrays) | ("sum" | "dot" | "along", root) for a statement a
        run may compute, else None ("along": a sum along one axis, into an array the loop adds to)."""
        if not (isinstance(s, ir.Assign) and s.target in self.active and isinstance(s.value, ir.Prim)):
            return None
        v = s.value
        if any(isinstance(a, ir.Name) and a.id not in visible and a.id not in self.numbers for a in v.args):
            return None
        if v.op == "sum_axis" and "sum" in self.reductions and isinstance(v.args[0], ir.Name) \
                and v.args[0].id in self.root and s.target in self.root and isinstance(v.args[1], ir.Const) \
                and self.rank[s.target] == self.rank[v.args[0].id] - 1:
            return "along", self.root[v.args[0].id]
        if s.target in self.root:
            found = self._map_root(v)
            return None if found is None else ("map",) + found
        if s.target not in self.numbers:
            return None
        arrays = [a.id for a in v.args if isinstance(a, ir.Name) and a.id in self.root]
        if v.op == "sum" and "sum" in self.reductions and len(v.args) == 1 and arrays:
            return "sum", self.root[arrays[0]]
        if v.op == "matmul" and "dot" in self.reductions and len(arrays) == 2 \
                and self.root[arrays[0]] == self.root[arrays[1]] and self.rank[arrays[0]] == 1:
            return "dot", self.root[arrays[0]]
        return None

    def _map_root(self, value):
        """(root, broadcast arrays) of an elementwise primitive's result: the root of its first
        array of the highest rank, and its arrays of other roots, which the loop reads
        broadcast together with the root's (`X @ W.T + b`, `X - mu` of a keepdims mean)."""
        if not (value.op in _MAPS and (value.family in ("op", "np") or value.family == "builtin" and value.op == "abs")):
            return None
        arrays = []
        for a in value.args:
            if isinstance(a, ir.Const):
                if not isinstance(a.value, (int, float)) or isinstance(a.value, bool):
                    return None
            elif a.id not in self.numbers:
                if a.id not in self.root:
                    return None
                arrays.append(a.id)
        if not arrays:
            return None
        root = self.root[max(arrays, key=lambda a: self.rank[a])]
        return root, tuple(dict.fromkeys(a for a in arrays if self.root[a] != root))

    # -- runs ------------------------------------------------------------------------------
    def block(self, body) -> list:
        body = [replace(s, body=self.block(s.body), orelse=self.block(s.orelse)) if isinstance(s, ir.If)
                else replace(s, body=self.block(s.body)) if isinstance(s, (ir.For, ir.While)) else s for s in body]
        out, k = [], 0
        while k < len(body):
            run, end = self._run(body, k)
            if run is None:
                out.append(body[k])
                k += 1
                continue
            rest = body[end:]
            out += run.before + self._loop(run, rest)
            body = body[:end] + rest
            k = end
            self.changed = True
        return out

    def _run(self, body, k):
        """The run starting at body[k] and the position after its last statement, or
        (None, k) where fusing gains nothing (fewer than two statements, or no elementwise one)."""
        role = self.roles.get(id(body[k]))
        if role is None:
            return None, k
        run = _Run(role[1])
        made, pending, end = set(), [], k
        for j in range(k, len(body)):
            s = body[j]
            role = self.roles.get(id(s))
            # (a statement an earlier one reads, in a loop around the run, is the earlier iteration's)
            if role is not None and role[1] == run.root and not ir.reads(s) & run.sums \
                    and not any(s.target in ir.reads(m) for m in run.members):
                run.members.append(s)
                run.before += pending
                pending = []
                made.add(s.target)
                if role[0] != "map":
                    run.sums.add(s.target)
                end = j + 1
            elif self._movable(s, made, run):
                pending.append(s)
            else:
                break
        if len(run.members) < 2 or all(self.roles[id(s)][0] != "map" for s in run.members):
            return None, k
        # a loop over a broadcast shape reduces only arrays of that shape, its own results
        run.broadcast = self._broadcast_in(run)
        if run.broadcast and any(self.roles[id(s)][0] != "map" and not ir.reads(s) <= made | self.numbers
                                           for s in run.members):
            return None, k
        return run, end

    def _broadcast_in(self, run) -> list:
        """The arrays a run reads broadcast: of other roots, or results of earlier runs that
        broadcast (of the broadcast shape, not provably their root's)."""
        made = {s.target for s in run.members}
        return list(dict.fromkeys([a for s in run.members for a in self.broadcast.get(id(s), ())]
                                  + [a for s in run.members for a in sorted(ir.reads(s) & self.conditional - made)]))

    def _movable(self, s, made, run) -> bool:
        """Whether `s`, found between statements of a run, can run before its loop: it binds a
        name no statement of the run has read, from names the run does not make."""
        if not (isinstance(s, ir.Assign) and isinstance(s.value, (ir.Prim, ir.Const, ir.Name, ir.Passive, ir.Item))) \
                or s.target in self.rebound:
            return False
        return not ir.reads(s) & made and not any(s.target in ir.reads(m) for m in run.members)

    # -- the loop ----------------------------------------------------------------------------
    def _loop(self, run, rest) -> list:
        """The statements computing the run, each element in turn; `rest` (the statements of
        the block after it) has its reads of a shape taken from the root, or from the loop's
        bounds, instead (in place).

        Where the run reads arrays of other roots, broadcast together with the root's (`X @ W.T
        + b`, `X - mu` of a keepdims mean, `x[:, None] - y[None, :]`), the loop runs over the
        broadcast shape, NumPy's, found as the code runs; each array is read at the trailing loop
        variables, times 0 along an axis of length 1, and the run's results have that shape."""
        members = {id(s) for s in run.members}
        root, rank = run.root, self.rank[run.root]
        line = run.members[0].line
        maps = [s.target for s in run.members if s.target not in run.sums]
        broadcast = run.broadcast
        variables = [self.namer.fresh(v) for v in _LOOP_VARIABLES[:rank]] if rank <= len(_LOOP_VARIABLES) \
            else [self.namer.fresh("i") for _ in range(rank)]
        index = tuple(ir.Name(v) for v in variables)
        suffix = "_" + ("".join(variables) if all(len(v) == 1 for v in variables) else "_".join(variables))
        before, steps = [], {}          # steps: (array, axis) -> 1, or 0 where it is broadcast along the axis
        if broadcast:
            bounds = self._broadcast_bounds(root, broadcast, rank, line, before, steps)
        elif rank == 1:
            bounds = [self.namer.fresh("n")]
            before.append(ir.Assign(bounds[0], ir.Prim("len", (ir.Name(root),), "builtin"), line))
        else:
            bounds = [self.namer.fresh(f"n{k}") for k in range(rank)]
            before += [ir.Assign(b, ir.Prim("dim", (ir.Name(root), ir.Const(k)), "op"), line)
                       for k, b in enumerate(bounds)]
        # reads of only the shape, after the run in this block, take the root's (the loop's)
        for k, s in enumerate(rest):
            if isinstance(s, ir.Assign) and isinstance(s.value, ir.Prim) and s.value.op in _SHAPE_READS \
                    and isinstance(s.value.args[0], ir.Name) and s.value.args[0].id in maps:
                self.readers[s.value.args[0].id].remove(s)
                if not broadcast:
                    rest[k] = replace(s, value=replace(s.value, args=(ir.Name(root),) + s.value.args[1:]))
                    self.readers.setdefault(root, []).append(rest[k])
                elif s.value.op == "size":
                    rest[k] = replace(s, value=ir.Passive(_expression(" * ".join(bounds))))
                else:
                    axis = s.value.args[1].value if s.value.op == "dim" else 0
                    rest[k] = replace(s, value=ir.Name(bounds[axis]))
        kept = {t for t in maps if any(id(r) not in members for r in self.readers.get(t, ()))}
        if kept:
            shape = self.namer.fresh("shape")
            value = f"({', '.join(bounds)},)" if broadcast else f"{root}.shape"
            before.append(ir.Assign(shape, ir.Passive(_expression(value)), line))
            before += [ir.Assign(t, ir.Prim("empty", (ir.Name(shape),), "np"), line) for t in maps if t in kept]
        along = {s.target: s.value.args[1].value % rank for s in run.members if self.roles[id(s)][0] == "along"}
        for t, axis in along.items():
            reduced = self.namer.fresh("shape")
            before += [ir.Assign(reduced, ir.Passive(_expression(f"({', '.join(b for k, b in enumerate(bounds) if k != axis)},)")),
                                 line),
                       ir.Assign(t, ir.Prim("zeros", (ir.Name(reduced),), "np"), line)]
        before += [ir.Assign(t, ir.Const(np.float64(0.0)), line) for t in run.sums if t not in along]
        element = {t: self.namer.fresh(t + suffix) if t in kept else t for t in maps}
        inner = []
        shifted = {}                    # (index, start) -> the index plus start, a window's element's

        def atom(a, line):
            if isinstance(a, ir.Const) or a.id in self.numbers or a.id in run.sums:
                return a
            if a.id not in element:         # an array of the root's shape: its element, read once
                element[a.id] = self.namer.fresh(a.id + suffix)
                array, at = a, index
                of = a.id if a.id in broadcast else root
                if (of, 0) in steps:        # read at the loop's variables times each axis's step
                    at = []
                    for axis in range(self.rank[of]):
                        loop_axis = rank - self.rank[of] + axis
                        at.append(ir.Name(self.namer.fresh(variables[loop_axis] + "_" + a.id)))
                        inner.append(ir.Assign(at[-1].id, ir.Prim("mul", (index[loop_axis], ir.Name(steps[of, axis])),
                                                                  "op"), line))
                    at = tuple(at)
                if a.id in self.window and a.id not in broadcast:
                    # x[1:]'s element i is x[i + 1]: its adjoint goes straight to x's
                    array, starts = self.window[a.id]
                    at = list(at)
                    for axis, start in enumerate(starts):
                        if start and (at[axis], start) not in shifted:
                            shifted[at[axis], start] = ir.Name(self.namer.fresh(variables[axis] + str(start)))
                            inner.append(ir.Assign(shifted[at[axis], start].id,
                                                   ir.Prim("add", (at[axis], ir.Const(start)), "op"), line))
                        if start:
                            at[axis] = shifted[at[axis], start]
                    at = tuple(at)
                inner.append(ir.Assign(element[a.id], ir.Item(array, at), line))
            return ir.Name(element[a.id])

        for s in run.members:
            v = s.value
            args = tuple(atom(a, s.line) for a in v.args)
            if s.target in along:
                at = tuple(v for k, v in enumerate(index) if k != along[s.target])
                inner.append(ir.SetItem(s.target, at, args[0], s.line, accumulate=True))
                continue
            if s.target in run.sums:
                term = args[0]
                if v.op == "matmul":
                    term = ir.Name(self.namer.temp())
                    inner.append(ir.Assign(term.id, ir.Prim("mul", args, "op"), s.line))
                inner.append(ir.Assign(s.target, ir.Prim("add", (ir.Name(s.target), term), "op"), s.line))
                continue
            inner.append(ir.Assign(element[s.target], replace(v, args=args), s.line))
            if s.target in kept:
                inner.append(ir.SetItem(s.target, index, ir.Name(element[s.target]), s.line))
        for var, bound in reversed(list(zip(variables, bounds))):
            inner = [ir.For(var, ir.Const(0), ir.Name(bound), ir.Const(1), inner, line)]
        return before + inner

    def _broadcast_bounds(self, root, broadcast, rank, line, before, steps) -> list:
        """The loop's bounds, the lengths of NumPy's broadcast shape of the root and the
        `broadcast` arrays (a refusal naming the line where they do not broadcast, as NumPy's
        ValueError), each bound after the statements it appends to `before`; `steps` gets
        each array's step along each of its axes."""
        arrays = [root] + broadcast
        bounds = [self.namer.fresh(f"n{k}") if rank > 1 else self.namer.fresh("n") for k in range(rank)]
        fits = []
        for k, bound in enumerate(bounds):
            lengths = [f"{a}.shape[{k - rank + self.rank[a]}]" for a in arrays if k - rank + self.rank[a] >= 0]
            length = lengths[0]
            for other in lengths[1:]:
                length = f"broadcast_length({length}, {other})"
            before.append(ir.Assign(bound, ir.Passive(_expression(length)), line))
            if len(lengths) > 1:
                fits.append(f"{bound} >= 0")
        self.namespace["broadcast_length"] = runtime.broadcast_length
        self.namespace["check_broadcast"] = runtime.check_broadcast
        fits = " and ".join(fits)
        before.append(ir.Verbatim(ast.parse(f"check_broadcast({fits}, {line}, {self.function.filename!r})").body[0],
                                  line))
        for a in arrays:
            for axis in range(self.rank[a]):
                bound = bounds[rank - self.rank[a] + axis]
                steps[a, axis] = self.namer.fresh(f"{a}_step{axis}")
                before.append(ir.Assign(steps[a, axis], ir.Passive(_expression(f"1 if {a}.shape[{axis}] == {bound} else 0")),
                                        line))
        return bounds


def _expression(text):
    return ast.parse(text, mode="eval").body


def _cut(index):
    """(where it starts, how many elements it cuts off) on each axis, for `[a:-b, …]` (a ≥ 0,
    b > 0, either left out; `:` cuts nothing): the cuts, a + b, are the same for every
    array of one shape; None for any other index."""
    starts, cuts = [], []
    for part in index:
        if not isinstance(part, ir.Slice) or part.step is not None and part.step != ir.Const(1):
            return None
        lo, hi = part.lo, part.hi
        if not all(b is None or isinstance(b, ir.Const) and type(b.value) is int for b in (lo, hi)):
            return None
        start, end = 0 if lo is None else lo.value, 0 if hi is None else -hi.value
        if start < 0 or hi is not None and end <= 0:
            return None
        starts.append(start)
        cuts.append(start + end)
    while cuts and cuts[-1] == 0:       # `u[1:-1]` and `u[1:-1, :]` are one window
        starts.pop()
        cuts.pop()
    return tuple(starts), tuple(cuts)
