"""Front end, products: np.einsum (explicit and implicit subscripts, any number of operands),
np.inner, np.vdot, np.tensordot, np.linalg.matrix_power, np.cross of vectors,
and the outer products of ufuncs (np.add.outer, …) — lowered to the rule table's
broadcasting products, sums along axes, axis permutations, diagonals and matrix
products, so that their derivatives are the table's, to any order.

Mixed into normalize's lowering of user code: it uses that class's `atom`, `prim`,
`stored`, `_store`, `require`, `arguments`, `keyword_error` and `error`.
"""
from __future__ import annotations

import ast

import numpy as np

from . import ir
from .reductions import constant_int

_OUTER = {np.add: "add", np.subtract: "sub", np.multiply: "mul", np.divide: "truediv", np.true_divide: "truediv",
          np.maximum: "maximum", np.minimum: "minimum", np.power: "pow"}
_SIGNATURES = {np.inner: ("a", "b"), np.cross: ("a", "b"), np.vdot: ("a", "b"),
               np.tensordot: ("a", "b", "axes=2"), np.linalg.matrix_power: ("a", "n"),
               np.linalg.multi_dot: ("arrays",)}
PRODUCT_FUNCTIONS = frozenset(_SIGNATURES) | {np.einsum}


def outer_ufunc(func):
    """The op of `np.add.outer` and the like, or None."""
    owner = getattr(func, "__self__", None)
    if getattr(func, "__name__", None) == "outer" and isinstance(owner, np.ufunc):
        return _OUTER.get(owner)
    return None


