"""The derivative rules: one entry per primitive, forward and reverse rule side by side.

Each rule is mathematics in Python syntax over the primitive's arguments (`x`, `y`, …),
its result `z`, their tangents (`dx`, `dy`) and the result's adjoint (`bz`):

    forward:  dz = <linear in dx, dy, …>
    reverse:  bx += <linear in bz>,  by += …      (None: no derivative in that argument)

Calls inside a rule name other primitives of this table, so rules of rules are rules too
(that is how transforms compose into higher derivatives).  The spellings say how users
write the primitive: an operator, `math.*`, `np.*`, `scipy.special.*` or a builtin;
generated calls keep the family the user chose (SciPy's functions are called by runtime's
helpers of the same names, which numba compiles).  Adding a primitive is one entry, in the
module of its family: elementwise.py (arithmetic, elementary and piecewise-constant functions), arrays.py
(reductions, shapes, joins, diagonals, broadcasts), linalg.py (products, solves,
factorizations) and special.py (SciPy's special functions).

Conventions at non-differentiable points follow JAX: |x|'(0) = 1, max/min split ties
evenly, sqrt'(0) = inf, d(x**y)/dx = 0 at y = 0 and d(x**y)/dy = 0 at x = 0.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
LN2 = math.log(2.0)
LN10 = math.log(10.0)

OPERATORS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "//": ast.FloorDiv,
             "%": ast.Mod, "**": ast.Pow, "@": ast.MatMult}
UNARY_OPERATORS = {"-": ast.USub, "+": ast.UAdd}


@dataclass(frozen=True)
class Rule:
    op: str
    params: tuple            # template names of the arguments
    operator: object         # ast operator class when spelled as an operator
    spellings: dict          # family -> dotted name used when emitting ("math" -> "math.asin")
    aliases: tuple           # every dotted name users may write for it
    tangent: ast.expr | None
    adjoints: tuple          # one ast.expr or None per parameter
    result: str = "elementwise"   # "elementwise" (a number iff all arguments are), "number", "array"
    array_tangent: ast.expr | None = None    # forms for array arguments, where the number
    array_adjoints: tuple | None = None      # rule branches with `if`; np.where instead
    linear: tuple | None = None              # linear_in, where the forward rule does not show it
    defaults: dict = None                    # parameter -> its value when not given (and it may be a keyword)
    rank: int | str | None = None            # the result's number of dimensions, or the parameter whose it is
    ranks: dict = None                       # parameter -> the numbers of dimensions the rule holds for

    def forms(self, arrays: bool) -> tuple:
        """(tangent, adjoints) for number or array arguments."""
        if arrays and self.array_tangent is not None:
            return self.array_tangent, self.array_adjoints
        return self.tangent, self.adjoints

    @property
    def differentiable(self) -> bool:
        return self.tangent is not None

    @cached_property
    def differentiated(self) -> tuple:
        """Whether each argument's value flows differentiably into the result: those whose
        tangent the forward rule reads (not a condition, an axis, a shape to take)."""
        read = {n.id for n in ast.walk(self.tangent) if isinstance(n, ast.Name)} if self.tangent is not None else ()
        return tuple("d" + p in read for p in self.params)

    @cached_property
    def linear_in(self) -> tuple:
        """The arguments the primitive is linear in, so that it is zero where one of them is
        (a symbolic zero tangent): read off a forward rule that is the primitive itself,
        applied to one tangent in that argument's place per term (`sum(dx)`,
        `outer(dx, y) + outer(x, dy)`), or declared where the rule does not show it."""
        if self.linear is not None:
            return self.linear
        terms, linear = [self.tangent] if self.tangent is not None else [], set()
        while terms:
            term = terms.pop()
            if isinstance(term, ast.BinOp) and isinstance(term.op, ast.Add):
                terms += [term.left, term.right]
                continue
            if not (isinstance(term, ast.Call) and isinstance(term.func, ast.Name) and term.func.id == self.op
                    and len(term.args) == len(self.params)):
                return ()
            varied = [i for i, (a, p) in enumerate(zip(term.args, self.params))
                      if not (isinstance(a, ast.Name) and a.id == p)]
            if len(varied) != 1 or ast.unparse(term.args[varied[0]]) != "d" + self.params[varied[0]]:
                return ()
            linear.add(varied[0])
        return tuple(sorted(linear))

    def spelling(self, family: str) -> str:
        """Dotted name for a call in `family`, falling back to a family numba supports."""
        for fam in (family, "np", "math", "builtin", "runtime"):
            if fam in self.spellings:
                return self.spellings[fam]
        raise KeyError(self.op)


RULES: dict[str, Rule] = {}


def _template(text):
    return None if text is None else ast.parse(text, mode="eval").body


def _family(dotted: str) -> str:
    return dotted.split(".")[0] if "." in dotted else "builtin"


NUMBA_LACKS: dict = {}     # a spelling users write that numba cannot compile -> the one to emit


def _rule(op, params, spellings, forward, *reverse, result="elementwise", array=None, linear=None, defaults=None,
          rank=None, ranks=None):
    names = spellings.split()
    operator = None
    if names and names[0] in OPERATORS and len(params) == 2:
        operator = OPERATORS[names.pop(0)]
    elif names and names[0] in UNARY_OPERATORS and len(params) == 1:
        operator = UNARY_OPERATORS[names.pop(0)]
    by_family = {}
    for dotted in names:
        if not dotted.endswith("!"):   # "!": users may write it, numba lacks it, emit another
            by_family.setdefault(_family(dotted), dotted)
    if "scipy" in by_family:           # generated code calls SciPy's functions by runtime's helpers, which numba compiles
        by_family["scipy"] = by_family["runtime"]
    for dotted in (d for d in names if d.endswith("!")):
        NUMBA_LACKS[dotted[:-1]] = by_family.get("np") or next(iter(by_family.values()))
    names = [dotted.rstrip("!") for dotted in names]
    if forward is None:
        reverse = (None,) * len(params)
    assert len(reverse) == len(params), op
    array_tangent = array_adjoints = None
    if array is not None:
        array_tangent, array_adjoints = _template(array[0]), tuple(_template(r) for r in array[1:])
    RULES[op] = Rule(op, params, operator, by_family, tuple(names), _template(forward),
                     tuple(_template(r) for r in reverse), result, array_tangent, array_adjoints, linear,
                     defaults or {}, rank, ranks or {})


def unary(op, spellings, forward, reverse, **options):
    _rule(op, ("x",), spellings, forward, reverse, **options)


def binary(op, spellings, forward, reverse_x, reverse_y, **options):
    _rule(op, ("x", "y"), spellings, forward, reverse_x, reverse_y, **options)


def constant(op, spellings, arity=1, result="elementwise"):
    """Piecewise-constant primitives: derivative zero wherever it exists."""
    _rule(op, ("x", "y")[:arity], spellings, None, result=result)


# The families' modules add their entries to RULES as they are imported.
from . import arrays, elementwise, linalg, special  # noqa: E402,F401

# Calls that return a new array: never merged with an equal call, and the only values an
# array assigned elements (y[i] = ...) may take.
CREATIONS = frozenset({"zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
                       "copy", "new_tape", "step_tape", "array_tape", "kept", "step_kept", "zero_like", "empty_adjoint",
                       "grown", "step_grown", "owned", "stacked_empty"})

# Plain arithmetic on numbers: a few cycles and no call. A value made only of these is not
# worth keeping for the next iteration (reuse.py), nor a loop of only these worth threads
# (parallel.py): it streams memory at vector speed on one core.
CHEAP = frozenset({"add", "sub", "mul", "square", "neg", "pos", "float", "select", "dim", "size", "len", "abs",
                   "maximum", "minimum", "floor", "ceil", "trunc", "round", "sign"})


# Results that may share their first argument's memory (NumPy returns views): a write
# into one is a write into the other.
VIEWS = frozenset({"transpose", "reshape", "ravel", "flip", "flipud", "fliplr", "flip_along", "atleast_1d", "atleast_2d",
                   "atleast_3d", "as_column", "weights_along", "broadcast_to", "diag", "permute", "swapaxes", "moveaxis"})


def makes_new_array(op: str) -> bool:
    """Whether `op` on arrays returns an array no other name refers to (not a view, not
    one of its arguments)."""
    rule = RULES[op]
    return op in CREATIONS or rule.result in ("elementwise", "array") and rule.differentiable \
        and op not in VIEWS | {"select", "choose", "expand", "pos", "adjoint_like", "tangent_like", "reshape_like"}


def _objects() -> dict:
    """Python object -> (op, family) for every spelling that names a real function."""
    import builtins

    import scipy.special
    from .. import runtime
    roots = {"math": math, "np": np, "builtin": builtins, "runtime": runtime, "scipy": scipy}
    table = {}
    for rule in RULES.values():
        for dotted in rule.aliases:
            family = _family(dotted)
            if family not in roots:
                continue
            obj = roots[family]
            for part in (dotted.split(".")[1:] if family != "builtin" else [dotted]):
                obj = getattr(obj, part, None)
            if obj is not None:
                table.setdefault(id(obj), (obj, rule.op, family))
    return {key: (op, family) for key, (obj, op, family) in table.items()}


PRIMITIVE_OBJECTS = _objects()


def primitive_of(obj):
    """(op, family) if `obj` is a function the rule table covers, else None."""
    try:
        return PRIMITIVE_OBJECTS.get(id(obj))
    except TypeError:
        return None
