"""The data of `layersmith report`: typed records, rendered to HTML by `report_html` or printed as JSON.

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
from dataclasses import dataclass, field

from layersmith.aws.inventory_file import FleetInventory
from layersmith.builder.sizes import VariantSizes
from layersmith.builder.verify import MAX_UNZIPPED
from layersmith.fleet.treemap import squarify
from layersmith.model import LayerSpec, StackConfig, Variant, expand_variants
from layersmith.pins.sites import PinSite, pin_sites
from layersmith.project.checkout import Project
from layersmith.project.naming import function_name

FORMAT = "layersmith-report/1"
TREEMAP_BOX = (1000.0, 320.0)  # the SVG viewBox each treemap is laid out in (report.js draws it)
SizeLookup = Callable[[LayerSpec, Variant], VariantSizes | None]
ContentLookup = Callable[[str, str, int], str | None]  # (layer name, region, version) -> CodeSha256


@dataclass(frozen=True)
class Sources:
    sizes: SizeLookup
    inventory: FleetInventory | None = None
    inventory_label: str | None = None  # the file, or "online scan"
    content: ContentLookup | None = None  # --online: each version's CodeSha256


@dataclass
class Cell:
    text: str
    state: str  # current | latest | behind | far | unknown
    behind: int | None
    layer_name: str
    pins: dict[str, int | str]  # region -> version ("latest": follows it)


@dataclass
class Row:
    function: str
    origin: str  # "stack": a committed stack's function; "fleet": found attaching a version
    where: str
    region: str
    stack: str | None
    account: str | None
    foreign: bool  # seen only in the fleet: no committed stack deploys it
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    id: str
    layer: str
    variant: str


@dataclass(frozen=True)
class Piece:
    name: str
    bytes: int
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Treemap:
    column: str
    built: bool
    bytes: int | None
    zip_bytes: int | None
    share: float | None
    rects: tuple[Piece, ...]
    note: str = ""


@dataclass(frozen=True)
class Budget:
    stack: str | None
    function: str
    bytes: int
    share: float
    complete: bool  # False: some attached variant is not built here, so its bytes are missing
    layers: dict[str, int | None]


@dataclass(frozen=True)
class Grant:
    what: str  # "layersmith-prod-utils:4", or the stack's layers as configured
    where: str  # account/region, or the stack's regions
    shared_with: tuple[str, ...]
    unmanaged: tuple[str, ...]
    source: str  # "resource policy" | "layersmith:shareWith"


@dataclass(frozen=True)
class Drift:
    stack: str
    function: str
    layer: str
    layer_name: str
    pins: dict[str, int]
    code_sha256: dict[str, str | None]
    status: str  # same | differs | unknown


@dataclass(frozen=True)
class Report:
    format: str
    project: str
    generated: str
    stacks: tuple[str, ...]
    inventory: str | None
    online: bool
    budget_bytes: int
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    treemaps: tuple[Treemap, ...]
    budget: tuple[Budget, ...]
    grants: tuple[Grant, ...]
    drift: tuple[Drift, ...]
    notes: tuple[str, ...]


def column_id(layer: str, variant: str) -> str:
    return f"{layer} {variant}"


def state_of(behind: int | None) -> str:
    if behind is None:
        return "unknown"
    return "current" if behind <= 0 else "behind" if behind == 1 else "far"


class _Reference:
    """The newest version of each physical layer per region: the inventory's, else the newest pinned."""

    def __init__(self, sites: Iterable[PinSite], inventory: FleetInventory | None) -> None:
        self.latest: dict[tuple[str, str, str], int] = {}  # (account, region, name) -> newest version
        self.by_region: dict[tuple[str, str], int] = {}  # (region, name) -> newest (any account)
        for v in inventory.versions if inventory else ():
            self.latest[(v.account, v.region, v.name)] = max(self.latest.get((v.account, v.region, v.name), 0),
                                                             v.version)
            self.by_region[(v.region, v.name)] = max(self.by_region.get((v.region, v.name), 0), v.version)
        if inventory is None:
            for s in sites:
                if s.pin is not None:
                    self.by_region[(s.region, s.layer_name)] = max(self.by_region.get((s.region, s.layer_name), 0),
                                                                   s.pin)

    def behind(self, region: str, name: str, version: int | None, account: str | None = None) -> int | None:
        if version is None:  # follows latest: current by definition
            return 0
        newest = self.latest.get((account, region, name)) if account else self.by_region.get((region, name))
        return None if newest is None else max(newest - version, 0)


