"""Losses and chunk makers for test_dask.py, in a module of their own so that the Dask
workers (other processes) import them by name, as they would a user's module."""
import os

import numpy as np


def logistic(w, X, y):
    """The summed logistic loss (labels y in {0, 1})."""
    z = X @ w
    return np.sum(np.logaddexp(0.0, z) - y * z)


def logistic_packed(w, Z):
    """`logistic` on rows [x | y]: a single Dask array or DataFrame holding both."""
    z = Z[:, :-1] @ w
    return np.sum(np.logaddexp(0.0, z) - Z[:, -1] * z)


def mlp(params, X, y):
    """The summed squared error of a one-hidden-layer tanh network; params = {"hidden": (W, b), "out": v}."""
    W, b = params["hidden"]
    v = params["out"]
    r = np.tanh(X @ W + b) @ v - y
    return np.sum(r * r)


def mean_logistic(w, X, y):
    """`logistic` as a mean over the rows: the minibatch objective of sd.optimize.sgd and adam."""
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def mean_squares(params, X, y):
    """The mean squared residual of a linear model with params = {"w": …, "b": …}."""
    r = X @ params["w"] + params["b"] - y
    return np.mean(r * r)


def rows(seed, n, d):
    """(X, y): n rows of d features and their 0/1 labels, generated from `seed`."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-X @ np.linspace(-1.0, 1.0, d)))).astype(np.float64)
    return X, y


def rows_once_fatal(seed, n, d, marker):
    """`rows`, but the first call in any process kills that process (a worker lost mid-computation)
    and leaves the file `marker` to say it did."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return rows(seed, n, d)


def where():
    """This module's file, as the process calling it imported it."""
    return __file__
