"""The data of `layersmith report`: one JSON-able dict, rendered to HTML by `report_html` or printed.

Four views, each from the project (offline) and, when an inventory is given, from the fleet:

* matrix: rows are functions — each committed stack's (their pins) and, from an inventory, every
  function found attaching a version (other accounts' included); columns are layer variants; a cell
  is the version, with how far it is behind: an inventory's latest version of that physical layer
  in that account and region, else (offline) the newest version any committed stack pins there;
* treemaps: each variant's unzipped bytes by distribution, from the build cache (never built here);
  each stack function's share of Lambda's 250 MB unzipped budget;
* grants: who may read which version (the inventory's resource policies; offline, `shareWith`);
* drift: pins naming a version per region whose contents (`CodeSha256`) differ between regions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from layersmith.builder.sizes import VariantSizes
from layersmith.builder.verify import MAX_UNZIPPED
from layersmith.model import LayerSpec, StackConfig, Variant, expand_variants
from layersmith.naming import function_name
from layersmith.pin_sites import PinSite, pin_sites
from layersmith.project import Project
from layersmith.treemap import squarify

FORMAT = "layersmith-report/1"
TREEMAP_BOX = (1000.0, 320.0)  # the SVG viewBox each treemap is laid out in
SizeLookup = Callable[[LayerSpec, Variant], VariantSizes | None]
ContentLookup = Callable[[str, str, int], str | None]  # (layer name, region, version) -> CodeSha256


@dataclass(frozen=True)
class Sources:
    sizes: SizeLookup
    inventory: dict[str, Any] | None = None
    inventory_label: str | None = None  # the file, or "online scan"
    content: ContentLookup | None = None  # --online: each version's CodeSha256


def column_id(layer: str, variant: str) -> str:
    return f"{layer} {variant}"


def state_of(behind: int | None) -> str:
    if behind is None:
        return "unknown"
    return "current" if behind <= 0 else "behind" if behind == 1 else "far"


class _Reference:
    """The newest version of each physical layer per region: the inventory's, else the newest pinned."""

    def __init__(self, sites: Iterable[PinSite], inventory: dict[str, Any] | None) -> None:
        self.latest: dict[tuple[str, str, str], int] = {}  # (account, region, name) -> newest version
        self.by_region: dict[tuple[str, str], int] = {}  # (region, name) -> newest (any account)
        self.from_inventory = inventory is not None
        for v in (inventory or {}).get("versions", []):
            key = (str(v["account"]), str(v["region"]), str(v["name"]))
            self.latest[key] = max(self.latest.get(key, 0), int(v["version"]))
            self.by_region[key[1:]] = max(self.by_region.get(key[1:], 0), int(v["version"]))
        if inventory is None:
            for s in sites:
                if s.pin is not None:
                    key2 = (s.region, s.layer_name)
                    self.by_region[key2] = max(self.by_region.get(key2, 0), s.pin)

    def behind(self, region: str, name: str, version: int | None, account: str | None = None) -> int | None:
        newest = self.latest.get((account, region, name)) if account else self.by_region.get((region, name))
        if version is None:  # follows latest: current by definition
            return 0
        return None if newest is None else max(newest - version, 0)


def _stack_rows(stacks: list[tuple[StackConfig, list[PinSite]]], ref: _Reference) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for cfg, sites in stacks:
        for fn in cfg.deploy:
            cells: dict[str, Any] = {}
            for site in (s for s in sites if s.function == fn):
                cell = cells.setdefault(column_id(site.layer, site.variant.key),
                                        {"pins": {}, "layer_name": site.layer_name, "behind": 0})
                cell["pins"][site.region] = site.pin if site.pin is not None else "latest"
                behind = ref.behind(site.region, site.layer_name, site.pin)
                cell["behind"] = None if behind is None or cell["behind"] is None else max(cell["behind"], behind)
            for cell in cells.values():
                pins = cell["pins"]
                cell["text"] = " · ".join(_pin_text(r, p, len(pins) > 1) for r, p in pins.items())
                cell["state"] = "latest" if set(pins.values()) == {"latest"} else state_of(cell["behind"])
            rows.append({"function": fn, "origin": "stack", "stack": cfg.stack, "account": None,
                         "region": cfg.region, "where": f"stack {cfg.stack}", "foreign": False, "cells": cells})
    return rows


