"""S3 for zips over the direct-upload limit (`layersmith.limits`), under content-addressed keys.

With `s3_bucket`/`s3_key` nothing watches the content
(docs/architecture.md#big-zips-go-through-s3-under-content-addressed-keys): the key carries the zip's
sha256, so new bytes mean a new key, and that is what replaces the layer version.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from layersmith.model import BuildResult


class ArtifactStore(pulumi.ComponentResource):
    """Either the configured bucket, or a private, encrypted, versioned bucket this stack creates."""

    def __init__(self, name: str, bucket: str | None, retain: bool, region: str | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        """`region`: None for the provider's region; another region gets its own bucket there
        (PublishLayerVersion reads the zip from a bucket in the layer's own region)."""
        super().__init__("layersmith:index:ArtifactStore", name, None, opts)
        self._retain = retain
        self._region = region
        child = pulumi.ResourceOptions(parent=self)
        if bucket:
            self.bucket: pulumi.Output[str] = pulumi.Output.from_input(bucket)
        else:
            created = aws.s3.Bucket(f"{name}-bucket", force_destroy=False, region=region,
                                    opts=pulumi.ResourceOptions(parent=self, retain_on_delete=retain))
            aws.s3.BucketPublicAccessBlock(f"{name}-public-access", bucket=created.id, block_public_acls=True,
                                           block_public_policy=True, ignore_public_acls=True,
                                           restrict_public_buckets=True, region=region, opts=child)
            aws.s3.BucketVersioning(f"{name}-versioning", bucket=created.id, region=region,
                                    versioning_configuration={"status": "Enabled"}, opts=child)
            aws.s3.BucketServerSideEncryptionConfiguration(
                f"{name}-encryption", bucket=created.id, region=region,
                rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"},
                        "bucket_key_enabled": True}], opts=child)
            self.bucket = created.bucket
        self.register_outputs({"bucket": self.bucket})

    def upload(self, name: str, build: BuildResult, parent: pulumi.Resource) -> aws.s3.BucketObjectv2:
        key = f"layers/{build.variant.layer}/{build.variant.key}/{build.sha256}.zip"
        return aws.s3.BucketObjectv2(
            name, bucket=self.bucket, key=key, source=pulumi.FileAsset(str(build.zip_path)),
            server_side_encryption="aws:kms", region=self._region,
            opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=self._retain))
