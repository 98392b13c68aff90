"""`layersmith inventory [--stack S] [--regions …] [--accounts …] [--role-name R] [--json]`.

Lists every version of this project's layers in the scanned accounts/regions (size, created,
runtimes/architectures, who it is shared with) and every function, published version and alias
that attaches one — marking what is latest, pinned by a committed stack, or retained but unused.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from layersmith.aws.clients import Caller
from layersmith.aws.options import FactoryMaker, add_scan_arguments, print_failures, run_scan
from layersmith.aws.report import inventory_json, render_inventory
from layersmith.terminal import add_wide_option, width_of

# The whole second paragraph of the docstring, unwrapped: argparse re-wraps it (its first line alone
# cut the sentence off mid-parenthesis).
_DESCRIPTION = " ".join((__doc__ or "").split("\n\n")[1].split())


def register(sub: Any) -> None:
    parser = sub.add_parser("inventory", help="list this project's layer versions and who uses them (boto3)",
                            description=_DESCRIPTION)
    add_scan_arguments(parser)
    add_wide_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, make_factory: FactoryMaker | None = None, caller: Caller | None = None) -> int:
    """Exit 0 when everything was scanned, 1 when some account/region could not be (listed on stderr)."""
    _, inventory, _ = run_scan(args, make_factory, caller)
    if args.json:
        print(json.dumps(inventory_json(inventory), indent=2))
    else:
        print(render_inventory(inventory, width_of(args)))
    print_failures(inventory)
    if inventory.interrupted:
        return 130  # the shell's code for Ctrl-C: the partial report above is marked incomplete
    return 1 if inventory.failures else 0
