"""Compose one stack: publish + share layers, resolve every function's pinned layer ARNs, deploy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from layersmith.aws.grants import desired_statements
from layersmith.build.function_zip import package_function
from layersmith.config import ConsumerPin, layer_source
from layersmith.errors import ConfigError, LayersmithError
from layersmith.infra.artifacts import ArtifactStore
from layersmith.infra.function import LayeredFunction, LayeredFunctionArgs
from layersmith.infra.layer import SharedLayer, SharedLayerArgs
from layersmith.limits import MAX_DIRECT_UPLOAD
from layersmith.model import BuildResult, FunctionSpec, LayerSpec, Pin, StackConfig
from layersmith.naming import function_name


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


def layer_arn_base(region: str) -> str:
    """`arn:<partition>:lambda:<region>:<account>:layer:` from the caller identity (a data source,
    answered in preview): pinned ARNs built on it never depend on a `LayerVersion` output, which is
    unknown in preview whenever that version is being replaced."""
    identity = aws.get_caller_identity()
    partition = str(identity.arn).split(":")[1] if identity.arn else "aws"
    return f"arn:{partition}:lambda:{region}:{identity.account_id}:layer:"


def pinned_versions(cfg: StackConfig, layer: str,
                    functions: dict[str, FunctionSpec]) -> tuple[tuple[str, str, int], ...]:
    """(runtime, architecture, version) of every integer pin on `layer`. A pin names a version of the
    variant matching that function's runtime/arch only: variants are numbered independently."""
    return tuple(sorted({(functions[fn].runtime, functions[fn].architecture, pin) for fn in cfg.deploy
                         if isinstance(pin := cfg.pin_for(fn, layer), int)}))


def _pick_remote(variants: list[dict[str, Any]], layer: str, fn: FunctionSpec, pin: Pin, stack: str,
                 path: str) -> str:
    for v in variants:
        if fn.runtime in v["runtimes"] and fn.architecture in v["architectures"]:
            return str(v["arn"]) if pin == "latest" else f"{v['layerArn']}:{pin}"
    raise ConfigError(f"stack {stack} publishes no variant of {layer!r} for {fn.runtime}/{fn.architecture}; "
                      "add that runtime/architecture to the layer there, or consume it by ARN",
                      path=path, key=f"layersmith:pins.{fn.name}.{layer}")


class _Resolver:
    """Turns (function, layer) into the versioned ARN this stack attaches."""

    def __init__(self, inputs: StackInputs, shared: dict[str, SharedLayer]) -> None:
        self.cfg = inputs.config
        self.shared = shared
        self.ref = pulumi.StackReference(self.cfg.consume.stack) if self.cfg.consume.stack else None

    def arn(self, fn: FunctionSpec, layer: str) -> pulumi.Input[str]:
        pin = self.cfg.pin_for(fn.name, layer)
        source = layer_source(self.cfg, layer)
        if source == "publish":
            variant = next(v for v in self.shared[layer].variants
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
                return _pick_remote(layers[layer], layer, fn, pin, stack, path)
            except ConfigError as exc:
                raise program_error(exc)  # noqa: B904 - program_error sets __cause__ (plan re-raises it)

        return self.ref.get_output("layers").apply(pick)


def _publish(inputs: StackInputs, arn_base: str) -> dict[str, SharedLayer]:
    cfg = inputs.config
    big = any(b.zip_bytes > inputs.direct_upload_limit for builds in inputs.builds.values() for b in builds)
    artifacts = ArtifactStore("artifacts", cfg.artifact_bucket, cfg.retain_versions) if big else None
    statements = tuple(desired_statements(cfg.share_with))
    return {layer: SharedLayer(layer, SharedLayerArgs(
        spec=inputs.layers[layer], builds=tuple(inputs.builds[layer]), name_prefix=cfg.name_prefix,
        retain=cfg.retain_versions, statements=statements, layer_arn_base=arn_base,
        pinned_versions=tuple(sorted({*pinned_versions(cfg, layer, inputs.functions),
                                      *((c.runtime, c.architecture, c.version) for c in inputs.consumer_pins
                                        if c.layer == layer)})),
        direct_upload_limit=inputs.direct_upload_limit), artifacts) for layer in cfg.publish}


def deploy_stack(inputs: StackInputs, arn_base: str | None = None) -> dict[str, Any]:
    """Register every resource; returns the stack outputs (plain dicts of Outputs, no secrets)."""
    cfg = inputs.config
    shared = _publish(inputs, arn_base or layer_arn_base(cfg.region)) if cfg.publish else {}
    resolver = _Resolver(inputs, shared)
    functions: dict[str, Any] = {}
    for name in cfg.deploy:
        spec = inputs.functions[name]
        arns = [resolver.arn(spec, layer) for layer in spec.layers]
        deployed = LayeredFunction(name, LayeredFunctionArgs(
            spec=spec, physical_name=function_name(cfg.name_prefix, name),
            package=package_function(spec, inputs.cache_root), layers=arns,
            log_retention_days=cfg.log_retention_days))
        functions[name] = {"name": deployed.function.name, "arn": deployed.function.arn, "layers": arns}
    layers = {name: [{"layerArn": v.layer_arn, "version": v.version.version.apply(int),
                      "arn": v.version.arn, "runtimes": list(v.build.variant.runtimes),
                      "architectures": list(v.build.variant.architectures), "sha256": v.build.sha256}
                     for v in layer.variants] for name, layer in shared.items()}
    return {"layers": layers, "functions": functions}
