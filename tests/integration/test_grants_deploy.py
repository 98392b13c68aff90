"""Grants under the engine's own path: a deploy *sequence* of `LayerGrants` resources, driven over
gRPC through Pulumi's dynamic-provider host, against moto_server on 127.0.0.1 whose layer policy
behaves as the Lambda API reference documents (`moto_fidelity.layer_policy_fidelity`).

The serialized provider is the one the real program registers (`__provider`, taken from a mocked
run of `__main__.py` over a tiny project with one local layer, so these tests run offline), so this
also proves it loads in a fresh host process started from the project directory. The engine plays
replacements in the order the `deleteBeforeReplace` option `LayerGrants` registers asks for.

The same sequence is played against today's-upstream `LayerVersionPermission` design (one resource
per statement, Read copying the policy's first statement, every field ForceNew): it fails on the
faithful policy, and passes on plain moto — which is why the fidelity patch exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from grpc_engine import Engine, dynamic_provider_host
from helpers import REPO
from moto_fidelity import CALLS, layer_policy_fidelity, plain_moto
from moto_layers import REGION, TEST_CREDENTIALS, fresh_lambda, layer_zip, moto_server, reset
from tiny_project import provider_blob as tiny_provider_blob
from tiny_project import registered_delete_before_replace

from layersmith.aws.grants import PREFIX, desired_statements
from layersmith.model import ShareWith

A, B, ORG = "222222222222", "333333333333", "o-exampleorg01"
ACCOUNT = "123456789012"  # moto's default account
LAYER = "layersmith-prod-utils"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{LAYER}"
SHARE = ShareWith(accounts=(A, B), organizations=(ORG,), public=False)
AWS_ENV: dict[str, str | None] = {**TEST_CREDENTIALS}


@pytest.fixture(scope="module")
def provider_blob(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The `__provider` the real program registers for every LayerGrants (a local layer: no download)."""
    base = tmp_path_factory.mktemp("tiny")
    return tiny_provider_blob(base / "project", base / "cache")


@pytest.fixture(scope="module")
def delete_before_replace() -> bool | None:
    return registered_delete_before_replace()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with layer_policy_fidelity(), moto_server() as url:
        yield url


@pytest.fixture
def lam(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    CALLS.clear()
    return fresh_lambda(endpoint, monkeypatch)


@pytest.fixture
def engine(lam: Any, endpoint: str, provider_blob: str, delete_before_replace: bool | None) -> Iterator[Engine]:
    with dynamic_provider_host(REPO, {**AWS_ENV, "AWS_ENDPOINT_URL": endpoint}) as stub:
        eng = Engine(stub, provider_blob, delete_before_replace)
        eng.configure({"aws:region": REGION})
        yield eng


def publish(lam: Any) -> int:
    return int(lam.publish_layer_version(LayerName=LAYER, Content={"ZipFile": layer_zip(f"u{len(CALLS)}")},
                                         CompatibleRuntimes=["python3.11"])["Version"])


def grants(version: int, share: ShareWith = SHARE, retain: bool = True) -> dict[str, Any]:
    return {"layerArn": ARN, "version": version, "retain": retain, "action": "lambda:GetLayerVersion",
            "statements": [s.to_props() for s in desired_statements(share)]}


def desired(current: int, pins: tuple[int, ...] = (), share: ShareWith = SHARE) -> dict[str, dict[str, Any]]:
    """What `SharedLayer` registers for one retained, portable layer: the current version's grants
    and one per pinned version (named by the version, so a moved pin is another resource)."""
    out = {"utils-any-grants": grants(current, share)}
    out.update({f"utils-any-v{p}-grants": grants(p, share) for p in pins})
    return out


def policy(lam: Any, version: int) -> dict[str, dict[str, Any]]:
    """Statement id -> statement, as GetLayerVersionPolicy returns it."""
    try:
        doc = lam.get_layer_version_policy(LayerName=LAYER, VersionNumber=version)["Policy"]
    except lam.exceptions.ResourceNotFoundException:
        return {}
    return {s["Sid"]: s for s in json.loads(doc)["Statement"]}


def mutations(version: int | None = None) -> int:
    return sum(n for (op, _name, v), n in CALLS.items() if version in (None, v))


def test_the_serialized_provider_loads_in_a_fresh_host_from_the_project_directory(engine: Engine) -> None:
    _inputs, failures = engine.check("utils-any-grants", grants(1))
    assert failures == []
    _inputs, failures = engine.check("x", {**grants(1), "layerArn": ARN + ":1"})
    assert failures and failures[0][0] == "layerArn"


def test_the_deploy_sequence(engine: Engine, lam: Any) -> None:
    # 1. publish v1, grant two accounts and an organization
    v1 = publish(lam)
    assert engine.up(desired(v1)) == [("create", "utils-any-grants")]
    got = policy(lam, v1)
    assert sorted(got) == [f"{PREFIX}account-{A}", f"{PREFIX}account-{B}", f"{PREFIX}org-{ORG}"]
    assert got[f"{PREFIX}account-{A}"]["Principal"] == {"AWS": f"arn:aws:iam::{A}:root"}
    assert got[f"{PREFIX}org-{ORG}"]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}
    assert mutations() == 3

    # 2. an identical rerun: no change, not one Add/Remove
    CALLS.clear()
    assert engine.up(desired(v1)) == [("same", "utils-any-grants")]
    assert mutations() == 0 and len(policy(lam, v1)) == 3

    # 3. a new zip: v2 is granted, v1 keeps its grants (retained); the old owner goes first
    v2 = publish(lam)
    assert engine.up(desired(v2)) == [("delete-replace", "utils-any-grants")]
    assert sorted(policy(lam, v2)) == sorted(policy(lam, v1)) and len(policy(lam, v1)) == 3

    # 4. pin 1 -> 2 -> 1 (a rollback): each owner adopts what is there, nothing conflicts
    engine.up(desired(v2, pins=(v1,)))
    engine.up(desired(v2, pins=(v2,)))
    CALLS.clear()
    assert engine.up(desired(v2, pins=(v1,))) == [("same", "utils-any-grants"), ("create", "utils-any-v1-grants"),
                                                  ("delete", "utils-any-v2-grants")]
    assert mutations() == 0  # v1 still had its statements: adopted
    # a hand-added statement without the prefix
    lam.add_layer_version_permission(LayerName=LAYER, VersionNumber=v1, StatementId="partner-manual",
                                     Action="lambda:GetLayerVersion", Principal=B)

    # 5. remove an account: revoked on the current and on every pinned version, nothing else touched
    without_b = ShareWith(accounts=(A,), organizations=(ORG,), public=False)
    CALLS.clear()
    assert engine.up(desired(v2, pins=(v1,), share=without_b)) == [("update", "utils-any-grants"),
                                                                    ("update", "utils-any-v1-grants")]
    assert sorted(policy(lam, v2)) == [f"{PREFIX}account-{A}", f"{PREFIX}org-{ORG}"]
    assert sorted(policy(lam, v1)) == [f"{PREFIX}account-{A}", f"{PREFIX}org-{ORG}", "partner-manual"]
    assert CALLS["remove", LAYER, v1] == 1 and CALLS["remove", LAYER, v2] == 1 and mutations() == 2

    # 6. add the account back
    engine.up(desired(v2, pins=(v1,)))
    assert f"{PREFIX}account-{B}" in policy(lam, v1) and f"{PREFIX}account-{B}" in policy(lam, v2)

    # 7. public opt-in
    public = ShareWith(accounts=(A, B), organizations=(ORG,), public=True)
    engine.up(desired(v2, share=public))
    assert policy(lam, v2)[f"{PREFIX}public"]["Principal"] == "*"
    assert "Condition" not in policy(lam, v2)[f"{PREFIX}public"]


