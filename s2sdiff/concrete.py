"""Concrete code for the kinds a call fixes: the type-generic shape helpers a transform
writes (`adjoint_like`, `tangent_like`) replaced by what they do for the ranks and shapes
the code proves.

A transform built for a call knows which parameters are numbers and which are arrays of
which rank (DESIGN §3).  The adjoint of an elementwise operand is `adjoint_like(g, x)`:
g summed back to x's shape.  Where x is a number that is `np.sum(g)` (or g itself), and
where g is proved to have x's shape, it is g: numba then compiles neither the helper nor
the NumPy functions its other cases call.  The helper stays where a shape truly varies
(`a + b` of two vectors may broadcast one of length 1).  The adjoints of the operands of
`x @ y` (`matmul_adjoint_left/right`) become the product, transpose or outer product the
ranks call for.

Shapes are proved equal only along the code's own evidence: an elementwise result has
the shape of its array operands when they all have one shape; a number operand changes
nothing.  Only names assigned once are related, and a relation found in a loop's body or
a branch stays there, so every relation holds wherever it is used.
"""
from __future__ import annotations

import ast
from collections import Counter
from dataclasses import replace

from . import ir
from .analyze import ARRAY, SHAPED_LIKE_FIRST, SHAPED_LIKE_SECOND, array_ndims
from .names import Namer
from .rules import RULES

def concrete(function: ir.Function) -> ir.Function:
    """`function` with its shape helpers resolved where its kinds decide them; code
    written for no particular kinds (for numba callers) is left as it is."""
    if not function.kinds:
        return function
    ndims = array_ndims(function, function.numbers, function.kinds)
    assignments = Counter(t for s in ir.walk(function.body) for t in ir.targets(s))
    stable = {n for n, count in assignments.items() if count == 1} | {p for p in function.params
                                                                       if not assignments[p]}
    readers = Counter(name for s in ir.walk(function.body) for name in ir.reads(s))
    parameters = {p: p for p in function.params if p in stable}
    # helpers are spelled out only where every parameter's kind is the call's, not a guess
    # checked as the code runs (code for numba callers knows only its cotangent seed's)
    called = set(function.params) <= {p for p, rank in function.kinds if rank != ARRAY}
    shapes = _Shapes(ndims, stable, readers, Namer(ir.all_names(function)), called)
    return replace(function, body=shapes.block(function.body, parameters))


