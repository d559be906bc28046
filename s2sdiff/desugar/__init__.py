"""Stage 2a — desugar: the Python people write, rewritten into the plainer Python that
normalize lowers (DESIGN §2).  Each pass is AST → AST and has one concern:

    statements  imports, `global`, `del`, assert and print messages, free constants
    functions   nested `def`s and lambdas lifted to functions of their own
    containers  tuples and lists of a fixed length as named items; comprehensions as
                loops filling a new array; sum/max/min/any/all over a generator as loops
    iteration   `for a in x`, enumerate, zip, reversed: loops over range(len(...))
    in_place    parameters the function changes in place copied on entry; a function
                returning nothing gives their final values
    recursion   a recursive function called with constant integers: copies specialized
                on them, unrolled to the base case

New nodes carry the position of the user's code they stand for, so normalize's errors
still name the user's line.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import replace

from ..parse import ParsedFunction, assigned_names
from . import containers, functions, in_place, iteration, recursion, statements
from .scope import Scope


def desugar(parsed: ParsedFunction) -> ParsedFunction:
    tree = copy.deepcopy(parsed.tree)
    scope = Scope(parsed, tree)
    for rewrite in (statements.rewrite, functions.lift, containers.rewrite, iteration.rewrite, in_place.rewrite,
                    recursion.rewrite):
        tree.body = rewrite(tree.body, scope)
        scope.refresh()
    ast.fix_missing_locations(tree)
    local = (set(parsed.params) | assigned_names(tree)) - set(scope.free)
    return replace(parsed, tree=tree, local_names=local, closure={**parsed.closure, **scope.free},
                   output=scope.output, changed=scope.changed, returns_changed=scope.returns_changed)
