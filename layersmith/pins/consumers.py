"""`promote LAYER --to-consumers`: every committed stack that pins LAYER, re-pinned in one step.

Each stack is planned exactly as `promote LAYER --to STACK` plans it (`promote.plan_promotion`: per
region, the version whose `Content.CodeSha256` equals the source's), and rewritten in memory with
`stack_edit.rewrite_pins` (its read-back guard included). Only when every stack has a version with
that content in every region it needs is anything written, and then all files are staged before
any is renamed into place: all or none. A stack that follows `latest` for LAYER has no pin to move
and is left alone; so is the source stack (`--from`).

Consumers outside this repository (other accounts' functions, found by `inventory`) cannot be
rewritten from here: they are listed as a to-do with account, region, function, the version they
attach and the version in that region that holds the promoted content, when one does.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from layersmith.aws.content import Regions
from layersmith.aws.inventory_file import FleetInventory
from layersmith.errors import PromotionRefused, UserError
from layersmith.pins.promote import LocalBuild, Promotion, Request, plan_promotion
from layersmith.pins.sites import pin_sites
from layersmith.pins.stack_edit import rewrite_pins, unified_diff
from layersmith.project.checkout import Project
from layersmith.project.naming import function_name
from layersmith.writable import require_writable_file, write_failed


@dataclass(frozen=True)
class StackRewrite:
    stack: str
    path: Path
    old: str
    new: str
    promotion: Promotion

    @property
    def diff(self) -> str:
        return unified_diff(self.old, self.new, self.path)


@dataclass(frozen=True)
class Todo:
    """A consumer outside this repository: what it attaches now, and what holds the promoted content."""

    account: str
    region: str
    function: str
    layer_name: str
    version: int
    target: int | None  # None: no committed stack says which version holds the content there


@dataclass(frozen=True)
class ConsumerPromotion:
    rewrites: list[StackRewrite]
    todo: list[Todo]


def pinning_stacks(project: Project, layer: str, source: str | None) -> list[str]:
    """The committed stacks with at least one integer pin on `layer` (the source stack excluded)."""
    layers = project.layer_specs()
    found = []
    for name in project.committed_stacks():
        if name == source:
            continue
        cfg = project.stack_config(name)
        sites = pin_sites(project, cfg, layers, project.function_specs(list(cfg.deploy)))
        if any(s.layer == layer and s.pin is not None for s in sites):
            found.append(name)
    return found


def plan_consumers(project: Project, layer: str, source: str | None, version: int | None, regions: Regions,
                   local: LocalBuild, inventory: FleetInventory | None = None) -> ConsumerPromotion:
    if layer not in project.layer_specs():
        raise UserError(f"unknown layer {layer!r}; the project has {', '.join(project.layer_specs())}", key="LAYER")
    stacks = pinning_stacks(project, layer, source)
    if not stacks:
        raise UserError(f"no committed stack{' but ' + source if source else ''} pins {layer} to a version "
                        "(they follow latest); nothing to promote", key="--to-consumers")
    rewrites: list[StackRewrite] = []
    refusals: list[str] = []
    for name in stacks:
        try:
            promotion = plan_promotion(project, Request(layer, name, source, version), regions, local)
        except PromotionRefused as exc:  # every stack is planned, so the refusal names them all
            refusals.append(f"{name}: {exc.message.removesuffix('; nothing was written')}")
            continue
        path = project.stack_file(name)
        with path.open(encoding="utf-8", newline="") as handle:  # as written: keep \r\n if the file has it
            old = handle.read()
        rewrites.append(StackRewrite(name, path, old, rewrite_pins(old, [c.edit for c in promotion.changes],
                                                                   path=path), promotion))
    if refusals:
        raise PromotionRefused(" | ".join(refusals) + " — nothing was written")
    return ConsumerPromotion(rewrites, todo(project, layer, rewrites, inventory))


def todo(project: Project, layer: str, rewrites: Sequence[StackRewrite],
         inventory: FleetInventory | None) -> list[Todo]:
    """The inventory's functions attaching `layer` that no committed stack deploys."""
    if inventory is None:
        return []
    ours = {function_name(cfg.name_prefix, fn) for cfg in map(project.stack_config, project.committed_stacks())
            for fn in cfg.deploy}
    holds = _holding(rewrites)
    found = {Todo(u.account, u.region, u.function, v.name, v.version, holds.get((v.name, v.region)))
             for v in inventory.versions if v.layer == layer
             for u in v.used_by if u.kind == "function" and u.function not in ours}
    return sorted(found, key=lambda t: (t.account, t.region, t.function, t.layer_name))


def _holding(rewrites: Sequence[StackRewrite]) -> dict[tuple[str, str], int]:
    """(physical layer, region) -> the version holding the promoted content, as the plans found it."""
    holds: dict[tuple[str, str], int] = {}
    for r in rewrites:
        holds.update({(c.site.layer_name, c.site.region): c.version for c in r.promotion.changes})
        holds.update({(name, region): v for name, region, v in r.promotion.elsewhere})
    return holds


def write_all(files: Sequence[tuple[Path, str]]) -> None:
    """Every file or none: each is written to a temporary file beside it first; only when all are
    staged are they renamed into place (a rename within a directory does not fail half-way)."""
    for path, _ in files:
        require_writable_file(path, what="the stack file", remedy="make its directory writable and promote again")
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in files:
            staged.append((_stage(path, text), path))
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


def _stage(path: Path, text: str) -> Path:
    mode = stat.S_IMODE(path.stat().st_mode)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_failed(path, "the stack file", exc, "make its directory writable and promote again") from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(name, mode)
    return Path(name)
