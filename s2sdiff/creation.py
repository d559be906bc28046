"""Front end, new arrays and their dtypes: `dtype=` on NumPy's allocators, `x.astype(...)`,
and the attributes `.shape`, `.ndim`, `.dtype` as values.

s2sdiff differentiates float64 arithmetic: a float64 dtype is what the allocation gives
anyway and is dropped; an integer or boolean one makes an array of piecewise-constant
values, kept as written (analyze refuses it where a differentiated value would flow into
it); any other (float32, complex) is refused by name.

Mixed into normalize's lowering of user code: it uses that class's `atom`, `prim`,
`passive`, `resolve`, `keyword_error` and `error`.
"""
from __future__ import annotations

import ast

import numpy as np

from . import ir, runtime
from .errors import S2SDiffError

# allocators whose result is shaped like their first argument, and what they are without it
_LIKE = {"zeros_like": "zeros", "ones_like": "ones", "empty_like": "empty", "full_like": "full"}
# where the dtype goes when given by position
DTYPE_POSITION = {"zeros": 1, "ones": 1, "empty": 1, "zeros_like": 1, "ones_like": 1, "empty_like": 1, "full": 2,
                  "full_like": 2, "eye": 3}     # (np.eye's M and k are by position or keyword)
ALLOCATORS = frozenset(DTYPE_POSITION)


class Creation:
    def allocation(self, op, node):
        """np.zeros(…, dtype=…) and the other allocators with keywords or a dtype by position."""
        position = DTYPE_POSITION[op]
        if len(node.args) > position:
            dtype = ast.keyword("dtype", node.args[position])
            node = ast.copy_location(ast.Call(node.func, node.args[:position] + node.args[position + 1:],
                                              node.keywords + [dtype]), node)
        if op == "eye":                 # np.eye(N, M=None, k=0): its shape and diagonal by position
            given = self.arguments(node, ("N", "M=None", "k=0", "dtype=float"))
            node = ast.copy_location(ast.Call(node.func, [given[p] for p in ("N", "M", "k")],
                                              [ast.keyword("dtype", given["dtype"])]), node)
        keywords = {k.arg: k.value for k in node.keywords}
        for keyword in node.keywords:
            if keyword.arg != "dtype" and not (op in ("full", "full_like") and keyword.arg == "fill_value"):
                raise self.keyword_error(node, keyword)
        if "dtype" in keywords and not self.float_dtype(keywords["dtype"]):
            return self.passive(node)
        if op in _LIKE and op != "full_like" and "dtype" in keywords:     # float64 zeros shaped like x
            shape = self.passive(ast.copy_location(ast.Attribute(node.args[0], "shape", ast.Load()), node.args[0]))
            return self.prim(_LIKE[op], (ir.Name(self._store(shape)),), "np", node)
        args = list(node.args) + ([keywords["fill_value"]] if "fill_value" in keywords else [])
        if op not in ("full", "full_like"):
            return self.prim(op, tuple(self.shape_atom(a) for a in args), "np", node)
        if len(args) != 2:
            raise self.error(f"{ast.unparse(node.func)} takes (shape, fill_value) here", node)
        if op == "full_like" and "dtype" in keywords:   # the like-array's dtype replaced by float64
            shape = self.passive(ast.copy_location(ast.Attribute(args[0], "shape", ast.Load()), args[0]))
            return self.prim("full", (ir.Name(self._store(shape)), self.atom(args[1])), "np", node)
        return self.prim(op, (self.shape_atom(args[0]), self.atom(args[1])), "np", node)

    def float_dtype(self, node) -> bool:
        """Whether the dtype `node` names is float64 (True) or an integer or boolean one
        (False); any other is refused. `x.dtype` is float64 where x is a float array (the
        derivative code computes in float64), checked where the code runs."""
        if isinstance(node, ast.Attribute) and node.attr == "dtype":
            like = self.atom(node.value)
            if isinstance(like, ir.Name):
                self.namespace["is_float_array"] = runtime.is_float_array
                self.require(f"is_float_array({like.id})", f"dtype={ast.unparse(node)} is supported where "
                                                           f"{ast.unparse(node.value)} is a float array")
                return True
        try:
            value = node.value if isinstance(node, ast.Constant) else self.resolve(node)
            dtype = np.dtype(value)
        except (S2SDiffError, TypeError):
            raise self.error(f"dtype={ast.unparse(node)} is not supported: name the dtype (float, np.float64, "
                             "int, ...)", node) from None
        if dtype == np.float64:
            return True
        if dtype.kind in "iub":
            return False
        raise self.error(f"dtype {dtype} is not supported: s2sdiff computes derivatives in float64", node)

    def astype(self, node):
        """x.astype(float): a float64 copy; to an integer or boolean dtype, kept as written."""
        if len(node.args) != 1 or node.keywords:
            raise self.error(".astype() takes one dtype here", node)
        if not self.float_dtype(node.args[0]):
            return self.passive(node)
        return self.prim("copy", (self.atom(node.func.value),), "np", node)

    def shape_attribute(self, node):
        """x.shape, x.ndim, x.dtype: piecewise constant, kept as written."""
        return self.passive(node)
