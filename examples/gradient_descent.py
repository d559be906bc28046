"""Gradient descent on the lecture notes' example (ex 2.2), with s2sdiff's gradient.

f(x) = ((x₁ − a)/4)² + ((x₂ − b)/3)²,  a = 2, b = −3,  from x₀ = (8, 9); the minimum is (a, b).

The notes' code writes the gradient as ((x₁ − a)/2, 2(x₂ − b)/3); differentiating gives
((x₁ − a)/8, 2(x₂ − b)/9) — sd.check_grad reports the slip. Runs plain descent for several
learning rates and heavy-ball momentum (z ← αz + ∇f, x ← x − γz), stopping when
‖∇f‖∞ ≤ 1e-6, and plots f(x_k) against k into gradient_descent.png (needs matplotlib:
pip install 's2sdiff[examples]').
"""
from pathlib import Path

import numpy as np

import s2sdiff as sd

A, B = 2.0, -3.0
START = np.array([8.0, 9.0])
RUNS = [(0.01, 0.0), (0.1, 0.0), (1.0, 0.0), (4.0, 0.0), (0.01, 0.8), (0.1, 0.8)]   # (γ, α)


def f(x, a, b):
    return ((x[0] - a) / 4) ** 2 + ((x[1] - b) / 3) ** 2


def notes_gradient(x, a, b):
    return np.array([(x[0] - a) / 2, 2 * (x[1] - b) / 3])


def plot(results, path):
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 's2sdiff[examples]')")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=100)
    colors = {lr: f"C{i}" for i, lr in enumerate(dict.fromkeys(lr for lr, _ in RUNS))}
    for (lr, momentum), result in zip(RUNS, results):
        label = f"γ = {lr:g}" + (f", α = {momentum:g}" if momentum else "")
        ax.loglog(np.arange(1, len(result.history) + 1), result.history, label=f"{label}  ({result.nit} steps)",
                  color=colors[lr], linestyle="--" if momentum else "-")
    ax.set_xlabel("iteration k + 1")
    ax.set_ylabel("f(x_k)   (minimum 0)")
    ax.set_title("Gradient descent from (8, 9) to (a, b) = (2, −3), until ‖∇f‖∞ ≤ 1e-6;  dashed: momentum",
                 fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path)
    print(f"wrote {path}")


def main():
    print("the notes' hand-written gradient, checked against the complex step:")
    print(sd.check_grad(f, START, A, B, jac=notes_gradient))
    print(f"s2sdiff's own gradient: largest relative error {sd.check_grad(f, START, A, B):.1e}\n")

    print(f"{'learning rate':>14} {'momentum':>9} {'iterations':>11}   x")
    results = []
    for lr, momentum in RUNS:
        result = sd.optimize.gradient_descent(f, START, lr=lr, momentum=momentum, tol=1e-6, max_iter=50_000,
                                              args=(A, B))
        results.append(result)
        print(f"{lr:>14g} {momentum:>9g} {result.nit:>11d}   ({result.x[0]:.7f}, {result.x[1]:.7f})"
              f"{'' if result.converged else '  ' + result.message}")
    plain, heavy = results[0].nit, results[4].nit
    print(f"\nat γ = 0.01, momentum 0.8 needs {plain / heavy:.1f}× fewer iterations ({heavy} against {plain})")
    plot(results, Path(__file__).with_name("gradient_descent.png"))


if __name__ == "__main__":
    main()
