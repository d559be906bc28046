"""The rules of SciPy's special functions (and math.erf/erfc), elementwise, and the log of a
sum of exponentials that scipy.special.logsumexp, softmax and log_softmax are made of
(reductions.py lowers those three).

Users write them as `scipy.special.gammaln`, however imported; generated code calls the
runtime helpers of the same names, which numba compiles (runtime.py).  Every derivative is
made of primitives of this table, so derivatives of any order follow: ψ⁽ⁿ⁾′ = ψ⁽ⁿ⁺¹⁾.

Conventions: xlogy(x, y) = x log y is 0 where x == 0 (SciPy's), for every y; so is its
derivative in y there, while its derivative in x is log y (exact for y > 0; -inf at y == 0,
where x log y falls to -inf as soon as x moves).  xlog1py likewise.
"""
import math

from . import TWO_OVER_SQRT_PI, _rule, binary, unary

SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2
SQRT_2PI = math.sqrt(2 * math.pi)

#       op           spellings                                forward: dz =             reverse: bx +=, by +=
# ---- gamma and its logarithmic derivatives -------------------------------------------
unary("gammaln",    "runtime.gammaln scipy.special.gammaln", "digamma(x) * dx",        "bz * digamma(x)")
unary("digamma",    "runtime.digamma scipy.special.digamma scipy.special.psi",
                                                             "polygamma(1, x) * dx",   "bz * polygamma(1, x)")
_rule("polygamma",  ("n", "x"), "runtime.polygamma scipy.special.polygamma",
      "polygamma(n + 1, x) * dx", None, "bz * polygamma(n + 1, x)")
# log Γ_d(a) = d(d−1)/4 log π + Σⱼ₌₀..d₋₁ gammaln(a − j/2); its derivatives are sums of polygammas
_rule("multigammaln", ("a", "d"), "runtime.multigammaln scipy.special.multigammaln",
      "multipolygamma(0, a, d) * da", "bz * multipolygamma(0, a, d)", None)
_rule("multipolygamma", ("n", "a", "d"), "runtime.multipolygamma",
      "multipolygamma(n + 1, a, d) * da", None, "bz * multipolygamma(n + 1, a, d)", None)
# log |B(a, b)| = gammaln(a) + gammaln(b) − gammaln(a + b)
binary("betaln",    "runtime.betaln scipy.special.betaln",
       "(digamma(x) - digamma(x + y)) * dx + (digamma(y) - digamma(x + y)) * dy",
       "bz * (digamma(x) - digamma(x + y))", "bz * (digamma(y) - digamma(x + y))")

# ---- the logistic function and its inverse -------------------------------------------
# expit′ = expit(x) expit(−x): no overflow of eˣ, no 1 − expit(x) cancelling to 0
unary("expit",      "runtime.expit scipy.special.expit",     "z * expit(-x) * dx",     "bz * z * expit(-x)")
unary("log_expit",  "runtime.log_expit scipy.special.log_expit", "expit(-x) * dx",     "bz * expit(-x)")
unary("logit",      "runtime.logit scipy.special.logit",     "dx / (x * (1 - x))",     "bz / (x * (1 - x))")

# ---- error functions and the normal distribution -------------------------------------
unary("erf",        "math.erf runtime.erf scipy.special.erf", f"{TWO_OVER_SQRT_PI!r} * exp(-x * x) * dx",
                                                             f"{TWO_OVER_SQRT_PI!r} * bz * exp(-x * x)")
unary("erfc",       "math.erfc runtime.erfc scipy.special.erfc", f"-{TWO_OVER_SQRT_PI!r} * exp(-x * x) * dx",
                                                             f"-{TWO_OVER_SQRT_PI!r} * bz * exp(-x * x)")
unary("erfinv",     "runtime.erfinv scipy.special.erfinv",   f"{SQRT_PI_OVER_2!r} * exp(z * z) * dx",
                                                             f"{SQRT_PI_OVER_2!r} * bz * exp(z * z)")
unary("erfcinv",    "runtime.erfcinv scipy.special.erfcinv", f"-{SQRT_PI_OVER_2!r} * exp(z * z) * dx",
                                                             f"-{SQRT_PI_OVER_2!r} * bz * exp(z * z)")
unary("ndtr",       "runtime.ndtr scipy.special.ndtr",       f"exp(-0.5 * x * x) / {SQRT_2PI!r} * dx",
                                                             f"bz * exp(-0.5 * x * x) / {SQRT_2PI!r}")
unary("ndtri",      "runtime.ndtri scipy.special.ndtri",     f"{SQRT_2PI!r} * exp(0.5 * z * z) * dx",
                                                             f"{SQRT_2PI!r} * bz * exp(0.5 * z * z)")
# log Φ′ = φ/Φ, a helper of its own: exp(−x²/2 − log_ndtr(x)) cancels in the lower tail.
# Its derivative −r(x + r) loses about x² ulps for x ≪ 0 (r → −x there).
unary("log_ndtr",   "runtime.log_ndtr scipy.special.log_ndtr", "log_ndtr_slope(x) * dx", "bz * log_ndtr_slope(x)")
unary("log_ndtr_slope", "runtime.log_ndtr_slope",            "-z * (x + z) * dx",      "-bz * z * (x + z)")

# ---- x log y, 0 where x == 0 ---------------------------------------------------------
binary("xlogy",     "runtime.xlogy scipy.special.xlogy",     "log(y) * dx + (0.0 if x == 0 else x / y) * dy",
       "bz * log(y)", "0.0 if x == 0 else bz * x / y",
       array=("log(y) * dx + choose(x == 0, 0.0, x / y) * dy", "bz * log(y)", "bz * choose(x == 0, 0.0, x / y)"))
binary("xlog1py",   "runtime.xlog1py scipy.special.xlog1py", "log1p(y) * dx + (0.0 if x == 0 else x / (1 + y)) * dy",
       "bz * log1p(y)", "0.0 if x == 0 else bz * x / (1 + y)",
       array=("log1p(y) * dx + choose(x == 0, 0.0, x / (1 + y)) * dy", "bz * log1p(y)",
              "bz * choose(x == 0, 0.0, x / (1 + y))"))

# ---- log Σ eˣ: of the whole array (a number), and along one axis ---------------------
unary("logsumexp",  "runtime.logsumexp",                     "sum(dx * exp(x - z))",   "bz * exp(x - z)",
      result="number")
_rule("logsumexp_axis", ("x", "axis"), "runtime.logsumexp_along",
      "sum_axis(dx * exp(x - expand(z, axis)), axis)", "expand(bz, axis) * exp(x - expand(z, axis))", None,
      result="array")
