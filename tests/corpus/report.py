"""The corpus table: how s2sdiff does on code written the way other people write it.

    python tests/corpus/report.py [--compiled all|sample|none] [--jobs N] [--module NAME ...]

Runs every case on every entry point that applies with jit=False, and compiled (numba) on
all of them, on the CI sample (tests/test_corpus.py) or on none, then prints markdown:
per run, the functions and (function, entry point) pairs that are right, refused, wrong
or crash; each entry point's counts; refusals grouped by construct; every wrong and
crash with its detail; functions refused by one entry point and right on another; and
outcomes that differ from what the cases declare. `--compiled all` compiles thousands of
derivatives: expect an hour or more on two cores.
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]   # this checkout's s2sdiff, and the corpus package

from corpus import all_cases, harness  # noqa: E402

SEVERITY = ("wrong", "crash", "refused", "right")
CHUNK = 12      # cases per worker process with --jobs


def _run_cases(job):
    """[(case name, entry point, jit, outcome)] for one worker's share of the pairs."""
    names, pairs = job
    by_name = {case.name: case for case in all_cases() if case.name in names}
    return [(name, point, jit, harness.run(by_name[name], point, jit)) for name, point, jit in pairs]


def collect(cases, compiled, jobs):
    pairs = [(case.name, point, False) for case in cases for point in harness.applicable(case)]
    if compiled == "all":
        pairs += [(case.name, point, True) for case in cases for point in harness.applicable(case)]
    elif compiled == "sample":
        from test_corpus import compiled_sample
        chosen = {case.name for case in cases}
        pairs += [(case.name, point, True) for case, point in compiled_sample(all_cases()) if case.name in chosen]
    names = {case.name for case in cases}
    if jobs <= 1:
        return _run_cases((names, pairs))
    # Chunks of a few cases, each in a fresh process: numba keeps every compiled function in
    # memory, and a long-lived worker grows by gigabytes. A case's entry points stay together:
    # they share its oracle and transforms (and the disk cache carries compiles across chunks).
    by_case = collections.defaultdict(list)
    for pair in pairs:
        by_case[pair[0]].append(pair)
    groups = list(by_case.values())
    chunks = [[pair for group in groups[k:k + CHUNK] for pair in group] for k in range(0, len(groups), CHUNK)]
    rows = []
    with multiprocessing.get_context("spawn").Pool(jobs, maxtasksperchild=1) as pool:
        for done, part in enumerate(pool.imap_unordered(_run_cases, [(names, chunk) for chunk in chunks]), 1):
            rows += part
            print(f"{done}/{len(chunks)} chunks", file=sys.stderr, flush=True)
    return rows


def _function_status(outcomes):
    statuses = {o.status for o in outcomes}
    return next(s for s in SEVERITY if s in statuses)


def table(rows, header):
    rule = "|" + "|".join("---" if k == 0 else "---:" for k in range(len(header))) + "|"
    lines = ["| " + " | ".join(header) + " |", rule]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def summary(results, cases, jit):
    chosen = [(name, point, o) for name, point, j, o in results if j == jit]
    if not chosen:
        return ""
    title = "compiled (numba)" if jit else "jit=False (generated Python)"
    per_function = collections.defaultdict(list)
    for name, point, o in chosen:
        per_function[name].append(o)
    functions = collections.Counter(_function_status(os) for os in per_function.values())
    mixed = sum(1 for os in per_function.values() if {o.status for o in os} == {"right", "refused"})
    pairs = collections.Counter(o.status for _, _, o in chosen)
    out = [f"### {title}", "",
           table([["functions", len(per_function), functions["right"], functions["refused"], functions["wrong"],
                   functions["crash"]],
                  ["(function, entry point) pairs", len(chosen), pairs["right"], pairs["refused"], pairs["wrong"],
                   pairs["crash"]]],
                 ["", "total", "right", "refused", "wrong", "crash"]), "",
           f"A function counts under its worst outcome (wrong, then crash, then refused); {mixed} of the refused "
           "functions are right on some entry points and refused on others.", ""]
    points = collections.defaultdict(collections.Counter)
    for _, point, o in chosen:
        points[point][o.status] += 1
    out += [table([[p, sum(points[p].values())] + [points[p][s] for s in harness.STATUSES]
                   for p in harness.ENTRY_POINTS if p in points], ["entry point", "runs", *harness.STATUSES]), ""]
    return "\n".join(out)


def refusals(results):
    groups = collections.defaultdict(lambda: [set(), 0, set()])
    for name, point, jit, o in results:
        if o.status == "refused" and not jit:
            groups[o.group][0].add(name)
            groups[o.group][1] += 1
            groups[o.group][2].add(name.split(".")[1])
    rows = sorted(([g, len(v[0]), v[1], ", ".join(sorted(v[2])[:4]) + (" …" if len(v[2]) > 4 else "")]
                   for g, v in groups.items()), key=lambda r: (-r[1], r[0]))
    return "### Refusals by construct (jit=False)\n\n" + table(rows, ["construct", "functions", "runs", "examples"])


