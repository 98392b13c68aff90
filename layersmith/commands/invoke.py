"""`layersmith invoke FUNCTION [--stack NAME] [--event FILE|-]`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from layersmith.builder.factory import cache_root, make_builder
from layersmith.checks.report import size_warnings
from layersmith.errors import UserError
from layersmith.local.invoke import Invocation, invoke, read_event
from layersmith.local.resolve import attached_layers
from layersmith.local.targets import Chooser
from layersmith.model import FunctionSpec, StackConfig
from layersmith.project.checkout import Project, load_project, load_stack_config
from layersmith.project.naming import function_name
from layersmith.runner import SubprocessRunner, SubprocessSandbox
from layersmith.runtimes.sysroots import Sysroots, sysroots_dir


def register(sub: Any) -> None:
    parser = sub.add_parser("invoke", help="run a function locally on the exact layer variants it attaches")
    parser.add_argument("function", metavar="FUNCTION")
    parser.add_argument("--stack", help="resolve layers and pins as this stack does (Pulumi.<stack>.yaml)")
    parser.add_argument("--event", help="event JSON file, or - for stdin (default: the function's event.json)")
    parser.set_defaults(func=run)


def _stack(project: Project, stack: str | None, function: FunctionSpec) -> StackConfig | None:
    """The stack to resolve layers and pins as (None: no --stack), which must deploy `function`."""
    cfg = load_stack_config(project, stack) if stack else None
    if cfg is not None and function.name not in cfg.deploy:
        others = [s for s in project.committed_stacks() if s != cfg.stack
                  and function.name in load_stack_config(project, s).deploy]
        raise UserError(f"stack {cfg.stack} does not deploy {function.name} (layersmith:deploy)"
                        + (f"; try --stack {others[0]}" if others else ""), key="--stack")
    return cfg


def _progress(message: str) -> None:
    print(f"layersmith: {message}", file=sys.stderr, flush=True)


def _report(function: FunctionSpec, result: Invocation, where: str) -> int:
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


def run(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    function = project.function_specs([args.function])[args.function]
    cfg = _stack(project, args.stack, function)
    where, event = read_event(function, args.event)
    builder = make_builder(project.root, cfg.builder if cfg else "host", image_tag=cfg.image_tag if cfg else None)
    # Missing layers are built first (cache hits when unchanged), as `plan` and `check` do.
    layers = attached_layers(function, project.layer_specs(_attached(project, function)), cfg, builder,
                             build_missing=True)
    cache = cache_root(project.root)
    for line in size_warnings(function, layers, cache):
        print(f"layersmith: warning: {line}", file=sys.stderr)
    runner = SubprocessRunner()
    chooser = Chooser(runner, Sysroots(sysroots_dir(cache), runner, _progress), report=_progress,
                      verbose=args.verbose)
    result = invoke(function, layers, event=event,
                    physical_name=function_name(cfg.name_prefix, function.name) if cfg else f"local-{function.name}",
                    region=cfg.region if cfg else "us-east-1", sandbox=SubprocessSandbox(),
                    runner=runner, work_root=cache / ".invoke", chooser=chooser)
    return _report(function, result, where)


def _attached(project: Project, function: FunctionSpec) -> list[str]:
    """The project's layers the function attaches: each must have loaded (the others may not)."""
    return [name for name in function.layers if name in project.layer_names()]
