"""Runs a corpus case on every s2sdiff entry point that applies and classifies the outcome.

Outcomes:
  right    — the numbers match the oracle (value too, where the entry point returns it);
  refused  — sd.UnsupportedError whose message names the corpus file and a line of a function
             in it, quotes that line as it is in the file, and names nothing internal;
  wrong    — numbers (or a shape) that disagree with the oracle;
  crash    — any other exception: a TypeError out of generated code (numba's typing errors
             arrive that way), an internal error, an UnsupportedError pointing at generated
             code or using a generated name.
The one exception that is not an UnsupportedError and still counts as refused: the check
of a differentiated argument's number of dimensions when a transform is called (a 3-D
array), a clear TypeError that names the argument but no line; its group says so.
"""
from __future__ import annotations

import ast
import builtins
import functools
import inspect
import linecache
import math
import re
import sys
import traceback
from fnmatch import fnmatch
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import s2sdiff as sd

from .oracle import Oracle, flat_output

ENTRY_POINTS = ("grad.fwd", "grad.rev", "vag.fwd", "vag.rev", "vjp", "jvp", "jac.fwd", "jac.rev", "hessian",
                "deriv1", "deriv2", "gradgrad")
STATUSES = ("right", "refused", "wrong", "crash")

_oracles: dict = {}


def oracle(case) -> Oracle:
    if case.name not in _oracles:
        _oracles[case.name] = Oracle(case)
    return _oracles[case.name]


def applicable(case) -> tuple:
    """The entry points that apply to the case, by the kind of its output and arguments."""
    kind = oracle(case).kind
    points = ["vjp", "jvp"]
    if kind in ("scalar", "tuple", "array"):
        points[:0] = ["jac.fwd", "jac.rev"]
    if kind == "scalar":
        points[:0] = ["grad.fwd", "grad.rev", "vag.fwd", "vag.rev"]
        points.append("hessian")
    if isinstance(case.args[0], float):
        if kind in ("scalar", "tuple"):
            points.append("deriv1")
        if kind == "scalar":
            points += ["deriv2", "gradgrad"]
    return tuple(p for p in ENTRY_POINTS if p in points)


@dataclass
class Outcome:
    status: str
    detail: str = ""
    group: str = ""         # a refusal's construct (refusal_group)

    @property
    def label(self):
        """What a case declares: "right", "refused:<group>", "wrong" or "crash"."""
        return f"refused:{self.group}" if self.status == "refused" else self.status

    def __str__(self):
        return f"{self.status}: {self.detail}" if self.detail else self.status


# ---- running one entry point -------------------------------------------------------------

def _wrt(case):
    return case.wrt[0] if len(case.wrt) == 1 else case.wrt


def _shape(case, i):
    return np.shape(case.args[i])


def _out_shape(o):
    return () if o.kind == "scalar" else (len(o.value),) if o.kind == "tuple" else np.shape(o.value)


