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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layersmith.builder.factory import make_builder
from layersmith.model import LayerSpec, Variant
from layersmith.pins.promote import Promotion, Request, plan_promotion
from layersmith.pins.stack_edit import rewrite_pins, unified_diff, write_atomic
from layersmith.project.checkout import Project, load_project, load_stack_config
from layersmith.project.stacks import stack_file

if TYPE_CHECKING:
    from layersmith.aws.inventory_file import FleetInventory
    from layersmith.pins.consumers import ConsumerPromotion


def register(sub: Any) -> None:
    parser = sub.add_parser("promote", help="re-pin a layer in a stack to the version holding given content (boto3)",
                            description="Re-pin LAYER in STACK's Pulumi.<STACK>.yaml to the version holding the "
                                        "same content (Content.CodeSha256) as --from's pin, --version, or this "
                                        "checkout's build, in every region; prints the diff.")
    parser.add_argument("layer", metavar="LAYER", help="layer name (layers/<LAYER>)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="STACK", help="stack whose pins are rewritten")
    target.add_argument("--to-consumers", action="store_true",
                        help="every committed stack that pins LAYER, in one step (all files or none); with "
                             "--inventory FILE, also list other accounts' functions to move by hand")
    parser.add_argument("--inventory", type=Path, metavar="FILE",
                        help="with --to-consumers: the JSON of `layersmith inventory --json`, for the to-do list")
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
    parser.set_defaults(func=dispatch)


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


def dispatch(args: argparse.Namespace) -> int:
    from layersmith.errors import UserError

    if args.to_consumers:
        return run_to_consumers(args)
    if args.inventory:
        raise UserError("--inventory lists the consumers outside this repository; it goes with --to-consumers",
                        key="--inventory")
    return run(args)


def _check_consumer_flags(args: argparse.Namespace) -> None:
    from layersmith.errors import UserError

    if args.function or args.region or (args.version is not None and args.source is None):
        raise UserError("re-pins every pin on LAYER with the content of --from (or this checkout's build); "
                        "--function, --region and a --version without --from go with --to", key="--to-consumers")


def _fleet(project: Project, path: Path | None) -> FleetInventory | None:
    from layersmith.aws.inventory_file import load_inventory
    from layersmith.aws.scope import load_scope

    if path is None:
        return None
    matcher = load_scope(project, None).matcher()
    return load_inventory(path, lambda name: matcher.match(name) is not None)


def run_to_consumers(args: argparse.Namespace) -> int:
    """Every committed stack pinning LAYER re-pinned to the source's content; one diff; all files or none."""
    from layersmith.aws.content import boto3_regions, stack_regions
    from layersmith.pins.consumers import plan_consumers, write_all

    _check_consumer_flags(args)
    project = load_project(args.project)
    inventory = _fleet(project, args.inventory)
    builder = make_builder(project.root)

    def local(spec: LayerSpec, variant: Variant) -> str:
        return builder.build(spec, variant).sha256

    # One set of credentials reads every stack's versions: --profile, else the source's aws:profile.
    regions = stack_regions(project, args.source, args.profile) if args.source else boto3_regions(args.profile)
    plan = plan_consumers(project, args.layer, args.source, args.version, regions, local, inventory)
    diff = "".join(r.diff for r in plan.rewrites)
    written = bool(diff) and not args.dry_run
    if written:
        write_all([(r.path, r.new) for r in plan.rewrites if r.diff])
    if args.json:
        print(json.dumps(consumers_json(args, plan, written), indent=2))
        sys.stderr.write(diff)
    else:
        print_consumers(args, plan, diff)
    return 0


def consumers_json(args: argparse.Namespace, plan: ConsumerPromotion, written: bool) -> dict[str, Any]:
    return {"layer": args.layer, "written": written, "dry_run": args.dry_run, "stacks": [
        {"stack": r.stack, "file": r.path.name, "changes": [
            {"function": c.site.function, "region": c.site.region, "key": c.site.key, "layer_name": c.site.layer_name,
             "from": c.site.pin, "to": c.version, "content": c.origin} for c in r.promotion.changes]}
        for r in plan.rewrites],
        "todo": [{"account": t.account, "region": t.region, "function": t.function, "layer_name": t.layer_name,
                  "from": t.version, "to": t.target} for t in plan.todo]}


def print_consumers(args: argparse.Namespace, plan: ConsumerPromotion, diff: str) -> None:
    for r in plan.rewrites:
        for c in r.promotion.changes:
            move = f"v{c.version} (unchanged)" if c.site.pin == c.version else f"v{c.site.pin} -> v{c.version}"
            print(f"{r.path.name} {c.site.key}: {move}  [{c.site.layer_name} v{c.version} in {c.site.region} "
                  f"holds {c.origin}]")
    print(diff, end="")
    names = ", ".join(r.path.name for r in plan.rewrites if r.diff)
    if not diff:
        print("every consumer stack already pins that content; nothing to change")
    else:
        print(f"dry run: nothing written ({names})" if args.dry_run else
              f"wrote {names}; deploy each with: pulumi up --stack STACK")
    print_todo(args, plan)


def print_todo(args: argparse.Namespace, plan: ConsumerPromotion) -> None:
    if args.inventory is None:
        print("other accounts' functions are not listed: pass --inventory FILE (layersmith inventory --json > FILE)")
        return
    if not plan.todo:
        print(f"to do outside this repository: nothing ({args.inventory} shows no other function attaching "
              f"{args.layer})")
        return
    print(f"to do outside this repository ({len(plan.todo)} function(s) in {args.inventory}; their owners re-pin):")
    for t in plan.todo:
        if t.target == t.version:
            move = f"v{t.version} (already holds it)"
        else:
            move = f"v{t.version} -> " + (f"v{t.target}" if t.target is not None else
                                          "? (no committed stack's promotion looked in that region)")
        print(f"  {t.account}  {t.region}  {t.function}: {t.layer_name} {move}")
