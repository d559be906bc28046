"""The core language: three-address statements over named values, structured control flow.

Every intermediate value has a name (the a, b, c, … of a hand chain-rule derivation);
an operand is an atom — a name or a constant.  Each transform reads and writes this
language, so transforms compose.  Conditions of `if`/`while` stay whole Python
expressions: they are never differentiated and keep Python's short-circuit semantics.
"""
from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Union

from .rules import VIEWS


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Const:
    value: object


Atom = Union[Name, Const]


# ---- right-hand sides ---------------------------------------------------------------

@dataclass(frozen=True)
class Prim:
    """A primitive of the rule table: `op` is its table name, `family` how the user spelled
    it ("op" for operators, "math", "np", "builtin"); derivative calls keep the family."""
    op: str
    args: tuple
    family: str = "op"


@dataclass(frozen=True)
class Call:
    """A call to another function: differentiated through when its arguments are active."""
    callee: "Function"
    args: tuple


@dataclass(frozen=True)
class Derived:
    """A generated derivative of a callee, e.g. the tangent function of `g` in arguments (0, 2)."""
    kind: str
    callee: object
    active: tuple
    kinds: frozenset = frozenset()      # what the call fixes about the callee's parameters (analyze.ARRAY)

    @property
    def node(self):
        return self.callee.node


@dataclass(frozen=True)
class Opaque:
    """A call s2sdiff cannot see into (an unknown or compiled-only function). Legal only on
    inactive arguments; `name` is bound in the generated module's namespace."""
    name: str
    args: tuple
    node: ast.AST


@dataclass(frozen=True)
class Slice:
    """`lo:hi:step` inside an index; each bound an atom or None."""
    lo: object = None
    hi: object = None
    step: object = None

    def atoms(self) -> tuple:
        return tuple(a for a in (self.lo, self.hi, self.step) if a is not None)


@dataclass(frozen=True)
class Item:
    """`array[i]` or `array[i, j]`: an element read; the indices are never differentiated."""
    array: Name
    index: tuple


@dataclass(frozen=True)
class Passive:
    """A whole Python expression with no derivative (comparisons, boolean logic)."""
    expr: ast.expr


Expr = Union[Atom, Prim, Call, Opaque, Passive, Item]


# ---- statements ---------------------------------------------------------------------

@dataclass
class Assign:
    target: str
    value: Expr
    line: int


@dataclass
class SetItem:
    """`array[index] = value`, or `array[index] += value` when `accumulate`."""
    array: str
    index: tuple
    value: Atom
    line: int
    accumulate: bool = False


@dataclass
class Comment:
    """A comment line in generated code (`# adjoint sweep`)."""
    text: str
    line: int = 0


@dataclass
class Unpack:
    """`a, b = g(...)` for a callee that returns a tuple."""
    targets: tuple
    value: Call
    line: int


@dataclass
class If:
    test: ast.expr
    body: list
    orelse: list
    line: int


@dataclass
class For:
    var: str
    start: Atom
    stop: Atom
    step: Atom
    body: list
    line: int
    loop: "LoopInfo" = None     # set only while a function is in single-assignment form
    parallel: bool = False      # iterations spread over threads (numba.prange)


@dataclass
class While:
    test: ast.expr
    body: list
    line: int
    loop: "LoopInfo" = None


@dataclass
class LoopInfo:
    """What single-assignment form moves out of a loop body: the values carried from one
    iteration to the next (`carried` = the name read at iteration entry -> the version
    holding it at iteration end) and the flag that ends the loop after a `break`."""
    carried: dict
    exit_flag: str = None


@dataclass
class Break:
    line: int


@dataclass
class Continue:
    line: int


@dataclass
class Return:
    values: tuple          # one atom, or several for a tuple result
    tuple_result: bool
    line: int


@dataclass
class Verbatim:
    """A statement with no derivative kept as written (assert, raise, print)."""
    stmt: ast.stmt
    line: int


