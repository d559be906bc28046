"""`check=True`: a transform verifies its first call's derivative as it returns it.

Two tests, each along one random direction u (and, for several outputs, one random
cotangent w), so a check costs a few evaluations whatever the number of inputs:

* the derivative against differences: the directional derivative J·u the result implies
  is compared with central differences of f along u, at steps h and h/2 combined by
  Richardson extrapolation (error O(h⁴)); the two steps' disagreement estimates the
  differences' own error, and where it is large (a kink or a branch within a step of
  the point) the test says nothing rather than raise a false alarm;
* forward against reverse mode, where both apply: ⟨J·u, w⟩ from the tangent code and
  ⟨u, Jᵀ·w⟩ from the adjoint code must agree to rounding (the dot-product test).

A failed test raises `DerivativeMismatch` with both numbers and the function's name.
"""
from __future__ import annotations

import os

import numpy as np

from . import structures
from .errors import DerivativeMismatch, S2SDiffError

# |AD − differences| ≤ DIFFERENCES_RTOL·scale + 10·(the differences' error estimate) + rounding
DIFFERENCES_RTOL = 1e-6
# forward against reverse mode: the same derivative computed in another order
MODES_RTOL = 1e-8
_EPS = np.finfo(np.float64).eps


def enabled(check) -> bool:
    """check=None follows $S2SDIFF_CHECK (1: on)."""
    return bool(check) if check is not None else os.environ.get("S2SDIFF_CHECK", "0") not in ("", "0")


def directions(args, indices, seed=0):
    """A random direction in the differentiated arguments (float zeros elsewhere), as a
    tuple like `args`: the same direction on every call, so a failure reproduces."""
    rng = np.random.default_rng(seed)
    out = []
    for k, value in enumerate(args):
        if k in indices:
            out.append(rng.standard_normal(np.shape(value)) if np.ndim(value) else float(rng.standard_normal()))
        else:
            out.append(np.zeros(np.shape(value)) if isinstance(value, np.ndarray) else 0.0)
    return tuple(out)


def flat(value) -> np.ndarray:
    """A number, array or structure of them (a tuple, list, dict, NamedTuple or dataclass,
    nested too) as one flat float array."""
    node = structures.structure_of(value)
    if node is not None:
        parts = [np.ravel(np.asarray(leaf, dtype=np.float64)) for leaf in structures.leaves(value, node)]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.ravel(np.asarray(value, dtype=np.float64))


def dot(a, b) -> float:
    return float(np.dot(flat(a), flat(b)))


def functional(f):
    """f as its derivatives take it (desugar.in_place): on copies of the arguments, giving
    the final values of those it writes into where it returns nothing."""
    from .normalize import normalize
    from .parse import python_function
    try:
        function = normalize(python_function(f))
    except S2SDiffError:
        return f
    if not function.changed:
        return f
    written = [function.params.index(p) for p in function.changed]

    def on_copies(*args):
        args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
        value = f(*args)
        if not function.returns_changed:
            return value
        return args[written[0]] if len(written) == 1 else tuple(args[k] for k in written)
    return on_copies


def against_differences(name, what, function, args, u, derivative_along_u):
    """Raise DerivativeMismatch if `derivative_along_u` (flat) is not the derivative of
    `function(*args)` (flattened) along the direction `u`."""
    ad = flat(derivative_along_u)
    moved = [np.abs(flat(a)) for a, d in zip(args, u) if np.any(flat(d))]
    size = max((float(np.max(m)) for m in moved if m.size), default=1.0)
    step = np.cbrt(_EPS) * max(1.0, size) / max(float(np.max(np.abs(flat(u)))), 1e-300)

    def along(t):
        return flat(function(*[a + t * d if np.any(flat(d)) else a for a, d in zip(args, u)]))

    with np.errstate(all="ignore"):
        ends = {t: along(t) for t in (0.0, step, -step, step / 2, -step / 2)}
        coarse = (ends[step] - ends[-step]) / (2 * step)
        fine = (ends[step / 2] - ends[-step / 2]) / step
        # one-sided slopes differ by ~h f'' where f is smooth, and by a jump that does not
        # shrink with the step at a kink
        jump = (ends[step] - 2 * ends[0.0] + ends[-step]) / step
        jump_fine = (ends[step / 2] - 2 * ends[0.0] + ends[-step / 2]) / (step / 2)
    if not (np.all(np.isfinite(coarse)) and np.all(np.isfinite(fine)) and np.all(np.isfinite(ad))):
        return
    extrapolated = (4 * fine - coarse) / 3
    error = np.abs(fine - coarse)
    rounding = 100 * _EPS * max(float(np.max(np.abs(ends[t]))) for t in ends) / step
    scale = max(float(np.max(np.abs(ad))), float(np.max(np.abs(extrapolated))), 1e-300)
    kinked = (np.abs(jump_fine) > 0.75 * np.abs(jump)) & (np.abs(jump) > 4 * rounding)
    if np.any(kinked) or np.any(error > 1e-2 * np.maximum(np.abs(fine), rounding) + rounding):
        return                           # not smooth within a step: differences cannot tell
    tolerance = DIFFERENCES_RTOL * scale + 10 * error + rounding
    if np.any(np.abs(ad - extrapolated) > tolerance):
        k = int(np.argmax(np.abs(ad - extrapolated) - tolerance))
        raise DerivativeMismatch(
            f"{name}: the {what} along a random direction is {float(ad[k])!r}, but central differences of the "
            f"function give {float(extrapolated[k])!r} (component {k}; tolerance {float(np.ravel(tolerance)[k % np.size(tolerance)]):.3g})")


