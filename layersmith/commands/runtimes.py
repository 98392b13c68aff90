"""`layersmith runtimes [list|fetch] [NAME ...] [--force]`: what runs each Lambda runtime here, and
preparing the Debian sysroots that stand in for the ones this machine's Pythons cannot."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from layersmith.builder.factory import cache_root
from layersmith.errors import UserError
from layersmith.local.targets import Chooser
from layersmith.project.checkout import Project, load_project
from layersmith.runner import SubprocessRunner
from layersmith.runtimes.supported import ARCHITECTURES, RUNTIMES
from layersmith.runtimes.sysroots import SYSROOTS, Sysroots, SysrootSpec, by_name, sysroot_for, sysroots_dir
from layersmith.table import render_table, wrap_text
from layersmith.terminal import add_wide_option, width_of

# The runtimes layersmith's layers and functions may target today (python3.9 is deprecated).
LISTED = ("python3.10", "python3.11", "python3.12", "python3.13")


def register(sub: Any) -> None:
    parser = sub.add_parser("runtimes", help="what runs each Lambda runtime here; prepare the Debian sysroots")
    parser.add_argument("action", nargs="?", choices=("list", "fetch"), default="list",
                        help="list (default): where each runtime/architecture runs; fetch: prepare sysroots")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="sysroots to fetch (default: those the project's layers and functions need; "
                             f"of {', '.join(s.name for s in SYSROOTS)})")
    parser.add_argument("--all", action="store_true", help="fetch every sysroot, needed or not")
    parser.add_argument("--functions", action="store_true",
                        help="fetch only what the project's functions run on (what `invoke` needs), not the "
                             "layers' other targets")
    parser.add_argument("--force", action="store_true", help="fetch again even when prepared")
    parser.add_argument("--image-tools", action="store_true",
                        help="also put pip and a `python` command in each sysroot's usr/local: what the tests' "
                             "docker stand-in runs (invoke never needs them)")
    add_wide_option(parser)
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
        if args.all:
            specs = list(SYSROOTS)
        elif args.names:
            specs = _requested(args.names)
        else:
            chooser = Chooser(runner, sysroots, report=lambda m: print(f"  {m}", file=sys.stderr),
                              verbose=args.verbose)
            project = load_project(args.project)
            targets = function_targets(project) if args.functions else declared_targets(project)
            specs = needed_sysroots(targets, chooser.host_runs)
        _fetch(sysroots, specs, started, force=args.force, image_tools=args.image_tools)
    else:
        _list(runner, sysroots, width_of(args), args.verbose)
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


def declared_targets(project: Project) -> set[tuple[str, str]]:
    """Every (runtime, architecture) the project's layers list and its functions run on."""
    targets = {(rt, arch) for spec in project.layers.values() for rt in spec.runtimes for arch in spec.architectures}
    return targets | function_targets(project)


def function_targets(project: Project) -> set[tuple[str, str]]:
    """The (runtime, architecture) each of the project's functions runs on: what `invoke` needs."""
    return {(fn.runtime, fn.architecture) for fn in project.functions.values()}


def needed_sysroots(targets: Iterable[tuple[str, str]], host_runs: Callable[[str, str], bool]) -> list[SysrootSpec]:
    """The sysroots that stand in for the targets this machine's own Pythons cannot run, in catalog order."""
    wanted = {spec.name for rt, arch in targets
              if rt in RUNTIMES and not host_runs(rt, arch)
              and (spec := sysroot_for(RUNTIMES[rt].version, arch)) is not None}
    return [s for s in SYSROOTS if s.name in wanted]


def _fetch(sysroots: Sysroots, specs: list[SysrootSpec], started: float, *, force: bool, image_tools: bool) -> None:
    """Every sysroot at once: each is its own private apt (downloads and hash checks against its
    suite's index), unpack and qemu-run precompile, so they overlap on the network and the cores."""
    if not specs:
        print("no sysroot needed: this machine's Pythons run every runtime/architecture the project declares")
        return
    fresh = {spec.name: force or sysroots.python(spec) is None for spec in specs}
    with ThreadPoolExecutor(max_workers=len(specs)) as pool:
        futures = {spec: pool.submit(sysroots.ensure, spec, force=force, image_tools=image_tools) for spec in specs}
        wait(futures.values())
    for spec, future in futures.items():
        if future.exception() is None:
            state = "prepared" if fresh[spec.name] else "already prepared"
            print(f"{spec.name}: {state}: {future.result().label}")
    for future in futures.values():
        future.result()  # the first failure, as one line, once every other sysroot is done
    print(f"sysroots in {sysroots.root} ({time.monotonic() - started:.1f} s)")


def _list(runner: SubprocessRunner, sysroots: Sysroots, width: int | None, verbose: bool) -> None:
    """What runs each runtime/architecture here, then the state of each sysroot."""
    chooser = Chooser(runner, sysroots, report=lambda m: print(f"  {m}", file=sys.stderr), verbose=verbose)
    rows = [[rt, arch, chooser.describe(RUNTIMES[rt], arch)] for rt in LISTED for arch in ARCHITECTURES]
    print(render_table(["runtime", "arch", "runs here on"], rows, width=width))
    print()
    prepared = [[s.name, f"python{s.dotted}", s.arch, f"Debian {s.suite}",
                 (f"prepared (CPython {p.version})" if (p := sysroots.python(s)) else "not prepared")]
                for s in SYSROOTS]
    print(render_table(["sysroot", "python", "arch", "from", "state"], prepared, width=width))
    print(wrap_text(f"in {sysroots.root} (`layersmith runtimes fetch` prepares them; Python 3.12 exists in no "
                    "Debian suite)", width))
