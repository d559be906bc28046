"""Stage 3 — analyze: activity.

A value is *varied* if it depends differentiably on a differentiated input, *useful* if
the output depends on it; only values that are both (active) get derivative code.  The
analysis is per name and flow-insensitive: a name is active if any of its assignments
is, so loop-carried values are handled without a fixpoint per iteration.
"""
from __future__ import annotations

import ast
from dataclasses import replace

import numpy as np

from . import ir, runtime
from .errors import S2SDiffError, at_line, unsupported
from .names import Namer
from .rules import CREATIONS, RULES, VIEWS


def _reads(expr) -> set:
    """Names whose derivative flows into the value of `expr`."""
    if isinstance(expr, ir.Name):
        return {expr.id}
    if isinstance(expr, ir.Prim):
        rule = RULES[expr.op]
        return {a.id for a, d in zip(expr.args, rule.differentiated) if isinstance(a, ir.Name) and d}
    if isinstance(expr, ir.Item):
        return {expr.array.id}
    if isinstance(expr, ir.Call):
        return {a.id for a in expr.args if isinstance(a, ir.Name)}
    if isinstance(expr, ir.Passive):
        return ir.passive_value_reads(expr.expr)
    if isinstance(expr, ir.Opaque):         # no derivative through it, but it is refused below, not ignored
        return {a.id for a in expr.args if isinstance(a, ir.Name)}
    return set()    # constants


def _definitions(body):
    """(targets, expr, stmt) for every statement that assigns names."""
    for stmt in ir.walk(body):
        if isinstance(stmt, ir.Assign):
            yield (stmt.target,), stmt.value, stmt
        elif isinstance(stmt, ir.Unpack):
            yield stmt.targets, stmt.value, stmt
        elif isinstance(stmt, (ir.For, ir.While)) and stmt.loop is not None:
            for carried, last in stmt.loop.carried.items():   # the copy between iterations
                yield (carried,), ir.Name(last), stmt


def active_names(function: ir.Function, wrt) -> set:
    # An element assignment `y[i] = v` makes y depend on v.
    defs = list(_definitions(function.body)) + [((s.array,), s.value, s) for s in ir.walk(function.body)
                                                 if isinstance(s, ir.SetItem)]
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for targets, expr, _ in defs:
            if _reads(expr) & varied and not set(targets) <= varied:
                varied |= set(targets)
                changed = True
    useful = {a.id for s in ir.walk(function.body) if isinstance(s, ir.Return)
              for a in s.values if isinstance(a, ir.Name)}
    changed = True
    while changed:
        changed = False
        for targets, expr, _ in reversed(defs):
            if set(targets) & useful:
                new = _reads(expr) - useful
                if new:
                    useful |= new
                    changed = True
    # Nothing is assumed constant because it was not understood: a differentiated value that
    # reaches the output through a call s2sdiff cannot see into, or through an expression kept
    # as written, is refused.
    for targets, expr, stmt in defs:
        if isinstance(expr, ir.Opaque) and expr.node is not None and set(targets) & useful \
                and any(isinstance(a, ir.Name) and a.id in varied for a in expr.args):
            raise unsupported(f"cannot differentiate through {ast.unparse(expr.node.func)}(): it is not a function "
                              "s2sdiff can read (only the math/numpy/scipy.special functions of s2sdiff/rules/ and "
                              "Python functions with source)", function.filename, expr.node)
    for targets, expr, stmt in defs:
        if isinstance(expr, ir.Passive) and set(targets) & varied & useful:
            raise unsupported(f"s2sdiff has no derivative for {ast.unparse(expr.expr)}, which depends on a "
                              "differentiated value", function.filename, expr.expr)
    return varied & useful


# What a call fixes about a function's parameters ("kinds"): a frozenset of (name, rank)
# with rank 0 for a number, k >= 1 for an array of k dimensions, ARRAY for an array of
# rank not known.  The analysis takes them over what the code suggests.
ARRAY = -1


def kinds_arrays(kinds) -> set:
    return {p for p, rank in kinds if rank != 0}


def kinds_numbers(kinds) -> set:
    return {p for p, rank in kinds if rank == 0}


def number_names(function: ir.Function, kinds=frozenset(), known=frozenset(), guess=True) -> set:
    """Names that hold numbers, not arrays.

    Code on numbers reads like a person's (`bx = 0.0`, `dz = dx if ...`); anything that
    may be an array gets zeros of its shape and adjoints summed back to its shape.  A
    parameter is a number unless the code uses it as an array: indexes it, takes its
    length or shape, reduces it, multiplies matrices with it, hands it to a function
    that does, or combines it elementwise into a value used so (`np.sum(x * 2.0)`).
    `kinds`: what a call fixes about the parameters (above); `known` names known to hold
    numbers (a transform's, of the function it came from).
    A caller passing an array for a number parameter gets code for an array (api.py).
    `guess`: take `x[i]` for a number where x's number of dimensions is not known."""
    numbers = set(function.params) - array_parameters(function) - kinds_arrays(kinds) | kinds_numbers(kinds) \
        | set(known)
    numbers |= {name for name, value in function.namespace.items()      # module and closure constants
                if isinstance(value, (int, float, np.number)) and not isinstance(value, bool)}
    defs = list(_definitions(function.body))
    for s in ir.walk(function.body):
        if isinstance(s, ir.For):
            numbers.add(s.var)
    indexed = {s.value.array.id for s in ir.walk(function.body) if isinstance(s, ir.Assign)
               and isinstance(s.value, ir.Item)} | {s.array for s in ir.walk(function.body) if isinstance(s, ir.SetItem)}
    candidates = {t for targets, _, _ in defs for t in targets} - set(function.params) - indexed
    # ranks from the names certain to be numbers (`b * np.eye(n)` of a number b is a matrix)
    ndims = array_ndims(function, number_names(function, kinds, known, guess=False) if guess else (), kinds)
    changed = True
    while changed:                          # optimistic: drop any name with an array-ish definition
        changed = False
        for targets, expr, _ in defs:
            if set(targets) & candidates and not _is_number(expr, candidates | numbers, ndims, guess):
                candidates -= set(targets)
                changed = True
    return numbers | candidates


