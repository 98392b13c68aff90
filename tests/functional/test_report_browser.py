"""`layersmith report` rendered in a real browser (headless Chromium): the DOM after the page's
script ran has a cell for every (function, layer variant) pair, and each variant's treemap
rectangles add up to the variant's unzipped bytes — the bytes of its build in the cache."""

from __future__ import annotations

import itertools
import json
import math
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import chromium, dump_dom, required
from fakes import FakeDist, FakeInstaller
from helpers import REPO
from synthetic_fleet import fleet_inventory

from layersmith.aws.inventory_file import parse_inventory
from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.builder.sizes import cached_sizes
from layersmith.fleet.report_data import Report, Sources, build_report
from layersmith.fleet.report_html import render_html, write_report
from layersmith.model import BuildResult, expand_variants
from layersmith.project.checkout import load_project

# Sparse data files make the fake distributions weigh like the real ones (numpy > pandas > …).
DISTS = {"numpy": FakeDist(data_bytes=5_000_000), "pandas": FakeDist(data_bytes=3_500_000),
         "aws-lambda-powertools": FakeDist(data_bytes=600_000)}


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str | None]] = []
        self.maps: list[dict[str, str | None]] = []
        self.rects: dict[str, list[dict[str, str | None]]] = {}
        self.body: dict[str, str | None] = {}
        self._map: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "body":
            self.body = a
        elif tag == "td" and "cell" in (a.get("class") or "").split():
            self.cells.append(a)
        elif tag == "svg" and a.get("class") == "treemap":
            self.maps.append(a)
            self._map = a["data-column"]
            self.rects[self._map or ""] = []
        elif tag == "rect" and self._map is not None:
            self.rects[self._map].append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._map = None


@pytest.fixture(scope="module")
def browser() -> str:
    found = chromium()
    if found is None:
        if required():
            pytest.fail("no headless Chromium: run `make browser` (apt-get install chromium-headless-shell)")
        pytest.skip("no headless Chromium here (make browser installs Debian's chromium-headless-shell)")
    return found


@pytest.fixture(scope="module")
def fleet_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, dict[str, BuildResult]]:
    """The repo's project with every variant built by the fake installer, and a 4-account fleet."""
    project = load_project(REPO)
    builder = Builder(FakeInstaller(DISTS), BuildCache(tmp_path_factory.mktemp("cache")))
    builds = {f"{name} {v.key}": builder.build(spec, v) for name, spec in project.layer_specs().items()
              for v in expand_variants(spec) if v.key in ("any", "py311-x86_64", "py313-arm64")}
    data = fleet_inventory(4, ["eu-west-1", "us-east-1"])
    inventory = parse_inventory(data, Path("fleet.json"), lambda name: name.startswith("layersmith-prod-"))
    sources = Sources(lambda spec, v: cached_sizes(builder, spec, v), inventory, "fleet.json")
    return build_report(project, None, sources, "2026-12-07 12:00 UTC"), builds


def test_the_browser_draws_every_cell_and_treemaps_that_add_up(
        browser: str, fleet_report: tuple[Report, dict[str, BuildResult]], tmp_path: Path) -> None:
    report, builds = fleet_report
    page = tmp_path / "layersmith-report.html"
    write_report(page, render_html(report))
    dom = _Dom()
    dom.feed(dump_dom(browser, page))
    assert dom.body.get("data-rendered") == "yes", "the page's script did not finish"
    # a cell for every (function row, layer variant) pair, exactly once
    pairs = [(c["data-row"], c["data-col"]) for c in dom.cells]
    expected = {(str(r), c.id) for r, c in itertools.product(range(len(report.rows)), report.columns)}
    assert len(pairs) == len(expected) and set(pairs) == expected
    assert any(r.foreign for r in report.rows) and any(r.origin == "stack" for r in report.rows)
    states = {c["class"] for c in dom.cells}
    assert {"cell s-na", "cell s-current", "cell s-behind", "cell s-far"} <= states
    # each built variant's rectangles add up to its build's unzipped bytes
    assert {m["data-column"] for m in dom.maps} == {t.column for t in report.treemaps if t.built}
    assert len(dom.maps) == len(report.columns)
    for svg in dom.maps:
        column = svg["data-column"] or ""
        rects = dom.rects[column]
        assert int(svg["data-bytes"] or 0) == builds[column].unzipped_bytes
        assert sum(int(r["data-bytes"] or 0) for r in rects) == builds[column].unzipped_bytes
        area = sum(float(r["width"] or 0) * float(r["height"] or 0) for r in rects)
        assert math.isclose(area, 1000 * 320, rel_tol=1e-3)


def test_the_report_is_self_contained(fleet_report: tuple[Report, dict[str, BuildResult]]) -> None:
    """Nothing to fetch: no external script, stylesheet, image or font; the data is embedded once."""
    html = render_html(fleet_report[0])
    for needle in ("http://", "https://", "<link", "src=", "@import", "url("):
        assert needle not in html.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
            "'http://www.w3.org/2000/svg'", ""), needle
    start = html.index('id="report-data">') + len('id="report-data">')
    assert json.loads(html[start:html.index("</script>", start)])["format"] == "layersmith-report/1"
