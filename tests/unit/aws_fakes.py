"""An in-memory Lambda + client factory that answers like boto3 (same shapes, same ClientErrors).

Used where moto cannot go: throttling, a role that cannot be assumed, no credentials. Pages are
small (2 items) so the Marker/NextMarker loop is exercised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, NoCredentialsError

from layersmith.errors import AwsError

PAGE = 2


def client_error(code: str, operation: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message or code}}, operation)


def _page(items: list[dict[str, Any]], key: str, marker: str | None) -> dict[str, Any]:
    start = int(marker or 0)
    page: dict[str, Any] = {key: items[start:start + PAGE]}
    if start + PAGE < len(items):
        page["NextMarker"] = str(start + PAGE)
    return page


@dataclass
class FakeLambda:
    account: str
    region: str
    layers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # name -> versions
    functions: list[dict[str, Any]] = field(default_factory=list)  # FunctionVersion=ALL entries
    aliases: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    policies: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    throttle: int = 0  # the next N calls raise ThrottlingException
    deny: set[str] = field(default_factory=set)  # operations that raise AccessDeniedException
    calls: list[str] = field(default_factory=list)
    deleted: list[tuple[str, int]] = field(default_factory=list)

    def _enter(self, operation: str) -> None:
        self.calls.append(operation)
        if self.throttle:
            self.throttle -= 1
            raise client_error("TooManyRequestsException", operation, "Rate exceeded")
        if operation in self.deny:
            raise client_error("AccessDeniedException", operation, "not authorized")

    def arn(self, name: str, version: int | None = None) -> str:
        base = f"arn:aws:lambda:{self.region}:{self.account}:layer:{name}"
        return base if version is None else f"{base}:{version}"

    def publish(self, name: str, size: int = 1000, runtimes: tuple[str, ...] = ("python3.12",)) -> str:
        versions = self.layers.setdefault(name, [])
        number = len(versions) + 1
        versions.append({"Version": number, "LayerVersionArn": self.arn(name, number),
                         "CreatedDate": f"2026-11-{number:02d}T10:00:00.000+0000",
                         "CompatibleRuntimes": list(runtimes), "CompatibleArchitectures": ["x86_64"],
                         "Content": {"CodeSize": size, "CodeSha256": f"sha-{name}-{number}"}})
        return self.arn(name, number)

    def share(self, name: str, version: int, principal: str) -> None:
        self.policies[(name, version)] = {"Policy": json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "lambda:GetLayerVersion"}]})}

    def attach(self, function: str, version: str, *arns: str) -> None:
        self.functions.append({"FunctionName": function, "Version": version,
                               "Layers": [{"Arn": a, "CodeSize": 1} for a in arns]})

    # --- the LambdaApi surface ---

    def list_layers(self, **kw: Any) -> dict[str, Any]:
        self._enter("ListLayers")
        return _page([{"LayerName": n} for n, v in self.layers.items() if v], "Layers", kw.get("Marker"))

    def list_layer_versions(self, **kw: Any) -> dict[str, Any]:
        self._enter("ListLayerVersions")
        items = [{k: v for k, v in lv.items() if k != "Content"} for lv in reversed(self.layers[kw["LayerName"]])]
        return _page(items, "LayerVersions", kw.get("Marker"))

    def get_layer_version(self, **kw: Any) -> dict[str, Any]:
        self._enter("GetLayerVersion")
        return next(lv for lv in self.layers[kw["LayerName"]] if lv["Version"] == kw["VersionNumber"])

    def get_layer_version_policy(self, **kw: Any) -> dict[str, Any]:
        self._enter("GetLayerVersionPolicy")
        key = (kw["LayerName"], kw["VersionNumber"])
        if key not in self.policies:
            raise client_error("ResourceNotFoundException", "GetLayerVersionPolicy")
        return self.policies[key]

    def list_functions(self, **kw: Any) -> dict[str, Any]:
        self._enter("ListFunctions")
        assert kw.get("FunctionVersion") == "ALL"
        return _page(self.functions, "Functions", kw.get("Marker"))

    def list_aliases(self, **kw: Any) -> dict[str, Any]:
        self._enter("ListAliases")
        return _page(self.aliases.get(kw["FunctionName"], []), "Aliases", kw.get("Marker"))

    def delete_layer_version(self, **kw: Any) -> dict[str, Any]:
        self._enter("DeleteLayerVersion")
        self.deleted.append((kw["LayerName"], kw["VersionNumber"]))
        self.layers[kw["LayerName"]] = [v for v in self.layers[kw["LayerName"]]
                                        if v["Version"] != kw["VersionNumber"]]
        return {}


@dataclass
class FakeFactory:
    home: str
    lambdas: dict[tuple[str, str], FakeLambda] = field(default_factory=dict)
    unassumable: set[str] = field(default_factory=set)
    no_credentials: bool = False
    organization: list[str] = field(default_factory=list)

    def add(self, account: str, region: str) -> FakeLambda:
        return self.lambdas.setdefault((account, region), FakeLambda(account, region))

    def home_account(self) -> str:
        if self.no_credentials:
            from layersmith.aws.clients import describe

            raise AwsError(describe(NoCredentialsError(), "sts:GetCallerIdentity"))
        return self.home

    def lambda_client(self, account: str, region: str) -> FakeLambda:
        if account in self.unassumable:
            raise AwsError(f"cannot assume arn:aws:iam::{account}:role/layersmith-inventory: access denied")
        return self.add(account, region)

    def organization_accounts(self) -> list[str]:
        return list(self.organization)

    def all_deleted(self) -> list[tuple[str, int]]:
        return [d for fake in self.lambdas.values() for d in fake.deleted]
