"""Restructuring before reversal: one exit per region, one assignment per name per region.

1. Exits.  `return`, `break` and `continue` inside branches and loops become flag
   assignments; the rest of the enclosing block runs under `if <flag>:` and a loop ends
   with `if <stop>: break`.  Afterwards every loop iteration runs its body from the top
   to the bottom, and the function ends at a single `return`.

2. Single assignment.  Within a region (the function body, or one iteration of a loop
   body) every name is assigned once: a reassigned `x` becomes `x_2`, `x_3`, …  and
   branches assign the same name in both arms.  A name a loop body reassigns is
   *carried*: the body reads it under one name at entry and the version it holds at the
   end goes back into that name between iterations (`LoopInfo.carried`).  So the adjoint
   of a region can read every value the region computed, and a loop only has to restore
   its carried values to re-run an iteration.
"""
from __future__ import annotations

import ast
from dataclasses import replace

from .. import ir
from ..errors import at_line, unsupported
from ..names import Namer


def single_exit_single_assignment(function: ir.Function) -> ir.Function:
    namer = Namer(ir.all_names(function))
    body = _Exits(function, namer).run()
    body = _SingleAssignment(function, namer).run(body)
    return replace(function, body=body)


# ---- 1. exits ----------------------------------------------------------------------

class _Region:
    def __init__(self, go: str, stop: str | None):
        self.go, self.stop, self.used = go, stop, False


class _Exits:
    def __init__(self, function: ir.Function, namer: Namer):
        self.fn, self.namer = function, namer
        returns = [s for s in ir.walk(function.body) if isinstance(s, ir.Return)]
        self.simple = len(returns) == 1 and function.body and function.body[-1] is returns[0]
        self.results = None if self.simple else [
            namer.fresh("result" if function.n_outputs == 1 else f"result{k + 1}") for k in range(function.n_outputs)]
        self.tuple_result = returns[0].tuple_result

    def run(self) -> list:
        if self.simple:
            return self.block(self.fn.body, [])
        top = _Region(self.namer.fresh("running"), None)
        body = self.block(self.fn.body, [top])
        line = self.fn.body[-1].line
        # Results start defined, so every path (and every loop iteration) has a value to carry.
        start = [ir.Assign(r, ir.Const(0.0), line) for r in self.results]
        return (start + [ir.Assign(top.go, ir.Const(True), line)] + body
                + [ir.Return(tuple(ir.Name(r) for r in self.results), self.tuple_result, line)])

    def block(self, stmts, regions) -> list:
        out = []
        for i, s in enumerate(stmts):
            new, exits = self.statement(s, regions)
            out.extend(new)
            rest = stmts[i + 1:]
            if exits and rest and regions:
                guarded = self.block(rest, regions)
                if guarded:
                    out.append(ir.If(_name(regions[-1].go), guarded, [], rest[0].line))
                break
        return out

    def statement(self, s, regions):
        """(replacement statements, whether they may leave the rest of the block unrun)."""
        if isinstance(s, ir.Return) and not self.simple:
            new = [ir.Assign(r, v, s.line) for r, v in zip(self.results, s.values)]
            for region in regions:
                region.used = True
                new.append(ir.Assign(region.go, ir.Const(False), s.line))
                if region.stop:
                    new.append(ir.Assign(region.stop, ir.Const(True), s.line))
            return new, True
        if isinstance(s, (ir.Break, ir.Continue)):
            loop = regions[-1]
            loop.used = True
            new = [ir.Assign(loop.go, ir.Const(False), s.line)]
            if isinstance(s, ir.Break):
                new.append(ir.Assign(loop.stop, ir.Const(True), s.line))
            return new, True
        if isinstance(s, ir.If):
            before = [r.used for r in regions]
            body, orelse = self.block(s.body, regions), self.block(s.orelse, regions)
            exits = any(r.used and not b for r, b in zip(regions, before)) or _sets_flags(body + orelse, regions)
            return [ir.If(s.test, body, orelse, s.line)], exits
        if isinstance(s, (ir.For, ir.While)):
            loop = _Region(self.namer.fresh("going"), self.namer.fresh("stopped"))
            outer_used = [r.used for r in regions]
            body = self.block(s.body, regions + [loop])
            if not loop.used:
                return [_with_body(s, body)], _sets_flags(body, regions)
            body = [ir.Assign(loop.go, ir.Const(True), s.line)] + body + [
                ir.If(_name(loop.stop), [ir.Break(s.line)], [], s.line)]
            exits = any(r.used and not u for r, u in zip(regions, outer_used)) or _sets_flags(body, regions)
            return [ir.Assign(loop.stop, ir.Const(False), s.line), _with_body(s, body)], exits
        return [s], False


