"""`layersmith report [--stack S] [--output FILE] [--inventory FILE | --online …] [--json]`.

Writes one self-contained HTML file (no network needed to open it): who runs which version of each
layer variant, what each variant weighs by distribution against the 250 MB budget, who may read
which version, and pins whose content differs between regions. Offline it reads the committed
stacks and the build cache; --inventory FILE (from inventory --json) or --online adds the fleet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path

from layersmith.aws.inventory_file import FleetInventory, load_inventory, parse_inventory
from layersmith.builder.factory import make_builder
from layersmith.builder.sizes import VariantSizes, cached_sizes
from layersmith.errors import UserError
from layersmith.fleet.report_data import ContentLookup, Report, SizeLookup, Sources, build_report
from layersmith.fleet.report_html import MAX_BYTES, render_html, report_json, write_report
from layersmith.model import LayerSpec, Variant
from layersmith.project.checkout import Project, load_project

DEFAULT_OUTPUT = "layersmith-report.html"
_DESCRIPTION = " ".join((__doc__ or "").split("\n\n")[1].split())


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from layersmith.aws.options import add_scan_arguments

    parser = sub.add_parser("report", help="one self-contained HTML report: versions, sizes, grants, drift",
                            description=_DESCRIPTION)
    add_scan_arguments(parser)  # --stack, --json, and the scan's --regions/--accounts/… for --online
    parser.add_argument("--output", type=Path, default=Path(DEFAULT_OUTPUT), metavar="FILE",
                        help=f"where to write the HTML (default: {DEFAULT_OUTPUT})")
    parser.add_argument("--inventory", type=Path, metavar="FILE", help="the JSON of `layersmith inventory --json`")
    parser.add_argument("--online", action="store_true",
                        help="scan the fleet now (like inventory) and read each pinned version's content")
    parser.add_argument("--profile", help="AWS profile --online reads contents with (default: the credential chain)")
    parser.set_defaults(func=run)


def _sizes(project: Project, stack: str | None) -> SizeLookup:
    """Sizes from the cache of the builder the stack uses (its kind is part of the cache key)."""
    cfg = project.stack_config(stack) if stack else None
    builder = make_builder(project.root, cfg.builder if cfg else "host", image_tag=cfg.image_tag if cfg else None)

    def lookup(spec: LayerSpec, variant: Variant) -> VariantSizes | None:
        return cached_sizes(builder, spec, variant)

    return lookup


def _online(args: argparse.Namespace, is_ours: Callable[[str], bool]) -> tuple[FleetInventory, ContentLookup]:
    from layersmith.aws.content import boto3_regions
    from layersmith.aws.options import run_scan
    from layersmith.aws.report import inventory_json

    _, inventory, _ = run_scan(args)
    regions = boto3_regions(args.profile)

    def content(name: str, region: str, version: int) -> str | None:
        found = regions(region).get(name, version)
        return found.code_sha256 if found else None

    return parse_inventory(inventory_json(inventory), Path("(online scan)"), is_ours), content


def _check_flags(args: argparse.Namespace) -> None:
    if args.online and args.inventory:
        raise UserError("give --inventory FILE or --online, not both", key="--online")
    if (args.regions or args.accounts) and not args.online:
        raise UserError("--regions and --accounts say what --online scans; add --online (or read a saved "
                        "inventory with --inventory FILE)", key="--regions" if args.regions else "--accounts")


def _fleet(args: argparse.Namespace, project: Project) -> Sources:
    """Where the fleet comes from: an inventory file, a scan now, or nowhere (offline)."""
    from layersmith.aws.scope import load_scope

    matcher = load_scope(project, args.stack).matcher()  # also refuses an unknown --stack

    def is_ours(name: str) -> bool:
        return matcher.match(name) is not None

    sizes = _sizes(project, args.stack)
    if args.inventory:
        return Sources(sizes, load_inventory(args.inventory, is_ours), str(args.inventory))
    if args.online:
        inventory, content = _online(args, is_ours)
        return Sources(sizes, inventory, "online scan", content)
    return Sources(sizes)


def _written(args: argparse.Namespace, data: Report, size: int) -> None:
    print(f"wrote {args.output} ({size / 1e6:.2f} MB): {len(data.rows)} functions × {len(data.columns)} "
          f"layer variants, {sum(t.built for t in data.treemaps)} of {len(data.treemaps)} variants built")
    for note in data.notes:
        print(f"  {note}")
    if size > MAX_BYTES:
        print(f"layersmith: warning: the report is {size / 1e6:.1f} MB, over the 2 MB it aims for", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    _check_flags(args)
    project = load_project(args.project)
    sources = _fleet(args, project)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    data = build_report(project, args.stack, sources, generated)
    if args.json:
        print(json.dumps(json.loads(report_json(data)), indent=2))
        return 0
    html = render_html(data)
    write_report(args.output, html)
    _written(args, data, len(html.encode()))
    return 0
