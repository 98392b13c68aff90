"""One contract for the Lambda layer operations layersmith calls, run against both stand-ins for
AWS: the in-memory fake (`tests/unit/aws_fakes.FakeLambda`) and moto_server with the fidelity
patches (`moto_fidelity.layer_policy_fidelity`, `layer_version_fidelity`). Neither can drift from the other, nor from
what the Lambda API reference documents:

* GetLayerVersion — ResourceNotFoundException for a missing version or layer; `LayerName` is a name
  or the layer's ARN; the answer carries `LayerArn`, `LayerVersionArn`, `Version`.
* ListLayerVersions — by name or ARN, newest first; "Versions that have been deleted aren't listed"; a layer with
  no version lists nothing (an empty `LayerVersions`, not an error).
* GetLayerVersionPolicy — `Policy` (JSON) and `RevisionId`; ResourceNotFoundException for a version
  without a policy and for a missing version.
* AddLayerVersionPermission — `Statement` (JSON) and `RevisionId`; the statement keeps its `Sid`,
  an account principal reads back as `{"AWS": "arn:aws:iam::<id>:root"}`, `*` as `*`, an
  OrganizationId as `Condition.StringEquals["aws:PrincipalOrgID"]`, Resource is the version ARN;
  ResourceConflictException for a StatementId already in the policy; ResourceNotFoundException for a
  missing version.
* RemoveLayerVersionPermission — ResourceNotFoundException for an id not in the policy or a missing
  version; removing the last statement leaves no policy. Every mutation changes `RevisionId`.
* DeleteLayerVersion — the version (and its policy) is gone; a missing version is not an error (the
  API reference lists no not-found error for it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto_fidelity import layer_policy_fidelity, layer_version_fidelity
from moto_layers import REGION, fresh_lambda, layer_zip, moto_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))  # the fake lives with the unit tests
from aws_fakes import FakeLambda

ACCOUNT = "123456789012"  # moto's default account
NF = "ResourceNotFoundException"
A, ORG = "222222222222", "o-exampleorg01"
GET = "lambda:GetLayerVersion"


@dataclass
class Backend:
    api: Any
    publish: Callable[[str], int]

    def arn(self, name: str, version: int | None = None) -> str:
        base = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}"
        return base if version is None else f"{base}:{version}"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with layer_policy_fidelity(), layer_version_fidelity(), moto_server() as url:
        yield url


@pytest.fixture(params=["fake", "moto"])
def aws(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Backend:
    if request.param == "fake":
        fake = FakeLambda(ACCOUNT, REGION)
        return Backend(fake, lambda name: int(fake.publish(name).rsplit(":", 1)[1]))
    lam = fresh_lambda(request.getfixturevalue("endpoint"), monkeypatch)
    return Backend(lam, lambda name: int(lam.publish_layer_version(
        LayerName=name, Content={"ZipFile": layer_zip(name)}, CompatibleRuntimes=["python3.12"])["Version"]))


def error(call: Callable[[], Any]) -> str | None:
    """The error code AWS would answer `call` with, None on success."""
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


def listed(aws: Backend, name: str) -> list[int]:
    out, marker = [], None
    while True:
        page = aws.api.list_layer_versions(LayerName=name, **({"Marker": marker} if marker else {}))
        out += [int(item["Version"]) for item in page["LayerVersions"]]
        assert all("Content" not in item and item["LayerVersionArn"].endswith(f":{item['Version']}")
                   for item in page["LayerVersions"])
        marker = page.get("NextMarker")
        if not marker:
            return out


def add(aws: Backend, sid: str, principal: str, version: int = 1, **extra: Any) -> dict[str, Any]:
    return dict(aws.api.add_layer_version_permission(LayerName="l", VersionNumber=version, StatementId=sid,
                                                     Action=GET, Principal=principal, **extra))


def statements(aws: Backend, version: int = 1) -> dict[str, dict[str, Any]]:
    got = aws.api.get_layer_version_policy(LayerName="l", VersionNumber=version)
    assert got["RevisionId"]
    return {s["Sid"]: s for s in json.loads(got["Policy"])["Statement"]}


def test_get_layer_version_by_name_or_arn_and_not_found(aws: Backend) -> None:
    v1 = aws.publish("l")
    for layer in ("l", aws.arn("l")):
        got = aws.api.get_layer_version(LayerName=layer, VersionNumber=v1)
        assert (got["Version"], got["LayerArn"], got["LayerVersionArn"]) == (v1, aws.arn("l"), aws.arn("l", v1))
    assert error(lambda: aws.api.get_layer_version(LayerName="l", VersionNumber=v1 + 5)) == NF
    assert error(lambda: aws.api.get_layer_version(LayerName="nope", VersionNumber=1)) == NF


def test_list_layer_versions_newest_first_and_empty_for_an_unknown_layer(aws: Backend) -> None:
    numbers = [aws.publish("l") for _ in range(3)]
    assert listed(aws, "l") == listed(aws, aws.arn("l")) == sorted(numbers, reverse=True)
    assert listed(aws, "nope") == []
    aws.api.delete_layer_version(LayerName="l", VersionNumber=numbers[1])
    assert listed(aws, "l") == [numbers[2], numbers[0]]  # deleted versions are not listed


def test_policy_is_not_found_without_statements_or_version(aws: Backend) -> None:
    aws.publish("l")
    assert error(lambda: aws.api.get_layer_version_policy(LayerName="l", VersionNumber=1)) == NF
    assert error(lambda: aws.api.get_layer_version_policy(LayerName="l", VersionNumber=9)) == NF


def test_add_writes_statements_as_aws_does(aws: Backend) -> None:
    aws.publish("l")
    made = add(aws, "acct", A)
    assert made["RevisionId"] and json.loads(made["Statement"])["Principal"] == {"AWS": f"arn:aws:iam::{A}:root"}
    add(aws, "org", "*", OrganizationId=ORG)
    add(aws, "public", "*")
    got = statements(aws)
    assert sorted(got) == ["acct", "org", "public"]
    assert got["acct"] == {"Sid": "acct", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                           "Action": GET, "Resource": aws.arn("l", 1)}
    assert got["org"]["Principal"] == "*"
    assert got["org"]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}
    assert got["public"]["Principal"] == "*" and "Condition" not in got["public"]


def test_add_conflicts_on_an_existing_id_and_needs_the_version(aws: Backend) -> None:
    aws.publish("l")
    add(aws, "acct", A)
    assert error(lambda: add(aws, "acct", "333333333333")) == "ResourceConflictException"
    assert error(lambda: add(aws, "acct", A)) == "ResourceConflictException"  # even with the same content
    assert error(lambda: add(aws, "x", A, version=9)) == NF
    assert len(statements(aws)) == 1


def test_remove_and_revisions(aws: Backend) -> None:
    aws.publish("l")
    first = add(aws, "a", A)["RevisionId"]
    second = add(aws, "b", "*")["RevisionId"]
    assert first != second
    assert error(lambda: aws.api.remove_layer_version_permission(LayerName="l", VersionNumber=1,
                                                                 StatementId="zz")) == NF
    assert error(lambda: aws.api.remove_layer_version_permission(LayerName="l", VersionNumber=9,
                                                                 StatementId="a")) == NF
    aws.api.remove_layer_version_permission(LayerName="l", VersionNumber=1, StatementId="a")
    after = aws.api.get_layer_version_policy(LayerName="l", VersionNumber=1)["RevisionId"]
    assert after not in (first, second) and sorted(statements(aws)) == ["b"]
    aws.api.remove_layer_version_permission(LayerName="l", VersionNumber=1, StatementId="b")
    assert error(lambda: aws.api.get_layer_version_policy(LayerName="l", VersionNumber=1)) == NF


def test_delete_takes_the_version_and_its_policy_and_a_missing_one_is_fine(aws: Backend) -> None:
    v1 = aws.publish("l")
    add(aws, "a", A)
    aws.api.delete_layer_version(LayerName="l", VersionNumber=v1)
    assert error(lambda: aws.api.get_layer_version(LayerName="l", VersionNumber=v1)) == NF
    assert error(lambda: aws.api.get_layer_version_policy(LayerName="l", VersionNumber=v1)) == NF
    assert error(lambda: aws.api.delete_layer_version(LayerName="l", VersionNumber=v1)) is None
    assert error(lambda: aws.api.delete_layer_version(LayerName="nope", VersionNumber=1)) is None


def test_the_grant_owner_reconciles_the_same_on_both(aws: Backend) -> None:
    """The code under test, on each backend: the same calls, the same end state."""
    from layersmith.aws.clients import Caller
    from layersmith.aws.grants import Statement, VersionPolicy

    aws.publish("l")
    add(aws, "manual", A)
    policy = VersionPolicy(aws.api, aws.arn("l"), 1, Caller(sleep=lambda _s: None))
    wanted = [Statement(f"layersmith-account-{A}", A), Statement("layersmith-org-o-exampleorg01", "*", ORG)]
    changes = policy.reconcile(wanted)
    assert changes.added == tuple(s.sid for s in wanted) and changes.removed == ()
    assert policy.owned() == wanted and policy.reconcile(wanted).adopted == tuple(s.sid for s in wanted)
    assert policy.revoke_all() == tuple(s.sid for s in wanted) and sorted(statements(aws)) == ["manual"]
