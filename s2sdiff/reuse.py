"""Values one loop iteration can hand to the next.

Reads (predictive commoning).  In `for i in range(a, b)`, a value computed from
`x[i + 1]` in one iteration is the value the next iteration computes from `x[i]`.
Adjoint loops are full of such pairs — the adjoint of `sin(x[i]) * cos(x[i + 1])` needs
sin and cos of both elements — and recomputing them doubles the transcendental work.
The later-offset value is kept in a variable for the next iteration instead; the first
iteration's value is computed before the loop.  Only pure values built from element
reads of arrays the loop does not write, the loop variable plus constants, and loop
invariants qualify, and only those that contain a call worth saving.

Writes (scatter rotation).  An adjoint loop adds into `bx[i]` and `bx[i + 1]`; element
i + 1 gets the rest of its sum in the next iteration.  Handing that contribution on in
a variable leaves one read-modify-write per element, which streams and vectorizes like
a hand-written gradient in gather form.
"""
from __future__ import annotations

import ast
from dataclasses import replace

from . import ir
from .names import Namer
from .rules import CHEAP
from .runtime import HELPERS

def reuse_across_iterations(function: ir.Function) -> ir.Function:
    namer = Namer(ir.all_names(function))
    params = set(function.params)
    rotations = {}
    body = _first_writes(_block(function.body, namer, params, rotations), rotations, namer)
    namespace = dict(function.namespace)
    for s in ir.walk(body):
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Opaque) and s.value.name in HELPERS:
            namespace[s.value.name] = HELPERS[s.value.name]
    return replace(function, body=body, namespace=namespace)


def _block(body, namer, params, rotations) -> list:
    out = []
    for s in body:
        if isinstance(s, ir.If):
            s = ir.If(s.test, _block(s.body, namer, params, {}), _block(s.orelse, namer, params, {}), s.line)
        elif isinstance(s, ir.While):
            s = ir.While(s.test, _block(s.body, namer, params, {}), s.line)
        elif isinstance(s, ir.For):
            s = replace(s, body=_block(s.body, namer, params, {}))
            if s.step == ir.Const(1) and not s.parallel:
                out.extend(_Loop(s, namer, params, rotations).rewrite())
                continue
        out.append(s)
    return out


def _first_writes(body, rotations, namer) -> list:
    """An adjoint array whose first writer is a loop over range(0, stop) that writes each
    element of a range once — a rotated loop (elements low … stop + low) or one adding into
    its own element (0 … stop - 1) — can store instead of add, and only the elements
    outside that range need zeroing: a hand-written gradient's traffic."""
    out, prologues = [], {}
    for i, s in enumerate(body):
        out.append(s)
        if not (isinstance(s, ir.Assign) and isinstance(s.value, ir.Opaque) and s.value.name == "zero_like"):
            continue
        array = s.target
        first = next((t for t in body[i + 1:] if array in ir.reads_within([t])), None)
        writes = [t for t in ir.walk(body[i + 1:]) if isinstance(t, ir.SetItem) and t.array == array]
        rotation = rotations.get(array)
        code = []
        if _stores_own_elements(first, array, writes):
            loop, stores, low, after = first, writes, 0, first.stop
        elif rotation is not None and first is rotation.loop and first.start == ir.Const(0) and rotation.low >= 0 \
                and all(t is rotation.store or t is rotation.flush for t in writes):
            loop, stores, low, after = first, [rotation.store, rotation.flush], rotation.low, ir.Name(namer.temp())
            code.append(ir.Assign(after.id, ir.Prim("add", (loop.stop, ir.Const(low + 1))), loop.line))
        else:
            continue
        for t in stores:
            t.accumulate = False
        out[-1] = ir.Assign(array, ir.Prim("empty_adjoint", s.value.args, "runtime"), s.line)
        # Zero what the loop does not write: a[:low] and a[after:], or all of a if it runs no iteration.
        zero = [ir.SetItem(array, (part,), ir.Const(0.0), loop.line) for part in (ir.Slice(hi=ir.Const(low)),
                                                                                   ir.Slice(lo=after))]
        none_run = ast.Compare(_tree(loop.stop), [ast.LtE()], [_tree(ir.Const(0))])
        code.append(ir.If(none_run, [ir.SetItem(array, (ir.Slice(),), ir.Const(0.0), loop.line)],
                          zero[1:] if low == 0 else zero, loop.line))
        prologues.setdefault(id(loop), []).extend(code)
    return [t for s in out for t in prologues.get(id(s), []) + [s]]


