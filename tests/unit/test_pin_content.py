"""Reading layer content per version (a paging fake), and rewriting pins in a stack file."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_fakes import FakeLambda
from helpers import REPO

from layersmith.aws.clients import Caller
from layersmith.aws.content import RegionLayers
from layersmith.errors import AwsError
from layersmith.pins.stack_edit import PinEdit, rewrite_pins, unified_diff, write_atomic
from layersmith.project.checkout import load_project

NO_WAIT = Caller(sleep=lambda _: None)


class ContentLambda(FakeLambda):
    """FakeLambda whose versions carry a CodeSha256 (a missing version or layer answers as AWS does)."""

    def seed(self, name: str, *hashes: str) -> None:
        for digest in hashes:
            self.publish(name)
            self.layers[name][-1]["Content"] = {"CodeSha256": digest, "CodeSize": 1}


@pytest.fixture
def lam() -> ContentLambda:
    fake = ContentLambda("111111111111", "eu-west-1")
    fake.seed("utils", "A", "B", "A", "C", "B")  # v1..v5; paged 2 at a time
    return fake


def test_versions_follow_every_page_newest_first(lam: ContentLambda) -> None:
    reader = RegionLayers(lam, "eu-west-1", NO_WAIT)
    assert reader.versions("utils") == [5, 4, 3, 2, 1]
    assert lam.calls.count("ListLayerVersions") == 3
    assert reader.versions("nothing-here") == []


def test_find_prefers_the_given_version_then_the_newest_match_reading_as_few_as_needed(lam: ContentLambda) -> None:
    reader = RegionLayers(lam, "eu-west-1", NO_WAIT)
    found = reader.find("utils", "A")
    assert found is not None and found.version == 3
    assert lam.calls.count("GetLayerVersion") == 3  # v5, v4, v3: stops at the first match
    preferred = reader.find("utils", "A", prefer=(None, 1))
    assert preferred is not None and preferred.version == 1
    assert reader.find("utils", "Z") is None
    assert reader.get("utils", 9) is None
    assert reader.latest("utils") is not None and reader.latest("utils").version == 5  # type: ignore[union-attr]


def test_access_denied_is_an_aws_error_not_a_missing_version(lam: ContentLambda) -> None:
    lam.deny.add("GetLayerVersion")
    with pytest.raises(AwsError, match=r"access denied \(AccessDeniedException\)"):
        RegionLayers(lam, "eu-west-1", NO_WAIT).get("utils", 1)


def changed(old: str, new: str) -> list[tuple[str, str]]:
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def test_the_committed_prod_stack_changes_by_exactly_one_line() -> None:
    text = (REPO / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    new = rewrite_pins(text, [PinEdit("sales-report", "data-science", None, 8)], path=Path("Pulumi.prod.yaml"))
    assert changed(text, new) == [("      data-science: 7\n", "      data-science: 8\n")]
    assert new.startswith("# Production: every attached layer pinned")


def test_a_qualified_flow_map_keeps_its_style_and_other_region() -> None:
    text = ("config:\n  aws:region: eu-west-1\n  layersmith:pins:\n    api:\n"
            "      utils: {eu-west-1: 7, us-east-1: 3}   # two regions\n      tools: \"latest\"\n")
    new = rewrite_pins(text, [PinEdit("api", "utils", "us-east-1", 12)], path=Path("Pulumi.x.yaml"))
    assert changed(text, new) == [("      utils: {eu-west-1: 7, us-east-1: 3}   # two regions\n",
                                   "      utils: {eu-west-1: 7, us-east-1: 12}  # two regions\n")]  # column kept
    diff = unified_diff(text, new, Path("Pulumi.x.yaml"))
    assert diff.startswith("--- a/Pulumi.x.yaml\n+++ b/Pulumi.x.yaml\n")


def test_windows_line_endings_stay() -> None:
    text = (REPO / "Pulumi.prod.yaml").read_text(encoding="utf-8").replace("\n", "\r\n")
    new = rewrite_pins(text, [PinEdit("ingest-orders", "utils", None, 5)], path=Path("Pulumi.prod.yaml"))
    assert changed(text, new) == [("      utils: 4\r\n", "      utils: 5\r\n")]


def test_a_new_pin_is_added_where_there_was_none() -> None:
    text = "# dev\nconfig:\n  aws:region: eu-west-1   # home\n"
    new = rewrite_pins(text, [PinEdit("api", "utils", None, 4)], path=Path("Pulumi.dev.yaml"))
    assert new == "# dev\nconfig:\n  aws:region: eu-west-1   # home\n  layersmith:pins:\n    api:\n      utils: 4\n"


def test_write_atomic_keeps_the_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o600)
    write_atomic(path, "new\n")
    assert path.read_text(encoding="utf-8") == "new\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["Pulumi.prod.yaml"]


def test_pin_sites_name_the_publishers_layer_variant_and_region() -> None:
    from layersmith.pins.sites import pin_sites
    from layersmith.project.checkout import load_stack_config
    from layersmith.project.specs import load_functions, load_layers

    layers = load_layers(REPO)
    consumer = load_stack_config(load_project(REPO), "consumer")
    sites = pin_sites(load_project(REPO), consumer, layers, load_functions(REPO, list(consumer.deploy)))
    assert [(s.function, s.layer, s.layer_name, s.region, s.pin, s.source) for s in sites] == [
        ("partner-digest", "utils", "layersmith-prod-utils", "eu-west-1", 3, "stack"),
        ("partner-digest", "monitoring", "layersmith-prod-monitoring-py311-x86_64", "eu-west-1", None, "stack")]
    prod = load_stack_config(load_project(REPO), "prod")
    prod_sites = pin_sites(load_project(REPO), prod, layers, load_functions(REPO, list(prod.deploy)))
    by_key = {s.key: (s.layer_name, s.pin) for s in prod_sites}
    assert by_key["layersmith:pins.thumbnail-index.monitoring"] == ("layersmith-prod-monitoring-py313-arm64", 5)
    assert by_key["layersmith:pins.sales-report.data-science"] == ("layersmith-prod-data-science-py311-x86_64", 7)
