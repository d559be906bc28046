"""The rules of whole-array primitives: reductions, shapes and orders, joins and slices,
sorting, diagonals, broadcasts.
"""
from . import _rule, constant, unary

# ---- whole arrays: reductions, shapes and orders -------------------------------------
#       op            spellings               forward: dz =                 reverse: bx +=, by +=
unary("sum",         "np.sum",               "sum(dx)",                    "bz", result="number")
# the largest (smallest) element: ties share the derivative evenly, as maximum/minimum do
unary("amax",        "np.max np.amax",       "sum(dx * (x == z)) / sum(x == z)", "bz * (x == z) / sum(x == z)",
      result="number")
unary("amin",        "np.min np.amin",       "sum(dx * (x == z)) / sum(x == z)", "bz * (x == z) / sum(x == z)",
      result="number")
_rule("sum_axis",    ("x", "axis"), "",      "sum_axis(dx, axis)",         "expand(bz, axis)", None, result="array")
_rule("amax_axis",   ("x", "axis"), "runtime.amax_along",
      "sum_axis(dx * equal(x, expand(z, axis)), axis) / sum_axis(equal(x, expand(z, axis)), axis)",
      "expand(bz, axis) * equal(x, expand(z, axis)) / expand(sum_axis(equal(x, expand(z, axis)), axis), axis)", None,
      result="array")
_rule("amin_axis",   ("x", "axis"), "runtime.amin_along",
      "sum_axis(dx * equal(x, expand(z, axis)), axis) / sum_axis(equal(x, expand(z, axis)), axis)",
      "expand(bz, axis) * equal(x, expand(z, axis)) / expand(sum_axis(equal(x, expand(z, axis)), axis), axis)", None,
      result="array")
# np.average's 1-D weights of one axis of x, shaped to broadcast along that axis
_rule("weights_along", ("w", "x", "axis"), "runtime.weights_along", "weights_along(dw, x, axis)",
      "reshape_like(bz, w)", None, None, result="array", rank="x")
_rule("expand",      ("x", "axis"), "runtime.expand", "expand(dx, axis)",  "sum_axis(bz, axis)", None,
      result="array")
# a whole-array reduction with keepdims: the number as an array of like's rank, every axis of length 1
_rule("keep_all",    ("x", "like"), "runtime.keep_all", "keep_all(dx, like)", "sum(bz)", None, result="array",
      rank="like")
unary("copy",        "np.copy",              "copy(dx)",                   "bz", result="array")
unary("transpose",   "np.transpose",         "transpose(dx)",              "transpose(bz)", result="array")
# the same elements in another shape or order; the adjoint of a reshape is reshaped back
_rule("reshape",     ("x", "shape"), "runtime.reshape np.reshape!", "reshape(dx, shape)", "reshape_like(bz, x)", None,
      result="array")
unary("ravel",       "np.ravel",             "ravel(dx)",                  "reshape_like(bz, x)", result="array")
unary("flip",        "np.flip",              "flip(dx)",                   "flip(bz)", result="array")
unary("flipud",      "np.flipud",            "flipud(dx)",                 "flipud(bz)", result="array")
unary("fliplr",      "np.fliplr",            "fliplr(dx)",                 "fliplr(bz)", result="array")
_rule("flip_along",  ("x", "axis"), "runtime.flip_along", "flip_along(dx, axis)", "flip_along(bz, axis)", None,
      result="array", rank="x")
# running sums of the flattened array: the adjoint sums the adjoints from the end back
unary("cumsum",      "np.cumsum",            "cumsum(dx)",                 "reshape_like(flip(cumsum(flip(bz))), x)",
      result="array")
_rule("reshape_like", ("x", "like"), "runtime.reshape_like", "reshape_like(dx, like)", "reshape_like(bz, x)", None,
      result="array")
# ---- joining and splitting: pieces of an array along an axis --------------------------
# The tangent of a join needs both pieces' tangents: `densify` makes a symbolic zero one
# (a constant piece) an array of zeros.  The adjoint of a piece is the slice of the
# join's adjoint it came from (`part`), and a slice's adjoint is that slice put back into
# zeros (`put`): the two are adjoint to each other, so joins have derivatives of any order.
_rule("concat",      ("x", "y", "axis"), "runtime.concat", "concat(densify(dx, x), densify(dy, y), axis)",
      "part(bz, 0, dim(x, axis), axis)", "part(bz, dim(x, axis), dim(z, axis), axis)", None, result="array", rank="x")
