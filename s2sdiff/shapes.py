"""Front end, shape and order: np.diff, np.roll, np.rot90, np.swapaxes/np.moveaxis and
x.transpose(axes), np.expand_dims, np.squeeze along an axis, np.diagonal and
np.trace with an offset, and indexing through `...` — each lowered to the rule table's
slices (`part`), joins (`concat`), flips, transposes and diagonals, so that their
derivatives are the table's, to any order.

Where NumPy's meaning depends on the number of dimensions, which is known only when the
code runs, the lowering states the one it supports as a check that runs first
(`runtime.check_supported`, a refusal naming the line), never a silent other meaning.

Mixed into normalize's lowering of user code: it uses that class's `atom`, `prim`,
`stored`, `_store`, `require`, `arguments`, `keyword_error` and `error`.
"""
from __future__ import annotations

import ast

import numpy as np

from . import ir
from .reductions import constant_int

class Shapes:
    def reshaped(self, func, node):
        """The shape and order functions of this module (`func` is the NumPy function)."""
        lower = {np.diff: self.diff, np.roll: self.roll, np.rot90: self.rot90, np.expand_dims: self.expand_dims,
                 np.squeeze: self.squeeze,
                 np.diagonal: self.diagonal, np.trace: self.trace, np.flip: self.flipped,
                 np.sort: self.sorted_along}[func]
        return lower(self.arguments(node, _SIGNATURES[func]), node)

    def constant_integer(self, node, what):
        value = constant_int(node)
        if value is None:
            raise self.error(f"{what} must be a constant integer here", node)
        return value

    def through_ellipsis(self, x, elements, node):
        """x[a, ..., b, c]: x[a] (the axes `...` stands for follow implicitly), then b and c
        along the last axes from the right — a number picks one entry along its axis
        (a one-entry slice, then the sum along that axis drops it), a slice keeps its axis,
        None (np.newaxis) adds one of length 1."""
        split = next(k for k, e in enumerate(elements) if isinstance(e, ast.Constant) and e.value is Ellipsis)
        leading, trailing = elements[:split], elements[split + 1:]
        if any(isinstance(e, ast.Constant) and e.value is Ellipsis for e in trailing):
            raise self.error("an index can have only one `...`", node)
        if leading:
            x = ir.Name(self._store(ir.Item(x, tuple(self.index(e) for e in leading))))
        elif not trailing:
            return ir.Item(x, (ir.Slice(None, None, None),))       # x[...]: all of it
        axis = -1
        for element in reversed(trailing):
            if isinstance(element, ast.Constant) and element.value is None \
                    or isinstance(element, ast.Attribute) and element.attr == "newaxis":     # a new axis here
                x = self.stored("expand", (x, ir.Const(axis)), "runtime")
                axis -= 1
                continue
            if isinstance(element, ast.Slice):
                if element.step is not None:
                    raise self.error("a slice with a step after `...` is not supported", element)
                length = self.stored("dim", (x, ir.Const(axis)), "op")
                start = ir.Const(0) if element.lower is None else self.bounded(self.atom(element.lower), length)
                stop = length if element.upper is None else self.bounded(self.atom(element.upper), length)
                x = self.stored("part", (x, start, stop, ir.Const(axis)), "runtime")
                axis -= 1
                continue
            k = constant_int(element)
            if k is None:
                raise self.error("after `...`, index with constant integers and slices here", element)
            start = ir.Const(k) if k >= 0 else self.stored("add", (self.stored("dim", (x, ir.Const(axis)), "op"),
                                                                     ir.Const(k)), "op")
            stop = self.stored("add", (start, ir.Const(1)), "op")
            x = self.stored("sum_axis", (self.stored("part", (x, start, stop, ir.Const(axis)), "runtime"),
                                         ir.Const(axis)), "np")
        return self.prim("pos", (x,), "op", node)

    def bounded(self, bound, length):
        """A slice bound as a position in 0..length (negative ones count from the end)."""
        text = ast.parse("min(max(b + n if b < 0 else b, 0), n)", mode="eval").body
        text = _renamed(text, {"b": _tree(bound), "n": ast.Name(length.id, ast.Load())})
        return ir.Name(self._store(ir.Passive(text)))

    def flipped(self, args, node):
        """np.flip(x, axis): the order along each axis given reversed (all of them for None)."""
        x = self.atom(args["m"])
        if isinstance(args["axis"], ast.Constant) and args["axis"].value is None:
            return self.prim("flip", (x,), "np", node)
        axes = [constant_int(a) for a in (args["axis"].elts if isinstance(args["axis"], ast.Tuple) else [args["axis"]])]
        if None in axes:
            raise self.error("the axis must be a constant integer or a tuple of them", args["axis"])
        for axis in axes[:-1]:
            x = self.stored("flip_along", (x, ir.Const(axis)), "runtime")
        return self.prim("flip_along", (x, ir.Const(axes[-1])), "runtime", node)

    def sorted_along(self, args, node):
        """np.sort(x, axis): along the last axis (the table's rule), of the flattened array for
        None, along the first of a matrix as the last of its transpose."""
        x = self.atom(args["a"])
        if isinstance(args["axis"], ast.Constant) and args["axis"].value is None:
            return self.prim("sort", (self.stored("ravel", (x,), "np"),), "np", node)
        axis = self.constant_integer(args["axis"], "the axis")
        if axis == -1:
            return self.prim("sort", (x,), "np", node)
        if axis == 1:
            self.require(f"{x.id}.ndim == 2", "np.sort along axis 1 is supported for matrices here")
            return self.prim("sort", (x,), "np", node)
        if axis not in (0, -2):
            raise self.error("np.sort is supported along the last axis, or the first of a matrix, here", node)
        self.require(f"{x.id}.ndim == 2", "np.sort along the first axis is supported for matrices here")
        return self.prim("transpose", (self.stored("sort", (self.stored("transpose", (x,), "np"),), "np"),), "np", node)

    def diff(self, args, node):
        """x[1:] - x[:-1] along the axis, n times; `prepend`/`append` values joined first
        along the axis (spread over the other axes as NumPy broadcasts them)."""
        x, axis = self.atom(args["a"]), ir.Const(self.constant_integer(args["axis"], "the axis"))
        for end in ("prepend", "append"):
            given = args[end]
            if isinstance(given, ast.Constant) and given.value is None:
                continue
            # zeros shaped like x's first slice along the axis, plus the value broadcast
            slot = self.stored("zeros_like", (self.stored("part", (x, ir.Const(0), ir.Const(1), axis), "runtime"),),
                               "np")
            joined = self.stored("add", (slot, self.atom(given)), "op")
            x = self.stored("concat", (joined, x, axis) if end == "prepend" else (x, joined, axis), "runtime")
        for _ in range(self.constant_integer(args["n"], "n")):
            length = self.stored("dim", (x, axis), "op")
            last = self.stored("sub", (length, ir.Const(1)), "op")
            later = self.stored("part", (x, ir.Const(1), length, axis), "runtime")
            x = self.stored("sub", (later, self.stored("part", (x, ir.Const(0), last, axis), "runtime")), "op")
        return x

    def roll(self, args, node):
        """The last `shift` elements (along the axis, or of the flattened array) moved first."""
        x = self.atom(args["a"])
        flat = isinstance(args["axis"], ast.Constant) and args["axis"].value is None
        along = self.stored("ravel", (x,), "np") if flat else x
        axis = ir.Const(0 if flat else self.constant_integer(args["axis"], "the axis"))
        length = self.stored("dim", (along, axis), "op")
        shift = self.atom(args["shift"])
        wrapped = ir.Name(self._store(ir.Passive(ast.BinOp(_tree(shift), ast.Mod(), ast.Name(length.id, ast.Load())))))
        cut = self.stored("sub", (length, wrapped), "op")
        rolled = self.stored("concat", (self.stored("part", (along, cut, length, axis), "runtime"),
                                        self.stored("part", (along, ir.Const(0), cut, axis), "runtime"), axis),
                             "runtime")
        return self.prim("reshape_like", (rolled, x), "runtime", node) if flat else rolled

    def rot90(self, args, node):
        """Quarter turns of a matrix: transposes and flips."""
        m = self.atom(args["m"])
        if not (isinstance(args["axes"], ast.Tuple) and [constant_int(e) for e in args["axes"].elts] == [0, 1]):
            raise self.error("np.rot90 is supported in the axes (0, 1) here", args["axes"])
        self.require(f"{m.id}.ndim == 2", "np.rot90 is supported for matrices here")
        turns = self.constant_integer(args["k"], "k") % 4
        if turns == 0:
            return self.prim("copy", (m,), "np", node)
        if turns == 2:
            return self.prim("flipud", (self.stored("fliplr", (m,), "np"),), "np", node)
        flip = "flipud" if turns == 1 else "fliplr"
        return self.prim(flip, (self.stored("transpose", (m,), "np"),), "np", node)

    def transposed(self, node):
        """x.transpose(1, 0), np.transpose(x, axes): the axes in the order given (checked to
        be as many as the array's)."""
        x, axes = node.args[0], node.args[1:]
        if len(axes) == 1 and isinstance(axes[0], ast.Tuple):
            axes = axes[0].elts
        if len(axes) == 1 and isinstance(axes[0], ast.Constant) and axes[0].value is None or not axes:
            return self.prim("transpose", (self.atom(x),), "np", node)
        order = [constant_int(a) for a in axes]
        if None in order or sorted(k % len(order) for k in order) != list(range(len(order))):
            raise self.error("the axes of a transpose must be a constant permutation", node)
        x = self.atom(x)
        self.require(f"{x.id}.ndim == {len(order)}", "the axes of a transpose must be as many as the array's")
        return self.prim("pos", (self.permuted(x, [k % len(order) for k in order]),), "op", node)

    def expand_dims(self, args, node):
        return self.prim("expand", (self.atom(args["a"]), ir.Const(self.constant_integer(args["axis"], "the axis"))),
                         "runtime", node)

    def squeeze(self, args, node):
        """np.squeeze(x, axis): the sum along that axis, of length 1 (checked first)."""
        x = self.atom(args["a"])
        if isinstance(args["axis"], ast.Constant) and args["axis"].value is None:
            raise self.error("np.squeeze needs the axis to remove here (axis=...)", node)
        axis = self.constant_integer(args["axis"], "the axis")
        self.require(f"{x.id}.shape[{axis}] == 1", "cannot select an axis to squeeze out which has size not "
                                                   "equal to one")
        return self.prim("sum_axis", (x, ir.Const(axis)), "np", node)

    def diagonal(self, args, node):
        """np.diagonal(x, offset) of a matrix: np.diag's k-th diagonal."""
        x = self.atom(args["a"])
        if [constant_int(args[k]) for k in ("axis1", "axis2")] != [0, 1]:
            raise self.error("np.diagonal is supported with axis1=0, axis2=1 here", node)
        self.require(f"{x.id}.ndim == 2", "np.diagonal is supported for matrices here")
        return self.prim("diag", (x, self.atom(args["offset"])), "np", node)

    def trace(self, args, node):
        """np.trace(x, offset) = the sum of the offset diagonal."""
        if [constant_int(args[k]) for k in ("axis1", "axis2")] != [0, 1]:
            raise self.error("np.trace is supported with axis1=0, axis2=1 here", node)
        x = self.atom(args["a"])
        if constant_int(args["offset"]) == 0:
            return self.prim("trace", (x,), "np", node)
        self.require(f"{x.id}.ndim == 2", "np.trace is supported for matrices here")
        return self.prim("sum", (self.stored("diag", (x, self.atom(args["offset"])), "np"),), "np", node)

def _renamed(tree, names):
    class Rename(ast.NodeTransformer):
        def visit_Name(self, name):
            return names.get(name.id, name)
    return ast.fix_missing_locations(Rename().visit(tree))


def _tree(atom):
    return ast.Name(atom.id, ast.Load()) if isinstance(atom, ir.Name) else ast.Constant(atom.value)


_SIGNATURES = {
    np.flip: ("m", "axis=None"),
    np.sort: ("a", "axis=-1", "kind=None", "order=None"),
    np.diff: ("a", "n=1", "axis=-1", "prepend=None", "append=None"),
    np.roll: ("a", "shift", "axis=None"),
    np.rot90: ("m", "k=1", "axes=(0, 1)"),
    np.expand_dims: ("a", "axis"),
    np.squeeze: ("a", "axis=None"),
    np.diagonal: ("a", "offset=0", "axis1=0", "axis2=1"),
    np.trace: ("a", "offset=0", "axis1=0", "axis2=1"),
}
SHAPE_FUNCTIONS = frozenset(_SIGNATURES)
