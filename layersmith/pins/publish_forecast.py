"""`plan --online`: per published variant and region, would `pulumi up` publish a new version?

Every `LayerVersion` input is replace-only, so `pulumi up` publishes a new version when the zip
or any other input changed. Compared with the latest version on AWS (GetLayerVersion):

* the local zip's Lambda-style hash against its `Content.CodeSha256` (our zips are reproducible:
  the same inputs give the same bytes, hence the same hash);
* the description layersmith writes (it embeds the zip's hash), the license, and the compatible
  runtimes and architectures.

All equal: `unchanged` — the deploy reuses that version. Otherwise `new`, with the reason. What
this cannot see: Pulumi decides against its own state, not AWS; a stack whose state lost the
resource (or a version published outside Pulumi) can differ.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from layersmith.aws.content import PublishedVersion, Regions
from layersmith.model import BuildResult, LayerSpec, StackConfig
from layersmith.pins.preflight import lambda_sha256
from layersmith.project.naming import layer_description, layer_name


@dataclass(frozen=True)
class Forecast:
    layer: str
    variant: str
    layer_name: str
    region: str
    local_sha256: str  # Lambda form (base64) of the local zip
    latest: int | None  # newest version on AWS, None when there is none
    latest_sha256: str | None
    verdict: Literal["unchanged", "new"]
    reason: str

    @property
    def version(self) -> int:
        """The version functions on `latest` get after `pulumi up`."""
        return self.latest if self.verdict == "unchanged" and self.latest else (self.latest or 0) + 1

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "version": self.version}


def _differences(spec: LayerSpec, build: BuildResult, latest: PublishedVersion) -> list[str]:
    variant = build.variant
    out = []
    if latest.code_sha256 != lambda_sha256(build.sha256):
        out.append("content")
    if latest.description != layer_description(spec.description, variant, build.sha256):
        out.append("description")
    if (latest.license_info or None) != (spec.license or None):
        out.append("license")
    if sorted(latest.runtimes) != sorted(variant.runtimes):
        out.append("runtimes")
    if sorted(latest.architectures) != sorted(variant.architectures):
        out.append("architectures")
    return out


def forecast(cfg: StackConfig, specs: dict[str, LayerSpec], builds: list[BuildResult], regions: Regions
             ) -> list[Forecast]:
    """One forecast per published variant per region the stack publishes in."""
    out = []
    for build in builds:
        spec = specs[build.variant.layer]
        name = layer_name(cfg.name_prefix, spec.name, build.variant)
        local = lambda_sha256(build.sha256)
        for region in cfg.publish_regions:
            latest = regions(region).latest(name)
            if latest is None:
                out.append(Forecast(spec.name, build.variant.key, name, region, local, None, None, "new",
                                    f"no version in {region} yet"))
                continue
            differs = _differences(spec, build, latest)
            reason = (f"same content and inputs as v{latest.version}" if not differs else
                      f"{', '.join(differs)} differ{'s' if len(differs) == 1 else ''} from v{latest.version}")
            out.append(Forecast(spec.name, build.variant.key, name, region, local, latest.version,
                                latest.code_sha256, "new" if differs else "unchanged", reason))
    return out

