"""Compose one stack: publish + share layers, resolve every function's pinned layer ARNs, deploy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from layersmith.aws.grants import desired_statements
from layersmith.builder.function_zip import package_function
from layersmith.errors import ConfigError, LayersmithError
from layersmith.infra.artifacts import ArtifactStore
from layersmith.infra.function import LayeredFunction, LayeredFunctionArgs
from layersmith.infra.layer import SharedLayer, SharedLayerArgs
from layersmith.limits import MAX_DIRECT_UPLOAD
from layersmith.model import BuildResult, FunctionSpec, LayerSpec, Pin, StackConfig
from layersmith.project.consumer_pins import ConsumerPin
from layersmith.project.naming import function_name
from layersmith.project.stacks import layer_source


@dataclass(frozen=True)
class StackInputs:
    config: StackConfig
    layers: dict[str, LayerSpec]
    functions: dict[str, FunctionSpec]
    builds: dict[str, list[BuildResult]]  # published layer -> its built variants
    cache_root: Path
    direct_upload_limit: int = MAX_DIRECT_UPLOAD
    # Pins of committed stacks that consume this one (already checked against AWS when it answers):
    # granted too, so an account added to shareWith later can read what its stack pins.
    consumer_pins: tuple[ConsumerPin, ...] = ()


def program_error(exc: LayersmithError) -> pulumi.RunError:
    """A layersmith error as the engine prints it: one line, no program traceback (a `RunError`).
    `layersmith plan` re-raises the original, with its exit code."""
    error = pulumi.RunError(f"layersmith: {exc.render()}")
    error.__cause__ = exc
    error.__suppress_context__ = True
    # Raised inside an `apply`, the runtime re-raises it `from` its own record, replacing
    # `__cause__`: keep the original where nothing overwrites it too.
    error.layersmith_error = exc  # type: ignore[attr-defined]
    return error


@dataclass(frozen=True)
class Identity:
    """The deploying account, from the caller identity (a data source, answered in preview)."""

    partition: str
    account: str

    def layer_arn_base(self, region: str) -> str:
        """`arn:<partition>:lambda:<region>:<account>:layer:`: pinned ARNs built on it never depend on
        a `LayerVersion` output, which is unknown in preview whenever that version is replaced."""
        return f"arn:{self.partition}:lambda:{region}:{self.account}:layer:"


def caller_identity() -> Identity:
    identity = aws.get_caller_identity()
    partition = str(identity.arn).split(":")[1] if identity.arn else "aws"
    return Identity(partition, str(identity.account_id))


def pinned_versions(cfg: StackConfig, layer: str,
                    functions: dict[str, FunctionSpec]) -> tuple[tuple[str, str, int], ...]:
    """(runtime, architecture, version) of every integer pin on `layer`. A pin names a version of the
    variant matching that function's runtime/arch only: variants are numbered independently."""
    return tuple(sorted({(functions[fn].runtime, functions[fn].architecture, pin) for fn in cfg.deploy
                         if isinstance(pin := cfg.pin_for(fn, layer), int)}))


def _pick_remote(variants: list[dict[str, Any]], layer: str, fn: FunctionSpec, pin: Pin, stack: str,
                 path: str, region: str) -> str:
    """The referenced stack's variant for this function, in this stack's region only: Lambda attaches
    only layers of the function's own region."""
    for v in variants:
        if fn.runtime in v["runtimes"] and fn.architecture in v["architectures"]:
            # `regions` since multi-region publishing; before it, the one region is the ARN's
            regions = v.get("regions") or {str(v["layerArn"]).split(":")[3]: v}
            if region not in regions:
                raise ConfigError(f"stack {stack} publishes {layer!r} in {', '.join(sorted(regions))} only, and this "
                                  f"stack deploys to {region}; add {region} to layersmith:regions there",
                                  path=path, key=f"layersmith:pins.{fn.name}.{layer}")
            here = regions[region]
            return str(here["arn"]) if pin == "latest" else f"{here['layerArn']}:{pin}"
    raise ConfigError(f"stack {stack} publishes no variant of {layer!r} for {fn.runtime}/{fn.architecture}; "
                      "add that runtime/architecture to the layer there, or consume it by ARN",
                      path=path, key=f"layersmith:pins.{fn.name}.{layer}")