_rule("part",        ("x", "start", "stop", "axis"), "runtime.part", "part(dx, start, stop, axis)",
      "put(bz, x, start, axis)", None, None, None, result="array", rank="x")
_rule("put",         ("x", "like", "start", "axis"), "runtime.put", "put(dx, like, start, axis)",
      "part(bz, start, start + dim(x, axis), axis)", None, None, None, result="array", rank="like")
# the axes in another order (np.transpose(x, axes)): the adjoint goes back by the inverse order
_rule("swapaxes",    ("x", "axis1", "axis2"), "np.swapaxes", "swapaxes(dx, axis1, axis2)", "swapaxes(bz, axis1, axis2)",
      None, None, result="array", rank="x")
_rule("moveaxis",    ("x", "source", "destination"), "runtime.moveaxis np.moveaxis!", "moveaxis(dx, source, destination)",
      "moveaxis(bz, destination, source)", None, None, result="array", rank="x")
_rule("permute",     ("x", "axes", "inverse"), "runtime.permute", "permute(dx, axes, inverse)",
      "permute(bz, inverse, axes)", None, None, result="array", rank="x")
unary("atleast_1d",  "runtime.atleast_1d np.atleast_1d!", "atleast_1d(dx)", "reshape_like(bz, x)", result="array")
unary("atleast_2d",  "runtime.atleast_2d np.atleast_2d!", "atleast_2d(dx)", "reshape_like(bz, x)", result="array")
unary("atleast_3d",  "runtime.atleast_3d np.atleast_3d!", "atleast_3d(dx)", "reshape_like(bz, x)", result="array")
unary("as_column",   "runtime.as_column",    "as_column(dx)",              "reshape_like(bz, x)", result="array")
# sorted along the last axis: each element's derivative goes where argsort puts it
unary("sort",        "np.sort",              "take_along(dx, order_of(x))", "put_along(bz, order_of(x))",
      result="array", rank="x")
_rule("take_along",  ("x", "order"), "runtime.take_along", "take_along(dx, order)", "put_along(bz, order)", None,
      result="array", rank="x")
_rule("put_along",   ("x", "order"), "runtime.put_along", "put_along(dx, order)", "take_along(bz, order)", None,
      result="array", rank="x")
# diagonals: np.diag makes a matrix of a vector and takes the diagonal of a matrix, and the
# adjoint of each is the other; diag_adjoint(g, x, k) is g in x's shape that way
_rule("diag",        ("x", "k"), "np.diag",  "diag(dx, k)",                "diag_adjoint(bz, x, k)", None,
      result="array", defaults={"k": 0})
_rule("diag_adjoint", ("g", "x", "k"), "runtime.diag_adjoint", "diag_adjoint(dg, x, k)", "diag_adjoint(bz, g, k)",
      None, None, result="array", rank="x")
_rule("tril",        ("x", "k"), "np.tril",  "tril(dx, k)",                "tril(bz, k)", None, result="array", rank="x", defaults={"k": 0})
_rule("triu",        ("x", "k"), "np.triu",  "triu(dx, k)",                "triu(bz, k)", None, result="array", rank="x", defaults={"k": 0})
_rule("broadcast_to", ("x", "shape"), "np.broadcast_to", "broadcast_to(dx, shape)", "adjoint_like(bz, x)", None,
      result="array")
# A broadcast's adjoint summed back to the argument's shape (runtime.adjoint_like), and a
# tangent spread to its value's shape: each the other's adjoint.
_rule("adjoint_like", ("x", "y"), "runtime.adjoint_like", "adjoint_like(dx, y)", "adjoint_like(bz, x)", None)
# A tangent is shaped like its value: an elementwise result broadcast larger by an operand
# with no tangent (`a + X`, X constant) gets its tangent spread to the result's shape.
_rule("tangent_like", ("x", "like"), "runtime.tangent_like", "tangent_like(dx, like)", "adjoint_like(bz, x)", None)