def _expected_and_got(case, point, jit):
    """[(what, got, expected array, tolerance)] for one entry point: runs s2sdiff."""
    o = oracle(case)
    args = case.fresh_args()
    wrt = _wrt(case)
    single = len(case.wrt) == 1
    checks = []

    def per_wrt(got, make, tol_of):
        parts = (got,) if single else got
        if not single and (not isinstance(got, tuple) or len(got) != len(case.wrt)):
            raise _Wrong(f"expected a tuple of {len(case.wrt)}, got {type(got).__name__}")
        for i, part in zip(case.wrt, parts):
            checks.append((f"d/d{_param(case, i)}", part, make(i), tol_of(i)))

    def gradient(i):
        return o.jacobian(i)[0].reshape(_shape(case, i))

    def jac_tol(i):
        return o.jacobian(i)[1]

    def value_check(value):
        checks.append(("value", _flat_if_tuple(value, o), _flat_if_tuple(o.value, o), 1e-10))

    if point in ("grad.fwd", "grad.rev"):
        got = sd.grad(case.fn, wrt=wrt, mode=_mode(point), jit=jit)(*args)
        per_wrt(got, gradient, jac_tol)
    elif point in ("vag.fwd", "vag.rev"):
        got = sd.value_and_grad(case.fn, wrt=wrt, mode=_mode(point), jit=jit)(*args)
        if not isinstance(got, tuple) or len(got) != 2:
            raise _Wrong(f"expected (value, gradient), got {got!r}")
        value_check(got[0])
        per_wrt(got[1], gradient, jac_tol)
    elif point in ("jac.fwd", "jac.rev"):
        got = sd.jacobian(case.fn, wrt=wrt, mode=_mode(point), jit=jit)(*args)
        per_wrt(got, lambda i: o.jacobian(i)[0].reshape(_out_shape(o) + _shape(case, i)), jac_tol)
    elif point == "jvp":
        tangents = tuple(_direction(case, i) for i in range(len(case.args)))
        value, tangent = sd.jvp(case.fn, args, tangents, jit=jit)
        value_check(value)
        expected = sum(o.jacobian(i)[0] @ np.ravel(tangents[i]) for i in case.float_args)
        tol = max(o.jacobian(i)[1] for i in case.float_args)
        checks.append(("J·t", _flat_if_tuple(tangent, o), _shaped_like_output(expected, o), tol))
    elif point == "vjp":
        value, vjp_fn = sd.vjp(case.fn, *args, jit=jit)
        value_check(value)
        cotangent = _cotangent(case, o)
        got = vjp_fn(cotangent)
        flat_cotangent = flat_output(cotangent).astype(float)
        if not isinstance(got, tuple) or len(got) != len(case.args):
            raise _Wrong(f"vjp_fn returned {type(got).__name__} of length {len(got)}, expected one cotangent per "
                         f"argument ({len(case.args)})")
        for i in case.float_args:
            checks.append((f"uᵀJ in {_param(case, i)}", got[i],
                           (flat_cotangent @ o.jacobian(i)[0]).reshape(_shape(case, i)), o.jacobian(i)[1]))
    elif point == "hessian":
        got = sd.hessian(case.fn, wrt=wrt, jit=jit)(*args)
        hess, tol = o.hessian
        offsets = np.cumsum([0] + [np.size(case.args[i]) for i in case.wrt])
        block = {i: slice(offsets[k], offsets[k + 1]) for k, i in enumerate(case.wrt)}
        if single:
            i = case.wrt[0]
            checks.append(("H", got, hess.reshape(_shape(case, i) * 2), tol))
        else:
            if not isinstance(got, tuple) or len(got) != len(case.wrt):
                raise _Wrong(f"expected a tuple of {len(case.wrt)} rows of blocks, got {type(got).__name__}")
            for row, i in zip(got, case.wrt):
                for part, j in zip(row, case.wrt):
                    checks.append((f"H[{_param(case, i)}, {_param(case, j)}]", part,
                                   hess[block[i], block[j]].reshape(_shape(case, i) + _shape(case, j)), tol))
    elif point == "deriv1":
        got = sd.derivative(case.fn, jit=jit)(*args)
        checks.append(("f'", _flat_if_tuple(got, o), o.jacobian(0)[0].reshape(_out_shape(o)), o.jacobian(0)[1]))
    elif point in ("deriv2", "gradgrad"):
        transform = sd.derivative(case.fn, order=2, jit=jit) if point == "deriv2" else \
            sd.grad(sd.grad(case.fn, jit=jit), jit=jit)
        got = transform(*args)
        second, tol = o.second_derivative()
        checks.append(("f''", got, np.asarray(second), tol))
    return checks


def _direction(case, i):
    """A random tangent for a float argument; zero for an integer one."""
    arg = case.args[i]
    if i not in case.float_args:
        return np.zeros(np.shape(arg)) if isinstance(arg, np.ndarray) else 0
    values = case.rng(i).uniform(-1, 1, np.shape(arg))
    return values if isinstance(arg, np.ndarray) else float(values)


class _Wrong(Exception):
    """A result with the wrong structure."""


def _mode(point):
    return "forward" if point.endswith("fwd") else "reverse"


def _param(case, i):
    return list(inspect.signature(case.fn).parameters)[i]


def _flat_if_tuple(value, o):
    """A tuple result as one flat array (the oracle's layout); anything else as it is."""
    return flat_output(value).astype(float) if o.kind.startswith("tuple") and isinstance(value, tuple) else value


def _shaped_like_output(flat, o):
    return flat.reshape(_out_shape(o)) if o.kind != "tuple-of-arrays" else flat


def _cotangent(case, o):
    rng = case.rng("cotangent")
    if o.kind == "scalar":
        return 0.75
    if o.kind == "tuple":
        return tuple(float(c) for c in rng.uniform(-1, 1, len(o.value)))
    if o.kind == "array":
        return rng.uniform(-1, 1, np.shape(o.value))
    return tuple(rng.uniform(-1, 1, np.shape(v)) for v in o.value)


def _compare(what, got, expected, tol, scale=0.0):
    """None if `got` matches, else a description of the difference (`scale`: a magnitude
    below which differences are rounding, at least the largest |expected|)."""
    expected = np.asarray(expected, dtype=float)
    if isinstance(got, tuple) and expected.ndim:
        got = np.asarray(got, dtype=float) if all(np.ndim(g) == 0 for g in got) else got
    try:
        got_array = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return f"{what}: got {got!r}, expected an array of shape {expected.shape}"
    if got_array.shape != expected.shape:
        return f"{what}: shape {got_array.shape}, expected {expected.shape}"
    scale = max(np.max(np.abs(expected), initial=0.0), scale if what != "value" else 0.0, 1e-300)
    error = np.abs(got_array - expected)
    bad = ~(error <= tol * (np.abs(expected) + 1e-2 * scale) + 1e-13 * scale)
    if np.any(bad):
        k = int(np.argmax(np.where(bad, error, -1)))
        return (f"{what}: got {_short(got_array)}, expected {_short(expected)} "
                f"(worst component {k}: {got_array.flat[k]!r} vs {expected.flat[k]!r})")
    return None


