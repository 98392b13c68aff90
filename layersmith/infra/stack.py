"""Compose one stack: publish + share layers, resolve every function's pinned layer ARNs, deploy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from layersmith.build.function_zip import package_function
from layersmith.config import layer_source
from layersmith.infra.artifacts import ArtifactStore
from layersmith.infra.function import LayeredFunction, LayeredFunctionArgs
from layersmith.infra.layer import MAX_DIRECT_UPLOAD, SharedLayer, SharedLayerArgs
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
    # (layer, runtime, architecture, version) pinned by committed stacks that consume this one:
    # granted too, so an account added to shareWith later can read what its stack pins.
    consumer_pins: tuple[tuple[str, str, str, int], ...] = ()


def pinned_versions(cfg: StackConfig, layer: str,
                    functions: dict[str, FunctionSpec]) -> tuple[tuple[str, str, int], ...]:
    """(runtime, architecture, version) of every integer pin on `layer`. A pin names a version of the
    variant matching that function's runtime/arch only: variants are numbered independently."""
    return tuple(sorted({(functions[fn].runtime, functions[fn].architecture, pin) for fn in cfg.deploy
                         if isinstance(pin := cfg.pin_for(fn, layer), int)}))


def _pick_remote(variants: list[dict[str, Any]], layer: str, fn: FunctionSpec, pin: Pin) -> str:
    for v in variants:
        if fn.runtime in v["runtimes"] and fn.architecture in v["architectures"]:
            return str(v["arn"]) if pin == "latest" else f"{v['layerArn']}:{pin}"
    raise ValueError(f"the consumed stack has no variant of {layer!r} for {fn.runtime}/{fn.architecture}")


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
            return variant.version.layer_arn.apply(lambda base: f"{base}:{pin}")
        if source == "arn":
            return f"{dict(self.cfg.consume.arns)[layer]}:{pin}"
        assert self.ref is not None

        def pick(layers: dict[str, Any]) -> str:
            if layer not in layers:
                raise ValueError(f"stack {self.cfg.consume.stack} exports no layer {layer!r}")
            return _pick_remote(layers[layer], layer, fn, pin)

        return self.ref.get_output("layers").apply(pick)


def _publish(inputs: StackInputs) -> dict[str, SharedLayer]:
    cfg = inputs.config
    big = any(b.zip_bytes > inputs.direct_upload_limit for builds in inputs.builds.values() for b in builds)
    artifacts = ArtifactStore("artifacts", cfg.artifact_bucket, cfg.retain_versions) if big else None
    return {layer: SharedLayer(layer, SharedLayerArgs(
        spec=inputs.layers[layer], builds=tuple(inputs.builds[layer]), name_prefix=cfg.name_prefix,
        retain=cfg.retain_versions, share=cfg.share_with,
        pinned_versions=tuple(sorted({*pinned_versions(cfg, layer, inputs.functions),
                                      *((rt, arch, v) for name, rt, arch, v in inputs.consumer_pins
                                        if name == layer)})),
        direct_upload_limit=inputs.direct_upload_limit), artifacts) for layer in cfg.publish}


def deploy_stack(inputs: StackInputs) -> dict[str, Any]:
    """Register every resource; returns the stack outputs (plain dicts of Outputs, no secrets)."""
    cfg = inputs.config
    shared = _publish(inputs)
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
    layers = {name: [{"layerArn": v.version.layer_arn, "version": v.version.version.apply(int),
                      "arn": v.version.arn, "runtimes": list(v.build.variant.runtimes),
                      "architectures": list(v.build.variant.architectures), "sha256": v.build.sha256}
                     for v in layer.variants] for name, layer in shared.items()}
    return {"layers": layers, "functions": functions}