Stmt = Union[Assign, SetItem, Comment, Unpack, If, For, While, Break, Continue, Return, Verbatim]


@dataclass(eq=False)
class Function:
    name: str
    params: list
    body: list
    filename: str
    source_lines: dict = field(default_factory=dict)   # user line number -> its text
    namespace: dict = field(default_factory=dict)      # free names the code refers to
    n_outputs: int = 1
    tuple_result: bool = False
    defaults: dict = field(default_factory=dict)
    origin: object = None                              # the Python function it came from
    doc: str = ""                                      # a comment line above the definition
    user_names: frozenset = frozenset()                # names the user's own code binds
    numbers: frozenset = frozenset()                   # names known to hold numbers (not arrays)
    kinds: frozenset = frozenset()                     # what the call it was made for fixes (analyze.ARRAY)
    chunkable: frozenset = frozenset()                 # loop variables of loops threads may share
    updated: tuple = ()                                # (name, line) of `name += ...` in the user's code
    output: object = None                              # a returned dict or list: its structure (structures.Node)
    changed: tuple = ()                                # parameters the user's code changes in place (copied on entry)
    returns_changed: bool = False                      # its outputs are their final values (it returns nothing)


def rewritten(body, each) -> list:
    """The body with every statement that holds none (an assignment, a call, …) replaced by
    the statements `each` gives for it, those in ifs and loops too."""
    out = []
    for stmt in body:
        if isinstance(stmt, If):
            out.append(replace(stmt, body=rewritten(stmt.body, each), orelse=rewritten(stmt.orelse, each)))
        elif isinstance(stmt, (For, While)):
            out.append(replace(stmt, body=rewritten(stmt.body, each)))
        else:
            out += each(stmt)
    return out


