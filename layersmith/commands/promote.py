"""`layersmith promote LAYER --to STACK [--from STACK | --version N [--region R]] [--function F]… [--dry-run]`.

Finds, in each region the target stack's pins name, the version of LAYER whose content
(`Content.CodeSha256`) equals the source's — another stack's pin, a version number, or this
checkout's build — and rewrites those pins in `Pulumi.<STACK>.yaml`, keeping comments and layout.
Prints the unified diff. Exit 0 when written (or nothing to change, or --dry-run); 1 when a region
has no version with that content yet (nothing written); 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from layersmith.builder.factory import make_builder
from layersmith.config import load_stack_config, stack_file
from layersmith.model import LayerSpec, Variant
from layersmith.project import load_project
from layersmith.promote import Promotion, Request, plan_promotion
from layersmith.stack_edit import rewrite_pins, unified_diff, write_atomic


def register(sub: Any) -> None:
    parser = sub.add_parser("promote", help="re-pin a layer in a stack to the version holding given content (boto3)",
                            description="Re-pin LAYER in STACK's Pulumi.<STACK>.yaml to the version holding the "
                                        "same content (Content.CodeSha256) as --from's pin, --version, or this "
                                        "checkout's build, in every region; prints the diff.")
    parser.add_argument("layer", metavar="LAYER", help="layer name (layers/<LAYER>)")
    parser.add_argument("--to", required=True, metavar="STACK", help="stack whose pins are rewritten")
    parser.add_argument("--from", dest="source", metavar="STACK",
                        help="promote what this stack pins (default: this checkout's build)")
    parser.add_argument("--version", type=int, metavar="N",
                        help="a version number: of --from's layer, else of the target's own layer (a rollback)")
    parser.add_argument("--region", help="region --version (or --from's pin) is read in; version numbers differ "
                                         "per region (default: that stack's aws:region)")
    parser.add_argument("--function", action="append", default=[], metavar="FUNCTION",
                        help="only re-pin these functions (repeatable); pins a function that follows latest")
    parser.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    parser.add_argument("--profile", help="AWS profile (default: the target stack's aws:profile, then AWS_PROFILE)")
    parser.add_argument("--json", action="store_true", help="print the changes as JSON (the diff goes to stderr)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from layersmith.aws.content import stack_regions
    from layersmith.errors import UserError

    if args.version is not None and args.version < 1:
        raise UserError("must be a positive version number", key="--version")
    if args.region and args.version is None and args.source is None:
        raise UserError("--region says where --version (or --from's pin) is read; give one of them", key="--region")
    request = Request(args.layer, args.to, args.source, args.version, args.region, tuple(args.function))
    project = load_project(args.project)
    cfg = load_stack_config(project, args.to)
    builder = make_builder(project.root, cfg.builder, image_tag=cfg.image_tag)

    def local(spec: LayerSpec, variant: Variant) -> str:
        return builder.build(spec, variant).sha256

    promotion = plan_promotion(project, request, stack_regions(project, args.to, args.profile), local)
    changes = promotion.changes
    path = project.stack_file(args.to)
    with path.open(encoding="utf-8", newline="") as handle:  # as written: keep \r\n if the file has it
        old = handle.read()
    new = rewrite_pins(old, [c.edit for c in changes], path=path)
    diff = unified_diff(old, new, path)
    written = bool(diff) and not args.dry_run
    if written:
        write_atomic(path, new)
    report(args, promotion, diff, written)
    return 0


def report(args: argparse.Namespace, promotion: Promotion, diff: str, written: bool) -> None:
    changes = promotion.changes
    if args.json:
        print(json.dumps({"stack": args.to, "layer": args.layer, "written": written, "dry_run": args.dry_run,
                          "changes": [{"function": c.site.function, "region": c.site.region, "key": c.site.key,
                                       "layer_name": c.site.layer_name, "from": c.site.pin, "to": c.version,
                                       "content": c.origin} for c in changes],
                          "other_regions": [{"layer_name": name, "region": region, "version": version}
                                            for name, region, version in promotion.elsewhere]}, indent=2))
        sys.stderr.write(diff)
        return
    for c in changes:
        was = "latest" if c.site.pin is None else f"v{c.site.pin}"
        move = f"v{c.version} (unchanged)" if c.site.pin == c.version else f"{was} -> v{c.version}"
        print(f"{c.site.key}: {move}  [{c.site.layer_name} v{c.version} in {c.site.region} holds {c.origin}]")
    for name, region, version in promotion.elsewhere:
        print(f"  {region}: {name} v{version} holds it too (no pin names {region}; its consumers pin there)")
    if not diff:
        print(f"{stack_file(args.project, args.to).name}: already pinned to that content; nothing to change")
        return
    print(diff, end="")
    print("dry run: nothing written" if args.dry_run else
          f"wrote {stack_file(args.project, args.to).name}; deploy with: pulumi up --stack {args.to}")
