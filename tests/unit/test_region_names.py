"""`layersmith.regions`: one validator for every region layersmith reads, from botocore's
partition and endpoint data (shipped with botocore: no network, no AWS config)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import botocore.loaders
import botocore.regions
import pytest

from layersmith import regions
from layersmith.aws.clients import check_regions
from layersmith.errors import UserError
from layersmith.regions import known_regions, lambda_regions, partitions, region_problem


@pytest.fixture
def fresh_data() -> Iterator[None]:
    """The module's caches emptied before and after: the test reads the data under its own environment."""
    for cached in (regions._by_partition, regions.known_regions):
        cached.cache_clear()
    yield
    for cached in (regions._by_partition, regions.known_regions):
        cached.cache_clear()


def test_the_regions_are_what_botocore_s_resolver_answers(fresh_data: None, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    # Read without importing botocore: the same answer as botocore's own EndpointResolver, every partition.
    monkeypatch.setenv("HOME", str(tmp_path))
    resolver = botocore.regions.EndpointResolver(botocore.loaders.create_loader().load_data("endpoints"))
    assert list(partitions()) == resolver.get_available_partitions()
    for partition in partitions():
        assert list(lambda_regions(partition)) == sorted(resolver.get_available_endpoints("lambda", partition))


def test_endpoint_data_botocore_would_read_first_is_read(fresh_data: None, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    # ~/.aws/models/endpoints.json is what botocore's loader prefers to its own (Loader.CUSTOMER_DATA_PATH).
    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    aws = next(p for p in data["partitions"] if p["partition"] == "aws")
    aws["regions"]["mars-north-1"] = {"description": "a region newer than the installed botocore"}
    aws["services"]["lambda"]["endpoints"]["mars-north-1"] = {}
    models = tmp_path / ".aws" / "models"
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(botocore.loaders.Loader, "CUSTOMER_DATA_PATH", str(models))  # as botocore computes it
    assert region_problem("mars-north-1") is not None
    models.mkdir(parents=True)
    (models / "endpoints.json").write_text(json.dumps(data))
    regions._by_partition.cache_clear()
    regions.known_regions.cache_clear()
    assert region_problem("mars-north-1") is None


def test_each_partition_lists_its_own_lambda_regions() -> None:
    assert {"aws", "aws-cn", "aws-us-gov"} <= set(partitions())
    assert "eu-west-1" in lambda_regions("aws") and "eu-west-1" not in lambda_regions("aws-cn")
    assert set(lambda_regions("aws-us-gov")) >= {"us-gov-west-1", "us-gov-east-1"}
    assert list(lambda_regions()) == sorted(lambda_regions("aws"))
    assert {"cn-north-1", "us-gov-west-1", "us-east-1"} <= known_regions()


@pytest.mark.parametrize(("region", "hint"), [("us-eest-1", "us-east-1 or us-west-1"), ("eu-wset-1", "eu-west-1"),
                                               ("eu-west-9", "eu-west-1, eu-west-2 or eu-west-3")])
def test_a_typo_is_unknown_with_the_closest_name(region: str, hint: str) -> None:
    assert region_problem(region) == f"unknown region {region!r} (Lambda is not offered there); did you mean {hint}?"
    assert region_problem(hint.split(" or ")[-1]) is None


def test_inventory_regions_use_the_same_validator() -> None:
    with pytest.raises(UserError) as err:
        check_regions(["eu-west-1", "us-eest-1"])
    assert err.value.render() == f"--regions: {region_problem('us-eest-1')}"