def selects_element(array: str, index: tuple, ndims: dict, unknown: bool) -> bool:
    """Whether `array[index]` is one element (not a row or slice); `unknown` where the
    array's number of dimensions is not known and the index has no slice."""
    if any(isinstance(i, ir.Slice) for i in index):
        return False
    ndim = ndims.get(array)
    return unknown if ndim is None else ndim == len(index)


def array_ndims(function: ir.Function, numbers=frozenset(), kinds=frozenset()) -> dict:
    """Name -> number of dimensions, for the values whose rank the code or the call shows:
    parameters of known `kinds`, arrays made with a shape (`np.zeros((m, n))`), copies, rows
    and slices of them, and elementwise combinations; `numbers` have none.  Names with
    assignments of different ranks, or any of unknown rank, are left out."""
    defs = [(targets[0], expr) for targets, expr, _ in _definitions(function.body) if len(targets) == 1]
    tuples = {t: [e.id if isinstance(e, ast.Name) else None for e in expr.expr.elts] for t, expr in defs
              if isinstance(expr, ir.Passive) and isinstance(expr.expr, ast.Tuple)}
    shapes = {t: len(elements) for t, elements in tuples.items()}
    # shapes made as the code runs: `x.shape` has x's rank; `(2,) + x.shape` and the like, unknown
    shapes.update({t: _like(expr.expr) for t, expr in defs
                   if isinstance(expr, ir.Passive) and t not in tuples and not _is_count(expr.expr)})
    # None alone (a list's first item before there is one) has no rank, whatever it joins
    nones = {t for t, _ in defs} - {t for t, expr in defs if not (isinstance(expr, ir.Const) and expr.value is None)}
    ndims = dict.fromkeys(set(numbers) - nones, 0)
    ndims.update({p: rank for p, rank in kinds if rank != ARRAY})
    ndims.update({name: value.ndim for name, value in function.namespace.items() if isinstance(value, np.ndarray)})
    conflicting = set()
    changed = True
    while changed:
        changed = False
        for target, expr in defs:
            if target in conflicting or target in numbers:
                continue
            rank = _opaque_rank(expr, ndims, tuples) if isinstance(expr, ir.Opaque) else _rank(expr, ndims, shapes)
            if rank is None or ndims.get(target) == rank:
                continue
            if target in ndims:
                conflicting.add(target)
                del ndims[target]
            else:
                ndims[target] = rank
            changed = True
    return ndims


# NumPy's joins of a tuple of arrays (kept as written: no rule yet): the rank of the result
# from the rank r ≥ 1 shared by the arrays joined
_JOINS = {"np.concatenate": lambda r: r, "np.hstack": lambda r: r, "np.vstack": lambda r: max(r, 2),
          "np.column_stack": lambda r: 2 if r <= 2 else None, "np.stack": lambda r: r + 1,
          "np.dstack": lambda r: 3 if r <= 3 else None}


def _opaque_rank(expr: ir.Opaque, ndims, tuples):
    """The rank of a runtime helper's result (an adjoint's zeros, a copy), or of a join."""
    ranks = [0 if isinstance(a, ir.Const) else ndims.get(a.id) for a in expr.args]
    if expr.name in _SAME_RANK:
        return ranks[0]
    if expr.name in SHAPED_LIKE_SECOND:
        return ranks[1]
    elements = tuples.get(expr.args[0].id) if expr.name in _JOINS and expr.args \
        and isinstance(expr.args[0], ir.Name) else None
    ranks = {ndims.get(e) for e in elements or [None]}
    if len(ranks) != 1 or None in ranks or min(ranks) < 1:
        return None
    return _JOINS[expr.name](ranks.pop())


SHAPED_LIKE_FIRST = frozenset({"zeros_like", "ones_like", "empty_like", "full_like", "copy", "owned", "zero_like",
                               "empty_adjoint", "flip", "flipud", "fliplr",
                               "kept", "step_kept"})        # of their first argument's shape
_SAME_RANK = SHAPED_LIKE_FIRST | {"transpose"}
SHAPED_LIKE_SECOND = frozenset({"adjoint_like", "tangent_like", "reshape_like"})     # of their second argument's shape


def _like(tree):
    """("like", x) for the shape `x.shape`, None for another shape made as the code runs."""
    if isinstance(tree, ast.Attribute) and tree.attr == "shape" and isinstance(tree.value, ast.Name):
        return ("like", tree.value.id)
    return None


def _is_count(tree) -> bool:
    """Whether a kept-whole value is an integer count (`n // 2`, `len(x)`), not a shape."""
    return not any(isinstance(n, (ast.Tuple, ast.Attribute)) and (isinstance(n, ast.Tuple) or n.attr == "shape")
                   for n in ast.walk(tree))


def _shape_rank(shape, ndims):
    """The number of dimensions a shape gives: a tuple's length, an array's rank."""
    return ndims.get(shape[1]) if isinstance(shape, tuple) else shape