def modes_agree(name, forward, reverse):
    """Raise DerivativeMismatch unless ⟨J·u, w⟩ from forward mode equals ⟨u, Jᵀ·w⟩ from reverse mode."""
    if not (np.isfinite(forward) and np.isfinite(reverse)):
        return
    if abs(forward - reverse) > MODES_RTOL * max(abs(forward), abs(reverse), 1e-300):
        raise DerivativeMismatch(f"{name}: forward and reverse mode disagree: <J u, w> = {forward!r} from forward "
                                 f"mode, <u, J^T w> = {reverse!r} from reverse mode")


# ---- what each transform checks: verify(args, result) after its first call ----------------

def _structured(value, vector):
    """`vector` (flat) in the structure of `value`: a number, an array or a structure of them."""
    node = structures.structure_of(value)
    parts, start = [], 0
    for leaf in structures.leaves(value, node):
        size = np.size(leaf)
        parts.append(vector[start:start + size].reshape(np.shape(leaf)) if np.ndim(leaf) else float(vector[start]))
        start += size
    return structures.rebuilt(node, iter(parts))


def _cotangent(value, seed=1):
    return _structured(value, np.random.default_rng(seed).standard_normal(flat(value).size))


def _other_mode(name, f, args, u, w, jit, forward_side=None, reverse_side=None):
    """The dot-product test along u and w: the side not given is computed in the other mode."""
    from .api import jvp, vjp
    try:
        if forward_side is None:
            forward_side = dot(jvp(f, args, u, jit=jit)[1], w)
        if reverse_side is None:
            reverse_side = dot(u, vjp(f, *args, jit=jit)[1](w))
    except (S2SDiffError, TypeError):
        return                  # the other mode does not apply here (sd.jvp/vjp take no integer arrays)
    modes_agree(name, forward_side, reverse_side)


def for_gradient(f, indices, many, mode, with_value, jit):
    plain = functional(f)
    def verify(name, args, result):
        grads = result[1] if with_value else result
        grads = grads if many else (grads,)
        u = directions(args, indices)
        along = sum(dot(g, u[i]) for g, i in zip(grads, indices))
        against_differences(name, "gradient", plain, args, u, along)
        _other_mode(name, f, args, u, 1.0, jit, **{("reverse_side" if mode == "reverse" else "forward_side"): along})
    return verify


def for_jacobian(f, indices, many, mode, jit, output=None):
    """`output`: the structure of f's result, where the Jacobian has it (one leaf per leaf)."""
    plain = functional(f)

    def verify(name, args, result):
        blocks = structures.leaves(result, output) if output is not None else [result]
        u = directions(args, indices)
        along = [sum(np.tensordot(J, u[i], axes=np.ndim(u[i])) for J, i in zip(block if many else (block,), indices))
                 for block in blocks]
        against_differences(name, "Jacobian", plain, args, u, along)
        w = _cotangent(plain(*args))
        _other_mode(name, f, args, u, w, jit, **{("forward_side" if mode == "forward" else "reverse_side"): dot(along, w)})
    return verify


def for_hessian(f, indices, many, jit):
    from .api import grad
    gradient = grad(f, wrt=indices if many else indices[0], jit=jit)

    def verify(name, args, result):
        blocks = result if many else ((result,),)
        u = directions(args, indices)
        w = directions(args, indices, seed=1)

        def times(vector):
            return np.concatenate([flat(sum(np.tensordot(H, vector[j], axes=np.ndim(vector[j]))
                                            for H, j in zip(row, indices))) for row in blocks])
        hu = times(u)
        against_differences(name, "Hessian", gradient, args, u, hu)
        hw = times(w)
        along_u, along_w = dot(hu, [w[i] for i in indices]), dot(hw, [u[i] for i in indices])
        if abs(along_u - along_w) > MODES_RTOL * max(abs(along_u), abs(along_w), 1e-300) and \
                np.isfinite(along_u) and np.isfinite(along_w):
            raise DerivativeMismatch(f"{name}: the Hessian is not symmetric: <H u, w> = {along_u!r}, "
                                     f"<u, H w> = {along_w!r}")
    return verify


def for_derivative(f, order, jit):
    from .api import derivative
    previous = functional(f) if order == 1 else derivative(f, order - 1, jit=jit)

    def verify(name, args, result):
        u = directions(args, (0,))
        u = (1.0,) + u[1:]
        against_differences(name, "derivative", previous, args, u, result)
    return verify


def check_jvp(name, f, primals, tangents, tangent_out, jit):
    plain = functional(f)
    against_differences(name, "directional derivative", plain, primals, tangents, tangent_out)
    w = _cotangent(plain(*primals))
    _other_mode(name, f, primals, tangents, w, jit, forward_side=dot(tangent_out, w))


def check_vjp(name, f, primals, cotangent, cotangents, jit):
    plain = functional(f)
    u = directions(primals, [k for k, v in enumerate(primals) if not _is_int(v)])
    along = dot(u, cotangents)
    against_differences(name, "vector-Jacobian product", lambda *a: dot(plain(*a), cotangent), primals, u, along)
    _other_mode(name, f, primals, u, cotangent, jit, reverse_side=along)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
