"""`layersmith init layer NAME [--runtime R ...] [--arch A ...]` and
`layersmith init function NAME --layers L [L ...] [--runtime R] [--arch A]`: scaffolds, like
`sam init` and `chalice new-project`.

Nothing is ever overwritten: an existing `layers/NAME` or `functions/NAME` is refused before
anything is written. The files are written into a hidden scratch directory next to the target
(`discover` skips names starting with '.'), then renamed into place in one step, so a failure
leaves either nothing or the whole scaffold.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

from layersmith.errors import UserError
from layersmith.project.checkout import load_project
from layersmith.project.scaffold import Scaffold, function_scaffold, layer_scaffold, offered
from layersmith.runtimes.supported import ARCHITECTURES
from layersmith.writable import write_failed


def _common_options(parser: argparse.ArgumentParser) -> None:
    # `layersmith init layer x --project DIR` works like the other commands (cli.py adds these to
    # `init` itself, which does not see what follows KIND).
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks")
    parser.add_argument("--project", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="project directory (holds Pulumi.yaml); default: the nearest one from . upwards")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("init", help="scaffold a new layer or function (never overwrites anything)")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    layer = kinds.add_parser("layer", help="layers/NAME: layer.toml, requirements.in and a src/ package")
    layer.add_argument("name", metavar="NAME")
    layer.add_argument("--runtime", dest="runtimes", action="extend", nargs="+", metavar="R",
                       help="runtimes to build variants for (default: those the project's layers build for, "
                            "else the newest; of "
                            f"{', '.join(offered(dt.date.today()))})")
    layer.add_argument("--arch", dest="architectures", action="extend", nargs="+", metavar="A",
                       help=f"architectures (default: those of the project's layers, else x86_64; "
                            f"{', '.join(ARCHITECTURES)})")
    function = kinds.add_parser("function", help="functions/NAME: function.toml and handler.py")
    function.add_argument("name", metavar="NAME")
    function.add_argument("--layers", nargs="+", required=True, metavar="L",
                          help="the project's layers it attaches, in attach order")
    function.add_argument("--runtime", help="default: the newest runtime every layer builds for")
    function.add_argument("--arch", help="default: x86_64 when every layer builds for it, else arm64")
    for kind in (layer, function):
        _common_options(kind)
    parser.set_defaults(func=run)


def make_scaffold(args: argparse.Namespace) -> Scaffold:
    if args.kind == "layer":
        # Defaults from the layers that load (a broken layer.toml is that layer's problem, not init's).
        existing = load_project(args.project).layers.values() if not (args.runtimes and args.architectures) else ()
        return layer_scaffold(args.name, dt.date.today(), args.runtimes, args.architectures, existing)
    # Resolving the names through the project refuses an unknown layer (listing the project's) and a
    # layer whose layer.toml does not load (with that file's own error).
    layers = load_project(args.project).layer_specs(args.layers)
    return function_scaffold(args.name, [layers[x] for x in args.layers], dt.date.today(), args.runtime, args.arch)


def write_scaffold(root: Path, scaffold: Scaffold) -> Path:
    """Write the scaffold under `root`, refusing any existing target; returns the new directory."""
    target = root / scaffold.directory
    if target.exists() or target.is_symlink():
        raise UserError("already exists; layersmith init never overwrites: pick another name or remove it",
                        path=target)
    remedy = f"make {target.parent} writable, or run init in a checkout you can write to"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".init-{scaffold.name}-", dir=target.parent))
    except OSError as exc:
        raise write_failed(target.parent, f"the new {scaffold.kind}", exc, remedy) from None
    try:
        for rel, text in scaffold.files.items():
            path = scratch / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        scratch.chmod(0o755)  # mkdtemp makes it 0700; a checkout's directories are not private
        # rename(2) replaces an *empty* directory that appeared since the check above (nothing is
        # lost) and fails on a non-empty one: no file is ever overwritten.
        os.rename(scratch, target)
    except OSError as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        if target.exists():
            raise UserError("appeared while init was writing; nothing was written", path=target) from None
        raise write_failed(target, f"the new {scaffold.kind}", exc, remedy) from None
    return target


def run(args: argparse.Namespace) -> int:
    scaffold = make_scaffold(args)
    write_scaffold(args.project, scaffold)
    print(f"created {scaffold.directory}/ : {', '.join(sorted(scaffold.files))}")
    print("next steps:")
    for number, step in enumerate(scaffold.next_steps, start=1):
        print(f"  {number}. {step}")
    return 0