def _rank(expr, ndims, shapes):
    if isinstance(expr, ir.Const):
        return 0 if isinstance(expr.value, (int, float)) else None
    if isinstance(expr, ir.Name):
        return ndims.get(expr.id)
    if isinstance(expr, ir.Call) and not isinstance(expr.callee, ir.Derived):
        ranks = [0 if isinstance(a, ir.Const) else ndims.get(a.id) for a in expr.args]
        return None if None in ranks else returned_rank(expr.callee, tuple(ranks))
    if isinstance(expr, ir.Item):
        base = ndims.get(expr.array.id)
        new_axes = sum(1 for i in expr.index if isinstance(i, ir.Const) and i.value is None)
        whole = sum(1 for i in expr.index if not isinstance(i, ir.Slice)) - new_axes
        return None if base is None or base < len(expr.index) - new_axes else base - whole + new_axes
    if not isinstance(expr, ir.Prim):
        return None
    op, args = expr.op, expr.args
    ranks = [ndims.get(a.id) if isinstance(a, ir.Name) else 0 for a in args]
    if op in ("cumsum", "ravel"):
        return 1
    if op in ("zeros", "ones", "empty", "full", "reshape"):
        shape = args[1 if op == "reshape" else 0]
        return _shape_rank(shapes.get(shape.id, 1), ndims) if isinstance(shape, ir.Name) \
            else 1 if isinstance(shape.value, int) else None
    if op in _SAME_RANK:
        return ranks[0]
    if op in SHAPED_LIKE_SECOND:
        return ranks[1]
    if op in ("eye", "outer", "inv"):
        return 2
    declared = RULES[op].rank
    if declared is not None:
        return ranks[RULES[op].params.index(declared)] if isinstance(declared, str) else declared
    if RULES[op].result == "number":
        return 0
    if op == "solve":
        return ranks[1]
    if op == "expand":
        return None if ranks[0] is None else ranks[0] + 1
    if op == "stacked_empty":
        return None if ranks[1] is None else ranks[1] + 1
    if op in ("atleast_1d", "atleast_2d", "atleast_3d", "as_column"):
        return None if ranks[0] is None else max(ranks[0], {"atleast_1d": 1, "atleast_3d": 3}.get(op, 2))
    if op == "diag":                     # a vector's diagonal matrix, a matrix's diagonal
        return None if ranks[0] not in (1, 2) else 3 - ranks[0]
    if op == "broadcast_to":
        return _shape_rank(shapes.get(args[1].id, 1), ndims) if isinstance(args[1], ir.Name) else 1
    if op in ("sum_axis", "amax_axis", "amin_axis"):
        return None if ranks[0] is None else ranks[0] - 1
    if op in ("det_stack", "trace_last"):
        return None if ranks[0] is None else ranks[0] - 2
    if op == "solve_stack":
        return None if None in ranks else max(ranks)
    if op == "matmul":
        if None in ranks:
            return None
        if 0 in ranks:
            return max(ranks)
        # a vector operand loses its axis; stacks of matrices broadcast their leading axes
        # (np.dot's product of stacks keeps the free axes of both)
        return ranks[0] + ranks[1] - 2 if 1 in ranks or expr.family == "np" else max(ranks)
    if RULES[op].result == "elementwise" or op == "where":
        return None if None in ranks else max(ranks)
    return None


_returned_ranks: dict = {}


def returned_rank(callee, ranks: tuple):
    """The rank of what a user function returns when called with arguments of these ranks,
    where its code shows it (None for a tuple, or where its returns disagree)."""
    key = (callee.py_func, callee.py_func.__code__, ranks)
    if key not in _returned_ranks:
        _returned_ranks[key] = None            # a function that calls itself: not known
        try:
            function = callee.function
        except S2SDiffError:
            return None
        kinds = frozenset(zip(function.params, ranks))
        ndims = array_ndims(function, number_names(function, kinds, guess=False), kinds)
        returns = [s for s in ir.walk(function.body) if isinstance(s, ir.Return)]
        found = {None if s.tuple_result else _rank(s.values[0], ndims, {}) for s in returns}
        _returned_ranks[key] = found.pop() if len(found) == 1 else None
    return _returned_ranks[key]


def check_in_place(function: ir.Function, kinds=frozenset()) -> None:
    """`y += v` changes an array y in place, so every other name for that array sees the
    change; the derivative code makes a new array.  That is the same function only if no
    other name that shares y's array — a copy of the name (`y = x`, `z = y`) or a view
    (`y = x[1:]`, `z = y.T`), on either side — is read after the update.  Checked for the
    names that are arrays whatever the arguments (what the call or the code shows), and for
    the arrays a kernel call changes (normalize.kernel_call).  A function returning nothing
    gives the arrays it changes: a number there is refused."""
    if function.returns_changed:
        for name in set(function.changed) & kinds_numbers(kinds):
            raise unsupported(f"'{name}' is a number: {function.name} returns nothing, so its outputs are the arrays "
                              "it changes in place, and a number argument is never changed for the caller; pass an "
                              "array, or return the value", function.filename, at_line(function.origin.__code__.co_firstlineno))
    numbers = number_names(function, kinds)
    arrays = certain_arrays(function, (kinds_arrays(kinds) | array_parameters(function)) - kinds_numbers(kinds))
    sites = list(ir.walk_in_loops(function.body))
    updates = [k for name, line in function.updated for k, (s, _) in enumerate(sites)
               if isinstance(s, ir.Assign) and s.target == name and s.line == line
               and (name in arrays or not isinstance(s.value, ir.Prim))]     # a kernel's array (C = step(C, A))
    for update in updates:
        name, line = sites[update][0].target, sites[update][0].line
        around = sites[update][1]
        for j, (s, loops) in enumerate(sites):
            if not isinstance(s, ir.Assign):
                continue
            value = s.value
            source = value.id if isinstance(value, ir.Name) else value.array.id if isinstance(value, ir.Item) \
                else value.args[0].id if isinstance(value, ir.Prim) and value.op in VIEWS \
                and isinstance(value.args[0], ir.Name) else None
            if source is None or source in numbers or s.target in numbers or name not in (source, s.target) \
                    or isinstance(value, ir.Item) and selects_element(source, value.index, array_ndims(function), False):
                continue
            other = s.target if source == name else source
            # a name made after the update sees the new array, unless a loop around both reads
            # the one made in an earlier iteration (before this iteration's update)
            stale = ir.read_after(sites, update, other) if j < update else \
                any(other in ir.exposed_reads(loop.body) for loop in around if any(l is loop for l in loops))
            if stale:
                shared = f"'{other}'" if other in function.user_names else "a view of it"
                change, remedy = ("the augmented assignment", f"write {name} = {name} + ... (or make the other "
                                  "name a copy)") if isinstance(sites[update][0].value, ir.Prim) else \
                    ("the call", "make the other name a copy")
                raise unsupported(f"{change} changes the array '{name}' in place, and {shared}, read afterwards, "
                                  f"shares it (line {s.line}); s2sdiff makes a new array there: {remedy}",
                                  function.filename, at_line(line))


