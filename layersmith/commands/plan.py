"""`layersmith plan --stack NAME [--json]` — the real program under Pulumi's mocks."""

from __future__ import annotations

import argparse
import json
from typing import Any

from layersmith.plan import run_plan
from layersmith.plan_view import render_plan


def register(sub: Any) -> None:
    parser = sub.add_parser("plan", help="plan a stack offline: the real program under Pulumi's mocks")
    parser.add_argument("--stack", required=True, help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--json", action="store_true", help="print {project, stack, resources, outputs}")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    plan = run_plan(args.project, args.stack)
    print(json.dumps(plan, indent=2, sort_keys=True) if args.json else render_plan(plan))
    return 0
