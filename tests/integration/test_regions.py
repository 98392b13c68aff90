"""Several regions, under the real program and Pulumi's mocks: a hidden two-region copy of prod, and
consumers in a region their source stack does / does not publish to."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import REPO

from layersmith.errors import ConfigError
from layersmith.infra.preview import run_plan
from layersmith.project.checkout import load_project

LV = "aws:lambda/layerVersion:LayerVersion"
GRANTS = "pulumi-python:dynamic/layersmith:LayerGrants"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("regions") / "project"
    shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns(".venv", ".git", ".layersmith", "__pycache__", "tests",
                                                              "bench", "docs", "*.egg-info", ".*_cache"))
    return dest


def stack(project: Path, name: str, base: str, **changes: Any) -> None:
    config = yaml.safe_load((REPO / f"Pulumi.{base}.yaml").read_text(encoding="utf-8"))["config"]
    config.update(changes)
    (project / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}), encoding="utf-8")


# `solo` and `global` are prod as it could be, with prod's namePrefix. Two committed stacks may not own
# one prefix in an account and region (layersmith/project/stack_owners.py), so each of the three is planned in a
# copy of the project where it is the only one (the consumer tests below plan in the shared project).
OWNERS = {"prod", "solo", "global"}


@pytest.fixture(scope="module")
def planned(project: Path, repo_build_cache: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    cache: dict[str, dict[str, Any]] = {}

    def plan(name: str) -> dict[str, Any]:
        if name not in cache:
            alone = tmp_path_factory.mktemp(f"alone-{name}") / "project"
            shutil.copytree(project, alone, ignore=shutil.ignore_patterns(
                *(f"Pulumi.{other}.yaml" for other in OWNERS - {name})))
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("LAYERSMITH_CACHE_DIR", str(repo_build_cache))
                cache[name] = run_plan(load_project(alone), name)
        return cache[name]

    stack(project, "prod", "prod")  # the committed one, unchanged
    stack(project, "solo", "prod", **{"layersmith:namePrefix": "layersmith-prod"})  # no consumer pins it
    stack(project, "global", "prod", **{"layersmith:regions": ["eu-west-1", "us-east-1"],
                                        "layersmith:namePrefix": "layersmith-prod"})
    return plan


def _region(resource: dict[str, Any], home: str) -> str:
    return str(resource["inputs"].get("region") or home)


def test_a_two_region_stack_publishes_and_grants_every_variant_in_both(planned: Callable[[str], dict[str, Any]]
                                                                       ) -> None:
    plan = planned("global")
    versions = [r for r in plan["resources"] if r["type"] == LV]
    single = [r for r in planned("prod")["resources"] if r["type"] == LV]
    assert sorted(_region(r, "eu-west-1") for r in versions) == ["eu-west-1"] * len(single) + ["us-east-1"] * len(
        single)
    for resource in versions:
        if _region(resource, "eu-west-1") == "us-east-1":
            assert resource["name"].split("-")[0] in ("data", "monitoring", "utils")
            assert "-us-east-1-" in resource["name"]
    grants = [r["inputs"] for r in plan["resources"] if r["type"] == GRANTS]
    by_region = {arn.split(":")[3] for arn in (g["layerArn"] for g in grants)}
    assert by_region == {"eu-west-1", "us-east-1"}
    # pins are prod's functions' (eu-west-1) and the consumer's (eu-west-1): none granted in us-east-1
    pinned = {r["inputs"]["layerArn"].split(":")[3] for r in plan["resources"]
              if r["type"] == GRANTS and re.search(r"-v\d+-grants$", r["name"])}
    assert pinned == {"eu-west-1"}


def test_outputs_give_every_variants_arn_and_version_per_region(planned: Callable[[str], dict[str, Any]]) -> None:
    for variants in planned("global")["outputs"]["layers"].values():
        for v in variants:
            assert sorted(v["regions"]) == ["eu-west-1", "us-east-1"]
            east = v["regions"]["us-east-1"]
            assert east["layerArn"].startswith("arn:aws:lambda:us-east-1:") and east["arn"].endswith(
                f":{east['version']}")
            assert v["regions"]["eu-west-1"]["layerArn"] == v["layerArn"]


def test_adding_a_region_moves_nothing_in_the_stacks_own_region(planned: Callable[[str], dict[str, Any]]) -> None:
    """URNs are the parent chain's types and names plus the resource's own: the same names and types
    with the same inputs (no `region` input) mean the same URNs and no replacement on upgrade."""
    def home(plan: dict[str, Any]) -> list[tuple[str, str, str]]:
        return sorted((r["type"], r["name"], repr(r["inputs"])) for r in plan["resources"]
                      if "us-east-1" not in r["name"])

    assert home(planned("global")) == home(planned("solo"))


def test_a_consumer_in_a_region_its_source_does_not_publish_to_fails_in_one_line(
        project: Path, planned: Callable[[str], dict[str, Any]], repo_build_cache: Path) -> None:
    planned("prod")  # writes the stack files
    stack(project, "eastern", "consumer", **{
        "aws:region": "us-east-1", "layersmith:consume": {"stack": "acme/layersmith/prod"},
        "layersmith:deploy": ["partner-digest"],
        "layersmith:pins": {"partner-digest": {"utils": 3, "monitoring": "latest"}}})
    (project / "functions" / "partner-digest" / "function.toml").write_text(
        (REPO / "functions" / "partner-digest" / "function.toml").read_text(encoding="utf-8").replace(
            '"secrets-extension"', "").replace(', ]', "]").replace(",]", "]"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        run_plan(load_project(project), "eastern")
    assert err.value.render() == (
        "Pulumi.eastern.yaml: layersmith:pins.partner-digest.utils: stack acme/layersmith/prod publishes 'utils' in "
        "eu-west-1 only, and this stack deploys to us-east-1; add us-east-1 to layersmith:regions there")


def test_a_consumer_in_the_sources_second_region_attaches_that_regions_arns(
        project: Path, planned: Callable[[str], dict[str, Any]]) -> None:
    planned("global")
    stack(project, "eastern2", "consumer", **{
        "aws:region": "us-east-1", "layersmith:consume": {"stack": "acme/layersmith/global"},
        "layersmith:deploy": ["partner-digest"],
        "layersmith:pins": {"partner-digest": {"utils": {"us-east-1": 2, "eu-west-1": 3}, "monitoring": "latest"}}})
    plan = run_plan(load_project(project), "eastern2")
    [fn] = [r for r in plan["resources"] if r["type"] == "aws:lambda/function:Function"]
    assert all(":us-east-1:" in arn for arn in fn["inputs"]["layers"])
    assert fn["inputs"]["layers"][0].endswith(":layer:layersmith-prod-utils:2")
