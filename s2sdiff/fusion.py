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
root or is computed elementwise from arrays that are (numbers besides).  Only names
bound once are reasoned about, and ranks come from the call (analyze.array_ndims); where
a shape is not certain — broadcasting of two parameters, a rank not known — the code is
left as written.  A run holds statements that reach a differentiated output (activity),
so their values are floats; it ends at anything else except a plain assignment the loop
need not wait for, which moves before it.  A value read outside its run (returned, used
by a matrix product, by a later run) is written into an array of the root's shape as the
loop goes; one read for its shape only (`np.mean`'s `u.size`) reads the root's instead.

A reduction (np.sum, np.mean's sum, np.dot of two vectors of the run) becomes a running
sum only where its rounding is not a value NumPy gives (pipeline._running_sums): NumPy's
np.sum adds pairwise and np.dot is BLAS's, so where the value is returned without numba
the reduction reads an array the loop fills.  Running sums start at NumPy's zero
(np.float64) and the scalar functions are NumPy's, so code run without numba gives inf
and nan where NumPy does, never Python's exceptions.
"""
from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from . import ir
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
    return replace(function, body=body) if fusion.changed else function


@dataclass
class _Run:
    root: str
    members: list = field(default_factory=list)     # the statements the loop computes
    before: list = field(default_factory=list)      # statements moved ahead of the loop
    sums: set = field(default_factory=set)          # targets of reductions: running sums


class _Fusion:
    def __init__(self, function, active, numbers, ndims, reductions):
        self.function = function
        self.reductions = reductions
        self.active = active
        self.numbers = numbers
        self.namer = Namer(ir.all_names(function) | {"np", "math"})
        writes = Counter(t for s in ir.walk(function.body) for t in ir.targets(s))
        writes.update(s.var for s in ir.walk(function.body) if isinstance(s, ir.For))
        writes.update(function.params)
        once = {n for n, c in writes.items() if c == 1}
        # arrays of a known rank, bound once: each its own root, or an elementwise result of one
        self.root = {n: n for n in once if ndims.get(n, 0) >= 1}
        self.window = {}                # a window -> (its array, where it starts): its elements read there
        # (of an array never written element by element: reads of one the code overwrites are taped)
        written = {s.array for s in ir.walk(function.body) if isinstance(s, ir.SetItem)}
        self._windows(function.body, once - written)
        self.rank = ndims
        self.roles = {}                 # id(statement) -> ("map" | "sum" | "dot", root): what a run may compute
        self._classify(function.body, set(function.params))
        self.readers = {}               # name -> the statements reading it
        for s in ir.walk(function.body):
            for n in ir.reads(s):
                self.readers.setdefault(n, []).append(s)
        self.changed = False

    def _windows(self, body, once):
        """Windows of one array bound once, cut alike along the first axis (`x[1:]`, `x[:-1]`,
        `x[2:-3]`: as much cut at both ends together), are of one shape, so one root: the first
        of them in the block, defined before any statement reading another.  Windows in
        different blocks are not compared; `once`: the arrays windows may be of."""
        first = {}
        for s in body:
            if isinstance(s, ir.If):
                self._windows(s.body, once)
                self._windows(s.orelse, once)
            elif isinstance(s, (ir.For, ir.While)):
                self._windows(s.body, once)
            elif isinstance(s, ir.Assign) and s.target in self.root and isinstance(s.value, ir.Item) \
                    and s.value.array.id in once:
                cut = _cut(s.value.index)
                if cut is not None:
                    self.root[s.target] = first.setdefault((s.value.array.id, cut), s.target)
                    lo = s.value.index[0].lo
                    self.window[s.target] = (s.value.array, 0 if lo is None else lo.value)

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
                    self.roles[id(s)] = role
                    if role[0] == "map":
                        self.root[s.target] = role[1]
            visible |= set(ir.targets(s))

    def _role(self, s, visible):
        """("map" | "sum" | "dot", root) for a statement a run may compute, else None."""
        if not (isinstance(s, ir.Assign) and s.target in self.active and isinstance(s.value, ir.Prim)):
            return None
        v = s.value
        if any(isinstance(a, ir.Name) and a.id not in visible and a.id not in self.numbers for a in v.args):
            return None
        if s.target in self.root:
            root = self._map_root(v)
            return None if root is None else ("map", root)
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
        """The root of an elementwise primitive's result, where all its arrays share it."""
        if not (value.op in _MAPS and (value.family in ("op", "np") or value.family == "builtin" and value.op == "abs")):
            return None
        roots = set()
        for a in value.args:
            if isinstance(a, ir.Const):
                if not isinstance(a.value, (int, float)) or isinstance(a.value, bool):
                    return None
            elif a.id not in self.numbers:
                if a.id not in self.root:
                    return None
                roots.add(self.root[a.id])
        return roots.pop() if len(roots) == 1 else None

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
        return run, end

    def _movable(self, s, made, run) -> bool:
        """Whether `s`, found between statements of a run, can run before its loop: it binds a
        name no statement of the run has read, from names the run does not make."""
        if not (isinstance(s, ir.Assign) and isinstance(s.value, (ir.Prim, ir.Const, ir.Name, ir.Passive, ir.Item))):
            return False
        return not ir.reads(s) & made and not any(s.target in ir.reads(m) for m in run.members)

    # -- the loop ----------------------------------------------------------------------------
    def _loop(self, run, rest) -> list:
        """The statements computing the run, each element in turn; `rest` (the statements of
        the block after it) has its reads of a shape taken from the root instead (in place)."""
        members = {id(s) for s in run.members}
        root, rank = run.root, self.rank[run.root]
        line = run.members[0].line
        maps = [s.target for s in run.members if s.target not in run.sums]
        # reads of only the shape, after the run in this block, take the root's
        for k, s in enumerate(rest):
            if isinstance(s, ir.Assign) and isinstance(s.value, ir.Prim) and s.value.op in _SHAPE_READS \
                    and isinstance(s.value.args[0], ir.Name) and s.value.args[0].id in maps:
                rest[k] = replace(s, value=replace(s.value, args=(ir.Name(root),) + s.value.args[1:]))
                self.readers[s.value.args[0].id].remove(s)
                self.readers.setdefault(root, []).append(rest[k])
        kept = {t for t in maps if any(id(r) not in members for r in self.readers.get(t, ()))}
        variables = [self.namer.fresh(v) for v in _LOOP_VARIABLES[:rank]] if rank <= len(_LOOP_VARIABLES) \
            else [self.namer.fresh("i") for _ in range(rank)]
        index = tuple(ir.Name(v) for v in variables)
        suffix = "_" + ("".join(variables) if all(len(v) == 1 for v in variables) else "_".join(variables))
        before = []
        if rank == 1:
            bounds = [self.namer.fresh("n")]
            before.append(ir.Assign(bounds[0], ir.Prim("len", (ir.Name(root),), "builtin"), line))
        else:
            bounds = [self.namer.fresh(f"n{k}") for k in range(rank)]
            before += [ir.Assign(b, ir.Prim("dim", (ir.Name(root), ir.Const(k)), "op"), line)
                       for k, b in enumerate(bounds)]
        if kept:
            shape = self.namer.fresh("shape")
            before.append(ir.Assign(shape, ir.Passive(ast.parse(f"{root}.shape", mode="eval").body), line))
            before += [ir.Assign(t, ir.Prim("empty", (ir.Name(shape),), "np"), line) for t in maps if t in kept]
        before += [ir.Assign(t, ir.Const(np.float64(0.0)), line) for t in run.sums]
        element = {t: self.namer.fresh(t + suffix) if t in kept else t for t in maps}
        inner = []

        def atom(a, line):
            if isinstance(a, ir.Const) or a.id in self.numbers or a.id in run.sums:
                return a
            if a.id not in element:         # an array of the root's shape: its element, read once
                element[a.id] = self.namer.fresh(a.id + suffix)
                array, at = a, index
                if a.id in self.window:     # x[1:]'s element i is x[i + 1]: its adjoint goes straight to x's
                    array, start = self.window[a.id]
                    if start:
                        shifted = self.namer.fresh(variables[0] + str(start))
                        inner.append(ir.Assign(shifted, ir.Prim("add", (index[0], ir.Const(start)), "op"), line))
                        at = (ir.Name(shifted),) + index[1:]
                inner.append(ir.Assign(element[a.id], ir.Item(array, at), line))
            return ir.Name(element[a.id])

        for s in run.members:
            v = s.value
            args = tuple(atom(a, s.line) for a in v.args)
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


def _cut(index):
    """How many elements `[a:-b]` (a ≥ 0, b > 0, either left out) cuts off the first axis:
    a + b, the same for every array of one length; None for any other index."""
    if len(index) != 1 or not isinstance(index[0], ir.Slice):
        return None
    lo, hi, step = index[0].lo, index[0].hi, index[0].step
    if step is not None and step != ir.Const(1):
        return None
    if not all(b is None or isinstance(b, ir.Const) and type(b.value) is int for b in (lo, hi)):
        return None
    start, end = 0 if lo is None else lo.value, 0 if hi is None else -hi.value
    return start + end if start >= 0 and (hi is None or end > 0) else None
