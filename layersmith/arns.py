"""Layer ARNs, parsed in one place (config validation, policy rules, inventory)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# arn:<partition>:lambda:<region>:<account>:layer:<name>[:<version>] (Lambda API reference, LayerVersionArn).
_LAYER_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"layer:(?P<name>[A-Za-z0-9_-]+)(?::(?P<version>\d+))?$"
)


@dataclass(frozen=True)
class LayerArn:
    partition: str
    region: str
    account: str
    name: str
    version: int | None

    @property
    def unversioned(self) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:layer:{self.name}"


def parse_layer_arn(value: str) -> LayerArn | None:
    match = _LAYER_ARN.match(value)
    if match is None:
        return None
    version = match["version"]
    return LayerArn(match["partition"], match["region"], match["account"], match["name"],
                    int(version) if version is not None else None)
