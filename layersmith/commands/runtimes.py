"""`layersmith runtimes [list|fetch] [NAME ...] [--force]`: what runs each Lambda runtime here, and
preparing the Debian sysroots that stand in for the ones this machine's Pythons cannot."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from layersmith.builder.factory import cache_root
from layersmith.builder.runner import SubprocessRunner
from layersmith.errors import UserError
from layersmith.invoke_targets import Chooser
from layersmith.runtimes import ARCHITECTURES, RUNTIMES
from layersmith.sysroots import SYSROOTS, Sysroots, SysrootSpec, by_name, sysroots_dir
from layersmith.table import render_table

# The runtimes layersmith's layers and functions may target today (python3.9 is deprecated).
LISTED = ("python3.10", "python3.11", "python3.12", "python3.13")


def register(sub: Any) -> None:
    parser = sub.add_parser("runtimes", help="what runs each Lambda runtime here; prepare the Debian sysroots")
    parser.add_argument("action", nargs="?", choices=("list", "fetch"), default="list",
                        help="list (default): where each runtime/architecture runs; fetch: prepare sysroots")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"sysroots to fetch (default: all: {', '.join(s.name for s in SYSROOTS)})")
    parser.add_argument("--force", action="store_true", help="fetch again even when prepared")
    parser.set_defaults(func=run)


def _progress(started: float) -> Any:
    def report(message: str) -> None:
        print(f"[{time.monotonic() - started:5.1f} s] {message}", file=sys.stderr, flush=True)

    return report


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    runner = SubprocessRunner()
    sysroots = Sysroots(sysroots_dir(cache_root(args.project)), runner, _progress(started))
    if args.action == "fetch":
        _fetch(sysroots, _requested(args.names), args.force, started)
    else:
        _list(runner, sysroots)
    return 0


def _requested(names: list[str]) -> list[SysrootSpec]:
    """The sysroots `fetch` names (all of them when it names none); an unknown name is an error."""
    if not names:
        return list(SYSROOTS)
    specs = [by_name(n) for n in names]
    unknown = [n for n, s in zip(names, specs, strict=True) if s is None]
    if unknown:
        raise UserError(f"unknown sysroot {unknown[0]!r}; use one of {', '.join(s.name for s in SYSROOTS)}",
                        key="NAME")
    return [s for s in specs if s is not None]


def _fetch(sysroots: Sysroots, specs: list[SysrootSpec], force: bool, started: float) -> None:
    for spec in specs:
        fresh = force or sysroots.python(spec) is None
        python = sysroots.ensure(spec, force=force)
        print(f"{spec.name}: {'prepared' if fresh else 'already prepared'}: {python.label}")
    print(f"sysroots in {sysroots.root} ({time.monotonic() - started:.1f} s)")


def _list(runner: SubprocessRunner, sysroots: Sysroots) -> None:
    """What runs each runtime/architecture here, then the state of each sysroot."""
    chooser = Chooser(runner, sysroots, report=lambda m: print(f"  {m}", file=sys.stderr))
    rows = [[rt, arch, chooser.describe(RUNTIMES[rt], arch)] for rt in LISTED for arch in ARCHITECTURES]
    print(render_table(["runtime", "arch", "runs here on"], rows))
    print()
    prepared = [[s.name, f"python{s.dotted}", s.arch, f"Debian {s.suite}",
                 (f"prepared (CPython {p.version})" if (p := sysroots.python(s)) else "not prepared")]
                for s in SYSROOTS]
    print(render_table(["sysroot", "python", "arch", "from", "state"], prepared))
    print(f"in {sysroots.root} (`layersmith runtimes fetch` prepares them; Python 3.12 exists in no Debian suite)")
