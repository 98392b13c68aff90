"""`layersmith cache prune [--dry-run] [--image-tag T]` — drop build cache entries nothing current can produce."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from layersmith.builder.cache import BuildCache
from layersmith.builder.cache_prune import execute, plan_cache_prune, total_size
from layersmith.builder.docker import DEFAULT_IMAGE_TAG, DockerInstaller
from layersmith.builder.factory import cache_root
from layersmith.builder.install import HostInstaller
from layersmith.project.specs import load_layers
from layersmith.runner import SubprocessRunner


def register(sub: Any) -> None:
    parser = sub.add_parser("cache", help="manage the local build cache")
    actions = parser.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    prune = actions.add_parser("prune", help="remove cached builds and pieces no current layer spec or lock "
                                             "can produce")
    prune.add_argument("--dry-run", action="store_true", help="list what would be removed; remove nothing")
    prune.add_argument("--image-tag", default=DEFAULT_IMAGE_TAG,
                       help="keep --builder docker entries of this image tag (default: %(default)s)")
    prune.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks")
    prune.add_argument("--project", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                       help="project directory (holds Pulumi.yaml); default: the nearest one from . upwards")
    prune.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cache = BuildCache(cache_root(args.project))
    runner = SubprocessRunner()
    specs = load_layers(args.project)
    plan = plan_cache_prune(cache, specs, [HostInstaller(runner), DockerInstaller(runner, image_tag=args.image_tag)])
    for note in plan.notes:
        print(f"note: {note}")
    size = total_size(plan.paths())
    if args.dry_run:
        for path in plan.paths():
            print(f"would remove {path.relative_to(cache.root)}")
        verb = "would remove"
    else:
        size = execute(cache, plan)
        verb = "removed"
    print(f"{verb} {len(plan.entries)} variant build(s) and {len(plan.pieces)} piece(s), {size / 1e6:.1f} MB; "
          f"kept {plan.kept_entries} build(s) and {plan.kept_pieces} piece(s) in {cache.root}")
    return 0
