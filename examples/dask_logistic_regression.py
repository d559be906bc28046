"""Logistic regression on more data than this machine's memory, with sd.dask.value_and_grad.

The data set is VIRTUAL: chunk i (rows of --features standard normal features and 0/1 labels
drawn from a known logistic model) is generated from the seed (SEED, i) by the task that needs
it, on a worker, and dropped after use; no process ever holds more than a few chunks. The
default is 24 GB of float64 features (3 · 10⁹ numbers in 120 chunks of 200 MB), more than the
23 GB of RAM of the 2-core machine this was written on.

Each epoch is one step of full-batch gradient descent on the mean loss: every chunk's summed
loss and gradient is computed where the chunk is made, and the results are summed pairwise in
a tree on the cluster; only w (--features numbers) and the gradients travel. It prints the
loss and the time per epoch, writes the loss curve to dask_logistic_regression.png, and
measures one chunk's cost (generation, gradient), from which the README extrapolates to a
cluster. Run it with --workers 1 and --workers 2.

--lbfgs instead fits the same model with SciPy's L-BFGS-B on the full-batch distributed
gradient, at a smaller default size (0.8 GB: its iterations are many more passes).

Needs: pip install 's2sdiff[dask,examples]'.
"""
import argparse
import time
from pathlib import Path

import numpy as np

import s2sdiff as sd

SEED = 2024


def logistic_loss(w, X, y):
    """The summed logistic loss of a chunk (labels in {0, 1})."""
    z = X @ w
    return np.sum(np.logaddexp(0.0, z) - y * z)


def true_weights(features):
    return np.linspace(-2.0, 2.0, features) / np.sqrt(features)


def chunk(index, rows, features):
    """Chunk `index`: (X, y), the same numbers wherever and whenever it is made."""
    rng = np.random.default_rng((SEED, index))
    X = rng.standard_normal((rows, features))
    y = (rng.random(rows) < 1.0 / (1.0 + np.exp(-X @ true_weights(features)))).astype(np.float64)
    return X, y


def virtual_data(gigabytes, rows_per_chunk, features):
    """A list of dask.delayed chunks holding about `gigabytes` of float64 features."""
    import dask
    n_chunks = max(1, round(gigabytes * 1e9 / (rows_per_chunk * features * 8)))
    return [dask.delayed(chunk, pure=True)(i, rows_per_chunk, features) for i in range(n_chunks)]


def chunk_cost(client, rows, features, repeats=3):
    """Seconds one worker spends on a chunk, the best of `repeats`: making it, and its value and gradient."""
    def timed(value_and_grad):
        value_and_grad(np.zeros(features), *chunk(1, 10, features))    # not timed: loading the compiled code
        making, gradient = [], []
        for _ in range(repeats):
            began = time.perf_counter()
            X, y = chunk(0, rows, features)
            making.append(time.perf_counter() - began)
            began = time.perf_counter()
            value_and_grad(np.zeros(features), X, y)
            gradient.append(time.perf_counter() - began)
        return min(making), min(gradient)
    return client.submit(timed, sd.value_and_grad(logistic_loss), pure=False).result()


def gradient_descent(data, n_rows, features, epochs, lr):
    """Full-batch descent on the mean loss; returns the loss before each epoch and after the last."""
    w = np.zeros(features)
    losses = []
    for epoch in range(epochs + 1):
        began = time.perf_counter()
        total, gradient = sd.dask.value_and_grad(logistic_loss, w, data)
        losses.append(total / n_rows)
        print(f"epoch {epoch:2d}  mean loss {losses[-1]:.6f}  ‖∇‖ {np.linalg.norm(gradient) / n_rows:.2e}  "
              f"{time.perf_counter() - began:6.1f} s", flush=True)
        w = w - lr * gradient / n_rows
    return losses


def lbfgs(data, n_rows, features):
    from scipy.optimize import minimize

    def mean_loss_and_gradient(w):
        total, gradient = sd.dask.value_and_grad(logistic_loss, w, data)
        return total / n_rows, gradient / n_rows
    began = time.perf_counter()
    result = minimize(mean_loss_and_gradient, np.zeros(features), jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-8})
    seconds = time.perf_counter() - began
    error = np.linalg.norm(result.x - true_weights(features)) / np.linalg.norm(true_weights(features))
    print(f"L-BFGS-B: {result.message}; {result.nit} iterations, {result.nfev} passes over the data in "
          f"{seconds:.1f} s ({seconds / result.nfev:.2f} s a pass); mean loss {result.fun:.6f}; "
          f"‖w − w_true‖/‖w_true‖ = {error:.3f}")


def plot(losses, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    ax.plot(range(len(losses)), losses, "o-")
    ax.set(xlabel="epoch (one full-batch gradient step)", ylabel="mean logistic loss", title=title)
    fig.tight_layout()
    fig.savefig(path)
    print(f"loss curve: {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, help="float64 features in the virtual data set "
                        "(default 24; 0.8 with --lbfgs)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes, one thread each (default 2)")
    parser.add_argument("--epochs", type=int, default=2, help="gradient steps; epochs + 1 passes (default 2)")
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--rows-per-chunk", type=int, default=250_000)
    parser.add_argument("--lr", type=float, default=4.0, help="step size on the mean loss (default 4)")
    parser.add_argument("--lbfgs", action="store_true", help="fit with SciPy's L-BFGS-B instead")
    options = parser.parse_args()
    gigabytes = options.gigabytes or (0.8 if options.lbfgs else 24.0)

    from dask.distributed import Client, LocalCluster
    data = virtual_data(gigabytes, options.rows_per_chunk, options.features)
    n_rows = len(data) * options.rows_per_chunk
    print(f"virtual data: {n_rows:,} rows × {options.features} features = "
          f"{n_rows * options.features * 8 / 1e9:.1f} GB of float64 in {len(data)} chunks of "
          f"{options.rows_per_chunk * options.features * 8 / 1e6:.0f} MB; {options.workers} worker(s)")
    X, y = chunk(0, 100, options.features)
    sd.value_and_grad(logistic_loss)(np.zeros(options.features), X, y)    # compiled once; workers read the cache
    cluster = LocalCluster(n_workers=options.workers, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster) as client:
        making, gradient = chunk_cost(client, options.rows_per_chunk, options.features)
        print(f"one chunk on a worker: {making:.2f} s to make, {gradient:.2f} s for its value and gradient")
        if options.lbfgs:
            lbfgs(data, n_rows, options.features)
            return
        began = time.perf_counter()
        losses = gradient_descent(data, n_rows, options.features, options.epochs, options.lr)
        seconds = (time.perf_counter() - began) / len(losses)
        print(f"{seconds:.1f} s a pass over {n_rows * options.features * 8 / 1e9:.1f} GB with {options.workers} "
              f"worker(s); {(making + gradient) * len(data) / options.workers:.1f} s predicted from the chunk cost")
    plot(losses, Path(__file__).with_suffix(".png"), f"{gigabytes:g} GB virtual, {options.workers} worker(s)")


if __name__ == "__main__":
    main()
