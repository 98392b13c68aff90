"""The grant owner of one layer version (`layersmith.aws.grants`) and the dynamic provider's diff,
against an in-memory layer policy that answers as the Lambda API reference documents
(AddLayerVersionPermission: ResourceConflictException on an existing StatementId; the principal and
organization as AWS writes them back; RemoveLayerVersionPermission: ResourceNotFoundException for
an unknown id; GetLayerVersionPolicy: ResourceNotFoundException without a policy)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_fakes import client_error
from botocore.exceptions import ClientError

from layersmith.aws.clients import Caller
from layersmith.aws.grants import (
    PREFIX,
    Statement,
    VersionGone,
    VersionPolicy,
    desired_statements,
    parse_policy,
)
from layersmith.errors import AwsError
from layersmith.infra.grants import LayerGrantsProvider, diff_props, outputs
from layersmith.model import ShareWith

ARN = "arn:aws:lambda:eu-west-1:111111111111:layer:layersmith-prod-utils"
A, B, ORG = "222222222222", "333333333333", "o-exampleorg01"


@dataclass
class FakePolicy:
    """Layer versions 1..`versions` of one layer, each with its policy statements (AWS's shapes)."""

    versions: int = 3
    statements: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    throttle: int = 0
    deny: set[str] = field(default_factory=set)

    def _enter(self, op: str, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls.append(op)
        if self.throttle:
            self.throttle -= 1
            raise client_error("TooManyRequestsException", op, "Rate exceeded")
        if op in self.deny:
            raise client_error("AccessDeniedException", op, "not authorized")
        assert kwargs["LayerName"] == ARN
        version = int(kwargs["VersionNumber"])
        if not 1 <= version <= self.versions:
            raise client_error("ResourceNotFoundException", op, "The resource you requested does not exist.")
        return self.statements.setdefault(version, [])

    def get_layer_version(self, **kwargs: Any) -> dict[str, Any]:
        self._enter("GetLayerVersion", kwargs)
        return {"Version": kwargs["VersionNumber"]}

    def get_layer_version_policy(self, **kwargs: Any) -> dict[str, Any]:
        statements = self._enter("GetLayerVersionPolicy", kwargs)
        if not statements:
            raise client_error("ResourceNotFoundException", "GetLayerVersionPolicy",
                               "No policy is associated with the given resource.")
        return {"Policy": json.dumps({"Version": "2012-10-17", "Statement": statements}), "RevisionId": "r"}

    def add_layer_version_permission(self, **kwargs: Any) -> dict[str, Any]:
        statements = self._enter("AddLayerVersionPermission", kwargs)
        sid = kwargs["StatementId"]
        if any(s["Sid"] == sid for s in statements):
            raise client_error("ResourceConflictException", "AddLayerVersionPermission",
                               f"The statement id ({sid}) provided already exists.")
        principal = kwargs["Principal"]
        made: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": kwargs["Action"],
                                "Principal": {"AWS": f"arn:aws:iam::{principal}:root"} if principal != "*" else "*"}
        if kwargs.get("OrganizationId"):
            made["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": kwargs["OrganizationId"]}}
        statements.append(made)
        return {"Statement": json.dumps(made), "RevisionId": "r2"}

    def remove_layer_version_permission(self, **kwargs: Any) -> dict[str, Any]:
        statements = self._enter("RemoveLayerVersionPermission", kwargs)
        kept = [s for s in statements if s["Sid"] != kwargs["StatementId"]]
        if len(kept) == len(statements):
            raise client_error("ResourceNotFoundException", "RemoveLayerVersionPermission", "no such statement")
        statements[:] = kept
        return {}

    def sids(self, version: int) -> list[str]:
        return sorted(s["Sid"] for s in self.statements.get(version, []))

    def mutations(self) -> list[str]:
        return [c for c in self.calls if c.startswith(("Add", "Remove"))]


def owner(fake: FakePolicy, version: int = 1) -> VersionPolicy:
    return VersionPolicy(fake, ARN, version, Caller(sleep=lambda _s: None))


SHARE = ShareWith(accounts=(A, B), organizations=(ORG,), public=False)
WANTED = desired_statements(SHARE)


def test_statement_ids_derive_from_the_principal_and_carry_the_prefix() -> None:
    assert [s.sid for s in WANTED] == [f"{PREFIX}account-{A}", f"{PREFIX}account-{B}", f"{PREFIX}org-{ORG}"]
    assert Statement(f"{PREFIX}org-{ORG}", "*", ORG) in WANTED
    public = desired_statements(ShareWith(accounts=(), organizations=(), public=True))
    assert public == [Statement(f"{PREFIX}public", "*")]


