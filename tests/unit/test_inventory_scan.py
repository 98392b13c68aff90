"""The scanner and the AWS seam with fakes: name matching, pagination, aliases, shares, and every
failure the issue names (no credentials, unknown region, unassumable role, throttling) as one line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_fakes import FakeFactory, client_error
from botocore.exceptions import NoCredentialsError

from layersmith.aws.clients import Boto3ClientFactory, Caller, check_accounts, check_regions
from layersmith.aws.inventory import LayerMatcher, parse_shares, scan
from layersmith.aws.records import LayerRef
from layersmith.aws.report import inventory_json, render_inventory
from layersmith.errors import AwsError, UserError

HOME, OTHER, THIRD = "111111111111", "222222222222", "333333333333"
MATCHER = LayerMatcher({"layersmith-dev": ("dev",), "layersmith-dev-eu": ("dev-eu",)},
                       ["utils", "data-science", "data"])


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def test_matcher_recognises_portable_and_native_names_with_the_longest_prefix() -> None:
    assert MATCHER.match("layersmith-dev-utils") == LayerRef(("dev",), "layersmith-dev", "utils", "any")
    assert MATCHER.match("layersmith-dev-data-science-py312-arm64") == LayerRef(
        ("dev",), "layersmith-dev", "data-science", "py312-arm64")
    assert MATCHER.match("layersmith-dev-eu-utils") == LayerRef(("dev-eu",), "layersmith-dev-eu", "utils", "any")
    assert MATCHER.match("layersmith-dev-data-py311-x86_64") is not None
    for foreign in ("layersmith-dev-pandas", "layersmith-prod-utils", "layersmith-dev-utils-extra",
                    "layersmith-dev-data-science-py312-sparc", "other-layersmith-dev-utils"):
        assert MATCHER.match(foreign) is None, foreign


def test_parse_shares_reads_accounts_orgs_and_public() -> None:
    policy = ('{"Statement": [{"Effect": "Allow", "Principal": "222222222222"},'
              '{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::333333333333:root"}},'
              '{"Effect": "Allow", "Principal": "*", "Condition": {"StringEquals": '
              '{"aws:PrincipalOrgID": "o-abcdefghij"}}}, {"Effect": "Allow", "Principal": "*"}]}')
    assert parse_shares(policy) == ("222222222222", "333333333333", "org:o-abcdefghij", "public")


def test_unmanaged_shares_are_those_without_the_layersmith_prefix() -> None:
    policy = json.dumps({"Statement": [
        {"Sid": "layersmith-account-222222222222", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::222222222222:root"}},
        {"Sid": "account-333333333333", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::333333333333:root"}},
        {"Sid": "manual", "Effect": "Allow", "Principal": "*"}]})
    assert parse_shares(policy) == ("222222222222", "333333333333", "public")
    assert parse_shares(policy, unmanaged_only=True) == ("333333333333", "public")


def test_inventory_marks_grants_layersmith_does_not_own() -> None:
    factory = _two_accounts()  # shares utils v1 with OTHER by a statement without an id
    inv = scan(factory, [], ["eu-west-1"], MATCHER, call=Caller(sleep=Sleeps()))
    assert inv.versions[2].shared_unmanaged == (OTHER,)
    text = render_inventory(inv)
    assert f"{OTHER}*" in text and "granted by a statement layersmith does not own" in text
    assert inventory_json(inv)["versions"][2]["shared_unmanaged"] == [OTHER]


def _two_accounts() -> FakeFactory:
    factory = FakeFactory(HOME)
    home = factory.add(HOME, "eu-west-1")
    for _ in range(3):
        home.publish("layersmith-dev-utils", size=2048)
    home.publish("someone-elses-layer")
    home.share("layersmith-dev-utils", 1, OTHER)
    home.attach("layersmith-dev-api", "$LATEST", home.arn("layersmith-dev-utils", 3))
    home.attach("layersmith-dev-api", "4", home.arn("layersmith-dev-utils", 2), home.arn("someone-elses-layer", 1))
    home.aliases["layersmith-dev-api"] = [{"Name": "live", "FunctionVersion": "4"}]
    other = factory.add(OTHER, "eu-west-1")
    other.attach("billing", "7", home.arn("layersmith-dev-utils", 1))
    other.attach("unrelated", "$LATEST")
    return factory


def test_scan_finds_versions_and_every_kind_of_attachment_across_accounts() -> None:
    inv = scan(_two_accounts(), [OTHER], ["eu-west-1"], MATCHER, call=Caller(sleep=Sleeps()))
    assert [(v.name, v.version, v.code_size) for v in inv.versions] == [
        ("layersmith-dev-utils", 3, 2048), ("layersmith-dev-utils", 2, 2048), ("layersmith-dev-utils", 1, 2048)]
    assert inv.versions[2].shared_with == (OTHER,)
    used = {(a.target.account, a.function, a.kind, a.qualifier, a.layer_version_arn[-1]) for a in inv.attachments}
    assert used == {(HOME, "layersmith-dev-api", "function", "$LATEST", "3"),
                    (HOME, "layersmith-dev-api", "version", "4", "2"),
                    (HOME, "layersmith-dev-api", "alias", "live", "2"),
                    (OTHER, "billing", "version", "7", "1")}
    assert inv.failures == ()
    text = render_inventory(inv)
    assert "layersmith-dev-api alias live→4" in text and f"{OTHER}/eu-west-1 billing:7" in text


def test_an_unassumable_role_fails_that_account_only() -> None:
    factory = _two_accounts()
    factory.unassumable.add(THIRD)
    inv = scan(factory, [OTHER, THIRD], ["eu-west-1", "us-east-1"], MATCHER)
    assert [(f.account, f.region) for f in inv.failures] == [(THIRD, None)]
    assert len(inv.versions) == 3


def test_throttling_is_retried_a_bounded_number_of_times() -> None:
    factory = _two_accounts()
    factory.lambdas[(HOME, "eu-west-1")].throttle = 3
    sleeps = Sleeps()
    inv = scan(factory, [], ["eu-west-1"], MATCHER, call=Caller(attempts=5, sleep=sleeps))
    assert inv.failures == () and len(inv.versions) == 3 and len(sleeps.delays) == 3
    assert all(0 <= d <= 8 for d in sleeps.delays)


def test_persistent_throttling_fails_the_region_with_one_line() -> None:
    factory = _two_accounts()
    factory.lambdas[(OTHER, "eu-west-1")].throttle = 100
    inv = scan(factory, [OTHER], ["eu-west-1"], MATCHER, call=Caller(attempts=4, sleep=Sleeps()))
    assert factory.lambdas[(OTHER, "eu-west-1")].calls == ["ListLayers"] * 4
    (failure,) = inv.failures
    assert (failure.account, failure.region) == (OTHER, "eu-west-1")
    assert failure.message == ("lambda:ListLayers: still throttled (TooManyRequestsException) after retries; "
                               "retry later or scan fewer accounts/regions")


def test_no_credentials_raises_one_line_before_scanning() -> None:
    factory = _two_accounts()
    factory.no_credentials = True
    with pytest.raises(AwsError, match=r"^no AWS credentials found; configure them"):
        scan(factory, [], ["eu-west-1"], MATCHER)
    assert all(not fake.calls for fake in factory.lambdas.values())


def test_unknown_region_and_bad_account_are_user_errors() -> None:
    with pytest.raises(UserError, match=r"unknown region 'eu-wset-1'.*did you mean eu-west-1"):
        check_regions(["eu-west-1", "eu-wset-1"])
    assert check_regions(["eu-west-1", "cn-north-1"]) == ["eu-west-1", "cn-north-1"]
    with pytest.raises(UserError, match="'12345' is not a 12-digit"):
        check_accounts(["12345"])


class FakeSts:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get_caller_identity(self) -> dict[str, Any]:
        if isinstance(self.error, NoCredentialsError):
            raise self.error
        return {"Account": HOME, "Arn": f"arn:aws:iam::{HOME}:user/ops"}

    def assume_role(self, **kw: Any) -> dict[str, Any]:
        assert kw["RoleArn"] == f"arn:aws:iam::{THIRD}:role/readers"
        raise self.error or AssertionError


class FakeSession:
    region_name = "eu-west-1"

    def __init__(self, error: Exception | None) -> None:
        self.sts = FakeSts(error)

    def client(self, service: str, **kw: Any) -> Any:
        assert service == "sts"
        return self.sts


def test_boto3_factory_turns_a_denied_assume_role_into_one_line() -> None:
    factory = Boto3ClientFactory("readers", session=FakeSession(client_error("AccessDenied", "AssumeRole")))
    with pytest.raises(AwsError) as info:
        factory.lambda_client(THIRD, "eu-west-1")
    assert info.value.render() == (f"cannot assume arn:aws:iam::{THIRD}:role/readers: access denied; check that "
                                   f"the role exists in {THIRD} and trusts your identity, or pass --role-name")


def test_boto3_factory_without_credentials_says_how_to_configure_them() -> None:
    factory = Boto3ClientFactory("readers", session=FakeSession(NoCredentialsError()))
    with pytest.raises(AwsError, match=r"^no AWS credentials found; configure them"):
        factory.home_account()