def walk(body):
    """Every statement of a body, nested ones included, in program order."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, If):
            yield from walk(stmt.body)
            yield from walk(stmt.orelse)
        elif isinstance(stmt, (For, While)):
            yield from walk(stmt.body)


def operands(expr) -> tuple:
    """Atoms an expression reads (a Passive expression's names are not listed)."""
    if isinstance(expr, (Name, Const)):
        return (expr,)
    if isinstance(expr, (Prim, Call, Opaque)):
        return expr.args
    if isinstance(expr, Item):
        return (expr.array,) + index_atoms(expr.index)
    return ()


def map_index(index, f) -> tuple:
    """The index with `f` applied to every atom, slice bounds included."""
    return tuple(Slice(*(None if a is None else f(a) for a in (i.lo, i.hi, i.step))) if isinstance(i, Slice)
                 else f(i) for i in index)


def index_atoms(index) -> tuple:
    """The atoms of an index, slice bounds included."""
    return tuple(a for i in index for a in (i.atoms() if isinstance(i, Slice) else (i,)))


def tree_names(tree) -> set:
    """Names in a Python expression or statement kept whole (conditions, asserts)."""
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


# Parts of a kept-whole expression whose value is piecewise constant in the names they read:
# truth values, shapes and lengths.
_SHAPE_ATTRIBUTES = frozenset({"shape", "size", "ndim", "dtype"})
_COUNTS = frozenset({"len", "range"})


def passive_value_reads(tree) -> set:
    """Names a kept-whole expression's value may depend on differentiably: every name it
    reads outside comparisons, boolean logic, `.shape`-like attributes and `len`/`range`
    (a shape tuple `(n, m)` reads n and m; `x < y` reads nothing that way)."""
    if isinstance(tree, (ast.Compare, ast.BoolOp)) or isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
        return set()
    if isinstance(tree, ast.Attribute) and tree.attr in _SHAPE_ATTRIBUTES:
        return set()
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id in _COUNTS:
        return set()
    if isinstance(tree, ast.Name):
        return {tree.id}
    return set().union(*(passive_value_reads(child) for child in ast.iter_child_nodes(tree)))


def value_reads(expr) -> set:
    """Names a right-hand side reads."""
    names = {a.id for a in operands(expr) if isinstance(a, Name)}
    if isinstance(expr, Passive):
        names |= tree_names(expr.expr)
    return names


def reads(stmt) -> set:
    """Names a statement reads itself (not the statements nested in it)."""
    if isinstance(stmt, (Assign, Unpack)):
        return value_reads(stmt.value)
    if isinstance(stmt, SetItem):
        return {stmt.array} | {a.id for a in index_atoms(stmt.index) + (stmt.value,) if isinstance(a, Name)}
    if isinstance(stmt, (If, While)):
        return tree_names(stmt.test)
    if isinstance(stmt, For):
        return {a.id for a in (stmt.start, stmt.stop, stmt.step) if isinstance(a, Name)}
    if isinstance(stmt, Return):
        return {a.id for a in stmt.values if isinstance(a, Name)}
    if isinstance(stmt, Verbatim):
        return tree_names(stmt.stmt)
    return set()


def reads_within(body) -> set:
    """Names any statement of a body reads, nested ones included."""
    return set().union(*(reads(s) for s in walk(body)))


def targets(stmt) -> tuple:
    """Names an assignment statement binds."""
    if isinstance(stmt, Assign):
        return (stmt.target,)
    if isinstance(stmt, Unpack):
        return stmt.targets
    return ()


def assigned_within(body) -> set:
    """Names the statements of a body bind, loop variables and nested statements included."""
    names = set()
    for stmt in walk(body):
        names |= set(targets(stmt))
        if isinstance(stmt, For):
            names.add(stmt.var)
    return names


def walk_in_loops(body, loops=()):
    """(statement, the loops around it from the outermost), for every statement of a body in
    the order of the text."""
    for stmt in body:
        yield stmt, loops
        if isinstance(stmt, If):
            yield from walk_in_loops(stmt.body, loops)
            yield from walk_in_loops(stmt.orelse, loops)
        elif isinstance(stmt, (For, While)):
            yield from walk_in_loops(stmt.body, loops + (stmt,))


def read_after(sites, k, name) -> bool:
    """Whether, in `sites` (walk_in_loops), a statement after sites[k] reads `name`, or a
    loop around it reads the value `name` had before an iteration (an iteration that makes
    it anew before reading it sees no old one)."""
    return any(name in reads(s) for s, _ in sites[k + 1:]) \
        or any(name in exposed_reads(loop.body) for loop in sites[k][1])


def value_read_later(body, stmt, name) -> bool:
    """Whether the value `name` holds right after `stmt` (a statement of `body`, found by
    identity) may be read: by what runs after it, a loop around it starting over included,
    before an assignment certain to run gives `name` another value."""
    escaped = False         # a `break` or `continue` on the way: an assignment after it may be skipped
    for owner, block, k in reversed(_path_to(body, stmt)):
        found = _first_use(block[k + 1:], name)
        if found == "read" or found == "assigned" and not escaped:
            return found == "read"
        escaped = escaped or found == "escaped"
        if isinstance(owner, (For, While)):
            if isinstance(owner, While) and name in tree_names(owner.test) or _first_use(owner.body, name) == "read":
                return True
    return False


def _path_to(body, stmt, owner=None) -> list:
    """[(the statement owning the block or None, block, position)] from `body` down to `stmt`."""
    for k, s in enumerate(body):
        if s is stmt:
            return [(owner, body, k)]
        for inner in (s.body, s.orelse) if isinstance(s, If) else (s.body,) if isinstance(s, (For, While)) else ():
            path = _path_to(inner, stmt, s)
            if path:
                return [(owner, body, k)] + path
    return []


def _first_use(stmts, name):
    """What running `stmts` does first with `name`: "read" if it may read it, "assigned" if
    it certainly assigns it (or leaves the function) first, "escaped" if neither but some
    path leaves by `break` or `continue`, None if neither on any path."""
    escaped = False
    for s in stmts:
        if isinstance(s, (Break, Continue)):
            return "escaped"
        if name in reads(s):
            return "read"
        if isinstance(s, Return):
            return "escaped" if escaped else "assigned"
        if isinstance(s, If):
            uses = {_first_use(s.body, name), _first_use(s.orelse, name)}
            if "read" in uses:
                return "read"
            escaped = escaped or "escaped" in uses
            if uses <= {"assigned", "escaped"} and "assigned" in uses:
                return "escaped" if escaped else "assigned"
        elif isinstance(s, (For, While)):       # its own `break`s and `continue`s stay in it
            if _first_use(s.body, name) == "read":
                return "read"
        elif name in targets(s):
            return "escaped" if escaped else "assigned"
    return "escaped" if escaped else None


def this_level(body):
    """Statements of a loop body outside the loops nested in it."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, If):
            yield from this_level(stmt.body)
            yield from this_level(stmt.orelse)


def view_bases(function: Function) -> dict:
    """Name -> the arrays it may be a view of (a row or slice, a transpose, another name)."""
    direct = {}
    for s in walk(function.body):
        if isinstance(s, Assign):
            v = s.value
            base = v.array.id if isinstance(v, Item) else v.id if isinstance(v, Name) else \
                v.args[0].id if isinstance(v, Prim) and v.op in VIEWS and isinstance(v.args[0], Name) \
                else None
            if base is not None:
                direct.setdefault(s.target, set()).add(base)
    bases = {}
    for name in direct:
        seen, todo = set(), list(direct[name])
        while todo:
            base = todo.pop()
            if base not in seen:
                seen.add(base)
                todo.extend(direct.get(base, ()))
        bases[name] = seen
    return bases


def all_names(function: Function) -> set:
    """Every identifier the function's code uses, so generated names never clash."""
    names = set(function.params) | set(function.namespace)
    for stmt in walk(function.body):
        names |= set(targets(stmt)) | reads(stmt)
        if isinstance(stmt, For):
            names.add(stmt.var)
    return names


def exposed_reads(body, assigned=None) -> set:
    """Names a body may read before it assigns them (its upward-exposed uses)."""
    assigned = set() if assigned is None else assigned
    exposed = set()
    for s in body:
        if isinstance(s, If):
            exposed |= tree_names(s.test) - assigned
            a, b = set(assigned), set(assigned)
            exposed |= exposed_reads(s.body, a) | exposed_reads(s.orelse, b)
            assigned |= a & b
            continue
        if isinstance(s, (For, While)):
            exposed |= reads(s) - assigned
            exposed |= exposed_reads(s.body, set(assigned) | ({s.var} if isinstance(s, For) else set()))
            continue
        exposed |= reads(s) - assigned
        if isinstance(s, Assign):
            assigned.add(s.target)
        elif isinstance(s, Unpack):
            assigned.update(s.targets)
    return exposed


class Offsets:
    """k for index atoms that hold `var + k`, through single assignments (`i = it`,
    `t = i + 1`, `u = t - 2`)."""

    def __init__(self, body):
        counts = Counter(t for s in walk(body) for t in targets(s))
        self.defs = {s.target: s.value for s in walk(body) if isinstance(s, Assign) and counts[s.target] == 1}

    def of(self, atom, var):
        if atom == Name(var):
            return 0
        value = self.defs.get(atom.id) if isinstance(atom, Name) else None
        if isinstance(value, Name):
            return self.of(value, var)
        if not (isinstance(value, Prim) and value.op in ("add", "sub") and value.family == "op"):
            return None
        x, y = value.args
        if isinstance(y, Const) and isinstance(y.value, int):
            base = self.of(x, var)
            return None if base is None else base + (y.value if value.op == "add" else -y.value)
        if value.op == "add" and isinstance(x, Const) and isinstance(x.value, int):
            base = self.of(y, var)
            return None if base is None else base + x.value
        return None
