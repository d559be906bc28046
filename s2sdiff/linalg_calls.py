"""Front end, linear algebra: np.linalg's factorizations and decompositions and SciPy's
triangular solves, lowered to the rule table's primitives.

A function that returns a tuple becomes one primitive per component, each a function of
the call's arguments: `w, V = np.linalg.eigh(A)` is `w = eigvalsh(A)`, `V = eigh_vectors(A)`;
`np.linalg.slogdet(A)[1]` and `np.linalg.slogdet(A).logabsdet` are `logabsdet(A)`.  So no
tuple value enters the core language, each component has a rule of its own, and the
components nobody reads are dropped as dead code.  A component with no rule that is not
piecewise constant (lstsq's residuals) is kept as written, and refused where it depends on
a differentiated value.

Arguments are checked against the function's signature: those handled become constant
arguments of the primitive, any other is refused by name.  Mixed into normalize's lowering
of user code: it uses that class's `atom`, `_store`, `passive`, `free_function` and `error`.

The user's own code, where numba compiles it as a primal, gets the forms numba lacks
respelled (`respelled_call`, through normalize.respelled).
"""
from __future__ import annotations

import ast
import inspect

import numpy as np
import scipy.linalg

from . import ir


class LinalgCalls:
    def linalg_call(self, func, node):
        """A call of a function this module lowers, used as a value: its result, or a refusal
        for a tuple that is not unpacked or indexed."""
        fields, value = _LOWERINGS[func](self, node)
        if fields:
            raise self.error(f"{ast.unparse(node.func)} returns a tuple: unpack it ({', '.join(fields)} = ...) or "
                             "take one element with a constant index", node)
        return value

    def tuple_components(self, node):
        """(field names, a value per component) of a call of a function here that returns
        a tuple; None for any other expression."""
        func = self.free_function(node.func) if isinstance(node, ast.Call) else None
        if not is_linalg(func):
            return None
        fields, values = _LOWERINGS[func](self, node)
        return (fields, values) if fields else None

    def tuple_component(self, node, pick):
        """The component `pick` (a constant index or a field name) of the tuple `node`
        returns, or None if node is not such a call."""
        found = self.tuple_components(node)
        if found is None:
            return None
        fields, values = found
        if isinstance(pick, str):
            if pick not in fields:
                raise self.error(f"{ast.unparse(node.func)}'s result has no field '{pick}' (it has "
                                 f"{', '.join(fields)})", node)
            return values[fields.index(pick)]
        if pick is None or not -len(values) <= pick < len(values):
            raise self.error(f"{ast.unparse(node.func)} returns {len(values)} values: index its result with a "
                             f"constant from 0 to {len(values) - 1}", node)
        return values[pick]

    # -- arguments -------------------------------------------------------------------------
    def linalg_arguments(self, func, node, handled) -> dict:
        """Parameter name -> argument node of a call, refusing any parameter not `handled`."""
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.error("*- and **-unpacking in calls is not supported", node)
        try:
            bound = inspect.signature(func).bind(*node.args, **{k.arg: k.value for k in node.keywords})
        except TypeError as exc:
            raise self.error(f"bad call to {ast.unparse(node.func)}: {exc}", node) from None
        for name in bound.arguments:
            if name not in handled:
                raise self.error(f"keyword '{name}=' of {ast.unparse(node.func)} is not supported", node)
        return bound.arguments

    def constant_argument(self, node, name, allowed=None):
        """The value of a literal argument (True, 0, 'T', 1e-10, None)."""
        try:
            value = ast.literal_eval(node)
        except ValueError:
            raise self.error(f"'{name}=' must be a constant here", node) from None
        if allowed is not None and value not in allowed:
            raise self.error(f"{name}={value!r} is not supported here", node)
        return value


def _one(op):
    """A function of its one matrix argument (keyword-free): the primitive `op`."""
    def lower(self, node):
        func = self.free_function(node.func)
        name = next(iter(inspect.signature(func).parameters))
        a = self.linalg_arguments(func, node, {name})[name]
        return (), ir.Prim(op, (self.atom(a),), "np")
    return lower


def _components(fields, ops):
    """A function of its one matrix argument that returns the tuple of the primitives `ops`."""
    def lower(self, node):
        func = self.free_function(node.func)
        a = self.atom(self.linalg_arguments(func, node, {"a"})["a"])
        return fields, [ir.Prim(op, (a,), "np") for op in ops]
    return lower


