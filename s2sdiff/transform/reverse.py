"""Stage 4b — reverse mode: a forward sweep that records, then the adjoint sweep.

`f(x, n)` becomes `f_vjp(x, n, bf)` returning `(f, bx)` (or only `bx` without the value).
The function is first put in single-exit, single-assignment form (regions.py), so:

* straight-line code and branches need no tape: every value a region computed is still
  there when its adjoint runs, and a branch's adjoint re-reads the recorded condition;
* a loop records, per iteration, only the *carried* values (those one iteration hands
  to the next) that the adjoint actually reads — e.g. the state of an ODE integrator,
  never a linear accumulator like `s += a * x[i]`.  A `for` loop over `range` knows its
  trip count at entry and preallocates its tape; a `while` loop's tape grows.  An array
  is taped in the rows of one array where its shape is proved the same in every iteration
  (extents.py), else as a list of copies, one per iteration.  The adjoint loop runs the
  iterations backwards: it restores the carried values, recomputes the iteration's
  intermediates (cheaper than storing them), then runs their adjoints.

Taping rule, precisely: a name is *needed* if an adjoint rule reads it, if a condition
or loop bound of code with adjoints reads it, or if computing a needed name reads it.
A loop tapes a carried name iff it is needed and read by the loop body.  Everything
else the adjoint reads is recomputed.

Each adjoint `bv` accumulates (`bx += ...`); it starts at zero and is reset to zero
after the adjoint of v's assignment, so an iteration's adjoints never leak into the next.
"""
from __future__ import annotations

import ast
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from .. import ir
from ..analyze import (RUNTIME_CHECKS, active_names, actively_written, argument_kinds, array_ndims, check_indices,
                       entry_checks, guessed_ranks, maybe_ints, number_names, number_types, runtime_checks,
                       selects_element)
from ..errors import at_line, unsupported
from ..runtime import HELPERS
from ..names import Namer, derivative_name
from ..normalize import lower_template
from ..rules import RULES, makes_new_array
from . import checkpoints, overwrites
from .extents import reshaped
from .regions import single_exit_single_assignment

_ACCUMULATE = ast.parse("acc + adjoint", mode="eval").body
_LOOP_VARIABLE = ast.parse("start + it * step", mode="eval").body
# Adjoints that come out in the result's (broadcast) shape, not the argument's.
_SPREAD = {"sum", "sum_axis", "where", "choose"}


def reverse(function: ir.Function, active_params: tuple, with_value: bool = True, kinds=frozenset(),
            parallel: bool = False, memory: int = None) -> ir.Function:
    """The adjoint function of `function` in the parameters at indices `active_params`
    (`kinds`: what a call fixes about the parameters, analyze.ARRAY; `parallel`: mark the adjoint loops threads
    may share, for parallel.py; `memory`: the bytes the tapes may take, past which a loop
    checkpoints its state instead, or None: whole tapes, held to the default budget)."""
    return _Reverse(function, active_params, with_value, kinds, parallel, memory).run()


@dataclass
class _LoopPlan:
    taped: list                       # carried names (and record cursors) recorded once per iteration
    tapes: dict = field(default_factory=dict)       # recorded name -> tape array name
    counter: str = None               # iterations run, when not known from the range
    # carried arrays not proved to keep their shape (extents.py): taped in lists (array_tape),
    # an array per iteration, not in the rows of one array
    reshaped: set = field(default_factory=set)


@dataclass
class _Checkpoint:
    """A loop whose state — the carried values an iteration reads before it sets them, and
    the arrays it writes in place — is kept in snapshots when a whole tape would not fit the
    memory budget."""
    carried: list
    arrays: list
    taped: list                       # what its tape holds each step: names, and 8 bytes a cursor
    reshaped: set                     # carried arrays whose shape may change: snapshots in a list
    spill: str = None                 # True when the snapshots replace the tape (decided as the code runs)
    steps: str = None
    slots: str = None
    snapshots: dict = field(default_factory=dict)     # state name -> its snapshots


@dataclass
class _Record:
    """A value computed from an array that a later write may change (overwrites.check).
    Where the array holds what the primal read — the forward sweep, or the recomputed
    iteration that rebuilds the array — each value is stored on the tape as it is computed;
    recomputing the loops inside takes them back in the same order.  The cursor `at` is
    recorded with each iteration of those loops, so a recomputed iteration starts where its
    values start."""
    array: str                        # the array it is computed from
    home: object                      # the id of the array's home loop (None: the function body)
    loops: tuple                      # ids of the loops around the assignment inside that home
    tape: str
    at: str                           # the next slot (a number) or element (an array's values)
    like: object = None               # an array's: an atom of its shape where it is reloaded
    shape_from: object = None         # an array's: the statement that makes that atom, or None

