"""Reverse mode on arrays assigned elements: is every value the adjoint reads still there?

The adjoint sweep does not undo element writes.  An array made in a loop iteration is
rebuilt, writes included, when that iteration is recomputed; any other array keeps the
value the forward sweep left in it.  So when the adjoint reads an array — an element
read recomputed in an inner loop, or the whole array in a rule like d(A @ w) = A.T @ bz —
it sees the array as it is at the end of the array's own region.  That is the value the
primal read unless a later write in the region can hit the same element.

Writes are compared with reads loop by loop, outermost first, on index components of the
form `i + c` in a loop variable `i`: `y[i] = f(y[i - 1])` reads an element no later
iteration writes, and a write textually before a read in the same iteration comes before
it.  Where a later write may hit what was read:

* a value computed from the array in a loop inside the array's region (an element, a
  slice, `np.sum(y)`) is recorded as the forward sweep computes it, at any loop depth, and
  the recomputed iteration takes it from that record (`check`);
* a rule or callee that reads the whole array (`A @ w`, `g(y)`) is given a copy taken
  just before it (`with_snapshots`), which is such a value;

the classic store-on-overwrite, kept to the values the adjoint reads.  What neither
covers (a `while` test, a view read by a rule beside the array's writes) is refused with
both lines named, never differentiated wrongly.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ..analyze import selects_element
from ..errors import at_line, unsupported
from ..names import user_name
from ..rules import VIEWS


def with_snapshots(function: ir.Function, home: dict, whole_reads, makes_array, namer) -> ir.Function:
    """The function with `a_seen = np.copy(a)` before each statement that reads the array
    `a` where a later write may change it, and the statement reading the copy, when the
    statement's adjoint reads the whole array (`whole_reads(stmt)`: the names it reads so),
    or when it makes an array (`makes_array(stmt)`) in a loop inside a's home, so it is
    recomputed apart from a: the copy is then the value recorded (`check`)."""
    written = {s.array for s in ir.walk(function.body) if isinstance(s, ir.SetItem)}
    if not written:
        return function
    sites = list(ir.walk_in_loops(function.body))
    writes = [(k, s, loops) for k, (s, loops) in enumerate(sites) if isinstance(s, ir.SetItem)]
    offsets = ir.Offsets(function.body)
    copies = {}                              # id(statement) -> {array: its copy}
    for k, (s, loops) in enumerate(sites):
        if not isinstance(s, (ir.Assign, ir.Unpack)) or not isinstance(s.value, (ir.Prim, ir.Call, ir.Opaque)):
            continue                         # an element or view read is recorded by `check`
        arrays = whole_reads(s) & written
        if makes_array(s):
            arrays |= {a for a in ir.value_reads(s.value) & written if home.get(ir.targets(s)[0]) != home.get(a)}
        for array in sorted(arrays):
            if any(w.array == array and _may_hit_later(k, None, kw, w.index,
                                                        _common_loops(loops, w_loops, home.get(array)), offsets)
                   for kw, w, w_loops in writes):
                copies.setdefault(id(s), {})[array] = namer.fresh(f"{array}_seen")
    if not copies:
        return function

    def each(s):
        seen = copies.get(id(s))
        if not seen:
            return [s]
        copy = [ir.Assign(c, ir.Prim("copy", (ir.Name(a),), "np"), s.line) for a, c in seen.items()]
        args = tuple(ir.Name(seen[a.id]) if isinstance(a, ir.Name) and a.id in seen else a for a in s.value.args)
        return copy + [replace(s, value=replace(s.value, args=args))]
    return replace(function, body=ir.rewritten(function.body, each))


def check(function: ir.Function, home: dict, needed: set, adjoint_reads, ndims: dict, read_by_rules: set) -> dict:
    """`home`: name -> id of the loop whose iteration defines it (None: the function body);
    `needed`: names the adjoint sweep reads, or recomputes from; `adjoint_reads(stmt)`:
    names the adjoint rules of a statement read, `read_by_rules` all of them; `ndims`:
    the ranks analyze.array_ndims knows.

    Returns the values to record: name -> (the array it is computed from, that array's
    home, the ids of the loops around its assignment inside that home, outermost first).  The forward
    sweep, or the recomputed iteration that rebuilds the array, records the value as it
    computes it; recomputing the loops inside takes it from the record."""
    written = {s.array for s in ir.walk(function.body) if isinstance(s, ir.SetItem)}
    taped: dict = {}
    if not written:
        return taped
    sites = list(ir.walk_in_loops(function.body))
    writes = [(k, s, loops) for k, (s, loops) in enumerate(sites) if isinstance(s, ir.SetItem)]
    offsets = ir.Offsets(function.body)
    for k, (s, loops) in enumerate(sites):
        for array, index, recorded in _array_reads(s, written, home, needed, adjoint_reads, ndims, read_by_rules):
            for kw, w, w_loops in writes:
                if w.array != array:
                    continue
                common = _common_loops(loops, w_loops, home.get(array))
                if not _may_hit_later(k, index, kw, w.index, common, offsets):
                    continue
                inside = _loops_inside(loops, home.get(array))
                if recorded and inside:
                    taped[s.target] = (array, home.get(array), tuple(id(loop) for loop in inside))
                    break
                how = ("s2sdiff records values assigned in a loop, not a loop's test: compute the test into a "
                       "variable before the loop and at the end of its body, and loop while it holds"
                       if isinstance(s, ir.While) else
                       "s2sdiff records overwritten values only where they are computed in a loop: write the new "
                       "values to another array")
                raise unsupported(f"the adjoint needs the value of '{user_name(array, function.user_names)}' read "
                                  f"here, but line {w.line} may overwrite it afterwards, and {how}",
                                  function.filename, at_line(s.line))
    return taped


def _loops_inside(loops, array_home) -> tuple:
    """The loops of `loops` (outermost first) inside the array's home."""
    ids = [id(loop) for loop in loops]
    return tuple(loops[ids.index(array_home) + 1:]) if array_home in ids else tuple(loops)


