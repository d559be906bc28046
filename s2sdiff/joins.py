"""Front end, joining and splitting: np.concatenate, np.stack, np.vstack, np.hstack,
np.column_stack, np.append, np.array/np.asarray of a list of values, np.split and
np.array_split — lowered to the rule table's two-piece join (`concat`) and slice of a
piece (`part`), so their derivatives are the table's, to any order.

Mixed into normalize's lowering of user code: it uses that class's `atom`, `prim`,
`stored`, `_store`, `keyword_error` and `error`.
"""
from __future__ import annotations

import ast

import numpy as np

from . import ir
from .reductions import constant_int


class Joins:
    def join(self, func, node):
        """np.concatenate / stack / vstack / hstack / column_stack / append of the call `node`."""
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
        if func is np.hstack:               # along the first axis of vectors, the second of matrices
            items = [self.stored("atleast_1d", (a,), "runtime") for a in items]
            along = ast.parse(f"0 if {items[0].id}.ndim == 1 else 1", mode="eval").body
            return self.concatenated(items, ir.Name(self._store(ir.Passive(along))), node)
        raise self.error(f"{ast.unparse(node.func)} is not supported yet (arrays of 3 or more dimensions)", node)

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

    def pieces(self, node, count=None):
        """The pieces of np.split / np.array_split(x, sections or indices, axis) as values."""
        func = self.resolve(node.func)
        args = list(node.args)
        for keyword in node.keywords:
            if keyword.arg in ("indices_or_sections", "axis")[len(args) - 1:] or keyword.arg == "axis":
                args.append(keyword.value)
            else:
                raise self.keyword_error(node, keyword)
        if len(args) not in (2, 3):
            raise self.error(f"{ast.unparse(node.func)} takes (x, sections, axis) here", node)
        axis = constant_int(args[2]) if len(args) == 3 else 0
        if axis is None:
            raise self.error("the axis must be a constant integer", args[2])
        x = self.atom(args[0])
        length = ir.Name(self._store(ir.Prim("dim", (x, ir.Const(axis)), "op")))
        how = args[1]
        if isinstance(how, (ast.List, ast.Tuple)):       # split before each index
            bounds = [ir.Const(0)] + [self.atom(e) for e in how.elts] + [length]
        else:
            sections = constant_int(how)
            if sections is None or sections < 1:
                raise self.error("the number of sections must be a constant positive integer", how)
            # np.array_split: the first (length % sections) pieces one longer; np.split
            # checks that they divide evenly, as NumPy does
            if func is np.split:
                self.emit(ir.Verbatim(ast.parse(f"assert {length.id} % {sections} == 0, "
                                                "'array split does not result in an equal division'").body[0],
                                      self.line))
            bounds = [ir.Name(self._store(ir.Passive(ast.parse(
                f"{k} * ({length.id} // {sections}) + min({k}, {length.id} % {sections})", mode="eval").body)))
                for k in range(sections)] + [length]
        if count is not None and count != len(bounds) - 1:
            raise self.error(f"cannot unpack {len(bounds) - 1} pieces into {count} names", node)
        return [ir.Prim("part", (x, start, stop, ir.Const(axis)), "runtime") for start, stop in zip(bounds, bounds[1:])]