class _Reverse:
    def __init__(self, function: ir.Function, active_params: tuple, with_value: bool, kinds=frozenset(),
                 parallel=False, memory=None):
        self.original = function
        self.kinds = kinds
        self.parallel = parallel
        self.memory = memory
        self.budget = checkpoints.default_budget() if memory is None else memory
        self.rebuilt = {}             # array -> the checkpointed loop restoring it, while its code is made
        self.checkpoints = {}         # id(loop) -> _Checkpoint, or None where the loop keeps a whole tape
        self.chunkable = set()
        self.fn = single_exit_single_assignment(function)
        self.wrt = [function.params[i] for i in active_params]
        self.with_value = with_value
        self.active = active_names(self.fn, self.wrt) | set(self.wrt)
        self.namer = Namer(ir.all_names(self.fn) | _loop_names(self.fn.body) | {"np", "math"})
        self.namespace = dict(self.fn.namespace) | {n: HELPERS[n] for n in RUNTIME_CHECKS}
        self.home = {}                # name -> id of the innermost loop whose iteration defines it
        _homes(self.fn.body, None, self.home)
        # A rule or callee reading a whole array that a later write changes reads a copy instead.
        numbers = number_names(self.fn, kinds)
        snapshotted = overwrites.with_snapshots(self.fn, self.home, self.adjoint_value_reads,
                                                lambda s: not set(ir.targets(s)) <= numbers, self.namer)
        if snapshotted is not self.fn:
            self.fn = snapshotted
            self.active = active_names(self.fn, self.wrt) | set(self.wrt)
            self.home = {}
            _homes(self.fn.body, None, self.home)
        self.branch = _branches(self.fn.body)
        self.escaping = {n for n in _read_outside_branch(self.fn.body, self.branch) if n in self.active}
        self.numbers = number_names(self.fn, kinds)
        self.certain_numbers = number_names(self.fn, kinds, guess=False)
        self.guessed = guessed_ranks(self.fn, self.numbers, kinds)
        self.types = number_types(self.fn, self.numbers, self.active)
        self.maybe_ints = maybe_ints(self.fn, self.types)
        self.ndims = array_ndims(self.fn, self.numbers, kinds)
        self.active_writes = actively_written(self.fn, self.active)
        self.guessed.update(check_indices(self.fn, self.numbers, self.active, kinds))
        self.needed = self.needed_names()
        overwrites.check_views(self.fn, self.ndims, self.numbers)
        self.records = self.plan_records(overwrites.check(self.fn, self.home, self.needed, self.adjoint_value_reads,
                                                          self.ndims, self.read_by_rules))
        self.plans = {}
        self.fusable = {}           # id(adjoint loop) -> (loop, statements restoring its iteration)
        # Adjoint arrays the sweep updates element by element (`bx[i] += bt`, `by[i] = 0.0`):
        # they must own their storage, never share another adjoint's array.
        self.updated_in_place = {self.b(s.value.array.id) for s in ir.walk(self.fn.body) if isinstance(s, ir.Assign)
                                 and isinstance(s.value, ir.Item) and s.target in self.active
                                 and self.is_active(s.value.array)}
        self.written_once = _written_once(self.fn.body)
        self.updated_in_place |= {self.b(s.array) for s in ir.walk(self.fn.body) if isinstance(s, ir.SetItem)
                                  and s.array in self.active and not s.accumulate and s.array not in self.written_once}

    def b(self, name: str) -> str:
        return self.namer.derived("b", name)

    def is_active(self, atom) -> bool:
        return isinstance(atom, ir.Name) and atom.id in self.active

    # -- what the adjoint sweep reads -----------------------------------------------------
    def needed_names(self) -> set:
        seeds, defs = set(), {}
        # A value made under a branch or in a loop depends on what decided that it is made
        # (`going = False` under `if x[i] < a:`), not only on what it is computed from.
        for s, guards in _walk_guarded(self.fn.body):
            if isinstance(s, ir.Assign):
                defs.setdefault(s.target, set()).update(ir.value_reads(s.value) | guards)
                if s.target in self.active:
                    seeds |= self.adjoint_reads(s.target, s.value)
            elif isinstance(s, ir.Unpack):
                for t in s.targets:
                    defs.setdefault(t, set()).update(ir.value_reads(s.value) | guards)
                if set(s.targets) & self.active and any(map(self.is_active, s.value.args)):
                    seeds |= ir.value_reads(s.value)
            elif isinstance(s, ir.SetItem):
                if self.home.get(s.array) is not None:     # rebuilt when its iteration is recomputed
                    defs.setdefault(s.array, set()).update(ir.reads(s) - {s.array} | guards)
                if s.array in self.active:
                    seeds |= self.adjoint_reads_set_item(s)
            elif isinstance(s, ir.If) and self.has_adjoint(s.body + s.orelse):
                seeds |= ir.tree_names(s.test)
            elif isinstance(s, (ir.For, ir.While)):
                for carried, last in s.loop.carried.items():
                    defs.setdefault(carried, set()).add(last)
                if self.has_adjoint([s]):
                    seeds |= _loop_control(s)
        self.read_by_rules = seeds
        needed, todo = set(), list(seeds)
        while todo:
            name = todo.pop()
            if name not in needed:
                needed.add(name)
                todo.extend(defs.get(name, ()))
        return needed

    def adjoint_reads(self, target, value) -> set:
        if isinstance(value, ir.Prim):
            rule = RULES[value.op]
            bindings = dict(zip(rule.params, value.args))
            bindings["z"] = ir.Name(target)
            names = set()
            for param, arg, template in zip(rule.params, value.args, rule.adjoints):
                if template is not None and self.is_active(arg):
                    for n in ast.walk(template):
                        atom = bindings.get(n.id) if isinstance(n, ast.Name) else None
                        if isinstance(atom, ir.Name):
                            names.add(atom.id)
            return names
        if isinstance(value, ir.Item) and self.is_active(value.array):
            return {a.id for a in ir.index_atoms(value.index) if isinstance(a, ir.Name)}
        if isinstance(value, ir.Call) and any(map(self.is_active, value.args)):
            return ir.value_reads(value)
        return set()

    def adjoint_value_reads(self, s) -> set:
        """Names the adjoint rules of a statement read."""
        if isinstance(s, ir.Assign) and s.target in self.active:
            return self.adjoint_reads(s.target, s.value)
        if isinstance(s, ir.Unpack) and set(s.targets) & self.active and any(map(self.is_active, s.value.args)):
            return ir.value_reads(s.value)
        return set()

    def adjoint_reads_set_item(self, s: ir.SetItem) -> set:
        names = {a.id for a in ir.index_atoms(s.index) if isinstance(a, ir.Name)}
        if self.is_active(s.value) and s.value.id not in self.numbers:
            # the element adjoints are summed back to the value's shape: the slice's, where it has its rank
            names.add(s.array if self.shaped_like_slice(s) else s.value.id)
        return names

    def shaped_like_slice(self, s: ir.SetItem) -> bool:
        """Whether the array value written into a slice has the slice's rank, so it is taken to
        have the slice's shape (the forward sweep checks it): the adjoint then reads the shape
        from the slice, and needs neither the value nor what it was computed from."""
        rank, array_rank = self.ndims.get(s.value.id), self.ndims.get(s.array)
        if not rank or array_rank is None or any(isinstance(i, ir.Const) and i.value is None for i in s.index):
            return False
        return array_rank - sum(not isinstance(i, ir.Slice) for i in s.index) == rank

    def slice_shape_check(self, s: ir.SetItem) -> list:
        view = self.namer.temp()
        self.namespace["check_supported"] = HELPERS["check_supported"]
        test = f"np.shape({s.value.id}) == np.shape({view})"
        message = ("reverse mode takes a value written into a slice to have the slice's shape, and this one "
                   "broadcasts into it: write a value of the slice's shape")
        check = ast.parse(f"check_supported({test}, {message!r}, {s.line}, {self.fn.filename!r})").body[0]
        return [ir.Assign(view, ir.Item(ir.Name(s.array), s.index), s.line), ir.Verbatim(check, s.line)]

    def has_adjoint(self, body) -> bool:
        """Whether the adjoint of `body` does anything (`s = 0.0` in a loop resets bs each iteration)."""
        return any(isinstance(s, ir.Assign) and s.target in self.active
                   or isinstance(s, ir.Unpack) and set(s.targets) & self.active
                   or isinstance(s, ir.SetItem) and s.array in self.active
                   or isinstance(s, (ir.For, ir.While)) and set(s.loop.carried) & self.active for s in ir.walk(body))

    # -- the generated function ---------------------------------------------------------
    def run(self) -> ir.Function:
        fn = self.fn
        ret = fn.body[-1]
        body = fn.body[:-1]
        m = fn.n_outputs
        seeds = [self.namer.fresh(f"b{fn.name}" if m == 1 else f"b{fn.name}{k + 1}") for k in range(m)]
        line = ret.line

        adjoint = []
        for value, seed in zip(ret.values, seeds):
            if self.is_active(value):
                adjoint.append(_accumulate(self.b(value.id), ir.Name(seed), line))
        adjoint = self.zero_adjoints(None, 0) + adjoint + self.adjoint(body)
        adjoint = [ir.Comment("adjoint sweep", 0)] + _first_accumulations_assign(adjoint, self.updated_in_place)

        # The forward sweep computes what the adjoint sweep reads, and the value.
        live = {a.id for a in ret.values if isinstance(a, ir.Name)} if self.with_value else set()
        forward_sweep, _ = prune(self.record(body, replay=None), live | ir.exposed_reads(adjoint))
        forward_sweep = entry_checks(self.guessed, fn) + forward_sweep

        results = []
        if self.with_value:                # copied now: the adjoint sweep restores loop values
            fused = self.fuse(forward_sweep, adjoint)
            for k, value in enumerate(ret.values):
                if isinstance(value, ir.Name):
                    kept = self.namer.fresh(fn.name if m == 1 else f"{fn.name}{k + 1}")
                    # a checkpointed loop's adjoint restores arrays in place: an array returned (or a
                    # view of one) is copied as it is
                    restored = value.id not in self.numbers and any(c and c.arrays for c in self.checkpoints.values())
                    copy = ir.Assign(kept, self.helper("owned", value) if restored else value, line)
                    if value.id in fused:
                        adjoint.insert(_index(adjoint, fused[value.id]) + 1, copy)
                    else:
                        forward_sweep.append(copy)
                    value = ir.Name(kept)
                results.append(value)
        for p in self.wrt:
            if p not in self.numbers and not _owned(self.b(p), adjoint):
                # It may be another adjoint's array (x + y gives both the same): hand out a copy.
                adjoint.append(ir.Assign(self.b(p), self.helper("owned", ir.Name(self.b(p))), line))
        results += [ir.Name(self.b(p)) if p in self.active or p not in self.numbers else ir.Const(0.0)
                    for p in self.wrt]
        many = len(results) != 1
        body = [ir.Comment("forward sweep", 0)] + forward_sweep + adjoint
        if tapes_made(body):
            body = self.held_to_budget(body, line)
        body.append(ir.Return(tuple(results), many, line))
        kind = "vjp" if self.with_value else "vjp_grad"
        what = "value and adjoint" if self.with_value else "adjoint"
        doc = f"{what} of {fn.name} in ({', '.join(self.wrt)}) — reverse mode, generated by s2sdiff"
        return ir.Function(derivative_name(fn.name, kind, self.wrt, fn.params), fn.params + seeds, body, fn.filename,
                           fn.source_lines, self.namespace, len(results), many, dict(fn.defaults),
                           fn.origin, doc, user_names=fn.user_names,
                           numbers=frozenset(self.numbers | self.number_adjoints()),
                           kinds=self.kinds | self.seed_kinds(ret.values, seeds),
                           chunkable=frozenset(self.chunkable))

    def seed_kinds(self, values, seeds) -> frozenset:
        """The kinds of the cotangent parameters: each has the rank of its output (api.vjp
        checks a user's cotangent has its shape)."""
        ranks = [0 if isinstance(v, ir.Const) else self.ndims.get(v.id) for v in values]
        return frozenset((seed, rank) for seed, rank in zip(seeds, ranks) if rank is not None)

    def fuse(self, forward_sweep, adjoint) -> dict:
        """value_and_grad: a loop whose adjoint runs forwards also computes the value, in the
        same pass, when nothing between the two loops needs the value.  Returns the names
        the moved loops compute -> the adjoint loop that now computes them."""
        computed = {}
        for adjoint_loop in [s for s in adjoint if id(s) in self.fusable]:
            loop, restore = self.fusable[id(adjoint_loop)]
            # its loop in the forward sweep: the one over the same variable (single assignment)
            primal = next((s for s in forward_sweep if isinstance(s, ir.For) and s.var == loop.var), None)
            # A statement the adjoint loop recomputes is dropped below as already computed; that
            # holds for single assignments, not for a nested loop's carried values, which change.
            if primal is None or any(isinstance(t, (ir.For, ir.While)) for t in ir.walk(primal.body)):
                continue
            between = forward_sweep[_index(forward_sweep, primal) + 1:] + adjoint[:_index(adjoint, adjoint_loop)]
            outputs = ir.assigned_within(primal.body) | set(loop.loop.carried) \
                | {t.array for t in ir.walk(primal.body) if isinstance(t, ir.SetItem)}
            written = {t.array for t in ir.walk(between) if isinstance(t, ir.SetItem)}
            if (ir.reads_within(between) & outputs) or written & ir.reads_within(primal.body):
                continue
            carried = [t for t in primal.body if isinstance(t, ir.Assign) and t.target in loop.loop.carried]
            steps = [t for t in primal.body if not any(t is c for c in carried)]
            # the loop variable is restored for the moved steps even where the adjoint did not read it
            rest = [t for t in adjoint_loop.body if not any(t is r for r in restore) and t not in steps]
            body = restore + steps + rest + carried
            fused = ir.For(adjoint_loop.var, adjoint_loop.start, adjoint_loop.stop, adjoint_loop.step, body,
                           adjoint_loop.line)
            forward_sweep.pop(_index(forward_sweep, primal))
            adjoint[_index(adjoint, adjoint_loop)] = fused
            computed.update(dict.fromkeys(outputs, fused))
        return computed

    def zero_adjoints(self, loop_id, line) -> list:
        """`bv = 0.0` for the active names a region defines — the function body (loop_id
        None) or one loop iteration — so each iteration's adjoints start from zero."""
        names = {n for n, home in self.home.items() if home == loop_id and not self.in_branch(n)}
        names &= self.active - set(self.wrt)
        if loop_id is None:
            names = [p for p in self.wrt if p in self.active or p not in self.numbers] + sorted(names, key=_natural)
        return [ir.Assign(self.b(n), self.zero_of(n), line) for n in names]

    def in_branch(self, name) -> bool:
        """Whether `name` is an array (or may be) set only inside one branch of an `if`: its
        adjoint's zeros take its shape, so they are made in that branch, where it has a value —
        in the adjoint of the branch, or, where code after the branch reads it too (under
        the same condition), in the primal code right after its assignment (`escaping`)."""
        return name not in self.numbers and bool(self.branch.get(name))

    def zeroed_in_branch(self, branch, adjoint, line) -> list:
        """A branch's adjoint, first zeroing the adjoints of the arrays that only it sets."""
        names = sorted((n for n in self.active - self.escaping if self.in_branch(n) and self.branch[n][-1] == branch),
                       key=_natural)
        if not adjoint:
            return []
        zeros = [ir.Assign(self.b(n), self.zero_of(n), line) for n in names]
        return _first_accumulations_assign(zeros + adjoint, self.updated_in_place)

    def zero_of(self, name):
        return ir.Const(0.0) if name in self.numbers else self.helper("zero_like", ir.Name(name))

    def is_number(self, atom) -> bool:
        return isinstance(atom, ir.Const) or atom.id in self.numbers

    def number_adjoints(self) -> set:
        return {self.b(n) for n in self.active & self.numbers}

    def helper(self, name, *args):
        self.namespace[name] = HELPERS[name]
        return ir.Opaque(name, tuple(args), None)

    # -- forward sweep: the primal with each loop recording its carried values ------------
    def record(self, body, replay) -> list:
        """The primal code of a region; its loops record what their adjoints will restore.
        Loops nested in those run plain: their records are made when the enclosing
        iteration is recomputed in the adjoint sweep.  `replay` is None in the forward
        sweep; when an iteration is recomputed it is the loops whose arrays are rebuilt
        there — writes to arrays made outside them are not run again, since those arrays
        already hold their final values (overwrites.py checks that this is all the adjoint needs)."""
        return self.primal(body, replay, self.record_loop)

    def plain(self, body, replay) -> list:
        return self.primal(body, replay, self.plain_loop)

    def primal(self, body, replay, loop_code) -> list:
        out = []
        for s in body:
            if isinstance(s, ir.If):
                out.append(ir.If(s.test, self.primal(s.body, replay, loop_code),
                                 self.primal(s.orelse, replay, loop_code), s.line))
            elif isinstance(s, (ir.For, ir.While)):
                code = self.new_tapes(s, replay) + loop_code(s, replay)
                checkpoint = self.checkpoint(s) if replay is None and loop_code == self.record_loop else None
                out += self.checkpointed_forward(s, checkpoint, code) if checkpoint else code
            elif replay is not None and (isinstance(s, ir.Verbatim)     # asserts and prints run once
                                         or isinstance(s, ir.SetItem) and self.array_home(s.array) not in replay):
                continue
            else:
                if replay is None and isinstance(s, ir.SetItem) and self.is_active(s.value) \
                        and s.value.id not in self.numbers and self.shaped_like_slice(s):
                    out += self.slice_shape_check(s)
                out += self.recorded(s, replay) if isinstance(s, ir.Assign) and s.target in self.records else [s]
                out += [ir.Assign(self.b(t), self.zero_of(t), s.line) for t in ir.targets(s)
                        if t in self.escaping and self.in_branch(t)]
                if replay is None:
                    out += runtime_checks(s, self.active_writes, self.active, self.guessed, self.fn)
        return out

    def plan(self, loop) -> _LoopPlan:
        key = id(loop)
        if key not in self.plans:
            reads = ir.reads_within(loop.body)
            if isinstance(loop, ir.While):
                reads |= ir.tree_names(loop.test)
            taped = [c for c in loop.loop.carried if c in self.needed and c in reads and self.has_adjoint(loop.body)]
            cursors = [r.at for r in self.records.values() if key in r.loops]
            plan = _LoopPlan(sorted(taped, key=_natural) + cursors, reshaped=reshaped(loop, self.numbers, self.ndims))
            for c in plan.taped:
                plan.tapes[c] = self.namer.fresh(f"{c}_tape")
            if plan.tapes or isinstance(loop, ir.While) or loop.loop.exit_flag:
                plan.counter = self.namer.fresh("steps")
            self.plans[key] = plan
        return self.plans[key]

    # -- values recorded where a later write changes what they were computed from -----------
    def plan_records(self, taped: dict) -> dict:
        records = {}
        for s in ir.walk(self.fn.body):
            if not (isinstance(s, ir.Assign) and s.target in taped):
                continue
            array, home, loops = taped[s.target]
            record = _Record(array, home, loops, self.namer.fresh(f"{s.target}_tape"),
                             self.namer.fresh(f"{s.target}_at"))
            # a test's value (Passive) is a number: were it an array, its slot would refuse it, loudly
            if s.target not in self.numbers and not (isinstance(s.value, ir.Passive) and not self.ndims.get(s.target)):
                # reloaded into the shape of a view taken anew (the array keeps its shape), or of the copied array
                if isinstance(s.value, ir.Item):
                    record.like = ir.Name(self.namer.temp())
                    record.shape_from = ir.Assign(record.like.id, s.value, s.line)
                elif isinstance(s.value, ir.Prim) and s.value.op == "copy":
                    record.like = s.value.args[0]
                else:
                    raise unsupported("the adjoint needs this value, computed from an array that a later line "
                                      "overwrites, and s2sdiff cannot record it: write the new values to another "
                                      "array", self.fn.filename, at_line(s.line))
            records[s.target] = record
        return records

    def array_home(self, array):
        """The loop whose recomputed iterations rebuild the array: its home, or the
        checkpointed loop that restores it with the loop's state."""
        return self.rebuilt.get(array, self.home.get(array))

    def record_loops(self, record: _Record) -> tuple:
        """The loops inside the array's home, as rebuilt, around the record's assignment."""
        home = self.array_home(record.array)
        return record.loops[record.loops.index(home) + 1:] if home in record.loops else record.loops

    def storing(self, record: _Record, replay):
        """True where the array holds what the primal read (a record's values are stored),
        False where they are taken back, None where neither (the forward sweep, for an
        array that the recomputed iterations of its home rebuild, or a value recomputed
        right where the array is rebuilt)."""
        home = self.array_home(record.array)
        if not self.record_loops(record):
            return None
        if replay is None:
            return True if home is None else None
        return home in replay

    def new_tapes(self, loop, replay) -> list:
        """Empty tapes, before the outermost loop of the records inside the array's home."""
        out, line = [], loop.line
        for name, record in self.records.items():
            loops = self.record_loops(record)
            if not loops or loops[0] != id(loop) or not self.storing(record, replay):
                continue
            direct = len(loops) == 1 and isinstance(loop, ir.For)
            size = ir.Const(16)
            if direct and record.like is None:
                size = ir.Name(self.namer.temp())
                out.append(ir.Assign(size.id, self.trip_count(loop), line))
            first = ir.Const(0) if record.like is None and self.types.get(name) in ("int", "bool") else ir.Const(0.0)
            out += [ir.Assign(record.tape, self.helper(_tape(replay), size, first), line),
                    ir.Assign(record.at, ir.Const(0), line)]
        return out

    def recorded(self, s: ir.Assign, replay) -> list:
        """`t = value` storing t on its record's tape, or taking it back from there."""
        record, line = self.records[s.target], s.line
        storing = self.storing(record, replay)
        if storing is None:
            if record.array in self.rebuilt and isinstance(s.value, ir.Item) and record.like is not None:
                # a view of an array a checkpointed step rewrites: its values as they were read
                view = self.namer.temp()
                return [ir.Assign(view, s.value, line), ir.Assign(s.target, ir.Prim("copy", (ir.Name(view),), "np"),
                                                                  line)]
            return [s]
        at, tape = ir.Name(record.at), ir.Name(record.tape)
        if record.like is None:            # a number: one slot
            if not storing:
                return [ir.Assign(s.target, ir.Item(tape, (at,)), line),
                        ir.Assign(record.at, ir.Prim("add", (at, ir.Const(1))), line)]
            full = ast.Compare(_name(record.at), [ast.Eq()], [ast.Call(_name("len"), [_name(record.tape)], [])])
            return [s, ir.If(full, [ir.Assign(record.tape, self.helper(_grown(replay), tape), line)], [], line),
                    ir.SetItem(record.tape, (at,), ir.Name(s.target), line),
                    ir.Assign(record.at, ir.Prim("add", (at, ir.Const(1))), line)]
        # an array: its values, flat, in the slots from `at`
        size, end, flat = (self.namer.temp() for _ in range(3))
        made = [s] if storing else [record.shape_from] if record.shape_from else []
        code = made + [ir.Assign(size, ir.Prim("size", (ir.Name(s.target) if storing else record.like,), "np"), line),
                       ir.Assign(end, ir.Prim("add", (at, ir.Name(size))), line)]
        if storing:
            short = ast.Compare(ast.Call(_name("len"), [_name(record.tape)], []), [ast.Lt()], [_name(end)])
            code += [ir.While(short, [ir.Assign(record.tape, self.helper(_grown(replay), tape), line)], line),
                     ir.Assign(flat, ir.Prim("ravel", (ir.Name(s.target),), "np"), line),
                     ir.SetItem(record.tape, (ir.Slice(at, ir.Name(end)),), ir.Name(flat), line)]
        else:
            code += [ir.Assign(flat, ir.Item(tape, (ir.Slice(at, ir.Name(end)),)), line),
                     ir.Assign(s.target, self.helper("reshape_like", ir.Name(flat), record.like), line)]
        return code + [ir.Assign(record.at, ir.Name(end), line)]

    def loop_body(self, loop, replay) -> list:
        """One iteration as the primal runs it: body, the carried copies, the exit test."""
        line = loop.line
        body = self.plain(loop.body, replay)
        body += [ir.Assign(c, ir.Name(last), line) for c, last in loop.loop.carried.items() if c != last]
        return body

    def with_body(self, loop, body, exit_test=True):
        if exit_test and loop.loop.exit_flag:
            body = body + [ir.If(_name(loop.loop.exit_flag), [ir.Break(loop.line)], [], loop.line)]
        if isinstance(loop, ir.For):
            return ir.For(loop.var, loop.start, loop.stop, loop.step, body, loop.line)
        return ir.While(loop.test, body, loop.line)

    def plain_loop(self, loop, replay) -> list:
        return [self.with_body(loop, self.loop_body(loop, replay))]

    def record_loop(self, loop, replay) -> list:
        plan = self.plan(loop)
        line = loop.line
        if not self.has_adjoint([loop]):
            return self.plain_loop(loop, replay)
        out, stores = [], []
        # A tape takes the type of what it holds, which may differ from the value before the
        # loop (`out = 1; out = out * a`); an element read is not there yet: its tape starts as zeros.
        # A value not known to be a number that enters as a Python int is recorded as a float too
        # (an array that it may become would not fit the tape: loud, never truncated).
        like = {}
        for c in plan.taped:
            like[c] = ir.Name(c)
            if (self.types.get(c) == "float" or c not in self.numbers and c in self.maybe_ints) \
                    and not self.float_on_entry(c):
                like[c] = ir.Name(self.namer.temp())
                out.append(ir.Assign(like[c].id, ir.Prim("float", (ir.Name(c),), "builtin"), line))
        if plan.tapes and isinstance(loop, ir.For):
            size = self.namer.temp()
            out.append(ir.Assign(size, self.trip_count(loop), line))
            for c, tape in plan.tapes.items():
                out.append(ir.Assign(tape, self.new_tape(c in plan.reshaped, replay, ir.Name(size), like[c]), line))
        for c, tape in plan.tapes.items() if isinstance(loop, ir.While) else ():
            out.append(ir.Assign(tape, self.new_tape(c in plan.reshaped, replay, ir.Const(16), like[c]), line))
            full = ast.Compare(_name(plan.counter), [ast.Eq()], [ast.Call(_name("len"), [_name(tape)], [])])
            stores.append(ir.If(full, [ir.Assign(tape, self.helper(_grown(replay), ir.Name(tape)), line)], [], line))
        for c in plan.taped:
            stores += self.tape_slot(plan.tapes[c], (ir.Name(plan.counter),), c, c in plan.reshaped, replay, line)
        body = stores + self.loop_body(loop, replay)
        if plan.counter:
            out.append(ir.Assign(plan.counter, ir.Const(0), line))
            body.append(ir.Assign(plan.counter, ir.Prim("add", (ir.Name(plan.counter), ir.Const(1))), line))
        out.append(self.with_body(loop, body))
        return out

    def new_tape(self, reshaped, replay, size, like):
        """A tape of `size` slots for values like `like`: rows of one array, or a list of
        arrays for an array whose shape may change (`reshaped`)."""
        return self.helper("array_tape" if reshaped else _tape(replay), size, like)

    def tape_slot(self, tape, index, name, reshaped, replay, line) -> list:
        """`name` stored at `index` of its tape: into the row, or as a copy of its own."""
        if not reshaped:
            return [ir.SetItem(tape, index, ir.Name(name), line)]
        copy = self.namer.temp()
        return [ir.Assign(copy, self.helper("kept" if replay is None else "step_kept", ir.Name(name)), line),
                ir.SetItem(tape, index, ir.Name(copy), line)]

    def float_on_entry(self, carried) -> bool:
        """Whether a loop's carried number is a float before the loop too (single assignment
        gives it one assignment in the body: the copy in of its value before the loop)."""
        entry = next((s.value for s in ir.walk(self.fn.body) if isinstance(s, ir.Assign) and s.target == carried),
                     None)
        return isinstance(entry, ir.Name) and entry.id not in self.maybe_ints \
            or isinstance(entry, ir.Const) and isinstance(entry.value, float)

    def trip_count(self, loop: ir.For):
        bounds = [loop.start, loop.stop, loop.step]
        if loop.step == ir.Const(1):
            bounds.pop()
            if loop.start == ir.Const(0):
                bounds.pop(0)
        return ir.Passive(ast.Call(_name("len"), [ast.Call(_name("range"), list(map(_atom_tree, bounds)), [])], []))

    # -- adjoint sweep --------------------------------------------------------------------
    def adjoint(self, body) -> list:
        out = []
        for s in reversed(body):
            out.extend(self.adjoint_statement(s))
        return out

    def adjoint_statement(self, s) -> list:
        if isinstance(s, ir.Assign):
            return self.adjoint_assign(s) if s.target in self.active else []
        if isinstance(s, ir.Unpack):
            return self.adjoint_unpack(s)
        if isinstance(s, ir.SetItem):
            return self.adjoint_set_item(s) if s.array in self.active else []
        if isinstance(s, ir.If):
            body, orelse = (self.zeroed_in_branch((id(s), side), self.adjoint(branch), s.line)
                            for side, branch in enumerate((s.body, s.orelse)))
            return [ir.If(s.test, body, orelse, s.line)] if body or orelse else []
        if isinstance(s, (ir.For, ir.While)):
            if not self.has_adjoint([s]):
                return []
            checkpoint = self.checkpoint(s)
            return self.checkpointed_adjoint(s, checkpoint) if checkpoint else self.adjoint_loop(s)
        return []

    def adjoint_assign(self, s: ir.Assign) -> list:
        t, value, line = s.target, s.value, s.line
        bt = ir.Name(self.b(t))
        out = []
        if isinstance(value, ir.Name):
            if self.is_active(value):
                out.append(_accumulate(self.b(value.id), bt, line))
        elif isinstance(value, ir.Item):
            if self.is_active(value.array):
                index = _spelled_out(value.index, self.ndims.get(value.array.id))
                out.append(ir.SetItem(self.b(value.array.id), index, bt, line, accumulate=True))
        elif isinstance(value, ir.Prim):
            rule = RULES[value.op]
            numbers = all(self.is_number(a) for a in value.args)
            _, adjoints = rule.forms(arrays=not numbers)
            bindings = dict(zip(rule.params, value.args))
            bindings.update(z=ir.Name(t), bz=bt)
            for arg, template in zip(value.args, adjoints):
                if template is None or not self.is_active(arg):
                    continue
                acc = self.b(arg.id)
                if (rule.result == "elementwise" or value.op in _SPREAD) and not numbers:   # shape it like arg
                    template = ast.Call(ast.Name("adjoint_like", ast.Load()), [template, ast.Name("arg", ast.Load())], [])
                    bindings["arg"] = arg
                term = ast.BinOp(_ACCUMULATE.left, ast.Add(), template)
                code = lower_template(term, dict(bindings, acc=ir.Name(acc)), acc, self.namer, value.family, line)
                out.extend(code or [])
        elif isinstance(value, ir.Call):
            out.extend(self.adjoint_call((t,), value, line))
        return out

    def adjoint_set_item(self, s: ir.SetItem) -> list:
        """`y[i] = v`: by[i] = 0 (the old y[i] no longer reaches the output), then bv += the
        old by[i] (in that order: v may be y itself, `y[:] = y`); `y[i] += v` leaves by[i]
        as it is, and so does a write to an element nothing writes again (_written_once)."""
        out, zeroed = [], []
        if not s.accumulate and s.array not in self.written_once:
            zeroed.append(ir.SetItem(self.b(s.array), s.index, ir.Const(0.0), s.line))
        if self.is_active(s.value):
            element = self.namer.temp()
            out.append(ir.Assign(element, ir.Item(ir.Name(self.b(s.array)), s.index), s.line))
            if not (s.value.id in self.numbers and selects_element(s.array, s.index, self.ndims, unknown=False)):
                # a slice or row of by is a view, and by[index] is zeroed below: copy it, then
                # sum it back to the value's shape (a number broadcast into a row gets the row's sum)
                known_view = not selects_element(s.array, s.index, self.ndims, unknown=True)
                shaped = self.namer.temp()
                out.append(ir.Assign(shaped, ir.Prim("copy", (ir.Name(element),), "np") if known_view
                                     else self.helper("owned", ir.Name(element)), s.line))
                like = ir.Const(0.0) if s.value.id in self.numbers else s.value      # only its shape matters
                if self.shaped_like_slice(s):
                    like = ir.Name(self.namer.temp())
                    out.append(ir.Assign(like.id, ir.Item(ir.Name(s.array), s.index), s.line))
                out.append(ir.Assign(element := self.namer.temp(),
                                     self.helper("adjoint_like", ir.Name(shaped), like), s.line))
            return out + zeroed + [_accumulate(self.b(s.value.id), ir.Name(element), s.line)]
        return zeroed

    def adjoint_unpack(self, s: ir.Unpack) -> list:
        if not set(s.targets) & self.active:
            return []
        return self.adjoint_call(s.targets, s.value, s.line)

    def adjoint_call(self, targets, call: ir.Call, line) -> list:
        active = tuple(i for i, a in enumerate(call.args) if self.is_active(a))
        if not active:
            return []
        seeds = tuple(ir.Name(self.b(t)) if t in self.active else ir.Const(0.0) for t in targets)
        values = tuple(self.namer.fresh("_") for _ in targets)
        adjoints = tuple(self.namer.temp() for _ in active)
        vjp = ir.Derived("vjp", call.callee, active, argument_kinds(call, self.numbers, self.ndims, self.certain_numbers))
        out = [ir.Unpack(values + adjoints, ir.Call(vjp, call.args + seeds), line)]
        for i, tmp in zip(active, adjoints):
            out.append(_accumulate(self.b(call.args[i].id), ir.Name(tmp), line))
        return out

    def adjoint_loop(self, loop) -> list:
        plan = self.plan(loop)
        line = loop.line
        out = []
        if plan.counter:
            count = ir.Name(plan.counter)
        else:
            count = ir.Name(self.namer.temp())
            out.append(ir.Assign(count.id, self.trip_count(loop), line))
        it = self.namer.fresh("it")
        restore = self.loop_variable(loop, it)
        for c in plan.taped:
            restore.append(ir.Assign(c, ir.Item(ir.Name(plan.tapes[c]), (ir.Name(it),)), line))
        body = self.iteration_adjoint(loop, restore)
        if self.order_free(loop):
            # Each iteration's adjoint depends on no other's: run them in the primal's order,
            # which the compiler vectorizes and streams through memory better.
            iterations = (ir.Const(0), count, ir.Const(1))
        else:
            last = self.namer.temp()
            out.append(ir.Assign(last, ir.Prim("sub", (count, ir.Const(1))), line))
            iterations = (ir.Name(last), ir.Const(-1), ir.Const(-1))
        out.append(ir.For(it, *iterations, body, line))
        if self.order_free(loop) and isinstance(loop, ir.For) and not plan.tapes and not plan.counter \
                and any(s is loop for s in self.fn.body):
            if self.with_value:
                self.fusable[id(out[-1])] = (loop, restore)
            elif self.parallel:
                self.chunkable.add(it)
        return out

    def loop_variable(self, loop, it) -> list:
        """`i = start + it * step`: the variable of the it-th iteration of a for loop."""
        if not isinstance(loop, ir.For):
            return []
        bindings = {"start": loop.start, "it": ir.Name(it), "step": loop.step}
        return lower_template(_LOOP_VARIABLE, bindings, loop.var, self.namer, "op", loop.line)

    def iteration_adjoint(self, loop, restore) -> list:
        """One iteration's adjoint, after `restore` gives its variable and the values it starts from."""
        line = loop.line
        adjoint = self.zero_adjoints(id(loop), line)
        for c, src in reversed(list(loop.loop.carried.items())):
            if c in self.active and c != src:
                if src in self.active:
                    adjoint.append(_accumulate(self.b(src), ir.Name(self.b(c)), line))
                adjoint.append(ir.Assign(self.b(c), self.zero_of(c), line))
        adjoint = _first_accumulations_assign(adjoint + self.adjoint(loop.body), self.updated_in_place)
        # The iteration is recomputed as far as its adjoint reads it.
        body, _ = prune(restore + self.record(loop.body, _replayed(loop)), ir.exposed_reads(adjoint))
        return body + adjoint

    # -- checkpointing: the state of a long loop in snapshots, within the memory budget ----------
    def checkpoint(self, loop):
        """The _Checkpoint of a loop of the function body that may trade its tape for
        recomputation (a `for` loop without `break`), or None."""
        key = id(loop)
        if key not in self.checkpoints:
            self.checkpoints[key] = None
            # without a budget, no second version of the loop: compiling both would double the
            # compile time of every loop with a tape
            if self.memory is not None and isinstance(loop, ir.For) and not loop.loop.exit_flag and any(s is loop for s in self.fn.body) \
                    and self.has_adjoint([loop]):
                # what an iteration reads of the one before, where the loop starts with a value of it
                # (an inner loop's variable is carried, with none before the first iteration)
                exposed = ir.exposed_reads(loop.body)
                before = set(self.fn.params) | ir.assigned_within(self.fn.body[:_index(self.fn.body, loop)])
                carried = [c for c in loop.loop.carried if c in exposed and c in before]
                arrays = sorted({s.array for s in ir.walk(loop.body)
                                 if isinstance(s, ir.SetItem) and self.home.get(s.array) is None})
                # a value read from an array the loop leaves alone, which a later line overwrites,
                # would still need its tape
                others = any(r.loops[0] == key and r.array not in arrays for r in self.records.values())
                cursors = {r.at for r in self.records.values()}
                # a step's tape, at most: its carried values, a cursor, the array a record reads from
                taped = [ir.Name(c) if c not in cursors else ir.Const(8) for c in self.plan(loop).taped] \
                    + [ir.Name(r.array) for r in self.records.values() if r.loops[0] == key]
                if taped and (carried or arrays) and not others:
                    checkpoint = _Checkpoint(sorted(carried, key=_natural), arrays, taped,
                                             self.plan(loop).reshaped & set(carried),
                                             *(self.namer.fresh(n) for n in ("spill", "steps", "slots")))
                    for name in checkpoint.carried + arrays:
                        checkpoint.snapshots[name] = self.namer.fresh(f"{name}_snapshots")
                    self.checkpoints[key] = checkpoint
        return self.checkpoints[key]

    def checkpointed_forward(self, loop, checkpoint: _Checkpoint, tape_code) -> list:
        """The loop taping as before where its tape fits the budget; else running plain after
        a snapshot of the state it starts from."""
        line, state = loop.line, checkpoint.carried + checkpoint.arrays
        out = [ir.Assign(checkpoint.steps, self.trip_count(loop), line)]

        def total_bytes(items, name):
            sizes = []
            for item in items:
                sizes.append(item if isinstance(item, ir.Const) else ir.Name(self.namer.temp()))
                if isinstance(item, ir.Name):
                    out.append(ir.Assign(sizes[-1].id, self.helper("nbytes_of", item), line))
            total = sizes[0]
            for more in sizes[1:]:
                out.append(ir.Assign(name, ir.Prim("add", (total, more)), line))
                total = ir.Name(name)
            return total
        step = total_bytes(checkpoint.taped, self.namer.fresh("step_bytes"))
        total = total_bytes([ir.Name(name) for name in state], self.namer.fresh("state_bytes"))
        self.namespace["budget_left"] = HELPERS["budget_left"]
        over = ast.Compare(ast.BinOp(_name(checkpoint.steps), ast.Mult(), _atom_tree(step)), [ast.Gt()],
                           [ast.Call(_name("budget_left"), [], [])])
        out.append(ir.Assign(checkpoint.spill, ir.Passive(over), line))
        self.namespace["check_budget"] = HELPERS["check_budget"]
        check = f"check_budget({_atom_tree(total).id}, {self.memory}, {line}, {self.fn.filename!r})"
        snapshots = [ir.Verbatim(ast.parse(check).body[0], line),
                     ir.Assign(checkpoint.slots, self.helper("snapshot_slots", ir.Name(checkpoint.steps), total,
                                                             ir.Const(self.memory)), line)]
        for name in state:
            like = ir.Name(name)
            if name in checkpoint.carried and (self.types.get(name) == "float" or name not in self.numbers
                                               and name in self.maybe_ints) and not self.float_on_entry(name):
                like = ir.Name(self.namer.temp())        # a number that may enter as an int: float snapshots
                snapshots.append(ir.Assign(like.id, ir.Prim("float", (ir.Name(name),), "builtin"), line))
            reshaped = name in checkpoint.reshaped
            snapshots += [ir.Assign(checkpoint.snapshots[name],
                                    self.new_tape(reshaped, None, ir.Name(checkpoint.slots), like), line)]
            snapshots += self.tape_slot(checkpoint.snapshots[name], self.snapshot(name, ir.Const(0), checkpoint),
                                        name, reshaped, None, line)
        with self.rebuilding(loop, checkpoint):
            plain = self.new_tapes(loop, None) + self.plain_loop(loop, None)
        return out + [ir.If(_name(checkpoint.spill), snapshots + plain, tape_code, line)]

    def checkpointed_adjoint(self, loop: ir.For, checkpoint: _Checkpoint) -> list:
        """The adjoint of a checkpointed loop: a stack of segments (start, stop, the slot of
        the snapshot at start) reversed in turn.  A segment of one step, or with no slot
        free, runs forward to its last step and reverses that one; a longer one runs forward
        to where checkpoint_split puts a snapshot, then reverses the part after it before
        the part before it (binomial checkpointing)."""
        line = loop.line
        n = self.namer
        starts, stops, slots_of, free = (n.fresh(x) for x in ("segment_start", "segment_stop", "segment_slot",
                                                              "free_slots"))
        top, free_count, a, b, slot, stop, store, k = (n.fresh(x) for x in ("top", "free_count", "start", "stop",
                                                                          "slot", "until", "store", "k"))
        depth = n.temp()

        def assign(target, value):
            return ir.Assign(target, value, line)

        def push(x, y, z):
            return [ir.SetItem(starts, (ir.Name(top),), x, line), ir.SetItem(stops, (ir.Name(top),), y, line),
                    ir.SetItem(slots_of, (ir.Name(top),), z, line),
                    assign(top, ir.Prim("add", (ir.Name(top), ir.Const(1))))]

        def test(text):
            return ast.parse(text, mode="eval").body

        slots, index = ir.Name(checkpoint.slots), n.temp()
        setup = [assign(depth, ir.Passive(test(f"2 * {checkpoint.slots}")))]     # segments held at once, at most
        setup += [assign(name, self.helper("new_tape", ir.Name(depth), ir.Const(0)))
                  for name in (starts, stops, slots_of)]
        setup += [assign(free, self.helper("new_tape", slots, ir.Const(0))),        # slots 1 .. slots - 1 are free
                  ir.For(k, ir.Const(1), slots, ir.Const(1),
                         [assign(index, ir.Prim("sub", (ir.Name(k), ir.Const(1)))),
                          ir.SetItem(free, (ir.Name(index),), ir.Name(k), line)], line),
                  assign(free_count, ir.Prim("sub", (slots, ir.Const(1)))), assign(top, ir.Const(0))]
        setup += push(ir.Const(0), ir.Name(checkpoint.steps), ir.Const(0))

        restore = []
        for name in checkpoint.carried:
            restore.append(assign(name, ir.Item(ir.Name(checkpoint.snapshots[name]),
                                                self.snapshot(name, slot, checkpoint))))
            if name not in self.numbers:
                restore.append(assign(name, ir.Prim("copy", (ir.Name(name),), "np")))
        for name in checkpoint.arrays:
            saved = n.temp()
            restore += [assign(saved, ir.Item(ir.Name(checkpoint.snapshots[name]),
                                              self.snapshot(name, slot, checkpoint))),
                        ir.SetItem(name, (ir.Slice(),), ir.Name(saved), line)]
        last_step = [assign(stop, ir.Prim("sub", (ir.Name(b), ir.Const(1)))), assign(store, ir.Const(-1)),
                     ir.If(test(f"{b} - {a} > 1"), push(ir.Name(a), ir.Name(stop), ir.Name(slot)), [], line)]
        split = [assign(stop, self.helper("checkpoint_split", ir.Name(a), ir.Name(b), ir.Name(free_count))),
                 assign(free_count, ir.Prim("sub", (ir.Name(free_count), ir.Const(1)))),
                 assign(store, ir.Item(ir.Name(free), (ir.Name(free_count),)))]
        split += push(ir.Name(a), ir.Name(stop), ir.Name(slot)) + push(ir.Const(0), ir.Const(-1), ir.Name(store)) \
            + push(ir.Name(stop), ir.Name(b), ir.Name(store))
        step = n.fresh("it")
        with self.rebuilding(loop, checkpoint):
            # runs the steps as far as the state (and the arrays they write) needs
            advance, _ = prune([ir.For(step, ir.Name(a), ir.Name(stop), ir.Const(1),
                                        self.loop_variable(loop, step) + self.loop_body(loop, _replayed(loop)), line)],
                                set(checkpoint.carried))
            reverse_step = self.iteration_adjoint(loop, [assign(step, ir.Name(stop))] + self.loop_variable(loop, step))
        keep = []
        for name in checkpoint.carried + checkpoint.arrays:
            snapshots = checkpoint.snapshots[name]
            if name in checkpoint.reshaped:       # the copy the slot held goes, and its bytes back to the budget
                self.namespace["released"] = HELPERS["released"]
                keep.append(ir.Verbatim(ast.parse(f"released({snapshots}[{store}])").body[0], line))
            keep += self.tape_slot(snapshots, self.snapshot(name, store, checkpoint), name,
                                   name in checkpoint.reshaped, None, line)
        segment = restore + [ir.If(test(f"{b} - {a} == 1 or {free_count} == 0"), last_step, split, line)] \
            + advance + [ir.If(test(f"{store} >= 0"), keep, reverse_step, line)]
        release = [ir.SetItem(free, (ir.Name(free_count),), ir.Name(slot), line),
                   assign(free_count, ir.Prim("add", (ir.Name(free_count), ir.Const(1))))]
        machine = ir.While(test(f"{top} > 0"), [
            assign(top, ir.Prim("sub", (ir.Name(top), ir.Const(1)))),
            assign(a, ir.Item(ir.Name(starts), (ir.Name(top),))), assign(b, ir.Item(ir.Name(stops), (ir.Name(top),))),
            assign(slot, ir.Item(ir.Name(slots_of), (ir.Name(top),))),
            ir.If(test(f"{b} < 0"), release, segment, line)], line)
        return [ir.If(_name(checkpoint.spill), setup + [machine], self.adjoint_loop(loop), line)]

    def held_to_budget(self, body, line) -> list:
        """The function's tapes counted against the memory budget from its start (runtime's
        tape meter) and given back as it returns."""
        held = self.namer.fresh("held")
        self.namespace["end_tapes"] = HELPERS["end_tapes"]
        what = "half this machine's memory" if self.memory is None else "memory="
        start = [ir.Comment(f"tapes, held to the memory budget ({what})", 0),
                 ir.Assign(held, self.helper("start_tapes", ir.Const(self.budget)), 0)]
        return start + body + [ir.Verbatim(ast.parse(f"end_tapes({held})").body[0], line)]

    def snapshot(self, name, slot, checkpoint: _Checkpoint) -> tuple:
        """The index of a snapshot of `name`: a row of its snapshots where it is an array, spelled
        out (an item of the list where its shape may change)."""
        slot = ir.Name(slot) if isinstance(slot, str) else slot
        rank = 0 if name in self.numbers else self.ndims.get(name)
        return (slot,) if rank is None or name in checkpoint.reshaped else _spelled_out((slot,), rank + 1)

    @contextmanager
    def rebuilding(self, loop, checkpoint: _Checkpoint):
        """While the code of a checkpointed loop is made: its recomputed iterations restore the
        arrays it writes in place, as they rebuild an array made in them."""
        self.rebuilt = dict.fromkeys(checkpoint.arrays, id(loop))
        try:
            yield
        finally:
            self.rebuilt = {}

    def order_free(self, loop) -> bool:
        """True if iterations hand no adjoint to each other: every active carried value is
        a running sum (`s = s + t`), whose adjoint is the same in every iteration."""
        read = _values_read(loop.body)
        for s in ir.walk(loop.body):
            # by[i] = 0 after an overwrite, or by[i] read where another iteration adds to it
            if isinstance(s, ir.SetItem) and s.array in self.active \
                    and (not s.accumulate and s.array not in self.written_once or s.array in read):
                return False
        lasts = {last for c, last in loop.loop.carried.items() if c != last}
        for c, last in loop.loop.carried.items():
            if c in self.active and c != last:
                # a sum that starts as a number and grows into an array (s = 0, s = s + x[i])
                # hands the first iteration another adjoint (summed to a number) than the rest
                if not (c in self.numbers and last in self.numbers
                        or self.ndims.get(c) is not None and self.ndims.get(c) == self.ndims.get(last)):
                    return False
                chain = _unit_chain(loop.body, c)
                if chain is None or chain.get(last) != 1 or (lasts - {last}) & chain.keys():
                    return False
        return True


