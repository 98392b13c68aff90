"""`layersmith prune --keep N [--stack S] [--regions …] [--accounts …] [--role-name R] [--yes] [--json]`.

Plans the deletion of layer versions that are older than the newest N, attached to nothing in any
scanned account and pinned by no committed stack. Dry run unless `--yes`; any account or region
that could not be scanned makes it refuse to delete.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from layersmith.aws.clients import Caller
from layersmith.aws.options import (
    FactoryMaker,
    add_scan_arguments,
    interruptible,
    print_failures,
    progress_printer,
    run_scan,
)
from layersmith.aws.prune import PruneResult, PruneSelection, execute, select_prunable
from layersmith.aws.records import Inventory
from layersmith.aws.report import human_size, render_selection, selection_json
from layersmith.errors import AwsError, ScanInterrupted, UserError
from layersmith.terminal import add_wide_option, width_of


def register(sub: Any) -> None:
    parser = sub.add_parser("prune", help="delete old layer versions nothing uses (dry run unless --yes)")
    parser.add_argument("--keep", type=int, required=True, metavar="N",
                        help="always keep the newest N versions of each layer (N >= 1)")
    parser.add_argument("--yes", action="store_true", help="really delete (default: print the plan only)")
    add_scan_arguments(parser)
    add_wide_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, make_factory: FactoryMaker | None = None, caller: Caller | None = None) -> int:
    if args.keep < 1:  # checked before any AWS call
        raise UserError("must be at least 1 (the newest version of each layer is always kept)", key="--keep")
    call = caller or Caller()
    scope, inventory, factory = run_scan(args, make_factory, call)
    if inventory.interrupted:  # a partial scan cannot prove anything unused: report it, delete nothing
        print_failures(inventory)
        raise ScanInterrupted("interrupted during the scan: nothing was deleted")
    plan = _selection(args, inventory)
    result: PruneResult | None = None
    if args.yes and plan.deletions:
        with interruptible(call):
            result = execute(plan, factory, inventory.targets, scope.matcher(), call=call,
                             progress=progress_printer(args), workers=args.concurrency)
    if args.json:
        print(json.dumps(selection_json(plan, result, dry_run=not args.yes), indent=2))
    else:
        print(outcome(plan, result, args.yes))
    if result is not None and result.interrupted:
        raise ScanInterrupted(f"interrupted: deleted {len(result.deleted)} of {len(plan.deletions)} planned "
                              "version(s), none part-way; re-run to finish")
    return 0


def _selection(args: argparse.Namespace, inventory: Inventory) -> PruneSelection:
    """The plan, printed; refused before anything is deleted when the scan had blind spots (each named)."""
    plan = select_prunable(inventory, args.keep)
    if not args.json:
        print(render_selection(plan, width_of(args)))
    if plan.blocked_by:
        if args.json:
            print(json.dumps(selection_json(plan, None, dry_run=not args.yes), indent=2))
        print_failures(inventory)
        raise AwsError(plan.blocked_message())
    return plan


def outcome(plan: PruneSelection, result: PruneResult | None, yes: bool) -> str:
    if not plan.deletions:
        return "nothing to delete"
    if not yes or result is None:
        return "dry run: nothing was deleted; re-run with --yes to delete the versions marked 'delete'"
    size = human_size(sum(r.code_size for r in result.deleted))
    skipped = f"; {len(result.skipped)} kept: in use or shared since the scan" if result.skipped else ""
    return f"deleted {len(result.deleted)} of {len(plan.deletions)} planned version(s) ({size}){skipped}"
