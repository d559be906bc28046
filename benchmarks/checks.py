"""Reference derivatives and error measures: every derivative in the benchmark is checked
before it is timed — the hand-written ones against complex-step references, everything
else against the hand-written ones."""
from __future__ import annotations

import numpy as np

from workloads import wrt_indices

RTOL_ORACLE = 1e-10        # hand derivatives (and s2sdiff) vs complex-step references
RTOL_VS_HAND = 1e-9        # s2sdiff vs the hand derivative, at the benchmark size
H = 1e-30                  # complex step


class Failure(Exception):
    """A hand-written derivative is wrong: nothing measured against it would mean anything."""


def flat(value) -> np.ndarray:
    """A derivative (array, float, or tuple of them) as one float vector."""
    if isinstance(value, tuple):
        return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in value])
    return np.ravel(np.asarray(value, dtype=float))


def rel_err(got, ref) -> float:
    """max |got - ref| / max |ref| (max-norm relative error)."""
    got, ref = flat(got), flat(ref)
    if got.shape != ref.shape:
        return float("inf")
    return float(np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-300))


def split(vector, args, indices):
    """A vector over the differentiated arguments -> one piece per argument (shape kept)."""
    pieces, k = [], 0
    for i in indices:
        size = np.size(args[i])
        piece = vector[k:k + size]
        pieces.append(piece.reshape(np.shape(args[i])) if np.ndim(args[i]) else piece[0])
        k += size
    return pieces


def complex_step(workload, args, direction) -> float:
    """Im f(args + i h direction) / h: the directional derivative, exact to rounding."""
    indices = wrt_indices(workload)
    shifted = list(args)
    for i, piece in zip(indices, split(direction, args, indices)):
        shifted[i] = args[i] + 1j * H * piece
    return float(np.imag(workload.f_complex(*shifted)) / H)


def complex_step_gradient(workload, args) -> np.ndarray:
    m = sum(np.size(args[i]) for i in wrt_indices(workload))
    return np.array([complex_step(workload, args, np.eye(1, m, j)[0]) for j in range(m)])


def complex_step_hessian(workload, x) -> np.ndarray:
    """Column j: Im g(x + i h e_j) / h, g the gradient written out in complex NumPy."""
    n = x.size
    return np.stack([np.imag(workload.grad_complex(x + 1j * H * np.eye(1, n, j)[0])) / H for j in range(n)],
                    axis=1)


def check_hand(workload, size, args, rng) -> list:
    """The hand derivatives against complex-step references; returns the lines for the
    report and raises Failure above RTOL_ORACLE."""
    lines = []
    small_size = min(workload.oracle_size, size)
    small = workload.inputs(small_size)

    def expect(err, what):
        lines.append(f"{what}: {err:.1e}")
        if not err <= RTOL_ORACLE:
            raise Failure(f"{workload.name}: {what} is {err:.2e}")

    ref_small = complex_step_gradient(workload, small)
    expect(rel_err(workload.hand_grad(*small), ref_small),
           f"hand gradient vs complex step, all {ref_small.size} components at {workload.size_label}={small_size}")
    if workload.hessian:
        expect(rel_err(workload.hand_hessian(*small), complex_step_hessian(workload, small[0])),
               f"hand Hessian vs complex step of the gradient at {workload.size_label}={small_size}")
        return lines
    hand = workload.hand_grad(*args)
    direction = rng.standard_normal(flat(hand).size)
    ref = complex_step(workload, args, direction)
    expect(abs(float(flat(hand) @ direction) - ref) / max(abs(ref), 1e-300),
           f"hand gradient vs complex step along a random direction at {workload.size_label}={size}")
    return lines