def check_indices(function: ir.Function, numbers, active, kinds) -> dict:
    """Refuse indexing a differentiated array with an array (`x[mask]`, `x[idx]`): index
    atoms are taken for integers, and the adjoint of a gather with repeated indices is not
    a plain element update.  Without `kinds` (the code for numba callers) only indices the
    code itself shows to be arrays are refused; a parameter that indexes one and is not known
    to be a number is returned, {name: (0, line)} as guessed_ranks gives, for the code to check
    as it runs that it is one."""
    checked = {}
    if not kinds:
        numbers = set(ir.all_names(function)) - certain_arrays(function, array_parameters(function, shown=True))
    for s in ir.walk(function.body):
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Item) and s.value.array.id in active:
            index = s.value.index
        elif isinstance(s, ir.SetItem) and s.array in active:
            index = s.index
        else:
            continue
        arrays = [a.id for a in ir.index_atoms(index) if isinstance(a, ir.Name) and a.id not in numbers]
        if arrays:
            named = f"the array '{arrays[0]}'" if arrays[0] in function.user_names else "an array"
            raise unsupported(f"indexing with {named} (a mask or integer indices) is not supported on "
                              "differentiated arrays yet: index with numbers and slices",
                              function.filename, at_line(s.line))
        for name in _index_parameters(function, index) if not kinds else ():
            checked.setdefault(name, (0, s.line))
    return checked


def _index_parameters(function, index) -> set:
    """The parameters an index is computed from by integer arithmetic (`k` of `x[k % n]`)."""
    defs = {targets[0]: expr for targets, expr, _ in _definitions(function.body) if len(targets) == 1}
    found, todo, seen = set(), [a.id for a in ir.index_atoms(index) if isinstance(a, ir.Name)], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in function.params:
            found.add(name)
        expr = defs.get(name)
        if isinstance(expr, ir.Prim) and expr.op in ("add", "sub", "mul", "mod", "floordiv", "neg", "abs"):
            todo += [a.id for a in expr.args if isinstance(a, ir.Name)]
        elif isinstance(expr, ir.Name):
            todo.append(expr.id)
    return found


def actively_written(function: ir.Function, active) -> set:
    """Arrays assigned differentiated elements."""
    return {s.array for s in ir.walk(function.body)
            if isinstance(s, ir.SetItem) and isinstance(s.value, ir.Name) and s.value.id in active}


def float_elements_check(s, written, active):
    """A statement checking, when the code runs, that the array `s` makes holds floats, for
    an array assigned differentiated elements (`written`) that may not: `np.zeros_like(idx)`
    of an integer array would truncate them, a zero derivative.  None if it surely does."""
    if not (isinstance(s, ir.Assign) and s.target in written):
        return None
    value = s.value
    floats = lambda atoms: any(isinstance(a, ir.Const) and isinstance(a.value, float)
                               or isinstance(a, ir.Name) and a.id in active for a in atoms)
    if isinstance(value, ir.Prim) and (value.op in ("zeros", "ones", "empty", "eye", "stacked_empty") or value.op == "full"
                                       and floats(value.args[1:]) or RULES[value.op].result == "elementwise"
                                       and floats(value.args)):
        return None
    call = ast.Call(ast.Name("float_elements", ast.Load()), [ast.Name(s.target, ast.Load())], [])
    return ir.Verbatim(ast.fix_missing_locations(ast.Expr(call)), s.line)


def guessed_ranks(function: ir.Function, numbers: set, kinds=frozenset()) -> dict:
    """Array -> (rank, line) for the arrays of unknown rank whose elements `numbers` takes
    for numbers by guess (`x[i]`, one index: x taken for 1-D); rank_check makes the code
    refuse, as it runs, an array that has another rank, whose `x[i]` would be a row."""
    certain = number_names(function, kinds, guess=False)
    guessed = {}
    for s in ir.walk(function.body):
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Item) and s.target in numbers \
                and s.target not in certain:
            guessed.setdefault(s.value.array.id, (len(s.value.index), s.line))
    return guessed


RUNTIME_CHECKS = ("float_elements", "expect_ndim")      # the runtime helpers the checks below call


def runtime_checks(s, written, active, guessed, function) -> list:
    """The checks the derivative code makes as it runs, after statement s (each a call of a runtime helper)."""
    checks = [float_elements_check(s, written, active)]
    if isinstance(s, (ir.Assign, ir.Unpack)):
        checks += [rank_check(t, guessed, function) for t in ir.targets(s) if t in guessed]
    return [check for check in checks if check is not None]


def entry_checks(guessed, function) -> list:
    """rank_check of each parameter whose rank is guessed, for the top of the derivative code."""
    return [rank_check(p, guessed, function) for p in function.params if p in guessed]


