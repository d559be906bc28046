"""The benchmark harness (benchmarks/): every installed peer agrees with the hand-written
derivative at a tiny size, a missing peer is reported instead of failing, and the runner
writes its report. No timings are asserted."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import peers  # noqa: E402
import run  # noqa: E402
import timing  # noqa: E402
from checks import rel_err  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

from s2sdiff.__main__ import main as cli  # noqa: E402

TINY = {"objective": 50, "rosenbrock": 50, "ode": 20, "notes_f": 50, "mlp_small": 8, "mlp_large": 4, "hessian": 10}
LOADED = {p.key: p for p in peers.load()}


@pytest.mark.parametrize("name", [name for name, w in WORKLOADS.items() if not w.variant_of])
@pytest.mark.parametrize("key", list(peers.LABELS))
def test_peer_matches_hand_derivative(key, name):
    peer = LOADED[key]
    if peer.missing:
        pytest.skip(peer.missing)
    w = WORKLOADS[name]
    args = w.inputs(min(TINY[name], peer.probe.get(name, TINY[name])))
    try:
        prepared = peer.module.prepare(w, args)
    except peers.Unsupported as exc:
        pytest.skip(str(exc))
    assert rel_err(prepared.to_numpy(prepared.call()), w.hand(*args)) <= peer.rtol


def test_missing_peer_is_reported_not_raised(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)          # import torch now raises ImportError
    monkeypatch.delitem(sys.modules, "peers.torch_peer", raising=False)
    (peer,) = peers.load(["torch_peer"])
    assert peer.module is None and peer.missing.startswith("not installed")


def test_ladder_grows_by_half_decades_to_the_target():
    assert timing.ladder(100, 100_000) == [100, 300, 1000, 3000, 10_000, 30_000, 100_000]
    assert timing.ladder(16, 256) == [16, 48, 160, 256]
    assert timing.ladder(100, 100) == [100]


def test_runner_writes_the_report(tmp_path, monkeypatch):
    monkeypatch.setenv("TANGENT_CACHE_DIR", str(tmp_path))   # the runner points it elsewhere
    output = tmp_path / "results.md"
    assert run.main(["--quick", "--only", "hessian", "--peers", "finite_diff", "--no-processes",
                     "--output", str(output)]) == 0
    text = output.read_text()
    assert "| hessian | 1e2 |" in text and "central FD" in text and "## Validation" in text


def test_bench_subcommand_hands_its_options_to_the_runner(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli(["bench", "--help"])
    assert exit_.value.code == 0
    assert "python -m s2sdiff bench" in capsys.readouterr().out


def test_whole_array_peers_run_the_numpy_source():
    """JAX and PyTorch run each whole-array workload's NumPy source to NumPy's value."""
    import whole_array
    from numpy_surface import translated
    modules = {}
    for name, wrap in (("jax", lambda jax: jax.numpy), ("torch", whole_array.TorchAsNumpy)):
        try:
            modules[name] = wrap(__import__(name))
        except ImportError:
            continue
    if not modules:
        pytest.skip("neither JAX nor PyTorch is installed")
    if "jax" in modules:
        sys.modules["jax"].config.update("jax_enable_x64", True)
    for case in whole_array._cases().values():
        args = case.inputs(True)
        expected = case.array_form(*args)
        for name, module in modules.items():
            values = [a if isinstance(a, (int, float)) else module.asarray(a) for a in args]
            assert float(translated(case.array_form, module)(*values)) == pytest.approx(expected, rel=1e-10), \
                (case.name, name)


def test_whole_array_table_gives_reasons_not_times():
    import whole_array
    one = [{"name": "w", "size": "n=3", "primal_ms": 1.0, "cells": {"s2sdiff": "refused: why", "JAX": 2.0,
                                                                    "PyTorch": 4.0}, "ms": {}}]
    every = [{"name": "w", "size": "n=3", "cells": {"s2sdiff parallel": 3.0, "JAX": 1.5}, "ms": {}}]
    text = whole_array.table(one, every)
    assert "| w | n=3 | 1.00 | ✗ [1] | 3.00 | 2.00 | 1.50 | 4.00 | — | — | 2.00 |" in text
    assert "[1] refused: why" in text