def _stores_own_elements(loop, array, writes) -> bool:
    """Whether `loop` is `for it in range(stop)` adding once per iteration, unconditionally,
    into element `it` of `array` (writes: every write to it from here on) and reading no
    other element of it: each element 0 … stop - 1 then gets exactly one addition."""
    if not (isinstance(loop, ir.For) and loop.start == ir.Const(0) and loop.step == ir.Const(1)
            and len(writes) == 1 and writes[0].accumulate and len(writes[0].index) == 1
            and any(t is writes[0] for t in loop.body)):
        return False
    if any(isinstance(t, (ir.Break, ir.Continue, ir.Return)) for t in ir.walk(loop.body)):
        return False
    others = [t for t in loop.body if t is not writes[0]]
    return ir.Offsets(loop.body).of(writes[0].index[0], loop.var) == 0 and writes[0].value != ir.Name(array) \
        and array not in ir.reads_within(others)


class _Rotation:
    def __init__(self, low, store, flush):
        self.low, self.store, self.flush = low, store, flush
        self.loop = None


class _Loop:
    def __init__(self, loop: ir.For, namer: Namer, params, rotations):
        self.loop, self.namer, self.rotations = loop, namer, rotations
        self.rotated = {}
        self.assigned = {loop.var} | ir.assigned_within(loop.body)
        written = {s.array for s in ir.walk(loop.body) if isinstance(s, ir.SetItem)}
        # Arrays written here are the function's own (adjoints, tapes), never a parameter it
        # reads elements of, so element reads of parameters cannot see those writes.
        self.safe = written.isdisjoint(params)
        counts = {}
        for s in loop.body:
            if isinstance(s, ir.Assign):
                counts[s.target] = counts.get(s.target, 0) + 1
        once = {n for n, c in counts.items() if c == 1 and n not in _nested_targets(loop.body)}
        # A name read before its assignment in the body holds the previous iteration's value.
        defined, carried = set(), set()
        for s in loop.body:
            carried |= ir.reads_within([s]) - defined
            if isinstance(s, ir.Assign):
                defined.add(s.target)
        self.defs = {s.target: s.value for s in loop.body
                     if isinstance(s, ir.Assign) and s.target in once - carried}
        self.memo = {}

    def offset(self, atom):
        """k if `atom` is the loop variable plus the constant k, else None."""
        if atom == ir.Name(self.loop.var):
            return 0
        if not isinstance(atom, ir.Name) or atom.id not in self.defs:
            return None
        value = self.defs[atom.id]
        if isinstance(value, ir.Name):
            return self.offset(value)
        if isinstance(value, ir.Prim) and value.op in ("add", "sub"):
            a, b = value.args
            if isinstance(b, ir.Const) and isinstance(b.value, int) and (k := self.offset(a)) is not None:
                return k + b.value if value.op == "add" else k - b.value
            if value.op == "add" and isinstance(a, ir.Const) and isinstance(a.value, int) \
                    and (k := self.offset(b)) is not None:
                return k + a.value
        return None

    def signature(self, atom):
        """A shape of the value with its element offsets, or None if it is not reusable."""
        if isinstance(atom, ir.Const):
            return ("const", atom.value)
        if atom.id not in self.assigned:
            return ("invariant", atom.id)
        if atom.id not in self.defs:
            return None
        if atom.id in self.memo:
            return self.memo[atom.id]
        value, sig = self.defs[atom.id], None
        if isinstance(value, ir.Item) and len(value.index) == 1 and value.array.id not in self.assigned:
            k = self.offset(value.index[0])
            sig = None if k is None else ("item", value.array.id, k)
        elif isinstance(value, ir.Prim):
            args = tuple(self.signature(a) for a in value.args)
            if all(a is not None for a in args):
                sig = ("prim", value.op, value.family, args)
        elif isinstance(value, ir.Name):
            sig = self.signature(value)
        self.memo[atom.id] = sig
        return sig

    def rewrite(self) -> list:
        loop = self.loop
        if not self.safe or any(isinstance(s, ir.Continue) for s in ir.this_level(loop.body)):
            return [loop]
        found = {}
        for s in loop.body:
            if isinstance(s, ir.Assign) and s.target in self.defs:
                sig = self.signature(ir.Name(s.target))
                if sig is not None and _costly(sig) and sig not in found:
                    found[sig] = s.target
        pairs = [(found[shifted], later) for sig, later in found.items()
                 if (shifted := _shifted(sig, -1)) in found and found[shifted] != later]
        before, body, line = [], list(loop.body), loop.line
        after = []
        for array in sorted({s.array for s in body if isinstance(s, ir.SetItem)}):
            body = self.rotate(array, body, before, after)
        for earlier, later in pairs:
            carried = self.namer.fresh(f"{earlier}_next")
            before.append(ir.Assign(carried, ir.Const(0.0), line))
            first = self.instantiate(self.signature(ir.Name(earlier)), loop.start, line)
            before.append(ir.If(_less(loop.start, loop.stop), first[0] + [ir.Assign(carried, first[1], line)], [],
                                line))
            body = [ir.Assign(earlier, ir.Name(carried), s.line) if isinstance(s, ir.Assign) and s.target == earlier
                    else s for s in body]
            body.append(ir.Assign(carried, ir.Name(later), line))
        if not before:
            return [loop]
        new_loop = ir.For(loop.var, loop.start, loop.stop, loop.step, body, line)
        for array, rotation in self.rotated.items():
            rotation.loop = new_loop
            self.rotations[array] = rotation
        return before + [new_loop] + after

    def rotate(self, array, body, before, after) -> list:
        """Scatter rotation of the additions into `array`, when they go to two neighbours."""
        loop, line = self.loop, self.loop.line
        adds, others = [], []
        for s in body:
            if isinstance(s, ir.SetItem) and s.array == array:
                k = self.offset(s.index[0]) if s.accumulate and len(s.index) == 1 else None
                if k is None:
                    return body
                adds.append((k, s))
            else:
                others.append(s)
        offsets = sorted({k for k, _ in adds})
        if len(offsets) != 2 or offsets[1] != offsets[0] + 1 or array in ir.reads_within(others) \
                or any(isinstance(t, ir.SetItem) and t.array == array for t in ir.walk(others)):
            return body
        low = [s for k, s in adds if k == offsets[0]]
        high = [s for k, s in adds if k == offsets[1]]
        carried = self.namer.fresh(f"{array}_next")
        before.append(ir.Assign(carried, ir.Const(0.0), line))
        total, code = ir.Name(carried), []
        for s in low:
            t = self.namer.temp()
            code.append(ir.Assign(t, ir.Prim("add", (total, s.value)), line))
            total = ir.Name(t)
        code.append(ir.SetItem(array, low[0].index, total, line, accumulate=True))
        handed = high[0].value
        for s in high[1:]:
            t = self.namer.temp()
            code.append(ir.Assign(t, ir.Prim("add", (handed, s.value)), line))
            handed = ir.Name(t)
        code.append(ir.Assign(carried, handed, line))
        # After the last iteration i = stop - 1, its share for element stop + low is pending.
        flush, last = [], loop.stop
        if offsets[0]:
            last = ir.Name(self.namer.temp())
            flush.append(ir.Assign(last.id, ir.Prim("add", (loop.stop, ir.Const(offsets[0]))), line))
        flush.append(ir.SetItem(array, (last,), ir.Name(carried), line, accumulate=True))
        after.append(ir.If(_less(loop.start, loop.stop), flush, [], line))
        self.rotated[array] = _Rotation(offsets[0], next(c for c in code if isinstance(c, ir.SetItem)), flush[-1])
        return others + code

    def instantiate(self, sig, start, line):
        """Statements computing `sig` with the loop variable at `start`: (code, atom)."""
        kind = sig[0]
        if kind == "const":
            return [], ir.Const(sig[1])
        if kind == "invariant":
            return [], ir.Name(sig[1])
        if kind == "item":
            code, index = [], start
            if sig[2]:
                index = ir.Name(self.namer.temp())
                code.append(ir.Assign(index.id, ir.Prim("add", (start, ir.Const(sig[2]))), line))
            value = self.namer.temp()
            return code + [ir.Assign(value, ir.Item(ir.Name(sig[1]), (index,)), line)], ir.Name(value)
        code, args = [], []
        for arg in sig[3]:
            arg_code, atom = self.instantiate(arg, start, line)
            code += arg_code
            args.append(atom)
        value = self.namer.temp()
        return code + [ir.Assign(value, ir.Prim(sig[1], tuple(args), sig[2]), line)], ir.Name(value)


def _costly(sig) -> bool:
    return sig[0] == "prim" and (sig[1] not in CHEAP or any(_costly(a) for a in sig[3]))


def _shifted(sig, by):
    if sig[0] == "item":
        return ("item", sig[1], sig[2] + by)
    if sig[0] == "prim":
        return ("prim", sig[1], sig[2], tuple(_shifted(a, by) for a in sig[3]))
    return sig


def _less(a, b):
    import ast
    tree = lambda atom: ast.Name(atom.id, ast.Load()) if isinstance(atom, ir.Name) else ast.Constant(atom.value)
    return ast.Compare(tree(a), [ast.Lt()], [tree(b)])


def _nested_targets(body) -> set:
    names = set()
    for s in body:
        if isinstance(s, (ir.If, ir.For, ir.While)):
            for t in ir.walk(s.body + (s.orelse if isinstance(s, ir.If) else [])):
                if isinstance(t, ir.Assign):
                    names.add(t.target)
    return names


def _tree(atom) -> ast.expr:
    return ast.Name(atom.id, ast.Load()) if isinstance(atom, ir.Name) else ast.Constant(atom.value)

