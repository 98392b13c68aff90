"""Which built layer variant a function gets, in order — shared by `invoke` and `check`."""

from __future__ import annotations

from dataclasses import dataclass

from layersmith.builder.builder import Builder
from layersmith.errors import UserError
from layersmith.model import BuildResult, FunctionSpec, LayerSpec, Pin, StackConfig, expand_variants
from layersmith.project.stacks import layer_source


@dataclass(frozen=True)
class AttachedLayer:
    name: str
    source: str  # "publish" | "stack" | "arn" | "spec" (no stack given)
    pin: Pin
    build: BuildResult | None  # None: consumed by ARN, its contents are not known offline


def _variant_build(spec: LayerSpec, fn: FunctionSpec, builder: Builder, build_missing: bool) -> BuildResult:
    variant = next((v for v in expand_variants(spec) if v.supports(fn.runtime, fn.architecture)), None)
    if variant is None:
        raise UserError(f"layer {spec.name!r} has no variant for {fn.runtime}/{fn.architecture}; add them to "
                        "its runtimes/architectures", path=spec.spec_path)
    result = builder.build(spec, variant) if build_missing else builder.cached(spec, variant)
    if result is None:
        hint = f"layersmith build {spec.name}" + ("" if variant.portable else
                                                  f" --runtime {fn.runtime} --arch {fn.architecture}")
        if builder.installer.kind != "host":  # the stack builds with another builder: a host build won't match
            hint += f" --builder {builder.installer.kind}"
        raise UserError(f"layer {spec.name!r} ({variant.key}) is not built (or is out of date); run `{hint}`",
                        path=fn.spec_path, key="layers")
    return result


def attached_layers(fn: FunctionSpec, layers: dict[str, LayerSpec], cfg: StackConfig | None,
                    builder: Builder, *, build_missing: bool = False) -> list[AttachedLayer]:
    """`build_missing`: build (cache hit when unchanged) instead of refusing an unbuilt variant —
    `check` does, like `plan` and `pulumi up`, so its verdict never depends on what ran before."""
    out = []
    for name in fn.layers:
        source = layer_source(cfg, name) if cfg else "spec"
        pin: Pin = cfg.pin_for(fn.name, name) if cfg else "latest"
        if source == "arn":
            out.append(AttachedLayer(name, "arn", pin, None))
            continue
        if name not in layers:
            raise UserError(f"{fn.name} attaches {name!r}, which is not a layer of this project; pass the stack "
                            "that consumes it with --stack", path=fn.spec_path, key="layers")
        out.append(AttachedLayer(name, source or "spec", pin, _variant_build(layers[name], fn, builder, build_missing)))
    return out