def _pin_text(region: str, pin: int | str, qualified: bool) -> str:
    text = "latest" if pin == "latest" else f"v{pin}"
    return f"{region} {text}" if qualified else text


def _stack_cell(sites: list[PinSite], ref: _Reference) -> Cell:
    pins: dict[str, int | str] = {s.region: s.pin if s.pin is not None else "latest" for s in sites}
    distances = [ref.behind(s.region, s.layer_name, s.pin) for s in sites]
    behind = None if None in distances else max(d for d in distances if d is not None)
    text = " · ".join(_pin_text(r, p, len(pins) > 1) for r, p in pins.items())
    state = "latest" if set(pins.values()) == {"latest"} else state_of(behind)
    return Cell(text, state, behind, sites[0].layer_name, pins)


def _stack_rows(stacks: list[tuple[StackConfig, list[PinSite]]], ref: _Reference) -> list[Row]:
    rows: list[Row] = []
    for cfg, sites in stacks:
        for fn in cfg.deploy:
            by_column: dict[str, list[PinSite]] = {}
            for site in sites:
                if site.function == fn:
                    by_column.setdefault(column_id(site.layer, site.variant.key), []).append(site)
            rows.append(Row(fn, "stack", f"stack {cfg.stack}", cfg.region, cfg.stack, None, False,
                            {c: _stack_cell(s, ref) for c, s in by_column.items()}))
    return rows


def _fleet_rows(inventory: FleetInventory, ref: _Reference, ours: dict[str, str]) -> list[Row]:
    """One row per (account, region, function) attaching a version ($LATEST: what runs when called;
    published versions and aliases are frozen snapshots, listed by `inventory` itself)."""
    rows: dict[tuple[str, str, str], Row] = {}
    for v in inventory.versions:
        for user in v.used_by:
            if user.kind != "function":
                continue
            key = (user.account, user.region, user.function)
            row = rows.setdefault(key, Row(user.function, "fleet", f"{user.account}/{user.region}", user.region,
                                           ours.get(user.function), user.account, user.function not in ours))
            behind = ref.behind(v.region, v.name, v.version, account=v.account)
            row.cells[column_id(v.layer, v.variant)] = Cell(f"v{v.version}", state_of(behind), behind, v.name,
                                                            {v.region: v.version})
    return [rows[k] for k in sorted(rows)]


def _columns(rows: list[Row], layers: dict[str, LayerSpec]) -> list[Column]:
    order = {column_id(n, v.key): (i, j) for i, (n, s) in enumerate(layers.items())
             for j, v in enumerate(expand_variants(s))}
    used = {c for row in rows for c in row.cells}
    return [Column(c, *c.split(" ", 1)) for c in sorted(used, key=lambda c: (order.get(c, (999, 0)), c))]


def _treemap(col: Column, layers: dict[str, LayerSpec], sizes: SizeLookup) -> Treemap:
    spec = layers.get(col.layer)
    variant = next((v for v in expand_variants(spec) if v.key == col.variant), None) if spec else None
    found = sizes(spec, variant) if spec and variant else None
    if found is None:
        why = (f"not built here: run `layersmith build {col.layer}`" if variant
               else "not a variant of this checkout's spec (a dropped runtime?)")
        return Treemap(col.id, False, None, None, None, (), why)
    rects = tuple(Piece(r.name, r.size, round(r.x, 3), round(r.y, 3), round(r.w, 3), round(r.h, 3))
                  for r in squarify(list(found.parts), 0, 0, *TREEMAP_BOX))
    return Treemap(col.id, True, found.unzipped_bytes, found.zip_bytes, found.unzipped_bytes / MAX_UNZIPPED, rects)


def _budget(rows: list[Row], treemaps: list[Treemap]) -> list[Budget]:
    sizes = {t.column: t.bytes for t in treemaps}
    out = []
    for row in rows:
        if row.origin == "stack":
            parts = {c: sizes.get(c) for c in row.cells}
            total = sum(b for b in parts.values() if b)
            out.append(Budget(row.stack, row.function, total, total / MAX_UNZIPPED,
                              all(b is not None for b in parts.values()), parts))
    return out


