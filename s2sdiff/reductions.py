"""Front end, reductions: np.sum, np.mean, np.var, np.std, np.max and np.min (functions
and methods) with `axis` (an int, negative, or a tuple) and `keepdims`, lowered to the
rule table's primitives — a whole-array reduction, or one along a single axis, repeated
per axis — so their derivatives are the table's, to any order.

Mixed into normalize's lowering of user code: it uses that class's `atom`, `prim`,
`_store` and `error`.
"""
from __future__ import annotations

import ast

from . import ir

# whole array, and along one axis
_ALONG = {"sum": "sum_axis", "amax": "amax_axis", "amin": "amin_axis"}


class Reductions:
    def reduction(self, op, node):
        """np.sum / np.max / np.min (op: sum, amax, amin) of the call `node`."""
        x, axes, keepdims, _ = self.reduction_arguments(node)
        if axes is None:
            return self.prim(op, (x,), "np", node)
        return self.kept(self.along(_ALONG[op], x, axes), axes, keepdims)

    def mean(self, node):
        """np.mean(x, axis) = the sum along the axes / the number of elements summed (numba has
        no np.mean(x, axis))."""
        x, axes, keepdims, _ = self.reduction_arguments(node)
        mean = self.prim("truediv", (self.summed(x, axes), self.count(x, axes)), "op", node)
        return self.kept(ir.Name(self._store(mean)), axes, keepdims) if keepdims else mean

    def variance(self, node, std):
        """np.var(x, axis, ddof=k) = Σ (x - mean)² / (n - k), as that arithmetic (so its
        derivatives are exact to any order); np.std its square root."""
        x, axes, keepdims, extra = self.reduction_arguments(node, ("ddof",))
        ddof = constant_int(extra.get("ddof", ast.Constant(0)))
        if ddof is None:
            raise self.error("ddof must be a constant integer", extra["ddof"])
        mean = ir.Name(self._store(self.prim("truediv", (self.summed(x, axes), self.count(x, axes)), "op", node)))
        if axes is not None:            # the means kept along the axes, to broadcast against x
            mean = self.kept(mean, axes, True)
        centred = ir.Name(self._store(ir.Prim("sub", (x, mean), "op")))
        squares = ir.Name(self._store(ir.Prim("mul", (centred, centred), "op")))
        count = self.count(x, axes)
        if ddof:
            count = ir.Name(self._store(ir.Prim("sub", (count, ir.Const(ddof)), "op")))
        variance = ir.Name(self._store(ir.Prim("truediv", (self.summed(squares, axes), count), "op")))
        if std:
            variance = ir.Name(self._store(ir.Prim("sqrt", (variance,), "np")))
        return self.kept(variance, axes, keepdims)

    def reduction_arguments(self, node, extra=()):
        """(array, the axes in the order to reduce them or None, keepdims, {keyword in
        `extra`: its node}): `axis` positional or a keyword, a constant int or tuple of ints
        all of one sign."""
        args, keywords, found = list(node.args), {}, {}
        for keyword in node.keywords:
            if keyword.arg in extra:
                found[keyword.arg] = keyword.value
            elif keyword.arg in ("axis", "keepdims"):
                keywords[keyword.arg] = keyword.value
            else:
                raise self.error(f"the keyword argument {keyword.arg}= is not supported here", keyword.value)
        if "axis" in keywords:
            args.append(keywords["axis"])
        if len(args) not in (1, 2):
            raise self.error("expected (x) or (x, axis)", node)
        keepdims = keywords.get("keepdims")
        if keepdims is not None and not (isinstance(keepdims, ast.Constant) and isinstance(keepdims.value, bool)):
            raise self.error("keepdims must be True or False", keepdims)
        keepdims = keepdims is not None and keepdims.value
        x = self.atom(args[0])
        if len(args) == 1 or isinstance(args[1], ast.Constant) and args[1].value is None:
            if keepdims:
                raise self.error("keepdims=True needs an axis here", node)
            return x, None, False, found
        axes = [constant_int(e) for e in (args[1].elts if isinstance(args[1], ast.Tuple) else [args[1]])]
        if None in axes or not axes:
            raise self.error("the axis must be a constant integer or a tuple of them", args[1])
        if len({a < 0 for a in axes}) > 1 or len(set(axes)) < len(axes):
            raise self.error("the axes of a tuple must be distinct and all negative or all non-negative here",
                             args[1])
        # reduced from the last: the axes still to reduce keep their numbers
        return x, tuple(sorted(axes, reverse=axes[0] >= 0)), keepdims, found

    def along(self, op, x, axes) -> ir.Name:
        for axis in axes:
            x = ir.Name(self._store(ir.Prim(op, (x, ir.Const(axis)), "np")))
        return x

    def summed(self, x, axes) -> ir.Name:
        """The sum of x's elements, or along the axes."""
        return ir.Name(self._store(ir.Prim("sum", (x,), "np"))) if axes is None else self.along("sum_axis", x, axes)

    def count(self, x, axes) -> ir.Name:
        """The number of elements summed: x's size, or the product of the axes' extents."""
        if axes is None:
            return ir.Name(self._store(ir.Prim("size", (x,), "op")))
        count = ir.Name(self._store(ir.Prim("dim", (x, ir.Const(axes[0])), "op")))
        for axis in axes[1:]:
            extent = ir.Name(self._store(ir.Prim("dim", (x, ir.Const(axis)), "op")))
            count = ir.Name(self._store(ir.Prim("mul", (count, extent), "op")))
        return count

    def kept(self, value, axes, keepdims):
        """`value` with the reduced axes back, of length 1, for keepdims."""
        if not keepdims:
            return value
        for axis in reversed(axes):         # the first reduced is the last put back
            value = ir.Name(self._store(ir.Prim("expand", (value, ir.Const(axis)), "runtime")))
        return value


def constant_int(node):
    """The value of an integer literal, `-1` included (a negated constant in the AST), or None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = constant_int(node.operand)
        return None if value is None else -value
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None
