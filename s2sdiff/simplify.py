"""Clean-up on the core language: common subexpressions and dead temporaries.

Run after normalization (so `x**2` written twice is computed once, as in a hand
derivation) and after each transform (so repeated derivative terms are shared).  Only
names assigned exactly once are merged or dropped, which keeps both rewrites trivially
safe in loops and branches.
"""
from __future__ import annotations

import ast
from collections import Counter
from dataclasses import replace

from . import ir
from .rules import CREATIONS


def simplify(function: ir.Function) -> ir.Function:
    function = replace(function, body=_drop_round_trips(function.body))
    writes = _write_counts(function)
    bases = ir.view_bases(function)
    # an array written element by element is one of its own: never merged with an equal-looking one,
    # nor is any name whose array it may be (`y1_3 = y1` at a branch's join, a row, a transpose)
    written = {s.array for s in ir.walk(function.body) if isinstance(s, ir.SetItem)}
    written |= {base for name in written for base in bases.get(name, ())}
    single = {n for n, c in writes.items() if c == 1 and n not in function.params and n not in written}
    renames: dict = {}
    body = _cse(function.body, single, renames, bases)
    body = _rename(body, renames)
    body = _drop_dead(body, single)
    return replace(function, body=body)


def _drop_round_trips(body) -> list:
    """`b = a` right after `a = b` (neither rebound between) changes nothing: the adjoint of
    a running sum copies the carried adjoint in and straight back out."""
    out, copies = [], set()          # (a, b): a holds b's value
    for s in body:
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Name) and (s.value.id, s.target) in copies:
            continue
        if isinstance(s, ir.If):
            s = ir.If(s.test, _drop_round_trips(s.body), _drop_round_trips(s.orelse), s.line)
        elif isinstance(s, (ir.For, ir.While)):
            s = replace(s, body=_drop_round_trips(s.body))
        bound = ir.assigned_within([s])
        copies = {(a, b) for a, b in copies if a not in bound and b not in bound}
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Name):
            copies.add((s.target, s.value.id))
        out.append(s)
    return out


def _write_counts(function) -> Counter:
    counts = Counter()
    for s in ir.walk(function.body):
        if isinstance(s, ir.Assign):
            counts[s.target] += 1
        elif isinstance(s, ir.Unpack):
            counts.update(s.targets)
        elif isinstance(s, ir.For):
            counts[s.var] += 2          # a loop variable changes every iteration
    return counts


def _cse(body, single, renames, bases) -> list:
    available: dict = {}                # (op, args, family) -> name holding it
    out = []
    for s in body:
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Prim):
            value = ir.Prim(s.value.op, tuple(_renamed(a, renames) for a in s.value.args), s.value.family)
            key = (value.op, value.args, value.family)
            holder = None if value.op in CREATIONS else available.get(key)
            if holder is not None and s.target in single:
                renames[s.target] = holder
                continue
            s = ir.Assign(s.target, value, s.line)
            _invalidate(available, s.target)
            if s.target in single:
                available[key] = s.target
            out.append(s)
            continue
        if isinstance(s, ir.If):
            s = ir.If(s.test, _cse(s.body, single, renames, bases), _cse(s.orelse, single, renames, bases), s.line)
            available.clear()
        elif isinstance(s, ir.For):
            s = replace(s, body=_cse(s.body, single, renames, bases))
            available.clear()
        elif isinstance(s, ir.While):
            s = replace(s, body=_cse(s.body, single, renames, bases))
            available.clear()
        elif isinstance(s, ir.Assign) and isinstance(s.value, ir.Item) and s.target in single:
            item = ir.Item(_renamed(s.value.array, renames), ir.map_index(s.value.index, lambda a: _renamed(a, renames)))
            key = ("[]", (item.array,) + item.index, None)
            if key in available:
                renames[s.target] = available[key]
                continue
            _invalidate(available, s.target)
            available[key] = s.target
            s = ir.Assign(s.target, item, s.line)
        elif isinstance(s, ir.Assign):
            _invalidate(available, s.target)
        elif isinstance(s, ir.SetItem):         # what was computed from the array's old elements, or a view's
            written = {s.array} | bases.get(s.array, set())
            for name in {n.id for key in available for n in key[1] if isinstance(n, ir.Name)}:
                if name not in written and ({name} | bases.get(name, set())) & written:
                    _invalidate(available, name)
            _invalidate(available, s.array)
        elif isinstance(s, ir.Unpack):
            for t in s.targets:
                _invalidate(available, t)
        out.append(s)
    return out