# ---- helpers ------------------------------------------------------------------------

def _replayed(loop) -> set:
    """The loops whose arrays are rebuilt when an iteration of `loop` is recomputed."""
    return {id(loop)} | {id(inner) for inner in ir.walk(loop.body) if isinstance(inner, (ir.For, ir.While))}


def _written_once(body) -> set:
    """Arrays made by np.empty (zeros, ones, full) and then written by one element write, at
    exactly the variables of the loops around it that are not around the array's making:
    each element is written once, so no adjoint reads its by[i] after the write's adjoint
    and that need not zero it — a fused loop's results (fusion.py) are such arrays."""
    made, writes, bound = {}, {}, Counter()
    for s, loops in ir.walk_in_loops(body):
        bound.update(ir.targets(s))
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Prim) and s.value.family == "np" \
                and s.value.op in ("empty", "zeros", "ones", "full"):
            made[s.target] = loops
        elif isinstance(s, ir.SetItem):
            writes.setdefault(s.array, []).append((s, loops))
    once = set()
    for array, sites in writes.items():
        if array not in made or bound[array] != 1 or len(sites) != 1:
            continue
        (s, loops), outer = sites[0], made[array]
        inner = loops[len(outer):]
        if len(loops) < len(outer) or any(a is not b for a, b in zip(loops, outer)) or not all(
                isinstance(loop, ir.For) and isinstance(loop.step, ir.Const) and loop.step.value != 0
                and loop.var not in ir.assigned_within(loop.body) for loop in inner):
            continue
        variables = [a.id for a in s.index if isinstance(a, ir.Name)]
        if len(variables) == len(s.index) == len(inner) and set(variables) == {loop.var for loop in inner}:
            once.add(array)
    return once