def _short(a):
    return np.array2string(np.asarray(a), precision=6, threshold=12, max_line_width=200).replace("\n", "")


# ---- classifying exceptions ------------------------------------------------------------

# Names a message may use: the user's own, and NumPy's and math's. Generated code's names
# look like these (t3, sum_3, bx_2, x_tape); quoted names and called names are checked too.
_INTERNAL_NAME = re.compile(r"\b(?:t\d+|[A-Za-z]+_\d+|_\w*tape\w*|b[a-z]\w*_\d+)\b")
_QUOTED_NAME = re.compile(r"'([A-Za-z_]\w*)'")
_CALLED_NAME = re.compile(r"\b([A-Za-z_]\w*)\(\)")
_LIBRARY_NAMES = set(dir(np)) | set(dir(np.linalg)) | set(dir(math)) | set(dir(builtins))
_FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)')


def _function_lines(module_file):
    """{line: True} for every line inside a function definition of the corpus module."""
    module = next(m for m in sys.modules.values() if getattr(m, "__file__", None) == module_file)
    spans = []
    for value in vars(module).values():
        fn = getattr(value, "py_func", value)
        if inspect.isfunction(fn) and fn.__code__.co_filename == module_file:
            lines, start = inspect.getsourcelines(fn)
            spans.append((start, start + len(lines) - 1))
    return spans


def classify_refusal(case, exc) -> Outcome:
    """An UnsupportedError is a clear refusal only if it points at the user's code."""
    message = str(exc)
    module_file = inspect.getsourcefile(case.fn)
    places = _FILE_LINE.findall(message)
    if not places:
        return Outcome("crash", f"UnsupportedError without a file and line: {_first_line(message)}")
    for filename, line in places:
        if Path(filename).resolve() != Path(module_file).resolve():
            return Outcome("crash", f"UnsupportedError points at {filename}, line {line} (not the corpus file): "
                                    f"{_first_line(message)}")
        if not any(start <= int(line) <= end for start, end in _function_lines(module_file)):
            return Outcome("crash", f"UnsupportedError points at line {line}, outside every function: "
                                    f"{_first_line(message)}")
    quoted = _quoted_lines(message)
    file_lines = {linecache.getline(module_file, int(line)).strip() for _, line in places}
    for text in quoted:
        if text not in file_lines:
            return Outcome("crash", f"UnsupportedError quotes code that is not the user's: {text!r}")
    prose = "\n".join(line for line in message.splitlines()
                      if not line.startswith("  File ") and line.strip() not in quoted and set(line.strip()) != {"^"})
    known = _identifiers(module_file) | _LIBRARY_NAMES
    named = set(_INTERNAL_NAME.findall(prose)) | set(_QUOTED_NAME.findall(prose)) | set(_CALLED_NAME.findall(prose))
    for name in sorted(named - known):
        return Outcome("crash", f"UnsupportedError names {name!r}, which is not in the user's code: "
                                f"{_first_line(message)}")
    return Outcome("refused", _first_line(message) + f" (line {places[0][1]})", refusal_group(message))