def rank_check(array, guessed, function) -> ir.Verbatim:
    """`expect_ndim(x, 1, 'x', line, file)`: x must have the rank the code was made for (guessed_ranks)."""
    rank, line = guessed[array]
    generated = hasattr(function.origin, "s2sdiff_origin")      # its names are s2sdiff's, not the user's
    named = array if (array in function.user_names or array in function.params) and not generated else ""
    args = [ast.Name(array, ast.Load())] + [ast.Constant(c) for c in (rank, named, line, function.filename)]
    return ir.Verbatim(ast.fix_missing_locations(ast.Expr(ast.Call(ast.Name("expect_ndim", ast.Load()), args, []))),
                       line)


def specialized(function: ir.Function, kinds=frozenset()) -> ir.Function:
    """The function with the array operations it applies to numbers written as number
    operations, which NumPy accepts and numba does not: `np.dot(a, x)` with a number `a`
    is `a * x`, `np.sum(a)` is `a`, `a.size` is 1 (so `np.mean(a)` is `a`).  Only names
    certain to be numbers count (not `x[i]` of an x of unknown rank, which may be a row).
    First, primitives whose meaning depends on the ranks get the form for them (_for_ranks)."""
    function = _ranks_checked(function, array_ndims(function, number_names(function, kinds, guess=False), kinds))
    numbers = number_names(function, kinds, guess=False)

    def number(atom):
        return isinstance(atom, ir.Const) or atom.id in numbers

    def value(v):
        if isinstance(v, ir.Prim) and v.op == "matmul" and any(map(number, v.args)):
            return ir.Prim("mul", v.args, "op")
        if isinstance(v, ir.Prim) and v.op == "sum" and number(v.args[0]):
            return v.args[0]
        if isinstance(v, ir.Prim) and v.op == "size" and number(v.args[0]):
            return ir.Const(1)
        return v

    def statement(s):
        return [ir.Assign(s.target, value(s.value), s.line) if isinstance(s, ir.Assign) else s]
    return replace(function, body=ir.rewritten(function.body, statement))


def _ranks_checked(function: ir.Function, ndims) -> ir.Function:
    """The primitives whose rules hold for some ranks (rules.Rule.ranks) as _for_ranks has them."""
    namer = Namer(ir.all_names(function))

    def statement(s):
        if not (isinstance(s, ir.Assign) and isinstance(s.value, ir.Prim) and _ranks_of(s.value)):
            return [s]
        dot = _dot_of_stacks(s, ndims, namer)
        if dot:
            return dot
        s, checks = _for_ranks(s, ndims, function)
        return checks + [s]
    body = ir.rewritten(function.body, statement)
    if not any(isinstance(s, ir.Verbatim) and "check_supported" in ast.unparse(s.stmt) for s in ir.walk(body)):
        return replace(function, body=body)
    checks = {"check_supported": runtime.check_supported, "shape_of": runtime.shape_of}
    return replace(function, body=body, namespace=function.namespace | checks)


# primitives whose NumPy function means another mathematics at other ranks -> the primitive
# for those: stacks of matrices (batched over leading axes), and a matrix's 2-norm
FORMS = {"inv": "inv_stack", "det": "det_stack", "solve": "solve_stack", "norm_2": "spectral_norm"}


# np.dot (the matrix product spelled in NumPy's family) is another product than `@` on
# arrays of 3 or more dimensions: _dot_of_stacks spells it where the ranks are known
_DOT_RANKS = {"x": (0, 1, 2), "y": (0, 1, 2)}


_USER_NAMES = {"norm_2": "np.linalg.norm with ord=2"}


def _dot_of_stacks(s: ir.Assign, ndims, namer) -> list:
    """np.dot(x, y) with an operand of 3 or more dimensions, where the ranks are known: the
    sum over x's last axis and y's second-to-last (y's last, for a vector y) — `x @ y` where
    one is a vector; else y's summed axis moved first, both flattened to matrices around
    it, a matrix product, and the free axes back (x's leading ones, then y's)."""
    value = s.value
    if not (value.op == "matmul" and value.family == "np"):
        return []
    x, y = value.args
    ranks = [ndims.get(a.id) if isinstance(a, ir.Name) else 0 for a in (x, y)]
    if None in ranks or max(ranks) <= 2 or 0 in ranks:
        return []
    if 1 in ranks:
        return [ir.Assign(s.target, ir.Prim("matmul", (x, y), "op"), s.line)]
    moved, rows, columns, product = (namer.fresh(n) for n in ("moved", "rows", "columns", "product"))
    shapes = [namer.fresh("shape") for _ in range(3)]
    texts = (f"(-1, {x.id}.shape[-1])", f"({x.id}.shape[-1], -1)", f"{x.id}.shape[:-1] + {moved}.shape[1:]")
    return [ir.Assign(moved, ir.Prim("moveaxis", (y, ir.Const(-2), ir.Const(0)), "runtime"), s.line)] \
        + [ir.Assign(n, ir.Passive(ast.parse(t, mode="eval").body), s.line) for n, t in zip(shapes, texts)] \
        + [ir.Assign(rows, ir.Prim("reshape", (x, ir.Name(shapes[0])), "np"), s.line),
           ir.Assign(columns, ir.Prim("reshape", (ir.Name(moved), ir.Name(shapes[1])), "np"), s.line),
           ir.Assign(product, ir.Prim("matmul", (ir.Name(rows), ir.Name(columns)), "op"), s.line),
           ir.Assign(s.target, ir.Prim("reshape", (ir.Name(product), ir.Name(shapes[2])), "np"), s.line)]


