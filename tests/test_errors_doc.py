"""docs/errors.md stays true: every row of its error tables is run here.

Each row must raise the exception it names with a message containing the fragment it
quotes; an error found at transform time must also name the example's file and line and,
for UnsupportedError, show that line with a caret under it.
"""
from __future__ import annotations

import importlib.util
import itertools
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import s2sdiff as sd
from s2sdiff.__main__ import main as cli

DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
TEXT = DOC.read_text(encoding="utf-8")
EXCEPTIONS = {"UnsupportedError": sd.UnsupportedError, "S2SDiffError": sd.S2SDiffError,
              "TypeError": TypeError, "ValueError": ValueError, "SystemExit": SystemExit,
              "LinAlgError": np.linalg.LinAlgError}
SIGNATURE = "def f(x, v, A, n):"     # what an example without its own `def` is the body of
ERROR_COLUMNS = {"exception", "message contains"}
# The conventions and inf/nan tables, checked row by row in tests/test_nonfinite.py.
OTHER_TABLES = {("function, point", "s2sdiff", "JAX"), ("function, point", "value", "derivative")}
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_module_numbers = itertools.count()


@dataclass
class Row:
    doc_line: int
    header: tuple
    cells: dict

    def only(self, column) -> str:
        (span,) = code_spans(self.cells[column])
        return span

    @property
    def id(self) -> str:
        what = self.cells.get("construct") or self.cells.get("error")
        return f"L{self.doc_line}-" + re.sub(r"\W+", "_", what).strip("_")[:50]


def code_spans(cell: str) -> list:
    """The contents of a cell's `code spans`, with CommonMark's padding rule: one space is
    stripped from each end when both ends have one (so ``a `b` c`` can hold backticks)."""
    spans = []
    for match in _CODE_SPAN.finditer(cell):
        text = match.group(2)
        if len(text) > 2 and text[0] == text[-1] == " " and text.strip():
            text = text[1:-1]
        spans.append(text)
    return spans


def _cells(line: str) -> list:
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]


def table_rows(text: str) -> list:
    rows, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\|(\s*-+\s*\|)+", lines[i + 1]):
            header = tuple(_cells(lines[i]))
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(Row(i + 1, header, dict(zip(header, _cells(lines[i])))))
                i += 1
            continue
        i += 1
    return rows


def code_block(after: str) -> str:
    """The first fenced code block after the text `after`."""
    return re.compile(r"```\w*\n(.*?)```", re.S).search(TEXT, TEXT.index(after)).group(1)


ROWS = table_rows(TEXT)
ERROR_ROWS = [r for r in ROWS if ERROR_COLUMNS <= set(r.header)]
USER_ROWS = [r for r in ERROR_ROWS if "example" in r.cells]
CALL_ROWS = [r for r in ERROR_ROWS if "call" in r.cells]
COMMAND_ROWS = [r for r in ERROR_ROWS if "command" in r.cells]
HELPERS = code_block("Helpers the examples use:")
MODEL = code_block("A full example. `model.py`:")


def load(directory: Path, source: str, name: str | None = None):
    """(module, path): `source` written to a .py file in `directory` and imported."""
    name = name or f"errors_doc_{next(_module_numbers)}"
    path = directory / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path


def example(row: Row) -> tuple:
    """(module source, line number in it of the line the message must point at)."""
    pieces = row.cells["example"].split("<br>")
    lines = [code_spans(piece) for piece in pieces]
    assert all(len(spans) == 1 for spans in lines), f"docs/errors.md:{row.doc_line}: one code span per line"
    lines = [spans[0] for spans in lines]
    marked = [k for k, piece in enumerate(pieces) if "◀" in piece]
    assert len(marked) <= 1, f"docs/errors.md:{row.doc_line}: at most one ◀"
    whole = lines[0].startswith(("def ", "async def ")) and all(line[:1].isspace() for line in lines[1:])
    prefix = HELPERS + "\n\n" + ("" if whole else SIGNATURE + "\n")
    body = lines if whole else ["    " + line for line in lines]
    return prefix + "\n".join(body) + "\n", prefix.count("\n") + 1 + (marked[0] if marked else 0)


