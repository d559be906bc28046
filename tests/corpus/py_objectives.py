"""Realistic objectives in plain Python style: Gaussian-mixture likelihoods with a
log-sum-exp over a comprehension, RNN and LSTM loops whose weights sit in a dict or tuple
built inside the function, reprojection residuals summed over observations with zip,
and the small models tutorials fit with lists, zip and helper functions."""
import math

import numpy as np

from corpus import case, mat, vec

GMM_DATA = (0.3, -1.1, 0.8, 0.05, -0.4, 1.6)
GMM_WEIGHTS = (0.3, 0.5, 0.2)
SEQ = [np.array([0.5, -0.2]), np.array([0.1, 0.9]), np.array([-0.7, 0.3])]
OBSERVATIONS = [(0, (0.12, -0.21)), (1, (0.31, 0.04)), (2, (-0.16, 0.22)), (0, (0.10, -0.18)), (2, (-0.2, 0.25))]
X_TRAIN = np.array([[0.5, -1.2], [1.1, 0.4], [-0.3, 0.8], [0.9, -0.5]])
Y_TRAIN = (1.0, 0.0, 1.0, 0.0)
T_POINTS = [0.0, 0.25, 0.5, 0.75, 1.0]
Y_POINTS = [1.0, 1.3, 1.2, 0.7, 0.4]


def _logsumexp(values):
    m = max(values)
    return m + math.log(sum(math.exp(v - m) for v in values))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _normal_logpdf(x, mu, log_sigma):
    return -0.5 * ((x - mu) / math.exp(log_sigma)) ** 2 - log_sigma - 0.5 * math.log(2.0 * math.pi)


# ---- Gaussian mixtures -----------------------------------------------------------------

@case(vec(3), vec(3, lo=-0.5, hi=0.5, seed=1),
      tags=("gmm", "list-comprehension", "logsumexp", "for-over-tuple"))
def gmm_comprehension(means, log_sigmas):
    total = 0.0
    for xi in GMM_DATA:
        logs = [math.log(GMM_WEIGHTS[k]) + _normal_logpdf(xi, means[k], log_sigmas[k])
                for k in range(len(GMM_WEIGHTS))]
        m = max(logs)
        total += m + math.log(sum(math.exp(v - m) for v in logs))
    return total


@case(vec(3), vec(3, lo=-0.3, hi=0.3, seed=2), tags=("gmm", "softmax-weights", "helper", "zip"),
      expect="refused:other: constructing list objects is not supported")
def gmm_logits_helper(means, logits):
    log_w = [lg - _logsumexp(list(logits)) for lg in logits]
    return sum(_logsumexp([lw + _normal_logpdf(xi, mu, 0.0) for lw, mu in zip(log_w, means)]) for xi in GMM_DATA)


@case(mat(3, 2), tags=("gmm", "2d", "dict-params", "rows"))
def gmm_2d_dict(centers):
    params = {"mu": centers, "log_s": np.array([0.0, -0.2, 0.1]), "w": np.array([0.2, 0.3, 0.5])}
    total = 0.0
    for x in X_TRAIN:
        comps = [math.log(params["w"][k]) - 0.5 * np.sum((x - params["mu"][k]) ** 2) / math.exp(2 * params["log_s"][k])
                 - 2 * params["log_s"][k] for k in range(3)]
        total += _logsumexp(comps)
    return -total


# ---- recurrent nets --------------------------------------------------------------------

@case(vec(9, lo=-0.5, hi=0.5), tags=("rnn", "tuple-weights", "for-over-list", "reshape"))
def rnn_tuple_weights(theta):
    weights = (theta[:4].reshape(2, 2), theta[4:8].reshape(2, 2), theta[8])
    Wx, Wh, b = weights
    h = np.zeros(2)
    for x in SEQ:
        h = np.tanh(x @ Wx + h @ Wh + b)
    return np.sum(h**2)