def _ranks_of(value: ir.Prim) -> dict:
    """The ranks the rule of a primitive call holds for, parameter by parameter."""
    return _DOT_RANKS if value.op == "matmul" and value.family == "np" else RULES[value.op].ranks


def _for_ranks(s: ir.Assign, ndims, function):
    """(statement, checks before it) for a primitive whose rule holds for arguments of
    some ranks (_ranks_of): as it is where the ranks are those; its form for stacks of
    matrices where it has one; else refused, where the code runs when the ranks are
    known only then."""
    rule, allowed_ranks = RULES[s.value.op], _ranks_of(s.value)
    given = {p: s.value.args[rule.params.index(p)] for p in allowed_ranks}
    ranks = {p: ndims.get(a.id) if isinstance(a, ir.Name) else 0 for p, a in given.items()}
    other = FORMS.get(s.value.op)
    if other and all(ranks[p] is not None and ranks[p] in RULES[other].ranks[p] for p in given):
        return ir.Assign(s.target, replace(s.value, op=other), s.line), []
    named = "np.dot" if allowed_ranks is _DOT_RANKS else _USER_NAMES.get(s.value.op) or \
        next((a for a in rule.aliases if not a.startswith("runtime.")), "this linear-algebra function")
    checks = []
    for param, allowed in allowed_ranks.items():
        if ranks[param] in allowed:
            continue
        message = f"{named} is supported here for arguments of {' or '.join(map(str, allowed))} dimensions" + (
            f", and of {' or '.join(map(str, RULES[other].ranks[param]))} where the arguments' numbers of "
            "dimensions show them" if other else
            ", and of more where the arguments' numbers of dimensions show them" if allowed_ranks is _DOT_RANKS else
            ": stacks of matrices (batched over leading axes) are not supported yet")
        if None not in ranks.values():       # (else a call of known ranks may still get another form)
            raise unsupported(message, function.filename, at_line(s.line))
        test = " or ".join(f"len(shape_of({given[param].id})) == {r}" for r in allowed) \
            if isinstance(given[param], ir.Name) else "False"
        call = ast.parse(f"check_supported({test}, {message!r}, {s.line}, {function.filename!r})").body[0]
        checks.append(ir.Verbatim(call, s.line))
    return s, checks


def argument_kinds(call: ir.Call, numbers, ndims=None, certain=frozenset()) -> frozenset:
    """The kinds (above) of the callee's parameters that `call` passes what may be arrays,
    with their ranks where `ndims` knows them: the callee's derivative is generated for
    arrays there even where its own code shows no sign of one.  And numbers, where the
    caller is `certain` of them (not a guess) or passes a constant."""
    params = call.callee.function.params
    arrays = {(p, (ndims or {}).get(a.id, ARRAY)) for p, a in zip(params, call.args)
              if isinstance(a, ir.Name) and a.id not in numbers}
    return frozenset(arrays | {(p, 0) for p, a in zip(params, call.args)
                               if isinstance(a, ir.Name) and a.id in certain
                               or isinstance(a, ir.Const) and type(a.value) in (int, float)})


_NUMBER_BUILTINS = frozenset({"len", "range", "min", "max", "int", "float", "abs", "round"})


def _is_number(expr, numbers, ndims=None, guess=True) -> bool:
    if isinstance(expr, ir.Const):
        return not isinstance(expr.value, (tuple, list))
    if isinstance(expr, ir.Name):
        return expr.id in numbers
    if isinstance(expr, ir.Passive):          # `x > 0` of an array is an array of truth values
        tree = expr.expr
        if isinstance(tree, (ast.Compare, ast.BoolOp)) or isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
            return _operand_names(tree, ndims or {}, guess) <= numbers
        if isinstance(tree, ast.Tuple) or isinstance(tree, ast.Attribute) and tree.attr in ("shape", "dtype"):
            return False
        # a NumPy call kept as written (with keywords) may make an array: a number only by a guess
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and not (isinstance(n.func, ast.Name) and n.func.id in _NUMBER_BUILTINS)]
        return guess or not calls
    if isinstance(expr, ir.Item):
        return selects_element(expr.array.id, expr.index, ndims or {}, unknown=guess)
    if isinstance(expr, ir.Prim):
        rule = RULES[expr.op]
        if rule.result == "number" or expr.family in ("math", "builtin"):
            return True
        if expr.op == "matmul":              # vector @ vector is a number
            return _rank(expr, ndims or {}, {}) == 0
        if rule.result == "array":
            return False
        return all(_is_number(a, numbers, ndims, guess) for a in expr.args)
    if isinstance(expr, ir.Call) and not isinstance(expr.callee, ir.Derived):
        return _returns_numbers(expr, numbers)
    return False        # generated derivatives, opaque calls


def _operand_names(tree, ndims, guess) -> set:
    """Names a kept-whole expression uses as values (not `np` of `np.isnan`, not a called
    function, not an array of which it takes one element: `x[i] > 0`)."""
    skip = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)} \
        | {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)} \
        | {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Subscript) and _takes_element(n, ndims, guess)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in skip}


def _takes_element(node: ast.Subscript, ndims, guess) -> bool:
    if not isinstance(node.value, ast.Name):
        return False
    index = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if any(isinstance(i, ast.Slice) or isinstance(i, ast.Constant) and i.value in (None, Ellipsis) for i in index):
        return False
    ndim = ndims.get(node.value.id)
    return guess if ndim is None else ndim == len(index)


_call_results: dict = {}


