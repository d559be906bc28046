"""Front end, reductions: np.sum, np.mean, np.var, np.std, np.max and np.min (functions
and methods), SciPy's logsumexp, softmax and log_softmax, with `axis` (an int, negative,
or a tuple) and `keepdims`, lowered to the rule table's primitives — a whole-array
reduction, or one along a single axis, repeated per axis — so their derivatives are the
table's, to any order.

Mixed into normalize's lowering of user code: it uses that class's `atom`, `prim`,
`_store` and `error`.
"""
from __future__ import annotations

import ast

import numpy as np
import scipy.special

from . import ir
from .errors import S2SDiffError

# whole array, and along one axis
_ALONG = {"sum": "sum_axis", "amax": "amax_axis", "amin": "amin_axis"}
# SciPy's functions made of the log of a sum of exponentials (Reductions.exponential_sum)
EXPONENTIAL_SUMS = (scipy.special.logsumexp, scipy.special.softmax, scipy.special.log_softmax)


class Reductions:
    def reduction(self, op, node):
        """np.sum / np.max / np.min (op: sum, amax, amin) of the call `node`; `initial=` is
        one more element, and np.sum's `where=` leaves out the elements it is False at."""
        x, axes, keepdims, extra = self.reduction_arguments(node, ("initial", "where") if op == "sum" else ("initial",))
        if "where" in extra:
            x = self.stored("where", (ir.Name(self._store(self.passive(extra["where"]))), x, ir.Const(0.0)), "np")
        if axes is None:
            value = self.kept(self.stored(op, (x,), "np"), x, None, True) if keepdims else self.prim(op, (x,), "np", node)
        else:
            value = self.kept(self.along(_ALONG[op], x, axes), x, axes, keepdims)
        if "initial" not in extra:
            return value
        combine = {"sum": "add", "amax": "maximum", "amin": "minimum"}[op]
        return self.prim(combine, (ir.Name(self._store(value)), self.atom(extra["initial"])), "np", node)

    def spread(self, node):
        """np.ptp: the largest minus the smallest, whole or along the axes."""
        return self.prim("sub", (ir.Name(self._store(self.reduction("amax", node))),
                                 ir.Name(self._store(self.reduction("amin", node)))), "op", node)

    def ignoring_nan(self, mean, node):
        """np.nansum / np.nanmean: NaNs left out (as zeros of the sum, and of the count)."""
        x, axes, keepdims, _ = self.reduction_arguments(node)
        missing = self.stored("isnan", (x,), "np")
        total = self.summed(self.stored("where", (missing, ir.Const(0.0), x), "np"), axes)
        if mean:
            count = self.summed(self.stored("where", (missing, ir.Const(0.0), ir.Const(1.0)), "np"), axes)
            total = self.stored("truediv", (total, count), "op")
        return self.prim("pos", (self.kept(total, x, axes, keepdims),), "op", node)

    def median(self, node):
        """np.median: the middle of the sorted elements (the mean of the two middle ones for
        an even count), of the whole array or along one axis (moved last and sorted there)."""
        x, axes, keepdims, _ = self.reduction_arguments(node)
        if axes is not None and len(axes) > 1:
            raise self.error("np.median is supported over the whole array or along one axis here", node)
        axis = -1 if axes is None else axes[0]
        along = self.stored("ravel", (x,), "np") if axes is None else \
            self.stored("moveaxis", (x, ir.Const(axis), ir.Const(-1)), "runtime")
        ordered = self.stored("sort", (along,), "np")
        count = self.stored("dim", (ordered, ir.Const(-1)), "op")
        middle = []
        for text in (f"({count.id} - 1) // 2", f"{count.id} // 2"):
            start = ir.Name(self._store(ir.Passive(ast.parse(text, mode="eval").body)))
            piece = self.stored("part", (ordered, start, self.stored("add", (start, ir.Const(1)), "op"), ir.Const(-1)),
                                "runtime")
            middle.append(self.stored("sum_axis", (piece, ir.Const(-1)), "np"))
        value = self.stored("mul", (ir.Const(0.5), self.stored("add", tuple(middle), "op")), "op")
        return self.kept(value, x, axes, keepdims)

    def polynomial(self, node):
        """np.polyval(p, x): Horner's loop over the coefficients, highest power first."""
        args = self.arguments(node, ("p", "x"))
        p, x = self.atom(args["p"]), self.atom(args["x"])
        first = ir.Name(self._store(ir.Item(p, (ir.Const(0),))))
        value = ir.Name(self._store(ir.Prim("add", (self.stored("mul", (x, ir.Const(0.0)), "op"), first), "op")))
        with self.block() as body:
            k = self.namer.temp()
            coefficient = ir.Name(self._store(ir.Item(p, (ir.Name(k),))))
            self.emit(ir.Assign(value.id, ir.Prim("add", (self.stored("mul", (value, x), "op"), coefficient), "op"),
                                self.line))
        self.emit(ir.For(k, ir.Const(1), self.stored("len", (p,), "builtin"), ir.Const(1), body, self.line))
        return value

    def exponential_sum(self, func, node):
        """scipy.special.logsumexp(a, axis, keepdims=...): a primitive of the whole array, or
        along each axis in turn (the log of a sum of exponentials of such logs is that of the
        whole sum); softmax(x, axis) = exp(x − logsumexp(x, axis, keepdims=True)), and
        log_softmax(x, axis) = x − logsumexp(x, axis, keepdims=True)."""
        logsumexp = func is scipy.special.logsumexp
        args = self.arguments(node, ("a", "axis=None", "b=None", "keepdims=False", "return_sign=False") if logsumexp
                              else ("x", "axis=None"))
        for option, default in (("b", None), ("return_sign", False)):
            if option in args and not (isinstance(args[option], ast.Constant) and args[option].value is default):
                raise self.error(f"'{option}=' of {ast.unparse(node.func)} is not supported", args[option])
        keepdims = args["keepdims"] if logsumexp else ast.Constant(True)
        call = ast.Call(node.func, [args["a" if logsumexp else "x"], args["axis"]], [ast.keyword("keepdims", keepdims)])
        x, axes, keepdims, _ = self.reduction_arguments(ast.copy_location(call, node))
        total = self.stored("logsumexp", (x,), "np") if axes is None else self.along("logsumexp_axis", x, axes)
        total = self.kept(total, x, axes, keepdims)
        if logsumexp:
            return total
        log_softmax = self.stored("sub", (x, total), "op")
        return self.prim("exp", (log_softmax,), "np", node) if func is scipy.special.softmax else log_softmax

    def mean(self, node):
        """np.mean(x, axis) = the sum along the axes / the number of elements summed (numba has
        no np.mean(x, axis))."""
        x, axes, keepdims, _ = self.reduction_arguments(node)
        mean = self.prim("truediv", (self.summed(x, axes), self.count(x, axes)), "op", node)
        return self.kept(ir.Name(self._store(mean)), x, axes, keepdims) if keepdims else mean

    def variance(self, node, std):
        """np.var(x, axis, ddof=k) = Σ (x - mean)² / (n - k), as that arithmetic (so its
        derivatives are exact to any order); np.std its square root."""
        x, axes, keepdims, extra = self.reduction_arguments(node, ("ddof",))
        ddof = constant_int(extra.get("ddof", ast.Constant(0)))
        if ddof is None:
            raise self.error("ddof must be a constant integer", extra["ddof"])
        mean = ir.Name(self._store(self.prim("truediv", (self.summed(x, axes), self.count(x, axes)), "op", node)))
        if axes is not None:            # the means kept along the axes, to broadcast against x
            mean = self.kept(mean, x, axes, True)
        centred = self.stored("sub", (x, mean), "op")
        squares = self.stored("mul", (centred, centred), "op")
        count = self.count(x, axes)
        if ddof:
            count = self.stored("sub", (count, ir.Const(ddof)), "op")
        variance = self.stored("truediv", (self.summed(squares, axes), count), "op")
        if std:
            variance = self.stored("sqrt", (variance,), "np")
        return self.kept(variance, x, axes, keepdims)

    def product(self, node):
        """np.prod(x, axis): the running product as a loop over the elements (or the slices
        along each axis), so that its derivatives are exact where elements are zero too."""
        x, axes, keepdims, _ = self.reduction_arguments(node)
        if axes is None:
            flat = self.stored("ravel", (x,), "np")
            product = ir.Name(self._store(ir.Const(1.0)))
            with self.block() as body:
                k = self.namer.temp()
                element = ir.Name(self._store(ir.Item(flat, (ir.Name(k),))))
                self.emit(ir.Assign(product.id, ir.Prim("mul", (product, element), "op"), self.line))
            self.emit(ir.For(k, ir.Const(0), self.stored("size", (flat,), "op"), ir.Const(1), body, self.line))
            return self.kept(product, x, None, keepdims)
        for axis in axes:
            x = self.product_along(x, axis)
            if not keepdims:                # the axis, of length 1 now, dropped
                x = self.stored("sum_axis", (x, ir.Const(axis)), "np")
        return x

    def product_along(self, x, axis) -> ir.Name:
        """The product along `axis`, kept as an axis of length 1."""
        axis = ir.Const(axis)
        product = self.stored("part", (x, ir.Const(0), ir.Const(1), axis), "runtime")
        with self.block() as body:
            k = self.namer.temp()
            after = self.stored("add", (ir.Name(k), ir.Const(1)), "op")
            piece = self.stored("part", (x, ir.Name(k), after, axis), "runtime")
            self.emit(ir.Assign(product.id, ir.Prim("mul", (product, piece), "op"), self.line))
        self.emit(ir.For(k, ir.Const(1), self.stored("dim", (x, axis), "op"), ir.Const(1), body, self.line))
        return product

    def running(self, op, node):
        """np.cumprod(x, axis) (op "mul") and np.cumsum(x, axis) with an axis (op "add"): a
        loop carrying the running value, written into a new array slice by slice (along the
        first axis: another is moved there and back)."""
        x, axes, _, _ = self.reduction_arguments(node)
        if axes is None:
            x, axis = self.stored("ravel", (x,), "np"), 0
        elif len(axes) > 1:
            raise self.error("a running sum or product is along one axis", node)
        else:
            axis = axes[0]
        if axis:
            x = self.stored("moveaxis", (x, ir.Const(axis), ir.Const(0)), "runtime")
        out = self.stored("empty_like", (x,), "np")
        running = ir.Name(self._store(ir.Item(x, (ir.Const(0),))))
        self.emit(ir.SetItem(out.id, (ir.Const(0),), running, self.line))
        with self.block() as body:
            k = self.namer.temp()
            piece = ir.Name(self._store(ir.Item(x, (ir.Name(k),))))
            self.emit(ir.Assign(running.id, ir.Prim(op, (running, piece), "op"), self.line))
            self.emit(ir.SetItem(out.id, (ir.Name(k),), running, self.line))
        self.emit(ir.For(k, ir.Const(1), self.stored("dim", (x, ir.Const(0)), "op"), ir.Const(1), body, self.line))
        self.written.setdefault(out.id, node)
        return self.stored("moveaxis", (out, ir.Const(0), ir.Const(axis)), "runtime") if axis else out

    def average(self, node):
        """np.average(x, axis, weights): Σ w x / Σ w along the axes, np.mean without weights."""
        args = list(node.args)
        keywords = {k.arg: k.value for k in node.keywords}
        for keyword in node.keywords:
            if keyword.arg not in ("axis", "weights", "keepdims"):
                raise self.keyword_error(node, keyword)
        weights = keywords.pop("weights", args.pop(2) if len(args) > 2 else None)
        if weights is None or isinstance(weights, ast.Constant) and weights.value is None:
            unweighted = ast.Call(node.func, args, [ast.keyword(k, v) for k, v in keywords.items()])
            return self.mean(ast.copy_location(unweighted, node))
        call = ast.copy_location(ast.Call(node.func, args, [ast.keyword(k, v) for k, v in keywords.items()]), node)
        x, axes, keepdims, _ = self.reduction_arguments(call)
        w = self.atom(weights)
        if axes is not None:
            if len(axes) > 1:
                raise self.error("np.average with weights takes one axis here", node)
            w = self.stored("weights_along", (w, x, ir.Const(axes[0])), "runtime")   # 1-D weights of one axis
        spread = self.stored("mul", (w, self.stored("ones_like", (x,), "np")), "op")     # the weights in x's shape
        average = self.stored("truediv", (self.summed(self.stored("mul", (x, w), "op"), axes),
                                          self.summed(spread, axes)), "op")
        return self.kept(average, x, axes, keepdims)

    def norm(self, node):
        """np.linalg.norm(x, ord, axis, keepdims): vector norms (ord None, 2, 1, ±inf or any
        p) of the whole of a vector or along an axis, as those sums and extremes of |x|; of
        the whole of a matrix (or along two axes), the Frobenius, nuclear, 1-, 2- and ∞-norms."""
        args = self.arguments(node, ("x", "ord=None", "axis=None", "keepdims=False"))
        order = self.literal(args["ord"], "ord")
        keepdims = self.literal(args["keepdims"], "keepdims")
        x = self.atom(args["x"])
        axes = None
        if isinstance(args["axis"], ast.Tuple):       # the matrices along two axes: their Frobenius norms
            axes = tuple(self.constant_integer(a, "the axis") for a in args["axis"].elts)
            if order not in (None, "fro") or len(axes) != 2 or len({a < 0 for a in axes}) > 1:
                raise self.error("np.linalg.norm along two axes is supported as the Frobenius norm, with axes of one "
                                 "sign, here", node)
            axes = tuple(sorted(axes, reverse=axes[0] >= 0))
            value = self.stored("sqrt", (self.summed(self.stored("mul", (x, x), "op"), axes),), "np")
            return self.kept(value, x, axes, keepdims)
        if not (isinstance(args["axis"], ast.Constant) and args["axis"].value is None):
            axes = (self.constant_integer(args["axis"], "the axis"),)
            if order in ("fro", "nuc"):
                raise self.error(f"the norm ord={order!r} is of a matrix, not along an axis", node)
        elif order in (None, "fro"):
            value = self.stored("norm", (x,), "np")
        elif order == "nuc":                       # the sum of the singular values
            self.require(f"{x.id}.ndim == 2", "the nuclear norm is of a matrix")
            value = self.stored("sum", (self.stored("svdvals", (x,), "np"),), "np")
        elif order in (1, np.inf, -np.inf):
            # the largest column (row) sum of |x|: a vector is the one-column matrix whose
            # norm that is its own 1-norm (∞-norm)
            self.require(f"{x.id}.ndim <= 2", "np.linalg.norm with an ord is of a vector or a matrix")
            column = self.stored("as_column", (x,), "runtime")
            sums = self.stored("sum_axis", (self.stored("abs", (column,), "np"), ir.Const(0 if order == 1 else 1)),
                               "np")
            value = self.stored("amin" if order == -np.inf else "amax", (sums,), "np")
        elif order == 2:                           # a matrix's is its largest singular value (analyze.FORMS)
            value = self.stored("norm_2", (x,), "runtime")
        else:
            self.require(f"{x.id}.ndim == 1", f"np.linalg.norm of a matrix with ord={order} is not supported (the "
                                              "Frobenius, nuclear, 1-, 2- and ∞-norms of matrices are, and any ord "
                                              "along an axis)")
        if axes is not None or order not in (None, "fro", "nuc", 1, 2, np.inf, -np.inf):
            value = self.vector_norm(x, order, axes, args["ord"])
        return self.kept(value, x, axes, keepdims)

    def vector_norm(self, x, order, axes, node):
        """The p-norm of a vector, or along the axes."""
        if order is None or order == 2:
            return self.stored("sqrt", (self.summed(self.stored("mul", (x, x), "op"), axes),), "np")
        if order == 1:
            return self.summed(self.stored("abs", (x,), "np"), axes)
        if order in (np.inf, -np.inf):
            largest = order > 0
            magnitude = self.stored("abs", (x,), "np")
            return self.stored("amax" if largest else "amin", (magnitude,), "np") if axes is None else \
                self.along("amax_axis" if largest else "amin_axis", magnitude, axes)
        if isinstance(order, (int, float)) and order != 0:
            powers = self.stored("pow", (self.stored("abs", (x,), "np"), ir.Const(float(order))), "op")
            return self.stored("pow", (self.summed(powers, axes), ir.Const(1.0 / order)), "op")
        raise self.error(f"np.linalg.norm with ord={order} is not supported", node)

    def literal(self, node, what):
        """The value of a constant argument: a literal, a negated one, or a name like np.inf."""
        try:
            return ast.literal_eval(node)
        except ValueError:
            pass
        negated = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
        try:
            value = self.resolve(node.operand if negated else node)
        except S2SDiffError:
            value = None
        if not isinstance(value, (int, float)):
            raise self.error(f"{what} must be a constant here", node)
        return -value if negated else value

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
            elif keyword.arg != "dtype" or not self.float_dtype(keyword.value):     # float64 is what it gives
                raise self.keyword_error(node, keyword)
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
            return x, None, keepdims, found
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
            x = self.stored(op, (x, ir.Const(axis)), "np")
        return x

    def summed(self, x, axes) -> ir.Name:
        """The sum of x's elements, or along the axes."""
        return self.stored("sum", (x,), "np") if axes is None else self.along("sum_axis", x, axes)

    def count(self, x, axes) -> ir.Name:
        """The number of elements summed: x's size, or the product of the axes' extents."""
        if axes is None:
            return self.stored("size", (x,), "op")
        count = self.stored("dim", (x, ir.Const(axes[0])), "op")
        for axis in axes[1:]:
            extent = self.stored("dim", (x, ir.Const(axis)), "op")
            count = self.stored("mul", (count, extent), "op")
        return count

    def kept(self, value, x, axes, keepdims):
        """`value` with the reduced axes of x back, of length 1, for keepdims (all of them
        for axes None)."""
        if not keepdims:
            return value
        if axes is None:
            return self.stored("keep_all", (value, x), "runtime")
        for axis in reversed(axes):         # the first reduced is the last put back
            value = self.stored("expand", (value, ir.Const(axis)), "runtime")
        return value


def constant_int(node):
    """The value of an integer literal, `-1` included (a negated constant in the AST), or None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = constant_int(node.operand)
        return None if value is None else -value
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None
