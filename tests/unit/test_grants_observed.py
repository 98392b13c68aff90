"""What a user and AWS observe of a grant owner and of the `LayerGrants` provider, run in-process
against the faithful in-memory Lambda (`aws_fakes.FakeLambda`, contract-tested against moto).

The provider methods get the property bags the engine really sends (see
`tests/integration/test_grants_protocol.py`, which drives the same calls through Pulumi's host):
numbers arrive as floats (the Struct's number), an unpublished version as `pulumi.output.Unknown`
in Check and Diff, and a secret still wrapped at the top level of its property."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pulumi.dynamic as dynamic
import pytest
from aws_fakes import FakeLambda, client_error
from botocore.exceptions import ClientError
from pulumi.output import Unknown
from pulumi.runtime import rpc

from layersmith.aws.clients import Caller
from layersmith.aws.grants import (
    PREFIX,
    Statement,
    VersionGone,
    VersionPolicy,
    describe_statements,
    desired_statements,
)
from layersmith.errors import AwsError
from layersmith.infra.grants import GrantError, LayerGrantsProvider
from layersmith.model import ShareWith

ACCOUNT, REGION, LAYER = "111111111111", "eu-west-1", "layersmith-prod-utils"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{LAYER}"
A, B, ORG = "222222222222", "333333333333", "o-exampleorg01"
WANTED = desired_statements(ShareWith(accounts=(A, B), organizations=(ORG,), public=False))
GET = "lambda:GetLayerVersion"


def lambda_with(versions: int = 1) -> FakeLambda:
    fake = FakeLambda(ACCOUNT, REGION)
    for _ in range(versions):
        fake.publish(LAYER)
    return fake


def owner(fake: Any, version: int = 1, arn: str = ARN) -> VersionPolicy:
    return VersionPolicy(fake, arn, version, Caller(sleep=lambda _s: None))


def seed(fake: FakeLambda, version: int, *statements: dict[str, Any]) -> None:
    """A policy as some other writer left it (any shape the policy language allows)."""
    fake.policies[(LAYER, version)] = {"Policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
                                       "RevisionId": "seeded"}


def held(fake: FakeLambda, version: int = 1) -> list[dict[str, Any]]:
    policy = fake.policies.get((LAYER, version))
    return sorted(json.loads(policy["Policy"])["Statement"], key=lambda s: s["Sid"]) if policy else []


def mutations(fake: FakeLambda) -> list[str]:
    return [c for c in fake.calls if c.startswith(("Add", "Remove"))]


# --- reading the policy: every shape AWS (or another writer) leaves a grant in ----------------------

@pytest.mark.parametrize("principal", [
    {"AWS": f"arn:aws:iam::{A}:root"},  # how AddLayerVersionPermission writes an account
    {"AWS": [f"arn:aws:iam::{A}:root"]},  # a one-element list: the same grant
    f"arn:aws:iam::{A}:root",  # a bare string principal
    {"AWS": A},  # the account id itself
    {"AWS": f"arn:aws-cn:iam::{A}:root"},  # another partition
])
def test_a_grant_in_any_equivalent_shape_is_adopted_not_rewritten(principal: object) -> None:
    fake = lambda_with()
    seed(fake, 1, {"Sid": f"{PREFIX}account-{A}", "Effect": "Allow", "Action": GET, "Principal": principal})
    changes = owner(fake).reconcile(WANTED[:1])
    assert changes.adopted == (f"{PREFIX}account-{A}",) and mutations(fake) == []


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:PrincipalOrgID": ORG}},
    {"StringEquals": {"aws:PrincipalOrgID": [ORG]}},
])
def test_an_org_grant_with_its_condition_as_a_string_or_a_list_is_adopted(condition: dict[str, Any]) -> None:
    fake = lambda_with()
    seed(fake, 1, {"Sid": f"{PREFIX}org-{ORG}", "Effect": "Allow", "Action": [GET], "Principal": "*",
                   "Condition": condition})
    changes = owner(fake).reconcile([Statement(f"{PREFIX}org-{ORG}", "*", ORG)])
    assert changes.adopted == (f"{PREFIX}org-{ORG}",) and mutations(fake) == []


@pytest.mark.parametrize("statement", [
    {"Effect": "Deny", "Action": GET, "Principal": {"AWS": f"arn:aws:iam::{A}:root"}},  # a Deny
    {"Effect": "Allow", "Action": "lambda:*", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}},  # another action
    {"Effect": "Allow", "Action": GET, "Principal": {"AWS": f"arn:aws:iam::{A}:role/reader"}},  # a role
    {"Effect": "Allow", "Action": GET, "Principal": {"AWS": [f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:root"]}},
    {"Effect": "Allow", "Action": GET, "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
     "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}},  # narrowed to an organization
    {"Effect": "Allow", "Action": GET, "Principal": {"AWS": f"{A}:root"}},  # not an ARN
])
def test_an_owned_statement_that_grants_something_else_is_replaced(statement: dict[str, Any]) -> None:
    fake = lambda_with()
    seed(fake, 1, {"Sid": f"{PREFIX}account-{A}", **statement})
    changes = owner(fake).reconcile(WANTED[:1])
    assert changes.removed == changes.added == (f"{PREFIX}account-{A}",)
    assert held(fake) == [{"Sid": f"{PREFIX}account-{A}", "Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::{A}:root"}, "Action": GET, "Resource": f"{ARN}:1"}]


def test_a_statement_without_effect_is_an_allow_and_one_without_a_sid_is_foreign() -> None:
    fake = lambda_with()
    nameless = {"Effect": "Allow", "Action": GET, "Principal": "*"}
    seed(fake, 1, {"Sid": f"{PREFIX}account-{A}", "Action": GET, "Principal": {"AWS": f"arn:aws:iam::{A}:root"}},
         nameless)
    changes = owner(fake).reconcile(WANTED[:1])
    assert changes.adopted == (f"{PREFIX}account-{A}",) and mutations(fake) == []
    assert owner(fake).revoke_all() == (f"{PREFIX}account-{A}",)
    assert json.loads(fake.policies[(LAYER, 1)]["Policy"])["Statement"] == [nameless]


def test_owned_lists_an_owned_statement_that_is_not_a_plain_grant_with_an_unknown_principal() -> None:
    fake = lambda_with()
    seed(fake, 1, {"Sid": f"{PREFIX}account-{A}", "Effect": "Deny", "Action": GET, "Principal": "*"},
         {"Sid": "manual", "Effect": "Allow", "Action": GET, "Principal": "*"})
    assert owner(fake).owned() == [Statement(f"{PREFIX}account-{A}", "?")]


def test_a_version_without_a_policy_owns_nothing_and_revokes_nothing() -> None:
    fake = lambda_with()
    assert owner(fake).owned() == [] and owner(fake).revoke_all() == ()
    assert fake.calls == ["GetLayerVersionPolicy", "GetLayerVersion"] * 2 and fake.policies == {}


# --- writing: the exact permissions AWS is asked for ---------------------------------------------

def test_reconcile_writes_exactly_the_statements_aws_documents() -> None:
    fake = lambda_with()
    public = Statement(f"{PREFIX}public", "*")
    owner(fake).reconcile([*WANTED, public])
    assert held(fake) == [
        {"Sid": f"{PREFIX}account-{A}", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
         "Action": GET, "Resource": f"{ARN}:1"},
        {"Sid": f"{PREFIX}account-{B}", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
         "Action": GET, "Resource": f"{ARN}:1"},
        {"Sid": f"{PREFIX}org-{ORG}", "Effect": "Allow", "Principal": "*", "Action": GET,
         "Resource": f"{ARN}:1", "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}},
        {"Sid": f"{PREFIX}public", "Effect": "Allow", "Principal": "*", "Action": GET, "Resource": f"{ARN}:1"},
    ]


def test_an_account_grant_sends_no_organization_id() -> None:
    """boto3 refuses `OrganizationId=None` (ParamValidationError), so an account grant omits it."""
    fake = lambda_with()
    sent: list[dict[str, Any]] = []
    real_add = fake.add_layer_version_permission

    def add(**kwargs: Any) -> dict[str, Any]:
        sent.append(kwargs)
        return real_add(**kwargs)

    fake.add_layer_version_permission = add  # type: ignore[method-assign]
    owner(fake).reconcile(WANTED)
    assert sent == [
        {"LayerName": ARN, "VersionNumber": 1, "StatementId": f"{PREFIX}account-{A}", "Action": GET, "Principal": A},
        {"LayerName": ARN, "VersionNumber": 1, "StatementId": f"{PREFIX}account-{B}", "Action": GET, "Principal": B},
        {"LayerName": ARN, "VersionNumber": 1, "StatementId": f"{PREFIX}org-{ORG}", "Action": GET, "Principal": "*",
         "OrganizationId": ORG},
    ]


def test_a_statement_removed_concurrently_is_success() -> None:
    """Both owners of a version (current and pinned) may revoke the same dropped grant at once."""
    fake = lambda_with()
    owner(fake).reconcile(WANTED)
    real_remove = fake.remove_layer_version_permission

    def racing_remove(**kwargs: Any) -> dict[str, Any]:
        real_remove(**kwargs)  # the other owner got there first ...
        return real_remove(**kwargs)  # ... so AWS answers ResourceNotFoundException to ours

    fake.remove_layer_version_permission = racing_remove  # type: ignore[method-assign]
    assert owner(fake).reconcile(WANTED[:1]).removed == (f"{PREFIX}account-{B}", f"{PREFIX}org-{ORG}")
    assert [s["Sid"] for s in held(fake)] == [f"{PREFIX}account-{A}"]


def test_a_conflicting_add_whose_statement_is_gone_again_is_an_error() -> None:
    """ResourceConflictException, then the statement is not there on a re-read: not what we want."""
    fake = lambda_with()

    def conflict(**_kwargs: Any) -> dict[str, Any]:
        raise client_error("ResourceConflictException", "AddLayerVersionPermission", "already exists")

    fake.add_layer_version_permission = conflict  # type: ignore[method-assign]
    with pytest.raises(AwsError) as err:
        owner(fake).reconcile(WANTED[:1])
    assert str(err.value) == (f"layer {LAYER} version 1: lambda:AddLayerVersionPermission: "
                              "ResourceConflictException: already exists")


# --- the one line a user sees ---------------------------------------------------------------------

@pytest.mark.parametrize(("operation", "action"), [
    ("GetLayerVersionPolicy", "GetLayerVersionPolicy"),
    ("AddLayerVersionPermission", "AddLayerVersionPermission"),
])
def test_access_denied_names_version_and_permission_and_what_to_do(operation: str, action: str) -> None:
    fake = lambda_with()
    fake.deny = {operation}
    with pytest.raises(AwsError) as err:
        owner(fake).reconcile(WANTED)
    assert str(err.value) == (f"layer {LAYER} version 1: access denied for lambda:{action}; grant it to the "
                              "credentials Pulumi runs with (aws:profile or the environment)")


def test_access_denied_on_the_existence_check_is_not_a_missing_version() -> None:
    fake = lambda_with()
    fake.deny = {"GetLayerVersion"}  # the policy is absent, so the owner asks whether the version exists
    with pytest.raises(AwsError) as err:
        owner(fake).reconcile(WANTED)
    assert type(err.value) is AwsError
    assert str(err.value).startswith(f"layer {LAYER} version 1: access denied for lambda:GetLayerVersion;")


def test_denied_removal_is_an_error_not_success() -> None:
    fake = lambda_with()
    owner(fake).reconcile(WANTED)
    fake.deny = {"RemoveLayerVersionPermission"}
    with pytest.raises(AwsError) as err:
        owner(fake).revoke_all()
    assert "access denied for lambda:RemoveLayerVersionPermission" in str(err.value)


def test_still_throttled_says_to_run_again_later() -> None:
    fake = lambda_with()
    fake.throttle = 100
    with pytest.raises(AwsError) as err:
        owner(fake).reconcile(WANTED)
    assert str(err.value) == (f"layer {LAYER} version 1: still throttled (TooManyRequestsException) after "
                              "retries; run pulumi up again later")


def test_any_other_aws_error_keeps_its_code_and_message_on_one_line() -> None:
    fake = lambda_with()

    def invalid(**_kwargs: Any) -> dict[str, Any]:
        raise client_error("InvalidParameterValueException", "GetLayerVersionPolicy", "bad layer name")

    fake.get_layer_version_policy = invalid  # type: ignore[method-assign]
    with pytest.raises(AwsError) as err:
        owner(fake).reconcile(WANTED)
    assert str(err.value) == (f"layer {LAYER} version 1: lambda:GetLayerVersionPolicy: "
                              "InvalidParameterValueException: bad layer name")


def test_a_missing_version_says_what_to_do() -> None:
    with pytest.raises(VersionGone) as err:
        owner(lambda_with(), 4).reconcile(WANTED)
    assert str(err.value) == (f"layer {LAYER} version 4 does not exist; it was deleted outside Pulumi or never "
                              "published: remove the pin naming it, or run pulumi refresh")


def test_an_arn_that_names_no_layer_is_shown_as_given() -> None:
    with pytest.raises(VersionGone) as err:
        owner(lambda_with(), 1, arn="not-an-arn").reconcile(WANTED)
    assert str(err.value).startswith("layer not-an-arn version 1 does not exist;")


def test_grants_are_described_as_plan_and_inventory_show_them() -> None:
    public = Statement(f"{PREFIX}public", "*")
    assert describe_statements([*WANTED, public]) == [f"account {A}", f"account {B}", f"org {ORG}", "PUBLIC"]


def test_statement_props_round_trip_and_an_empty_organization_is_none() -> None:
    org = Statement(f"{PREFIX}org-{ORG}", "*", ORG)
    assert org.to_props() == {"sid": f"{PREFIX}org-{ORG}", "principal": "*", "organizationId": ORG}
    assert Statement.from_props(org.to_props()) == org
    assert Statement.from_props({"sid": "s", "principal": A, "organizationId": ""}) == Statement("s", A)
    assert Statement.from_props({"sid": "s", "principal": A}) == Statement("s", A)  # older state: no key


# --- the provider, in-process, with the bags the engine sends -------------------------------------

class _Provider(LayerGrantsProvider):
    def __init__(self, fake: Any) -> None:
        super().__init__()
        self.fake = fake

    def client(self, layer_arn: str) -> Any:
        return self.fake


def bag(version: Any = 1.0, retain: bool = False, statements: list[Statement] = WANTED) -> dict[str, Any]:
    """Inputs as the host deserializes them: the Struct's numbers are floats."""
    return {"layerArn": ARN, "version": version, "retain": retain, "action": GET,
            "statements": [s.to_props() for s in statements]}


