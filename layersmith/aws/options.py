"""Command-line options shared by `inventory` and `prune`, and the scan they drive."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from layersmith.aws.clients import (
    DEFAULT_ROLE,
    Boto3ClientFactory,
    Caller,
    ClientFactory,
    check_accounts,
    check_regions,
)
from layersmith.aws.inventory import scan
from layersmith.aws.records import Inventory
from layersmith.aws.scope import Scope, load_scope
from layersmith.errors import UserError
from layersmith.project import load_project

FactoryMaker = Callable[[argparse.Namespace, list[str]], ClientFactory]


def _split(values: list[str] | None) -> list[str]:
    """`--regions a,b c` → [a, b, c] (commas or spaces, both common in scripts)."""
    return [part for value in values or [] for part in value.split(",") if part]


def add_scan_arguments(parser: Any) -> None:
    parser.add_argument("--stack", help="only this stack's layers (default: every committed Pulumi.<stack>.yaml)")
    parser.add_argument("--regions", nargs="+", metavar="REGION",
                        help="regions to scan (default: the regions of the stacks in scope)")
    parser.add_argument("--accounts", nargs="+", metavar="ACCOUNT",
                        help="other accounts to scan through an assumed role (your own is always scanned)")
    parser.add_argument("--role-name", default=DEFAULT_ROLE,
                        help=f"role to assume in each other account (default: {DEFAULT_ROLE})")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def boto3_factory(args: argparse.Namespace, regions: list[str]) -> ClientFactory:
    return Boto3ClientFactory(args.role_name, sts_region=regions[0])


def progress_printer(args: argparse.Namespace) -> Callable[[str], None]:
    def progress(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    return progress


def run_scan(args: argparse.Namespace, make_factory: FactoryMaker | None = None,
             caller: Caller | None = None) -> tuple[Scope, Inventory, ClientFactory]:
    """Validate the flags (before any AWS call), then scan. Bad input raises `UserError`."""
    scope = load_scope(load_project(args.project), args.stack)
    regions = check_regions(_split(args.regions) or scope.regions())
    if not regions:
        raise UserError("no region to scan: the stacks set no aws:region; pass --regions", key="--regions")
    accounts = check_accounts(_split(args.accounts))
    factory = (make_factory or boto3_factory)(args, regions)
    inventory = scan(factory, accounts, regions, scope.matcher(), call=caller, pins=scope.pins(),
                     progress=progress_printer(args))
    return scope, inventory, factory


def print_failures(inventory: Inventory) -> None:
    """One line per account/region that could not be scanned."""
    for failure in inventory.failures:
        print(f"layersmith: error: could not scan {failure.where()}: {failure.message}", file=sys.stderr)