@case(mat(4, 8, lo=-0.4, hi=0.4), tags=("lstm", "dict-weights", "for-over-list", "column-slices"))
def lstm_dict_gates(W):
    H = 2
    gates = {"i": W[:, 0:H], "f": W[:, H:2 * H], "o": W[:, 2 * H:3 * H], "g": W[:, 3 * H:]}
    h = np.zeros(H)
    c = np.zeros(H)
    for x in SEQ:
        z = np.concatenate((x, h))
        i = _sigmoid(z @ gates["i"])
        f = _sigmoid(z @ gates["f"] + 1.0)
        o = _sigmoid(z @ gates["o"])
        c = f * c + i * np.tanh(z @ gates["g"])
        h = o * np.tanh(c)
    return np.sum(h) + 0.5 * np.sum(c**2)


@case(vec(6, lo=-0.5, hi=0.5), tags=("rnn", "list-append", "np.stack", "enumerate"))
def rnn_states_stacked(theta):
    a, b, c = theta[:2], theta[2:4], theta[4:]
    h = 0.0
    states = []
    for t, x in enumerate(SEQ):
        h = math.tanh(np.dot(a, x) + b[0] * h + c[t % 2])
        states.append(h * b[1])
    return np.sum(np.stack(states) ** 2)


@case(mat(2, 3, lo=-0.5, hi=0.5), mat(3, 3, lo=-0.5, hi=0.5, seed=1), tags=("gru", "nested-def", "closure"))
def gru_nested_cell(Wx, Wh):
    def cell(h, x):
        a = x @ Wx
        r = h @ Wh
        z = _sigmoid(a[0] + r[0])
        cand = np.tanh(a + z * r)
        return (1.0 - z) * h + z * cand
    h = np.zeros(3)
    for x in SEQ:
        h = cell(h, x)
    return np.sum(h**2)


# ---- geometry: reprojection -----------------------------------------------------------

@case(vec(3, lo=0.8, hi=1.2), mat(3, 3, lo=-0.5, hi=0.5, seed=1),
      tags=("reprojection", "zip", "list-comprehension"),
      expect="refused:other: 'OBSERVATIONS' is a list; only numbers can be used as values here")
def reprojection_zip(cam, points):
    f, tx, ty = cam[0], cam[1] - 1.0, cam[2] - 1.0
    indices = [obs[0] for obs in OBSERVATIONS]
    measured = [obs[1] for obs in OBSERVATIONS]
    total = 0.0
    for j, (u, v) in zip(indices, measured):
        p = points[j]
        depth = p[2] + 4.0
        du = f * (p[0] + tx) / depth - u
        dv = f * (p[1] + ty) / depth - v
        total += du * du + dv * dv
    return total


@case(vec(4, lo=-0.2, hi=0.2), mat(3, 3, lo=-0.5, hi=0.5, seed=2),
      tags=("reprojection", "rotation", "helper-tuple"),
      expect="refused:other: 'residuals' is appended to here in a way s2sdiff does not follow: a list is supported appended to in a for loop")
def reprojection_rotation(cam, points):
    def project(p):
        c, s = math.cos(cam[0]), math.sin(cam[0])
        x = c * p[0] - s * p[1] + cam[1]
        y = s * p[0] + c * p[1] + cam[2]
        z = p[2] + 5.0 + cam[3]
        return x / z, y / z
    residuals = []
    for j, uv in OBSERVATIONS:
        px, py = project(points[j])
        residuals.append(px - uv[0])
        residuals.append(py - uv[1])
    r = np.array(residuals)
    return 0.5 * np.dot(r, r)


# ---- fitting --------------------------------------------------------------------------

@case(vec(2), 0.1, tags=("logistic", "zip", "rows-and-tuple"))
def logistic_zip(w, b):
    loss = 0.0
    for x, y in zip(X_TRAIN, Y_TRAIN):
        p = 1.0 / (1.0 + math.exp(-(np.dot(w, x) + b)))
        loss -= y * math.log(p) + (1.0 - y) * math.log(1.0 - p)
    return loss / len(Y_TRAIN)


