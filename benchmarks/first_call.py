"""s2sdiff's first call in a new process: transform + numba compile + one run.

    python benchmarks/first_call.py WORKLOAD SIZE

Prints one line of JSON: {"seconds": first call, "import_seconds": importing s2sdiff and
the workloads, "numba_start_seconds": numba's start-up, "transform": which transform}.
run.py runs it twice with the same empty cache directories: the first process finds
nothing on disk (cold), the second can reuse what the first stored (warm).

numba's start-up is timed apart, before the first call: the first function a process
compiles or loads from numba's cache pays for numba's typing and target registries (about
0.4 s here, a third of it importing SciPy for BLAS), whatever that function is. A program
that calls any other numba code has paid it already; s2sdiff's cache cannot save it.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

t0 = time.perf_counter()
import numba  # noqa: E402

import s2sdiff as sd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workloads import WORKLOADS  # noqa: E402

imported = time.perf_counter() - t0

t0 = time.perf_counter()
numba.njit(lambda: 0)()
numba_start = time.perf_counter() - t0


def main():
    w = WORKLOADS[sys.argv[1]]
    args = w.inputs(int(sys.argv[2]))
    use_hessian = w.hessian and hasattr(sd, "hessian")
    t0 = time.perf_counter()
    transform = sd.hessian(w.f_python, wrt=w.wrt) if use_hessian else sd.grad(w.f_python, wrt=w.wrt)
    transform(*args)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "import_seconds": imported, "numba_start_seconds": numba_start,
                      "transform": "hessian" if use_hessian else "grad"}))


if __name__ == "__main__":
    main()