class Products:
    def lower_product(self, func, node):
        """np.einsum, np.inner, np.cross, np.vdot, np.tensordot, np.linalg.matrix_power
        of the call `node`."""
        if func is np.einsum:
            return self.einsum(node)
        lower = {np.inner: self.inner, np.cross: self.cross, np.vdot: self.vdot,
                 np.tensordot: self.tensordot, np.linalg.matrix_power: self.matrix_power,
                 np.linalg.multi_dot: self.multi_dot}[func]
        return lower(self.arguments(node, _SIGNATURES[func]), node)

    def einsum(self, node):
        """The operands multiplied two at a time, aligned by their subscripts (a permutation
        and axes of length 1 for the subscripts one lacks, so that they broadcast), each
        subscript summed out as soon as no later operand and not the output has it; the
        result permuted into the output's order.  One subscript shared as a matrix product
        shares it is a matrix product."""
        for keyword in node.keywords:
            if keyword.arg != "optimize":           # a contraction order: the result is the same
                raise self.keyword_error(node, keyword)
        if not node.args or not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            raise self.error("np.einsum needs its subscripts as a string written in the call", node)
        spec = node.args[0].value.replace(" ", "")
        if "..." in spec:
            raise self.error("np.einsum with `...` in the subscripts is not supported", node.args[0])
        inputs, arrow, output = spec.partition("->")
        inputs = inputs.split(",")
        if len(inputs) != len(node.args) - 1 or not all(s.isalpha() for s in inputs if s) \
                or not (output.isalpha() or output == ""):
            raise self.error(f"np.einsum: the subscripts {spec!r} do not fit {len(node.args) - 1} operand(s)",
                             node.args[0])
        if not arrow:                               # implicit: the subscripts seen once, in order
            joined = "".join(inputs)
            output = "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
        if set(output) - set("".join(inputs)) or len(set(output)) < len(output):
            raise self.error(f"np.einsum: the output subscripts of {spec!r} are not the inputs'", node.args[0])
        terms = [self.distinct(self.atom(a), letters, node) for a, letters in zip(node.args[1:], inputs)]
        value, letters = terms[0]
        for k, (operand, more) in enumerate(terms[1:], 1):
            later = set(output).union(*(t[1] for t in terms[k:]))
            value, letters = self.summed_out(value, letters, later)
            shared = set(letters) & set(more)
            if len(terms) == 2 and len(shared) == 1 and letters[-1] == more[0] in shared \
                    and letters[-1] not in output and len(letters) <= 2 and len(more) <= 2:
                value, letters = self.stored("matmul", (value, operand), "np"), letters[:-1] + more[1:]
                continue
            union = letters + [c for c in more if c not in letters]
            value = self.stored("mul", (self.aligned(value, letters, union), self.aligned(operand, more, union)), "op")
            letters = union
        value, letters = self.summed_out(value, letters, set(output))
        if letters != list(output):
            order = [letters.index(c) for c in output]
            value = self.permuted(value, order)
        return self.prim("pos", (value,), "op", node)

    def distinct(self, operand, letters, node):
        """(operand, its subscripts as a list), a repeated one (`ii`) taken as the diagonal."""
        letters = list(letters)
        if len(set(letters)) == len(letters):
            return operand, letters
        if len(letters) == 2:
            return self.stored("diag", (operand, ir.Const(0)), "np"), letters[:1]
        raise self.error("np.einsum with a subscript repeated in an operand is supported for a matrix's diagonal "
                         "(`ii`) here", node.args[0])

    def summed_out(self, value, letters, keep):
        """The value summed along the subscripts not in `keep`."""
        letters = list(letters)
        for axis in reversed(range(len(letters))):
            if letters[axis] not in keep:
                value = self.stored("sum_axis", (value, ir.Const(axis)), "np")
                del letters[axis]
        return value, letters

    def aligned(self, value, letters, union):
        """The value with its axes in the order `union` lists its subscripts, and an axis of
        length 1 for each subscript of `union` it lacks."""
        ordered = sorted(letters, key=union.index)
        if ordered != letters:
            value = self.permuted(value, [letters.index(c) for c in ordered])
        for axis, c in enumerate(union):
            if c not in letters:
                value = self.stored("expand", (value, ir.Const(axis)), "runtime")
        return value

    def permuted(self, value, order):
        if order == [1, 0]:
            return self.stored("transpose", (value,), "np")
        inverse = [order.index(k) for k in range(len(order))]
        axes, back = (ir.Name(self._store(ir.Passive(ast.Tuple([ast.Constant(k) for k in o], ast.Load()))))
                      for o in (order, inverse))
        return self.stored("permute", (value, axes, back), "runtime")

    def inner(self, args, node):
        """np.inner: the sum over the last axes, a @ bᵀ for vectors and matrices (a product
        with a number)."""
        a, b = self.atom(args["a"]), self.atom(args["b"])
        if isinstance(a, ir.Const) or isinstance(b, ir.Const):
            return self.prim("mul", (a, b), "op", node)
        self.require(f"{a.id}.ndim <= 2 and {b.id}.ndim <= 2", "np.inner is supported for vectors and matrices here")
        return self.prim("matmul", (a, self.stored("transpose", (b,), "np")), "np", node)

    def vdot(self, args, node):
        """np.vdot: the dot product of the flattened arrays (real ones: no conjugate)."""
        a, b = (self.stored("ravel", (self.atom(args[k]),), "np") for k in ("a", "b"))
        return self.prim("matmul", (a, b), "np", node)

    def tensordot(self, args, node):
        """np.tensordot over the last `axes` axes of a and the first of b, or over the axes
        given as a pair of sequences: those axes moved last in a and first in b, both
        arrays flattened to matrices around them, a matrix product, the free axes back."""
        spec = args["axes"]
        count = constant_int(spec)
        if count is not None:
            if count < 0:
                raise self.error("np.tensordot takes a number of axes of 0 or more", spec)
            along_a, along_b = tuple(range(-count, 0)), tuple(range(count))
        elif isinstance(spec, (ast.Tuple, ast.List)) and len(spec.elts) == 2:
            along_a, along_b = (self.axis_list(e) for e in spec.elts)
            if len(along_a) != len(along_b):
                raise self.error("np.tensordot sums over as many axes of each array", spec)
        else:
            raise self.error("np.tensordot takes axes as a constant integer or a pair of constant axis lists here",
                             spec)
        a, b = self.atom(args["a"]), self.atom(args["b"])
        if not (isinstance(a, ir.Name) and isinstance(b, ir.Name)):
            raise self.error("np.tensordot takes two arrays here", node)
        summed = len(along_a)
        if along_a != tuple(range(-summed, 0)):
            a = self.stored("moveaxis", (a, ir.Const(along_a), ir.Const(tuple(range(-summed, 0)))), "runtime")
        if along_b != tuple(range(summed)):
            b = self.stored("moveaxis", (b, ir.Const(along_b), ir.Const(tuple(range(summed)))), "runtime")
        extent = " * ".join(f"{b.id}.shape[{k}]" for k in range(summed)) or "1"
        matrices = [self.stored("reshape", (v, self.passive_tuple(shape)), "np")
                    for v, shape in ((a, f"(-1, {extent})"), (b, f"({extent}, -1)"))]
        product = self.stored("matmul", tuple(matrices), "op")
        free = f"{a.id}.shape[:{-summed}] + {b.id}.shape[{summed}:]" if summed else f"{a.id}.shape + {b.id}.shape"
        return self.prim("reshape", (product, self.passive_tuple(free)), "np", node)

    def axis_list(self, node) -> tuple:
        axes = [constant_int(e) for e in (node.elts if isinstance(node, (ast.Tuple, ast.List)) else [node])]
        if None in axes:
            raise self.error("the axes must be constant integers", node)
        return tuple(axes)

    def passive_tuple(self, text) -> ir.Name:
        return ir.Name(self._store(ir.Passive(ast.parse(text, mode="eval").body)))

    def matrix_power(self, args, node):
        """A matrix to a constant integer power: products of squares (the inverse's, for a
        negative power; the identity for 0)."""
        power = constant_int(args["n"])
        if power is None:
            raise self.error("np.linalg.matrix_power takes a constant integer power here", args["n"])
        a = self.atom(args["a"])
        if power == 0:
            return self.prim("eye", (self.stored("dim", (a, ir.Const(0)), "op"),), "np", node)
        if power < 0:
            a, power = self.stored("inv", (a,), "np"), -power
        result, square = None, a
        while power:
            if power & 1:
                result = square if result is None else self.stored("matmul", (result, square), "np")
            power >>= 1
            if power:
                square = self.stored("matmul", (square, square), "np")
        return self.prim("pos", (result,), "op", node)

    def multi_dot(self, args, node):
        """np.linalg.multi_dot([A, B, C]): A @ B @ C (the order NumPy picks changes only the cost)."""
        arrays = args["arrays"]
        if not isinstance(arrays, (ast.List, ast.Tuple)) or len(arrays.elts) < 2:
            raise self.error("np.linalg.multi_dot takes a list of two or more arrays written in the call here", node)
        product = self.atom(arrays.elts[0])
        for operand in arrays.elts[1:-1]:
            product = self.stored("matmul", (product, self.atom(operand)), "op")
        return self.prim("matmul", (product, self.atom(arrays.elts[-1])), "op", node)

    def cross(self, args, node):
        """np.cross of 3-vectors (or of arrays of them along the last axis, broadcast),
        component by component."""
        a, b = self.atom(args["a"]), self.atom(args["b"])
        if not (isinstance(a, ir.Name) and isinstance(b, ir.Name)):
            raise self.error("np.cross takes two arrays of 3-vectors", node)
        self.require(f"{a.id}.shape[-1] == 3 and {b.id}.shape[-1] == 3",
                     "np.cross is supported for 3-vectors (along the last axis) here")
        (a0, a1, a2), (b0, b1, b2) = [[self.component(v, k) for k in range(3)] for v in (a, b)]
        components = [self.stored("sub", (self.stored("mul", (p, q), "op"), self.stored("mul", (r, t), "op")), "op")
                      for p, q, r, t in ((a1, b2, a2, b1), (a2, b0, a0, b2), (a0, b1, a1, b0))]
        return self.concatenated([self.stored("expand", (c, ir.Const(-1)), "runtime") for c in components], -1, node)

    def component(self, v, k) -> ir.Name:
        """v[..., k]: the k-th entries along the last axis (a number of a vector)."""
        piece = self.stored("part", (v, ir.Const(k), ir.Const(k + 1), ir.Const(-1)), "runtime")
        return self.stored("sum_axis", (piece, ir.Const(-1)), "np")

    def outer_of(self, op, node):
        """np.add.outer(a, b) and the like, of vectors: op(a[:, None], b[None, :])."""
        if len(node.args) != 2 or node.keywords:
            raise self.error(f"{ast.unparse(node.func)} takes (a, b) here", node)
        a, b = (self.atom(v) for v in node.args)
        for v in (a, b):
            if isinstance(v, ir.Name):
                self.require(f"np.asarray({v.id}).ndim == 1", f"{ast.unparse(node.func)} is supported for vectors here")
        column = self.stored("expand", (a, ir.Const(1)), "runtime")
        row = self.stored("expand", (b, ir.Const(0)), "runtime")
        return self.prim(op, (column, row), "np", node)