def _values_read(body) -> set:
    """Names whose values a body reads (an element write reads its index, not its array)."""
    return set().union(*(ir.reads(s) - ({s.array} if isinstance(s, ir.SetItem) else set()) for s in ir.walk(body)))


def _index(body, stmt) -> int:
    return next(k for k, s in enumerate(body) if s is stmt)


def _unit_chain(body, start):
    """Names whose value is `start` plus terms, each with coefficient d(name)/d(start)
    (+1, or -1 through `-`), following one iteration's code; None if `start` or a name in
    its chain is read any other way, which would make its adjoint iteration-dependent."""
    return _chain(body, {start: 1})


def _chain(stmts, coef):
    for s in stmts:
        if isinstance(s, ir.If):
            if ir.tree_names(s.test) & coef.keys():
                return None
            then, orelse = _chain(s.body, dict(coef)), _chain(s.orelse, dict(coef))
            if then is None or orelse is None or any(then[n] != orelse[n] for n in then.keys() & orelse.keys()):
                return None
            # a name one branch assigns from outside the chain (`a = x[i]` under the if, `a = a_old`
            # under the else) leaves it after the join
            replaced = {n for branch, chain in ((s.body, then), (s.orelse, orelse))
                        for n in ir.assigned_within(branch) if n not in chain}
            coef = {n: c for n, c in {**orelse, **then}.items() if n not in replaced}
            continue
        if isinstance(s, (ir.For, ir.While)):
            if (ir.reads_within(s.body) | ir.reads(s)) & coef.keys():
                return None
            # a name the loop assigns, or carries, from outside the chain (`a = x[j]` in an inner loop)
            # leaves it
            assigned = ir.assigned_within(s.body) | set(s.loop.carried)
            coef = {n: c for n, c in coef.items() if n not in assigned}
            continue
        hits = ir.reads(s) & coef.keys()
        if not hits:
            continue
        if not isinstance(s, ir.Assign) or len(hits) != 1:
            return None
        (name,) = hits
        value = s.value
        if isinstance(value, ir.Name):
            coef[s.target] = coef[name]
        elif (isinstance(value, ir.Prim) and value.op in ("add", "sub") and value.family == "op"
              and value.args.count(ir.Name(name)) == 1):
            first = value.args[0] == ir.Name(name)
            coef[s.target] = coef[name] if first or value.op == "add" else -coef[name]
        else:
            return None
    return coef


