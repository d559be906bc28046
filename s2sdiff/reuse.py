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

Index forms.  Both work on any index that is, in each position, an invariant plus the
loop variable times -1, 0 or 1 plus a constant: `x[i - 1]`, `x[n - 1 - i]`, the variable of
a loop running backwards, `u[i, j - 1]` and `u[i + 1, j]` in a loop over j.  The next
iteration's value at index F is this iteration's at F with the variable one further on.
A periodic index `x[(i + 1) % n]` equals `x[i + 1]` wherever 0 <= i + 1 < n: the loop is
split there, and only the iterations outside that range (the wrap-around) keep the `%`.
"""
from __future__ import annotations

import ast
import copy
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
        elif rotation is not None and first is rotation.loop and first.start == ir.Const(0) \
                and rotation.low is not None and rotation.low >= 0 and _only_writes(first, array, rotation.store) \
                and any(t is rotation.flush for t in writes):
            # writes after the flush, which follows the loop, find every element set
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


def _only_writes(loop, array, store) -> bool:
    writes = [t for t in ir.walk([loop]) if isinstance(t, ir.SetItem) and t.array == array]
    return len(writes) == 1 and writes[0] is store


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
        # low: k when the loop stores into element it + k of a vector (else None, and
        # _first_writes leaves the array zeroed)
        self.low, self.store, self.flush = low, store, flush
        self.loop = None


class _Loop:
    def __init__(self, loop: ir.For, namer: Namer, params, rotations):
        self.loop, self.namer, self.params, self.rotations = loop, namer, params, rotations
        self.rotated = {}
        self.assigned = {loop.var} | ir.assigned_within(loop.body)
        self.written = {s.array for s in ir.walk(loop.body) if isinstance(s, ir.SetItem)}
        # Arrays written here are the function's own (adjoints, tapes), never a parameter it
        # reads elements of, so element reads of parameters cannot see those writes.
        self.safe = self.written.isdisjoint(params)
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
        self.hoisted = {}           # name outside the loop -> a shape query of an invariant array
        self.hoisted_as = {}        # the name the loop gives it -> that name

    def form(self, atom):
        """`atom` as (terms, a, k), the value sum(c * name for name, c in terms) + a * var + k
        with the names loop invariants and a one of -1, 0, 1; None if it is not of that shape."""
        if isinstance(atom, ir.Const):
            return ((), 0, atom.value) if type(atom.value) is int else None
        if not isinstance(atom, ir.Name):
            return None
        if atom.id == self.loop.var:
            return (), 1, 0
        if atom.id not in self.assigned:
            return ((atom.id, 1),), 0, 0
        value = self.defs.get(atom.id)
        if isinstance(value, (ir.Name, ir.Const)):
            return self.form(value)
        if isinstance(value, ir.Prim) and value.op in ("len", "dim", "size") \
                and all(isinstance(a, ir.Const) or a.id not in self.assigned for a in value.args):
            # x[(i + 1) % len(x)]: the same every iteration, so computed before the loop under a
            # name of its own where code outside it needs the value
            if atom.id not in self.hoisted_as:
                self.hoisted_as[atom.id] = self.namer.fresh(atom.id)
                self.hoisted[self.hoisted_as[atom.id]] = value
            return ((self.hoisted_as[atom.id], 1),), 0, 0
        if not (isinstance(value, ir.Prim) and value.family == "op" and value.op in ("add", "sub", "neg", "mul")):
            return None
        forms = [self.form(a) for a in value.args]
        if None in forms:
            return None
        if value.op == "neg":
            result = _scaled(forms[0], -1)
        elif value.op == "mul":             # by a constant: `it * -1` of a loop running backwards
            constant = [f for f in forms if f[:2] == ((), 0)]
            if not constant:
                return None
            result = _scaled(forms[1] if constant[0] is forms[0] else forms[0], constant[0][2])
        else:
            result = _sum(forms[0], forms[1] if value.op == "add" else _scaled(forms[1], -1))
        return result if abs(result[1]) <= 1 else None

    def index_forms(self, index):
        forms = tuple(self.form(a) for a in index)
        return None if None in forms else forms

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
        if isinstance(value, ir.Item) and value.array.id not in self.assigned | self.written:
            forms = self.index_forms(value.index)
            sig = None if forms is None else ("item", value.array.id, forms)
        elif isinstance(value, ir.Prim):
            args = tuple(self.signature(a) for a in value.args)
            if all(a is not None for a in args):
                sig = ("prim", value.op, value.family, args)
        elif isinstance(value, ir.Name):
            sig = self.signature(value)
        self.memo[atom.id] = sig
        return sig

    def rewrite(self) -> list:
        if not self.safe:
            return [self.loop]
        wraps = self.wraps()
        if wraps:
            split = self.split(wraps)
            if split is not None:
                return split
        return self.reuse()

    def reuse(self) -> list:
        loop = self.loop
        if any(isinstance(s, ir.Continue) for s in ir.this_level(loop.body)):
            return [loop]
        found = {}
        for s in loop.body:
            if isinstance(s, ir.Assign) and s.target in self.defs:
                sig = self.signature(ir.Name(s.target))
                if sig is not None and _costly(sig) and sig not in found:
                    found[sig] = s.target
        # the value `earlier` of the next iteration is the value `later` of this one
        pairs = [(earlier, found[ahead]) for sig, earlier in found.items()
                 if (ahead := _advanced(sig)) in found and found[ahead] != earlier]
        before, body, line = [], list(loop.body), loop.line
        after = []
        exits = any(isinstance(s, ir.Break) for s in ir.this_level(body)) \
            or any(isinstance(s, ir.Return) for s in ir.walk(body))
        for array in [] if exits else sorted({s.array for s in body if isinstance(s, ir.SetItem)}):
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
        return self.hoist(ir.reads_within(before + after)) + before + [new_loop] + after

    def hoist(self, names) -> list:
        """The shape queries among `names`, computed before the loop as well as in it."""
        return [ir.Assign(name, value, self.loop.line) for name, value in self.hoisted.items() if name in names]

    def wraps(self) -> dict:
        """Names holding `(linear in the loop variable) % (invariant)` that the loop reads
        only as indices (so as integers): name -> (numerator form, modulus form)."""
        found = {}
        for name, value in self.defs.items():
            if isinstance(value, ir.Prim) and value.op == "mod" and value.family in ("op", "np"):
                numerator, modulus = (self.form(a) for a in value.args)
                if numerator and modulus and numerator[1] and not modulus[1] and self.index_only(name):
                    found[name] = (numerator, modulus)
        return found

    def index_only(self, name) -> bool:
        for s in ir.walk(self.loop.body):
            if name not in ir.reads(s):
                continue
            if isinstance(s, ir.Assign) and isinstance(s.value, ir.Item):
                array, value = s.value.array, None
            elif isinstance(s, ir.SetItem):
                array, value = ir.Name(s.array), s.value
            else:
                return False
            if ir.Name(name) in (array, value):
                return False
        return True

    def split(self, wraps):
        """A loop over x[(i + 1) % n] as three: the iterations before and after those where
        every such index stays in 0 … n - 1 run as written; in between, where
        `(i + 1) % n` is `i + 1`, the loop reuses values as for a neighbour x[i + 1].
        None if that middle loop gains nothing."""
        loop, line = self.loop, self.loop.line
        middle = [ir.Assign(s.target, s.value.args[0], s.line) if isinstance(s, ir.Assign) and s.target in wraps
                  else s for s in loop.body]
        lowers, uppers, none_before = [_text(loop.start)], [_text(loop.stop)], isinstance(loop.start, ir.Const)
        for numerator, modulus in wraps.values():
            value = (numerator[0], 0, numerator[2])
            # a = 1: 0 <= value + it < m; a = -1: 0 <= value - it < m
            if numerator[1] == 1:
                lower, upper = _scaled(value, -1), _sum(modulus, _scaled(value, -1))
            else:
                lower, upper = _sum(value, _scaled(modulus, -1), ((), 0, 1)), _sum(value, ((), 0, 1))
            lowers.append(_linear_text(lower))
            uppers.append(_linear_text(upper))
            none_before = none_before and not lower[0] and lower[2] <= loop.start.value
        # with no iteration before the middle, it starts where the loop does (a constant
        # start lets _first_writes see it); where stop < start both it and the rest run none
        lo = loop.start if none_before else ir.Name(self.namer.fresh("lo"))
        hi = ir.Name(self.namer.fresh("hi"))
        reused = _Loop(ir.For(loop.var, lo, hi, loop.step, middle, line), self.namer, self.params,
                       self.rotations).reuse()
        if len(reused) == 1:
            return None
        bounds = [ir.Assign(hi.id, ir.Passive(_expression(f"max({_nested('min', uppers)}, {_text(lo)})")), line)]
        before = []
        if not none_before:
            bounds.insert(0, ir.Assign(lo.id, ir.Passive(_expression(
                f"min({_nested('max', lowers)}, {_text(loop.stop)})")), line))
            before = [ir.For(loop.var, loop.start, lo, loop.step, copy.deepcopy(loop.body), line)]
        bounds = self.hoist({name for form in wraps.values() for part in form for name, _ in part[0]}) + bounds
        return bounds + before + reused + [ir.For(loop.var, hi, loop.stop, loop.step, copy.deepcopy(loop.body), line)]

    def rotate(self, array, body, before, after) -> list:
        """Scatter rotation of the additions into `array` at two neighbours: the element one
        iteration adds to at index G is the one the next adds to at F (G = F advanced)."""
        loop, line = self.loop, self.loop.line
        adds = {}
        for p, s in enumerate(body):
            if isinstance(s, ir.SetItem) and s.array == array and s.accumulate:
                forms = self.index_forms(s.index)
                if forms is not None:
                    adds.setdefault(forms, []).append((p, s))
        # other writes may add into the same elements, in any order, but nothing may read them
        for s in ir.walk(body):
            if isinstance(s, ir.SetItem) and s.array == array:
                if not s.accumulate or array in {a.id for a in ir.index_atoms(s.index) + (s.value,)
                                                 if isinstance(a, ir.Name)}:
                    return body
            elif array in ir.reads(s):
                return body
        low_form = next((f for f in adds if _advanced_form(f) != f and _advanced_form(f) in adds), None)
        if low_form is None:
            return body
        low, high = adds[low_form], adds[_advanced_form(low_form)]
        moved = low + high
        # they move to the end of the body: what they read must not change before it
        for p, s in moved:
            read = {a.id for a in ir.index_atoms(s.index) + (s.value,) if isinstance(a, ir.Name)}
            if read & ir.assigned_within(body[p + 1:]):
                return body
        carried = self.namer.fresh(f"{array}_next")
        before.append(ir.Assign(carried, ir.Const(0.0), line))
        total, code = ir.Name(carried), []
        for _, s in low:
            t = self.namer.temp()
            code.append(ir.Assign(t, ir.Prim("add", (total, s.value)), line))
            total = ir.Name(t)
        store = ir.SetItem(array, low[0][1].index, total, line, accumulate=True)
        code.append(store)
        handed = high[0][1].value
        for _, s in high[1:]:
            t = self.namer.temp()
            code.append(ir.Assign(t, ir.Prim("add", (handed, s.value)), line))
            handed = ir.Name(t)
        code.append(ir.Assign(carried, handed, line))
        # After the last iteration, its share for element G is F's of iteration `stop`.
        flush, index = [], []
        for form in low_form:
            form_code, atom = self.linear(form, loop.stop, line)
            flush += form_code
            index.append(atom)
        flush.append(ir.SetItem(array, tuple(index), ir.Name(carried), line, accumulate=True))
        after.append(ir.If(_less(loop.start, loop.stop), flush, [], line))
        simple = len(low_form) == 1 and low_form[0][:2] == ((), 1)
        self.rotated[array] = _Rotation(low_form[0][2] if simple else None, store, flush[-1])
        moved_ids = {id(s) for _, s in moved}
        return [s for s in body if id(s) not in moved_ids] + code

    def linear(self, form, var, line):
        """Statements computing `form` with the loop variable at `var`: (code, atom)."""
        terms, a, k = form
        if isinstance(var, ir.Const):
            a, k = 0, k + a * var.value
        parts = [(ir.Name(n), c) for n, c in terms] + ([(var, a)] if a else [])
        code, total = [], None

        def store(value):
            name = self.namer.temp()
            code.append(ir.Assign(name, value, line))
            return ir.Name(name)
        for atom, c in parts:
            if total is None:
                total = atom if c == 1 else store(ir.Prim("mul", (ir.Const(c), atom)))
            elif c in (1, -1):
                total = store(ir.Prim("add" if c == 1 else "sub", (total, atom)))
            else:
                total = store(ir.Prim("add", (total, store(ir.Prim("mul", (ir.Const(c), atom))))))
        if total is None:
            return code, ir.Const(k)
        return code, store(ir.Prim("add" if k > 0 else "sub", (total, ir.Const(abs(k))))) if k else total

    def instantiate(self, sig, start, line):
        """Statements computing `sig` with the loop variable at `start`: (code, atom)."""
        kind = sig[0]
        if kind == "const":
            return [], ir.Const(sig[1])
        if kind == "invariant":
            return [], ir.Name(sig[1])
        if kind == "item":
            code, index = [], []
            for form in sig[2]:
                form_code, atom = self.linear(form, start, line)
                code += form_code
                index.append(atom)
            value = self.namer.temp()
            return code + [ir.Assign(value, ir.Item(ir.Name(sig[1]), tuple(index)), line)], ir.Name(value)
        code, args = [], []
        for arg in sig[3]:
            arg_code, atom = self.instantiate(arg, start, line)
            code += arg_code
            args.append(atom)
        value = self.namer.temp()
        return code + [ir.Assign(value, ir.Prim(sig[1], tuple(args), sig[2]), line)], ir.Name(value)


def _sum(*forms):
    terms = {}
    for f in forms:
        for name, c in f[0]:
            terms[name] = terms.get(name, 0) + c
    return (tuple(sorted((n, c) for n, c in terms.items() if c)), sum(f[1] for f in forms),
            sum(f[2] for f in forms))


def _scaled(f, c):
    return tuple((n, c * d) for n, d in f[0]), c * f[1], c * f[2]


def _advanced_form(forms):
    """An index's forms one iteration later, in this iteration's terms: var + 1 for var."""
    return tuple((terms, a, k + a) for terms, a, k in forms)


def _advanced(sig):
    """The signature of the value the next iteration computes, in this iteration's terms."""
    if sig[0] == "item":
        return "item", sig[1], _advanced_form(sig[2])
    if sig[0] == "prim":
        return "prim", sig[1], sig[2], tuple(_advanced(a) for a in sig[3])
    return sig


def _text(atom) -> str:
    return atom.id if isinstance(atom, ir.Name) else repr(atom.value)


def _linear_text(form) -> str:
    """An invariant form as Python: `n - 1`."""
    terms, _, k = form
    text = ""
    for name, c in terms:
        term = name if abs(c) == 1 else f"{abs(c)} * {name}"
        text += (" - " if c < 0 else " + ") + term if text else ("-" if c < 0 else "") + term
    if not text:
        return str(k)
    return text + (f" + {k}" if k > 0 else f" - {-k}" if k < 0 else "")


def _nested(function, parts) -> str:
    text = parts[0]
    for part in parts[1:]:
        text = f"{function}({text}, {part})"
    return text


def _expression(text):
    return ast.parse(text, mode="eval").body


def _costly(sig) -> bool:
    return sig[0] == "prim" and (sig[1] not in CHEAP or any(_costly(a) for a in sig[3]))


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

