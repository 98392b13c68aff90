"""Before anything changes: does every integer pin name a layer version that exists?

A pin to a missing version fails `pulumi up` only when Lambda rejects the function update, after
layers were published and grants changed; a consuming stack's pin to a version the publisher has
not published yet would make the publisher's grant fail. So the program asks AWS first (through
the aws provider's own `getLayerVersion` data source, so the stack's credentials apply):

* a pin of this stack on a layer it publishes may name an existing version, or the version this
  deploy publishes (latest + 1, when the local zip differs from the latest version's
  `CodeSha256`); anything else fails in one line naming the stack file, function, layer, pin and
  the latest existing version;
* a consuming stack's pin above what exists is warned about and not granted: a consumer must
  never break the publisher's deploy.

`layersmith plan` runs under mocks with no AWS to ask: it skips this and says so.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from layersmith.errors import ConfigError

OFFLINE_NOTE = "pins not checked against AWS: layersmith plan runs under mocks (pulumi preview checks them)"


@dataclass(frozen=True)
class Published:
    """The latest version of a layer as AWS reports it."""

    version: int
    code_sha256: str  # base64, as Lambda's Content.CodeSha256


class VersionLookup(Protocol):
    def latest(self, layer_name: str) -> Published | None:
        """The newest version of `layer_name` (a name or unversioned ARN), None when there is none."""
        ...

    def exists(self, layer_name: str, version: int) -> bool: ...


@dataclass(frozen=True)
class PinUse:
    """One integer pin on one physical layer: by a function of this stack (`function` set) or by a
    committed consuming stack (`function` None, `stack_file` the consumer's)."""

    layer: str
    layer_name: str  # physical name, or unversioned ARN for a layer consumed by ARN
    version: int
    stack_file: str
    function: str | None = None


def lambda_sha256(hex_digest: str) -> str:
    """Lambda's `CodeSha256`: the base64 of the raw SHA-256 digest of the zip."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


@dataclass
class Preflight:
    lookup: VersionLookup
    # physical name -> Lambda CodeSha256 of the zip this deploy would publish
    publishing: dict[str, str]

    def __post_init__(self) -> None:
        self._latest: dict[str, Published | None] = {}

    def latest(self, layer_name: str) -> Published | None:
        if layer_name not in self._latest:
            self._latest[layer_name] = self.lookup.latest(layer_name)
        return self._latest[layer_name]

    def highest_allowed(self, layer_name: str) -> int:
        latest = self.latest(layer_name)
        have = latest.version if latest else 0
        sha = self.publishing.get(layer_name)
        publishes_new = sha is not None and (latest is None or latest.code_sha256 != sha)
        return have + 1 if publishes_new else have

    def problem(self, pin: PinUse) -> str | None:
        """Why `pin` cannot be attached, or None when it can."""
        latest = self.latest(pin.layer_name)
        have = f"the latest is {latest.version}" if latest else "no version is published yet"
        if pin.version > self.highest_allowed(pin.layer_name):
            new = " (this deploy publishes none: the local build equals it)" if (
                latest and pin.layer_name in self.publishing and latest.code_sha256 == self.publishing[pin.layer_name]
            ) else ""
            return f"version {pin.version} of {pin.layer_name} does not exist; {have}{new}"
        if latest is not None and pin.version <= latest.version and not self.lookup.exists(pin.layer_name,
                                                                                           pin.version):
            return f"version {pin.version} of {pin.layer_name} does not exist (deleted?); {have}"
        return None

    def check_own(self, pins: Iterable[PinUse]) -> None:
        """Raise on the first pin of this stack that names no version."""
        for pin in sorted(pins, key=lambda p: (p.function or "", p.layer)):
            if (why := self.problem(pin)) is not None:
                raise ConfigError(f"{why}: pin an existing version (see `layersmith inventory`)",
                                  path=pin.stack_file, key=f"layersmith:pins.{pin.function}.{pin.layer}")

    def filter_consumers(self, pins: Iterable[PinUse]) -> tuple[list[PinUse], list[str]]:
        """(pins that can be granted, one warning per pin that cannot)."""
        keep, warnings = [], []
        for pin in pins:
            why = self.problem(pin)
            if why is None:
                keep.append(pin)
            else:
                warnings.append(f"{pin.stack_file} pins {pin.layer} v{pin.version}: {why}; not granted "
                                "(fix that stack's pin)")
        return keep, warnings

    def check_consumed(self, pins: Iterable[PinUse]) -> None:
        """A layer of another account, pinned by ARN: only that version can be read (ListLayerVersions
        is never granted across accounts), so ask for exactly it."""
        for pin in pins:
            if not self.lookup.exists(pin.layer_name, pin.version):
                raise ConfigError(f"version {pin.version} of {pin.layer_name} does not exist or is not shared "
                                  "with this account; pin a version its owner granted you",
                                  path=pin.stack_file, key=f"layersmith:pins.{pin.function}.{pin.layer}")
