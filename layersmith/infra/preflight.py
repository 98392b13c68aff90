"""Pins checked against AWS before anything changes, through the aws provider's own data source
(`aws.lambda_.get_layer_version`): the stack's provider credentials apply, and mocks can answer it.

The data source (terraform-provider-aws `layer_version_data_source.go`) lists the layer's versions
and takes the first (the newest) when no version is given, failing with "empty result" when there
is none; with a version it reads that version, failing "couldn't find resource" when it is gone.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from layersmith.errors import AwsError
from layersmith.pins.preflight import Published

_NOT_FOUND = ("empty result", "couldn't find resource", "ResourceNotFoundException", "not found")


def _missing(exc: Exception) -> bool:
    return any(marker in str(exc) for marker in _NOT_FOUND)


def _fail(what: str, exc: Exception) -> AwsError:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return AwsError(f"{what}: {lines[-1] if lines else type(exc).__name__}; check the stack's AWS "
                    "credentials (aws:profile) and region")


class DataSourceLookup:
    """`VersionLookup` on `aws.lambda_.get_layer_version` (a synchronous invoke, answered in preview)."""

    def __init__(self, region: str | None = None, opts: pulumi.InvokeOptions | None = None) -> None:
        self._region = region  # None: the provider's (`aws:region`)
        self._opts = opts

    def latest(self, layer_name: str) -> Published | None:
        try:
            found = aws.lambda_.get_layer_version(layer_name=layer_name, region=self._region, opts=self._opts)
        except Exception as exc:  # the engine reports a provider failure as a plain Exception
            if _missing(exc):
                return None
            raise _fail(f"cannot list the versions of {layer_name}", exc) from None
        return Published(int(found.version), str(found.code_sha256))

    def exists(self, layer_name: str, version: int) -> bool:
        try:
            aws.lambda_.get_layer_version(layer_name=layer_name, version=version, region=self._region,
                                          opts=self._opts)
        except Exception as exc:
            if _missing(exc):
                return False
            raise _fail(f"cannot read version {version} of {layer_name}", exc) from None
        return True
