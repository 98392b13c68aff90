"""Inert records the scanner produces and the planner/renderer consume (no boto3 here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from layersmith.model import Pin

AttachmentKind = Literal["function", "version", "alias"]


@dataclass(frozen=True, order=True)
class Target:
    """One (account, region) pair: the unit that is scanned, and that can fail to be scanned."""

    account: str
    region: str

    def __str__(self) -> str:
        return f"{self.account}/{self.region}"


@dataclass(frozen=True)
class LayerRef:
    """What a physical layer name means for this project: `<prefix>-<layer>[-<variant>]`."""

    stacks: tuple[str, ...]  # several stacks can share one prefix through `layersmith:namePrefix`
    prefix: str
    layer: str
    variant: str  # "any" for a portable layer, "py312-x86_64" for a native variant


@dataclass(frozen=True)
class LayerVersionRecord:
    target: Target
    name: str
    version: int
    arn: str
    created: str
    code_size: int
    runtimes: tuple[str, ...]
    architectures: tuple[str, ...]
    shared_with: tuple[str, ...]  # account IDs, "org:o-…", "public"
    ref: LayerRef
    # those of `shared_with` granted by a statement layersmith does not own (no `layersmith-` id)
    shared_unmanaged: tuple[str, ...] = ()
    code_sha256: str = ""  # GetLayerVersion's Content.CodeSha256: the same content has the same hash

    @property
    def key(self) -> tuple[Target, str]:
        """The physical layer this version belongs to."""
        return self.target, self.name


@dataclass(frozen=True)
class Attachment:
    """A function's $LATEST, a published version or an alias that attaches a layer version."""

    target: Target
    function: str
    kind: AttachmentKind
    qualifier: str  # "$LATEST", the version number, or the alias name
    layer_version_arn: str
    alias_version: str | None = None  # the version an alias routes to

    def describe(self) -> str:
        if self.kind == "alias":
            return f"{self.function} alias {self.qualifier}→{self.alias_version}"
        if self.kind == "version":
            return f"{self.function}:{self.qualifier}"
        return f"{self.function} ($LATEST)"


@dataclass(frozen=True)
class ScanFailure:
    account: str
    region: str | None  # None: the whole account (its role could not be assumed)
    message: str

    def where(self) -> str:
        return f"{self.account}/{self.region}" if self.region else f"{self.account} (all regions)"


@dataclass(frozen=True)
class PinRecord:
    """`function -> layer: pin` from a committed `Pulumi.<stack>.yaml`, in one region it names."""

    stack: str
    prefix: str
    function: str
    layer: str
    pin: Pin
    variant: str | None = None  # the variant the function runs (py311-x86_64); None: unknown
    # The region whose version this is: a plain pin's is the stack's `aws:region` (where its
    # functions run), a `{region: version}` pin gives one record per region. None: unknown (every
    # region). Version numbers are per region, so matching the number elsewhere protects the wrong one.
    region: str | None = None

    def describe(self) -> str:
        return f"{self.stack}:{self.function}"

    def exact_for(self, ref: LayerRef) -> bool:
        """Whether this pin resolves to that physical layer: the function's own variant, or the layer's
        portable one (the variant key alone does not say whether the spec is portable)."""
        return self.variant is None or ref.variant in ("any", self.variant)

    def names(self, record: LayerVersionRecord, latest: int | None) -> bool:
        """Whether this pin names `record` (`latest`: the newest version of its physical layer)."""
        return (self.prefix == record.ref.prefix and self.layer == record.ref.layer and self.exact_for(record.ref)
                and self.region in (None, record.target.region)
                and (self.pin == record.version or (self.pin == "latest" and latest == record.version)))


@dataclass(frozen=True)
class Inventory:
    targets: tuple[Target, ...]  # everything that was asked for (scanned or failed)
    versions: tuple[LayerVersionRecord, ...]
    attachments: tuple[Attachment, ...]
    failures: tuple[ScanFailure, ...]
    pins: tuple[PinRecord, ...] = ()
    interrupted: bool = False  # Ctrl-C: the scopes not scanned are among `failures`

    def scanned_accounts(self) -> set[str]:
        failed = {f.account for f in self.failures if f.region is None}
        return {t.account for t in self.targets} - failed