def _first_accumulations_assign(code, updated_in_place) -> list:
    """`bv = 0.0 … bv += e` becomes `bv = e` when nothing in between touches bv: the
    adjoint sweep then reads like a hand derivation (`bd = bf; bc = bd / (2 * d)`), the
    compiler need not keep `0.0 + e`, which IEEE signed zeros forbid it to simplify, and
    an array adjoint is not zeroed first.  Every contribution has its variable's shape
    (broadcasts are summed back) and whole-array accumulations are never in place, so `bv`
    may share `e`'s array — unless either is updated element by element."""
    out, drop, zeroed = list(code), set(), {}
    for i, s in enumerate(code):
        if isinstance(s, ir.Assign) and (s.value == ir.Const(0.0) or isinstance(s.value, ir.Opaque)
                                         and s.value.name == "zero_like"):
            zeroed[s.target] = i
            continue
        if isinstance(s, ir.Assign) and s.target in zeroed and isinstance(s.value, ir.Prim) \
                and s.value.op == "add" and s.value.args[0] == ir.Name(s.target) \
                and s.value.args[1] != ir.Name(s.target) \
                and not ({s.target} | ir.value_reads(s.value)) & updated_in_place:
            out[i] = ir.Assign(s.target, s.value.args[1], s.line)
            drop.add(zeroed.pop(s.target))
            continue
        for name in _mentioned(s):
            zeroed.pop(name, None)
    return [s for i, s in enumerate(out) if i not in drop]