def _array_reads(s, written, home, needed, adjoint_reads, ndims, read_by_rules):
    """(array, index or None for the whole array, whether recording the statement's value
    serves) for the reads of arrays assigned elements that the adjoint of `s` depends on."""
    if isinstance(s, ir.Assign) and isinstance(s.value, ir.Item) and s.value.array.id in written \
            and s.target in needed:
        array, index = s.value.array.id, s.value.index
        if not selects_element(array, index, ndims, unknown=True):
            # a view (a slice, a row) changes with the array: its value at the adjoint's time
            # matters where a rule reads it, or an iteration is recomputed from it
            if s.target in read_by_rules or home.get(s.target) is not None:
                yield array, None, True
        elif home.get(s.target) != home.get(array):
            yield array, index, True           # recomputed apart from the array's writes
        return
    if isinstance(s, ir.Assign) and isinstance(s.value, ir.Passive) and s.target in needed:
        for array in ir.tree_names(s.value.expr) & written:
            if home.get(s.target) != home.get(array):
                yield array, None, True
        return
    if isinstance(s, ir.While):
        for array in ir.tree_names(s.test) & written:
            yield array, None, False
        return
    recomputed = set()
    if isinstance(s, ir.Assign) and s.target in needed:      # `t = np.sum(y)` recomputed in a loop's adjoint
        recomputed = {a for a in ir.value_reads(s.value) & written if home.get(s.target) != home.get(a)}
    for array in (adjoint_reads(s) | recomputed) & written:
        yield array, None, array in recomputed and array not in adjoint_reads(s)


def _common_loops(a, b, array_home) -> tuple:
    """Loops enclosing both sites inside the array's home: the array is made anew in each
    iteration of its home, so only iterations within one matter."""
    common = []
    for x, y in zip(a, b):
        if x is not y:
            break
        common.append(x)
    ids = [id(loop) for loop in common]
    return tuple(common[ids.index(array_home) + 1:]) if array_home in ids else tuple(common)