def outs(version: int = 1, retain: bool = False, statements: list[Statement] = WANTED) -> dict[str, Any]:
    return {"layerArn": ARN, "version": version, "retain": retain, "action": GET,
            "statements": [s.to_props() for s in statements]}


def test_create_names_the_version_and_outputs_the_grants() -> None:
    fake = lambda_with()
    result = _Provider(fake).create({**bag(), "retain": None})  # older programs sent no retain
    assert result.id == f"{ARN}:1"
    assert result.outs == outs()
    assert [s["Sid"] for s in held(fake)] == [s.sid for s in WANTED]


def test_update_reconciles_to_the_new_principals() -> None:
    fake = lambda_with()
    provider = _Provider(fake)
    provider.create(bag())
    result = provider.update(f"{ARN}:1", outs(), bag(statements=WANTED[:1], retain=True))
    assert result.outs == outs(statements=WANTED[:1], retain=True)
    assert [s["Sid"] for s in held(fake)] == [WANTED[0].sid]


def test_secret_inputs_stay_secret_in_the_outputs_and_nothing_else_becomes_secret() -> None:
    fake = lambda_with()
    provider = _Provider(fake)
    secret = {**bag(), "statements": rpc.wrap_rpc_secret(bag()["statements"])}
    created = provider.create(secret)
    assert created.id == f"{ARN}:1"
    assert created.outs == {**outs(), "statements": rpc.wrap_rpc_secret(outs()["statements"])}
    assert [s["Sid"] for s in held(fake)] == [s.sid for s in WANTED]
    updated = provider.update(created.id, created.outs or {}, {**bag(), "layerArn": rpc.wrap_rpc_secret(ARN)})
    assert updated.outs == {**outs(), "layerArn": rpc.wrap_rpc_secret(ARN)}
    read = provider.read(created.id, created.outs or {})
    assert read.id == created.id and read.outs == created.outs


