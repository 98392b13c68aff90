"""AWS region names, checked against botocore's partition and endpoint data: the one validator of
every region layersmith reads (`aws:region`, `layersmith:regions`, region-qualified pin keys,
consumed ARNs, `inventory`/`prune --regions`).

The data is botocore's `data/endpoints.json`, which ships inside the pinned botocore: reading it
needs no network and no AWS config (unlike `Session.get_available_regions`, which resolves the
profile first). `EndpointResolver.get_available_endpoints(service, partition)` is what the session
method calls underneath (botocore/regions.py and botocore/session.py, read in the installed
1.43). A region appears there for `lambda` when Lambda is offered in it; a region newer than the
installed botocore is not known yet, and the error says so (upgrade boto3/botocore).

botocore is imported lazily, on the first check: `import layersmith` stays free of it (tested).
"""

from __future__ import annotations

import difflib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.regions import EndpointResolver

SERVICE = "lambda"


@cache
def _resolver() -> EndpointResolver:
    import botocore.loaders
    import botocore.regions

    return botocore.regions.EndpointResolver(botocore.loaders.create_loader().load_data("endpoints"))


def partitions() -> tuple[str, ...]:
    """Every partition botocore knows (aws, aws-cn, aws-us-gov, …)."""
    return tuple(_resolver().get_available_partitions())


@cache
def lambda_regions(partition: str = "aws") -> tuple[str, ...]:
    """The regions of `partition` where Lambda is offered, sorted."""
    return tuple(sorted(_resolver().get_available_endpoints(SERVICE, partition)))


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
