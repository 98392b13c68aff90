"""`layersmith` entry point: argparse, subcommands discovered in `layersmith.commands`; the project
is `--project DIR` (before or after the command) or the nearest `Pulumi.yaml` upwards (`discovery`).

Errors: a `LayersmithError` prints one line (`layersmith: <file>: <key>: <what to do>`) and exits
with its code (2 bad input, 1 failed build/check); anything else is a bug and prints a traceback
only with `-v` (pypa/build's `__main__._handle_build_error` is the model).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from layersmith import __version__, commands
from layersmith.errors import LayersmithError
from layersmith.project.discovery import resolve_project

PROJECT_HELP = "project directory (holds Pulumi.yaml); default: the nearest one from . upwards"


def _requested_command(argv: Sequence[str], names: list[str]) -> str | None:
    """The subcommand named on the command line, found without importing any command module."""
    args = iter(argv)
    for arg in args:
        if arg == "--project":
            next(args, None)
        elif arg.startswith("-"):
            continue
        else:
            return arg if arg in names else None
    return None


# What -v adds; the interpreters it names are otherwise said only when none of a version runs.
VERBOSE_HELP = "show tracebacks, build's phase timings and the Python interpreters skipped while searching"

def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Every command when `argv` is None (or names none); else only the one it names. Importing a
    command pulls in what it needs (boto3 for inventory, pulumi for plan: ~0.5 s), and an unchanged
    `layersmith build` should not pay for the others."""
    parser = argparse.ArgumentParser(prog="layersmith", description="Own your shared AWS Lambda layers.")
    parser.add_argument("--project", type=Path, default=None, metavar="DIR", help=PROJECT_HELP)
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    parser.add_argument("--version", action="version", version=f"layersmith {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    names = sorted(m.name for m in pkgutil.iter_modules(commands.__path__))
    wanted = _requested_command(argv, names) if argv is not None else None
    for name in [wanted] if wanted else names:
        importlib.import_module(f"layersmith.commands.{name}").register(sub)
    for command in sub.choices.values():
        # `layersmith build x -v` and `layersmith plan --project DIR` work too; SUPPRESS keeps the
        # subparser from resetting an option given before the command.
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help=VERBOSE_HELP)
        command.add_argument("--project", type=Path, default=argparse.SUPPRESS, metavar="DIR", help=PROJECT_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        args.project = resolve_project(args.project, Path.cwd())
        code: int = args.func(args)
        return code
    except LayersmithError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"layersmith: error: {exc.render()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("layersmith: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line unless -v asks for the traceback
        if args.verbose:
            traceback.print_exc()
        else:
            print(f"layersmith: internal error: {type(exc).__name__}: {exc} (rerun with -v for the "
                  "traceback)", file=sys.stderr)
        return 1
