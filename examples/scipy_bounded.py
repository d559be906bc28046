"""The lecture notes' bounded 50-dimensional problem (ex 2.3) with SciPy's L-BFGS-B:
s2sdiff's gradient against SciPy's own finite differences.

minimize Σᵢ 0.1(xᵢ − i)² + sin(xᵢ) cos(xᵢ₊₁) + exp(−xᵢ²),  i = 1 … 50  (x₅₁ = x₁, as in the notes' code)
subject to xᵢ ≤ 1 for i = 1 … 10 and xᵢ ≤ 20 for i = 11 … 50, from a random start in [0, 1)⁵⁰.

Needs scipy (pip install 's2sdiff[test]').
"""
import math

import numpy as np
from scipy.optimize import minimize

import s2sdiff as sd


def objective(x):
    n = len(x)
    s = 0.0
    for i in range(n):
        s += 0.1 * (x[i] - (i + 1)) ** 2 + math.sin(x[i]) * math.cos(x[(i + 1) % n]) + math.exp(-x[i] ** 2)
    return s


class Counted:
    """A function that counts its calls."""

    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, x):
        self.calls += 1
        return self.function(x)


def main():
    x0 = np.random.default_rng(0).random(50)
    bounds = [(None, 1.0)] * 10 + [(None, 20.0)] * 40
    gradient = sd.grad(objective)
    gradient(x0)                                   # compile once, outside the timing
    print(f"check_grad at x0: {sd.check_grad(objective, x0):.1e}\n")

    runs = {}
    for name, jac in [("s2sdiff gradient", Counted(gradient)), ("finite differences", None)]:
        f = Counted(objective)
        result = minimize(f, x0, jac=jac, bounds=bounds, method="L-BFGS-B")
        runs[name] = (result, f.calls, jac.calls if jac else 0)

    print(f"{'L-BFGS-B with':<20}{'f calls':>9}{'gradient calls':>16}{'iterations':>12}{'final f':>22}")
    for name, (result, f_calls, grad_calls) in runs.items():
        print(f"{name:<20}{f_calls:>9}{grad_calls:>16}{result.nit:>12}{result.fun:>22.13f}")
    (ad, ad_calls, ad_grads), (fd, fd_calls, _) = runs.values()
    print(f"\nfinite differences need {fd_calls / (ad_calls + ad_grads):.0f}× the evaluations (each gradient "
          f"costs n + 1 = 51 calls of f); final values differ by {fd.fun - ad.fun:.1e}; "
          f"largest difference in x: {np.max(np.abs(ad.x - fd.x)):.1e}")
    active = np.flatnonzero(ad.x >= np.array([upper for _, upper in bounds]) - 1e-10) + 1
    print(f"bounds active at the s2sdiff solution: x_i for i in {', '.join(map(str, active))}")


if __name__ == "__main__":
    main()