class _Resolver:
    """Turns (function, layer) into the versioned ARN this stack attaches."""

    def __init__(self, inputs: StackInputs, shared: dict[tuple[str, str], SharedLayer]) -> None:
        self.cfg = inputs.config
        self.shared = shared
        self.ref = pulumi.StackReference(self.cfg.consume.stack) if self.cfg.consume.stack else None

    def arn(self, fn: FunctionSpec, layer: str) -> pulumi.Input[str]:
        pin = self.cfg.pin_for(fn.name, layer)
        source = layer_source(self.cfg, layer)
        if source == "publish":
            variant = next(v for v in self.shared[(layer, self.cfg.region)].variants
                           if v.build.variant.supports(fn.runtime, fn.architecture))
            if pin == "latest":
                return variant.version.arn
            return f"{variant.layer_arn}:{pin}"
        if source == "arn":
            return f"{dict(self.cfg.consume.arns)[layer]}:{pin}"
        assert self.ref is not None
        stack = str(self.cfg.consume.stack)
        path = self.cfg.path.name

        def pick(layers: dict[str, Any] | None) -> str:
            # An error raised inside apply reaches the engine from the runtime, not from main():
            # raise it as the same one-line RunError every other layersmith error becomes.
            try:
                if not layers or layer not in layers:
                    raise ConfigError(f"stack {stack} exports no layer {layer!r}; publish it there, or "
                                      "consume it by ARN", path=path, key=f"layersmith:pins.{fn.name}.{layer}")
                return _pick_remote(layers[layer], layer, fn, pin, stack, path, self.cfg.region)
            except ConfigError as exc:
                raise program_error(exc)  # noqa: B904 - program_error sets __cause__ (plan re-raises it)

        return self.ref.get_output("layers").apply(pick)


def component_name(layer: str, region: str, cfg: StackConfig) -> str:
    """The stack's own region keeps the names resources always had (no replacement on upgrade);
    every other region suffixes them."""
    return layer if region == cfg.region else f"{layer}-{region}"


def _pins_in(inputs: StackInputs, layer: str, region: str) -> tuple[tuple[str, str, int], ...]:
    """(runtime, architecture, version) pinned on `layer` in `region`: this stack's functions run in
    `aws:region`; a consuming stack's in its own."""
    cfg = inputs.config
    own = pinned_versions(cfg, layer, inputs.functions) if region == cfg.region else ()
    consumers = {(c.runtime, c.architecture, c.version) for c in inputs.consumer_pins
                 if c.layer == layer and c.region == region}
    return tuple(sorted({*own, *consumers}))


def _publish(inputs: StackInputs, identity: Identity) -> dict[tuple[str, str], SharedLayer]:
    """(layer, region) -> its SharedLayer, for every published layer in every publish region."""
    cfg = inputs.config
    statements = tuple(desired_statements(cfg.share_with))
    big = any(b.zip_bytes > inputs.direct_upload_limit for builds in inputs.builds.values() for b in builds)
    out: dict[tuple[str, str], SharedLayer] = {}
    for region in cfg.publish_regions:
        own_region = region == cfg.region
        artifacts = ArtifactStore("artifacts" if own_region else f"artifacts-{region}",
                                  cfg.artifact_bucket if own_region else None, cfg.retain_versions,
                                  region=None if own_region else region) if big else None
        for layer in cfg.publish:
            out[(layer, region)] = SharedLayer(component_name(layer, region, cfg), SharedLayerArgs(
                spec=inputs.layers[layer], builds=tuple(inputs.builds[layer]), name_prefix=cfg.name_prefix,
                retain=cfg.retain_versions, statements=statements,
                layer_arn_base=identity.layer_arn_base(region), region=None if own_region else region,
                pinned_versions=_pins_in(inputs, layer, region),
                direct_upload_limit=inputs.direct_upload_limit), artifacts)
    return out


def _outputs(cfg: StackConfig, shared: dict[tuple[str, str], SharedLayer]) -> dict[str, Any]:
    """`layers`: per layer, its variants; the top-level ARN/version are the first publish region's
    (`aws:region` when it publishes there), `regions` gives every region's."""
    layers: dict[str, Any] = {}
    for layer in cfg.publish:
        per_region = [(region, shared[(layer, region)]) for region in cfg.publish_regions]
        _first_region, first = per_region[0]
        layers[layer] = [
            {"layerArn": v.layer_arn, "version": v.version.version.apply(int), "arn": v.version.arn,
             "runtimes": list(v.build.variant.runtimes), "architectures": list(v.build.variant.architectures),
             "sha256": v.build.sha256,
             "regions": {region: {"layerArn": sl.variants[i].layer_arn,
                                  "version": sl.variants[i].version.version.apply(int),
                                  "arn": sl.variants[i].version.arn} for region, sl in per_region}}
            for i, v in enumerate(first.variants)]
    return layers


def deploy_stack(inputs: StackInputs, identity: Identity | None = None) -> dict[str, Any]:
    """Register every resource; returns the stack outputs (plain dicts of Outputs, no secrets)."""
    cfg = inputs.config
    shared = _publish(inputs, identity or caller_identity()) if cfg.publish else {}
    resolver = _Resolver(inputs, shared)
    functions: dict[str, Any] = {}
    for name in cfg.deploy:
        spec = cfg.function_spec(inputs.functions[name])  # with this stack's layersmith:functions
        arns = [resolver.arn(spec, layer) for layer in spec.layers]
        deployed = LayeredFunction(name, LayeredFunctionArgs(
            spec=spec, physical_name=function_name(cfg.name_prefix, name),
            package=package_function(spec, inputs.cache_root), layers=arns,
            log_retention_days=cfg.log_retention_days))
        functions[name] = {"name": deployed.function.name, "arn": deployed.function.arn, "layers": arns}
    layers = _outputs(cfg, shared) if cfg.publish else {}
    return {"layers": layers, "functions": functions}
