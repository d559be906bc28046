"""Stage 4a′ — batched forward mode: the tangent program for K directions at once.

`f_jvp(x, dx)` carries one tangent per value; `f_jvp_batched(x, dx)` carries K of them
in a trailing axis: a number's tangent is a vector of K, an array's has the array's
shape + (K,).  The primal statements run once, and each run of tangent statements
between them becomes one loop over the directions, which numba vectorizes.  Jacobians
and Hessians then pay for the primal — its exp and sin, its tapes — once per block of
directions instead of once per column (JAX's vmap of a JVP does the same).

Tangents being linear in the seeds, a tangent name no seed reaches is zero in every
direction.  Only tangent code of numbers, and of arrays read and written element by
element, is batched; anything else (whole-array tangent expressions) raises NotBatched
and the caller sweeps one column at a time.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import replace

from .. import ir
from ..analyze import ARRAY, number_names
from ..names import Namer
from ..runtime import HELPERS


class NotBatched(Exception):
    """The tangent code has a statement batched forward mode does not cover."""


def batched(function: ir.Function, n_primal: int) -> ir.Function:
    """`function`, a tangent function (forward.py) whose first `n_primal` parameters are
    the primal ones, with every tangent batched over a trailing axis of directions."""
    return _Batched(function, n_primal).run()


class _Batched:
    def __init__(self, fn: ir.Function, n_primal: int):
        self.fn = fn
        self.tangent_params = fn.params[n_primal:]
        self.namer = Namer(ir.all_names(fn))
        self.count = self.namer.fresh("K")
        self.tangents = _seeded(fn.body, set(self.tangent_params))
        # no guesses: a row X[1] of an array whose rank the tangent code does not show is no number
        numbers = number_names(fn, frozenset((p, ARRAY) for p in fn.params if p not in fn.numbers), fn.numbers,
                               guess=False)
        self.number_tangents = self.tangents & numbers
        self.array_tangents = self.tangents - numbers
        self.statements_of = {}         # name -> ids of the statements that read or write it
        for s in ir.walk(fn.body):
            for name in set(ir.targets(s)) | ir.reads(s) | ({s.array} if isinstance(s, ir.SetItem) else set()):
                self.statements_of.setdefault(name, set()).add(id(s))

    def run(self) -> ir.Function:
        fn = self.fn
        line = fn.body[0].line if fn.body else 0
        first = self.tangent_params[0]
        prologue = [ir.Assign(self.count, ir.Prim("dim", (ir.Name(first), ir.Const(-1))), line)]
        body = self.block(fn.body)
        used = ir.reads_within(body) | {s.array for s in ir.walk(body) if isinstance(s, ir.SetItem)}
        for name in sorted(self.number_tangents & used - set(fn.params)):     # a vector per number tangent
            prologue.append(ir.Assign(name, ir.Prim("zeros", (ir.Name(self.count),), "np"), line))
        assigned = ir.assigned_within(fn.body)
        for name in self.tangent_params:            # a seed the body reassigns is the caller's: copy it
            if name in assigned and name in self.number_tangents:
                prologue.append(ir.Assign(name, ir.Prim("copy", (ir.Name(name),), "np"), line))
        helpers = ("in_direction", "batched_zeros", "owned")
        namespace = dict(fn.namespace, **{h: HELPERS[h] for h in helpers})
        doc = fn.doc.replace("forward mode", f"batched forward mode ({self.count} directions at once)")
        # a tangent parameter of a known rank gains the axis of directions
        kinds = fn.kinds - {(p, rank) for p, rank in fn.kinds if p in self.tangent_params} \
            | {(p, rank + 1) for p, rank in fn.kinds if p in self.tangent_params}
        return replace(fn, name=fn.name + "_batched", body=prologue + body, namespace=namespace,
                       doc=doc, numbers=frozenset(fn.numbers - self.tangents), kinds=kinds)

    def zeros(self, like) -> ir.Opaque:
        return ir.Opaque("batched_zeros", (like, ir.Name(self.count)), None)

    # ---- statements ---------------------------------------------------------------------

    def block(self, body) -> list:
        """Primal statements move up past pending tangent statements that do not read what
        they write; each run of tangent statements becomes one loop over the directions."""
        out, pending = [], []

        def flush():
            if pending:
                out.extend(self.directions_loop(pending))
                pending.clear()

        for s in body:
            if self.is_tangent(s):
                pending.append(s)
            elif isinstance(s, (ir.Assign, ir.SetItem, ir.Comment)) and not self.touches_tangents(s):
                written = set(ir.targets(s)) | ({s.array} if isinstance(s, ir.SetItem) else set())
                if written & ir.reads_within(pending):
                    flush()
                out.append(s)
            else:
                flush()
                out.extend(self.other(s))
        flush()
        return out

    def is_tangent(self, s) -> bool:
        """A statement for the loop over directions: a number tangent's assignment, or an
        element write into an array tangent."""
        if isinstance(s, ir.Assign) and s.target in self.number_tangents:
            value = s.value
            if isinstance(value, ir.Item):
                if value.array.id in self.number_tangents or _reads(value.index) & self.tangents:
                    raise NotBatched(f"{s.target}: an element of a number's tangent")
                return True
            if isinstance(value, (ir.Name, ir.Const, ir.Prim, ir.Passive)):
                if ir.value_reads(value) & self.array_tangents:
                    raise NotBatched(f"{s.target}: a number's tangent computed from a whole array's")
                return True
            raise NotBatched(f"{s.target}: a number's tangent from a call")
        if isinstance(s, ir.SetItem) and s.array in self.tangents:
            if s.array in self.number_tangents or _reads(s.index) & self.tangents \
                    or isinstance(s.value, ir.Name) and s.value.id in self.array_tangents:
                raise NotBatched(f"{s.array}: a write of a whole array's tangent")
            return True
        return False

    def touches_tangents(self, s) -> bool:
        return bool((set(ir.targets(s)) | ir.reads(s)) & self.tangents)

    def other(self, s) -> list:
        if isinstance(s, ir.If):
            return [ir.If(s.test, self.block(s.body), self.block(s.orelse), s.line)]
        if isinstance(s, ir.For):
            return [replace(s, body=self.block(s.body))]
        if isinstance(s, ir.While):
            return [ir.While(s.test, self.block(s.body), s.line)]
        if isinstance(s, ir.Assign) and s.target in self.array_tangents:
            return [self.array_assignment(s)]
        if isinstance(s, ir.Unpack):
            return self.call(s) if self.touches_tangents(s) else [s]
        if isinstance(s, ir.Return):
            return self.returned(s)
        if isinstance(s, (ir.Break, ir.Continue, ir.Verbatim)) and not self.touches_tangents(s):
            return [s]
        raise NotBatched(f"a statement on tangents: {type(s).__name__}")

    def array_assignment(self, s: ir.Assign) -> ir.Assign:
        value = s.value
        if isinstance(value, ir.Opaque) and value.name == "zero_like":
            return ir.Assign(s.target, self.zeros(value.args[0]), s.line)
        if isinstance(value, ir.Name) and value.id in self.array_tangents \
                or isinstance(value, ir.Prim) and value.op == "owned" and value.args[0] in map(ir.Name, self.tangents):
            return s
        raise NotBatched(f"{s.target}: a whole array's tangent")

    def call(self, s: ir.Unpack) -> list:
        """`y, dy = g_jvp(x, dx)` → `y, t = g_jvp_batched(x, dx); dy = owned(t)`: the callee
        may hand back a tangent it was given, and this code writes tangents in place."""
        value = s.value
        if not (isinstance(value, ir.Call) and isinstance(value.callee, ir.Derived) and value.callee.kind == "jvp"):
            raise NotBatched("a call on tangents")
        half = len(s.targets) // 2
        code, args = [], list(value.args)
        for i in range(len(args) - len(value.callee.active), len(args)):
            if not (isinstance(args[i], ir.Name) and args[i].id in self.tangents):   # a zero tangent
                zero = self.namer.temp()
                code.append(ir.Assign(zero, self.zeros(args[i]), s.line))
                args[i] = ir.Name(zero)
        returned = [self.namer.fresh("_" + t) for t in s.targets[half:]]
        callee = replace(value.callee, kind="bjvp")
        code.append(ir.Unpack(s.targets[:half] + tuple(returned), ir.Call(callee, tuple(args)), s.line))
        code += [ir.Assign(t, ir.Prim("owned", (ir.Name(r),), "runtime"), s.line)
                 for t, r in zip(s.targets[half:], returned)]
        return code

    def returned(self, s: ir.Return) -> list:
        half = len(s.values) // 2
        code, values = [], list(s.values)
        for i in range(half, len(values)):
            if not (isinstance(values[i], ir.Name) and values[i].id in self.tangents):    # zero
                zero = self.namer.temp()
                code.append(ir.Assign(zero, self.zeros(values[i]), s.line))
                values[i] = ir.Name(zero)
        return code + [replace(s, values=tuple(values))]

    # ---- the loop over directions -------------------------------------------------------

    def directions_loop(self, group) -> list:
        """for k in range(K): the group, each number tangent read once into a local, and
        stored back where code outside the group reads it, or the group itself on its next
        run (read before it is assigned); array tangents through views of their element."""
        k = self.namer.fresh("k")
        views, before, body, local, loaded = {}, [], [], {}, set()
        line = group[0].line
        inside = {id(s) for s in group}

        def view(array, index):
            key = (array, index)
            if key not in views:
                views[key] = self.namer.fresh(array + "_at")
                before.append(ir.Assign(views[key], ir.Item(ir.Name(array), index), line))
            return ir.Name(views[key])

        def read(atom):
            if isinstance(atom, ir.Name) and atom.id in self.number_tangents:
                if atom.id not in local:
                    loaded.add(atom.id)
                    local[atom.id] = self.namer.fresh(atom.id + "_k")
                    body.append(ir.Assign(local[atom.id], ir.Item(atom, (ir.Name(k),)), line))
                return ir.Name(local[atom.id])
            return atom

        for s in group:
            if isinstance(s, ir.SetItem):
                body.append(ir.SetItem(view(s.array, s.index).id, (ir.Const(Ellipsis), ir.Name(k)), read(s.value),
                                       s.line, s.accumulate))
                continue
            value = s.value
            if isinstance(value, ir.Item) and value.array.id in self.array_tangents:
                element = view(value.array.id, value.index)
                value = ir.Item(element, (ir.Name(k),)) if s.target in self.number_tangents \
                    else ir.Opaque("in_direction", (element, ir.Name(k)), None)
            elif isinstance(value, ir.Item):         # an element of a tangent no seed reaches: zero
                pass
            elif isinstance(value, ir.Prim):
                value = ir.Prim(value.op, tuple(read(a) for a in value.args), value.family)
            elif isinstance(value, ir.Passive):
                value = ir.Passive(_renamed(value.expr, {n: read(ir.Name(n)).id
                                                         for n in ir.value_reads(value) & self.number_tangents}))
            else:
                value = read(value)
            local[s.target] = self.namer.fresh(s.target + "_k")
            body.append(ir.Assign(local[s.target], value, s.line))
            if s.target in loaded or self.statements_of[s.target] - inside:
                body.append(ir.SetItem(s.target, (ir.Name(k),), ir.Name(local[s.target]), s.line))
        return before + [ir.For(k, ir.Const(0), ir.Name(self.count), ir.Const(1), body, line)]


def _seeded(body, seeds: set) -> set:
    """The names a seed reaches: tangents that are not zero in every direction."""
    reached, changed = set(seeds), True
    while changed:
        changed = False
        for s in ir.walk(body):
            new = set()
            if isinstance(s, ir.Assign) and ir.value_reads(s.value) & reached:
                new = {s.target}
            elif isinstance(s, ir.SetItem) and (ir.reads(s) - {s.array}) & reached:
                new = {s.array}
            elif isinstance(s, ir.Unpack) and ir.value_reads(s.value) & reached:
                new = set(s.targets[len(s.targets) // 2:])
            if new - reached:
                reached |= new
                changed = True
    return reached


def _reads(index) -> set:
    return {a.id for a in ir.index_atoms(index) if isinstance(a, ir.Name)}


def _renamed(tree, names: dict):
    tree = copy.deepcopy(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            node.id = names[node.id]
    return tree