def test_read_of_a_gone_version_is_an_empty_id_and_no_outputs() -> None:
    fake = lambda_with()
    provider = _Provider(fake)
    created = provider.create(bag())
    fake.delete_layer_version(LayerName=LAYER, VersionNumber=1)
    gone = provider.read(created.id, created.outs or {})
    assert gone.id == "" and gone.outs == {}


def test_delete_of_an_unretained_version_already_gone_is_success() -> None:
    fake = lambda_with()
    provider = _Provider(fake)
    provider.create(bag())
    fake.delete_layer_version(LayerName=LAYER, VersionNumber=1)
    provider.delete(f"{ARN}:1", outs())
    assert mutations(fake) == ["AddLayerVersionPermission"] * 3


def test_delete_of_a_retained_version_calls_nothing() -> None:
    fake = lambda_with()
    provider = _Provider(fake)
    provider.create(bag())
    fake.calls.clear()
    provider.delete(f"{ARN}:1", outs(retain=True))
    assert fake.calls == []


def test_a_layersmith_error_is_the_last_line_without_the_aws_cause() -> None:
    fake = lambda_with()
    fake.deny = {"GetLayerVersionPolicy"}
    with pytest.raises(GrantError) as err:
        _Provider(fake).update(f"{ARN}:1", outs(), bag())
    assert str(err.value) == (f"layersmith: layer {LAYER} version 1: access denied for "
                              "lambda:GetLayerVersionPolicy; grant it to the credentials Pulumi runs with "
                              "(aws:profile or the environment)")
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_a_bug_is_one_line_naming_the_operation_and_the_resource() -> None:
    """State with a statement lacking its sid (what `test_an_error_in_diff_is_one_line_naming_the_resource`
    sends through the host); the version a float as the Struct carries it."""
    broken = {**outs(), "version": 1.0, "statements": [{"principal": A}]}
    with pytest.raises(GrantError) as err:
        LayerGrantsProvider().diff(f"{ARN}:1", broken, bag())
    assert str(err.value) == (f"layersmith: LayerGrants diff of {ARN} version 1: KeyError: 'sid'; this is a bug "
                              "in layersmith: report it with this line")
    assert err.value.__cause__ is None and err.value.__suppress_context__


