"""Machine-learning objectives as tutorials and model zoos write them: logistic and softmax
regression, MLPs, RNN/LSTM/GRU cells unrolled over time, Gaussian mixtures with
logsumexp, attention, normalization layers, and the usual losses."""
import math

import numpy as np

from corpus import case, mat, positive, vec

X_DATA = np.array([[0.5, -1.2, 0.3], [1.1, 0.4, -0.7], [-0.3, 0.8, 1.5], [0.9, -0.5, -1.1], [-1.4, 0.2, 0.6]])
Y_BINARY = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
Y_CLASS = np.array([2, 0, 1, 1, 0])
Y_REAL = np.array([0.3, -1.1, 0.8, 0.05, -0.4])


@case(vec(3), X_DATA, Y_BINARY, wrt=0, tags=("logistic-regression", "vectorized", "log1p"))
def logistic_nll(w, X, y):
    z = X @ w
    return np.sum(np.log1p(np.exp(-z)) + (1 - y) * z)


@case(vec(3), 0.2, X_DATA, Y_BINARY, wrt=(0, 1), tags=("logistic-regression", "loop", "sigmoid"))
def logistic_nll_loop(w, b, X, y):
    loss = 0.0
    for i in range(X.shape[0]):
        z = b
        for j in range(X.shape[1]):
            z += X[i, j] * w[j]
        p = 1.0 / (1.0 + math.exp(-z))
        loss -= y[i] * math.log(p) + (1 - y[i]) * math.log(1 - p)
    return loss / X.shape[0]


@case(mat(3, 3), X_DATA, Y_CLASS, wrt=0, tags=("softmax", "int-labels", "fancy-index", "keepdims"),
      expect="refused:array-index")
def softmax_cross_entropy(W, X, labels):
    logits = X @ W
    logits = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(len(labels)), labels])


@case(mat(3, 3), X_DATA, Y_CLASS, wrt=0, tags=("softmax", "loop", "int-labels", "int-index"))
def softmax_cross_entropy_loop(W, X, labels):
    n, k = X.shape[0], W.shape[1]
    total = 0.0
    for i in range(n):
        scores = X[i] @ W
        m = scores[0]
        for c in range(1, k):
            if scores[c] > m:
                m = scores[c]
        s = 0.0
        for c in range(k):
            s += math.exp(scores[c] - m)
        total += m + math.log(s) - scores[labels[i]]
    return total / n


@case(mat(3, 4), vec(4, seed=1), vec(4, seed=2), 0.1, X_DATA, Y_REAL, wrt=(0, 1, 2, 3),
      tags=("mlp", "tanh", "one-hidden-layer"))
