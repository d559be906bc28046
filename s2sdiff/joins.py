"""Front end, joining and splitting: np.concatenate, np.stack, np.vstack, np.hstack,
np.column_stack, np.dstack, np.append, np.array/np.asarray of a list of values, np.split
and np.array_split, and copies joined on: np.tile, np.repeat, np.pad — lowered to the
rule table's two-piece join (`concat`), slice of a piece (`part`), broadcasts and
reshapes, so their derivatives are the table's, to any order.

Mixed into normalize's lowering of user code: it uses that class's `atom`, `prim`,
`stored`, `_store`, `require`, `arguments`, `keyword_error` and `error`.
"""
from __future__ import annotations

import ast

import numpy as np

from . import ir
from .reductions import constant_int


class Joins:
    def join(self, func, node):
        """np.concatenate / stack / vstack / hstack / column_stack / dstack / append, and the
        copies of np.tile / np.repeat / np.pad, of the call `node`."""
        if func in (np.tile, np.repeat, np.pad, np.dstack):
            return self.copies(func, node)
        if func is np.append:
            x, y, axis = self.join_arguments(node, ("arr", "values"))
            if axis is None:                # no axis: both flattened
                x, y, axis = self.stored("ravel", (x,), "np"), self.stored("ravel", (y,), "np"), 0
            return self.concatenated([x, y], axis, node)
        takes_axis = func in (np.concatenate, np.stack)
        items, axis = self.join_arguments(node, ("arrays",), takes_axis)
        if func is np.concatenate:
            if axis is None:                # axis=None: every array flattened
                return self.concatenated([self.stored("ravel", (a,), "np") for a in items], 0, node)
            return self.concatenated(items, axis, node)
        if func is np.stack:
            if axis is None:
                raise self.error("np.stack needs an integer axis", node)
            return self.concatenated([self.stored("expand", (a, ir.Const(axis)), "runtime") for a in items], axis, node)
        if func is np.vstack:
            return self.concatenated([self.stored("atleast_2d", (a,), "runtime") for a in items], 0, node)
        if func is np.column_stack:
            return self.concatenated([self.stored("as_column", (a,), "runtime") for a in items], 1, node)
        # np.hstack: along the first axis of vectors, the second of matrices
        items = [self.stored("atleast_1d", (a,), "runtime") for a in items]
        along = ast.parse(f"0 if {items[0].id}.ndim == 1 else 1", mode="eval").body
        return self.concatenated(items, ir.Name(self._store(ir.Passive(along))), node)

    def copies(self, func, node):
        """np.tile, np.repeat and np.pad: copies of the array (or of its edges, or constants)
        joined to it, as broadcasts, reshapes and joins."""
        if func is np.tile:
            args = self.arguments(node, ("A", "reps"))
            reps = args["reps"]
            counts = [constant_int(e) for e in (reps.elts if isinstance(reps, ast.Tuple) else [reps])]
            if None in counts or len(counts) > 2 or min(counts) < 1:
                raise self.error("np.tile takes one or two constant positive counts here", reps)
            x = self.atom(args["A"])
            if not isinstance(x, ir.Name):
                raise self.error("np.tile takes an array here", args["A"])
            if len(counts) == 2:
                self.require(f"{x.id}.ndim <= 2", "np.tile with two counts is supported for vectors and matrices here")
                x = self.stored("atleast_2d", (x,), "runtime")
                x = self.repeated(x, counts[0], -2, whole=True)
            return self.prim("pos", (self.repeated(x, counts[-1], -1, whole=True),), "op", node)
        if func is np.repeat:
            args = self.arguments(node, ("a", "repeats", "axis=None"))
            count = constant_int(args["repeats"])
            if count is None or count < 1:
                raise self.error("np.repeat takes a constant positive count here", args["repeats"])
            x = self.atom(args["a"])
            if isinstance(args["axis"], ast.Constant) and args["axis"].value is None:
                x, axis = self.stored("ravel", (x,), "np"), 0
            else:
                axis = constant_int(args["axis"])
                if axis is None or axis < -1:
                    raise self.error("np.repeat's axis must be a constant, non-negative or -1, here", args["axis"])
            return self.prim("pos", (self.repeated(x, count, axis, whole=False),), "op", node)
        if func is np.dstack:
            items, _ = self.join_arguments(node, ("tup",), False)
            return self.concatenated([self.stored("atleast_3d", (a,), "runtime") for a in items], 2, node)
        return self.padded(self.arguments(node, ("array", "pad_width", "mode='constant'", "constant_values=0")),
                           node)

    def repeated(self, x, count, axis, whole):
        """x with each element along `axis` repeated `count` times (whole=False, np.repeat),
        or the whole of x along it repeated (whole=True, np.tile): a new axis of `count`
        beside it (after it, or before), broadcast, then merged with it by a reshape."""
        if count == 1:
            return x
        v = x.id
        if axis == -1:
            before, extent, after = f"{v}.shape[:-1]", f"{v}.shape[-1]", "()"
        elif axis == -2:
            before, extent, after = f"{v}.shape[:-2]", f"{v}.shape[-2]", f"{v}.shape[-1:]"
        else:
            before, extent, after = f"{v}.shape[:{axis}]", f"{v}.shape[{axis}]", f"{v}.shape[{axis + 1}:]"
        if whole:
            new_axis, spread = (axis if axis >= 0 else axis - 1), f"{before} + ({count}, {extent}) + {after}"
        else:
            new_axis, spread = (axis + 1 if axis >= 0 else axis), f"{before} + ({extent}, {count}) + {after}"
        merged = f"{before} + ({extent} * {count},) + {after}"
        widened = self.stored("expand", (x, ir.Const(new_axis)), "runtime")
        spread_shape, merged_shape = (ir.Name(self._store(ir.Passive(ast.parse(t, mode="eval").body)))
                                      for t in (spread, merged))
        spread_out = self.stored("copy", (self.stored("broadcast_to", (widened, spread_shape), "np"),), "np")
        return self.stored("reshape", (spread_out, merged_shape), "np")

    def padded(self, args, node):
        """np.pad of a vector (a count or (before, after)) or of a matrix (((top, bottom), (left,
        right))): constants (mode='constant') or copies of the edge (mode='edge') joined on."""
        mode = args["mode"]
        if not (isinstance(mode, ast.Constant) and mode.value in ("constant", "edge")):
            raise self.error("np.pad is supported with mode='constant' or 'edge' here", mode)
        width = args["pad_width"]
        x = self.atom(args["array"])
        pairs = None
        if isinstance(width, ast.Tuple) and all(isinstance(e, ast.Tuple) for e in width.elts):
            pairs = [[constant_int(v) for v in e.elts] for e in width.elts]
            self.require(f"{x.id}.ndim == {len(pairs)}", "np.pad's widths must be one pair per axis")
        else:
            flat = [constant_int(v) for v in (width.elts if isinstance(width, ast.Tuple) else [width, width])]
            pairs = [flat * (2 // len(flat))]
            self.require(f"{x.id}.ndim == 1", "np.pad with one pair of widths is supported for vectors here "
                                              "(give a pair per axis)")
        if any(len(p) != 2 or None in p or min(p) < 0 for p in pairs) or len(pairs) > 2:
            raise self.error("np.pad takes constant widths for a vector or a matrix here", width)
        fill = self.atom(args["constant_values"])
        for axis, (before, after) in enumerate(pairs):
            pieces = []
            for count, at_start in ((before, True), (after, False)):
                if not count:
                    continue
                if mode.value == "edge":
                    edge = self.stored("part", (x, ir.Const(0) if at_start else self.stored(
                        "sub", (self.stored("dim", (x, ir.Const(axis)), "op"), ir.Const(1)), "op"),
                        ir.Const(1) if at_start else self.stored("dim", (x, ir.Const(axis)), "op"),
                        ir.Const(axis)), "runtime")
                    block = self.repeated(edge, count, axis, whole=True) if count > 1 else edge
                else:
                    shape = f"{x.id}.shape[:{axis}] + ({count},) + {x.id}.shape[{axis + 1}:]"
                    block = self.stored("full", (ir.Name(self._store(ir.Passive(ast.parse(shape, mode="eval").body))),
                                                 fill), "np")
                pieces.append((at_start, block))
            starts = [b for at_start, b in pieces if at_start]
            ends = [b for at_start, b in pieces if not at_start]
            if pieces:
                x = ir.Name(self._store(self.concatenated(starts + [x] + ends, axis, node)))
        return self.prim("pos", (x,), "op", node)

    def join_arguments(self, node, names, takes_axis=True):
        """The call's leading arguments (a sequence of arrays written in the call as a list
        of atoms), and its constant axis: 0 when not given, None when given as None."""
        args = list(node.args)
        given = {}
        for keyword in node.keywords:
            if keyword.arg in names[len(args):] or keyword.arg == "axis" and takes_axis:
                given[keyword.arg] = keyword.value
            else:
                raise self.keyword_error(node, keyword)
        args += [given[name] for name in names[len(args):] if name in given]
        if "axis" in given:
            args.append(given["axis"])
        if not len(names) <= len(args) <= len(names) + takes_axis:
            raise self.error(f"{ast.unparse(node.func)} takes ({', '.join(names)}{', axis' * takes_axis}) here", node)
        axis = 0 if names != ("arr", "values") else None        # np.append's default flattens
        if len(args) > len(names):
            given_axis = args[len(names)]
            axis = None if isinstance(given_axis, ast.Constant) and given_axis.value is None else \
                constant_int(given_axis)
            if axis is None and not (isinstance(given_axis, ast.Constant) and given_axis.value is None):
                raise self.error("the axis must be a constant integer", given_axis)
        if len(names) == 2:
            return self.atom(args[0]), self.atom(args[1]), axis
        return self.sequence(args[0], node), axis

    def sequence(self, node, call):
        """The atoms of a tuple or list of arrays written in the call."""
        if not isinstance(node, (ast.Tuple, ast.List)) or not node.elts:
            raise self.error(f"{ast.unparse(call.func)} needs its arrays as a tuple or list written in the call", node)
        return [self.atom(e) for e in node.elts]

    def concatenated(self, items, axis, node):
        """The items joined along `axis`, two at a time."""
        axis = ir.Const(axis) if isinstance(axis, int) else axis
        joined = items[0]
        for item in items[1:-1]:
            joined = self.stored("concat", (joined, item, axis), "runtime")
        if len(items) == 1:
            return self.prim("copy", (joined,), "np", node)
        return self.prim("concat", (joined, items[-1], axis), "runtime", node)

    def array_of(self, node):
        """np.array / np.asarray of a list or tuple written in the call: its items stacked
        (nested lists give more dimensions); of anything else: a copy (np.array) or the
        value itself (np.asarray)."""
        args = list(node.args)
        for keyword in node.keywords:
            if keyword.arg != "dtype":
                raise self.keyword_error(node, keyword)
            args.append(keyword.value)
        if len(args) == 2 and not self.float_dtype(args[1]):
            return self.passive(node)
        if len(args) not in (1, 2):
            raise self.error(f"{ast.unparse(node.func)} takes (values, dtype) here", node)
        values = args[0]
        if isinstance(values, (ast.List, ast.Tuple)):
            return self.stacked(values, node)
        value = self.atom(values)
        is_copy = self.resolve(node.func) is np.array
        return self.prim("copy", (value,), "np", node) if is_copy else self.prim("pos", (value,), "op", node)

    def stacked(self, values, node):
        if not values.elts:
            raise self.error("an empty list has no derivative", values)
        items = [ir.Name(self._store(self.stacked(e, e))) if isinstance(e, (ast.List, ast.Tuple)) else self.atom(e)
                 for e in values.elts]
        return self.concatenated([self.stored("expand", (a, ir.Const(0)), "runtime") for a in items], 0, node)

    def piece(self, pieces, index):
        """The piece of a split that a constant `index` picks."""
        k = constant_int(index)
        if k is None or not -len(pieces) <= k < len(pieces):
            raise self.error(f"index the {len(pieces)} pieces with a constant", index)
        return pieces[k]

    def pieces(self, node, count=None):
        """The pieces of np.split / np.array_split(x, sections or indices, axis), np.vsplit and
        np.hsplit, as values."""
        func = self.resolve(node.func)
        args = list(node.args)
        takes_axis = func in (np.split, np.array_split)
        for keyword in node.keywords:
            if keyword.arg == "indices_or_sections" and len(args) == 1 or keyword.arg == "axis" and takes_axis:
                args.append(keyword.value)
            else:
                raise self.keyword_error(node, keyword)
        if len(args) not in (2, 2 + takes_axis):
            raise self.error(f"{ast.unparse(node.func)} takes (x, sections{', axis' * takes_axis}) here", node)
        axis = constant_int(args[2]) if len(args) == 3 else 0
        if axis is None:
            raise self.error("the axis must be a constant integer", args[2])
        x = self.atom(args[0])
        if func is np.hsplit:               # along the columns of a matrix, the elements of a vector
            self.require(f"{x.id}.ndim <= 2", "np.hsplit is supported for vectors and matrices here")
            axis = -1
        length = self.stored("dim", (x, ir.Const(axis)), "op")
        how = args[1]
        if isinstance(how, (ast.List, ast.Tuple)):       # split before each index
            bounds = [ir.Const(0)] + [self.atom(e) for e in how.elts] + [length]
        else:
            sections = constant_int(how)
            if sections is None or sections < 1:
                raise self.error("the number of sections must be a constant positive integer", how)
            # np.array_split: the first (length % sections) pieces one longer; the others
            # check that they divide evenly, as NumPy does
            if func is not np.array_split:
                self.emit(ir.Verbatim(ast.parse(f"assert {length.id} % {sections} == 0, "
                                                "'array split does not result in an equal division'").body[0],
                                      self.line))
            bounds = [ir.Name(self._store(ir.Passive(ast.parse(
                f"{k} * ({length.id} // {sections}) + min({k}, {length.id} % {sections})", mode="eval").body)))
                for k in range(sections)] + [length]
        if count is not None and count != len(bounds) - 1:
            raise self.error(f"cannot unpack {len(bounds) - 1} pieces into {count} names", node)
        return [ir.Prim("part", (x, start, stop, ir.Const(axis)), "runtime") for start, stop in zip(bounds, bounds[1:])]


SPLITS = (np.split, np.array_split, np.vsplit, np.hsplit)
