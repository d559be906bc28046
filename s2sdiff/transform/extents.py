"""Which arrays a loop carries keep one shape in every iteration: reverse.py tapes those as
the rows of one array, and any other as a list of arrays, one per iteration (the grid of
a stencil that loses its border each step, a sequence that grows).

Proved by induction on the iterations: taking each carried array to have, as an iteration
starts, the shape it entered the loop with, the body gives it that shape again.  Shapes
are followed through the body symbolically, each extent a constant or an axis of a value
from before the iteration (a carried array as it enters, a parameter) plus a constant:
enough for elementwise updates, slices cut by constants and joins with arrays made from
shapes (`np.pad(x[1:-1], 1)` gives x its length back).  Where a value's rank is not
known, its axes past those the code indexes stay one symbol (_Rest).  An array whose shape
is not proved is dropped from the assumption until it holds for the rest.

A slice `x[1:-1]` is taken to be 2 shorter than x.  Where x is shorter than that, NumPy
clamps the slice to an empty one, longer than assumed; every operation followed here
gives extents at least as large as assumed when it is given such, so an array proved to
keep its shape has at least its entering extents, and a row of its tape refuses a larger
one loudly as the code runs (NumPy never broadcasts a longer axis into a shorter one).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .. import ir
from ..analyze import SHAPED_LIKE_FIRST, SHAPED_LIKE_SECOND
from ..rules import RULES


@dataclass(frozen=True)
class _Extent:
    """`axis` (a value from before the iteration, and one of its axes) plus `plus`, or
    `plus` alone where axis is None."""
    axis: tuple = None
    plus: int = 0


@dataclass(frozen=True)
class _Rest:
    """The axes from `axis` on, as many as there are, of a value from before the iteration
    whose rank is not known: the last item of a shape."""
    name: str
    axis: int = 0


_ONE = _Extent(None, 1)


def reshaped(loop, numbers, ndims) -> set:
    """The values `loop` carries that may be arrays not proved to keep the shape they enter
    it with in every iteration; `numbers` and `ndims` as analyze gives them."""
    arrays = {c for c in loop.loop.carried if c not in numbers and ndims.get(c) != 0}
    kept = set(arrays)
    while True:
        shapes = _Shapes(loop, numbers, ndims, kept)
        env = shapes.block(loop.body, {})
        broken = {c for c in kept if shapes.shape(ir.Name(loop.loop.carried[c]), env) != shapes.entering(c)}
        if not broken:
            return arrays - kept
        kept -= broken


class _Shapes:
    def __init__(self, loop, numbers, ndims, kept):
        self.numbers, self.ndims, self.kept = numbers, ndims, kept
        self.tuples = set()           # names of shape tuples (`shape = x.shape[1:]`)
        # names an iteration gives values: unknown until it does (but the carried ones assumed kept)
        self.changing = ir.assigned_within(loop.body) | set(loop.loop.carried)

    def entering(self, name):
        if name in self.numbers or self.ndims.get(name) == 0:
            return ()
        rank = self.ndims.get(name)
        return (_Rest(name),) if rank is None else tuple(_Extent((name, k)) for k in range(rank))

    def shape(self, atom, env):
        """The shape of an atom (a tuple of _Extents, perhaps ending with a _Rest), or None."""
        if isinstance(atom, ir.Const):
            return () if isinstance(atom.value, (int, float)) else None
        if atom.id in self.numbers:
            return ()
        if atom.id in env:
            return () if isinstance(env[atom.id], _Extent) else env[atom.id]
        return None if atom.id in self.changing and atom.id not in self.kept else self.entering(atom.id)

    def block(self, body, env) -> dict:
        """`env` after `body`: name -> the shape of an array, the value of a shape tuple, or
        the _Extent a number is (`n = x.shape[0]`); None where not known."""
        for s in body:
            if isinstance(s, ir.Assign) and isinstance(s.value, ir.Passive):
                env[s.target] = _folded(self.expression(s.value.expr, env))
                if _is_shape(env[s.target]) and s.target not in self.numbers:
                    self.tuples.add(s.target)
            elif isinstance(s, ir.Assign):
                env[s.target] = self.number(s.value, env) if s.target in self.numbers \
                    else _folded(self.value(s.value, env))
            elif isinstance(s, ir.If):
                then, orelse = self.block(s.body, dict(env)), self.block(s.orelse, dict(env))
                env.update({n: then.get(n) if then.get(n) == orelse.get(n) else None
                            for n in then.keys() | orelse.keys()})
            elif isinstance(s, (ir.For, ir.While)):
                # a nested loop's carried arrays that keep their shape leave it with the shape they
                # entered with (none or more iterations); what else it assigns is not followed
                kept = set(s.loop.carried) - reshaped(s, self.numbers, self.ndims)
                env.update(dict.fromkeys((ir.assigned_within(s.body) | set(s.loop.carried)) - kept))
            else:
                env.update(dict.fromkeys(ir.targets(s)))
        return env

    def value(self, value, env):
        """The shape of the array a right-hand side makes."""
        if isinstance(value, (ir.Name, ir.Const)):
            return self.shape(value, env)
        if isinstance(value, ir.Item):
            return _indexed(self.shape(value.array, env), value.index, self.numbers)
        if not isinstance(value, (ir.Prim, ir.Opaque)):
            return None
        op, args = (value.op if isinstance(value, ir.Prim) else value.name), value.args
        if op in SHAPED_LIKE_FIRST or op in SHAPED_LIKE_SECOND:
            return self.shape(args[1 if op in SHAPED_LIKE_SECOND else 0], env)
        if isinstance(value, ir.Opaque):
            return None
        if op == "transpose":
            shape = self.shape(args[0], env)
            return shape[::-1] if _is_explicit(shape) else None
        if op in ("zeros", "ones", "empty", "full", "reshape"):
            return self.made(args[1 if op == "reshape" else 0], env)
        if op == "concat":
            return _joined(self.shape(args[0], env), self.shape(args[1], env), args[2])
        if RULES[op].result == "elementwise":
            return _broadcast([self.shape(a, env) for a in args])
        return None

    def made(self, shape, env):
        """The shape of an array made in `shape`: a shape tuple, or a length."""
        found = _length(shape.value) if isinstance(shape, ir.Const) else self.known(shape.id, env)
        return (found,) if isinstance(found, _Extent) else found if _is_shape(found) else None

    def number(self, value, env):
        """The _Extent a number is (`x.shape[0]`, `len(x)`), or None."""
        if isinstance(value, ir.Const):
            return _length(value.value)
        if isinstance(value, ir.Name):
            return self.known(value.id, env)
        if isinstance(value, ir.Prim) and value.op in ("dim", "len"):
            axis = value.args[1] if value.op == "dim" else ir.Const(0)
            return _part(self.shape(value.args[0], env), axis.value if isinstance(axis, ir.Const) else None)
        return None

    def known(self, name, env):
        """The value of a shape tuple or the _Extent of a number (never an array's shape)."""
        return env.get(name) if name in self.numbers or name in self.tuples else None

    def expression(self, tree, env):
        """The shape tuple or the _Extent a kept-whole expression gives (`x.shape`, parts of
        it, tuples of extents and sums of shape tuples), or None."""
        if isinstance(tree, ast.Attribute) and tree.attr == "shape" and isinstance(tree.value, ast.Name):
            shape = self.shape(ir.Name(tree.value.id), env)
            return shape if _is_shape(shape) else None
        if isinstance(tree, ast.Name):
            return self.known(tree.id, env)
        if isinstance(tree, ast.Constant):
            return _length(tree.value)
        if isinstance(tree, ast.Tuple):
            extents = tuple(self.expression(e, env) for e in tree.elts)
            return extents if _is_explicit(extents) else None
        if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Add):
            left, right = self.expression(tree.left, env), self.expression(tree.right, env)
            return left + right if _is_explicit(left) and _is_shape(right) else None
        if isinstance(tree, ast.Subscript) and _is_shape(whole := self.expression(tree.value, env)):
            part = tree.slice
            if isinstance(part, ast.Constant):
                return _part(whole, part.value)
            if isinstance(part, ast.Slice) and part.step is None:
                bounds = [None if b is None else b.value if isinstance(b, ast.Constant) else -1
                          for b in (part.lower, part.upper)]
                if all(b is None or type(b) is int and b >= 0 for b in bounds):      # counted from the start
                    return _cut(whole, *bounds)
        return None