def _mentioned(s) -> set:
    return set().union(*(set(ir.targets(t)) | ir.reads(t) for t in ir.walk([s])))

def _owned(name, code) -> bool:
    """Whether every array `name` is given is made for it: its own zeros, a new array, or
    a temporary holding a new array that nothing else reads."""
    values, reads = {}, Counter()
    for s in ir.walk(code):
        if isinstance(s, ir.Assign):
            values.setdefault(s.target, []).append(s.value)
        reads.update(ir.reads(s))

    def owned(n):
        return all(isinstance(v, ir.Opaque) and v.name == "zero_like"
                   or isinstance(v, ir.Prim) and makes_new_array(v.op)
                   or isinstance(v, ir.Name) and v.id != n and reads[v.id] == 1 and owned(v.id)
                   for v in values.get(n, ()))
    return owned(name)



def _spelled_out(index, ndim) -> tuple:
    """`x[i]` of a matrix as `x[i, :]`: the generated code adds a row's adjoint into a view
    (emit.py) only where the index shows it is one."""
    if ndim is None or len(index) >= ndim or any(isinstance(i, ir.Const) and not isinstance(i.value, int)
                                                 for i in index):
        return index
    return index + (ir.Slice(),) * (ndim - len(index))


def _accumulate(target: str, value, line) -> ir.Assign:
    return ir.Assign(target, ir.Prim("add", (ir.Name(target), value)), line)


