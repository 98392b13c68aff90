"""`layersmith inventory` / `prune` against moto_server on 127.0.0.1, two accounts (the second through
an assumed role), real boto3 pointed at it with the native `AWS_ENDPOINT_URL`.

World (eu-west-1):
  home account (dev stack's layers):
    layersmith-dev-utils v1..v5                  v1 shared with OTHER and attached only there
    layersmith-dev-data-science-py312-x86_64 v1..v3
    layersmith-dev-api: $LATEST → utils:5 + ds:3; published version 1 → utils:4, alias live → 1
    someone-elses-layer v1..v2                   (not ours: never listed, never deleted)
  OTHER account (prod stack's layers):
    layersmith-prod-utils v1..v3                 v2 pinned by Pulumi.prod.yaml (api → utils: 2)
    billing: published version 1 → home's layersmith-dev-utils:1
With --keep 1 prune deletes dev-utils 3, 2; dev-ds 2, 1; prod-utils 1 — and nothing else; with a
consumer stack (Pulumi.consumer.yaml, consuming dev) pinning utils: 2, dev-utils 2 is kept too.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto_layers import REGION, Account, _Raw, cross_account_layers, deny_assume_role, moto_server, reset, throttle

from layersmith.aws.clients import Boto3ClientFactory, Caller, ClientFactory
from layersmith.cli import build_parser, main
from layersmith.commands import inventory as inventory_cmd
from layersmith.commands import prune as prune_cmd
from layersmith.errors import AwsError

OTHER, THIRD = "210987654321", "333333333333"
NO_WAIT = Caller(sleep=lambda _: None)
EXPECTED_DELETIONS = {
    "layersmith-dev-utils:3", "layersmith-dev-utils:2", "layersmith-dev-data-science-py312-x86_64:2",
    "layersmith-dev-data-science-py312-x86_64:1", "layersmith-prod-utils:1"}

STACK_FILES = {
    "Pulumi.yaml": "name: layersmith\nruntime: python\n",
    "Pulumi.dev.yaml": "config:\n  aws:region: eu-west-1\n",
    "Pulumi.prod.yaml": "config:\n  aws:region: eu-west-1\n  layersmith:pins:\n    api:\n      utils: 2\n"
                        "      data-science: 1\n",
    "layers/utils/layer.toml": 'description = "shared code"\nruntimes = ["python3.12"]\n'
                               'architectures = ["x86_64"]\nsource = "src"\nportable = true\n',
    "layers/utils/src/shared_utils/__init__.py": "",
    "layers/data-science/layer.toml": 'description = "pandas"\nruntimes = ["python3.12"]\n'
                                      'architectures = ["x86_64"]\nrequirements = "requirements.txt"\n',
    "layers/data-science/requirements.txt": "",
    "functions/api/function.toml": 'handler = "handler.handler"\nruntime = "python3.12"\n'
                                   'layers = ["utils", "data-science"]\n',
}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with cross_account_layers(), moto_server() as url:
        yield url


@pytest.fixture
def aws_env(endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN",
                "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # boto3 honours it natively, for every service
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    reset(endpoint)
    return endpoint


@pytest.fixture
def world(aws_env: str) -> dict[str, Account]:
    home = Account(boto3.Session(region_name=REGION))
    other = Account.assumed(home.session, OTHER)
    utils = home.publish("layersmith-dev-utils", 5, runtimes=("python3.11", "python3.12"),
                         architectures=("x86_64", "arm64"))
    ds = home.publish("layersmith-dev-data-science-py312-x86_64", 3)
    home.publish("someone-elses-layer", 2)
    home.share("layersmith-dev-utils", 1, OTHER)
    home.function("layersmith-dev-api", [utils[3], ds[2]])
    home.publish_function("layersmith-dev-api")  # version 1: utils:4
    home.lam.create_alias(FunctionName="layersmith-dev-api", Name="live", FunctionVersion="1")
    home.lam.update_function_configuration(FunctionName="layersmith-dev-api", Layers=[utils[4], ds[2]])
    other.publish("layersmith-prod-utils", 3)
    other.function("billing", [utils[0]])
    other.publish_function("billing")  # version 1 is the only one attaching utils:1 ...
    other.lam.update_function_configuration(FunctionName="billing", Layers=[])  # ... $LATEST drops it
    return {"home": home, "other": other}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for rel, text in STACK_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def args_for(project: Path, *argv: str) -> argparse.Namespace:
    args = build_parser().parse_args(["--project", str(project), *argv])
    args.project = args.project.resolve()
    return args


def remaining(world: dict[str, Account]) -> dict[str, list[int]]:
    home, other = world["home"], world["other"]
    return {name: home.versions(name) for name in
            ("layersmith-dev-utils", "layersmith-dev-data-science-py312-x86_64", "someone-elses-layer")} | {
        "layersmith-prod-utils": other.versions("layersmith-prod-utils")}


ALL_THERE = {"layersmith-dev-utils": [1, 2, 3, 4, 5], "layersmith-dev-data-science-py312-x86_64": [1, 2, 3],
             "someone-elses-layer": [1, 2], "layersmith-prod-utils": [1, 2, 3]}


def test_the_seed_really_attaches_across_accounts(world: dict[str, Account]) -> None:
    (v1,) = [f for f in world["other"].lam.list_versions_by_function(FunctionName="billing")["Versions"]
             if f["Version"] == "1"]
    assert v1["Layers"][0]["Arn"] == f"arn:aws:lambda:{REGION}:{world['home'].id}:layer:layersmith-dev-utils:1"


def test_inventory_json_shows_versions_users_pins_and_unused(world: dict[str, Account], project: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--project", str(project), "inventory", "--accounts", OTHER, "--json")
    assert code == 0, err
    data = json.loads(out)
    by = {f"{v['name']}:{v['version']}": v for v in data["versions"]}
    assert set(by) == {f"layersmith-dev-utils:{n}" for n in range(1, 6)} | {
        f"layersmith-dev-data-science-py312-x86_64:{n}" for n in range(1, 4)} | {
        f"layersmith-prod-utils:{n}" for n in range(1, 4)}
    assert [(u["account"], u["function"], u["kind"], u["qualifier"]) for u in by["layersmith-dev-utils:1"]["used_by"]] \
        == [(OTHER, "billing", "version", "1")]
    assert by["layersmith-dev-utils:1"]["shared_with"] == [OTHER]
    assert {(u["kind"], u["qualifier"]) for u in by["layersmith-dev-utils:4"]["used_by"]} == {
        ("version", "1"), ("alias", "live")}
    assert by["layersmith-dev-utils:5"]["latest"] and by["layersmith-dev-utils:5"]["status"] == "in use"
    assert by["layersmith-prod-utils:2"]["pinned_by"] == ["prod:api"]
    assert by["layersmith-prod-utils:2"]["status"] == "pinned"
    assert {k for k, v in by.items() if v["status"] == "unused"} == EXPECTED_DELETIONS
    assert by["layersmith-dev-utils:3"]["runtimes"] == ["python3.11", "python3.12"]
    assert by["layersmith-dev-utils:3"]["code_size"] > 0 and by["layersmith-dev-utils:3"]["created"]
    assert "scanning 2 account(s) × 1 region(s): 2 scopes" in err  # progress on stderr
    assert f"{OTHER}/{REGION}: 3 layer versions, 1 attachments" in err


def test_inventory_text_is_grouped_per_layer_and_marks_unused(world: dict[str, Account], project: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--project", str(project), "inventory", "--accounts", OTHER)
    assert code == 0
    assert f"layersmith-dev-utils  (stack dev, layer utils, variant any) in {world['home'].id}/{REGION}" in out
    assert f"{OTHER}/{REGION} billing:1" in out and "layersmith-dev-api alias live→1" in out
    assert out.count("UNUSED") == 5 and "someone-elses-layer" not in out
    assert "11 versions of 3 layers" in out and "5 unused" in out


def test_dry_run_lists_exactly_the_unused_and_deletes_nothing(world: dict[str, Account], project: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--project", str(project), "prune", "--keep", "1", "--accounts", OTHER, "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert {f"{d['name']}:{d['version']}" for d in plan["delete"]} == EXPECTED_DELETIONS
    reasons = {f"{d['name']}:{d['version']}": d["reasons"] for d in plan["keep"]}
    assert reasons["layersmith-dev-utils:1"] == [f"attached to {OTHER}/{REGION} billing:1"]  # used only there
    assert reasons["layersmith-prod-utils:2"] == ["pinned by prod:api"]
    assert remaining(world) == ALL_THERE


def test_yes_deletes_exactly_what_the_dry_run_listed(world: dict[str, Account], project: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = cli(capsys, "--project", str(project), "prune", "--keep", "1", "--accounts", OTHER, "--json")
    listed = {d["arn"] for d in json.loads(out)["delete"]}
    code, out, err = cli(capsys, "--project", str(project), "prune", "--keep", "1", "--accounts", OTHER, "--yes")
    assert code == 0, err
    assert "deleted 5 of 5 planned version(s)" in out
    assert remaining(world) == {"layersmith-dev-utils": [1, 4, 5], "layersmith-dev-data-science-py312-x86_64": [3],
                                "someone-elses-layer": [1, 2], "layersmith-prod-utils": [2, 3]}
    gone = {a for a in listed if int(a.rsplit(":", 1)[1]) not in remaining(world)[a.split(":")[6]]}
    assert gone == listed and len(listed) == 5


# A consumer stack that publishes nothing and takes utils from the dev stack (StackReference): its pin is
# the only thing that protects dev-utils:2, which --keep 1 would otherwise delete.
CONSUMER = ("config:\n  aws:region: eu-west-1\n  layersmith:publish: []\n  layersmith:deploy:\n    - api\n"
            "  layersmith:consume:\n    stack: acme/layersmith/dev\n"
            "  layersmith:pins:\n    api:\n      utils: 2\n      data-science: 3\n")


def test_a_version_pinned_only_by_a_consumer_stack_survives_prune(world: dict[str, Account], project: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (project / "Pulumi.consumer.yaml").write_text(CONSUMER)
    argv = ("--project", str(project), "prune", "--keep", "1", "--accounts", OTHER)
    code, out, err = cli(capsys, *argv, "--json")
    assert code == 0, err
    plan = json.loads(out)
    reasons = {f"{d['name']}:{d['version']}": d["reasons"] for d in plan["keep"]}
    assert reasons["layersmith-dev-utils:2"] == ["pinned by consumer:api"]
    assert {f"{d['name']}:{d['version']}" for d in plan["delete"]} == EXPECTED_DELETIONS - {"layersmith-dev-utils:2"}
    code, out, err = cli(capsys, *argv, "--yes")
    assert code == 0, err
    assert "deleted 4 of 4 planned version(s)" in out
    # dev-utils:3, older than the kept newest and pinned by nobody, is gone; the consumer's :2 is not.
    assert remaining(world) == {"layersmith-dev-utils": [1, 2, 4, 5], "layersmith-dev-data-science-py312-x86_64": [3],
                                "someone-elses-layer": [1, 2], "layersmith-prod-utils": [2, 3]}


def test_the_other_account_unscanned_keeps_what_is_shared_with_it(world: dict[str, Account], project: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--project", str(project), "prune", "--keep", "1", "--stack", "dev", "--json")
    assert code == 0
    plan = json.loads(out)
    kept = {f"{d['name']}:{d['version']}": d["reasons"] for d in plan["keep"]}
    assert kept["layersmith-dev-utils:1"] == [f"shared with {OTHER}, not scanned (add to --accounts)"]
    assert not any(d["name"].startswith("layersmith-prod") for d in plan["delete"] + plan["keep"])


def _denying(role_account: str) -> Any:
    def make(args: argparse.Namespace, regions: list[str]) -> ClientFactory:
        session = boto3.Session(region_name=REGION)
        deny_assume_role(session, role_account)
        return Boto3ClientFactory(args.role_name, session=session, caller=NO_WAIT)

    return make


def test_an_unscannable_account_blocks_deletion_and_says_which(world: dict[str, Account], project: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    args = args_for(project, "prune", "--keep", "1", "--accounts", OTHER, THIRD, "--yes")
    with pytest.raises(AwsError) as info:
        prune_cmd.run(args, make_factory=_denying(THIRD))
    assert info.value.render() == (f"refusing to delete: could not scan {THIRD} (all regions), and a version "
                                   "may be in use there; fix access or leave it out of --accounts/--regions and "
                                   "re-run")
    assert remaining(world) == ALL_THERE
    err = capsys.readouterr().err
    assert (f"layersmith: error: could not scan {THIRD} (all regions): cannot assume "
            f"arn:aws:iam::{THIRD}:role/layersmith-inventory: access denied; check that the role exists in {THIRD} "
            "and trusts your identity, or pass --role-name\n") in err


def test_inventory_reports_the_unassumable_account_in_one_line_and_exits_1(
        world: dict[str, Account], project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = inventory_cmd.run(args_for(project, "inventory", "--accounts", OTHER, THIRD), _denying(THIRD))
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("layersmith:")]
    assert code == 1
    assert err_lines == [f"layersmith: error: could not scan {THIRD} (all regions): cannot assume "
                         f"arn:aws:iam::{THIRD}:role/layersmith-inventory: access denied; check that the role "
                         f"exists in {THIRD} and trusts your identity, or pass --role-name"]


def test_throttling_is_retried_then_reported_in_one_line(world: dict[str, Account], project: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    counters = []
    three_tries = Caller(attempts=3, sleep=lambda _: None)

    def throttled(times: int) -> Any:
        def make(args: argparse.Namespace, regions: list[str]) -> ClientFactory:
            session = boto3.Session(region_name=REGION)
            counters.append(throttle(session, "ListLayers", times))
            return Boto3ClientFactory(args.role_name, session=session, caller=three_tries)
        return make

    args = args_for(project, "inventory", "--json")
    assert inventory_cmd.run(args, throttled(2), three_tries) == 0  # throttled twice, the 3rd try answers
    assert counters[-1]() == 2 and len(json.loads(capsys.readouterr().out)["versions"]) == 8
    with pytest.raises(AwsError, match=r"^refusing to delete: could not scan \d{12}/eu-west-1, and a version"):
        prune_cmd.run(args_for(project, "prune", "--keep", "1", "--yes"), throttled(100), three_tries)
    assert counters[-1]() == 3  # bounded
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("layersmith:")]
    assert errors == [f"layersmith: error: could not scan {world['home'].id}/eu-west-1: lambda:ListLayers: still "
                      "throttled (TooManyRequestsException) after retries; retry later or scan fewer "
                      "accounts/regions"]
    assert remaining(world) == ALL_THERE


def test_no_credentials_is_one_line_and_exit_1(aws_env: str, project: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, out, err = cli(capsys, "--project", str(project), "prune", "--keep", "1", "--yes")
    assert (code, out) == (1, "")
    assert err.strip().splitlines()[-1] == ("layersmith: error: no AWS credentials found; configure them "
                                            "(aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) "
                                            "and retry")


def test_unknown_region_and_bad_keep_are_rejected_before_any_call(aws_env: str, project: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--project", str(project), "inventory", "--regions", "eu-west-1,eu-wset-1")
    assert (code, out) == (2, "")
    assert err == ("layersmith: error: --regions: unknown region 'eu-wset-1' (Lambda is not offered there); "
                   "did you mean eu-west-1?\n")
    code, _, err = cli(capsys, "--project", str(project), "prune", "--keep", "0")
    assert code == 2 and "--keep: must be at least 1" in err


def test_a_committed_stack_must_exist(aws_env: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "--project", str(project), "inventory", "--stack", "qa")
    assert code == 2 and "no Pulumi.qa.yaml; committed stacks: dev, prod" in err
    assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")


# --- fleets: --organization, --accounts-file, --regions all (issue 23) ---

def _organization(home: Account, members: int) -> list[str]:
    org = home.session.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    made = [org.create_account(Email=f"m{n}@example.com", AccountName=f"member-{n}")["CreateAccountStatus"]
            for n in range(members)]
    return [str(m["AccountId"]) for m in made]


def test_organization_scans_every_active_account_once(world: dict[str, Account], project: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    members = _organization(world["home"], 2)
    code, out, err = cli(capsys, "--project", str(project), "inventory", "--organization", "--accounts",
                         members[0], "--json")
    assert code == 0, err
    scanned = json.loads(out)["scanned"]
    # The management account (home) is in the organization's list too, and members[0] is also in --accounts:
    # each is scanned once.
    assert scanned == [f"{world['home'].id}/{REGION}", f"{members[0]}/{REGION}", f"{members[1]}/{REGION}"]


def _org_error(code: str) -> Any:
    """Organizations answers ListAccounts with `code` (as it does for a member account without the
    permission, or an account in no organization)."""
    def make(args: argparse.Namespace, regions: list[str]) -> ClientFactory:
        session = boto3.Session(region_name=REGION)

        def before_send(request: Any, **_: Any) -> AWSResponse:
            body = json.dumps({"__type": code, "Message": "You don't have permissions to access this resource."})
            return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body.encode()))

        session.events.register("before-send.organizations.ListAccounts", before_send)
        return Boto3ClientFactory(args.role_name, session=session, caller=NO_WAIT)

    return make


def test_organization_without_permission_names_it_in_one_line(world: dict[str, Account], project: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(AwsError) as info:
        inventory_cmd.run(args_for(project, "inventory", "--organization"), _org_error("AccessDeniedException"))
    assert info.value.render() == ("--organization: access denied calling organizations:ListAccounts; run from the "
                                   "organization's management account or a delegated administrator, with that "
                                   "permission")


def test_organization_outside_one_says_so(world: dict[str, Account], project: Path) -> None:
    with pytest.raises(AwsError) as info:
        inventory_cmd.run(args_for(project, "inventory", "--organization"),
                          _org_error("AWSOrganizationsNotInUseException"))
    assert info.value.render() == ("--organization: this account is not in an organization; list the accounts "
                                   "with --accounts or --accounts-file")


def test_accounts_file_adds_accounts_once_and_names_a_bad_line(world: dict[str, Account], project: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    listed = project / "accounts.txt"
    listed.write_text(f"# consumers\n{OTHER}  # billing\n\n{OTHER}\n")
    code, out, err = cli(capsys, "--project", str(project), "inventory", "--accounts", OTHER, "--accounts-file",
                         str(listed), "--json")
    assert code == 0, err
    assert json.loads(out)["scanned"] == [f"{world['home'].id}/{REGION}", f"{OTHER}/{REGION}"]
    listed.write_text(f"{OTHER}\n{OTHER}0\n")
    code, out, err = cli(capsys, "--project", str(project), "inventory", "--accounts-file", str(listed))
    assert (code, out) == (2, "")
    assert err == (f"layersmith: error: {listed}:2: '{OTHER}0' is not a 12-digit AWS account ID; write one "
                   "account ID a line (# starts a comment)\n")


def test_regions_all_scans_every_lambda_region_of_the_partition(world: dict[str, Account], project: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    expected = sorted(boto3.Session().get_available_regions("lambda", partition_name="aws"))
    code, out, err = cli(capsys, "--project", str(project), "inventory", "--stack", "dev", "--regions", "all",
                         "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["scanned"] == [f"{world['home'].id}/{r}" for r in expected] and len(expected) > 17
    assert {v["region"] for v in data["versions"]} == {REGION} and len(data["versions"]) == 8
    code, _, err = cli(capsys, "--project", str(project), "inventory", "--regions", "all", "eu-west-1")
    assert code == 2 and "`all` cannot be combined with named regions" in err


def test_boto3_factory_assumes_each_role_once_and_reuses_clients(world: dict[str, Account]) -> None:
    session = boto3.Session(region_name=REGION)
    assumed: list[str] = []
    session.events.register("before-parameter-build.sts.AssumeRole",
                            lambda params, **_: assumed.append(params["RoleArn"]))
    factory = Boto3ClientFactory(session=session, caller=NO_WAIT)
    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(lambda r: factory.lambda_client(OTHER, r), [REGION, "us-east-1"] * 8))
    assert assumed == [f"arn:aws:iam::{OTHER}:role/layersmith-inventory"]
    assert len({id(c) for c in clients}) == 2
    assert clients[0].list_layers()["Layers"][0]["LayerName"] == "layersmith-prod-utils"  # acts in OTHER
