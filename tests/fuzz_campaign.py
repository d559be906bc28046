"""A fuzz campaign: N random programs per property, counted by outcome.

    python tests/fuzz_campaign.py --programs 20000 --seed 1 --jobs 2 --out /tmp/campaign
    python tests/fuzz_campaign.py --summarize /tmp/campaign

Runs the checks of tests/test_fuzz.py (tests/fuzz_checks.py) on programs drawn by
hypothesis (each batch with a seed of its own, made from the given one), without stopping
at a failure, in batches of BATCH programs per new process (numba's memory grows with every
compile). Each worker appends one JSON line per program to OUT/<property>-<w>.jsonl as it
goes, so a campaign cut short still says how far it got; at the end (or with
--summarize) it prints per property the counts ok / ok with some entry points refused
(by reason) / discarded (by reason) / failed, and each failing program.

Properties: `entry_points` (the generated Python) and `compiled` (numba; slow: a few
seconds of compiling per program).
"""
import argparse
import collections
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import signal
import sys
import time
import traceback
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS), str(TESTS.parent)]      # this checkout's s2sdiff, as `python -m pytest` from its root

PROPERTIES = {"entry_points": False, "compiled": True}     # property: jit
TIMEOUT_S = 300         # one program, every entry point and the oracle
BATCH = 250             # programs per worker process


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _worker(prop, worker, seed, count, out):
    """`count` programs drawn with hypothesis seed `seed`, logged to OUT/<prop>-<worker>.jsonl."""
    import numpy as np
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    import s2sdiff as sd
    from fuzz_checks import Discard, ProgramFailed, check_program
    from fuzz_programs import points, programs

    jit = PROPERTIES[prop]
    log = open(Path(out) / f"{prop}-{worker}.jsonl", "a", buffering=1)
    signal.signal(signal.SIGALRM, _alarm)

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed)
    @given(source=programs(), point=points(), direction=st.lists(st.floats(-1.0, 1.0), min_size=5, max_size=5),
           cotangent=st.floats(-2.0, 2.0))
    def one(source, point, direction, cotangent):
        n = len(point[0])
        refusals = []
        record = {"point": [point[0].tolist(), point[1], point[2]]}
        started = time.perf_counter()
        signal.alarm(TIMEOUT_S)
        try:
            checked = check_program(source, point, (np.array(direction[:n]), direction[-1]), cotangent,
                                    refusals.append, jit=jit)
            record.update(outcome="ok", checked=checked, refused=refusals)
        except Discard as discard:
            record.update(outcome="discarded", reason=discard.reason, refused=refusals)
        except _Timeout:
            record.update(outcome="timeout", source=source)
        except ProgramFailed as failed:
            record.update(outcome="failed", problems=[[name, problem[:2000]] for name, problem in failed.problems],
                          source=source, refused=refusals)
        except Exception as exc:  # the program or the oracle broke: a bug of the fuzzer itself
            record.update(outcome="failed", problems=[["fuzzer", f"{type(exc).__name__}: {exc}"[:2000]]],
                          source=source, where=traceback.format_exc(limit=-3)[-2000:])
        finally:
            signal.alarm(0)
        record["seconds"] = round(time.perf_counter() - started, 3)
        log.write(json.dumps(record) + "\n")
        for name in [m for m in sys.modules if m.startswith("fuzz_program_")]:
            del sys.modules[name]
        sd.clear_caches()

    one()


def signature(problem):
    """A failure's kind: its first line with numbers, arrays and generated names blanked."""
    first = problem.splitlines()[0] if problem else ""
    first = re.sub(r"\[[^\]]*\]|array\(.*?\)", "[…]", first)
    first = re.sub(r"'\w+'", "'NAME'", first)
    first = re.sub(r"\b\d+(\.\d+)?(e-?\d+)?\b", "N", first)
    return first[:160]