_TAPES = {"new_tape", "step_tape", "array_tape", "grown", "step_grown"}


def tapes_made(body) -> set:
    """The names a body binds to tapes (runtime's new_tape, grown, …)."""
    return {s.target for s in ir.walk(body)
            if isinstance(s, ir.Assign) and isinstance(s.value, ir.Opaque) and s.value.name in _TAPES}


def _tape(replay) -> str:
    """The helper making a tape: held until the adjoint returns, or, made in an iteration
    the adjoint recomputes (`replay`), dropped with it."""
    return "new_tape" if replay is None else "step_tape"


def _grown(replay) -> str:
    return "grown" if replay is None else "step_grown"


def _name(identifier):
    return ast.Name(identifier, ast.Load())


def _atom_tree(atom):
    return _name(atom.id) if isinstance(atom, ir.Name) else ast.Constant(atom.value)


def _natural(name):
    return (len(name), name)


def _loop_control(loop) -> set:
    """What running the loop again reads: its bounds or test, and its exit flag."""
    return ir.reads(loop) | ({loop.loop.exit_flag} if loop.loop.exit_flag else set())


def _walk_guarded(body, guards=frozenset()):
    """(statement, the names the tests and loop controls around it read), for every statement."""
    for s in body:
        yield s, guards
        if isinstance(s, ir.If):
            inner = guards | ir.tree_names(s.test)
            yield from _walk_guarded(s.body, inner)
            yield from _walk_guarded(s.orelse, inner)
        elif isinstance(s, (ir.For, ir.While)):
            yield from _walk_guarded(s.body, guards | _loop_control(s))


