"""The memory budget reverse mode keeps a loop's tape within (transform/reverse.py).

Every adjoint with tapes holds them to a budget, counted as the code runs (runtime's tape
meter): `memory=`, or by default half of the machine's physical memory.  A tape that would
take the tapes held past it raises MemoryBudgetExceeded before it is allocated.

With `memory=` given, a loop of the function body whose tape — its state once an
iteration — would take more than the budget leaves keeps snapshots of that state instead,
as many as fit, and recomputes the steps between them as the adjoint needs them (binomial
checkpointing, runtime.checkpoint_split).  Without it, loops keep whole tapes: the code
for both ways would double the compile time of every loop with a tape.  A call whose whole
tapes would pass the default budget is run again by a transform made with that budget
(wrappers.Transformed), so the checkpointed code is compiled only where it is needed.
"""
from __future__ import annotations

import os
import re

from ..errors import S2SDiffError
from ..runtime import checkpoint_split

_UNITS = {"": 1, "B": 1, "KB": 10 ** 3, "MB": 10 ** 6, "GB": 10 ** 9, "TB": 10 ** 12,
          "KIB": 2 ** 10, "MIB": 2 ** 20, "GIB": 2 ** 30, "TIB": 2 ** 40}


def budget(memory) -> int:
    """Bytes from `memory`: a number of bytes, or a string like "256MB" or "1.5GiB"."""
    if isinstance(memory, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", memory)
        if match is None or match.group(2).upper() not in _UNITS:
            raise S2SDiffError(f"memory={memory!r} is not a size: write bytes as a number, or e.g. '256MB', '2GiB'")
        return int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if isinstance(memory, (int, float)) and memory > 0:
        return int(memory)
    raise S2SDiffError(f"memory={memory!r} is not a size: write bytes as a number, or e.g. '256MB', '2GiB'")


def default_budget() -> int:
    """Half of this machine's physical memory: tapes beyond it would leave too little to
    the rest of the program, and the OS might kill the process instead of a clear error."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


def forward_steps(steps: int, slots: int) -> int:
    """How many steps the adjoint of a checkpointed loop runs forward again, with `slots`
    snapshots (the first of the loop's start): the schedule reverse.py's code follows,
    counted."""
    slots = max(1, min(steps, slots))
    free = list(range(slots - 1, 0, -1))
    segments = [(0, steps, 0)]
    count = 0
    while segments:
        start, stop, slot = segments.pop()
        if stop < 0:
            free.append(slot)
            continue
        if stop - start == 1 or not free:
            until = stop - 1
            if stop - start > 1:
                segments.append((start, until, slot))
        else:
            until = checkpoint_split(start, stop, len(free))
            store = free.pop()
            segments += [(start, until, slot), (0, -1, store), (until, stop, store)]
        count += until - start
    return count
