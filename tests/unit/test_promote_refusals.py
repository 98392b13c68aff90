"""`promote`'s refusals, on an in-memory Lambda: promoting a stack onto itself, and `--from` a stack
whose functions pin several versions of one variant (which one was tested is not knowable)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_fakes import client_error
from helpers import TWO_FUNCTION_PROJECT

from layersmith.aws.clients import Caller
from layersmith.aws.content import RegionLayers, Regions
from layersmith.errors import PromotionRefused, UserError
from layersmith.pins.promote import Request, plan_promotion
from layersmith.project.checkout import load_project

FILES = TWO_FUNCTION_PROJECT
STACK = """\
config:
  aws:region: eu-west-1
  layersmith:regions: [eu-west-1, us-east-1]
  layersmith:pins:
    api:
      utils: {api}
    worker:
      utils: {worker}
"""
# (layer name, region) -> the content of versions 1, 2, …
CONTENT = {("layersmith-staging-utils", "eu-west-1"): ["A", "B", "C"],
           ("layersmith-staging-utils", "us-east-1"): ["B", "A"],
           ("layersmith-prod-utils", "eu-west-1"): ["A", "B", "C"],
           ("layersmith-prod-utils", "us-east-1"): ["A", "B", "C"]}


class ContentLambda:
    """The two calls `RegionLayers` makes, answered like Lambda (ResourceNotFoundException when absent)."""

    def __init__(self, region: str) -> None:
        self.region = region

    def _versions(self, name: str) -> list[str]:
        return CONTENT.get((name, self.region), [])

    def list_layer_versions(self, **kw: Any) -> dict[str, Any]:
        numbers = range(len(self._versions(kw["LayerName"])), 0, -1)
        return {"LayerVersions": [{"Version": n} for n in numbers]}

    def get_layer_version(self, **kw: Any) -> dict[str, Any]:
        versions = self._versions(kw["LayerName"])
        if not 1 <= kw["VersionNumber"] <= len(versions):
            raise client_error("ResourceNotFoundException", "GetLayerVersion")
        return {"Version": kw["VersionNumber"], "Content": {"CodeSha256": versions[kw["VersionNumber"] - 1]}}


def regions() -> Regions:
    readers = {r: RegionLayers(ContentLambda(r), r, Caller(sleep=lambda _: None))  # type: ignore[arg-type]
               for r in ("eu-west-1", "us-east-1")}
    return readers.__getitem__


def no_aws(region: str) -> RegionLayers:
    raise AssertionError(f"read {region} before refusing")


def project(tmp_path: Path, staging: dict[str, Any], prod: dict[str, Any] | None = None) -> Path:
    for rel, text in {**FILES, "Pulumi.staging.yaml": STACK.format(**staging),
                      "Pulumi.prod.yaml": STACK.format(**(prod or {"api": 1, "worker": 1}))}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return tmp_path


def local(*_: object) -> str:
    raise AssertionError("no local build: the content comes from a stack")


def test_promoting_a_stack_onto_itself_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, {"api": 2, "worker": 2})
    with pytest.raises(UserError, match="onto itself changes nothing") as info:
        plan_promotion(load_project(root), Request("utils", "staging", source="staging"), no_aws, local)
    assert info.value.render().startswith("--from: ")


def test_a_stack_may_roll_itself_back_to_a_named_version(tmp_path: Path) -> None:
    root = project(tmp_path, {"api": 2, "worker": 2})
    promotion = plan_promotion(load_project(root), Request("utils", "staging", source="staging", version=1),
                               regions(), local)
    assert {(c.site.function, c.site.region, c.version) for c in promotion.changes} == {
        ("api", "eu-west-1", 1), ("worker", "eu-west-1", 1)}
    assert promotion.elsewhere == [("layersmith-staging-utils", "us-east-1", 2)]


@pytest.mark.parametrize(("staging", "versions"), [({"api": 2, "worker": 3}, "2, 3"),
                                                   ({"api": 2, "worker": "latest"}, "2, latest = v3"),
                                                   ({"api": "{eu-west-1: 3, us-east-1: 1}", "worker": 2}, "2, 3")])
def test_from_a_stack_pinning_several_versions_of_the_variant_is_refused(tmp_path: Path, staging: dict[str, Any],
                                                                          versions: str) -> None:
    root = project(tmp_path, staging)
    with pytest.raises(PromotionRefused) as info:
        plan_promotion(load_project(root), Request("utils", "prod", source="staging"), regions(), local)
    message = info.value.render()
    assert "\n" not in message
    assert f"Pulumi.staging.yaml pins utils (any) to several versions in eu-west-1 ({versions})" in message


def test_from_a_stack_pinning_another_region_only_is_refused(tmp_path: Path) -> None:
    # Staging's plain pins name eu-west-1's v2; reading us-east-1's latest instead would be a guess.
    root = project(tmp_path, {"api": 2, "worker": 2})
    with pytest.raises(PromotionRefused, match=r"Pulumi.staging.yaml pins utils \(any\) in other regions only "
                                               r"\(eu-west-1: 2\), not in us-east-1"):
        plan_promotion(load_project(root), Request("utils", "prod", source="staging", region="us-east-1"),
                       no_aws, local)


def test_functions_following_latest_agree_with_a_pin_naming_the_latest_version(tmp_path: Path) -> None:
    # Staging's latest in eu-west-1 is v3: `api: 3` and `worker: latest` run one version, "C".
    root = project(tmp_path, {"api": 3, "worker": "latest"})
    promotion = plan_promotion(load_project(root), Request("utils", "prod", source="staging"), regions(), local)
    assert [c.origin for c in promotion.changes] == ["layersmith-staging-utils v3 (eu-west-1)"] * 2


def test_from_a_stack_pinning_one_version_promotes_its_content(tmp_path: Path) -> None:
    # Staging's v2 (eu-west-1) holds "B": prod's v2 in both regions holds it too.
    root = project(tmp_path, {"api": 2, "worker": "{eu-west-1: 2, us-east-1: 1}"})
    promotion = plan_promotion(load_project(root), Request("utils", "prod", source="staging"), regions(), local)
    assert {(c.site.function, c.site.region, c.version) for c in promotion.changes} == {
        ("api", "eu-west-1", 2), ("worker", "eu-west-1", 2)}
    assert promotion.elsewhere == [("layersmith-prod-utils", "us-east-1", 2)]


@pytest.mark.parametrize(("prod", "request_", "says"), [
    ({"api": 1, "worker": 1}, Request("utils", "prod", version=1, functions=("nope",)),
     "--function: Pulumi.prod.yaml does not deploy 'nope' (layersmith:deploy: api, worker)"),
    ({"api": "latest", "worker": "latest"}, Request("utils", "prod", version=1),
     "--function: no function in Pulumi.prod.yaml pins utils (they follow latest); name one with --function to "
     "pin it"),
    ({"api": 1, "worker": 1}, Request("utils", "prod", source="staging", region="ap-south-1"),
     "--region: Pulumi.staging.yaml has no layers in ap-south-1 (it uses eu-west-1, us-east-1)"),
])
def test_refusals_before_any_aws_call_name_the_option_and_what_to_use(tmp_path: Path, prod: dict[str, Any],
                                                                      request_: Request, says: str) -> None:
    """Each a whole line: the option at fault, the file, and what it has instead (mutation testing found
    these messages unchecked: any text, or none, passed)."""
    root = project(tmp_path, {"api": 2, "worker": 2}, prod)
    with pytest.raises(UserError) as info:
        plan_promotion(load_project(root), request_, no_aws, local)
    assert info.value.render() == says
