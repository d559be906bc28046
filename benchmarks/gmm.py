"""A Gaussian-mixture objective of the size issue 15 profiles (the negative log-likelihood of
N points in D dimensions under K components, each with its own inverse Cholesky factor,
plus a Wishart prior), written the way a numba user writes it: helpers, loops over points
and components, a lower-triangular factor filled element by element, a log-sum-exp with the
running maximum found in a loop."""
import importlib.util
import inspect
import math

import numba
import numpy as np

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def largest(v):
    m = v[0]
    for i in range(1, len(v)):
        if v[i] > m:
            m = v[i]
    return m


def log_sum_exp(v):
    m = largest(v)
    return m + math.log(np.sum(np.exp(v - m)))


def inverse_factor(icf_k, d):
    """The lower-triangular Q with exp(icf_k[:d]) on its diagonal and icf_k[d:] below it, by columns."""
    Q = np.zeros((d, d))
    for i in range(d):
        Q[i, i] = math.exp(icf_k[i])
    k = d
    for j in range(d):
        for i in range(j + 1, d):
            Q[i, j] = icf_k[k]
            k += 1
    return Q


def squared_distance(Q, centred):
    y = Q @ centred
    return np.dot(y, y)


def component_terms(alphas, means, icf, point, d):
    K = len(alphas)
    terms = np.empty(K)
    for k in range(K):
        Q = inverse_factor(icf[k], d)
        terms[k] = alphas[k] + np.sum(icf[k, :d]) - 0.5 * squared_distance(Q, point - means[k])
    return terms


def wishart_prior(icf, d, gamma, m):
    total = 0.0
    for k in range(icf.shape[0]):
        diagonal = np.exp(icf[k, :d])
        below = icf[k, d:]
        total += 0.5 * gamma * gamma * (np.sum(diagonal * diagonal) + np.sum(below * below)) - m * np.sum(icf[k, :d])
    return total


def gmm_objective(alphas, means, icf, x, gamma, m):
    n, d = x.shape
    likelihood = 0.0
    for i in range(n):
        likelihood += log_sum_exp(component_terms(alphas, means, icf, x[i], d))
    return -(likelihood - n * log_sum_exp(alphas) - n * d * HALF_LOG_2PI) + wishart_prior(icf, d, gamma, m)


def gmm_inputs(n, d=4, k=5, seed=3):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=k), rng.normal(size=(k, d)), 0.3 * rng.normal(size=(k, d * (d + 1) // 2)),
            rng.normal(size=(n, d)), 1.0, 0.0)


def primal():
    """gmm_objective with every function of this module numba.njit-ed, as a numba user runs it."""
    spec = importlib.util.spec_from_file_location("gmm_primal", __file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, value in list(vars(module).items()):
        if inspect.isfunction(value) and value.__module__ == module.__name__ and name not in ("primal", "gmm_inputs"):
            setattr(module, name, numba.njit(value))
    return module.gmm_objective
