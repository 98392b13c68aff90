"""`layersmith promote`: pin, in every region of a target stack, the version that holds given content.

Staging's and prod's versions belong to different physical layers (`layersmith-staging-utils`,
`layersmith-prod-utils`), and version numbers differ between regions, so "promote what staging
tested" is a question of content: Lambda's `Content.CodeSha256` of each version, and the local
reproducible build's, are compared exactly. The content to promote, per layer variant, is one of:

* `--from STACK`: what that stack's functions pin for the variant (its latest version when they
  follow `latest`), read in its region (or `--region`); `--version N` picks another version of it;
* `--version N` alone: version N of the target's own layer in `--region` (default: the target's
  region) — a rollback, re-found by content in every other region;
* neither: this checkout's build.

For every target pin on the layer (or the functions `--function` names, adding a pin where there is
none), each region the pin names gets the version holding that content: the pinned one when it
already does, else the newest that does. Every other region the target publishes the layer in must
hold the content too (its consumers there pin their own versions). If a region has none, nothing
is written and the refusal names every such region.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from layersmith.aws.content import Regions
from layersmith.errors import PromotionRefused, UserError
from layersmith.model import FunctionSpec, LayerSpec, StackConfig, Variant
from layersmith.pins.preflight import lambda_sha256
from layersmith.pins.sites import PinSite, pin_sites, publisher_prefix
from layersmith.pins.stack_edit import PinEdit
from layersmith.project.checkout import Project
from layersmith.project.naming import layer_name
from layersmith.project.stacks import layer_source


@dataclass(frozen=True)
class Content:
    """What to pin for one variant: its Lambda CodeSha256, and where it comes from (for messages)."""

    code_sha256: str
    origin: str


@dataclass(frozen=True)
class Request:
    layer: str
    target: str
    source: str | None = None  # --from
    version: int | None = None  # --version
    region: str | None = None  # --region: where --version (or the source's pin) is read
    functions: tuple[str, ...] = ()  # --function


@dataclass(frozen=True)
class Change:
    site: PinSite
    version: int
    origin: str

    @property
    def edit(self) -> PinEdit:
        return PinEdit(self.site.function, self.site.layer, self.site.region if self.site.qualified else None,
                       self.version)


LocalBuild = Callable[[LayerSpec, Variant], str]  # -> the build's hex sha256


def target_sites(project: Project, cfg: StackConfig, req: Request, layers: dict[str, LayerSpec]) -> list[PinSite]:
    """The pins to rewrite: every integer pin on the layer, or the named functions' (pinned or not)."""
    functions = project.function_specs(list(cfg.deploy))
    _check_named_functions(cfg, req, functions)
    sites = [s for s in pin_sites(project, cfg, layers, functions) if s.layer == req.layer]
    chosen = [s for s in sites if s.function in req.functions] if req.functions else [
        s for s in sites if s.pin is not None]
    if not chosen:
        raise UserError(f"no function in {cfg.path.name} pins {req.layer} (they follow latest); name one with "
                        "--function to pin it", key="--function")
    return chosen


def _check_named_functions(cfg: StackConfig, req: Request, functions: Mapping[str, FunctionSpec]) -> None:
    """Each `--function` is deployed by the target stack and attaches the layer."""
    for fn in req.functions:
        if fn not in functions:
            raise UserError(f"{cfg.path.name} does not deploy {fn!r} (layersmith:deploy: "
                            f"{', '.join(cfg.deploy)})", key="--function")
        if req.layer not in functions[fn].layers:
            raise UserError(f"{fn} does not attach {req.layer!r}", key="--function")


def _source_version(project: Project, src: StackConfig, req: Request, variant: Variant, region: str,
                    layers: dict[str, LayerSpec], latest: Callable[[], int | None]) -> int | None:
    """The version the source stack's functions pin for `variant` in `region` (None: they follow latest;
    `latest()` is that version, read only when some functions pin a number and others follow latest).
    Refused when that is not one version: two numbers, a number and a different latest, or numbers
    written for other regions only (which one was tested is not knowable; taking one would be a guess)."""
    sites = _variant_sites(project, src, req.layer, variant, layers)
    here = {s.pin for s in sites if s.region == region}
    if not here:
        _refuse_other_regions_only(src, req, variant, region, sites)
        return None
    numbers = sorted(p for p in here if p is not None)
    # Some functions pin a number and others follow latest: it is one version only if latest is that one.
    _refuse_several(src, req, variant, region, numbers, *([latest()] if None in here and numbers else []))
    return numbers[0] if numbers else None


def _variant_sites(project: Project, src: StackConfig, layer: str, variant: Variant,
                   layers: dict[str, LayerSpec]) -> list[PinSite]:
    return [s for s in pin_sites(project, src, layers, project.function_specs(list(src.deploy)))
            if s.layer == layer and s.variant == variant]


def _refuse_several(src: StackConfig, req: Request, variant: Variant, region: str, numbers: list[int],
                    *latest: int | None) -> None:
    """Refuse unless `numbers` (and the latest version, when some functions follow it) are one version."""
    if len({*numbers, *latest}) > 1:
        follows = [f"latest = v{v}" if v is not None else "latest" for v in latest]
        raise PromotionRefused(f"{src.path.name} pins {req.layer} ({variant.key}) to several versions in {region} "
                               f"({', '.join([*map(str, numbers), *follows])}); say which with --version")