def summarize(out):
    """Counts per property from OUT's logs, the kinds of failure, and a smallest failing program of each."""
    for prop in PROPERTIES:
        logs = sorted(Path(out).glob(f"{prop}-*.jsonl"))
        if not logs:
            continue
        records = [json.loads(line) for log in logs for line in log.read_text().splitlines() if line.strip()]
        outcomes = collections.Counter(r["outcome"] for r in records)
        ok = [r for r in records if r["outcome"] == "ok"]
        refused = [r for r in ok if any(" refused: " in note for note in r["refused"])]
        known = [r for r in ok if any(note.startswith("known bug: ") for note in r["refused"])]
        clean = sum(not r["refused"] for r in ok)
        hours = sum(r["seconds"] for r in records) / 3600
        print(f"== {prop}: {len(records)} programs, {hours:.2f} worker hours (wall)")
        print(f"   ok: {len(ok)} (every entry point right: {clean}; some entry points refused: {len(refused)}; "
              f"some hit a known bug: {len(known)})")
        for title, notes in (("refusals", " refused: "), ("known bugs", "known bug: ")):
            counts = collections.Counter(note.split(notes, 1)[1] for r in ok
                                         for note in set(r["refused"]) if notes in note)
            counts = collections.Counter({reason: sum(any(note.endswith(reason) for note in r["refused"]) for r in ok)
                                          for reason in counts})
            print(f"      {title}, in ok programs:")
            for reason, count in counts.most_common():
                print(f"         {count}: {reason}")
        print(f"   discarded: {outcomes['discarded']}")
        reasons = collections.Counter(r["reason"] for r in records if r["outcome"] == "discarded")
        for reason, count in reasons.most_common():
            print(f"      {count}: {reason}")
            if reason == "every entry point refused":
                why = collections.Counter(frozenset(note.split(" refused: ", 1)[-1] for note in r["refused"])
                                          for r in records if r.get("reason") == reason)
                for notes, times in why.most_common():
                    print(f"         {times}: {' + '.join(sorted(notes))}")
        print(f"   timed out: {outcomes['timeout']}")
        print(f"   failed: {outcomes['failed']}")
        kinds = collections.defaultdict(list)
        for r in records:
            for name, problem in r.get("problems", []):
                kinds[(name, signature(problem))].append(r)
        for (name, kind), failing in sorted(kinds.items(), key=lambda item: -len(item[1])):
            print(f"      {len(failing)}: {name}: {kind}")
        for (name, kind), failing in sorted(kinds.items(), key=lambda item: -len(item[1])):
            smallest = min(failing, key=lambda r: len(r["source"]))
            problem = next(p for n, p in smallest["problems"] if n == name and signature(p) == kind)
            x, a, k = smallest["point"]
            print(f"\n--- {name}: {problem}\nat x = {x}, a = {a}, k = {k} in\n{smallest['source']}")
        for r in records:
            if r["outcome"] == "timeout":
                x, a, k = r["point"]
                print(f"\n--- timed out at x = {x}, a = {a}, k = {k} in\n{r['source']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programs", type=int, default=1000, help="programs per property")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--properties", default=",".join(PROPERTIES), help="comma-separated: " + ", ".join(PROPERTIES))
    parser.add_argument("--out", default="fuzz-campaign")
    parser.add_argument("--summarize", metavar="OUT", help="only print the counts of an earlier campaign")
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return
    Path(args.out).mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")      # fresh interpreters: no state shared through fork
    for prop in args.properties.split(","):
        # Batches of BATCH programs, each in a new process (numba's memory grows with every
        # compile), each with a seed of its own, at most `jobs` at a time.
        batches = [min(BATCH, args.programs - start) for start in range(0, args.programs, BATCH)]
        running = {}
        for number, count in enumerate(batches):
            while len(running) >= args.jobs:
                _wait_for_one(running)
            slot = min(set(range(args.jobs)) - set(running.values()))
            process = context.Process(target=_worker, args=(prop, slot, args.seed * len(batches) + number, count,
                                                            args.out), daemon=True)
            process.start()
            running[process] = slot
        while running:
            _wait_for_one(running)
    summarize(args.out)


def _wait_for_one(running):
    finished = multiprocessing.connection.wait([p.sentinel for p in running])
    for process in [p for p in running if p.sentinel in finished]:
        process.join()
        del running[process]


if __name__ == "__main__":
    main()
