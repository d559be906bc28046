"""Caching: in memory per (function, options), on disk through numba's cache across
processes, invalidated by editing the function, and safe when threads transform at once."""
import concurrent.futures
import json
import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sdiff as sd

SCRIPT = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import model
    import s2sdiff as sd
    start = time.perf_counter()
    g = sd.grad(model.f)
    x = np.linspace(0.1, 1.0, 5)
    value = g(x)
    # the gradient's compiled unit (a call from Python runs its one-line wrapper as Python)
    ran = g.specialized(x).py_func.__globals__["f_vjp_grad"]
    print(json.dumps({"grad": value.tolist(), "seconds": time.perf_counter() - start,
                      "hits": sum(ran.stats.cache_hits.values()),
                      "misses": sum(ran.stats.cache_misses.values())}))
""")

MODEL = textwrap.dedent("""
    import numpy as np

    def f(x):
        s = 0.0
        for i in range(len(x)):
            s += np.sin(x[i]) * {factor}
        return s
""")


def run_in_new_process(model_dir, cache_dir):
    env = dict(os.environ, S2SDIFF_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(model_dir)], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_model(directory, factor):
    (directory / "model.py").write_text(MODEL.format(factor=factor))
    for cached in (directory / "__pycache__").glob("model*"):     # the edit must be seen even within a second
        cached.unlink()


def test_a_second_process_reuses_the_compiled_code_and_an_edit_invalidates_it(tmp_path):
    cache, model = tmp_path / "cache", tmp_path / "model"
    model.mkdir()
    x = np.linspace(0.1, 1.0, 5)
    write_model(model, 2.0)
    cold = run_in_new_process(model, cache)
    warm = run_in_new_process(model, cache)
    assert cold["hits"] == 0 and cold["misses"] == 1
    assert warm["hits"] == 1 and warm["misses"] == 0             # loaded from disk, not compiled
    np.testing.assert_allclose(cold["grad"], 2.0 * np.cos(x), rtol=1e-15)
    assert warm["grad"] == cold["grad"]
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700          # readable by the user only

    write_model(model, 3.0)                                       # the user edits the function
    edited = run_in_new_process(model, cache)
    assert edited["hits"] == 0 and edited["misses"] == 1          # a new fingerprint: compiled afresh
    np.testing.assert_allclose(edited["grad"], 3.0 * np.cos(x), rtol=1e-15)


def test_the_disk_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("S2SDIFF_CACHE", "0")
    from s2sdiff import compile as compiler
    assert compiler.cache_dir() is None


def test_in_memory_cache_returns_the_same_object_and_a_redefinition_gets_a_new_one(tmp_path):
    namespace = {"np": np}
    source = "def h(x):\n    return np.sum(x * x)\n"
    path = tmp_path / "h_module.py"
    path.write_text(source)
    exec(compile(source, str(path), "exec"), namespace)
    first = sd.grad(namespace["h"], jit=False)
    assert sd.grad(namespace["h"], jit=False) is first
    path.write_text(source.replace("x * x", "x * x * x"))
    import linecache
    linecache.checkcache(str(path))
    exec(compile(path.read_text(), str(path), "exec"), namespace)   # a new function object
    second = sd.grad(namespace["h"], jit=False)
    assert second is not first
    np.testing.assert_allclose(second(np.array([2.0])), [12.0])


def threaded_model(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += (x[i + 1] - x[i] ** 2) ** 2
    return s


def test_eight_threads_transforming_one_function_compile_once_and_agree():
    x = np.linspace(-1.0, 1.0, 9)
    want = np.zeros_like(x)
    d = x[1:] - x[:-1] ** 2
    want[1:] += 2 * d
    want[:-1] += -4 * x[:-1] * d
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(lambda: sd.grad(threaded_model)) for _ in range(8)]
        transforms = [f.result() for f in futures]
        results = list(pool.map(lambda g: g(x), transforms))
    assert all(t is transforms[0] for t in transforms)
    for result in results:
        np.testing.assert_allclose(result, want, rtol=1e-14)


@pytest.mark.parametrize("changed", ["value", "array"])
def test_a_changed_module_constant_changes_the_fingerprint(changed):
    from s2sdiff import compile as compiler
    source = "def k(x):\n    return x * C\n"
    a = compiler._fingerprint(source, {"C": 2.0 if changed == "value" else np.ones(3)})
    b = compiler._fingerprint(source, {"C": 3.0 if changed == "value" else np.full(3, 2.0)})
    assert a and b and a != b
