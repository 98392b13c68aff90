"""The pin preflight of the real program (`__main__.py`), its data source answered from moto_server:
what `pulumi preview` / `pulumi up` do before anything changes when AWS holds these versions.

The mocks answer `aws:lambda/getLayerVersion:getLayerVersion` as the provider's data source does
(terraform-provider-aws `layer_version_data_source.go`): without a version, the newest of
ListLayerVersions ("empty result" when there is none); with one, GetLayerVersion ("couldn't find
resource" when it is gone)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from helpers import REPO
from moto_layers import REGION, layer_zip, moto_server, reset

from layersmith.errors import ConfigError
from layersmith.infra.preview import run_program
from layersmith.project.checkout import load_project

GET_LAYER_VERSION = "aws:lambda/getLayerVersion:getLayerVersion"
# What prod's functions pin (Pulumi.prod.yaml) and the variants they attach
SEED = {"layersmith-prod-data-science-py311-x86_64": 7, "layersmith-prod-utils": 4,
        "layersmith-prod-monitoring-py311-x86_64": 5, "layersmith-prod-monitoring-py313-arm64": 5}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def lam(endpoint: str, monkeypatch: pytest.MonkeyPatch, repo_build_cache: Path) -> Any:
    reset(endpoint)
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_ENDPOINT_URL": endpoint, "LAYERSMITH_CACHE_DIR": str(repo_build_cache)}.items():
        monkeypatch.setenv(key, value)
    return boto3.client("lambda", region_name=REGION)


def seed(lam: Any, versions: dict[str, int]) -> None:
    for name, count in versions.items():
        for n in range(count):
            lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip(f"{name}{n}")})


def answer_from(lam: Any) -> Any:
    def answer(token: str, args: dict[str, Any]) -> dict[str, Any] | None:
        if token != GET_LAYER_VERSION:
            return None
        name, version = args["layerName"], args.get("version")
        if version is None:
            listed = lam.list_layer_versions(LayerName=name)["LayerVersions"]
            if not listed:
                raise LookupError(f"listing Lambda Layer Versions ({name}): empty result")
            version = max(v["Version"] for v in listed)  # AWS lists newest first
        try:
            got = lam.get_layer_version(LayerName=name, VersionNumber=int(version))
        except ClientError:
            raise LookupError(f"reading Lambda Layer ({name}) Version ({int(version)}): "
                              "couldn't find resource") from None
        return {"version": got["Version"], "codeSha256": got["Content"]["CodeSha256"], "layerName": name,
                "layerArn": got["LayerArn"], "arn": got["LayerVersionArn"]}

    return answer


def grant_versions(rec: Any, layer_resource: str) -> list[int]:
    return sorted(int(r["inputs"]["version"]) for r in rec.resources
                  if r["name"].startswith(f"{layer_resource}-v") and r["name"].endswith("-grants"))


def test_pins_that_exist_pass_and_are_granted(lam: Any) -> None:
    seed(lam, SEED)
    _cfg, rec, _out = run_program(load_project(REPO), "prod", offline=False, answer=answer_from(lam))
    assert grant_versions(rec, "data-science-py311-x86_64") == [7]
    assert grant_versions(rec, "utils-any") == [3, 4]  # 3: the consumer stack's pin


def test_a_pin_to_a_version_that_does_not_exist_fails_in_one_line(lam: Any) -> None:
    seed(lam, {**SEED, "layersmith-prod-data-science-py311-x86_64": 5})
    with pytest.raises(ConfigError) as err:
        run_program(load_project(REPO), "prod", offline=False, answer=answer_from(lam))
    assert err.value.render() == (
        "Pulumi.prod.yaml: layersmith:pins.sales-report.data-science: version 7 of "
        "layersmith-prod-data-science-py311-x86_64 does not exist; the latest is 5: pin an existing version "
        "(see `layersmith inventory`)")


def test_a_deleted_pinned_version_fails(lam: Any) -> None:
    seed(lam, SEED)
    lam.delete_layer_version(LayerName="layersmith-prod-utils", VersionNumber=4)
    lam.publish_layer_version(LayerName="layersmith-prod-utils", Content={"ZipFile": layer_zip("x")})  # v5
    with pytest.raises(ConfigError, match=r"version 4 of layersmith-prod-utils does not exist \(deleted\?\)"):
        run_program(load_project(REPO), "prod", offline=False, answer=answer_from(lam))


def test_a_consumers_pin_above_what_exists_is_warned_about_and_not_granted(
        lam: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO, project, ignore=shutil.ignore_patterns(".venv", ".git", ".layersmith", "__pycache__",
                                                                  "tests", "bench"))
    consumer = project / "Pulumi.consumer.yaml"
    consumer.write_text(consumer.read_text(encoding="utf-8").replace("utils: 3", "utils: 9"), encoding="utf-8")
    seed(lam, SEED)
    with caplog.at_level(logging.WARNING):
        _cfg, rec, _out = run_program(load_project(project), "prod", offline=False, answer=answer_from(lam))
    assert grant_versions(rec, "utils-any") == [4]  # prod's own pin only: 9 is not granted
    warned = [r.getMessage() for r in caplog.records if "pins utils v9" in r.getMessage()]
    assert warned == ["layersmith: Pulumi.consumer.yaml pins utils v9: version 9 of layersmith-prod-utils does "
                      "not exist; the latest is 4; not granted (fix that stack's pin) [eu-west-1]"]


def test_offline_plan_skips_the_preflight_and_says_so(lam: Any, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    def answer(token: str, _args: dict[str, Any]) -> dict[str, Any] | None:
        calls.append(token)
        return None

    with caplog.at_level(logging.INFO):
        run_program(load_project(REPO), "prod", offline=True, answer=answer)
    assert GET_LAYER_VERSION not in calls
    assert any("pins not checked against AWS" in r.getMessage() for r in caplog.records)