def _returns_numbers(call: ir.Call, numbers) -> bool:
    """Whether a user function returns only numbers when called with these arguments (the
    ones not in `numbers` may be arrays)."""
    try:
        callee = call.callee.function
    except Exception:           # an unreadable callee: its own transform reports it
        return False
    kinds = argument_kinds(call, numbers)
    key = (id(callee), kinds)
    if key not in _call_results:
        _call_results[key] = (callee, False)          # a recursive call sees no evidence
        inner = number_names(callee, kinds)
        returned = [v for s in ir.walk(callee.body) if isinstance(s, ir.Return) for v in s.values]
        _call_results[key] = (callee, all(_is_number(v, inner) for v in returned))
    return _call_results[key][1]


_array_parameters: dict = {}


# The arguments of an array-valued primitive that must be arrays (the rest may be numbers:
# an axis, or the adjoint of vector @ vector).
_ARRAY_ARGUMENTS = {"dim": slice(1), "sum_axis": slice(1), "amax_axis": slice(1), "amin_axis": slice(1),
                    "expand": slice(1),
                    "matmul_adjoint_left": slice(1, None), "matmul_adjoint_right": slice(1, None)}


def array_parameters(function: ir.Function, shown=False) -> set:
    """Parameters the function uses as arrays (see number_names); `shown`: only those the code
    itself uses as arrays (indexes, reduces, ...), not those an elementwise result's use makes arrays."""
    key = id(function)
    if key in _array_parameters:
        return _array_parameters[key][2 if shown else 1]
    _array_parameters[key] = (function, set(), set())       # a recursive call sees no evidence
    arrays, defs = set(), list(_definitions(function.body))
    for targets, expr, _ in defs:
        if isinstance(expr, ir.Item):
            arrays.add(expr.array.id)
        elif isinstance(expr, ir.Prim) and RULES[expr.op].result != "elementwise" and expr.op != "where" \
                and (expr.op not in CREATIONS or expr.op == "copy"):      # np.zeros(n): n is a size
            arrays |= {a.id for a in expr.args[_ARRAY_ARGUMENTS.get(expr.op, slice(None))] if isinstance(a, ir.Name)}
        elif isinstance(expr, ir.Opaque):
            arrays |= {a.id for a in expr.args if isinstance(a, ir.Name)}
        elif isinstance(expr, ir.Call):
            try:
                callee_arrays = array_parameters(expr.callee.function)
                callee_params = expr.callee.function.params
            except Exception:       # an unreadable callee: its own transform reports it
                continue
            arrays |= {a.id for a, p in zip(expr.args, callee_params) if isinstance(a, ir.Name) and p in callee_arrays}
    for s in ir.walk(function.body):
        if isinstance(s, ir.SetItem):
            arrays.add(s.array)
    if function.returns_changed:            # its outputs: the arrays it changes in place
        arrays |= set(function.changed)
    shown_arrays = arrays & set(function.params)
    # a name a loop or branch assigns an array holds one wherever it is assigned, numba giving
    # it one type where paths join (`for t in ...: A = C.copy()`): a parameter it copies too
    nested = {t for outer in function.body if isinstance(outer, (ir.If, ir.For, ir.While))
              for targets, _, _ in _definitions([outer]) for t in targets}
    # An elementwise result used as an array makes its inputs arrays, unless one of them is one
    # already (`x * a`, `np.outer(x, x) * k`: a and k may be numbers; a caller passing an array
    # for them gets a variant).
    changed = True
    while changed:
        changed = False
        made = certain_arrays(function, arrays)        # what the arrays so far make, elementwise
        for targets, expr, _ in defs:
            if set(targets) & arrays and isinstance(expr, ir.Prim) and expr.family not in ("math", "builtin") \
                    and (RULES[expr.op].result == "elementwise" or expr.op == "where"):
                inputs = {a.id for a in expr.args if isinstance(a, ir.Name)}
                new = inputs - arrays if not inputs & (arrays | made) else set()
                if new:
                    arrays |= new
                    changed = True
            elif set(targets) & (arrays | made & nested) and isinstance(expr, ir.Name) and expr.id not in arrays:
                arrays.add(expr.id)
                changed = True
    result = (arrays | made & nested) & set(function.params)
    _array_parameters[key] = (function, result, shown_arrays)
    return shown_arrays if shown else result


# creations like their argument: a number for a number
_LIKE_ARGUMENT = frozenset({"zero_like", "owned", "kept", "step_kept"})


def certain_arrays(function: ir.Function, arrays=frozenset()) -> set:
    """Names that hold arrays whatever the arguments: the `arrays` parameters, new arrays,
    slices, rows of arrays of known rank, and elementwise results and comparisons with such an operand.  (A matrix product may be a
    number — vector @ vector — so it is not certain.)"""
    certain = set(arrays)
    defs = list(_definitions(function.body))
    ndims = array_ndims(function)
    changed = True
    while changed:
        changed = False
        for targets, expr, _ in defs:
            if set(targets) <= certain:
                continue
            if isinstance(expr, ir.Name) and expr.id in certain \
                    or isinstance(expr, ir.Item) and (any(isinstance(i, ir.Slice) for i in expr.index)
                                                      or (_rank(expr, ndims, {}) or 0) > 0) \
                    or isinstance(expr, ir.Opaque) and expr.name in _JOINS \
                    or isinstance(expr, ir.Passive) and isinstance(expr.expr, ast.Compare) \
                    and any(isinstance(side, ast.Name) and side.id in certain
                            for side in [expr.expr.left] + expr.expr.comparators) \
                    or isinstance(expr, ir.Prim) and (expr.op in CREATIONS - _LIKE_ARGUMENT
                                                      or expr.op in ("outer", "inv", "eye")
                                                      or RULES[expr.op].result == "elementwise"
                                                      and expr.family not in ("math", "builtin")
                                                      and any(isinstance(a, ir.Name) and a.id in certain
                                                              for a in expr.args)):
                certain |= set(targets)
                changed = True
    return certain



# ---- what kind of number a name holds: the dtype of its tape ---------------------------

