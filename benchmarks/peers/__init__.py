"""The peers s2sdiff is measured against, one module each.

A peer module imports its library at the top (an ImportError there means: not installed)
and defines
  * `VERSION` — the library's version;
  * `prepare(workload, args)` — a `Prepared` gradient (or Hessian, for a Hessian
    workload) of `workload` at the numpy arguments `args`, written the way that library
    is best used; it raises `Unsupported` with the reason where it has no way to do it;
and optionally
  * `PROBE` — {workload name: size} where the peer is first tried, when smaller than the
    workload's `probe_size`;
  * `UNROLLS` — workload names whose compile time grows with the size (the peer traces a
    Python loop into one long program);
  * `RTOL` — the relative error against the hand derivative it must meet (1e-8 default).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

# module -> column label, in table order
LABELS = {
    "jax_peer": "JAX",
    "tangent_peer": "tangent-ad",
    "tangent_jax_peer": "tangent-ad (jax)",
    "torch_peer": "PyTorch",
    "autograd_peer": "autograd",
    "finite_diff": "central FD",
}


class Unsupported(Exception):
    """The peer cannot compute this workload's derivative (the message says why)."""


@dataclass
class Prepared:
    call: Callable[[], object]                 # one timed evaluation, finished when it returns
    to_numpy: Callable[[object], object] = None   # its result laid out like the hand derivative


@dataclass
class Peer:
    key: str
    label: str
    module: object = None
    version: str = ""
    missing: str = ""                          # why it cannot run at all ("" if it can)
    probe: dict = field(default_factory=dict)
    unrolls: frozenset = frozenset()
    rtol: float = 1e-8


def load(keys=None) -> list:
    """Every peer (or those in `keys`), imported where possible; a peer that does not
    import carries the reason in `.missing` instead of raising."""
    peers = []
    for key, label in LABELS.items():
        if keys is not None and key not in keys:
            continue
        peer = Peer(key, label)
        try:
            module = importlib.import_module(f"{__name__}.{key}")
        except ImportError as exc:
            peer.missing = f"not installed ({exc.name or exc})"
        except Exception as exc:       # installed but broken: report it, do not crash the run
            peer.missing = f"fails to import: {type(exc).__name__}: {exc}".splitlines()[0]
        else:
            peer.module, peer.version = module, module.VERSION
            peer.probe = getattr(module, "PROBE", {})
            peer.unrolls = frozenset(getattr(module, "UNROLLS", ()))
            peer.rtol = getattr(module, "RTOL", 1e-8)
        peers.append(peer)
    return peers


def as_numpy(value):
    """A result (array-like, or a tuple of them) as numpy arrays and floats."""
    if isinstance(value, (tuple, list)):
        return tuple(as_numpy(v) for v in value)
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array