def mlp_tanh_mse(W1, b1, w2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    pred = h @ w2 + b2
    return np.mean((pred - y) ** 2)


@case(mat(3, 4, away=0.05), mat(4, 2, seed=1), X_DATA, wrt=(0, 1), tags=("mlp", "relu", "maximum"))
def mlp_relu_two_layers(W1, W2, X):
    h = np.maximum(X @ W1, 0.0)
    out = h @ W2
    return np.sum(out**2) / X.shape[0]


@case(mat(2, 3, lo=-0.5, hi=0.5), mat(3, 3, lo=-0.5, hi=0.5, seed=1), mat(4, 2, seed=2), tags=("rnn", "row-write", "loop"))
def rnn_row_writes(Wx, Wh, xs):
    T = xs.shape[0]
    hs = np.zeros((T + 1, 3))
    for t in range(T):
        hs[t + 1] = np.tanh(xs[t] @ Wx + hs[t] @ Wh)
    return np.sum(hs[T] ** 2) + np.sum(hs)


@case(mat(2, 3, lo=-0.5, hi=0.5), mat(3, 3, lo=-0.5, hi=0.5, seed=1), mat(4, 2, seed=2), tags=("rnn", "row-slice-write", "loop"))
def rnn_row_slice_writes(Wx, Wh, xs):
    T = xs.shape[0]
    hs = np.zeros((T + 1, 3))
    for t in range(T):
        hs[t + 1, :] = np.tanh(xs[t] @ Wx + hs[t] @ Wh)
    return np.sum(hs[T] ** 2) + np.sum(hs)


@case(0.6, -0.4, 0.3, vec(5), tags=("rnn", "scalar-state"))
def scalar_rnn(wx, wh, b, xs):
    h = 0.0
    for t in range(len(xs)):
        h = math.tanh(wx * xs[t] + wh * h + b)
    return h


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@case(mat(4, 8, lo=-0.4, hi=0.4), mat(3, 2, seed=1),
      tags=("lstm", "helper-call", "column-slices", "row-write"))
def lstm_layer_states(W, xs):
    hidden = 2
    T = xs.shape[0]
    h = np.zeros(hidden)
    c = np.zeros(hidden)
    states = np.zeros((T, hidden))
    for t in range(T):
        z = np.concatenate((xs[t], h)) @ W
        i = _sigmoid(z[0:2])
        f = _sigmoid(z[2:4])
        o = _sigmoid(z[4:6])
        g = np.tanh(z[6:8])
        c = f * c + i * g
        h = o * np.tanh(c)
        states[t] = h
    return np.sum(states**2)


@case(mat(2, 4, lo=-0.4, hi=0.4), mat(2, 4, lo=-0.4, hi=0.4, seed=1), mat(3, 2, seed=2),
      tags=("lstm", "separate-weights", "scalar-gates"))
def lstm_scalar_gates(Wx, Wh, xs):
    h0 = 0.0
    h1 = 0.0
    c0 = 0.0
    c1 = 0.0
    for t in range(xs.shape[0]):
        g = xs[t] @ Wx + np.array([h0, h1]) @ Wh
        i = 1 / (1 + math.exp(-g[0]))
        f = 1 / (1 + math.exp(-g[1]))
        o = 1 / (1 + math.exp(-g[2]))
        u = math.tanh(g[3])
        c0, c1 = f * c0 + i * u, f * c1 - i * u
        h0, h1 = o * math.tanh(c0), o * math.tanh(c1)
    return h0 + 2 * h1


@case(mat(2, 3, lo=-0.5, hi=0.5), mat(2, 3, lo=-0.5, hi=0.5, seed=1), mat(3, 2, seed=2),
      tags=("gru", "elementwise-gates"))
def gru_final_state(Wx, Wh, xs):
    h = np.zeros(2)
    for t in range(xs.shape[0]):
        a = xs[t] @ Wx
        b = h @ Wh
        z = 1 / (1 + np.exp(-(a[0] + b[0])))
        r = 1 / (1 + np.exp(-(a[1] + b[1])))
        cand = np.tanh(a[2] + r * b[2])
        h = (1 - z) * h + z * cand
    return np.sum(h)


@case(vec(3), vec(3, lo=-0.5, hi=0.5, seed=1), vec(3, -0.3, 0.3, seed=2), Y_REAL, wrt=(0, 1, 2),
      tags=("gmm", "logsumexp", "loop", "max-shift"))
def gmm_log_likelihood_1d(means, log_sigmas, logits, x):
    k = len(means)
    m = np.max(logits)
    log_weights = logits - (m + np.log(np.sum(np.exp(logits - m))))
    total = 0.0
    for i in range(len(x)):
        comps = np.zeros(k)
        for j in range(k):
            s = np.exp(log_sigmas[j])
            comps[j] = log_weights[j] - 0.5 * ((x[i] - means[j]) / s) ** 2 - log_sigmas[j] - 0.5 * math.log(2 * math.pi)
        top = np.max(comps)
        total += top + np.log(np.sum(np.exp(comps - top)))
    return total


@case(vec(3), vec(3, lo=-0.5, hi=0.5, seed=1), vec(3, -0.3, 0.3, seed=2), Y_REAL, wrt=(0, 1, 2),
      tags=("gmm", "broadcast", "newaxis", "axis"))
def gmm_log_likelihood_vectorized(means, log_sigmas, logits, x):
    log_w = logits - np.log(np.sum(np.exp(logits)))
    z = (x[:, None] - means[None, :]) / np.exp(log_sigmas)[None, :]
    log_p = log_w[None, :] - 0.5 * z**2 - log_sigmas[None, :] - 0.5 * np.log(2 * np.pi)
    return np.sum(np.log(np.sum(np.exp(log_p), axis=1)))


@case(mat(2, 3), X_DATA, wrt=0, tags=("soft-kmeans", "distances", "softmin"))
def soft_kmeans_energy(C, X):
    total = 0.0
    for i in range(X.shape[0]):
        d = np.zeros(C.shape[0])
        for k in range(C.shape[0]):
            d[k] = np.sum((X[i] - C[k]) ** 2)
        total += -np.log(np.sum(np.exp(-d)))
    return total


@case(vec(3), X_DATA, Y_BINARY * 2 - 1, wrt=0, tags=("svm", "hinge", "maximum"))
def hinge_loss(w, X, y):
    margins = 1 - y * (X @ w)
    return np.mean(np.maximum(0.0, margins)) + 0.01 * np.sum(w**2)


@case(vec(5, lo=-2.0, hi=2.0), Y_REAL, wrt=0, tags=("huber", "where", "abs"))
def huber_loss(pred, target):
    r = pred - target
    delta = 1.0
    quad = 0.5 * r**2
    lin = delta * (np.abs(r) - 0.5 * delta)
    return np.sum(np.where(np.abs(r) <= delta, quad, lin))


@case(vec(3), 0.5, X_DATA, Y_REAL, wrt=(0, 1), tags=("ridge", "dot"))
def ridge_loss(w, lam, X, y):
    r = X.dot(w) - y
    return r.dot(r) + lam * w.dot(w)


@case(vec(3, lo=-0.3, hi=0.3), X_DATA, np.array([1.0, 0.0, 3.0, 2.0, 1.0]), wrt=0, tags=("poisson", "exp"))
def poisson_nll(w, X, counts):
    eta = X @ w
    return np.sum(np.exp(eta) - counts * eta)


@case(mat(4, 3, lo=-0.5, hi=0.5), mat(3, 3, seed=1), mat(3, 3, seed=2), mat(3, 3, seed=3),
      tags=("attention", "softmax-rows", "transpose", "keepdims"))
def self_attention(X, Wq, Wk, Wv):
    Q = X @ Wq
    K = X @ Wk
    V = X @ Wv
    scores = Q @ K.T / math.sqrt(3.0)
    scores = scores - scores.max(axis=1, keepdims=True)
    A = np.exp(scores)
    A = A / A.sum(axis=1, keepdims=True)
    return np.sum((A @ V) ** 2)


@case(mat(4, 3), tags=("attention", "softmax-loop", "row-write"))
def attention_rows_loop(X):
    n = X.shape[0]
    S = X @ X.T
    P = np.zeros((n, n))
    for i in range(n):
        e = np.exp(S[i] - np.max(S[i]))
        P[i] = e / np.sum(e)
    return np.sum(P @ X)


@case(mat(4, 3), vec(3, 0.5, 1.5, seed=1), vec(3, seed=2), tags=("layer-norm", "axis", "keepdims"))
def layer_norm(X, gamma, beta):
    mu = np.mean(X, axis=1, keepdims=True)
    var = np.mean((X - mu) ** 2, axis=1, keepdims=True)
    Y = (X - mu) / np.sqrt(var + 1e-5) * gamma + beta
    return np.sum(Y**3)


@case(mat(5, 3), tags=("batch-norm", "axis=0", "broadcast"))
def batch_norm(X):
    mu = X.mean(axis=0)
    var = ((X - mu) ** 2).mean(axis=0)
    Z = (X - mu) / np.sqrt(var + 1e-5)
    return np.sum(Z[:, 0] * Z[:, 1])


@case(vec(6), vec(3, seed=1), tags=("conv1d", "valid", "array-return"))
def conv1d_valid(x, k):
    n = len(x) - len(k) + 1
    out = np.zeros(n)
    for i in range(n):
        out[i] = np.dot(x[i:i + len(k)], k)
    return out


@case(vec(6), tags=("max-pool", "max-of-slice"))
def max_pool(x):
    pooled = np.zeros(3)
    for i in range(3):
        pooled[i] = np.max(x[2 * i:2 * i + 2])
    return np.sum(pooled**2)


@case(mat(5, 3), np.eye(3)[Y_CLASS], wrt=0, tags=("cross-entropy", "one-hot", "log-softmax"))
def one_hot_cross_entropy(logits, onehot):
    z = logits - np.max(logits)
    logp = z - np.log(np.sum(np.exp(z), axis=1))[:, None]
    return -np.sum(onehot * logp)


@case(0.3, -0.2, Y_REAL, wrt=(0, 1), tags=("gaussian-nll", "log-sigma"))
def gaussian_nll(mu, log_sigma, x):
    sigma2 = math.exp(2 * log_sigma)
    n = len(x)
    return 0.5 * n * math.log(2 * math.pi * sigma2) + np.sum((x - mu) ** 2) / (2 * sigma2)


@case(vec(3), vec(3, lo=-0.5, hi=0.5, seed=1), tags=("vae", "kl-divergence"))
def kl_to_standard_normal(mu, logvar):
    return -0.5 * np.sum(1 + logvar - mu**2 - np.exp(logvar))


@case(0.5, 0.8, X_DATA[:, 0].copy(), Y_REAL, wrt=(0, 1),
      tags=("gaussian-process", "outer-difference", "solve", "slogdet"))
def gp_negative_log_marginal(log_length, log_noise, x, y):
    ell = np.exp(log_length)
    d = x[:, None] - x[None, :]
    K = np.exp(-0.5 * d**2 / ell**2) + np.exp(log_noise) * np.eye(len(x))
    alpha = np.linalg.solve(K, y)
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * y @ alpha + 0.5 * logdet


@case(mat(4, 2), mat(2, 3, seed=1), mat(4, 3, seed=2), wrt=(0, 1), tags=("matrix-factorization", "frobenius"))
def matrix_factorization_loss(U, V, R):
    E = R - U @ V
    return np.sum(E * E) + 0.1 * (np.sum(U * U) + np.sum(V * V))


@case(vec(3), vec(3, seed=1), mat(2, 3, seed=2), tags=("word2vec", "negative-sampling", "log-sigmoid"))
def negative_sampling_loss(center, context, negatives):
    loss = -np.log(1 / (1 + np.exp(-center @ context)))
    for k in range(negatives.shape[0]):
        loss -= np.log(1 / (1 + np.exp(negatives[k] @ center)))
    return loss


@case(vec(5, lo=0.1, hi=0.9), Y_BINARY, 2.0, wrt=0, tags=("focal-loss", "power-float"))
def focal_loss(p, y, gamma):
    pt = np.where(y == 1, p, 1 - p)
    return -np.sum((1 - pt) ** gamma * np.log(pt))


@case(vec(5), Y_REAL, wrt=0, tags=("log-cosh",))
def log_cosh_loss(pred, target):
    return np.sum(np.log(np.cosh(pred - target)))


@case(vec(3), 1.5, X_DATA, Y_REAL, wrt=(0, 1), tags=("student-t", "lgamma"), expect="refused:call:math.lgamma")
def student_t_nll(w, nu, X, y):
    r = y - X @ w
    n = len(y)
    const = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
    return -n * const + (nu + 1) / 2 * np.sum(np.log1p(r**2 / nu))


@case(vec(3, away=0.05), X_DATA, Y_REAL, 0.1, wrt=0, tags=("elastic-net", "abs"))
def elastic_net(w, X, y, lam):
    r = X @ w - y
    return 0.5 * np.sum(r**2) + lam * (np.sum(np.abs(w)) + 0.5 * np.sum(w**2))


@case(mat(3, 2, lo=-0.5, hi=0.5), vec(2, seed=1), positive(3), tags=("softplus-network", "logaddexp-by-hand"))
def softplus_network(W, v, x):
    h = np.log(1 + np.exp(x @ W))
    return h @ v