def test_refresh_reads_back_what_is_really_there(engine: Engine, lam: Any) -> None:
    v1 = publish(lam)
    engine.up(desired(v1))
    lam.remove_layer_version_permission(LayerName=LAYER, VersionNumber=v1, StatementId=f"{PREFIX}account-{B}")
    refreshed = engine.refresh("utils-any-grants")
    assert refreshed is not None
    assert [s["sid"] for s in refreshed["statements"]] == [f"{PREFIX}account-{A}", f"{PREFIX}org-{ORG}"]
    assert engine.up(desired(v1)) == [("update", "utils-any-grants")]  # drift repaired
    assert len(policy(lam, v1)) == 3
    lam.delete_layer_version(LayerName=LAYER, VersionNumber=v1)
    assert engine.refresh("utils-any-grants") is None  # the version is gone, and so is the resource


def test_an_unretained_stack_removes_its_own_statements_on_delete(engine: Engine, lam: Any) -> None:
    v1 = publish(lam)
    lam.add_layer_version_permission(LayerName=LAYER, VersionNumber=v1, StatementId="manual",
                                     Action="lambda:GetLayerVersion", Principal=A)
    engine.up({"g": grants(v1, retain=False)})
    engine.up({})
    assert sorted(policy(lam, v1)) == ["manual"]


def test_layer_grants_registers_delete_before_replace(delete_before_replace: bool | None) -> None:
    """`pulumi up --replace` does not ask the provider's Diff: only this option orders the replace."""
    assert delete_before_replace is True


@pytest.mark.parametrize("retain", [False, True])
def test_a_forced_replace_of_the_same_version_keeps_its_grants(engine: Engine, lam: Any, retain: bool) -> None:
    """`pulumi up --replace` (no Diff is asked): the replacement owns the very statements the old
    resource owns; whatever the order, the version ends granted, as the state says."""
    v1 = publish(lam)
    engine.up({"g": grants(v1, retain=retain)})
    log = engine.up({"g": grants(v1, retain=retain)}, replace=("g",))
    assert sorted(policy(lam, v1)) == sorted(s["sid"] for s in engine.state["g"][1]["statements"])
    assert len(policy(lam, v1)) == 3
    assert log == [("delete-replace", "g")]


