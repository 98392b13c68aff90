"""`layersmith lock LAYER` — requirements.in -> hashed lock (requirements.txt next to it)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from layersmith.build.install import HostInstaller, lock_requirements
from layersmith.build.runner import SubprocessRunner
from layersmith.errors import SpecError
from layersmith.runtimes import RUNTIMES
from layersmith.specs import load_layers, parse_lock


def register(sub: Any) -> None:
    parser = sub.add_parser("lock", help="resolve a layer's requirements.in into its hashed lock")
    parser.add_argument("layer", metavar="LAYER")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    spec = load_layers(args.project, [args.layer])[args.layer]
    source = spec.directory / "requirements.in"
    if not source.is_file():
        raise SpecError("no requirements.in to lock; create it with one requirement per line", path=source)
    dest = spec.requirements or spec.directory / "requirements.txt"
    oldest = min((RUNTIMES[r] for r in spec.runtimes), key=lambda r: r.version)
    runner = SubprocessRunner()
    installer = HostInstaller(runner)
    targets = [(RUNTIMES[rt], arch) for rt in spec.runtimes for arch in spec.architectures]

    def every_variant_installs(lock: Path) -> None:
        # The universal lock knows Python versions, not glibc: python3.11 on Amazon Linux 2 may need
        # older releases (markers in requirements.in). Refuse a lock some variant cannot install.
        for runtime, arch in targets:
            installer.resolves(lock, runtime, arch, shown=dest)

    lock_requirements(runner, source, dest, oldest, spec.name, check=every_variant_installs)
    reqs = parse_lock(dest)
    print(f"locked {len(reqs)} requirement line(s) with hashes into {dest.relative_to(args.project)}; "
          f"checked that all {len(targets)} runtime/architecture targets install from it")
    if spec.requirements is None:
        print(f"add `requirements = \"{dest.name}\"` to {spec.spec_path.relative_to(args.project)}")
    return 0
