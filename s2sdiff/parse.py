"""Stage 1 — parse: read a function's source into an AST and resolve its free names.

Accepts a plain function, a `numba.njit` dispatcher, or anything s2sdiff returned (all
carry `.py_func`).  Generated code is registered in `linecache`, so s2sdiff reads its own
output like user code: that is what lets the transforms compose.
"""
from __future__ import annotations

import ast
import builtins
import copy
import inspect
import re
import textwrap
import types
from dataclasses import dataclass, field

from .errors import S2SDiffError, unsupported


@dataclass
class ParsedFunction:
    py_func: types.FunctionType
    tree: ast.FunctionDef          # positions are the real file's lines and columns
    filename: str
    params: list[str]
    defaults: dict[str, object]
    local_names: set[str]          # parameters and every name assigned in the body
    closure: dict[str, object] = field(default_factory=dict)
    output: object = None          # a returned dict or list: its structure (desugar, structures.Node)
    changed: tuple = ()            # parameters it changes in place, copied on entry (desugar.in_place)
    returns_changed: bool = False  # it returns nothing: its outputs are those parameters' final values

    @property
    def name(self) -> str:
        return self.tree.name

    @property
    def globals(self) -> dict:
        return self.py_func.__globals__

    def lookup(self, name: str):
        """Value of a free name: closure cell, then module global, then builtin."""
        if name in self.closure:
            return self.closure[name]
        if name in self.globals:
            return self.globals[name]
        if hasattr(builtins, name):
            return getattr(builtins, name)
        raise KeyError(name)

    def resolve(self, node):
        """The object a free name or dotted chain of free names denotes, or None."""
        return resolved(node, self.local_names, self.lookup)

    def error(self, message: str, node: ast.AST):
        return unsupported(message, self.filename, node)


def resolved(node, local, lookup):
    """The object `node` denotes where it is a name not in `local` (found by `lookup`) or a
    dotted chain on one (`np.linalg.det`), else None."""
    if isinstance(node, ast.Name):
        if node.id in local:
            return None
        try:
            return lookup(node.id)
        except KeyError:
            return None
    if isinstance(node, ast.Attribute):
        base = resolved(node.value, local, lookup)
        return None if base is None else getattr(base, node.attr, None)
    return None


def python_function(f) -> types.FunctionType:
    """The plain Python function behind f (an njit dispatcher or an s2sdiff object)."""
    seen = 0
    while not isinstance(f, types.FunctionType) and hasattr(f, "py_func") and seen < 8:
        f, seen = f.py_func, seen + 1
    if not isinstance(f, types.FunctionType):
        raise S2SDiffError(f"s2sdiff differentiates Python functions; got {type(f).__name__} {f!r}")
    return f


def parse_function(f) -> ParsedFunction:
    func = python_function(f)
    code = func.__code__
    lifted = getattr(func, "s2sdiff_tree", None)
    if lifted is not None:          # a nested function desugar lifted: its file holds it before lifting
        return _parsed(func, copy.deepcopy(lifted), func.s2sdiff_filename)
    try:
        lines, first_line = inspect.getsourcelines(func)
    except (OSError, TypeError) as exc:
        shipped = " cloudpickle sent it by value without its file: send the transform (sd.grad(f)), which " \
            "carries its source, instead of f." if code.co_filename == "<dynamic-code>" else ""
        raise S2SDiffError(
            f"cannot read the source of {func.__qualname__} (defined in {code.co_filename}): {exc}.{shipped} "
            "s2sdiff needs a function defined in a file (or through s2sdiff itself); "
            "for a function without source use sd.estimate."
        ) from None
    text = "".join(lines)
    indent = len(text) - len(text.lstrip(" \t"))
    try:
        module = ast.parse(textwrap.dedent(text))
    except SyntaxError:
        module = None
    tree = _find_definition(module, func) if module is not None else None
    if tree is None:
        raise S2SDiffError(
            f"cannot isolate the definition of {func.__qualname__} in {code.co_filename}, "
            f"line {first_line}: define it with `def` (or as the only lambda on its line)"
        )
    _shift_positions(tree, first_line - 1, indent)
    filename = code.co_filename
    origin = getattr(func, "s2sdiff_origin", None)
    if origin is not None:                 # code s2sdiff generated: positions in the user's code
        filename = origin.__code__.co_filename
        _user_positions(tree, lines, first_line, origin.__code__.co_firstlineno)
    if isinstance(tree, ast.Lambda):
        tree = _lambda_as_def(tree, "f")   # `<lambda>` is no identifier
    return _parsed(func, tree, filename)


def _parsed(func, tree, filename) -> ParsedFunction:
    code = func.__code__
    tree.decorator_list = []
    args = tree.args
    for bad, what in ((args.vararg, "*args"), (args.kwarg, "**kwargs")):
        if bad is not None:
            raise unsupported(f"{what} parameters are not supported", filename, bad)
    if args.kwonlyargs:
        raise unsupported("keyword-only parameters are not supported", filename, args.kwonlyargs[0])
    params = [a.arg for a in args.posonlyargs + args.args]
    defaults = dict(zip(params[len(params) - len(func.__defaults__ or ()):], func.__defaults__ or ()))
    closure = {}
    if func.__closure__:
        for name, cell in zip(code.co_freevars, func.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:  # an empty cell: a name the enclosing function binds later
                pass
    return ParsedFunction(func, tree, filename, params, defaults, set(params) | assigned_names(tree), closure)


def _find_definition(module: ast.Module, func: types.FunctionType):
    name = func.__name__
    if name == "<lambda>":
        wanted = list(func.__code__.co_varnames[: func.__code__.co_argcount])
        found = [n for n in ast.walk(module) if isinstance(n, ast.Lambda)
                 and [a.arg for a in n.args.posonlyargs + n.args.args] == wanted]
        return found[0] if len(found) == 1 else None
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def _lambda_as_def(node: ast.Lambda, name: str) -> ast.FunctionDef:
    ret = ast.copy_location(ast.Return(value=node.body), node.body)
    fdef = ast.FunctionDef(name=name, args=node.args, body=[ret], decorator_list=[], returns=None,
                           type_params=[])
    return ast.copy_location(fdef, node)


def _shift_positions(tree: ast.AST, line_offset: int, col_offset: int) -> None:
    for node in ast.walk(tree):
        if hasattr(node, "lineno"):
            first = node.lineno
            node.lineno += line_offset
            node.end_lineno = (node.end_lineno or first) + line_offset
            node.col_offset += col_offset
            if node.end_col_offset is not None:
                node.end_col_offset += col_offset


_USER_LINE = re.compile(r"\s*# line (\d+): ")


def _user_positions(tree: ast.AST, lines: list, first_line: int, def_line: int) -> None:
    """Give the nodes of generated code the user's line each came from, which the comment
    `# line N: ...` above its group of statements names (the definition's line before the
    first); a node then stands for its whole line (its columns are the generated code's)."""
    user_line, lines_of = def_line, {}
    for offset, text in enumerate(lines):
        found = _USER_LINE.match(text)
        if found:
            user_line = int(found.group(1))
        lines_of[first_line + offset] = user_line
    for node in ast.walk(tree):
        if hasattr(node, "lineno"):
            node.lineno = lines_of.get(node.lineno, def_line)
            node.end_lineno = lines_of.get(node.end_lineno, node.lineno)
            node.whole_line = True


def assigned_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names