def _sets_flags(body, regions) -> bool:
    flags = {r.go for r in regions}
    return any(isinstance(s, ir.Assign) and s.target in flags for s in ir.walk(body))


def _with_body(loop, body):
    return replace(loop, body=body)


def _name(identifier: str) -> ast.expr:
    return ast.Name(identifier, ast.Load())


# ---- 2. single assignment -------------------------------------------------------------

class _RenameLoads(ast.NodeTransformer):
    def __init__(self, env):
        self.env = env

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.env:
            return ast.copy_location(ast.Name(self.env[node.id], ast.Load()), node)
        return node


class _SingleAssignment:
    def __init__(self, function: ir.Function, namer: Namer):
        self.fn, self.namer = function, namer
        self.claimed = set(function.params)
        self.undefined = set()

    def version(self, name: str) -> str:
        """The first assignment keeps the user's name; later ones get `x_2`, `x_3`, …"""
        if name not in self.claimed:
            self.claimed.add(name)
            return name
        return self.namer.fresh(name)

    def run(self, body) -> list:
        self.reads = _read_counts(body)
        env = {p: p for p in self.fn.params}
        return self.block(body, env)

    def atom(self, a, env):
        return ir.Name(env.get(a.id, a.id)) if isinstance(a, ir.Name) else a

    def tree(self, node, env):
        import copy
        return _RenameLoads(env).visit(copy.deepcopy(node))

    def expr(self, e, env):
        atom = lambda a: self.atom(a, env)
        if isinstance(e, (ir.Name, ir.Const)):
            return atom(e)
        if isinstance(e, ir.Prim):
            return ir.Prim(e.op, tuple(map(atom, e.args)), e.family)
        if isinstance(e, ir.Call):
            return ir.Call(e.callee, tuple(map(atom, e.args)))
        if isinstance(e, ir.Opaque):
            return ir.Opaque(e.name, tuple(map(atom, e.args)), e.node)
        if isinstance(e, ir.Item):
            return ir.Item(atom(e.array), ir.map_index(e.index, atom))
        if isinstance(e, ir.Passive):
            return ir.Passive(self.tree(e.expr, env))
        raise TypeError(e)

    def block(self, stmts, env) -> list:
        out = []
        for s in stmts:
            out.extend(self.statement(s, env))
        return out

    def statement(self, s, env) -> list:
        if isinstance(s, ir.Assign):
            value = self.expr(s.value, env)
            env[s.target] = self.version(s.target)
            return [ir.Assign(env[s.target], value, s.line)]
        if isinstance(s, ir.Unpack):
            call = self.expr(s.value, env)
            targets = []
            for t in s.targets:
                env[t] = self.version(t)
                targets.append(env[t])
            return [ir.Unpack(tuple(targets), call, s.line)]
        if isinstance(s, ir.If):
            return self.branch(s, env)
        if isinstance(s, (ir.For, ir.While)):
            return self.loop(s, env)
        if isinstance(s, ir.SetItem):         # writes change the array in place: no new version
            atom = lambda a: self.atom(a, env)
            return [ir.SetItem(env.get(s.array, s.array), ir.map_index(s.index, atom), atom(s.value), s.line,
                               s.accumulate)]
        if isinstance(s, ir.Return):
            return [ir.Return(tuple(self.atom(a, env) for a in s.values), s.tuple_result, s.line)]
        if isinstance(s, ir.Verbatim):
            return [ir.Verbatim(self.tree(s.stmt, env), s.line)]
        return [s]

    def branch(self, s: ir.If, env) -> list:
        out = []
        test = self.tree(s.test, env)
        if not isinstance(test, ast.Name):       # the adjoint re-reads the decision, so name it
            cond = self.namer.fresh("cond")
            out.append(ir.Assign(cond, ir.Passive(test), s.line))
            test = _name(cond)
        env_body, env_else = dict(env), dict(env)
        body, orelse = self.block(s.body, env_body), self.block(s.orelse, env_else)
        for name in sorted(set(env_body) | set(env_else)):
            a, b = env_body.get(name), env_else.get(name)
            if a == b:
                env[name] = a
                continue
            if a is None or b is None:                 # assigned on one path only
                env[name] = a or b
                continue
            if a in self.undefined or b in self.undefined:
                raise unsupported(f"'{name}' is assigned in a loop on some paths only and is first assigned "
                                  "inside the loop; assign it before the loop", self.fn.filename,
                                  at_line(s.line))
            merged = self.version(name)
            body.append(ir.Assign(merged, ir.Name(a), s.line))
            orelse.append(ir.Assign(merged, ir.Name(b), s.line))
            env[name] = merged
        return out + [ir.If(test, body, orelse, s.line)]

    def loop(self, s, env) -> list:
        body = list(s.body)
        exit_flag = None
        if body and isinstance(body[-1], ir.If) and body[-1].body and isinstance(body[-1].body[0], ir.Break):
            exit_flag = body.pop().test.id            # the `if stopped: break` the exit pass added
        assigned = ir.assigned_within(body)
        if isinstance(s, ir.For):
            assigned.discard(s.var)
        # Carried: what the next iteration or the code after the loop reads.
        reads_inside = _read_counts(body)
        read_elsewhere = {n for n, c in self.reads.items() if c > reads_inside[n]}
        exposed = ir.exposed_reads(body) | (ir.tree_names(s.test) if isinstance(s, ir.While) else set())
        assigned &= read_elsewhere | exposed
        if isinstance(s, ir.For) and s.var in read_elsewhere:
            assigned.add(s.var)      # read after the loop: keeps its old value if no iteration runs
        out, carried_entry = [], {}
        inner = dict(env)
        for name in sorted(assigned):
            carried = self.version(name)
            inner[name] = carried
            if name in env and env[name] not in self.undefined:
                out.append(ir.Assign(carried, ir.Name(env[name]), s.line))
            else:           # no value before the first iteration (an outer loop's, where it has none yet)
                self.undefined.add(carried)
            carried_entry[name] = carried
        self.check_defined_before_read(body, assigned, env, s)
        if isinstance(s, ir.For):
            start, stop, step = (self.atom(a, env) for a in (s.start, s.stop, s.step))
            var = self.version(s.var)
            inner[s.var] = var
            new_body = self.block(body, inner)
            loop = ir.For(var, start, stop, step, new_body, s.line)
            env[s.var] = var
        else:
            test = self.tree(s.test, inner)
            new_body = self.block(body, inner)
            loop = ir.While(test, new_body, s.line)
        carried = {carried_entry[n]: inner[n] for n in sorted(assigned)}
        loop.loop = ir.LoopInfo(carried, exit_flag and carried_entry.get(exit_flag, exit_flag))
        for name in assigned:
            env[name] = carried_entry[name]
        return out + [loop]

    def check_defined_before_read(self, body, assigned, env, loop):
        """A name first assigned in a loop and read before that in an iteration would need a
        value from an iteration that may not exist; ask the user to initialise it."""
        written = {loop.var} if isinstance(loop, ir.For) else set()

        def visit(stmts):
            for s in stmts:
                for name in ir.reads(s):
                    if name in assigned and name not in env and name not in written:
                        raise unsupported(f"'{name}' is read in this loop before it is assigned in the same "
                                          "iteration; assign it before the loop", self.fn.filename, at_line(loop.line))
                if isinstance(s, ir.Assign):
                    written.add(s.target)
                elif isinstance(s, ir.Unpack):
                    written.update(s.targets)
                elif isinstance(s, ir.If):
                    visit(s.body)
                    visit(s.orelse)
                elif isinstance(s, ir.For) and s.var not in written:
                    written.add(s.var)          # within an inner loop, its variable is set
                    visit(s.body)
                    written.discard(s.var)
                elif isinstance(s, (ir.For, ir.While)):
                    visit(s.body)
        visit(body)


def _read_counts(body):
    from collections import Counter
    return Counter(name for s in ir.walk(body) for name in ir.reads(s))