class _Shapes:
    def __init__(self, ndims, stable, readers, namer, called):
        self.ndims, self.stable, self.readers, self.namer, self.called = ndims, stable, readers, namer, called
        self.shape_tuples = {}        # a name for x's shape tuple -> x
        self.spread = {}              # a name for a number spread over an array's shape -> the number

    def block(self, body, shape_of) -> list:
        """`shape_of`: each name assigned once that holds its value here (parameters, and
        names assigned earlier on the way here) -> a name proved to have its shape."""
        shape_of, out, resolved = dict(shape_of), [], set()      # ids of the statements rewritten
        for s in body:
            if isinstance(s, ir.Assign):
                value = self.spelled_out(s.value, out, s.line)
                value = self.matmul_adjoint(self.unspread(self.resolved(value, shape_of), shape_of), out, s.line)
                rewritten = value is not s.value
                if (isinstance(value, ir.Name) and self.only_read_here(value, out)
                        and (rewritten or id(out[-1]) in resolved)):
                    value = out.pop().value             # `t = g * 2; b = t` is `b = g * 2`
                s = ir.Assign(s.target, value, s.line)
                if rewritten:
                    resolved.add(id(s))
                if s.target in self.stable:
                    shape_of[s.target] = self.shaped_like(s.value, shape_of) or s.target
                    if _operation(value) == "full" and value.args[0] in self.shape_tuples \
                            and self.rank(value.args[1]) == 0 and self.unchanging(value.args[1]):
                        self.spread[s.target] = value.args[1]
            elif isinstance(s, ir.SetItem) and s.accumulate and isinstance(s.value, ir.Name) and s.value.id in self.spread \
                    and any(isinstance(i, ir.Slice) for i in s.index):
                # an adjoint added into the view it was read from has the view's shape
                s = replace(s, value=self.spread[s.value.id])
            elif isinstance(s, ir.If):
                s = replace(s, body=self.block(s.body, shape_of), orelse=self.block(s.orelse, shape_of))
            elif isinstance(s, (ir.For, ir.While)):
                s = replace(s, body=self.block(s.body, shape_of))
            out.append(s)
        return out

    def unspread(self, value, shape_of):
        """An elementwise operation on a number spread over an array's shape (a sum's adjoint)
        and an array of that shape takes the number itself: NumPy broadcasts it, and nothing
        is allocated."""
        if not (isinstance(value, ir.Prim) and RULES[value.op].result == "elementwise" and value.op != "select"):
            return value
        arrays = [a for a in value.args if isinstance(a, ir.Name) and self.rank(a)]
        full = [a for a in arrays if a.id not in self.spread]
        args = tuple(self.spread[a.id] if a in arrays and a.id in self.spread
                     and any(self.same_shape(a, b, shape_of) for b in full) else a for a in value.args)
        return value if args == value.args else ir.Prim(value.op, args, value.family)

    def unchanging(self, atom) -> bool:
        return isinstance(atom, ir.Const) or atom.id in self.stable

    def only_read_here(self, name, out) -> bool:
        """Whether `name` is assigned once, by the statement just before, and read only here."""
        return (bool(out) and isinstance(out[-1], ir.Assign) and out[-1].target == name.id
                and name.id in self.stable and self.readers[name.id] == 1)

    def rank(self, atom):
        return 0 if isinstance(atom, ir.Const) else self.ndims.get(atom.id)

    @staticmethod
    def same_shape(a, b, shape_of) -> bool:
        return (isinstance(a, ir.Name) and isinstance(b, ir.Name) and a.id in shape_of
                and shape_of[a.id] == shape_of.get(b.id))

    def resolved(self, value, shape_of):
        helper = _operation(value)
        if helper not in SHAPED_LIKE_SECOND:
            return value
        g, x = value.args
        g_rank, x_rank = self.rank(g), self.rank(x)
        if g_rank is None or x_rank is None:
            return value
        if x_rank == 0:         # a number's adjoint sums g (of one element for a reshape); its tangent is never spread
            return ir.Prim("sum", (g,), "np") if g_rank and helper != "tangent_like" else g
        if g_rank == x_rank and self.same_shape(g, x, shape_of):
            return g
        return value

    def spelled_out(self, value, out, line):
        """A runtime helper whose arguments' kinds decide what it does, written as what it
        does (runtime.py): numba compiles each helper's instance as a function of its own."""
        op = _operation(value)
        if not self.called or op not in _SPELLED_OUT and op not in _SHAPED_LIKE and op != "adjoint_like":
            return value
        ranks = [self.rank(a) for a in value.args]
        if op in _SHAPED_LIKE and ranks[0]:         # np.zeros((x.shape[0], ..., count))
            shape = self.shape_tuple(value.args[0], ranks[0], value.args[1:], out, line)
            return ir.Prim(_SHAPED_LIKE[op], (shape,), "np")
        if op == "adjoint_like" and ranks[0] == 0 and ranks[1]:     # a number spread over x's shape
            return ir.Prim("full", (self.shape_tuple(value.args[1], ranks[1], (), out, line), value.args[0]), "np")
        return _SPELLED_OUT[op](value.args, ranks) or value if op in _SPELLED_OUT else value

    def shape_tuple(self, like, rank, extra, out, line) -> ir.Name:
        """A name for the tuple (like.shape[0], ..., like.shape[rank - 1], *extra): a tuple of
        the known length, which numba types without tuple arithmetic."""
        extents = [ast.parse(f"{like.id}.shape[{axis}]", mode="eval").body for axis in range(rank)]
        extents += [ast.Name(a.id, ast.Load()) if isinstance(a, ir.Name) else ast.Constant(a.value) for a in extra]
        shape = self.namer.temp()          # read once: emit writes the tuple into the call
        out.append(ir.Assign(shape, ir.Passive(ast.Tuple(extents, ast.Load())), line))
        if not extra:
            self.shape_tuples[ir.Name(shape)] = like
        return ir.Name(shape)

    def matmul_adjoint(self, value, out, line):
        """The adjoint of an operand of `x @ y` for the ranks at hand (runtime.matmul_adjoint_*):
        g yᵀ or xᵀ g, a product with a number, or an outer product of vectors."""
        if not (isinstance(value, ir.Prim) and value.op in ("matmul_adjoint_left", "matmul_adjoint_right")):
            return value
        left = value.op == "matmul_adjoint_left"
        g, x, y = value.args
        other = y if left else x
        g_rank, other_rank, own_rank = self.rank(g), self.rank(other), self.rank(x if left else y)
        if g_rank is None or other_rank not in (1, 2) or own_rank not in (1, 2):
            return value
        if other_rank == 1:
            if g_rank == 0:
                return ir.Prim("mul", (g, other), "op")
            if g_rank != 1:
                return value
            return ir.Prim("outer", (g, other) if left else (other, g), "runtime")
        if left and g_rank == 1:
            return ir.Prim("matmul", (other, g), "op")
        if g_rank not in (1, 2) or left and g_rank != 2:
            return value
        transposed = self.namer.temp()
        out.append(ir.Assign(transposed, ir.Prim("transpose", (other,), "op"), line))
        return ir.Prim("matmul", (g, ir.Name(transposed)) if left else (ir.Name(transposed), g), "op")

    def shaped_like(self, value, shape_of):
        """A name `value` is proved to have the shape of, or None."""
        if isinstance(value, ir.Name):
            return shape_of.get(value.id)
        op = _operation(value)
        if op in ("zeros", "empty", "full") and value.args[0] in self.shape_tuples:
            return self.shaped_like(self.shape_tuples[value.args[0]], shape_of)
        if op in SHAPED_LIKE_FIRST or op in SHAPED_LIKE_SECOND:
            arg = value.args[1 if op in SHAPED_LIKE_SECOND else 0]
            return self.shaped_like(arg, shape_of) if isinstance(arg, ir.Name) else None
        if isinstance(value, ir.Prim) and RULES[value.op].result == "elementwise" and value.op != "select":
            ranks = [self.rank(a) for a in value.args]
            if None in ranks:
                return None
            arrays = {self.shaped_like(a, shape_of) for a, r in zip(value.args, ranks) if r}
            return arrays.pop() if len(arrays) == 1 and None not in arrays else None
        return None


# Helpers that make an array shaped like their first argument (with the batched axis of
# `count` directions last): the NumPy creation they are.
_SHAPED_LIKE = {"zero_like": "zeros", "batched_zeros": "zeros", "empty_adjoint": "empty"}
# helper -> (its arguments, their ranks) -> the expression it is for those ranks, or None
_SPELLED_OUT = {
    "owned": lambda args, ranks: args[0] if ranks[0] == 0 else ir.Prim("copy", args, "np") if ranks[0] else None,
    "zero_like": lambda args, ranks: ir.Const(0.0) if ranks[0] == 0 else None,
    "batched_zeros": lambda args, ranks: ir.Prim("zeros", args[1:], "np") if ranks[0] == 0 else None,
    "in_direction": lambda args, ranks: ir.Item(args[0], args[1:]) if ranks[0] == 1 else None,
    "choose": lambda args, ranks: ir.Prim("select", args) if ranks == [0, 0, 0] else None,
}


def _operation(value):
    """The primitive or runtime helper a right-hand side applies, or None."""
    return value.op if isinstance(value, ir.Prim) else value.name if isinstance(value, ir.Opaque) else None