def _pin_text(region: str, pin: int | str, qualified: bool) -> str:
    text = "latest" if pin == "latest" else f"v{pin}"
    return f"{region} {text}" if qualified else text


def _fleet_rows(inventory: dict[str, Any], ref: _Reference, ours: dict[str, str]) -> list[dict[str, Any]]:
    """One row per (account, region, function) attaching a version ($LATEST: what runs when called;
    published versions and aliases are frozen snapshots, counted in the inventory itself)."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for v in inventory["versions"]:
        for user in v["used_by"]:
            if user["kind"] != "function":
                continue
            key = (str(user["account"]), str(user["region"]), str(user["function"]))
            row = rows.setdefault(key, {"function": key[2], "origin": "fleet", "stack": ours.get(key[2]),
                                        "account": key[0], "region": key[1], "where": f"{key[0]}/{key[1]}",
                                        "foreign": key[2] not in ours, "cells": {}})
            behind = ref.behind(str(v["region"]), str(v["name"]), int(v["version"]), account=str(v["account"]))
            row["cells"][column_id(str(v["layer"]), str(v["variant"]))] = {
                "text": f"v{v['version']}", "behind": behind, "state": state_of(behind),
                "layer_name": v["name"], "pins": {v["region"]: v["version"]}}
    return [rows[k] for k in sorted(rows)]


def _columns(rows: list[dict[str, Any]], layers: dict[str, LayerSpec]) -> list[dict[str, str]]:
    order = {column_id(n, v.key): (i, j) for i, (n, s) in enumerate(layers.items())
             for j, v in enumerate(expand_variants(s))}
    used = {c for row in rows for c in row["cells"]}
    return [{"id": c, "layer": c.split(" ")[0], "variant": c.split(" ")[1]}
            for c in sorted(used, key=lambda c: (order.get(c, (999, 0)), c))]


def _treemaps(columns: list[dict[str, str]], layers: dict[str, LayerSpec], sizes: SizeLookup,
              notes: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for col in columns:
        spec = layers.get(col["layer"])
        variant = next((v for v in expand_variants(spec) if v.key == col["variant"]), None) if spec else None
        found = sizes(spec, variant) if spec and variant else None
        if found is None:
            why = (f"not built here: run `layersmith build {col['layer']}`" if variant
                   else "no longer a variant of this project's spec")
            notes.append(f"{col['id']}: {why}")
            out.append({"column": col["id"], "built": False, "note": why, "bytes": None, "rects": []})
            continue
        rects = squarify(list(found.parts), 0, 0, *TREEMAP_BOX)
        out.append({"column": col["id"], "built": True, "bytes": found.unzipped_bytes, "zip_bytes": found.zip_bytes,
                    "share": found.unzipped_bytes / MAX_UNZIPPED,
                    "rects": [{"name": r.name, "bytes": r.size, "x": round(r.x, 2), "y": round(r.y, 2),
                               "w": round(r.w, 2), "h": round(r.h, 2)} for r in rects]})
    return out


def _budget(rows: list[dict[str, Any]], treemaps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sizes = {t["column"]: t["bytes"] for t in treemaps}
    out = []
    for row in rows:
        if row["origin"] != "stack":
            continue
        parts = {c: sizes.get(c) for c in row["cells"]}
        total = sum(b for b in parts.values() if b)
        out.append({"stack": row["stack"], "function": row["function"], "bytes": total,
                    "share": total / MAX_UNZIPPED, "complete": all(b is not None for b in parts.values()),
                    "layers": parts})
    return out


def _grants(stacks: list[StackConfig], inventory: dict[str, Any] | None) -> list[dict[str, Any]]:
    if inventory is not None:
        return [{"layer_name": v["name"], "version": v["version"], "account": v["account"], "region": v["region"],
                 "shared_with": list(v["shared_with"]), "unmanaged": list(v.get("shared_unmanaged", [])),
                 "source": "resource policy"}
                for v in inventory["versions"] if v["shared_with"]]
    out = []
    for cfg in stacks:
        share = cfg.share_with
        who = [*share.accounts, *(f"org:{o}" for o in share.organizations), *(["public"] if share.public else [])]
        if cfg.publish and who:
            out.append({"stack": cfg.stack, "layers": list(cfg.publish), "regions": list(cfg.publish_regions),
                        "shared_with": who, "source": "layersmith:shareWith (as configured; --inventory shows AWS)"})
    return out


def _drift(stacks: list[tuple[StackConfig, list[PinSite]]], sources: Sources) -> list[dict[str, Any]]:
    """Pins naming a version in several regions, with each region's CodeSha256 when it is known."""
    known: dict[tuple[str, str, int], str] = {}
    for v in (sources.inventory or {}).get("versions", []):
        if v.get("code_sha256"):
            known[(str(v["name"]), str(v["region"]), int(v["version"]))] = str(v["code_sha256"])
    out = []
    for cfg, sites in stacks:
        groups: dict[tuple[str, str], list[PinSite]] = {}
        for s in sites:
            if s.pin is not None and s.qualified:
                groups.setdefault((s.function, s.layer), []).append(s)
        for (fn, layer), group in groups.items():
            if len(group) < 2:
                continue
            shas: dict[str, str | None] = {}
            for s in group:
                assert s.pin is not None
                sha = known.get((s.layer_name, s.region, s.pin))
                shas[s.region] = sha if sha or sources.content is None else sources.content(s.layer_name, s.region,
                                                                                            s.pin)
            values = set(shas.values())
            status = "unknown" if None in values else "differs" if len(values) > 1 else "same"
            out.append({"stack": cfg.stack, "function": fn, "layer": layer, "layer_name": group[0].layer_name,
                        "pins": {s.region: s.pin for s in group}, "code_sha256": shas, "status": status})
    return out


