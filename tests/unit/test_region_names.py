"""`layersmith.regions`: one validator for every region layersmith reads, from botocore's
partition and endpoint data (shipped with botocore: no network, no AWS config)."""

from __future__ import annotations

import pytest

from layersmith.aws.clients import check_regions
from layersmith.errors import UserError
from layersmith.regions import known_regions, lambda_regions, partitions, region_problem


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