def _may_hit_later(k_read, read_index, k_write, write_index, loops, offsets) -> bool:
    """Whether the write may run after the read and store into the element it read."""
    if read_index is not None and _never_equal(read_index, write_index):
        return False
    if not loops:
        return k_write > k_read
    loop, inner = loops[0], loops[1:]
    if read_index is None or not isinstance(loop, ir.For) or not isinstance(loop.step, ir.Const):
        return True
    # Component d holds `i + c`: the write reaches the read's element only in the iteration
    # whose i is larger by c_read - c_write.
    shifts = set()
    for r, w in zip(read_index, write_index):
        cr, cw = offsets.of(r, loop.var), offsets.of(w, loop.var)
        if cr is not None and cw is not None:
            shifts.add(cr - cw)
    if not shifts:
        return True
    if len(shifts) > 1:
        return False
    (shift,) = shifts
    if shift == 0:
        return _may_hit_later(k_read, read_index, k_write, write_index, inner, offsets)
    iterations, rest = divmod(shift, loop.step.value)
    return rest == 0 and iterations > 0


def _never_equal(a, b) -> bool:
    return any(isinstance(x, ir.Const) and isinstance(y, ir.Const) and x.value != y.value for x, y in zip(a, b))


def check_views(function: ir.Function, ndims: dict, numbers) -> None:
    """Refuse a view of an array assigned elements (`r = H[i]`, `z = y[1:]`, `y.T`) that is
    read after a later write into the array: the primal's view sees the write, but the
    adjoint sweep runs the view's adjoint after the write's, where by no longer holds it."""
    written = {s.array for s in ir.walk(function.body) if isinstance(s, ir.SetItem)}
    if not written:
        return
    sites = list(ir.walk_in_loops(function.body))
    position = {id(s): k for k, (s, _) in enumerate(sites)}
    loops_of = {id(s): loops for s, loops in sites}
    views = {}                                   # view name -> (array, the statement making it)
    for s, _ in sites:
        base = _viewed(s, ndims, numbers)
        if base is not None:
            base = views[base][0] if base in views else base
            if base in written:
                views[s.target] = (base, s)
    for view, (array, made) in views.items():
        writes = [(s, loops) for s, loops in sites if isinstance(s, ir.SetItem) and s.array == array]
        reads = [(s, loops) for s, loops in sites if view in ir.reads(s)]
        for write, w_loops in writes:
            for read, r_loops in reads:
                if _stale(position, made, write, w_loops, read, r_loops, loops_of):
                    name, base = user_name(view, function.user_names), user_name(array, function.user_names)
                    raise unsupported(
                        f"'{name}' is a view of '{base}' (line {made.line}), read here after line {write.line} wrote "
                        f"into '{base}'; reverse mode does not follow writes through views: take the view after the "
                        f"write (or a copy, {name} = ....copy(), for the values before it)",
                        function.filename, at_line(read.line))


def _viewed(s, ndims, numbers):
    """The array an assignment makes a view of (a slice, a row, a transpose), or None."""
    if not isinstance(s, ir.Assign) or s.target in numbers:
        return None
    value = s.value
    if isinstance(value, ir.Item) and not selects_element(value.array.id, value.index, ndims, unknown=False):
        return value.array.id
    if isinstance(value, ir.Prim) and value.op in VIEWS and isinstance(value.args[0], ir.Name):
        return value.args[0].id
    return None


def _stale(position, made, write, w_loops, read, r_loops, loops_of) -> bool:
    """Whether `read` may run after `write` and see the view `made` made before the write."""
    v, w, r = position[id(made)], position[id(write)], position[id(read)]
    if v < w < r:
        return True
    common = [loop for loop, other in zip(w_loops, r_loops) if loop is other]
    if not common:
        return False
    loop = common[-1]
    inside = any(other is loop for other in loops_of[id(made)])
    # repeated after the view is made: any order meets a write; or the read sees the view of
    # an earlier iteration, made before a write of that iteration
    return not inside or r < v and v < w
