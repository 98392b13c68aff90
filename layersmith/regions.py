"""AWS region names, checked against botocore's partition and endpoint data: the one validator of
every region layersmith reads (`aws:region`, `layersmith:regions`, region-qualified pin keys,
consumed ARNs, `inventory`/`prune --regions`).

The data is botocore's `data/endpoints.json`, which ships inside the pinned botocore: reading it
needs no network and no AWS config (unlike `Session.get_available_regions`, which resolves the
profile first). `EndpointResolver.get_available_endpoints(service, partition)` is what the session
method calls underneath (botocore/regions.py and botocore/session.py, read in the installed
1.43); `lambda_regions` answers the same on the same data. A region appears there for `lambda` when
Lambda is offered in it; a region newer than the installed botocore is not known yet, and the error
says so (upgrade boto3/botocore).

botocore is not imported at all unless its loader must be asked (see `_endpoints`): `import layersmith`
stays free of it (tested).
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import TypedDict

SERVICE = "lambda"


class _Partition(TypedDict):
    """The part of one endpoints.json partition read here."""

    partition: str
    regions: dict[str, object]
    services: dict[str, dict[str, dict[str, object]]]


@cache
def _by_partition() -> dict[str, tuple[str, ...]]:
    """Every partition botocore knows, with the regions of it where Lambda is offered, sorted: what
    botocore's `EndpointResolver.get_available_endpoints("lambda", partition)` answers (the service's
    endpoint names that are regions of the partition; botocore/regions.py, read in the installed
    1.43), on the same data. tests/unit/test_region_names.py holds them equal."""
    found: dict[str, tuple[str, ...]] = {}
    for data in _endpoints()["partitions"]:
        endpoints = data["services"].get(SERVICE, {}).get("endpoints", {})
        found[data["partition"]] = tuple(sorted(name for name in endpoints if name in data["regions"]))
    return found


def _endpoints() -> dict[str, list[_Partition]]:
    """botocore's endpoints.json, read straight from the installed botocore's data directory:
    importing `botocore.loaders` took ~0.16 s of every command that reads a stack file, the file itself
    13 ms (measured here). Where botocore's loader would read another first (~/.aws/models, its
    CUSTOMER_DATA_PATH; `create_loader()` reads no AWS_DATA_PATH), the loader is asked, as before."""
    from importlib.util import find_spec

    spec = find_spec("botocore")  # locates the package without importing it
    customer = Path.home() / ".aws" / "models" / "endpoints.json"
    if spec and spec.submodule_search_locations and not customer.exists():
        bundled = Path(spec.submodule_search_locations[0]) / "data" / "endpoints.json"
        if bundled.is_file():
            data: dict[str, list[_Partition]] = json.loads(bundled.read_text(encoding="utf-8"))
            return data
    import botocore.loaders

    loaded: dict[str, list[_Partition]] = botocore.loaders.create_loader().load_data("endpoints")
    return loaded


def partitions() -> tuple[str, ...]:
    """Every partition botocore knows (aws, aws-cn, aws-us-gov, …)."""
    return tuple(_by_partition())


def lambda_regions(partition: str = "aws") -> tuple[str, ...]:
    """The regions of `partition` where Lambda is offered, sorted."""
    return _by_partition().get(partition, ())


def partition_of(region: str | None) -> str:
    """The partition a Lambda region belongs to (`aws` when unknown or not given)."""
    return next((p for p in partitions() if region in lambda_regions(p)), "aws")


@cache
def known_regions() -> frozenset[str]:
    """Every region Lambda is offered in, across partitions."""
    return frozenset(region for partition in partitions() for region in lambda_regions(partition))


def region_problem(region: str, known: frozenset[str] | set[str] | None = None) -> str | None:
    """None when `region` is a Lambda region; else what is wrong, with the closest known name."""
    known = known_regions() if known is None else known
    if region in known:
        return None
    close = _closest(region, known)
    hint = (f"did you mean {close}?" if close
            else "see `aws ec2 describe-regions` (or upgrade boto3 if the region is new)")
    return f"unknown region {region!r} (Lambda is not offered there); {hint}"


def _closest(region: str, known: frozenset[str] | set[str]) -> str:
    """Every known name as close as the closest (`us-eest-1` is one letter from both us-east-1 and
    us-west-1: naming only one would guess), at most three: "a, b or c"."""
    matches = difflib.get_close_matches(region, sorted(known), n=8)
    best = [m for m in matches if _ratio(region, m) == _ratio(region, matches[0])][:3] if matches else []
    best.sort()
    return " or ".join([", ".join(best[:-1]), best[-1]]) if len(best) > 1 else "".join(best)


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()