def build_report(project: Project, stack: str | None, sources: Sources, generated: str) -> dict[str, Any]:
    names = [s for s in project.committed_stacks() if stack is None or s == stack]
    layers = project.layer_specs()
    stacks = [(cfg, pin_sites(project, cfg, layers, project.function_specs(list(cfg.deploy))))
              for cfg in (project.stack_config(n) for n in names)]
    ref = _Reference((s for _, sites in stacks for s in sites), sources.inventory)
    ours = {function_name(cfg.name_prefix, fn): cfg.stack for cfg, _ in stacks for fn in cfg.deploy}
    rows = _stack_rows(stacks, ref)
    if sources.inventory is not None:
        rows += _fleet_rows(sources.inventory, ref, ours)
    notes: list[str] = []
    columns = _columns(rows, layers)
    treemaps = _treemaps(columns, layers, sources.sizes, notes)
    if sources.inventory is None:
        notes.append("offline: rows are the committed stacks' functions; \"behind\" counts from the newest version "
                     "any stack pins. Pass --inventory FILE or --online for the fleet and the latest versions.")
    return {"format": FORMAT, "project": project.name, "generated": generated, "stacks": names,
            "sources": {"project": True, "inventory": sources.inventory_label, "online": sources.content is not None},
            "budget_bytes": MAX_UNZIPPED, "columns": columns, "rows": rows, "treemaps": treemaps,
            "budget": _budget(rows, treemaps), "grants": _grants([c for c, _ in stacks], sources.inventory),
            "drift": _drift(stacks, sources), "notes": notes}
