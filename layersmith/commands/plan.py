"""`layersmith plan --stack NAME [--online [--profile P]] [--json]` — the real program under Pulumi's mocks.

`--online` asks AWS (boto3, read-only) for each published variant's latest version in every region
the stack publishes to, says whether `pulumi up` would publish a new version or reuse it
(`layersmith.pins.publish_forecast`), and plans with those real version numbers instead of mocked ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from layersmith.builder.factory import build_layers, cache_root, make_builder
from layersmith.checks.plan_view import render_plan
from layersmith.checks.report import size_warnings
from layersmith.infra.preview import run_plan
from layersmith.local.resolve import attached_layers
from layersmith.pins.publish_forecast import Forecast, forecast
from layersmith.project.checkout import Project, load_project, load_stack_config
from layersmith.project.specs import DISK, Reader
from layersmith.project.stack_owners import require_unique_prefix
from layersmith.project.stacks import require_stack
from layersmith.terminal import add_wide_option, width_of


def register(sub: Any) -> None:
    parser = sub.add_parser("plan", help="plan a stack offline: the real program under Pulumi's mocks")
    parser.add_argument("--stack", help="stack name (reads Pulumi.<stack>.yaml); without it the committed stacks "
                                        "are listed")
    parser.add_argument("--json", action="store_true", help="print {project, stack, resources, outputs}")
    parser.add_argument("--online", action="store_true",
                        help="compare each variant with its latest version on AWS: would pulumi up publish?")
    parser.add_argument("--profile", help="AWS profile for --online (default: the stack's aws:profile, then "
                                          "AWS_PROFILE / the default credential chain)")
    add_wide_option(parser)
    parser.set_defaults(func=run)


def online_forecast(project: Project, stack: str, profile: str | None) -> list[Forecast]:
    """Build what the stack publishes (cache hits when unchanged), then ask AWS about each variant."""
    from layersmith.aws.content import stack_regions

    cfg = load_stack_config(project, stack)
    if not cfg.publish:
        return []
    builder = make_builder(project.root, cfg.builder, image_tag=cfg.image_tag)
    specs = project.layer_specs(list(cfg.publish))
    builds = build_layers(project.root, list(cfg.publish), builder=builder, specs=specs)
    return forecast(cfg, specs, builds, stack_regions(project, stack, profile))


def run(args: argparse.Namespace, reader: Reader = DISK) -> int:
    """`reader`: how project files are read (a test counts the reads)."""
    project = load_project(args.project, reader)
    args.stack = require_stack(project.root, args.stack, "plan")
    cfg = load_stack_config(project, args.stack)  # a stack that does not validate fails before any warning
    require_unique_prefix(project, cfg, project.stack_raw(args.stack))
    for line in project.unused_warnings(args.stack):  # a broken spec this stack does not use
        project.report_once(line, lambda m: print(f"layersmith: warning: {m}", file=sys.stderr))
    forecasts = online_forecast(project, args.stack, args.profile) if args.online else None
    versions = {(f.region, f.layer_name): f.version for f in forecasts or []}
    plan = run_plan(project, args.stack, versions=versions)
    if forecasts is not None:
        plan["online"] = [f.to_json() for f in forecasts]
        plan["mocked"]["versions"] = "layer versions read from AWS (--online)"
    print(json.dumps(plan, indent=2, sort_keys=True) if args.json else render_plan(plan, width_of(args)))
    for line in stack_size_warnings(project, args.stack):
        print(f"layersmith: warning: {line}", file=sys.stderr)
    return 0


def stack_size_warnings(project: Project, stack: str) -> list[str]:
    """Every deployed function's code + layers against Lambda's unzipped limit, as `check` computes
    it. The program already built the published layers (cache hits here); a layer taken from
    another stack is built locally, as `check` does."""
    cfg = load_stack_config(project, stack)
    layers = dict(project.layers)
    builder = make_builder(project.root, cfg.builder, image_tag=cfg.image_tag)
    warnings: list[str] = []
    for fn in project.function_specs(list(cfg.deploy)).values():
        warnings += size_warnings(fn, attached_layers(fn, layers, cfg, builder, build_missing=True),
                                  cache_root(project.root))
    return warnings
