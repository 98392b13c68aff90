"""`SharedLayer`: one `LayerVersion` per built variant, published directly or through S3, with grants.

Every `LayerVersion` input is replace-only (terraform-provider-aws `layer_version.go`: every
argument is ForceNew): a changed zip publishes a new version and, unless retained, deletes the old
one — breaking every function pinned to it. So versions are published with `skip_destroy` +
`retain_on_delete` when the stack retains versions, and the zip is byte-reproducible, so an
unchanged layer previews no change at all.

Grants: one `LayerGrants` per version this stack shares — the version it publishes now, and, when
the stack retains versions, every version a function of this stack or a committed consuming stack
pins (an account added to `shareWith` later can then read what it pins). A stack that does not
retain versions deletes superseded ones, so it grants only its current version.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from layersmith.aws.grants import Statement
from layersmith.builder.zipcheck import verify_build
from layersmith.infra.artifacts import ArtifactStore
from layersmith.infra.grants import LayerGrants
from layersmith.limits import MAX_DIRECT_UPLOAD
from layersmith.model import BuildResult, LayerSpec
from layersmith.project.naming import layer_description, layer_name


@dataclass(frozen=True)
class SharedLayerArgs:
    spec: LayerSpec
    builds: tuple[BuildResult, ...]
    name_prefix: str
    retain: bool
    statements: tuple[Statement, ...]
    layer_arn_base: str  # `arn:<partition>:lambda:<region>:<account>:layer:`, known in preview
    # None: the provider's region (`aws:region`; resources keep the names they always had). Another
    # region: pulumi-aws 7's per-resource `region` argument (the provider's credentials apply there).
    region: str | None = None
    # (runtime, arch, version) that functions pin: granted to the same principals on the matching variant
    pinned_versions: tuple[tuple[str, str, int], ...] = ()
    direct_upload_limit: int = MAX_DIRECT_UPLOAD


@dataclass
class PublishedVariant:
    build: BuildResult
    version: aws.lambda_.LayerVersion
    name: str
    layer_arn: str  # unversioned, built from the physical name: never unknown in preview
    grants: list[LayerGrants]


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
        # The zip on disk may have changed since it was built (the cache is a shared directory): publish
        # only the bytes that were built and verified, with every entry's CRC sound (issue 22).
        verify_build(build)
        variant = build.variant
        physical = layer_name(args.name_prefix, args.spec.name, variant)
        resource = f"{name}-{variant.key}"
        code, s3_bucket, s3_key = self._code(resource, args, build, artifacts)
        version = aws.lambda_.LayerVersion(
            resource,
            layer_name=physical,
            description=layer_description(args.spec.description, variant, build.sha256),
            license_info=args.spec.license,
            compatible_runtimes=list(variant.runtimes),
            compatible_architectures=list(variant.architectures),
            skip_destroy=args.retain, region=args.region,
            code=code, s3_bucket=s3_bucket, s3_key=s3_key,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain))
        layer_arn = f"{args.layer_arn_base}{physical}"
        grants = [LayerGrants(f"{resource}-grants", layer_arn=layer_arn, version=version.version.apply(int),
                              statements=list(args.statements), retain=args.retain,
                              opts=pulumi.ResourceOptions(parent=self))]
        if args.retain:
            # Only on the variant a pin attaches: version N of a sibling variant is another layer's
            # version N (or does not exist, and the grant would fail the deploy). `depends_on`: a pin
            # may name the version this very deploy publishes.
            for pinned in sorted({v for rt, arch, v in args.pinned_versions if variant.supports(rt, arch)}):
                grants.append(LayerGrants(f"{resource}-v{pinned}-grants", layer_arn=layer_arn, version=pinned,
                                          statements=list(args.statements), retain=args.retain,
                                          opts=pulumi.ResourceOptions(parent=self, depends_on=[version])))
        return PublishedVariant(build, version, physical, layer_arn, grants)
