"""The Pulumi program: config at the edge -> build (cache hit when unchanged) -> pin preflight ->
components -> exports."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path

import pulumi

from layersmith.builder.factory import build_layers, cache_root, make_builder
from layersmith.errors import LayersmithError
from layersmith.infra.stack import StackInputs, deploy_stack, program_error
from layersmith.model import BuildResult, FunctionSpec, LayerSpec, StackConfig
from layersmith.pins.preflight import OFFLINE_NOTE, PinUse, Preflight, VersionLookup, lambda_sha256
from layersmith.project.checkout import Project, load_project
from layersmith.project.consumer_pins import ConsumerPin, consumer_pins
from layersmith.project.naming import layer_name
from layersmith.project.stack_owners import require_unique_prefix
from layersmith.project.stacks import check_no_secrets, decode_engine_config, layer_source

# Set by `layersmith plan`: under its mocks there is no AWS to check pins against.
OFFLINE: ContextVar[bool] = ContextVar("layersmith_offline_plan", default=False)
# Set by `layersmith plan` and `check`: the project they already loaded, so that the program run
# under their mocks reads no file a second time (and reports no bad file a second time).
LOADED: ContextVar[Project | None] = ContextVar("layersmith_loaded_project", default=None)


def engine_config() -> tuple[dict[str, str], set[str]]:
    """Every config key the engine passed (`PULUMI_CONFIG`), plus any set in-process (mocks), and
    the keys of those that are secrets."""
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = {k for k in values if runtime_config.is_config_secret(k)}
    return values, secret | set(runtime_config.get_config_secret_keys_env())


def read_config(project: Project) -> tuple[StackConfig, dict[str, LayerSpec], dict[str, FunctionSpec]]:
    """The stack's config as the engine passes it, validated against the specs it uses; a broken
    spec it does not use is a warning (see `layersmith.project.checkout`)."""
    stack = pulumi.get_stack()
    values, secret = engine_config()
    check_no_secrets(secret, project.stack_file(stack).name)
    raw = decode_engine_config(values)
    cfg = project.parse_stack(raw, stack=stack, project=pulumi.get_project())
    require_unique_prefix(project, cfg, raw)
    for line in project.unused_warnings(stack, project.uses(raw)):
        project.report_once(line, pulumi.log.warn)
    return cfg, dict(project.layers), dict(project.functions)


def build_published(project: Project, cfg: StackConfig) -> dict[str, list[BuildResult]]:
    if not cfg.publish:
        return {}
    builder = make_builder(project.root, cfg.builder, image_tag=cfg.image_tag,
                           report=lambda m: pulumi.log.info(f"layersmith build: {m}"))
    results = build_layers(project.root, list(cfg.publish), builder=builder,
                           specs=project.layer_specs(list(cfg.publish)))
    by_layer: dict[str, list[BuildResult]] = {name: [] for name in cfg.publish}
    for result in results:
        by_layer[result.variant.layer].append(result)
    return by_layer


LookupFor = Callable[[str | None], VersionLookup]  # region (None: aws:region) -> lookup


Physical = Callable[[str, str, str], str | None]  # (layer, runtime, arch) -> physical name of its variant


def _physical_names(cfg: StackConfig, builds: dict[str, list[BuildResult]]) -> Physical:
    variants = {layer: [b.variant for b in results] for layer, results in builds.items()}

    def physical(layer: str, runtime: str, arch: str) -> str | None:
        variant = next((v for v in variants.get(layer, []) if v.supports(runtime, arch)), None)
        return layer_name(cfg.name_prefix, layer, variant) if variant else None

    return physical


def _own_pin_uses(cfg: StackConfig, functions: dict[str, FunctionSpec],
                  physical: Physical) -> tuple[list[PinUse], list[PinUse]]:
    """This stack's integer pins: on the layers it publishes, and on those it consumes by ARN."""
    own, consumed = [], []
    for fn in cfg.deploy:
        spec = functions[fn]
        for layer in spec.layers:
            pin, source = cfg.pin_for(fn, layer), layer_source(cfg, layer)
            if not isinstance(pin, int):
                continue
            if source == "publish" and (name := physical(layer, spec.runtime, spec.architecture)):
                own.append(PinUse(layer, name, pin, cfg.path.name, fn))
            elif source == "arn":
                consumed.append(PinUse(layer, dict(cfg.consume.arns)[layer], pin, cfg.path.name, fn))
    return own, consumed


def _consumers_in(region: str, preflight: Preflight, consumers: tuple[ConsumerPin, ...],
                  physical: Physical) -> list[ConsumerPin]:
    """The consumer pins of `region` that name a version there; warns about the others."""
    here = [c for c in consumers if c.region == region]
    keep, warnings = preflight.filter_consumers(
        PinUse(c.layer, name, c.version, c.stack_file) for c in here
        if (name := physical(c.layer, c.runtime, c.architecture)) is not None)
    for warning in warnings:
        pulumi.log.warn(f"layersmith: {warning} [{region}]")
    ok = {(p.layer, p.version, p.stack_file) for p in keep}
    return [c for c in here if (c.layer, c.version, c.stack_file) in ok]


def check_pins(cfg: StackConfig, functions: dict[str, FunctionSpec], builds: dict[str, list[BuildResult]],
               consumers: tuple[ConsumerPin, ...], lookup_for: LookupFor) -> tuple[ConsumerPin, ...]:
    """Fail on a pin of this stack that names no version; drop (and warn about) consumers' pins that
    name none, each checked in its own region. Returns the consumer pins that can be granted."""
    physical = _physical_names(cfg, builds)
    publishing = {layer_name(cfg.name_prefix, layer, b.variant): lambda_sha256(b.sha256)
                  for layer, results in builds.items() for b in results}
    own, consumed = _own_pin_uses(cfg, functions, physical)
    home = Preflight(lookup_for(None), publishing)
    home.check_own(own)
    home.check_consumed(consumed)
    kept: list[ConsumerPin] = []
    for region in cfg.publish_regions:
        preflight = home if region == cfg.region else Preflight(lookup_for(region), publishing)
        kept += _consumers_in(region, preflight, consumers, physical)
    return tuple(kept)


def main(project: Project | Path) -> None:
    """Under `pulumi up`, a layersmith error is one line (a `RunError` prints without the program's
    traceback), exactly as the CLI prints it: the stack file and key, and what to do. `project`: the
    loaded project, or its directory (loaded here, unless `layersmith plan` already loaded it)."""
    try:
        _main(project if isinstance(project, Project) else _project_at(project))
    except LayersmithError as exc:
        raise program_error(exc) from exc


def _project_at(root: Path) -> Project:
    loaded = LOADED.get()
    return loaded if loaded is not None and loaded.root == root.resolve() else load_project(root)


def _main(project: Project) -> None:
    from layersmith.infra.preflight import DataSourceLookup

    cfg, layers, functions = read_config(project)
    builds = build_published(project, cfg)
    pins = consumer_pins(project, cfg, on_error=pulumi.log.warn) if cfg.publish else ()
    if OFFLINE.get():
        pulumi.log.info(f"layersmith: {OFFLINE_NOTE}")
    else:
        pins = check_pins(cfg, functions, builds, pins,
                          lambda region: DataSourceLookup(None if region == cfg.region else region))
    outputs = deploy_stack(StackInputs(config=cfg, layers=layers, functions=functions,
                                       builds=builds, cache_root=cache_root(project.root), consumer_pins=pins))
    for key, value in outputs.items():
        pulumi.export(key, value)