_FLOAT_RESULTS = frozenset({"truediv", "float"})
_INT_RESULTS = frozenset({"len", "dim", "size"})
_TYPE_PRESERVING = frozenset({"add", "sub", "mul", "mod", "floordiv", "neg", "pos", "abs", "maximum", "minimum",
                              "square"})


def number_types(function: ir.Function, numbers, active) -> dict:
    """Number name -> "int", "bool" or "float": the type a value recorded for it must have.

    A name holds whatever its assignments give, joined (an int that becomes a float in a
    loop is a float: `out = 1; out = out * a`).  Where some assignment's type is not known
    (a parameter, an element of an array of unknown dtype), a name used as an index or a
    loop bound is an int and any other a float: integers are exact as floats, and a
    float truncated to an int would be silently wrong."""
    known = {p: "float" if p in active else None for p in function.params}
    known.update({name: _expr_type(ir.Const(value), {}) for name, value in function.namespace.items()
                  if isinstance(value, (bool, int, float))})
    needs_int = set()
    for s in ir.walk(function.body):
        if isinstance(s, ir.For):
            known[s.var] = "int"
            needs_int |= {a.id for a in (s.start, s.stop, s.step) if isinstance(a, ir.Name)}
        index = s.index if isinstance(s, ir.SetItem) else \
            s.value.index if isinstance(s, ir.Assign) and isinstance(s.value, ir.Item) else ()
        needs_int |= {a.id for a in ir.index_atoms(index) if isinstance(a, ir.Name)}
    defs = [(targets, expr) for targets, expr, _ in _definitions(function.body)]
    # an index's other versions are ints too (`k_3 = k_2`, a loop's carried copy `k_2 = k_3`)
    copies = [(targets[0], expr.id) for targets, expr in defs if len(targets) == 1 and isinstance(expr, ir.Name)]
    changed = True
    while changed:
        changed = False
        for a, b in copies:
            if (a in needs_int) != (b in needs_int):
                needs_int |= {a, b}
                changed = True
    types = dict(known)
    changed = True
    while changed:
        changed = False
        for targets, expr in defs:
            for t in targets:
                if t in known:
                    continue
                new = "float" if t in active else _join(types.get(t, "none"), _expr_type(expr, types))
                if new != types.get(t, "none"):
                    types[t], changed = new, True
    result = {}
    for name in numbers:
        kind = types.get(name)
        result[name] = kind if kind in ("int", "bool", "float") else "int" if name in needs_int else "float"
    return result


def maybe_ints(function: ir.Function, types: dict) -> set:
    """Names number_types calls floats that may still hold a Python int at run time (without
    numba, which unifies them): a float only on some paths, `s = 1` before a loop that may
    not run.  A tape for one gets its first value cast to float, or NumPy makes it an int array."""
    defs = [(targets, expr) for targets, expr, _ in _definitions(function.body)]
    maybe = {name for name, kind in types.items() if kind in ("int", "bool")}
    changed = True
    while changed:
        changed = False
        for targets, expr in defs:
            if set(targets) <= maybe:
                continue
            if isinstance(expr, ir.Const) and isinstance(expr.value, int) \
                    or isinstance(expr, ir.Name) and expr.id in maybe \
                    or isinstance(expr, ir.Prim) and expr.op in _TYPE_PRESERVING and all(
                        a.id in maybe if isinstance(a, ir.Name) else isinstance(a, ir.Const) and isinstance(a.value, int)
                        for a in expr.args):
                maybe |= set(targets)
                changed = True
    return maybe


def _expr_type(expr, types):
    """"int", "bool", "float" or None (not known) for a right-hand side."""
    if isinstance(expr, ir.Const):
        value = expr.value
        return "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else \
            "float" if isinstance(value, float) else None
    if isinstance(expr, ir.Name):
        return types.get(expr.id, "none")          # "none": not assigned yet in the fixpoint
    if isinstance(expr, ir.Passive):
        tree = expr.expr
        if isinstance(tree, (ast.Compare, ast.BoolOp)) or isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
            return "bool"
        if isinstance(tree, ast.IfExp) and all(isinstance(b, ast.Constant) for b in (tree.body, tree.orelse)):
            return _join(_expr_type(ir.Const(tree.body.value), {}), _expr_type(ir.Const(tree.orelse.value), {}))
        return "int" if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) \
            and tree.func.id in ("len", "broadcast_length") else None
    if not isinstance(expr, ir.Prim):
        return None
    op = expr.op
    args = [_expr_type(a, types) for a in expr.args]
    if op in _INT_RESULTS or op in ("floor", "ceil", "trunc", "round") and expr.family in ("math", "builtin"):
        return "int" if len(expr.args) == 1 or op != "round" else "float"
    if op in _FLOAT_RESULTS:
        return "float"
    if "none" in args and op != "select" and op not in _TYPE_PRESERVING:
        return "none"
    if op == "select":
        return _join(args[1], args[2])
    if op == "pow":
        exponent = expr.args[1]
        if args[0] in ("int", "bool") and isinstance(exponent, ir.Const) and isinstance(exponent.value, int) \
                and exponent.value >= 0:
            return "int"
        return "float" if "float" in args else None
    if op in _TYPE_PRESERVING:
        joined = "none"
        for kind in args:
            joined = _join(joined, "int" if kind == "bool" and op not in ("maximum", "minimum") else kind)
        return joined

    return "float" if RULES[op].differentiable else None


def _join(a, b):
    """The type a name has when it may hold an `a` or a `b` ("none": no value yet)."""
    if a == "none":
        return b
    if b == "none" or a == b:
        return a
    if "float" in (a, b):
        return "float"
    if None in (a, b):
        return None
    return "int"                # bool and int