# --- check and diff, as the host calls them (unknowns kept) ----------------------------------------

def failures(news: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f.property, f.reason) for f in LayerGrantsProvider().check({}, news).failures]


def test_check_hands_unknowns_back_as_the_wire_sentinel_and_keeps_secrets_wrapped() -> None:
    """`rpc.serialize_property` does not know `Unknown`: the inputs go back with the sentinel."""
    news = {**bag(Unknown()), "layerArn": rpc.wrap_rpc_secret(ARN),
            "statements": [Unknown(), {"sid": Unknown(), "principal": A}]}
    result = LayerGrantsProvider().check({}, news)
    assert result.failures == []
    assert result.inputs == {**bag(rpc.UNKNOWN), "layerArn": rpc.wrap_rpc_secret(ARN),
                             "statements": [rpc.UNKNOWN, {"sid": rpc.UNKNOWN, "principal": A}]}
    assert failures({**bag(), "statements": Unknown()}) == []  # the whole list not known yet


def test_check_failures_say_what_is_wrong_with_the_arn() -> None:
    assert failures({**bag(), "layerArn": "utils"}) == [("layerArn", "'utils' is not a layer ARN")]
    assert failures({**bag(), "layerArn": f"{ARN}:3"}) == [
        ("layerArn", f"{ARN}:3 must be unversioned (the version is separate)")]
    assert failures({**bag(), "layerArn": rpc.wrap_rpc_secret(f"{ARN}:3")})[0][0] == "layerArn"  # secret: checked
    assert failures({**bag(), "layerArn": Unknown()}) == []


