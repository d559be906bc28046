"""sd.dask and the optimizers on Dask data, on a real two-process LocalCluster: values and
gradients against the single-process transform over all the data concatenated, a worker
killed mid-computation, and sgd/adam against their in-memory runs."""
import os
import subprocess
import sys

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import dask_objectives as objectives  # noqa: E402
import s2sdiff as sd  # noqa: E402
from s2sdiff import optimize  # noqa: E402

N, D = 1003, 5                  # rows not a multiple of any chunk size below
RTOL = 1e-12


@pytest.fixture(scope="module")
def client():
    # workers import dask_objectives by name: this directory must be on their path, as it is on ours
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def rows():
    return objectives.rows(0, N, D)


@pytest.fixture(scope="module")
def w():
    return np.linspace(-0.5, 0.5, D)


def close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0)


def test_workers_import_the_losses_by_name(client):
    assert set(client.run(objectives.where).values()) == {objectives.__file__}


def test_importing_s2sdiff_does_not_import_dask():
    script = "import sys, s2sdiff as sd; assert 'dask' not in sys.modules; sd.dask; assert 'dask' in sys.modules"
    subprocess.run([sys.executable, "-c", script], check=True)


def test_without_dask_sd_dask_says_what_to_install():
    script = ("import sys; sys.modules['dask'] = None\nimport s2sdiff as sd\ntry:\n    sd.dask\n"
              "except ImportError as error:\n    print(error)")
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    assert "pip install 's2sdiff[dask]'" in out


def logistic_reference(w, X, y):
    return sd.value_and_grad(objectives.logistic)(w, X, y)


@pytest.mark.parametrize("chunks", [(200, 2), (334, 5), (1003, 5)])
def test_logistic_on_x_y_arrays(client, rows, w, chunks):
    # (200, 2): six row chunks, the last of 3 rows, and the features split (rechunked to one block)
    X, y = rows
    expected = logistic_reference(w, X, y)
    value, gradient = sd.dask.value_and_grad(objectives.logistic, w, (da.from_array(X, chunks=chunks),
                                                                      da.from_array(y, chunks=chunks[0])))
    close(value, expected[0])
    close(gradient, expected[1])


def test_one_array_a_data_frame_and_delayed_chunks(client, rows, w):
    X, y = rows
    Z = np.column_stack([X, y])
    expected = logistic_reference(w, X, y)
    frame = dd.from_pandas(__import__("pandas").DataFrame(Z, columns=[f"c{i}" for i in range(D + 1)]),
                           npartitions=3)
    delayed = [dask.delayed(objectives.rows, pure=True)(seed, n, D) for seed, n in [(0, N), (1, 7), (2, 300)]]
    X_all, y_all = (np.concatenate(parts) for parts in zip(*(objectives.rows(s, n, D)
                                                           for s, n in [(0, N), (1, 7), (2, 300)])))
    for loss, data, reference in [(objectives.logistic_packed, da.from_array(Z, chunks=(250, 3)), expected),
                                  (objectives.logistic_packed, frame, expected),
                                  (objectives.logistic, delayed, logistic_reference(w, X_all, y_all))]:
        value, gradient = sd.dask.value_and_grad(loss, w, data, client=client)
        close(value, reference[0])
        close(gradient, reference[1])


def test_parameter_structures(client, rows):
    X, y = rows
    rng = np.random.default_rng(1)
    params = {"hidden": (rng.standard_normal((D, 4)), rng.standard_normal(4)), "out": rng.standard_normal(4)}
    value_ref, gradient_ref = sd.value_and_grad(objectives.mlp)(params, X, y)
    value, gradient = sd.dask.value_and_grad(objectives.mlp, params, (da.from_array(X, chunks=(150, D)),
                                                                      da.from_array(y, chunks=150)))
    close(value, value_ref)
    assert set(gradient) == {"hidden", "out"} and isinstance(gradient["hidden"], tuple)
    for got, want in zip([*gradient["hidden"], gradient["out"]], [*gradient_ref["hidden"], gradient_ref["out"]]):
        close(got, want)


def test_a_killed_worker_changes_nothing(client, w, tmp_path):
    marker = str(tmp_path / "killed")
    sizes = [(3, 200), (4, 150), (5, 90)]
    chunks = [dask.delayed(objectives.rows, pure=True)(seed, n, D) for seed, n in sizes[1:]]
    chunks.insert(0, dask.delayed(objectives.rows_once_fatal, pure=True)(*sizes[0], D, marker))
    X, y = (np.concatenate(parts) for parts in zip(*(objectives.rows(s, n, D) for s, n in sizes)))
    expected = logistic_reference(w, X, y)
    value, gradient = sd.dask.value_and_grad(objectives.logistic, w, chunks, client=client)
    assert os.path.exists(marker)       # a worker did die making the first chunk; Dask ran it again
    close(value, expected[0])
    close(gradient, expected[1])
    client.wait_for_workers(2)