def _svd(self, node):
    args = self.linalg_arguments(np.linalg.svd, node, {"a", "full_matrices", "compute_uv"})
    a = self.atom(args["a"])
    if not self.constant_argument(args.get("compute_uv", ast.Constant(True)), "compute_uv", (True, False)):
        return (), ir.Prim("svdvals", (a,), "np")
    if self.constant_argument(args.get("full_matrices", ast.Constant(True)), "full_matrices", (True, False)) \
            and isinstance(a, ir.Name):         # the full SVD of a square matrix is the reduced one
        self.require(f"{a.id}.shape[0] == {a.id}.shape[1]", f"{ast.unparse(node.func)} of a non-square matrix is "
                     "differentiated as the reduced SVD: pass full_matrices=False")
    return ("U", "S", "Vh"), [ir.Prim(op, (a,), "np") for op in ("svd_u", "svdvals", "svd_vt")]


def _qr(self, node):
    args = self.linalg_arguments(np.linalg.qr, node, {"a", "mode"})
    self.constant_argument(args.get("mode", ast.Constant("reduced")), "mode", ("reduced",))
    a = self.atom(args["a"])
    return ("Q", "R"), [ir.Prim("qr_q", (a,), "np"), ir.Prim("qr_r", (a,), "np")]


def _pinv(self, node):
    args = self.linalg_arguments(np.linalg.pinv, node, {"a", "rcond"})
    rcond = self.constant_argument(args.get("rcond", ast.Constant(None)), "rcond")
    if rcond is not None and not isinstance(rcond, (int, float)):
        raise self.error("'rcond=' must be a number here", node)
    return (), ir.Prim("pinv", (self.atom(args["a"]), ir.Const(1e-15 if rcond is None else float(rcond))), "np")


def _lstsq(self, node):
    args = self.linalg_arguments(np.linalg.lstsq, node, {"a", "b", "rcond"})
    self.constant_argument(args.get("rcond", ast.Constant(None)), "rcond", (None,))
    a, b = self.atom(args["a"]), self.atom(args["b"])
    # the residuals, kept as written (respelled where numba compiles them: normalize.respelled)
    residuals = ast.Subscript(ast.Call(node.func, [_load(a), _load(b)], []), ast.Constant(1), ast.Load())
    residuals = self.passive(ast.fix_missing_locations(ast.copy_location(residuals, node)))
    return ("x", "residuals", "rank", "s"), [ir.Prim("lstsq", (a, b), "np"), residuals,
                                             ir.Prim("lstsq_rank", (a, b), "np"), ir.Prim("svdvals", (a,), "np")]


def _load(atom):
    return ast.Name(atom.id, ast.Load()) if isinstance(atom, ir.Name) else ast.Constant(atom.value)


_TRANSPOSES = {0: 0, 1: 1, 2: 1, "N": 0, "T": 1, "C": 1}     # 'C', the conjugate transpose: the transpose of reals


def _solve_triangular(self, node):
    args = self.linalg_arguments(scipy.linalg.solve_triangular, node, {"a", "b", "trans", "lower"})
    trans = self.constant_argument(args.get("trans", ast.Constant(0)), "trans", tuple(_TRANSPOSES))
    lower = self.constant_argument(args.get("lower", ast.Constant(False)), "lower", (True, False))
    a, b = self.atom(args["a"]), self.atom(args["b"])
    return (), ir.Prim("solve_triangular", (a, b, ir.Const(_TRANSPOSES[trans]), ir.Const(lower)), "np")


def _cho_solve(self, node):
    """(c cᵀ)⁻¹ b for lower, (cᵀ c)⁻¹ b for upper: two triangular solves with c."""
    args = self.linalg_arguments(scipy.linalg.cho_solve, node, {"c_and_lower", "b"})
    factor = args["c_and_lower"]
    if not (isinstance(factor, ast.Tuple) and len(factor.elts) == 2):
        raise self.error(f"{ast.unparse(node.func)} takes its factor as a tuple written out here: (c, lower)", factor)
    lower = self.constant_argument(factor.elts[1], "lower", (True, False))
    c, b = self.atom(factor.elts[0]), self.atom(args["b"])
    first, second = (0, 1) if lower else (1, 0)
    inner = self.stored("solve_triangular", (c, b, ir.Const(first), ir.Const(lower)), "np")
    return (), ir.Prim("solve_triangular", (c, inner, ir.Const(second), ir.Const(lower)), "np")