def _homes(body, loop_id, home):
    for s in body:
        for t in ir.targets(s):
            home[t] = loop_id
        if isinstance(s, ir.If):
            _homes(s.body, loop_id, home)
            _homes(s.orelse, loop_id, home)
        elif isinstance(s, (ir.For, ir.While)):
            for c in s.loop.carried:
                home[c] = loop_id
            if isinstance(s, ir.For):
                home[s.var] = id(s)
            _homes(s.body, id(s), home)


def _branches(body) -> dict:
    """name -> the innermost `if` branch, as (id of the If, 0 or 1), holding every
    assignment of the name in its loop iteration (or function body), as a path from the
    outermost branch; an empty path for a name also set outside any branch."""
    paths = {}

    def define(name, path):
        old = paths.get(name, path)
        common = next((k for k, (a, b) in enumerate(zip(old, path)) if a != b), min(len(old), len(path)))
        paths[name] = old[:common]

    def visit(body, path, carried):
        for s in body:
            for t in set(ir.targets(s)) - carried:
                define(t, path)
            if isinstance(s, ir.If):
                visit(s.body, path + ((id(s), 0),), carried)
                visit(s.orelse, path + ((id(s), 1),), carried)
            elif isinstance(s, (ir.For, ir.While)):
                for c in s.loop.carried:        # set where the loop starts, updated by each iteration
                    define(c, path)
                visit(s.body, (), set(s.loop.carried))
    visit(body, (), set())
    return paths


def _read_outside_branch(body, branch) -> set:
    """Names set only inside a branch (`branch`: see _branches) that a statement outside
    that branch reads."""
    names = set()

    def visit(body, path, regions):
        """`regions`: (names a loop iteration assigns, the path of the read within it), from
        the innermost loop out; branch paths are relative to the region that sets the name."""
        for s in body:
            for name in ir.reads(s):
                own = branch.get(name)
                where = next((p for assigned, p in regions if name in assigned), path)
                if own and where[:len(own)] != own:
                    names.add(name)
            if isinstance(s, ir.If):
                visit(s.body, path + ((id(s), 0),), [(a, p + ((id(s), 0),)) for a, p in regions[:1]] + regions[1:])
                visit(s.orelse, path + ((id(s), 1),), [(a, p + ((id(s), 1),)) for a, p in regions[:1]] + regions[1:])
            elif isinstance(s, (ir.For, ir.While)):
                inner = ir.assigned_within(s.body) - set(s.loop.carried)
                visit(s.body, path, [(inner, ())] + [(a, p) for a, p in regions])
    visit(body, (), [])
    return names


def _loop_names(body) -> set:
    return {c for s in ir.walk(body) if isinstance(s, (ir.For, ir.While)) for c in s.loop.carried}


def prune(body, live) -> tuple:
    """Drop statements whose results nobody reads: backward liveness over structured code.
    Returns the kept statements and the names live before them.  An element write is
    dropped only into a tape nobody reads (a tape is its own array, never a view of another):
    a loop records a carried value the adjoint sweep turns out not to read (a running sum
    whose final value only is read)."""
    return _pruned(body, set(live), tapes_made(body))


def _pruned(body, live, tapes) -> tuple:
    out = []
    for s in reversed(body):
        if isinstance(s, ir.Assign):
            if s.target not in live:
                continue
            live.discard(s.target)
            live |= ir.value_reads(s.value)
        elif isinstance(s, ir.Unpack):
            if not set(s.targets) & live:
                continue
            live -= set(s.targets)
            live |= ir.value_reads(s.value)
        elif isinstance(s, ir.SetItem):
            if s.array in tapes and s.array not in live:
                continue
            live |= ir.reads(s)
        elif isinstance(s, ir.If):
            body_kept, live_body = _pruned(s.body, set(live), tapes)
            else_kept, live_else = _pruned(s.orelse, set(live), tapes)
            if not body_kept and not else_kept:
                continue
            s = ir.If(s.test, body_kept, else_kept, s.line)
            live = live_body | live_else | ir.tree_names(s.test)
        elif isinstance(s, (ir.For, ir.While)):
            inside = set(live)
            while True:
                kept, live_in = _pruned(s.body, inside | ir.reads(s), tapes)
                if live_in <= inside:
                    break
                inside |= live_in
            if not any(not isinstance(k, (ir.Break,)) for k in ir.walk(kept)):
                continue
            s = ir.For(s.var, s.start, s.stop, s.step, kept, s.line) if isinstance(s, ir.For) \
                else ir.While(s.test, kept, s.line)
            live = inside | ir.reads(s)
            if isinstance(s, ir.For):
                live.discard(s.var)
        else:
            live |= ir.reads(s)
        out.append(s)
    out.reverse()
    return out, live