def _refuse_other_regions_only(src: StackConfig, req: Request, variant: Variant, region: str,
                               sites: list[PinSite]) -> None:
    """No function pins `variant` in `region`, but some pin it elsewhere: `latest` there would be a guess."""
    elsewhere = sorted({f"{s.region}: {s.pin}" for s in sites if s.region != region and s.pin is not None})
    if elsewhere:
        raise PromotionRefused(f"{src.path.name} pins {req.layer} ({variant.key}) in other regions only "
                               f"({', '.join(elsewhere)}), not in {region}; say which version with --version")


def source_content(project: Project, req: Request, target: StackConfig, variant: Variant, layers: dict[str, LayerSpec],
                   regions: Regions, local: LocalBuild) -> Content:
    if req.source is None and req.version is None:
        return Content(lambda_sha256(local(layers[req.layer], variant)), f"this checkout's build ({variant.key})")
    src, region = _source_stack(project, req, target)
    name = layer_name(publisher_prefix(project, src, req.layer), req.layer, variant)

    def latest() -> int | None:
        found = regions(region).latest(name)
        return found.version if found else None

    version = req.version if req.version is not None else _source_version(project, src, req, variant, region,
                                                                          layers, latest)
    reader = regions(region)
    found = reader.get(name, version) if version is not None else reader.latest(name)
    if found is None:
        raise PromotionRefused(_not_found(name, version, region))
    return Content(found.code_sha256, f"{name} v{found.version} ({region})")


def _source_stack(project: Project, req: Request, target: StackConfig) -> tuple[StackConfig, str]:
    """(the stack whose layer versions hold the content, the region to read them in), checked."""
    src = project.stack_config(req.source) if req.source else target
    if layer_source(src, req.layer) not in ("publish", "stack"):
        raise UserError(f"{src.path.name} neither publishes nor consumes {req.layer!r} from a stack", key="--from")
    region = req.region or src.region
    if region not in (src.region, *src.publish_regions):
        raise UserError(f"{src.path.name} has no layers in {region} (it uses {', '.join(src.publish_regions)})",
                        key="--region")
    return src, region


def _not_found(name: str, version: int | None, region: str) -> str:
    if version is not None:
        return f"version {version} of {name} does not exist in {region}"
    return f"no version of {name} exists in {region}; nothing to promote"


@dataclass(frozen=True)
class Promotion:
    changes: list[Change]
    # (physical name, region, version): where the target publishes the layer but no pin names the
    # region (a plain pin is `aws:region`'s): the content is there too, for consumers in that region
    elsewhere: list[tuple[str, str, int]]


def _elsewhere(target: StackConfig, sites: list[PinSite], contents: dict[Variant, Content], regions: Regions,
               missing: list[str]) -> list[tuple[str, str, int]]:
    """A stack publishes in all its regions at once, so a promotion is complete only when every one
    of them holds the content: look in the regions no pin names (appending those that lack it)."""
    out: list[tuple[str, str, int]] = []
    named = {(s.layer_name, s.region) for s in sites}
    published = {(s.layer_name, s.variant) for s in sites if s.source == "publish"}
    for name, variant in sorted(published, key=lambda p: p[0]):
        for region in target.publish_regions:
            if (name, region) in named:
                continue
            found = regions(region).find(name, contents[variant].code_sha256)
            if found is None:
                missing.append(f"{region} ({name})")
            else:
                out.append((name, region, found.version))
    return out


def plan_promotion(project: Project, req: Request, regions: Regions, local: LocalBuild) -> Promotion:
    """Every pin change, or `PromotionRefused` naming each region that lacks the content."""
    target = project.stack_config(req.target)
    layers = project.layer_specs()
    _check_request(req, layers)
    sites = target_sites(project, target, req, layers)
    contents: dict[Variant, Content] = {}
    for site in sites:
        if site.variant not in contents:
            contents[site.variant] = source_content(project, req, target, site.variant, layers, regions, local)
    changes, missing = _changes(sites, contents, regions)
    elsewhere = _elsewhere(target, sites, contents, regions, missing)
    if missing:
        origins = "; ".join(sorted({c.origin for c in contents.values()}))
        raise PromotionRefused(f"no version holds the content of {origins} in {', '.join(sorted(set(missing)))} "
                               f"yet: publish it there first (pulumi up --stack {req.target}), then promote again; "
                               "nothing was written")
    return Promotion(changes, elsewhere)


def _check_request(req: Request, layers: dict[str, LayerSpec]) -> None:
    if req.layer not in layers:
        raise UserError(f"unknown layer {req.layer!r}; the project has {', '.join(layers)}", key="LAYER")
    if req.source == req.target and req.version is None:
        raise UserError("promoting a stack's pins onto itself changes nothing; name another --from, or a --version",
                        key="--from")


def _changes(sites: list[PinSite], contents: dict[Variant, Content], regions: Regions
             ) -> tuple[list[Change], list[str]]:
    """(the change of each pin site whose region holds the content, ["region (layer)" of those that do not])."""
    # A version another function of the stack already pins with that content is preferred over a
    # newer one holding the same bytes: the stack's functions stay on one version where they can.
    held = {(s.region, s.layer_name): s.pin for s in sites
            if regions(s.region).holds(s.layer_name, s.pin, contents[s.variant].code_sha256)}
    changes: list[Change] = []
    missing: list[str] = []
    for site in sites:
        content = contents[site.variant]
        found = regions(site.region).find(site.layer_name, content.code_sha256,
                                          prefer=(site.pin, held.get((site.region, site.layer_name))))
        if found is None:
            missing.append(f"{site.region} ({site.layer_name})")
        else:
            changes.append(Change(site, found.version, content.origin))
    return changes, missing
