"""What a published layer version holds, read from Lambda: `Content.CodeSha256` per version.

Lambda's `CodeSha256` is the base64 of the SHA-256 digest of the zip bytes; layersmith's zips are
reproducible, so a local build can be matched to a published version exactly
(`pin_preflight.lambda_sha256` turns a build's hex digest into that form).

API facts this module relies on (botocore's service model for lambda 2015-03-31):

* `ListLayerVersions` items (`LayerVersionsListItem`) carry no `Content`: the hash is only in
  `GetLayerVersion`, so matching content costs one GetLayerVersion per version examined (newest
  first, stopping at the first match; results are cached for the run).
* `ListLayerVersions` pages with `Marker`/`NextMarker` (MaxItems 1-50). AWS returns an empty list
  for a layer name that has no version; `ResourceNotFoundException` is treated the same.
* `GetLayerVersion` on a deleted or never-published version: `ResourceNotFoundException`.

What moto 5.2.5 (the tests' `moto_server`) does differently, checked in its source: it computes
`CodeSha256` exactly as above (`base64(sha256(zip))`), but returns `Content` inside list items too
(botocore drops members the model does not declare, so code here cannot come to rely on it), never
pages (no `NextMarker`), and ignores `CompatibleRuntime`/`CompatibleArchitecture` filters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from layersmith.aws.clients import Caller, LambdaApi, error_code
from layersmith.errors import AwsError
from layersmith.project.checkout import Project

T = TypeVar("T")
NOT_FOUND = "ResourceNotFoundException"


@dataclass(frozen=True)
class PublishedVersion:
    """One layer version as `GetLayerVersion` reports it."""

    layer_name: str
    region: str
    version: int
    code_sha256: str  # base64, as Lambda's Content.CodeSha256
    description: str = ""
    runtimes: tuple[str, ...] = ()
    architectures: tuple[str, ...] = ()
    license_info: str = ""

    @classmethod
    def from_response(cls, layer_name: str, region: str, data: dict[str, Any]) -> PublishedVersion:
        return cls(layer_name, region, int(data["Version"]), str(data.get("Content", {}).get("CodeSha256", "")),
                   str(data.get("Description") or ""), tuple(data.get("CompatibleRuntimes") or ()),
                   tuple(data.get("CompatibleArchitectures") or ()), str(data.get("LicenseInfo") or ""))


@dataclass
class RegionLayers:
    """Reads layer versions in one region (one account: the credentials'). Caches what it read."""

    api: LambdaApi
    region: str
    call: Caller = field(default_factory=Caller)
    _got: dict[tuple[str, int], PublishedVersion | None] = field(default_factory=dict)
    _listed: dict[str, list[int]] = field(default_factory=dict)

    def _or_none(self, fn: Callable[[], T], what: str) -> T | None:
        def attempt() -> T | None:
            try:
                return fn()
            except ClientError as exc:
                if error_code(exc) == NOT_FOUND:
                    return None
                raise

        return self.call(attempt, what)

    def get(self, layer_name: str, version: int) -> PublishedVersion | None:
        """Version `version` of `layer_name`, None when it does not exist (never published, or deleted)."""
        key = (layer_name, version)
        if key not in self._got:
            data = self._or_none(lambda: self.api.get_layer_version(LayerName=layer_name, VersionNumber=version),
                                 f"lambda:GetLayerVersion {layer_name}:{version} in {self.region}")
            self._got[key] = None if data is None else PublishedVersion.from_response(layer_name, self.region, data)
        return self._got[key]

    def versions(self, layer_name: str) -> list[int]:
        """Every existing version number, newest first ([] when the layer has none)."""
        if layer_name not in self._listed:
            what = f"lambda:ListLayerVersions {layer_name} in {self.region}"
            numbers: list[int] = []
            try:
                numbers = [int(item["Version"]) for item in self.call.pages(
                    self.api.list_layer_versions, "LayerVersions", what, LayerName=layer_name)]
            except AwsError as exc:  # `Caller` wraps every failure; not-found means "no version"
                if error_code(exc.__cause__ or exc) != NOT_FOUND:
                    raise
            self._listed[layer_name] = sorted(numbers, reverse=True)
        return self._listed[layer_name]

    def latest(self, layer_name: str) -> PublishedVersion | None:
        for version in self.versions(layer_name):  # a version deleted between the two calls: try the next
            if (found := self.get(layer_name, version)) is not None:
                return found
        return None

    def holds(self, layer_name: str, version: int | None, code_sha256: str) -> bool:
        found = self.get(layer_name, version) if version is not None else None
        return found is not None and found.code_sha256 == code_sha256

    def find(self, layer_name: str, code_sha256: str, prefer: Sequence[int | None] = ()) -> PublishedVersion | None:
        """The version holding exactly `code_sha256`: the first of `prefer` that does (no needless
        re-pin), else the newest that does; None when no version does."""
        for version in prefer:
            if version is not None and self.holds(layer_name, version, code_sha256):
                return self.get(layer_name, version)
        for version in self.versions(layer_name):
            if (found := self.get(layer_name, version)) is not None and found.code_sha256 == code_sha256:
                return found
        return None


Regions = Callable[[str], RegionLayers]  # region -> its reader


def boto3_regions(profile: str | None = None, *, source: str = "--profile", call: Caller | None = None) -> Regions:
    """Readers on real boto3 (`AWS_ENDPOINT_URL` points them at moto_server in the tests), one per
    region, all on one session: the profile is checked once, before any call."""
    from layersmith.aws.sessions import boto_config, make_session  # boto3: only here, not at import

    session = make_session(profile, source=source)
    readers: dict[str, RegionLayers] = {}

    def reader(region: str) -> RegionLayers:
        if region not in readers:
            api: LambdaApi = session.client("lambda", region_name=region, config=boto_config())
            readers[region] = RegionLayers(api, region, call or Caller())
        return readers[region]

    return reader


def stack_regions(project: Project, stack: str, profile: str | None = None) -> Regions:
    """Readers with the credentials `pulumi up` would use for `stack`: `--profile`, else the stack's
    `aws:profile`, else boto3's default chain (`AWS_PROFILE`, environment, SSO, instance role)."""
    if profile:
        return boto3_regions(profile, source="--profile")
    configured = project.stack_raw(stack).get("aws:profile")
    if configured:
        return boto3_regions(str(configured), source=f"aws:profile in {project.stack_file(stack).name}")
    return boto3_regions()
