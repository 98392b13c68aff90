"""Every pin of a stack resolved to what it names on AWS: a physical layer, a region, a version.

A pin in `Pulumi.<stack>.yaml` names a version of the layer *variant* the function's runtime and
architecture select, published under the prefix of the stack that publishes it (this stack, or the
one `layersmith:consume.stack` references), in a region: `utils: 4` is version 4 in the stack's
`aws:region`; `utils: {eu-west-1: 7, us-east-1: 3}` names one version per region. Layers consumed
by ARN are another team's: no local build to compare them with, so they are not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layersmith.builder.builder import Builder
from layersmith.errors import UserError
from layersmith.model import BuildResult, LayerSpec, StackConfig, Variant, expand_variants
from layersmith.project.checkout import Project
from layersmith.project.naming import layer_name
from layersmith.project.stacks import NAMESPACE, layer_source


@dataclass(frozen=True)
class PinSite:
    stack: str
    stack_file: str
    function: str
    layer: str
    variant: Variant
    layer_name: str  # physical, in the publishing stack's prefix
    region: str
    pin: int | None  # None: the function follows "latest" (or has no pin)
    qualified: bool  # written as {region: version}
    source: str = "publish"  # "stack": published by the stack `layersmith:consume.stack` references

    @property
    def key(self) -> str:
        """The stack file key that holds this pin, as errors name it."""
        return f"{NAMESPACE}:pins.{self.function}.{self.layer}" + (f".{self.region}" if self.qualified else "")


def raw_pins(project: Project, stack: str) -> dict[str, dict[str, Any]]:
    """`layersmith:pins` as written (region-qualified maps kept); validated by `load_stack_config`."""
    value = project.stack_raw(stack).get(f"{NAMESPACE}:pins")
    raw: dict[str, Any] = value if isinstance(value, dict) else {}
    return {str(fn): dict(layers or {}) for fn, layers in raw.items()}


def publisher_prefix(project: Project, cfg: StackConfig, layer: str) -> str:
    """The name prefix of the stack that publishes `layer` for `cfg`'s functions."""
    from layersmith.aws.scope import pin_prefix

    remote = (cfg.consume.stack or "").rpartition("/")[2]
    known = [project.stack_config(remote)] if remote and project.stack_file(remote).is_file() else []
    return pin_prefix(cfg, layer, known)


def variant_for(spec: LayerSpec, runtime: str, architecture: str) -> Variant:
    variant = next((v for v in expand_variants(spec) if v.supports(runtime, architecture)), None)
    if variant is None:
        raise UserError(f"layer {spec.name!r} has no variant for {runtime}/{architecture}; add them to its "
                        "runtimes/architectures", path=spec.spec_path)
    return variant


def pin_sites(project: Project, cfg: StackConfig, layers: dict[str, LayerSpec],
              functions: dict[str, Any]) -> list[PinSite]:
    """One site per (function, layer of this project, region the pin names), in deploy order."""
    raw = raw_pins(project, cfg.stack)
    prefixes: dict[str, str] = {}
    sites: list[PinSite] = []
    for fn in cfg.deploy:
        spec = cfg.function_spec(functions[fn])
        for layer in spec.layers:
            source = layer_source(cfg, layer)
            if source not in ("publish", "stack") or layer not in layers:
                continue
            if layer not in prefixes:
                prefixes[layer] = publisher_prefix(project, cfg, layer)
            variant = variant_for(layers[layer], spec.runtime, spec.architecture)
            physical = layer_name(prefixes[layer], layer, variant)
            value = raw.get(fn, {}).get(layer, "latest")
            written = value if isinstance(value, dict) else {cfg.region: value}
            for region, pin in written.items():
                sites.append(PinSite(cfg.stack, cfg.path.name, fn, layer, variant, physical, str(region),
                                     pin if isinstance(pin, int) else None, isinstance(value, dict), str(source)))
    return sites


def local_builds(builder: Builder, layers: dict[str, LayerSpec],
                 sites: list[PinSite]) -> dict[tuple[str, str], BuildResult]:
    """The local reproducible build of every variant the sites name (a cache hit when unchanged),
    by (layer, variant key)."""
    out: dict[tuple[str, str], BuildResult] = {}
    for site in sites:
        key = (site.layer, site.variant.key)
        if key not in out:
            out[key] = builder.build(layers[site.layer], site.variant)
    return out