@case(vec(3), tags=("polyfit", "zip", "lists", "generator-expression"))
def polynomial_fit_residual(c):
    def model(t):
        return sum(c[k] * t**k for k in range(len(c)))
    return sum((model(t) - y) ** 2 for t, y in zip(T_POINTS, Y_POINTS))


@case(vec(2, lo=0.5, hi=1.5), tags=("exp-decay", "zip", "lists", "annotations"))
def exponential_fit(theta: np.ndarray) -> float:
    amplitude, rate = theta[0], theta[1]
    residuals = [amplitude * math.exp(-rate * t) - y for t, y in zip(T_POINTS, Y_POINTS)]
    return sum(r * r for r in residuals)


@case(vec(6, lo=-0.5, hi=0.5), tags=("mlp", "list-of-layers", "tuple-unpack", "for-over-list"),
      expect="refused:other: 'Y_TRAIN' is a tuple; only numbers can be used as values here")
def mlp_layers_list(theta):
    layers = [(theta[:4].reshape(2, 2), theta[4]), (theta[:2], theta[5])]
    h = X_TRAIN
    for W, b in layers[:-1]:
        h = np.tanh(h @ W + b)
    w_out, b_out = layers[-1]
    pred = h @ w_out + b_out
    return np.mean((pred - np.array(Y_TRAIN)) ** 2)


@case(mat(4, 2), tags=("attention", "list-comprehension", "softmax-helper"))
def attention_comprehension(X):
    def softmax(v):
        e = np.exp(v - np.max(v))
        return e / np.sum(e)
    outputs = [softmax(X @ q) @ X for q in X]
    return sum(np.sum(o**2) for o in outputs)


@case(vec(5), tags=("rosenbrock", "generator-expression", "builtin-sum"))
def rosenbrock_generator(x):
    return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2 for i in range(len(x) - 1))


@case(vec(2), 0.1, tags=("euler", "ode", "list-append", "trajectory"))
def euler_trajectory(y0, dt):
    traj = [y0]
    y = y0
    for _ in range(4):
        y = y + dt * np.array([y[1], -y[0] - 0.1 * y[1]])
        traj.append(y)
    path = np.stack(traj)
    return np.sum(path[:, 0] ** 2)


@case(vec(3, lo=0.2, hi=0.8), tags=("softmax-regression", "dict-of-arrays", "items"),
      expect="refused:other: the dict 'params' is supported indexed by its keys written out (params['W']), looped over, or with .get")
def weight_decay_dict(theta):
    params = {"W": np.outer(theta, theta), "b": theta * 0.5}
    data_term = np.sum(np.tanh(params["W"] @ theta + params["b"]))
    penalty = sum(0.01 * np.sum(v**2) for _, v in params.items())
    return data_term + penalty


@case(vec(4), tags=("kalman", "tuple-state", "for-over-list"),
      expect="refused:other: a tuple is only supported on the right of `a, b = ...` or in `return`")
def scalar_kalman_filter(z):
    state = (0.0, 1.0)
    q, r = 0.01, 0.25
    nll = 0.0
    for obs in list(z):
        mean, var = state
        var = var + q
        s = var + r
        k = var / s
        nll += 0.5 * ((obs - mean) ** 2 / s + math.log(s))
        state = (mean + k * (obs - mean), (1.0 - k) * var)
    return nll + state[0] ** 2


@case(vec(3, lo=0.2, hi=1.0), tags=("spring-chain", "zip", "slices", "energy"))
def spring_chain_energy(x):
    rest = [0.5, 0.5]
    stiffness = (2.0, 3.0)
    energy = 0.0
    for a, b, l0, k in zip(x[:-1], x[1:], rest, stiffness):
        energy += 0.5 * k * (b - a - l0) ** 2
    return energy + 9.81 * sum(x)
