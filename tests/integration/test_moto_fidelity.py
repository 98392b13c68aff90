"""The layer-policy fidelity patch (`moto_fidelity`) behaves as the Lambda API reference documents:

* AddLayerVersionPermission — "ResourceConflictException: The resource already exists, or another
  operation is in progress" for a StatementId already in the policy; the returned Statement and
  the policy carry the principal as `{"AWS": "arn:aws:iam::<id>:root"}` (or `*`) and an
  OrganizationId as `Condition.StringEquals["aws:PrincipalOrgID"]`; RevisionId is the policy's new
  revision.
* RemoveLayerVersionPermission — ResourceNotFoundException for an id not in the policy; the
  RevisionId changes; a stale RevisionId is PreconditionFailedException. (layersmith sends no
  RevisionId; moto hands the backend no query string on add, so only remove checks it.)
* GetLayerVersionPolicy — ResourceNotFoundException when the version has no policy.

`layer_version_fidelity`: DeleteLayerVersion (errors: ServiceException, TooManyRequestsException
only) of a layer with no version is a 204; ListLayerVersions takes the layer's name or ARN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto_fidelity import layer_policy_fidelity, layer_version_fidelity
from moto_layers import REGION, fresh_lambda, layer_zip, moto_server

LAYER = "fidelity"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with layer_policy_fidelity(), layer_version_fidelity(), moto_server() as url:
        yield url


@pytest.fixture
def lam(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    client = fresh_lambda(endpoint, monkeypatch)
    client.publish_layer_version(LayerName=LAYER, Content={"ZipFile": layer_zip(LAYER)})
    return client


def add(lam: Any, sid: str, principal: str, **extra: Any) -> dict[str, Any]:
    return dict(lam.add_layer_version_permission(LayerName=LAYER, VersionNumber=1, StatementId=sid,
                                                 Action="lambda:GetLayerVersion", Principal=principal, **extra))


def policy(lam: Any) -> tuple[list[dict[str, Any]], str]:
    got = lam.get_layer_version_policy(LayerName=LAYER, VersionNumber=1)
    return json.loads(got["Policy"])["Statement"], got["RevisionId"]


def test_no_policy_is_resource_not_found(lam: Any) -> None:
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version_policy(LayerName=LAYER, VersionNumber=1)


def test_principals_and_organizations_read_back_as_aws_writes_them(lam: Any) -> None:
    added = add(lam, "acct", "222222222222")
    add(lam, "org", "*", OrganizationId="o-exampleorg01")
    statements, revision = policy(lam)
    assert revision
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["acct"]["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    assert json.loads(added["Statement"])["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    assert by_sid["org"]["Principal"] == "*"
    assert by_sid["org"]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg01"}}
    assert by_sid["acct"]["Resource"].endswith(f":layer:{LAYER}:1")  # the version ARN


def test_an_existing_statement_id_is_a_conflict(lam: Any) -> None:
    add(lam, "acct", "222222222222")
    with pytest.raises(lam.exceptions.ResourceConflictException):
        add(lam, "acct", "333333333333")
    assert len(policy(lam)[0]) == 1


def test_every_mutation_changes_the_revision_and_a_stale_one_is_refused(lam: Any) -> None:
    first = add(lam, "a", "222222222222")["RevisionId"]
    second = add(lam, "b", "333333333333")["RevisionId"]
    assert first != second == policy(lam)[1]
    lam.remove_layer_version_permission(LayerName=LAYER, VersionNumber=1, StatementId="a")
    assert policy(lam)[1] != second
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.remove_layer_version_permission(LayerName=LAYER, VersionNumber=1, StatementId="b", RevisionId=second)


def test_removing_an_unknown_statement_is_resource_not_found(lam: Any) -> None:
    add(lam, "a", "222222222222")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.remove_layer_version_permission(LayerName=LAYER, VersionNumber=1, StatementId="nope")


def test_deleting_a_version_of_a_layer_that_has_none_is_not_an_error(lam: Any) -> None:
    lam.delete_layer_version(LayerName="never-published", VersionNumber=1)
    lam.delete_layer_version(LayerName=LAYER, VersionNumber=7)


def test_layer_versions_list_by_name_or_arn(lam: Any) -> None:
    arn = f"arn:aws:lambda:{REGION}:123456789012:layer:{LAYER}"
    by_arn = lam.list_layer_versions(LayerName=arn)["LayerVersions"]
    assert [v["Version"] for v in by_arn] == [v["Version"] for v in lam.list_layer_versions(LayerName=LAYER)[
        "LayerVersions"]] == [1]
