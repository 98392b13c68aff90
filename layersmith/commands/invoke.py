"""`layersmith invoke FUNCTION [--stack NAME] [--event FILE|-]`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from layersmith.builder.factory import cache_root, make_builder
from layersmith.builder.runner import SubprocessRunner, SubprocessSandbox
from layersmith.checks import size_warnings
from layersmith.config import committed_stacks, load_stack_config
from layersmith.errors import UserError
from layersmith.invoke import invoke, read_event
from layersmith.invoke_targets import Chooser
from layersmith.naming import function_name
from layersmith.resolve import attached_layers
from layersmith.specs import load_functions, load_layers
from layersmith.sysroots import Sysroots, sysroots_dir


def register(sub: Any) -> None:
    parser = sub.add_parser("invoke", help="run a function locally on the exact layer variants it attaches")
    parser.add_argument("function", metavar="FUNCTION")
    parser.add_argument("--stack", help="resolve layers and pins as this stack does (Pulumi.<stack>.yaml)")
    parser.add_argument("--event", help="event JSON file, or - for stdin (default: the function's event.json)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    project = args.project
    function = load_functions(project, [args.function])[args.function]
    cfg = load_stack_config(project, args.stack) if args.stack else None
    if cfg is not None and function.name not in cfg.deploy:
        others = [s for s in committed_stacks(project) if s != cfg.stack
                  and function.name in load_stack_config(project, s).deploy]
        raise UserError(f"stack {cfg.stack} does not deploy {function.name} (layersmith:deploy)"
                        + (f"; try --stack {others[0]}" if others else ""), key="--stack")
    where, event = read_event(function, args.event)
    builder = make_builder(project, cfg.builder if cfg else "host", image_tag=cfg.image_tag if cfg else None)
    # Missing layers are built first (cache hits when unchanged), as `plan` and `check` do.
    layers = attached_layers(function, load_layers(project), cfg, builder, build_missing=True)
    for line in size_warnings(function, layers, cache_root(project)):
        print(f"layersmith: warning: {line}", file=sys.stderr)
    physical = function_name(cfg.name_prefix, function.name) if cfg else f"local-{function.name}"
    runner = SubprocessRunner()

    def progress(message: str) -> None:
        print(f"layersmith: {message}", file=sys.stderr, flush=True)

    chooser = Chooser(runner, Sysroots(sysroots_dir(cache_root(project)), runner, progress), report=progress)
    result = invoke(function, layers, event=event, physical_name=physical,
                    region=cfg.region if cfg else "us-east-1", sandbox=SubprocessSandbox(),
                    runner=runner, work_root=cache_root(project) / ".invoke", chooser=chooser)
    for note in result.notes:
        print(f"layersmith: note: {note}", file=sys.stderr)
    sys.stderr.write(result.logs)
    if result.error:
        print(f"layersmith: error: {function.name} failed on {result.on}: {result.error}", file=sys.stderr)
        return 1
    print(f"layersmith: {function.name} ran on {result.on} with event {where} in "
          f"{result.duration_ms} ms", file=sys.stderr)
    print(json.dumps(result.result, indent=2, sort_keys=True))
    return 0
