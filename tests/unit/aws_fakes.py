"""An in-memory Lambda + client factory that answers like boto3 (same shapes, same ClientErrors).

Used where moto cannot go: throttling, a role that cannot be assumed, no credentials. Pages are
small (2 items) so the Marker/NextMarker loop is exercised.

Its layer operations answer as the Lambda API reference documents them, and as the fidelity-patched
moto does: `tests/integration/test_lambda_contract.py` runs one set of contract tests against both,
so the two cannot drift apart. In short:
* `LayerName` is a name or the layer's ARN.
* GetLayerVersion of a missing version or layer: ResourceNotFoundException. ListLayerVersions of a
  layer with no version: an empty list. DeleteLayerVersion of a missing version: success.
* GetLayerVersionPolicy: ResourceNotFoundException for a missing version and for a version without
  a policy (or whose last statement was removed).
* AddLayerVersionPermission writes a statement with its `Sid`, the principal as
  `{"AWS": "arn:aws:iam::<id>:root"}` (or `*`), an OrganizationId as
  `Condition.StringEquals["aws:PrincipalOrgID"]`, and the layer *version* ARN as Resource; an id
  already in the policy is ResourceConflictException. RemoveLayerVersionPermission of an id not in
  the policy: ResourceNotFoundException. Every mutation changes the policy's RevisionId.
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


NOT_FOUND = "ResourceNotFoundException"


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
    # (layer name, version) -> GetLayerVersionPolicy's answer: {"Policy": <JSON>, "RevisionId": …}
    policies: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    throttle: int = 0  # the next N calls raise ThrottlingException
    deny: set[str] = field(default_factory=set)  # operations that raise AccessDeniedException
    calls: list[str] = field(default_factory=list)
    deleted: list[tuple[str, int]] = field(default_factory=list)
    _revision: int = 0

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

    def share(self, name: str, version: int, principal: str, sid: str | None = None) -> None:
        """Grant `principal` (an account or `*`) as AddLayerVersionPermission would, outside
        layersmith by default: the statement id has no `layersmith-` prefix unless `sid` gives one."""
        self.add_layer_version_permission(LayerName=name, VersionNumber=version, Action="lambda:GetLayerVersion",
                                          StatementId=sid or f"manual-{principal.replace('*', 'everyone')}",
                                          Principal=principal)
        self.calls.pop()  # a seeding helper, not a call the code under test made

    def _name(self, layer: str) -> str:
        """A layer name, from a name or this account's and region's layer ARN (another account's
        or region's ARN names no layer here)."""
        if not layer.startswith("arn:"):
            return layer
        parts = layer.split(":")
        if len(parts) >= 7 and parts[3] == self.region and parts[4] == self.account and parts[5] == "layer":
            return parts[6]
        return f"<{layer}>"  # no such layer here

    def _version(self, operation: str, kw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = self._name(str(kw["LayerName"]))
        for lv in self.layers.get(name, []):
            if lv["Version"] == int(kw["VersionNumber"]):
                return name, lv
        raise client_error(NOT_FOUND, operation, "The resource you requested does not exist.")

    def _statements(self, key: tuple[str, int]) -> list[dict[str, Any]]:
        held = self.policies.get(key)
        return list(json.loads(held["Policy"]).get("Statement", [])) if held else []

    def _write(self, key: tuple[str, int], statements: list[dict[str, Any]]) -> str:
        self._revision += 1
        revision = f"{key[0]}-{key[1]}-r{self._revision}"
        if statements:
            self.policies[key] = {"Policy": json.dumps({"Version": "2012-10-17", "Id": "default",
                                                        "Statement": statements}), "RevisionId": revision}
        else:
            self.policies.pop(key, None)
        return revision

    def attach(self, function: str, version: str, *arns: str) -> None:
        self.functions.append({"FunctionName": function, "Version": version,
                               "Layers": [{"Arn": a, "CodeSize": 1} for a in arns]})

    # --- the LambdaApi surface ---

    def list_layers(self, **kw: Any) -> dict[str, Any]:
        self._enter("ListLayers")
        return _page([{"LayerName": n} for n, v in self.layers.items() if v], "Layers", kw.get("Marker"))

    def list_layer_versions(self, **kw: Any) -> dict[str, Any]:
        self._enter("ListLayerVersions")
        versions = self.layers.get(self._name(str(kw["LayerName"])), [])  # no layer: no versions
        items = [{k: v for k, v in lv.items() if k != "Content"} for lv in reversed(versions)]
        return _page(items, "LayerVersions", kw.get("Marker"))

    def get_layer_version(self, **kw: Any) -> dict[str, Any]:
        self._enter("GetLayerVersion")
        name, lv = self._version("GetLayerVersion", kw)
        return {**lv, "LayerArn": self.arn(name)}

    def get_layer_version_policy(self, **kw: Any) -> dict[str, Any]:
        self._enter("GetLayerVersionPolicy")
        name, lv = self._version("GetLayerVersionPolicy", kw)
        key = (name, int(lv["Version"]))
        if key not in self.policies:
            raise client_error(NOT_FOUND, "GetLayerVersionPolicy", "No policy is associated with the given resource.")
        return dict(self.policies[key])

    def add_layer_version_permission(self, **kw: Any) -> dict[str, Any]:
        self._enter("AddLayerVersionPermission")
        name, lv = self._version("AddLayerVersionPermission", kw)
        key, sid, principal = (name, int(lv["Version"])), str(kw["StatementId"]), str(kw["Principal"])
        statements = self._statements(key)
        if any(s.get("Sid") == sid for s in statements):
            raise client_error("ResourceConflictException", "AddLayerVersionPermission",
                               f"The statement id ({sid}) provided already exists. Please provide a new statement "
                               "id, or remove the existing statement.")
        written = principal if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"}
        made: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": written, "Action": kw["Action"],
                                "Resource": lv["LayerVersionArn"]}
        if kw.get("OrganizationId"):
            made["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": kw["OrganizationId"]}}
        revision = self._write(key, [*statements, made])
        return {"Statement": json.dumps(made), "RevisionId": revision}

    def remove_layer_version_permission(self, **kw: Any) -> dict[str, Any]:
        self._enter("RemoveLayerVersionPermission")
        name, lv = self._version("RemoveLayerVersionPermission", kw)
        key = (name, int(lv["Version"]))
        statements = self._statements(key)
        kept = [s for s in statements if s.get("Sid") != kw["StatementId"]]
        if len(kept) == len(statements):
            raise client_error(NOT_FOUND, "RemoveLayerVersionPermission",
                               "No policy is associated with the given resource.")
        self._write(key, kept)
        return {}

    def list_functions(self, **kw: Any) -> dict[str, Any]:
        self._enter("ListFunctions")
        assert kw.get("FunctionVersion") == "ALL"
        return _page(self.functions, "Functions", kw.get("Marker"))

    def list_aliases(self, **kw: Any) -> dict[str, Any]:
        self._enter("ListAliases")
        return _page(self.aliases.get(kw["FunctionName"], []), "Aliases", kw.get("Marker"))

    def delete_layer_version(self, **kw: Any) -> dict[str, Any]:
        """A missing version is success (the API reference lists no not-found error for it)."""
        self._enter("DeleteLayerVersion")
        name, version = self._name(str(kw["LayerName"])), int(kw["VersionNumber"])
        self.deleted.append((kw["LayerName"], kw["VersionNumber"]))
        if name in self.layers:
            self.layers[name] = [v for v in self.layers[name] if v["Version"] != version]
        self.policies.pop((name, version), None)  # the policy goes with its version
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