def _length(value):
    """The extent a constant is: a length (reshape's -1 is none)."""
    return _Extent(None, value) if type(value) is int and value >= 0 else None


def _is_shape(found) -> bool:
    return isinstance(found, tuple) and all(isinstance(e, _Extent) for e in found[:-1]) \
        and (not found or isinstance(found[-1], (_Extent, _Rest)))


def _is_explicit(found) -> bool:
    return isinstance(found, tuple) and all(isinstance(e, _Extent) for e in found)


def _expanded(shape, axes):
    """`shape` with at least `axes` axes spelled out as _Extents: code that reads them fails
    where the value has fewer."""
    while len(shape) < axes + 1 and shape and isinstance(shape[-1], _Rest):
        rest = shape[-1]
        shape = shape[:-1] + (_Extent((rest.name, rest.axis)), _Rest(rest.name, rest.axis + 1))
    return shape


def _folded(shape):
    """`shape` with the axes of a _Rest spelled out folded back into it: one form for one shape."""
    while _is_shape(shape) and len(shape) > 1 and isinstance(rest := shape[-1], _Rest) \
            and shape[-2] == _Extent((rest.name, rest.axis - 1)):
        shape = shape[:-2] + (_Rest(rest.name, rest.axis - 1),)
    return shape


def _part(shape, axis):
    """The extent of `shape` along `axis`, or None."""
    if not _is_shape(shape) or type(axis) is not int or axis < 0 and not _is_explicit(shape):
        return None
    shape = _expanded(shape, axis + 1)
    return shape[axis] if -len(shape) <= axis < len(shape) and isinstance(shape[axis], _Extent) else None


