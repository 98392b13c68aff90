"""`layersmith invoke FUNCTION [--stack NAME] [--event FILE|-|sqs|s3|apigw|schedule] [--env-vars FILE]`.

`--event` takes a file, `-` (stdin) or the name of a sample event (`layersmith.local.events`):
those four words are reserved, as `-` already was; a file named like one is passed as `./sqs`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from layersmith.builder.factory import cache_root, make_builder
from layersmith.checks.report import size_warnings
from layersmith.errors import UserError
from layersmith.local.env_vars import read_env_vars
from layersmith.local.events import KINDS, sample_event
from layersmith.local.invoke import Invocation, invoke, read_event
from layersmith.local.resolve import attached_layers
from layersmith.local.targets import Chooser
from layersmith.model import FunctionSpec, StackConfig
from layersmith.project.checkout import Project, load_project, load_stack_config
from layersmith.project.naming import function_name
from layersmith.runner import SubprocessRunner, SubprocessSandbox
from layersmith.runtimes.sysroots import Sysroots, sysroots_dir

# Without --stack: the region the function runs "in" (AWS_REGION) and the account its context's
# invoked_function_arn names (local/bootstrap.py builds that ARN: it imports nothing of layersmith).
DEFAULT_REGION = "us-east-1"
CONTEXT_ACCOUNT = "000000000000"


def register(sub: Any) -> None:
    parser = sub.add_parser("invoke", help="run a function locally on the exact layer variants it attaches")
    parser.add_argument("function", metavar="FUNCTION")
    parser.add_argument("--stack", help="resolve layers and pins as this stack does (Pulumi.<stack>.yaml)")
    parser.add_argument("--event", help="event JSON file, - for stdin, or a sample event: "
                                        f"{', '.join(KINDS)} (a file of that name: ./NAME); default: the "
                                        "function's event.json")
    parser.add_argument("--env-vars", metavar="FILE", help='JSON file of environment variables, as `sam local '
                        'invoke` reads one: {"FUNCTION": {"VAR": "v"}, "Parameters": {"VAR": "v"}}')
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


def _report(function: FunctionSpec, result: Invocation, where: str, pretend: str | None) -> int:
    """`pretend`: the no --stack line, said once the function ran (bad input stays one line)."""
    if pretend:
        _progress(pretend)
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


def _no_stack_line(project: Project, function: FunctionSpec, physical: str) -> str:
    """What a run without --stack pretends to be: the names the handler sees, and how to be a stack's."""
    stacks = [s for s in project.committed_stacks() if function.name in _deploys(project, s)]
    return (f"no --stack: running as function {physical} in region {DEFAULT_REGION} (AWS_LAMBDA_FUNCTION_NAME, "
            f"AWS_REGION; context.invoked_function_arn arn:aws:lambda:{DEFAULT_REGION}:{CONTEXT_ACCOUNT}:function:"
            f"{physical}); "
            + (f"pass --stack {'|'.join(stacks)} to run as a stack's" if stacks
               else "no stack deploys it yet: add it to a stack's layersmith:deploy, then pass --stack"))


def _deploys(project: Project, stack: str) -> tuple[str, ...]:
    """The functions `stack` deploys; none when its file does not load (this is only a hint)."""
    try:
        return load_stack_config(project, stack).deploy
    except UserError:
        return ()


def _event(function: FunctionSpec, event: str | None, region: str, physical: str) -> tuple[str, Any]:
    if event in KINDS:
        if Path(event).is_file():
            print(f"layersmith: note: --event {event} is the sample event; to read the file {event} here, pass "
                  f"--event ./{event}", file=sys.stderr)
        return f"{event} (sample, {region})", sample_event(event, region, physical)
    return read_event(function, event)


def _env_overrides(args: argparse.Namespace, function: FunctionSpec, physical: str) -> dict[str, str] | None:
    if args.env_vars is None:
        return None
    path = Path(args.env_vars)
    overrides = read_env_vars(path, (function.name, physical))
    undeclared = sorted(set(overrides) - {k for k, _ in function.environment})
    if undeclared:
        print(f"layersmith: note: {path} sets {', '.join(undeclared)}, which "
              f"functions/{function.name}/function.toml does not declare: on Lambda they are "
              "unset (sam local invoke would drop them)", file=sys.stderr)
    return overrides


def run(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    function = project.function_specs([args.function])[args.function]
    cfg = _stack(project, args.stack, function)
    region = cfg.region if cfg else DEFAULT_REGION
    physical = function_name(cfg.name_prefix, function.name) if cfg else f"local-{function.name}"
    where, event = _event(function, args.event, region, physical)
    overrides = _env_overrides(args, function, physical)
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
    result = invoke(function, layers, event=event, physical_name=physical, region=region,
                    sandbox=SubprocessSandbox(), runner=runner, work_root=cache / ".invoke", chooser=chooser,
                    env_overrides=overrides)
    return _report(function, result, where, _no_stack_line(project, function, physical) if cfg is None else None)


def _attached(project: Project, function: FunctionSpec) -> list[str]:
    """The project's layers the function attaches: each must have loaded (the others may not)."""
    return [name for name in function.layers if name in project.layer_names()]
