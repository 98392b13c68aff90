"""`layersmith plan --stack NAME [--json]` — the real program under Pulumi's mocks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from layersmith.build.factory import cache_root, make_builder
from layersmith.checks import size_warnings
from layersmith.config import load_stack_config
from layersmith.plan import run_plan
from layersmith.plan_view import render_plan
from layersmith.resolve import attached_layers
from layersmith.specs import load_functions, load_layers


def register(sub: Any) -> None:
    parser = sub.add_parser("plan", help="plan a stack offline: the real program under Pulumi's mocks")
    parser.add_argument("--stack", required=True, help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--json", action="store_true", help="print {project, stack, resources, outputs}")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    plan = run_plan(args.project, args.stack)
    print(json.dumps(plan, indent=2, sort_keys=True) if args.json else render_plan(plan))
    for line in stack_size_warnings(args.project, args.stack):
        print(f"layersmith: warning: {line}", file=sys.stderr)
    return 0


def stack_size_warnings(project: Path, stack: str) -> list[str]:
    """Every deployed function's code + layers against Lambda's unzipped limit, as `check` computes
    it. The program already built the published layers (cache hits here); a layer taken from
    another stack is built locally, as `check` does."""
    cfg = load_stack_config(project, stack)
    layers = load_layers(project)
    builder = make_builder(project, cfg.builder, image_tag=cfg.image_tag)
    warnings: list[str] = []
    for fn in load_functions(project, list(cfg.deploy)).values():
        warnings += size_warnings(fn, attached_layers(fn, layers, cfg, builder, build_missing=True),
                                  cache_root(project))
    return warnings
