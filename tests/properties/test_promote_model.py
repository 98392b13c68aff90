"""`promote` on generated stacks and layer contents: it never writes a pin whose content
(`Content.CodeSha256`) differs from the source's, and it refuses when the source is ambiguous.

The real `promote.plan_promotion` and `stack_edit.rewrite_pins` run on a project on disk whose stack
files are generated (plain, `latest` and `{region: version}` pins, one or two regions) and on an
in-memory Lambda whose versions hold generated contents. The reference says, from the manual's (docs/commands.md)
rules alone, which content the source names: `--from S --version N` is S's version N in the region
read; `--version N` alone is the target's own; `--from S` alone is what S's functions run in its region
(a function following `latest` runs the newest version), and nothing (a refusal) when they run
several versions.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from aws_fakes import client_error
from helpers import TWO_FUNCTION_PROJECT
from hypothesis import event, given
from hypothesis import strategies as st

from layersmith.aws.clients import Caller
from layersmith.aws.content import RegionLayers
from layersmith.errors import PromotionRefused, UserError
from layersmith.pins.promote import Request, plan_promotion
from layersmith.pins.stack_edit import rewrite_pins
from layersmith.project.checkout import load_project

HOME, OTHER = "eu-west-1", "us-east-1"
FILES = TWO_FUNCTION_PROJECT
ROOT = Path(tempfile.mkdtemp(prefix="promote-model-"))
for rel, text in FILES.items():
    (ROOT / rel).parent.mkdir(parents=True, exist_ok=True)
    (ROOT / rel).write_text(text, encoding="utf-8")

NUMBER = st.integers(1, 4)
PIN = st.none() | NUMBER | st.just("latest") | st.builds(lambda h, o: {HOME: h, OTHER: o}, NUMBER, NUMBER)
CONTENTS = st.lists(st.sampled_from("ABC"), max_size=4)  # version n holds contents[n - 1]
NAME = {"staging": "layersmith-staging-utils", "prod": "layersmith-prod-utils"}


class ContentLambda:
    """`ListLayerVersions` and `GetLayerVersion` over generated contents, answered like Lambda."""

    def __init__(self, contents: dict[tuple[str, str], list[str]], region: str) -> None:
        self.contents, self.region = contents, region

    def _versions(self, name: str) -> list[str]:
        return self.contents.get((name, self.region), [])

    def list_layer_versions(self, **kw: Any) -> dict[str, Any]:
        return {"LayerVersions": [{"Version": n} for n in range(len(self._versions(kw["LayerName"])), 0, -1)]}

    def get_layer_version(self, **kw: Any) -> dict[str, Any]:
        versions = self._versions(kw["LayerName"])
        if not 1 <= kw["VersionNumber"] <= len(versions):
            raise client_error("ResourceNotFoundException", "GetLayerVersion")
        return {"Version": kw["VersionNumber"], "Content": {"CodeSha256": versions[kw["VersionNumber"] - 1]}}


def stack_text(region_list: list[str], pins: dict[str, Any]) -> str:
    written = {fn: {"utils": pin} for fn, pin in pins.items() if pin is not None}
    config: dict[str, Any] = {"aws:region": HOME, "layersmith:regions": region_list}
    if written:
        config["layersmith:pins"] = written
    return yaml.safe_dump({"config": config}, default_flow_style=None, sort_keys=False)


def source_content(req: Request, pins: dict[str, dict[str, Any]],
                   contents: dict[tuple[str, str], list[str]]) -> str | None:
    """The reference: the content the request names, None when it names none (promote must refuse)."""
    stack = req.source or req.target
    region = req.region or HOME
    versions = contents.get((NAME[stack], region), [])
    if req.version is None:
        newest = len(versions) or "latest"  # what a function following latest runs there
        named = {(newest if p in (None, "latest") else p[region] if isinstance(p, dict) else p)
                 for p in pins[stack].values()}
        if len(named) != 1 or named == {"latest"}:
            return None
        (version,) = named
    else:
        version = req.version
    return versions[version - 1] if 1 <= version <= len(versions) else None


@st.composite
def requests(draw: st.DrawFn) -> Request:
    source = draw(st.sampled_from(["staging", None]))
    version = draw(st.none() | NUMBER) if source else draw(NUMBER)
    region = draw(st.sampled_from([None, HOME, OTHER])) if version is not None else None
    functions = tuple(draw(st.lists(st.sampled_from(["api", "worker"]), unique=True, max_size=2)))
    return Request("utils", "prod", source, version, region, functions)


@given(st.fixed_dictionaries({s: st.fixed_dictionaries({"api": PIN, "worker": PIN}) for s in ("staging", "prod")}),
       st.fixed_dictionaries({(name, r): CONTENTS for name in NAME.values() for r in (HOME, OTHER)}),
       st.sampled_from([[HOME], [HOME, OTHER]]), requests())
def test_promote_writes_only_pins_holding_the_source_content(
        pins: dict[str, dict[str, Any]], contents: dict[tuple[str, str], list[str]], prod_regions: list[str],
        req: Request) -> None:
    (ROOT / "Pulumi.staging.yaml").write_text(stack_text([HOME, OTHER], pins["staging"]), encoding="utf-8")
    prod_file = ROOT / "Pulumi.prod.yaml"
    prod_file.write_text(stack_text(prod_regions, pins["prod"]), encoding="utf-8")
    readers = {r: RegionLayers(ContentLambda(contents, r), r, Caller(sleep=lambda _: None))  # type: ignore[arg-type]
               for r in (HOME, OTHER)}
    expected = source_content(req, pins, contents)
    try:
        promotion = plan_promotion(load_project(ROOT), req, readers.__getitem__, lambda *_: "local")
    except (PromotionRefused, UserError) as exc:
        event(f"refused: {type(exc).__name__}")
        return  # nothing written: a refusal, or a request that does not fit these stacks (both one line)
    event("promoted")
    assert expected is not None, f"promoted although the source names no single content: {promotion}"
    for change in promotion.changes:
        held = contents[(change.site.layer_name, change.site.region)][change.version - 1]
        assert held == expected, (change, expected)
    for name, region, version in promotion.elsewhere:
        assert contents[(name, region)][version - 1] == expected
    written = yaml.safe_load(rewrite_pins(prod_file.read_text(encoding="utf-8"), [c.edit for c in promotion.changes],
                                          path=prod_file))["config"]["layersmith:pins"]
    for change in promotion.changes:
        value = written[change.site.function]["utils"]
        version = value[change.site.region] if isinstance(value, dict) else value
        assert contents[(change.site.layer_name, change.site.region)][version - 1] == expected