def test_policy_reads_back_as_aws_writes_it() -> None:
    fake = FakePolicy()
    owner(fake).reconcile(WANTED)
    read = parse_policy(fake.get_layer_version_policy(LayerName=ARN, VersionNumber=1)["Policy"])
    assert sorted(p.statement for p in read if p.statement) == WANTED  # ARN principals and the org condition


def test_create_adds_missing_adopts_identical_and_replaces_a_changed_statement() -> None:
    fake = FakePolicy()
    fake.statements[1] = [
        {"Sid": f"{PREFIX}account-{A}", "Effect": "Allow", "Action": "lambda:GetLayerVersion",
         "Principal": {"AWS": f"arn:aws:iam::{A}:root"}},  # identical: adopted
        {"Sid": f"{PREFIX}org-{ORG}", "Effect": "Allow", "Action": "lambda:GetLayerVersion",
         "Principal": "*"},  # same id, but the org condition is missing: replaced
    ]
    changes = owner(fake).reconcile(WANTED)
    assert changes.adopted == (f"{PREFIX}account-{A}",)
    assert changes.removed == (f"{PREFIX}org-{ORG}",)
    assert changes.added == (f"{PREFIX}account-{B}", f"{PREFIX}org-{ORG}")
    assert sorted(owner(fake).owned()) == WANTED


def test_an_identical_rerun_makes_no_mutation() -> None:
    fake = FakePolicy()
    owner(fake).reconcile(WANTED)
    fake.calls.clear()
    changes = owner(fake).reconcile(WANTED)
    assert fake.mutations() == [] and len(changes.adopted) == 3


def test_update_revokes_dropped_principals_and_never_touches_foreign_statements() -> None:
    fake = FakePolicy()
    fake.statements[1] = [{"Sid": "partner-manual", "Effect": "Allow", "Action": "lambda:GetLayerVersion",
                           "Principal": {"AWS": f"arn:aws:iam::{B}:root"}}]
    owner(fake).reconcile(WANTED)
    changes = owner(fake).reconcile([s for s in WANTED if s.principal != B])
    assert changes.removed == (f"{PREFIX}account-{B}",)
    assert fake.sids(1) == sorted(["partner-manual", f"{PREFIX}account-{A}", f"{PREFIX}org-{ORG}"])


def test_revoke_all_removes_only_owned_statements_and_tolerates_a_deleted_version() -> None:
    fake = FakePolicy()
    fake.statements[2] = [{"Sid": "manual", "Effect": "Allow", "Action": "lambda:GetLayerVersion",
                           "Principal": "*"}]
    owner(fake, 2).reconcile(WANTED)
    assert owner(fake, 2).revoke_all() == tuple(s.sid for s in WANTED)
    assert fake.sids(2) == ["manual"]
    assert owner(fake, 9).revoke_all() == ()  # version 9 does not exist: nothing left to revoke


def test_a_statement_added_concurrently_by_the_versions_other_owner_is_success() -> None:
    """A version that is both current and pinned has two owners; the engine may run both at once."""
    fake = FakePolicy()
    policy = owner(fake)
    real_add = fake.add_layer_version_permission

    def racing_add(**kwargs: Any) -> dict[str, Any]:
        real_add(**kwargs)  # the other owner got there first ...
        return real_add(**kwargs)  # ... so ours conflicts

    fake.add_layer_version_permission = racing_add  # type: ignore[method-assign]
    policy.reconcile(WANTED)
    assert fake.sids(1) == [s.sid for s in WANTED]


def test_a_conflicting_add_with_different_content_is_an_error_not_success() -> None:
    """Between our read and our add, someone wrote the same statement id with another principal:
    AWS answers ResourceConflictException, and the version does not hold what we want."""
    fake = FakePolicy()
    policy = owner(fake)
    real_add = fake.add_layer_version_permission

    def racing_add(**kwargs: Any) -> dict[str, Any]:
        real_add(**{**kwargs, "Principal": "444444444444", "OrganizationId": None})  # another writer wins
        return real_add(**kwargs)

    fake.add_layer_version_permission = racing_add  # type: ignore[method-assign]
    with pytest.raises(AwsError) as err:
        policy.reconcile(WANTED[:1])
    assert isinstance(err.value.__cause__, ClientError)
    assert err.value.__cause__.response["Error"]["Code"] == "ResourceConflictException"


def test_a_missing_version_is_one_line_naming_layer_and_version() -> None:
    with pytest.raises(VersionGone) as err:
        owner(FakePolicy(versions=3), 7).reconcile(WANTED)
    text = str(err.value)
    assert "\n" not in text and "layersmith-prod-utils version 7 does not exist" in text