def _cut(shape, lo, hi):
    """shape[lo:hi] of a shape tuple, for bounds from its start (None: its end)."""
    explicit = len(shape) - (not _is_explicit(shape))
    if (lo or 0) > explicit or hi is not None and hi > explicit:
        return None
    return shape[lo:hi]


def _indexed(shape, index, numbers):
    """The shape of `x[index]` for x of `shape`: a number drops its axis, None adds one of
    length 1, a slice cut by constants takes as much off a symbolic extent."""
    if not _is_shape(shape):
        return None
    shape = _expanded(shape, sum(not (isinstance(i, ir.Const) and i.value is None) for i in index))
    out, axis = [], 0
    for i in index:
        if isinstance(i, ir.Const) and i.value is None:
            out.append(_ONE)
            continue
        if axis == len(shape) or not isinstance(shape[axis], _Extent):
            return None
        if isinstance(i, ir.Slice):
            out.append(_sliced(shape[axis], i))
            if out[-1] is None:
                return None
        elif not (isinstance(i, ir.Const) and type(i.value) is int or isinstance(i, ir.Name) and i.id in numbers):
            return None             # an array of indices
        axis += 1
    return tuple(out) + shape[axis:]


def _sliced(extent: _Extent, part: ir.Slice):
    bounds = part.lo, part.hi, part.step
    if not all(b is None or isinstance(b, ir.Const) and type(b.value) is int for b in bounds):
        return None
    lo, hi, step = (None if b is None else b.value for b in bounds)
    if step == 0:
        return None
    if extent.axis is None:
        return _Extent(None, len(range(extent.plus)[lo:hi:step]))
    if step is not None or (lo or 0) < 0 or hi is not None and hi >= 0:
        return None                 # a length that depends on whether the axis is long enough
    return _Extent(extent.axis, extent.plus - (lo or 0) + (hi or 0))


def _joined(a, b, axis):
    """The shape of np.concatenate((a, b), axis): the extents along the axis add up where
    one of them is a constant."""
    if not (isinstance(axis, ir.Const) and _part(a, axis.value) is not None and _part(b, axis.value) is not None):
        return None
    a, b = _expanded(a, axis.value + 1), _expanded(b, axis.value + 1)
    k = axis.value % len(a)
    if len(a) != len(b) or a[:k] + a[k + 1:] != b[:k] + b[k + 1:] or None not in (a[k].axis, b[k].axis):
        return None
    return a[:k] + (_Extent(a[k].axis or b[k].axis, a[k].plus + b[k].plus),) + a[k + 1:]


def _broadcast(shapes):
    """The shape NumPy broadcasts operands of these shapes to, where they show it."""
    arrays = [s for s in shapes if s != ()]
    if not arrays:
        return ()
    if None in arrays:
        return None
    if all(s == arrays[0] for s in arrays):
        return arrays[0]
    if not all(map(_is_explicit, arrays)):
        return None
    out = []
    for axis in range(-max(map(len, arrays)), 0):
        extents = {s[axis] for s in arrays if len(s) >= -axis} - {_ONE}
        if len(extents) > 1:
            return None
        out.append(extents.pop() if extents else _ONE)
    return tuple(out)