def _grants(stacks: list[StackConfig], inventory: FleetInventory | None) -> list[Grant]:
    if inventory is not None:
        return [Grant(f"{v.name}:{v.version}", f"{v.account}/{v.region}", v.shared_with, v.unmanaged,
                      "resource policy") for v in inventory.versions if v.shared_with]
    out = []
    for cfg in stacks:
        share = cfg.share_with
        who = (*share.accounts, *(f"org:{o}" for o in share.organizations), *(("public",) if share.public else ()))
        if cfg.publish and who:
            out.append(Grant(f"stack {cfg.stack}: {', '.join(cfg.publish)}", ", ".join(cfg.publish_regions), who, (),
                             "layersmith:shareWith"))
    return out


def _multi_region_pins(sites: list[PinSite]) -> dict[tuple[str, str], list[tuple[PinSite, int]]]:
    """(function, layer) -> its integer pins, for the pins that name a version in several regions."""
    groups: dict[tuple[str, str], list[tuple[PinSite, int]]] = {}
    for s in sites:
        if s.pin is not None and s.qualified:
            groups.setdefault((s.function, s.layer), []).append((s, s.pin))
    return {k: g for k, g in groups.items() if len(g) > 1}


def _drift(stacks: list[tuple[StackConfig, list[PinSite]]], sources: Sources) -> list[Drift]:
    """Pins naming a version in several regions, with each region's CodeSha256 when it is known."""
    known = {(v.name, v.region, v.version): v.code_sha256
             for v in (sources.inventory.versions if sources.inventory else ()) if v.code_sha256}

    def sha(site: PinSite, pin: int) -> str | None:
        found = known.get((site.layer_name, site.region, pin))
        return found if found is not None or sources.content is None else sources.content(site.layer_name,
                                                                                          site.region, pin)

    out = []
    for cfg, sites in stacks:
        for (fn, layer), group in _multi_region_pins(sites).items():
            shas = {s.region: sha(s, pin) for s, pin in group}
            values = set(shas.values())
            status = "unknown" if None in values else "differs" if len(values) > 1 else "same"
            out.append(Drift(cfg.stack, fn, layer, group[0][0].layer_name, {s.region: p for s, p in group}, shas,
                             status))
    return out


def _stacks(project: Project, names: tuple[str, ...]) -> list[tuple[StackConfig, list[PinSite]]]:
    layers = project.layer_specs()
    return [(cfg, pin_sites(project, cfg, layers, project.function_specs(list(cfg.deploy))))
            for cfg in (project.stack_config(n) for n in names)]


OFFLINE_NOTE = ("offline: rows are the committed stacks' functions, and \"behind\" counts from the newest version any "
                "stack pins; --inventory FILE or --online adds the fleet and its latest versions")


def _notes(treemaps: list[Treemap], inventory: FleetInventory | None) -> list[str]:
    notes = [f"{t.column}: {t.note}" for t in treemaps if not t.built]
    if inventory is None:
        return [*notes, OFFLINE_NOTE]
    return notes + [f"not scanned, so missing here: {b}" for b in inventory.not_scanned]


def _rows(stacks: list[tuple[StackConfig, list[PinSite]]], inventory: FleetInventory | None) -> list[Row]:
    ref = _Reference((s for _, sites in stacks for s in sites), inventory)
    ours = {function_name(cfg.name_prefix, fn): cfg.stack for cfg, _ in stacks for fn in cfg.deploy}
    return _stack_rows(stacks, ref) + (_fleet_rows(inventory, ref, ours) if inventory is not None else [])


def build_report(project: Project, stack: str | None, sources: Sources, generated: str) -> Report:
    names = tuple(s for s in project.committed_stacks() if stack is None or s == stack)
    layers = project.layer_specs()
    stacks = _stacks(project, names)
    rows = _rows(stacks, sources.inventory)
    columns = _columns(rows, layers)
    # One after another: finding a build means its cache key, which asks the runtimes' interpreters
    # (interpreters.Finder), and that search is not thread-safe (uv's binary lookup raced in threads).
    treemaps = [_treemap(col, layers, sources.sizes) for col in columns]
    notes = _notes(treemaps, sources.inventory)
    return Report(FORMAT, project.name, generated, names, sources.inventory_label, sources.content is not None,
                  MAX_UNZIPPED, tuple(columns), tuple(rows), tuple(treemaps), tuple(_budget(rows, treemaps)),
                  tuple(_grants([c for c, _ in stacks], sources.inventory)), tuple(_drift(stacks, sources)),
                  tuple(notes))