_LOWERINGS = {
    np.linalg.cholesky: _one("cholesky"),
    np.linalg.eigvalsh: _one("eigvalsh"),
    np.linalg.svdvals: _one("svdvals"),
    np.linalg.eigh: _components(("eigenvalues", "eigenvectors"), ("eigvalsh", "eigh_vectors")),
    np.linalg.slogdet: _components(("sign", "logabsdet"), ("slogdet_sign", "logabsdet")),
    np.linalg.svd: _svd,
    np.linalg.qr: _qr,
    np.linalg.pinv: _pinv,
    np.linalg.lstsq: _lstsq,
    scipy.linalg.solve_triangular: _solve_triangular,
    scipy.linalg.cho_solve: _cho_solve,
}


def is_linalg(func) -> bool:
    """Whether `func` is a function this module lowers."""
    try:
        return func in _LOWERINGS
    except TypeError:               # an unhashable value
        return False


# ---- the user's own code, compiled as a primal: the forms numba lacks, respelled ---------

_FIELDS = {np.linalg.eigh: ("eigenvalues", "eigenvectors"), np.linalg.svd: ("U", "S", "Vh"),
           np.linalg.qr: ("Q", "R"), np.linalg.slogdet: ("sign", "logabsdet"),
           np.linalg.lstsq: ("x", "residuals", "rank", "s")}
# names a function's code must use for respelled() to have anything to do here (compile.py)
NAMES = frozenset({"svd", "svdvals", "lstsq", "qr", "slogdet", "solve_triangular", "cho_solve"} | {
    field for fields in _FIELDS.values() for field in fields})


def _helper(name):
    return ast.Name(f"_s2sdiff_{name}", ast.Load())


def helpers() -> dict:
    """The runtime helpers respelled code calls, by the names it calls them."""
    from . import runtime
    return {f"_s2sdiff_{name}": getattr(runtime, name) for name in ("svdvals", "lstsq", "solve_triangular")}


def respelled_call(node, resolve):
    """A form numba compiles for a call (or a field of its result) that numba lacks:
    np.linalg.svd(a, compute_uv=False), svdvals, lstsq with rcond=None, qr with mode=,
    slogdet(a).logabsdet, SciPy's triangular solves; None where nothing changes."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call):
        fields = _FIELDS.get(_resolved(node.value.func, resolve), ())
        if node.attr in fields:         # numba's results are plain tuples
            return ast.Subscript(node.value, ast.Constant(fields.index(node.attr)), ast.Load())
        return None
    if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args) \
            or any(k.arg is None for k in node.keywords):
        return None
    func = _resolved(node.func, resolve)
    if not is_linalg(func):
        return None
    try:
        arguments = inspect.signature(func).bind(*node.args, **{k.arg: k.value for k in node.keywords}).arguments
    except TypeError:
        return None

    def constant(name, default):
        try:
            return ast.literal_eval(arguments[name]) if name in arguments else default
        except ValueError:
            return None
    if func is np.linalg.svdvals or func is np.linalg.svd and constant("compute_uv", True) is False:
        return ast.Call(_helper("svdvals"), [next(iter(arguments.values()))], [])
    if func is np.linalg.lstsq and constant("rcond", None) is None:
        return ast.Call(_helper("lstsq"), [arguments["a"], arguments["b"]], [])
    if func is np.linalg.qr and "mode" in arguments and constant("mode", None) == "reduced":
        return ast.Call(node.func, [arguments["a"]], [])
    if func is scipy.linalg.solve_triangular and set(arguments) <= {"a", "b", "trans", "lower"}:
        trans, lower = _TRANSPOSES.get(constant("trans", 0)), constant("lower", False)
        if trans is not None and lower in (True, False):
            return ast.Call(_helper("solve_triangular"), [arguments["a"], arguments["b"], ast.Constant(trans),
                                                          ast.Constant(lower)], [])
    if func is scipy.linalg.cho_solve and set(arguments) == {"c_and_lower", "b"} \
            and isinstance(arguments["c_and_lower"], ast.Tuple) and len(arguments["c_and_lower"].elts) == 2:
        c, flag = arguments["c_and_lower"].elts
        try:
            lower = ast.literal_eval(flag)
        except ValueError:
            return None
        first, second = (0, 1) if lower else (1, 0)
        inner = ast.Call(_helper("solve_triangular"), [c, arguments["b"], ast.Constant(first), ast.Constant(lower)], [])
        return ast.Call(_helper("solve_triangular"), [c, inner, ast.Constant(second), ast.Constant(lower)], [])
    return None


def _resolved(func, resolve):
    """The object a dotted name denotes, its first name found by `resolve`; None if not known."""
    if isinstance(func, ast.Attribute):
        base = _resolved(func.value, resolve)
        return None if base is None else getattr(base, func.attr, None)
    try:
        return resolve(func) if isinstance(func, ast.Name) else None
    except Exception:       # a name the resolver cannot find: not one of these
        return None
