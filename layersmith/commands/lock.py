"""`layersmith lock LAYER [--upgrade | --upgrade-package NAME …]` — requirements.in -> hashed lock."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from layersmith.builder.install import HostInstaller
from layersmith.builder.locking import LockRequest, describe, lock_layer
from layersmith.builder.wheel_index import PyPIIndex
from layersmith.project.specs import load_layers
from layersmith.runner import SubprocessRunner
from layersmith.runtimes.supported import RUNTIMES


def register(sub: Any) -> None:
    parser = sub.add_parser("lock", help="resolve a layer's requirements.in into its hashed lock, per target")
    parser.add_argument("layer", metavar="LAYER")
    parser.add_argument("--upgrade", action="store_true", help="re-resolve everything to the newest versions")
    parser.add_argument("--upgrade-package", action="append", default=[], metavar="NAME",
                        help="move just this package (and what it needs) to its newest version; repeatable")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    spec = load_layers(args.project, [args.layer])[args.layer]
    dest = spec.requirements or spec.directory / "requirements.txt"
    targets = tuple((RUNTIMES[rt], arch) for rt in spec.runtimes for arch in spec.architectures)
    runner = SubprocessRunner()
    installer = HostInstaller(runner)

    def every_target_installs(lock: Path) -> None:
        for runtime, arch in targets:
            installer.resolves(lock, runtime, arch, shown=dest)

    request = LockRequest(spec.name, spec.directory / "requirements.in", dest, targets, args.upgrade,
                          tuple(args.upgrade_package))
    outcome = lock_layer(runner, request, PyPIIndex(), check=every_target_installs)
    shown = dest.relative_to(args.project)
    if not outcome.written:
        print(f"{shown} is up to date for all {len(targets)} target(s); nothing moved")
    else:
        print(f"locked {outcome.lines} requirement line(s) with hashes into {shown}, resolved per target for "
              + ", ".join(describe(rt, a) for rt, a in targets))
        for change in outcome.moved:
            print(f"  {change}")
    if spec.requirements is None:
        print(f"add `requirements = \"{dest.name}\"` to {spec.spec_path.relative_to(args.project)}")
    return 0