# Refusal messages by construct: (pattern of the message's first line, group name).
_GROUPS = (
    (r"cannot differentiate through '?([\w.]+?)(?:\(\))?'?:", "call:{0}"),
    (r"\w+\(\) may change '\w+' in place", "call-changes-argument"),
    (r"x\.shape\[k\] needs a constant k", "shape-index-not-constant"),
    (r"keyword '(\w+)=' of ([\w.]+) is not supported", "keyword:{1}:{0}="),
    (r"the method \.(\w+)\(\) is not supported", "method:.{0}()"),
    (r"attribute '\.(\w+)' is not supported", "attribute:.{0}"),
    (r"only named functions can be called", "call-of-expression"),
    (r"^an? ([\w ]+?) is not supported", "{0}"),
    (r"the loop variable must be a single name", "for-target-tuple"),
    (r"(for|while) \.\.\. else is not supported", "{0}-else"),
    (r"only indexing of a local array", "index-non-local-array"),
    (r"tuple unpacking needs a tuple", "unpack-opaque-result"),
    (r"is a parameter: s2sdiff does not differentiate functions that modify their arguments", "parameter-write"),
    (r"only flat tuples of names can be unpacked", "unpack-nested-target"),
    (r"is assigned elements and may not get a second name", "second-name-for-written-array"),
    (r"is assigned elements, so each assignment of it must create a new array", "written-array-not-new"),
    (r"is read in this loop before it is assigned in the same iteration", "read-before-assign-in-loop"),
    (r"is assigned in a loop on some paths only", "assigned-on-some-paths-in-loop"),
    (r"the adjoint needs the value of '\w+' read here, but line \d+ may overwrite it", "overwritten-value-needed"),
    (r"lambda is not supported", "lambda"),
    (r"nested function definition", "nested-def"),
    (r"recursion is supported only to a depth fixed", "recursion"),
    (r"only `for \.\.\. in range\(\.\.\.\)` loops", "for-over-sequence"),
    (r"([\w.]+) takes \d+ argument\(s\) here", "arity:{0}"),
    (r"(\w+) statements are not supported", "statement:{0}"),
    (r"(\w+) expressions are not supported", "expression:{0}"),
    (r"^(try/except|with|assert|global|nonlocal|del|yield)\b.* not supported", "statement:{0}"),
    (r"indexing with (?:an array|the array '\w+') \(a mask or integer indices\)", "array-index"),
)


def refusal_group(message):
    """The construct a refusal message is about (the group refusals are counted under)."""
    first = _first_line(message)
    for pattern, group in _GROUPS:
        match = re.search(pattern, first)
        if match:
            return group.format(*match.groups()).replace(" ", "-")
    return "other: " + first


@functools.cache
def _identifiers(module_file):
    """Every name the corpus module's code uses (its declarations, the decorators, aside)."""
    tree = ast.parse(Path(module_file).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            node.decorator_list = []
    names = set()
    for node in ast.walk(tree):
        names.update(getattr(node, field) for field in ("id", "arg", "attr", "name")
                     if isinstance(getattr(node, field, None), str))
    return names


def _quoted_lines(message):
    """The source lines an error message quotes (the line after each `File ...` line)."""
    lines = message.splitlines()
    return [lines[k + 1].strip() for k, line in enumerate(lines[:-1])
            if line.startswith("  File ") and set(lines[k + 1].strip()) != {"^"}]


def _first_line(message):
    return message.strip().splitlines()[0] if message.strip() else ""


def run(case, point, jit) -> Outcome:
    """Runs one (case, entry point, jit) and classifies it."""
    try:
        checks = _expected_and_got(case, point, jit)
    except sd.UnsupportedError as exc:
        return classify_refusal(case, exc)
    except _Wrong as exc:
        return Outcome("wrong", str(exc))
    except TypeError as exc:
        if _raised_in(exc, "differentiated_argument") and "dimensions" in str(exc):
            # the argument check when the transform is called: clear, but it names no line
            return Outcome("refused", _first_line(str(exc)), "argument-ndim-at-call")
        return Outcome("crash", f"TypeError: {_first_line(str(exc))[:300]}{_origin(exc)}")
    except Exception as exc:  # noqa: BLE001 — everything else is a crash, reported with where it came from
        if type(exc).__name__ == "OracleError":
            raise
        return Outcome("crash", f"{type(exc).__name__}: {_first_line(str(exc))[:300]}{_origin(exc)}")
    # one scale for every array an entry point returns: a block of zeros in a Hessian is
    # judged against the whole Hessian, as the oracle's own error is
    scale = max((np.max(np.abs(np.asarray(c[2], dtype=float)), initial=0.0) for c in checks if c[0] != "value"),
                default=0.0)
    problems = [p for p in (_compare(*check, scale) for check in checks) if p]
    if problems:
        return Outcome("wrong", "; ".join(problems))
    return Outcome("right")


def _raised_in(exc, function):
    """Whether s2sdiff's function of that name (or its _private spelling) raised exc."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and "s2sdiff" in Path(frames[-1].filename).parts and frames[-1].name.lstrip("_") == function


def _origin(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    frame = frames[-1] if frames else None
    return f" [at {Path(frame.filename).name}:{frame.lineno} in {frame.name}]" if frame else ""


def _matches(patterns, point, jit):
    """Whether a declaration key — fnmatch patterns separated by spaces, each optionally
    ending in /jit or /py — covers (point, jit)."""
    for pattern in patterns.split():
        base, _, only = pattern.partition("/")
        if fnmatch(point, base) and only in ("", "jit" if jit else "py"):
            return True
    return False


def expectation(case, point, jit):
    """(expected label, xfail reason or None) for one (case, entry point, jit)."""
    expected = case.expect
    for patterns, value in case.expect_at.items():
        if _matches(patterns, point, jit):
            expected = value
    reason = None
    for patterns, why in case.bugs.items():
        if _matches(patterns, point, jit):
            reason = why
    return expected, reason
