"""Errors raised by s2sdiff, each naming the user's file, line and code."""
from __future__ import annotations

import ast
import linecache


class S2SDiffError(ValueError):
    """Base class of every error s2sdiff raises about a transform or its options."""


class UnsupportedError(S2SDiffError):
    """A construct outside the differentiable language (DESIGN §2), found at transform time."""


class MemoryBudgetExceeded(S2SDiffError, MemoryError):
    """A reverse-mode loop whose state does not fit the memory budget even in the one
    snapshot checkpointing needs: raised before anything is allocated."""


class DerivativeMismatch(S2SDiffError):
    """check=True found a derivative that disagrees with differences of the function, or
    forward mode disagreeing with reverse mode (selfcheck.py)."""


def source_excerpt(filename: str, node: ast.AST | None, line_offset: int = 0) -> str:
    """`File "f.py", line 12` plus the offending line with a caret under the construct."""
    if node is None or not hasattr(node, "lineno"):
        return f'  File "{filename}"'
    line = node.lineno + line_offset
    text = linecache.getline(filename, line).rstrip("\n")
    stripped = text.lstrip()
    indent = len(text) - len(stripped)
    column = indent if getattr(node, "whole_line", False) else node.col_offset
    out = f'  File "{filename}", line {line}, column {column + 1}'
    if not text:
        return out
    start = max(column - indent, 0)
    end_col = getattr(node, "end_col_offset", None)
    if getattr(node, "end_lineno", node.lineno) != node.lineno or end_col is None or getattr(node, "whole_line", False):
        end_col = len(text)
    width = max(end_col - column, 1)
    return f"{out}\n    {stripped}\n    {' ' * start}{'^' * width}"


def at_line(line: int) -> ast.AST:
    """A stand-in node for a whole source line, for errors found after the AST is gone."""
    node = ast.Pass()
    node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = line, 0, line, None
    node.whole_line = True
    return node


def unsupported(message: str, filename: str, node: ast.AST | None, line_offset: int = 0) -> UnsupportedError:
    return UnsupportedError(f"{message}\n{source_excerpt(filename, node, line_offset)}")