def problems(results, cases):
    """Every wrong and crash, grouped by the bug its case declares (UNDECLARED if none)."""
    by_name = {case.name: case for case in cases}
    bugs = collections.defaultdict(lambda: collections.defaultdict(list))
    for name, point, jit, o in results:
        if o.status in ("wrong", "crash"):
            _, reason = harness.expectation(by_name[name], point, jit)
            bugs[reason or "UNDECLARED"][name].append((point, jit, o))
    lines = ["### Wrong and crash, by the bug each case declares", ""]
    for reason, per_case in sorted(bugs.items(), key=lambda item: -len(item[1])):
        runs = [o for items in per_case.values() for _, _, o in items]
        counts = collections.Counter(o.status for o in runs)
        lines.append(f"- **{reason}** — {len(per_case)} function(s), "
                     + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
        for name, items in sorted(per_case.items()):
            points = ", ".join(f"{p}{'/jit' if j else ''}" for p, j, _ in items)
            lines.append(f"    - {name} [{points}]: {_short(items[0][2].detail)}")
    return "\n".join(lines)


def _short(detail):
    detail = re.sub(r"\s+", " ", detail)
    return detail if len(detail) < 300 else detail[:300] + " …"


def mixed_functions(results):
    per = collections.defaultdict(dict)
    for name, point, jit, o in results:
        if not jit:
            per[name][point] = o
    lines = ["### Refused by some entry points, right on others (jit=False)", ""]
    for name, points in sorted(per.items()):
        statuses = {o.status for o in points.values()}
        if "refused" in statuses and "right" in statuses:
            right = [p for p, o in points.items() if o.status == "right"]
            refused = sorted({o.group for o in points.values() if o.status == "refused"})
            lines.append(f"- {name}: right on {', '.join(right)}; refused elsewhere ({', '.join(refused)})")
    return "\n".join(lines)


def composition_refusals(results):
    """Hessians and second derivatives refused where the first derivative is right: the
    transforms should compose (s2sdiff reads its own generated code back)."""
    per = collections.defaultdict(dict)
    for name, point, jit, o in results:
        if not jit:
            per[name][point] = o
    lines = []
    for name, points in sorted(per.items()):
        for composed, first in (("hessian", "grad.rev"), ("deriv2", "deriv1"), ("gradgrad", "grad.rev")):
            if composed in points and points[composed].status == "refused" and \
                    points.get(first) is not None and points[first].status == "right":
                lines.append(f"- {name}: {composed} refused ({points[composed].detail}), {first} right")
    return ("### Composed transforms refused where the first derivative is right (jit=False)\n\n"
            + ("\n".join(lines) or "(none)"))


def hint_followed(results, cases):
    """Refusals that suggest `x = x.copy()` to code that already does exactly that."""
    by_name = {case.name: case for case in cases}
    seen, lines = set(), []
    for name, point, jit, o in results:
        match = re.search(r"assign to a copy \((\w+) = \1\.copy\(\)\)", o.detail) if o.status == "refused" else None
        if match and name not in seen:
            import inspect
            if f"{match.group(1)} = {match.group(1)}.copy()" in inspect.getsource(by_name[name].fn):
                seen.add(name)
                lines.append(f"- {name}: {o.detail}")
    return "### Refusals whose suggested fix the code already follows\n\n" + ("\n".join(lines) or "(none)")


def declaration_mismatches(results, cases):
    by_name = {case.name: case for case in cases}
    lines = []
    for name, point, jit, o in results:
        expected, reason = harness.expectation(by_name[name], point, jit)
        if reason is None and o.label != expected:
            lines.append(f"- {name} {point}{'/jit' if jit else ''}: declared {expected}, got {o.label}")
        elif reason is not None and o.status in ("right", "refused"):
            lines.append(f"- {name} {point}{'/jit' if jit else ''}: declared a bug ({reason}), got {o.label}")
    return "### Outcomes that differ from the declarations\n\n" + ("\n".join(lines) or "(none)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compiled", choices=("all", "sample", "none"), default="sample")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--module", action="append", help="only these corpus modules")
    args = parser.parse_args(argv)
    cases = [c for c in all_cases() if not args.module or c.module in args.module]
    start = time.time()
    results = collect(cases, args.compiled, args.jobs)
    by_module = collections.Counter(case.module for case in cases)
    print(f"## s2sdiff corpus: {len(cases)} functions in {len(by_module)} modules "
          f"({', '.join(f'{m} {n}' for m, n in by_module.items())})\n")
    for jit in (False, True):
        text = summary(results, cases, jit)
        if text:
            print(text)
    for section in (refusals(results), problems(results, cases), mixed_functions(results),
                    composition_refusals(results), hint_followed(results, cases),
                    declaration_mismatches(results, cases)):
        print(section, end="\n\n")
    print(f"({len(results)} runs in {time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