def test_a_new_version_replaces_the_grants_and_an_unretained_old_version_loses_them(engine: Engine,
                                                                                   lam: Any) -> None:
    v1, v2 = publish(lam), publish(lam)
    engine.up({"g": grants(v1, retain=False)})
    log = engine.up({"g": grants(v2, retain=False)})
    assert len(policy(lam, v2)) == 3 and policy(lam, v1) == {}
    assert log == [("delete-replace", "g")]


def test_a_missing_version_fails_in_one_line_naming_layer_and_version(engine: Engine, lam: Any) -> None:
    import grpc

    publish(lam)
    with pytest.raises(grpc.RpcError) as err:
        engine.up({"g": grants(7)})
    last = err.value.details().strip().splitlines()[-1]
    assert last.startswith("layersmith.infra.grants.GrantError: layersmith: layer layersmith-prod-utils version 7 "
                           "does not exist")
    assert "botocore" not in err.value.details()  # no chained AWS traceback


def test_aws_profile_is_honoured(lam: Any, endpoint: str, provider_blob: str, tmp_path: Path) -> None:
    """The host gets no credentials in its environment, only a profile in a credentials file; the
    stack's `aws:profile` picks it. A profile that does not exist is one line naming it."""
    credentials = tmp_path / "credentials"
    credentials.write_text("[platform]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
                           encoding="utf-8")
    env: dict[str, str | None] = {
        "AWS_ENDPOINT_URL": endpoint, "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None, "AWS_PROFILE": None}
    v1 = publish(lam)
    with dynamic_provider_host(REPO, env) as stub:
        eng = Engine(stub, provider_blob)
        eng.configure({"aws:region": REGION, "aws:profile": "platform"})
        eng.up({"g": grants(v1)})
        assert len(policy(lam, v1)) == 3
    import grpc

    with dynamic_provider_host(REPO, env) as stub:
        eng = Engine(stub, provider_blob)
        eng.configure({"aws:region": REGION, "aws:profile": "nope"})
        with pytest.raises(grpc.RpcError) as err:
            eng.up({"g": grants(v1)})
    assert err.value.details().strip().splitlines()[-1] == (
        "layersmith.infra.grants.GrantError: layersmith: aws:profile 'nope' is not in your AWS config files; fix "
        "the stack's aws:profile or run aws configure --profile with that name")


# --- today's upstream design, for contrast ----------------------------------------------------------

class UpstreamPermission:
    """`aws.lambda_.LayerVersionPermission` as terraform-provider-aws implements it: Create = Add +
    Read; Read copies Statements[0]; statement_id/principal/organization_id/action are ForceNew;
    Delete is a no-op with skip_destroy."""

    def __init__(self, lam: Any) -> None:
        self.lam = lam
        self.state: dict[str, dict[str, Any]] = {}

    def _read(self, version: int) -> dict[str, Any]:
        first = json.loads(self.lam.get_layer_version_policy(LayerName=LAYER, VersionNumber=version)["Policy"])[
            "Statement"][0]
        principal = first["Principal"]
        principal = principal["AWS"].split(":")[4] if isinstance(principal, dict) else principal
        org = first.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalOrgID")
        return {"statement_id": first["Sid"], "principal": principal, "organization_id": org, "version": version}

    def up(self, version: int, share: ShareWith) -> None:
        for s in desired_statements(share):
            want = {"statement_id": s.sid, "principal": s.principal, "organization_id": s.organization_id,
                    "version": version}
            if self.state.get(s.sid) == want:
                continue  # no diff
            kwargs = {"OrganizationId": s.organization_id} if s.organization_id else {}
            self.lam.add_layer_version_permission(LayerName=LAYER, VersionNumber=version, StatementId=s.sid,
                                                  Action="lambda:GetLayerVersion", Principal=s.principal, **kwargs)
            self.state[s.sid] = self._read(version)


def test_the_upstream_design_breaks_the_second_up_on_a_faithful_policy(lam: Any) -> None:
    v1 = publish(lam)
    upstream = UpstreamPermission(lam)
    upstream.up(v1, SHARE)  # the first up "succeeds", storing the first statement's values everywhere
    with pytest.raises(lam.exceptions.ResourceConflictException):
        upstream.up(v1, SHARE)  # the rerun with no change replaces two grants: conflict


def test_plain_moto_would_have_hidden_it(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the fidelity patch the broken design passes the rerun: moto accepts the duplicate
    statement id (and keeps both)."""
    with plain_moto():
        lam = fresh_lambda(endpoint, monkeypatch)
        v1 = publish(lam)
        upstream = UpstreamPermission(lam)
        upstream.up(v1, SHARE)
        upstream.up(v1, SHARE)  # no error on plain moto
        ids = list(policy(lam, v1)) and [s["Sid"] for s in json.loads(
            lam.get_layer_version_policy(LayerName=LAYER, VersionNumber=v1)["Policy"])["Statement"]]
        assert len(ids) > len(set(ids))  # duplicated statement ids, which AWS never allows
    reset(endpoint)
