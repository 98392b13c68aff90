"""`check --online`: does each pinned version hold what this checkout builds? Compared by content.

Per pin and region: the pinned version's `Content.CodeSha256` (GetLayerVersion) against the
Lambda-style hash of the local reproducible build of the same variant:

* `same`      — the pinned version holds exactly this checkout's build;
* `different` — it exists but holds other content (an older or newer build; `layersmith promote`
                finds the version that holds this build, if one was published);
* `missing`   — no such version in that region (never published there, or deleted): a deploy
                that attaches it fails.

Pins on `latest` name no version: they are listed as `latest` and not compared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from layersmith.aws.content import Regions
from layersmith.model import BuildResult
from layersmith.pins.preflight import lambda_sha256
from layersmith.pins.sites import PinSite

Status = Literal["same", "different", "missing", "latest"]


@dataclass(frozen=True)
class PinVerdict:
    site: PinSite
    status: Status
    local_sha256: str  # Lambda form (base64) of the local build
    published_sha256: str | None  # the pinned version's, None when missing or not pinned
    latest: int | None  # the newest version in that region (for the message), None when there is none

    @property
    def failed(self) -> bool:
        return self.status in ("different", "missing")

    def message(self) -> str:
        s = self.site
        where = f"{s.layer_name} v{s.pin} in {s.region}"
        newest = f"the latest there is v{self.latest}" if self.latest else f"no version exists in {s.region}"
        if self.status == "missing" and s.source == "stack":
            # Lambda names layers per account: another account's layer is not found under ours.
            return (f"{s.stack_file} {s.key}: {where} was not found in the account of the credentials used; "
                    "run with the publishing account's credentials (--profile), or pin a version it published")
        if self.status == "missing":
            return (f"{s.stack_file} {s.key}: {where} does not exist ({newest}); publish it there "
                    f"(pulumi up) or pin an existing version (layersmith promote {s.layer} --to {s.stack})")
        if self.status == "different":
            return (f"{s.stack_file} {s.key}: {where} holds other content than this checkout's build of "
                    f"{s.layer} ({s.variant.key}): published {self.published_sha256}, local {self.local_sha256}; "
                    f"to pin the version holding this build: layersmith promote {s.layer} --to {s.stack}")
        return f"{s.stack_file} {s.key}: {where} holds this checkout's build"

    def to_json(self) -> dict[str, Any]:
        site = asdict(self.site)
        site["variant"] = self.site.variant.key
        return {**site, "key": self.site.key, "status": self.status, "local_sha256": self.local_sha256,
                "published_sha256": self.published_sha256, "latest": self.latest}


def verify_pins(sites: list[PinSite], builds: dict[tuple[str, str], BuildResult], regions: Regions
                ) -> list[PinVerdict]:
    out = []
    for site in sites:
        local = lambda_sha256(builds[(site.layer, site.variant.key)].sha256)
        if site.pin is None:
            out.append(PinVerdict(site, "latest", local, None, None))
            continue
        reader = regions(site.region)
        found = reader.get(site.layer_name, site.pin)
        if found is None:
            latest = reader.latest(site.layer_name)
            out.append(PinVerdict(site, "missing", local, None, latest.version if latest else None))
            continue
        status: Status = "same" if found.code_sha256 == local else "different"
        out.append(PinVerdict(site, status, local, found.code_sha256, None))
    return out


def verdict_rows(verdicts: list[PinVerdict]) -> list[list[str]]:
    return [[v.site.function, v.site.layer, v.site.variant.key, v.site.region,
             "latest" if v.site.pin is None else str(v.site.pin),
             {"same": "same content", "different": "DIFFERENT content", "missing": "MISSING",
              "latest": "- (not pinned)"}[v.status]] for v in verdicts]