@pytest.mark.parametrize("sid", ["account-1", f"{PREFIX}a b", f"{PREFIX}{'x' * (101 - len(PREFIX))}", ""])
def test_check_refuses_a_statement_id_lambda_would_refuse_or_we_do_not_own(sid: str) -> None:
    assert failures({**bag(), "statements": [{"sid": sid, "principal": A}]}) == [
        ("statements", f"statement id {sid!r} must match [A-Za-z0-9_-]{{1,100}} and start with 'layersmith-'")]


def test_check_accepts_the_longest_statement_id_lambda_accepts_and_refuses_a_malformed_list() -> None:
    longest = f"{PREFIX}{'x' * (100 - len(PREFIX))}"
    assert failures({**bag(), "statements": [{"sid": longest, "principal": A}]}) == []
    assert failures({**bag(), "statements": None}) == []  # no statements: nothing shared
    assert failures({**bag(), "statements": ["x"]}) == [
        ("statements", "statement id '' must match [A-Za-z0-9_-]{1,100} and start with 'layersmith-'")]
    assert failures({**bag(), "statements": 5.0}) == [
        ("statements", "must be a list of {sid, principal, organizationId}, not float")]


def test_check_refuses_a_known_bad_statement_next_to_one_still_unknown() -> None:
    statements = [Unknown(), {"principal": A}, {"sid": "manual", "principal": B}]
    assert failures({**bag(), "statements": statements}) == [
        ("statements", "statement id '' must match [A-Za-z0-9_-]{1,100} and start with 'layersmith-'"),
        ("statements", "statement id 'manual' must match [A-Za-z0-9_-]{1,100} and start with 'layersmith-'")]


