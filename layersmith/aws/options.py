"""Command-line options shared by `inventory` and `prune`, and the scan they drive."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from layersmith.aws.clients import (
    DEFAULT_ROLE,
    Boto3ClientFactory,
    Caller,
    ClientFactory,
    check_accounts,
    check_regions,
    partition_regions,
    read_accounts_file,
)
from layersmith.aws.inventory import WORKERS, scan
from layersmith.aws.progress import ScanProgress, for_stream
from layersmith.aws.records import Inventory
from layersmith.aws.scope import Scope, load_scope
from layersmith.aws.version_cache import VersionCache
from layersmith.errors import LayersmithError, UserError
from layersmith.project.checkout import load_project

FactoryMaker = Callable[[argparse.Namespace, list[str]], ClientFactory]


def _split(values: list[str] | None) -> list[str]:
    """`--regions a,b c` → [a, b, c] (commas or spaces, both common in scripts)."""
    return [part for value in values or [] for part in value.split(",") if part]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_scan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", help="only this stack's layers (default: every committed Pulumi.<stack>.yaml)")
    parser.add_argument("--regions", nargs="+", metavar="REGION",
                        help="regions to scan, or `all` (every Lambda region of the partition, from botocore's "
                             "data); default: the regions of the stacks in scope")
    parser.add_argument("--accounts", nargs="+", metavar="ACCOUNT",
                        help="other accounts to scan through an assumed role (your own is always scanned)")
    parser.add_argument("--accounts-file", type=Path, metavar="FILE",
                        help="more accounts to scan: one 12-digit ID a line, # for comments")
    parser.add_argument("--organization", action="store_true",
                        help="scan every ACTIVE account of your organization (organizations:ListAccounts: run "
                             "from the management account or a delegated administrator)")
    parser.add_argument("--role-name", default=DEFAULT_ROLE,
                        help=f"role to assume in each other account (default: {DEFAULT_ROLE})")
    parser.add_argument("--concurrency", type=_positive, default=WORKERS, metavar="N",
                        help=f"(account, region) scopes scanned at once (default {WORKERS}); each one is paced "
                             "below Lambda's control-plane quota on its own")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def boto3_factory(args: argparse.Namespace, regions: list[str]) -> ClientFactory:
    return Boto3ClientFactory(args.role_name, sts_region=regions[0])


def progress_printer(args: argparse.Namespace) -> Callable[[str], None]:
    def progress(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    return progress


def scan_progress(args: argparse.Namespace) -> ScanProgress:
    return for_stream(sys.stderr)


def _regions(args: argparse.Namespace, scope: Scope) -> list[str]:
    asked = _split(args.regions)
    if asked == ["all"]:
        # The configured region picks the partition (aws, aws-cn, aws-us-gov): credentials reach only theirs.
        configured = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or next(
            iter(scope.regions()), None)
        return partition_regions(configured)
    if "all" in asked:
        raise UserError("`all` cannot be combined with named regions", key="--regions")
    return check_regions(asked or scope.regions())


def _listed_accounts(args: argparse.Namespace) -> list[str]:
    accounts = check_accounts(_split(args.accounts))
    if args.accounts_file is not None:
        accounts += read_accounts_file(args.accounts_file)
    return accounts


def version_cache(project: Path) -> VersionCache:
    """Under the build cache (`$LAYERSMITH_CACHE_DIR` or `<project>/.layersmith/cache`); a cache directory
    that cannot be written costs calls, it does not stop an inventory."""
    from layersmith.builder.factory import cache_root

    try:
        return VersionCache(cache_root(project))
    except LayersmithError:
        return VersionCache(None)


@contextmanager
def interruptible(call: Caller) -> Iterator[None]:
    """The first Ctrl-C sets `call.stop` (no new AWS call starts; the partial result is reported); a
    second one interrupts at once, as usual. Only the main thread may install a signal handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if call.stop.is_set():
            raise KeyboardInterrupt
        call.stop.set()
        print("layersmith: interrupted: finishing the calls under way, starting no new one (Ctrl-C again to "
              "quit at once)", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_scan(args: argparse.Namespace, make_factory: FactoryMaker | None = None,
             caller: Caller | None = None) -> tuple[Scope, Inventory, ClientFactory]:
    """Validate the flags (before any AWS call), then scan. Bad input raises `UserError`."""
    project = load_project(args.project)
    scope = load_scope(project, args.stack)
    regions = _regions(args, scope)
    if not regions:
        raise UserError("no region to scan: the stacks set no aws:region; pass --regions", key="--regions")
    accounts = _listed_accounts(args)
    factory = (make_factory or boto3_factory)(args, regions)
    call = caller or Caller()
    with interruptible(call):
        if args.organization:
            accounts += factory.organization_accounts()
        inventory = scan(factory, accounts, regions, scope.matcher(), call=call, pins=scope.pins(),
                         progress=scan_progress(args), workers=args.concurrency,
                         cache=version_cache(project.root))
    return scope, inventory, factory


def print_failures(inventory: Inventory) -> None:
    """One line per account/region that could not be scanned (an interruption: one line in all)."""
    interrupted = [f for f in inventory.failures if f.message.startswith("interrupted")]
    for failure in inventory.failures:
        if failure not in interrupted:
            print(f"layersmith: error: could not scan {failure.where()}: {failure.message}", file=sys.stderr)
    if inventory.interrupted:
        print(f"layersmith: error: interrupted: the report above is INCOMPLETE ({len(interrupted)} of "
              f"{len(inventory.targets)} (account, region) pairs not scanned)", file=sys.stderr)
