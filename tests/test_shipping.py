"""Transforms sent to another process (shipping.py): pickled in this one, unpickled and
called in a fresh Python, where they give the numbers they give here."""
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import s2sdiff as sd

SCALE = 0.5


def energy(x, k):
    s = 0.0
    for i in range(len(x) - 1):
        s += k * (x[i + 1] - x[i]) ** 2 + SCALE * np.cos(x[i])
    return s


def layer(params, x):
    return np.sum(np.tanh(x @ params["w"] + params["b"]) ** 2)


def curve(t):
    return np.sin(t) * t ** 3


# In the other process: unpickle each transform, call it, send the results back.
CHILD = textwrap.dedent("""
    import pickle, sys
    calls = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps([transform(*args) for transform, args in calls]))
""")


def in_fresh_python(payload: bytes, path: str) -> list:
    # one numba thread: the per-example loop (batch=), threaded code, is loaded from the
    # disk cache into a process with another number of threads than the one that wrote it
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([path, os.environ.get("PYTHONPATH", "")]), NUMBA_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", CHILD], input=payload, capture_output=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return pickle.loads(done.stdout)


def assert_same(got, want):
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w)
    elif isinstance(want, dict):
        assert got.keys() == want.keys()
        for key in want:
            assert_same(got[key], want[key])
    else:
        np.testing.assert_array_equal(got, want)


def test_transforms_run_the_same_in_another_process():
    rng = np.random.default_rng(0)
    x = rng.normal(size=6)
    params = {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    X = rng.normal(size=(5, 3))
    g = sd.grad(energy)
    calls = [(g, (x, 2.0)),
             (g.specialized(x, 2.0), (x, 2.0)),
             (sd.value_and_grad(energy, wrt=("x", "k")), (x, 2.0)),
             (sd.jacobian(sd.grad(energy)), (x, 2.0)),
             (sd.hessian(energy, memory="1MB"), (x, 2.0)),
             (sd.derivative(curve, order=2), (0.7,)),
             (sd.grad(layer), (params, X)),
             (sd.grad(energy, batch=0), (X, 2.0)),
             (sd.differentiable(curve), (0.7,))]
    here = [transform(*args) for transform, args in calls]
    # a closed form, so that "the same" is also right: d²/dt² t³ sin t
    t = 0.7
    assert here[5] == pytest.approx(6 * t * np.sin(t) + 6 * t ** 2 * np.cos(t) - t ** 3 * np.sin(t), rel=1e-14)
    assert all(pickle.loads(pickle.dumps(transform)) is transform for transform, _ in calls[:-1])
    there = in_fresh_python(pickle.dumps(calls), str(Path(__file__).parent))
    for got, want in zip(there, here):
        assert_same(got, want)


def test_a_function_sent_by_value_is_read_from_the_shipped_source(tmp_path):
    """cloudpickle (Dask's pickler) sends a function of no importable module by value,
    without its file: the source travels in the pickle."""
    cloudpickle = pytest.importorskip("cloudpickle")
    module = tmp_path / "scratch_objective.py"
    module.write_text("import numpy as np\n\nWEIGHT = 3.0\n\n\ndef helper(v):\n    return np.exp(-v) * WEIGHT\n\n\n"
                      "def objective(v):\n    return np.sum(helper(v) * v)\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import scratch_objective
        cloudpickle.register_pickle_by_value(scratch_objective)
        transform = sd.value_and_grad(scratch_objective.objective)
        v = np.linspace(0.0, 1.0, 4)
        payload = cloudpickle.dumps([(transform, (v,))])
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("scratch_objective", None)
    module.unlink()                        # the other process has no file to read
    (value, gradient), = in_fresh_python(payload, str(tmp_path))
    assert value == pytest.approx(np.sum(3.0 * np.exp(-v) * v), rel=1e-14)
    np.testing.assert_allclose(gradient, 3.0 * np.exp(-v) * (1.0 - v), rtol=1e-14)


def test_what_no_public_transform_made_does_not_pickle():
    transform = sd.grad(curve)
    made = transform.variant(frozenset({("t", 0)}))        # internal: made without a recipe
    recipe, made.recipe = made.recipe, None
    try:
        with pytest.raises(pickle.PicklingError, match="not made by a public s2sdiff transform"):
            pickle.dumps(made)
    finally:
        made.recipe = recipe


def test_a_function_without_its_file_is_refused_with_the_way_out():
    cloudpickle = pytest.importorskip("cloudpickle")
    lost = pickle.loads(cloudpickle.dumps(lambda v: np.sum(v * v)))     # by value: "<dynamic-code>"
    with pytest.raises(sd.S2SDiffError, match=r"send the transform \(sd.grad\(f\)\)"):
        sd.grad(lost)


def test_another_version_of_the_file_in_the_other_process_is_refused(tmp_path):
    """A function sent by name is the receiver's version of it: a transform made from other
    code must not run there."""
    module = tmp_path / "versioned_objective.py"
    module.write_text("import numpy as np\n\n\ndef objective(v):\n    return np.sum(np.sin(v))\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import versioned_objective
        payload = pickle.dumps(sd.grad(versioned_objective.objective))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("versioned_objective", None)
    module.write_text("import numpy as np\n\n\ndef objective(v):\n    return np.sum(np.cos(v))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"],
                          input=payload, capture_output=True, env=env, timeout=600)
    assert done.returncode != 0
    assert "differs from the file the transform was made from" in done.stderr.decode()
