"""`SharedLayer`: one `LayerVersion` per built variant, published directly or through S3, with grants.

Every `LayerVersion` input is replace-only (DESIGN.md §5): a changed zip publishes a new version
and, unless retained, deletes the old one — breaking every function pinned to it. So versions
are published with `skip_destroy` + `retain_on_delete` when the stack retains versions, and the
zip is byte-reproducible, so an unchanged layer previews no change at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from layersmith.infra.artifacts import ArtifactStore
from layersmith.infra.sharing import LayerSharing
from layersmith.model import BuildResult, LayerSpec, ShareWith
from layersmith.naming import layer_name

MAX_DIRECT_UPLOAD = 50 * 1024 * 1024  # PublishLayerVersion direct upload; larger goes through S3


@dataclass(frozen=True)
class SharedLayerArgs:
    spec: LayerSpec
    builds: tuple[BuildResult, ...]
    name_prefix: str
    retain: bool
    share: ShareWith
    # (runtime, arch, version) that functions pin: granted to the same principals on the matching variant
    pinned_versions: tuple[tuple[str, str, int], ...] = ()
    direct_upload_limit: int = MAX_DIRECT_UPLOAD


@dataclass
class PublishedVariant:
    build: BuildResult
    version: aws.lambda_.LayerVersion
    name: str


class SharedLayer(pulumi.ComponentResource):
    def __init__(self, name: str, args: SharedLayerArgs, artifacts: ArtifactStore | None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("layersmith:index:SharedLayer", name, None, opts)
        self.variants: list[PublishedVariant] = []
        for build in args.builds:
            self.variants.append(self._publish(name, args, build, artifacts))
        self.register_outputs({"variants": [v.version.arn for v in self.variants]})

    def _code(self, name: str, args: SharedLayerArgs, build: BuildResult, artifacts: ArtifactStore | None
              ) -> tuple[pulumi.Archive | None, pulumi.Output[str] | None, pulumi.Output[str] | None]:
        """(code, s3_bucket, s3_key): direct upload up to the limit, S3 above it."""
        if build.zip_bytes <= args.direct_upload_limit or artifacts is None:
            # FileArchive wants a str; a .zip is hashed byte-for-byte, hence the reproducible zip.
            return pulumi.FileArchive(str(build.zip_path)), None, None
        obj = artifacts.upload(name, build, parent=self)
        return None, obj.bucket, obj.key

    def _publish(self, name: str, args: SharedLayerArgs, build: BuildResult,
                 artifacts: ArtifactStore | None) -> PublishedVariant:
        variant = build.variant
        physical = layer_name(args.name_prefix, args.spec.name, variant)
        resource = f"{name}-{variant.key}"
        code, s3_bucket, s3_key = self._code(resource, args, build, artifacts)
        version = aws.lambda_.LayerVersion(
            resource,
            layer_name=physical,
            description=f"{args.spec.description} [{variant.key}, sha256 {build.sha256[:12]}]",
            license_info=args.spec.license,
            compatible_runtimes=list(variant.runtimes),
            compatible_architectures=list(variant.architectures),
            skip_destroy=args.retain,
            code=code, s3_bucket=s3_bucket, s3_key=s3_key,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain))
        LayerSharing(f"{resource}-current", layer_arn=version.layer_arn,
                     version=version.version.apply(int), share=args.share, retain=args.retain,
                     opts=pulumi.ResourceOptions(parent=self))
        # Only on the variant a pin attaches: version N of a sibling variant is another layer's
        # version N (or does not exist, and the grant would fail the deploy).
        for pinned in sorted({v for rt, arch, v in args.pinned_versions if variant.supports(rt, arch)}):
            # Pinned older versions are granted too, so an account added later can read what it pins.
            # A distinct statement prefix keeps them from colliding with the current version's grants
            # when a pin names the version being published.
            LayerSharing(f"{resource}-v{pinned}", layer_arn=version.layer_arn, version=pinned,
                         share=args.share, retain=args.retain, statement_prefix=f"pin{pinned}-",
                         opts=pulumi.ResourceOptions(parent=self))
        return PublishedVariant(build, version, physical)