def _renamed(atom, renames):
    while isinstance(atom, ir.Name) and atom.id in renames:
        atom = ir.Name(renames[atom.id])
    return atom


def _invalidate(available, name):
    for key in [k for k, v in available.items() if v == name or ir.Name(name) in k[1]]:
        del available[key]


class _RenameAst(ast.NodeTransformer):
    def __init__(self, renames):
        self.renames = renames

    def visit_Name(self, node):
        if node.id in self.renames:
            return ast.copy_location(ast.Name(_renamed(ir.Name(node.id), self.renames).id, node.ctx), node)
        return node


def _rename(body, renames) -> list:
    if not renames:
        return body
    atom = lambda a: _renamed(a, renames)
    fix = lambda tree: _RenameAst(renames).visit(_copy(tree))
    out = []
    for s in body:
        if isinstance(s, ir.Assign):
            v = s.value
            if isinstance(v, (ir.Name, ir.Const)):
                v = atom(v)
            elif isinstance(v, ir.Prim):
                v = ir.Prim(v.op, tuple(map(atom, v.args)), v.family)
            elif isinstance(v, ir.Call):
                v = ir.Call(v.callee, tuple(map(atom, v.args)))
            elif isinstance(v, ir.Opaque):
                v = ir.Opaque(v.name, tuple(map(atom, v.args)), v.node)
            elif isinstance(v, ir.Item):
                v = ir.Item(atom(v.array), ir.map_index(v.index, atom))
            elif isinstance(v, ir.Passive):
                v = ir.Passive(fix(v.expr))
            s = ir.Assign(s.target, v, s.line)
        elif isinstance(s, ir.Unpack):
            s = ir.Unpack(s.targets, ir.Call(s.value.callee, tuple(map(atom, s.value.args))), s.line)
        elif isinstance(s, ir.SetItem):
            s = ir.SetItem(s.array, ir.map_index(s.index, atom), atom(s.value), s.line, s.accumulate)
        elif isinstance(s, ir.If):
            s = ir.If(fix(s.test), _rename(s.body, renames), _rename(s.orelse, renames), s.line)
        elif isinstance(s, ir.For):
            s = replace(s, start=atom(s.start), stop=atom(s.stop), step=atom(s.step), body=_rename(s.body, renames))
        elif isinstance(s, ir.While):
            s = replace(s, test=fix(s.test), body=_rename(s.body, renames))
        elif isinstance(s, ir.Return):
            s = ir.Return(tuple(map(atom, s.values)), s.tuple_result, s.line)
        elif isinstance(s, ir.Verbatim):
            s = ir.Verbatim(fix(s.stmt), s.line)
        out.append(s)
    return out


def _copy(tree):
    import copy
    return copy.deepcopy(tree)


def _reads(body) -> Counter:
    return Counter(name for s in ir.walk(body) for name in ir.reads(s))

def _drop_dead(body, single) -> list:
    """Remove pure single assignments nobody reads (repeat: removal frees their operands)."""
    while True:
        reads = _reads(body)
        dead = {n for n in single if reads[n] == 0}
        new = _without(body, dead)
        if _count(new) == _count(body):
            return new
        body = new


def _without(body, dead) -> list:
    out = []
    for s in body:
        if isinstance(s, ir.Assign) and s.target in dead and isinstance(s.value, (ir.Prim, ir.Name, ir.Const, ir.Passive, ir.Item)):
            continue
        if isinstance(s, ir.If):
            s = ir.If(s.test, _without(s.body, dead), _without(s.orelse, dead), s.line)
        elif isinstance(s, ir.For):
            s = replace(s, body=_without(s.body, dead))
        elif isinstance(s, ir.While):
            s = replace(s, body=_without(s.body, dead))
        out.append(s)
    return out


def _count(body) -> int:
    return sum(1 for _ in ir.walk(body))
