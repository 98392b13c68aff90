"""The Pulumi program: config at the edge -> build (cache hit when unchanged) -> components -> exports."""

from __future__ import annotations

from pathlib import Path

import pulumi

from layersmith.build.factory import build_layers, cache_root, make_builder
from layersmith.config import consumer_pins, decode_engine_config, parse_stack_config, stack_file
from layersmith.infra.stack import StackInputs, deploy_stack
from layersmith.model import BuildResult, FunctionSpec, LayerSpec, StackConfig
from layersmith.specs import load_functions, load_layers


def engine_config() -> dict[str, str]:
    """Every config key the engine passed (`PULUMI_CONFIG`), plus any set in-process (mocks)."""
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def read_config(project: Path) -> tuple[StackConfig, dict[str, LayerSpec], dict[str, FunctionSpec]]:
    stack = pulumi.get_stack()
    layers = load_layers(project)
    functions = load_functions(project)
    cfg = parse_stack_config(decode_engine_config(engine_config()), project=pulumi.get_project(),
                             stack=stack, path=stack_file(project, stack), layers=layers,
                             functions=functions)
    return cfg, layers, functions


def build_published(project: Path, cfg: StackConfig) -> dict[str, list[BuildResult]]:
    if not cfg.publish:
        return {}
    builder = make_builder(project, cfg.builder, image_tag=cfg.image_tag,
                           report=lambda m: pulumi.log.info(f"layersmith build: {m}"))
    results = build_layers(project, list(cfg.publish), builder=builder)
    by_layer: dict[str, list[BuildResult]] = {name: [] for name in cfg.publish}
    for result in results:
        by_layer[result.variant.layer].append(result)
    return by_layer


def main(project: Path) -> None:
    """Under `pulumi up`, a layersmith error is one line (a `RunError` prints without the program's
    traceback), exactly as the CLI prints it: the stack file and key, and what to do."""
    from layersmith.errors import LayersmithError

    try:
        _main(project)
    except LayersmithError as exc:
        error = pulumi.RunError(f"layersmith: {exc.render()}")
        error.__cause__ = exc  # `layersmith plan` re-raises the original (and its exit code)
        error.__suppress_context__ = True
        raise error from exc


def _main(project: Path) -> None:
    cfg, layers, functions = read_config(project)
    builds = build_published(project, cfg)
    pins = consumer_pins(project, cfg, on_error=pulumi.log.warn) if cfg.publish else ()
    outputs = deploy_stack(StackInputs(config=cfg, layers=layers, functions=functions,
                                       builds=builds, cache_root=cache_root(project), consumer_pins=pins))
    for key, value in outputs.items():
        pulumi.export(key, value)
