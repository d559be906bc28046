"""Command line:

    python -m s2sdiff show FILE.py:FUNC [--mode forward|reverse] [--wrt ARG]
    python -m s2sdiff bench [--quick] [--only NAME,...] [...]   (see `bench --help`)
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from . import api
from .errors import S2SDiffError


def _load(target: str):
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name:
        raise SystemExit(f"expected FILE.py:FUNC, got {target!r}")
    file = Path(path)
    if not file.is_file():
        raise SystemExit(f"no such file: {path}")
    spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[file.stem] = module
    sys.path.insert(0, str(file.parent.resolve()))
    spec.loader.exec_module(module)
    if not hasattr(module, name):
        raise SystemExit(f"{path} defines no {name!r}")
    return getattr(module, name)


def _wrt(text):
    if text is None:
        return 0
    items = [int(p) if p.lstrip("-").isdigit() else p for p in text.split(",")]
    return tuple(items) if len(items) > 1 else items[0]


def show(args) -> int:
    func = _load(args.target)
    wrt = _wrt(args.wrt)
    try:
        scalar = not api.normalize(api.python_function(func)).tuple_result
        transform = api.grad if scalar else api.jacobian
        print(transform(func, wrt=wrt, mode=args.mode, jit=False).source, end="")
    except S2SDiffError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def bench(options) -> int:
    """Run benchmarks/run.py, which lives in the source tree beside the package."""
    run_py = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
    if not run_py.is_file():
        print("the benchmarks are not part of an installed s2sdiff: run this from a source checkout "
              "(pip install -e '.[bench]' in the repository)", file=sys.stderr)
        return 2
    spec = importlib.util.spec_from_file_location("s2sdiff_benchmarks_run", run_py)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.main(options, prog="python -m s2sdiff bench")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:        # its options, --help included, are run.py's
        return bench(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m s2sdiff", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    show_cmd = commands.add_parser("show", help="print the generated derivative source of a function")
    show_cmd.add_argument("target", metavar="FILE.py:FUNC")
    show_cmd.add_argument("--mode", choices=api.MODES, default="forward")
    show_cmd.add_argument("--wrt", help="parameter(s) to differentiate: index or name, comma-separated")
    show_cmd.set_defaults(run=show)
    commands.add_parser("bench", help="run the benchmark suite (from a source checkout; see bench --help)")
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