def test_access_denied_is_one_line_naming_layer_version_and_permission() -> None:
    fake = FakePolicy(deny={"AddLayerVersionPermission"})
    with pytest.raises(AwsError) as err:
        owner(fake).reconcile(WANTED)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("layer layersmith-prod-utils version 1: access denied for lambda:AddLayerVersionPermission")


def test_throttling_is_retried_then_one_line() -> None:
    fake = FakePolicy(throttle=2)
    owner(fake).reconcile(WANTED)  # two throttles, then success
    assert fake.calls[:3] == ["GetLayerVersionPolicy"] * 3 and fake.sids(1) == [s.sid for s in WANTED]
    stuck = FakePolicy(throttle=100)
    with pytest.raises(AwsError) as err:
        owner(stuck).reconcile(WANTED)
    assert "still throttled" in str(err.value) and "version 1" in str(err.value)
    assert len(stuck.calls) == Caller().attempts


def _props(version: Any = 1, statements: list[Statement] = WANTED, retain: bool = True) -> dict[str, Any]:
    return {"layerArn": ARN, "version": version, "retain": retain,
            "statements": [s.to_props() for s in statements]}


def test_diff_same_inputs_is_no_change() -> None:
    result = diff_props(outputs(_props()), _props())
    assert result.changes is False and result.replaces == []


def test_diff_another_version_or_layer_replaces() -> None:
    assert diff_props(outputs(_props(1)), _props(2)).replaces == ["version"]
    other = {**_props(), "layerArn": ARN + "-x"}
    assert diff_props(outputs(_props()), other).replaces == ["layerArn"]


def test_diff_an_unknown_new_version_in_preview_replaces() -> None:
    from pulumi.output import Unknown
    from pulumi.runtime import rpc

    for unknown in (rpc.UNKNOWN, Unknown()):  # the wire's sentinel; what the host hands the provider
        result = diff_props(outputs(_props(1)), _props(unknown))
        assert result.changes is True and result.replaces == ["version"]
        assert LayerGrantsProvider().diff("id", outputs(_props(1)), _props(unknown)).replaces == ["version"]


def test_every_replacement_deletes_first() -> None:
    assert diff_props(outputs(_props(1)), _props(2)).delete_before_replace is True


def test_diff_other_principals_or_retain_update_in_place() -> None:
    fewer = diff_props(outputs(_props()), _props(statements=WANTED[:1]))
    assert fewer.changes is True and fewer.replaces == []
    unretained = diff_props(outputs(_props()), _props(retain=False))
    assert unretained.changes is True and unretained.replaces == []


class _FakeProvider(LayerGrantsProvider):
    def __init__(self, fake: FakePolicy) -> None:
        super().__init__()
        self.fake = fake

    def client(self, layer_arn: str) -> Any:
        return self.fake


def test_delete_keeps_statements_when_retained_and_removes_its_own_otherwise() -> None:
    fake = FakePolicy()
    provider = _FakeProvider(fake)
    provider.create(_props(retain=True))
    provider.delete("id", outputs(_props(retain=True)))
    assert fake.sids(1) == [s.sid for s in WANTED]
    provider.delete("id", outputs(_props(retain=False)))
    assert fake.sids(1) == []


def test_read_reports_what_is_in_aws_and_a_gone_version_as_gone() -> None:
    fake = FakePolicy()
    provider = _FakeProvider(fake)
    created = provider.create(_props())
    fake.statements[1] = [s for s in fake.statements[1] if s["Sid"] != f"{PREFIX}account-{B}"]  # removed by hand
    read = provider.read(created.id, created.outs or {})
    assert [s["sid"] for s in read.outs["statements"]] == [f"{PREFIX}account-{A}", f"{PREFIX}org-{ORG}"]
    fake.versions = 0  # the version was deleted outside Pulumi
    assert provider.read(created.id, created.outs or {}).id == ""


def test_provider_errors_end_in_one_line() -> None:
    from layersmith.infra.grants import GrantError

    provider = _FakeProvider(FakePolicy(versions=0))
    with pytest.raises(GrantError) as err:
        provider.create(_props())
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert str(err.value).startswith("layersmith: layer layersmith-prod-utils version 1 does not exist")


def test_check_refuses_a_versioned_arn_and_a_statement_id_without_the_prefix() -> None:
    provider = LayerGrantsProvider()
    bad = {**_props(), "layerArn": ARN + ":3", "statements": [{"sid": "account-1", "principal": A}]}
    failures = provider.check({}, bad).failures
    assert [f.property for f in failures] == ["layerArn", "statements"]
    assert provider.check({}, _props()).failures == []