def test_diff_against_state_from_older_releases() -> None:
    """State may lack `retain` or hold the version as a float; neither is a change by itself."""
    provider = LayerGrantsProvider()
    older = {k: v for k, v in outs().items() if k != "retain"}
    same = provider.diff(f"{ARN}:1", {**older, "version": 1.0}, bag(1.0))
    assert (same.changes, same.replaces, same.delete_before_replace) == (False, [], True)
    retained = provider.diff(f"{ARN}:1", older, bag(retain=True))
    assert (retained.changes, retained.replaces) == (True, [])
    assert provider.diff(f"{ARN}:1", {**older, "version": None}, bag()).replaces == ["version"]


def test_diff_of_unknown_statements_or_layer_in_preview() -> None:
    provider = LayerGrantsProvider()
    statements = provider.diff(f"{ARN}:1", outs(), {**bag(), "statements": [Unknown()]})
    assert (statements.changes, statements.replaces) == (True, [])
    layer = provider.diff(f"{ARN}:1", outs(), {**bag(), "layerArn": Unknown()})
    assert (layer.changes, layer.replaces) == (True, ["layerArn"])
    both = provider.diff(f"{ARN}:1", outs(), {**bag(2.0), "layerArn": f"{ARN}-x"})
    assert both.replaces == ["layerArn", "version"]


def test_diff_sees_through_secrets() -> None:
    secret = {**bag(), "statements": rpc.wrap_rpc_secret(bag()["statements"])}
    assert LayerGrantsProvider().diff(f"{ARN}:1", outs(), secret).changes is False


# --- the provider's own Lambda client: the credentials, region and retries AWS sees ----------------

class _Endpoint(http.server.BaseHTTPRequestHandler):
    """Answers every Lambda call with 429 TooManyRequestsException and records its Authorization
    header (`Credential=<key id>/<date>/<region>/lambda/aws4_request`): what AWS would see."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        body = json.dumps({"message": "Rate exceeded"}).encode()
        self.send_response(429)
        self.send_header("x-amzn-ErrorType", "TooManyRequestsException")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (tmp_path / "config").write_text("[profile team]\nregion = us-east-2\n", encoding="utf-8")
    (tmp_path / "credentials").write_text("[team]\naws_access_key_id = AKIATEAMTEAMTEAM\n"
                                          "aws_secret_access_key = team-secret\n", encoding="utf-8")
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADEFAULTCHAIN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "default-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    _Endpoint.seen = []
    yield _Endpoint.seen
    server.shutdown()
    thread.join()


def configured(config: dict[str, Any]) -> LayerGrantsProvider:
    """Configured as the host does it: the stack's config in a `pulumi.dynamic.Config`."""
    provider = LayerGrantsProvider()
    provider.configure(dynamic.ConfigureRequest(dynamic.Config(config, "layersmith")))
    return provider


@pytest.mark.parametrize(("config", "key"), [
    ({"aws:profile": "team", "aws:region": "us-east-2"}, "AKIATEAMTEAMTEAM"),
    ({"aws:region": REGION}, "AKIADEFAULTCHAIN"),
    ({"aws:profile": ""}, "AKIADEFAULTCHAIN"),
])
def test_the_client_signs_with_the_stacks_profile_in_the_layers_region_and_makes_one_attempt(
        endpoint: list[str], config: dict[str, Any], key: str) -> None:
    """botocore's own retries are off (`BOTO_CONFIG`): `Caller` retries, so a throttled call is
    exactly one request per attempt."""
    with pytest.raises(ClientError):
        configured(config).client(ARN).get_layer_version(LayerName=ARN, VersionNumber=1)
    assert len(endpoint) == 1
    assert f"Credential={key}/" in endpoint[0] and f"/{REGION}/lambda/aws4_request" in endpoint[0]


def test_a_profile_missing_from_the_aws_config_is_one_line_saying_what_to_fix(endpoint: list[str]) -> None:
    with pytest.raises(GrantError) as err:
        configured({"aws:profile": "nope"}).create(bag())
    assert str(err.value) == ("layersmith: aws:profile 'nope' is not in your AWS config files; fix the stack's "
                              "aws:profile or run aws configure --profile with that name")
    assert endpoint == []