def test_wrong_data_is_refused_by_name(client, rows, w):
    X, y = rows
    Xd = da.from_array(X, chunks=(200, D))
    cases = [((X, y), "NumPy data"),
             ((Xd, da.from_array(y, chunks=300)), "row chunks differ"),
             ((Xd, da.from_array(y[:-1], chunks=200)), "row chunks differ"),
             ([dask.delayed(X), Xd], "a mix"),
             (da.from_array(np.float64(1.0)), "0-d")]
    for data, message in cases:
        with pytest.raises(sd.S2SDiffError, match=message):
            sd.dask.value_and_grad(objectives.logistic, w, data)
    selected = Xd[Xd[:, 0] > 0]                         # chunks of unknown size along axis 0 ...
    with pytest.raises(sd.S2SDiffError, match="unknown size"):
        sd.dask.value_and_grad(objectives.logistic, w, selected.T)   # ... here along axis 1
    with pytest.raises(sd.S2SDiffError, match="share their rows"):  # found on the worker, in the chunk itself
        sd.dask.value_and_grad(objectives.logistic, w, [dask.delayed((X[:10], y[:9]))])
    frame = dd.from_pandas(__import__("pandas").DataFrame({"x": X[:, 0], "label": ["a"] * N}), npartitions=2)
    with pytest.raises(sd.S2SDiffError, match="label"):
        sd.dask.value_and_grad(objectives.logistic_packed, w[:1], frame)


def test_sgd_and_adam_with_the_whole_data_as_one_batch_are_full_batch_descent(client, rows, w):
    # one chunk and batch_size = all rows: each epoch is one step of plain gradient descent (Adam)
    X, y = rows
    data = (da.from_array(X, chunks=(N, D)), da.from_array(y, chunks=N))
    steps = 6
    sgd = optimize.sgd(objectives.mean_logistic, w, data, lr=0.5, batch_size=N, tol=0.0, max_iter=steps)
    descent = optimize.gradient_descent(objectives.mean_logistic, w, lr=0.5, tol=0.0, max_iter=steps, args=(X, y))
    assert sgd.nit == descent.nit == steps and not sgd.converged
    close(sgd.x, descent.x)
    close(sgd.history, descent.history)
    adam = optimize.adam(objectives.mean_logistic, w, lr=0.05, tol=0.0, max_iter=steps, data=data, batch_size=N)
    full = optimize.adam(objectives.mean_logistic, w, lr=0.05, tol=0.0, max_iter=steps, args=(X, y))
    close(adam.x, full.x)
    close(adam.history, full.history)


def test_adam_on_a_parameter_structure(client, rows):
    X, y = rows
    start = {"w": np.zeros(D), "b": 0.5}
    data = (da.from_array(X, chunks=(N, D)), da.from_array(y, chunks=N))
    adam = optimize.adam(objectives.mean_squares, start, lr=0.1, tol=0.0, max_iter=4, data=data, batch_size=N)
    full = optimize.adam(objectives.mean_squares, start, lr=0.1, tol=0.0, max_iter=4, args=(X, y))
    assert isinstance(adam.x, dict) and isinstance(adam.x["b"], float)
    close(adam.x["w"], full.x["w"])
    close(adam.x["b"], full.x["b"])


def test_sgd_on_chunks_converges_to_least_squares(client):
    # a consistent system (y = X w*, no noise): minibatch SGD converges to w* itself
    X, _ = objectives.rows(7, 700, 3)
    w_star = np.array([1.5, -2.0, 0.25])
    y = X @ w_star
    data = (da.from_array(X, chunks=(160, 3)), da.from_array(y, chunks=160))
    result = optimize.sgd(objectives.mean_squares, {"w": np.zeros(3), "b": 0.0}, data, lr=0.1, batch_size=20,
                          tol=1e-20, max_iter=1_500, seed=3)
    fit = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)[0]
    np.testing.assert_allclose(result.x["w"], fit[:3], atol=1e-8)
    assert abs(result.x["b"] - fit[3]) <= 1e-8
    assert result.fun <= 1e-15 and np.all(np.diff(result.history) <= 0)
