"""Three objectives written the way a Python user writes them (issue 17), beside JAX.

    python benchmarks/python_objectives.py [--quick] [--all-cores]

* `gmm_log_likelihood`: a Gaussian mixture's log-likelihood — parameters in a dict, a
  triangular precision factor built per component by a helper, the components' log
  terms appended to a list, a nested log-sum-exp;
* `lstm_loss`: an LSTM language model's mean cross-entropy over a token sequence —
  parameters in a dict, a lambda, state carried through the loop, `for t, (a, b) in
  enumerate(zip(...))`;
* `reprojection_cost`: a bundle-adjustment cost, the sum of squared reprojection
  residuals over observations (`for (cam, pt), uv in zip(...)`), whose per-observation
  residual `reprojection_residual` is also differentiated as a Jacobian.

s2sdiff differentiates each as written. JAX needs each written its own way (no element
writes, no appends in a traced loop, `lax.scan` for a long sequence): those versions are
in `jax_versions`. Printed: milliseconds and gradient ÷ primal, for s2sdiff against the
primal s2sdiff compiles (numba cannot compile the functions as written) and for JAX
against its own jitted primal; each gradient is checked against JAX's before timing.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import s2sdiff as sd  # noqa: E402
from s2sdiff import structures  # noqa: E402
from s2sdiff.pipeline import derived_unit  # noqa: E402
from s2sdiff.wrappers import call_kinds  # noqa: E402

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# ---- the objectives, as written -------------------------------------------------------
def precision_factor(entries, d):
    """The lower-triangular factor L of a precision matrix: exp of the first d entries on
    its diagonal, the rest below it row by row."""
    L = np.zeros((d, d))
    k = d
    for i in range(d):
        L[i, i] = math.exp(entries[i])
        for j in range(i):
            L[i, j] = entries[k]
            k += 1
    return L


def gmm_log_likelihood(params, X):
    def logsumexp(v):
        top = np.max(v)
        return top + math.log(np.sum(np.exp(v - top)))

    d = X.shape[1]
    log_weights = params["logits"] - logsumexp(params["logits"])
    total = 0.0
    for x in X:
        terms = []
        for k in range(len(log_weights)):
            L = precision_factor(params["factors"][k], d)
            z = L.T @ (x - params["means"][k])
            log_det = sum(params["factors"][k][i] for i in range(d))
            terms.append(log_weights[k] + log_det - 0.5 * np.dot(z, z) - d * HALF_LOG_2PI)
        total += logsumexp(np.array(terms))
    return total


def lstm_loss(params, inputs, targets):
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))    # noqa: E731
    hidden = params["Wh"].shape[1]
    h = np.zeros(hidden)
    c = np.zeros(hidden)
    loss = 0.0
    for t, (a, b) in enumerate(zip(inputs, targets)):
        gates = params["Wx"][:, a] + params["Wh"] @ h + params["b"]
        i, f, o = sigmoid(gates[:hidden]), sigmoid(gates[hidden:2 * hidden]), sigmoid(gates[2 * hidden:3 * hidden])
        g = np.tanh(gates[3 * hidden:])
        c = f * c + i * g
        h = o * np.tanh(c)
        logits = params["Wy"] @ h + params["by"]
        top = np.max(logits)
        loss += top + math.log(np.sum(np.exp(logits - top))) - logits[b]
    return loss / len(targets)


def rotate(rvec, p):
    """p rotated by the angle-axis vector rvec (Rodrigues)."""
    theta = math.sqrt(np.dot(rvec, rvec))
    axis = rvec / theta
    cos, sin = math.cos(theta), math.sin(theta)
    return p * cos + np.cross(axis, p) * sin + axis * np.dot(axis, p) * (1.0 - cos)


def reprojection_residual(camera, point, observed):
    """Pixel error of one observation: the camera is 3 angle-axis, 3 translation, focal length."""
    p = rotate(camera[:3], point) + camera[3:6]
    return camera[6] * p[:2] / p[2] - observed


def reprojection_cost(cameras, points, pairs, observed):
    cost = 0.0
    for (cam, pt), uv in zip(pairs, observed):
        r = reprojection_residual(cameras[cam], points[pt], uv)
        cost += 0.5 * np.dot(r, r)
    return cost


# ---- problems ---------------------------------------------------------------------------
def gmm_problem(quick):
    rng = np.random.default_rng(17)
    n, d, k = (200, 3, 4) if quick else (2000, 5, 8)
    params = {"logits": rng.standard_normal(k), "means": rng.standard_normal((k, d)),
              "factors": 0.3 * rng.standard_normal((k, d * (d + 1) // 2))}
    return params, rng.standard_normal((n, d))


def lstm_problem(quick):
    rng = np.random.default_rng(18)
    vocabulary, hidden, steps = (16, 8, 50) if quick else (64, 32, 400)
    params = {"Wx": 0.3 * rng.standard_normal((4 * hidden, vocabulary)),
              "Wh": 0.3 * rng.standard_normal((4 * hidden, hidden)), "b": 0.1 * rng.standard_normal(4 * hidden),
              "Wy": 0.3 * rng.standard_normal((vocabulary, hidden)), "by": 0.1 * rng.standard_normal(vocabulary)}
    tokens = rng.integers(0, vocabulary, steps + 1)
    return params, tokens[:-1], tokens[1:]


def reprojection_problem(quick):
    rng = np.random.default_rng(19)
    n_cameras, n_points, n_observations = (4, 30, 100) if quick else (20, 500, 4000)
    cameras = np.hstack([0.2 * rng.standard_normal((n_cameras, 3)), rng.standard_normal((n_cameras, 2)),
                         10.0 + rng.standard_normal((n_cameras, 1)), 500.0 + 10.0 * rng.standard_normal((n_cameras, 1))])
    points = rng.standard_normal((n_points, 3))
    pairs = np.stack([rng.integers(0, n_cameras, n_observations), rng.integers(0, n_points, n_observations)], axis=1)
    observed = 20.0 * rng.standard_normal((n_observations, 2))
    return cameras, points, pairs, observed


PROBLEMS = {"gmm_log_likelihood": (gmm_log_likelihood, gmm_problem),
            "lstm_loss": (lstm_loss, lstm_problem),
            "reprojection_cost": (reprojection_cost, reprojection_problem)}


# ---- JAX, written JAX's way -----------------------------------------------------------
def jax_versions():
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp
    jax.config.update("jax_enable_x64", True)

    def factor(entries, d):
        below = jnp.zeros((d, d)).at[jnp.tril_indices(d, -1)].set(entries[d:])
        return below + jnp.diag(jnp.exp(entries[:d]))

    def gmm(params, X):
        d = X.shape[1]
        log_weights = params["logits"] - logsumexp(params["logits"])
        Ls = jax.vmap(lambda e: factor(e, d))(params["factors"])
        z = jnp.einsum("kji,nkj->nki", Ls, X[:, None, :] - params["means"][None])
        terms = log_weights + jnp.sum(params["factors"][:, :d], axis=1) - 0.5 * jnp.sum(z * z, axis=2) \
            - d * HALF_LOG_2PI
        return jnp.sum(logsumexp(terms, axis=1))

    def lstm(params, inputs, targets):
        hidden = params["Wh"].shape[1]

        def step(state, ab):
            h, c = state
            a, b = ab
            gates = params["Wx"][:, a] + params["Wh"] @ h + params["b"]
            i, f, o = (jax.nn.sigmoid(gates[k * hidden:(k + 1) * hidden]) for k in range(3))
            c = f * c + i * jnp.tanh(gates[3 * hidden:])
            h = o * jnp.tanh(c)
            logits = params["Wy"] @ h + params["by"]
            return (h, c), logsumexp(logits) - logits[b]
        _, losses = jax.lax.scan(step, (jnp.zeros(hidden), jnp.zeros(hidden)), (inputs, targets))
        return jnp.mean(losses)

    def residual(camera, point, observed):
        rvec = camera[:3]
        theta = jnp.sqrt(rvec @ rvec)
        axis = rvec / theta
        p = point * jnp.cos(theta) + jnp.cross(axis, point) * jnp.sin(theta) \
            + axis * (axis @ point) * (1.0 - jnp.cos(theta)) + camera[3:6]
        return camera[6] * p[:2] / p[2] - observed

    def cost(cameras, points, pairs, observed):
        r = jax.vmap(residual)(cameras[pairs[:, 0]], points[pairs[:, 1]], observed)
        return 0.5 * jnp.sum(r * r)

    made = {"gmm_log_likelihood": gmm, "lstm_loss": lstm, "reprojection_cost": cost}
    return {name: (jax.jit(f), jax.jit(jax.grad(f)), jax) for name, f in made.items()}


def s2sdiff_primal(f, args):
    """The primal s2sdiff compiles for these arguments (their structures flattened)."""
    flat_f, flat_args, _, _ = structures.flattened(f, list(args))
    params = list(flat_f.s2sdiff_tree.args.args)
    primal = derived_unit("primal", flat_f, (), True, kinds=call_kinds([a.arg for a in params], flat_args)).compiled
    return lambda: primal(*flat_args)


def _leaves(gradient):
    parts = [gradient[k] for k in sorted(gradient)] if isinstance(gradient, dict) else [gradient]
    return np.concatenate([np.ravel(np.asarray(p)) for p in parts])


def main():
    from timing import beside_jax_options, medians
    options, limits = beside_jax_options(__doc__.splitlines()[0])
    try:
        peers = jax_versions()
    except ImportError:
        peers = {}
    print("| objective | size | s2sdiff primal ms | s2sdiff grad ms | s2sdiff ÷ primal | JAX primal ms "
          "| JAX grad ms | JAX ÷ its primal | s2sdiff grad ÷ JAX grad |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, (f, problem) in PROBLEMS.items():
        args = problem(options.quick)
        grad = sd.grad(f)
        g = grad(*args)
        calls = {"primal": s2sdiff_primal(f, args), "grad": lambda: grad(*args)}
        jax_calls = {}
        if name in peers:
            jax_primal, jax_grad, jax = peers[name]
            jargs = [jax.tree_util.tree_map(jax.numpy.asarray, a) for a in args]
            reference = _leaves(jax_grad(*jargs))
            assert np.allclose(_leaves(g), reference, rtol=1e-9, atol=1e-9 * np.max(np.abs(reference))), \
                f"{name}: s2sdiff and JAX disagree"
            jax_calls["jax_primal"] = lambda: jax_primal(*jargs).block_until_ready()
            jax_calls["jax_grad"] = lambda: jax.block_until_ready(jax_grad(*jargs))
        t = {key: timing.median for key, timing in medians([calls, jax_calls], limits).items()}
        ms = lambda key: f"{1e3 * t[key]:.2f}" if key in t else "—"  # noqa: E731
        ratio = lambda a, b: f"{t[a] / t[b]:.2f}" if a in t and b in t else "—"  # noqa: E731
        size = {"gmm_log_likelihood": lambda: f"n={len(args[1])}, d={args[1].shape[1]}, K={len(args[0]['logits'])}",
                "lstm_loss": lambda: f"T={len(args[1])}, H={args[0]['Wh'].shape[1]}, V={args[0]['Wy'].shape[0]}",
                "reprojection_cost": lambda: f"{len(args[3])} observations"}[name]()
        print(f"| {name} | {size} | {ms('primal')} | {ms('grad')} | {ratio('grad', 'primal')} | {ms('jax_primal')} "
              f"| {ms('jax_grad')} | {ratio('jax_grad', 'jax_primal')} | {ratio('grad', 'jax_grad')} |")


if __name__ == "__main__":
    main()
