"""Render an inventory or a prune plan: aligned plain text for people, JSON for scripts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from layersmith.aws.prune import Decision, PruneResult, PruneSelection
from layersmith.aws.records import Attachment, Inventory, LayerVersionRecord, Target
from layersmith.aws.verdict import Verdict, verdicts
from layersmith.table import render_table, wrap_text


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def short_date(created: str) -> str:
    """`2026-11-23T12:52:13.912+0000` → `2026-11-23 12:52` (Lambda reports UTC)."""
    return created[:16].replace("T", " ")


def _marks(verdict: Verdict) -> str:
    """`latest`, `pinned by <stacks>`, and the status when it is not plain from those: `UNUSED` (what
    `prune --keep 1` deletes), or why an old version is kept though nothing scanned uses it."""
    marks = []
    if verdict.latest:
        marks.append("latest")
    stacks = sorted({p.stack for p in verdict.pins})
    if stacks:
        marks.append(f"pinned by {','.join(stacks)}")
    state = verdict.status()
    if state == "unused":
        marks.append("UNUSED")
    elif state == "unknown":
        marks.append("shared with " + ",".join(verdict.unscanned_shares) + ", not scanned" if verdict.unscanned_shares
                     else "maybe used in " + ",".join(f.where() for f in verdict.blind) + ", not scanned")
    return ", ".join(marks)


_KIND_ORDER = {"function": 0, "version": 1, "alias": 2}


def _ordered(attachments: tuple[Attachment, ...], home: Target) -> list[Attachment]:
    """Same account first; per function: $LATEST, versions (numerically), aliases."""
    return sorted(attachments, key=lambda a: (a.target != home, str(a.target), a.function, _KIND_ORDER[a.kind],
                                              int(a.qualifier) if a.qualifier.isdigit() else 0, a.qualifier))


def _user(attachment: Attachment, home: Target) -> str:
    where = "" if attachment.target == home else f"{attachment.target} "
    return where + attachment.describe()


def _version_rows(verdict: Verdict) -> list[list[str]]:
    record = verdict.record
    users = [_user(a, record.target) for a in _ordered(verdict.users, record.target)]
    users = users or ["-"]
    first = [str(record.version), short_date(record.created), human_size(record.code_size),
             ",".join(r.removeprefix("python") for r in record.runtimes) or "-",
             ",".join(record.architectures) or "-", _shared_cell(record),
             _marks(verdict), users[0]]
    return [first, *([""] * 7 + [u] for u in users[1:])]


UNMANAGED_NOTE = ("* granted by a statement layersmith does not own (its id lacks the `layersmith-` prefix): "
                  "pulumi up never changes or revokes it; remove it with aws lambda remove-layer-version-permission")


def _shared_cell(record: LayerVersionRecord) -> str:
    return ",".join(f"{s}*" if s in record.shared_unmanaged else s for s in record.shared_with) or "-"


def render_inventory(inventory: Inventory, width: int | None = None) -> str:
    """`width`: fit every line to it (the tables are indented by two); None: unfitted."""
    groups: dict[tuple[Target, str], list[LayerVersionRecord]] = defaultdict(list)
    for record in inventory.versions:
        groups[record.key].append(record)
    blocks = []
    judged = verdicts(inventory)
    for (target, name), records in groups.items():
        ref = records[0].ref
        title = (f"{name}  (stack {','.join(ref.stacks)}, layer {ref.layer}, variant {ref.variant}) "
                 f"in {target}")
        rows = [row for record in records for row in _version_rows(judged[record.arn])]
        table = render_table(["version", "created (UTC)", "size", "python", "arch", "shared with", "marks",
                              "used by"], rows, right={0, 2}, width=None if width is None else width - 2)
        blocks.append(wrap_text(title, width, hang="  ") + "\n" + _indent(table))
    if any(r.shared_unmanaged for r in inventory.versions):
        blocks.append(wrap_text(UNMANAGED_NOTE, width, hang="  "))
    blocks += _dangling_block(inventory, width)
    blocks.append(wrap_text(summary(inventory, judged), width, hang="  "))
    return "\n\n".join(blocks)


def _dangling_block(inventory: Inventory, width: int | None) -> list[str]:
    dangling = _dangling(inventory)
    if not dangling:
        return []
    return ["attached but not found (deleted, or in an account/region not scanned):\n" + _indent(
        "\n".join(wrap_text(f"{a.layer_version_arn}  ← {a.target} {a.describe()}",
                             None if width is None else width - 2, hang="    ") for a in dangling))]


def _indent(text: str) -> str:
    return "\n".join(("  " + line).rstrip() for line in text.splitlines())


def _dangling(inventory: Inventory) -> list[Attachment]:
    known = {v.arn for v in inventory.versions}
    return [a for a in inventory.attachments if a.layer_version_arn not in known]


def summary(inventory: Inventory, judged: dict[str, Verdict] | None = None) -> str:
    judged = judged if judged is not None else verdicts(inventory)
    counts: dict[str, int] = defaultdict(int)
    unused_bytes = 0
    for record in inventory.versions:
        state = judged[record.arn].status()
        counts[state] += 1
        unused_bytes += record.code_size if state == "unused" else 0
    accounts = len({t.account for t in inventory.targets})
    regions = len({t.region for t in inventory.targets})
    total = sum(v.code_size for v in inventory.versions)
    line = (f"{len(inventory.versions)} versions of {len({v.key for v in inventory.versions})} layers "
            f"({human_size(total)}) in {accounts} account(s) × {regions} region(s): {counts['in use']} in use, "
            f"{counts['pinned']} pinned only, {counts['latest']} latest only, {counts['unused']} unused "
            f"({human_size(unused_bytes)} retained, attached to nothing)")
    return _qualified(line, inventory, counts["unknown"])


def _qualified(line: str, inventory: Inventory, unknown: int) -> str:
    """The summary line with what limits it: versions kept blind, scopes not scanned, an interrupted scan."""
    if unknown:
        line += f"; {unknown} kept because an account or region they may be used in was not scanned"
    if inventory.failures:
        line += f"; {len(inventory.failures)} not scanned (see errors)"
    if inventory.interrupted:
        line = "INCOMPLETE (interrupted): " + line
    return line


def _attachment_json(a: Attachment) -> dict[str, Any]:
    return {"account": a.target.account, "region": a.target.region, "function": a.function, "kind": a.kind,
            "qualifier": a.qualifier, "alias_version": a.alias_version, "layer_version_arn": a.layer_version_arn}


def _version_json(verdict: Verdict) -> dict[str, Any]:
    r = verdict.record
    return {"name": r.name, "version": r.version, "arn": r.arn, "account": r.target.account,
            "region": r.target.region, "stacks": list(r.ref.stacks), "layer": r.ref.layer,
            "variant": r.ref.variant, "created": r.created, "code_size": r.code_size,
            "runtimes": list(r.runtimes), "architectures": list(r.architectures),
            "shared_with": list(r.shared_with), "shared_unmanaged": list(r.shared_unmanaged),
            "code_sha256": r.code_sha256,
            "latest": verdict.latest,
            "pinned_by": sorted({p.describe() for p in verdict.pins}),
            "used_by": [_attachment_json(a) for a in verdict.users],
            "status": verdict.status()}


def failures_json(inventory: Inventory) -> list[dict[str, Any]]:
    return [{"account": f.account, "region": f.region, "message": f.message} for f in inventory.failures]


def inventory_json(inventory: Inventory) -> dict[str, Any]:
    judged = verdicts(inventory)
    return {"scanned": [str(t) for t in inventory.targets], "failures": failures_json(inventory),
            "versions": [_version_json(judged[r.arn]) for r in inventory.versions],
            "attached_but_not_found": [_attachment_json(a) for a in _dangling(inventory)],
            "summary": summary(inventory, judged), "complete": not inventory.interrupted}


def _decision_row(d: Decision) -> list[str]:
    r = d.version
    return ["delete" if d.delete else "keep", f"{r.name}:{r.version}", str(r.target), human_size(r.code_size),
            "; ".join(d.reasons)]


def render_selection(plan: PruneSelection, width: int | None = None) -> str:
    """`width`: fit every line to it; None: unfitted."""
    rows = [_decision_row(d) for d in (*plan.deletions, *plan.kept)]
    table = render_table(["action", "layer version", "where", "size", "why"], rows, right={3}, width=width)
    size = human_size(sum(d.version.code_size for d in plan.deletions))
    head = f"prune plan: keep the newest {plan.keep_newest} version(s) of each layer, and whatever is in use"
    tail = f"{len(plan.deletions)} to delete ({size}), {len(plan.kept)} kept"
    return "\n".join([wrap_text(head, width, hang="  "), "", table, "", wrap_text(tail, width, hang="  ")])


def selection_json(plan: PruneSelection, result: PruneResult | None, dry_run: bool) -> dict[str, Any]:
    def entry(d: Decision) -> dict[str, Any]:
        r = d.version
        return {"arn": r.arn, "name": r.name, "version": r.version, "account": r.target.account,
                "region": r.target.region, "code_size": r.code_size, "reasons": list(d.reasons)}

    return {"keep_newest": plan.keep_newest, "dry_run": dry_run,
            "blocked_by": [{"account": f.account, "region": f.region, "message": f.message}
                           for f in plan.blocked_by],
            "delete": [entry(d) for d in plan.deletions], "keep": [entry(d) for d in plan.kept],
            "deleted": [r.arn for r in result.deleted] if result else [],
            "skipped": [{"arn": r.arn, "why": why} for r, why in result.skipped] if result else []}