def assert_raises_as_documented(row: Row, run):
    expected = EXCEPTIONS[row.only("exception")]
    with pytest.raises(BaseException) as info:
        run()
    assert type(info.value) is expected, f"docs/errors.md:{row.doc_line}: {type(info.value).__name__}: {info.value}"
    message = str(info.value)
    assert row.only("message contains") in message, f"docs/errors.md:{row.doc_line}: {message}"
    return message


def test_the_tables_were_found():
    assert len(USER_ROWS) > 80 and len(CALL_ROWS) > 60 and len(COMMAND_ROWS) == 3
    for row in ROWS:       # a table this test does not know would go unchecked
        assert row in ERROR_ROWS or row.header in OTHER_TABLES, f"docs/errors.md:{row.doc_line}"
    for row in ERROR_ROWS:
        assert sum(column in row.cells for column in ("example", "call", "command")) == 1
        assert row.only("exception") in EXCEPTIONS


@pytest.mark.parametrize("row", USER_ROWS, ids=[r.id for r in USER_ROWS])
def test_user_code_row(row, tmp_path):
    needs = re.search(r"Python (\d+)\.(\d+)\+", row.cells["construct"])
    if needs and sys.version_info < tuple(map(int, needs.groups())):
        pytest.skip(f"syntax of Python {needs.group(1)}.{needs.group(2)}")
    source, line = example(row)
    module, path = load(tmp_path, source)
    message = assert_raises_as_documented(row, lambda: eval(row.only("transform"), vars(module)))
    assert str(path) in message and re.search(rf"line {line}\b", message), message
    if row.only("exception") == "UnsupportedError":
        assert f'File "{path}", line {line}, column ' in message
        shown = source.splitlines()[line - 1].strip()
        assert re.search(rf"\n    {re.escape(shown)}\n +\^+$", message), message
    forward = code_spans(row.cells.get("forward mode", ""))
    if forward:                                   # what forward mode gives where reverse mode refuses
        call, result = forward
        np.testing.assert_allclose(eval(call, vars(module)), eval(result), rtol=1e-15)


@pytest.mark.parametrize("row", CALL_ROWS, ids=[r.id for r in CALL_ROWS])
def test_call_row(row, tmp_path):
    # Written to a file, not eval'd, so that the lambdas in some calls have source.
    module, _ = load(tmp_path, HELPERS + f"\n\ndef trigger():\n    return {row.only('call')}\n")
    assert_raises_as_documented(row, module.trigger)


@pytest.fixture
def in_model_directory(tmp_path, monkeypatch):
    """The current directory holds the full example's model.py; the command line's import
    of it is undone afterwards."""
    (tmp_path / "model.py").write_text(MODEL, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setitem(sys.modules, "model", None)
    return tmp_path


@pytest.mark.parametrize("row", COMMAND_ROWS, ids=[r.id for r in COMMAND_ROWS])
def test_command_row(row, in_model_directory):
    argv = shlex.split(row.only("command"))
    assert argv[:3] == ["python", "-m", "s2sdiff"]
    assert_raises_as_documented(row, lambda: cli(argv[3:]))


def test_command_line_prints_a_transform_error(in_model_directory, capsys):
    assert cli(["show", "model.py:model"]) == 1
    assert capsys.readouterr().err.startswith("UnsupportedError: try/except is not supported")


def test_the_full_example_message(tmp_path):
    module, _ = load(tmp_path, MODEL, "model_example")
    with pytest.raises(sd.UnsupportedError) as info:
        sd.grad(module.model)
    shown = f"{type(info.value).__module__}.{type(info.value).__qualname__}: {info.value}"
    documented = code_block("`sd.grad(model)` raises:").strip()
    assert shown.replace(str(tmp_path / "model_example.py"), "model.py") == documented
