"""The online half of pins: `check --online`, `promote` and `plan --online` against moto_server on
127.0.0.1, with real local builds of a small two-layer project and real boto3 (`AWS_ENDPOINT_URL`).

World: prod publishes in eu-west-1 and us-east-1, staging in eu-west-1. The seed publishes the
*local build's* zip bytes where a version must hold "this checkout's build", and other bytes where
it must not, so every verdict below is decided by `Content.CodeSha256` alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto_layers import _Raw, layer_zip, moto_server, reset

from layersmith.aws.content import RegionLayers
from layersmith.builder.factory import make_builder
from layersmith.cli import main
from layersmith.errors import AwsError
from layersmith.model import expand_variants
from layersmith.project.specs import load_layers

REPO = Path(__file__).resolve().parents[2]
LAYER_TOML = ('description = "{name}"\nruntimes = ["python3.11"]\narchitectures = ["x86_64"]\n'
              'source = "src"\nportable = true\n')
FUNCTION_TOML = 'handler = "handler.handler"\nruntime = "python3.11"\narchitecture = "x86_64"\nlayers = {layers}\n'
PROD = """\
# Production: every pin is promoted by content (layersmith promote), never typed by hand.
config:
  aws:region: eu-west-1
  layersmith:regions: [eu-west-1, us-east-1]   # consumers run in both
  layersmith:deploy:
    - api
    - worker
  layersmith:pins:
    api:
      utils: 2        # the build staging tested
      tools: {eu-west-1: 1, us-east-1: 9}
    worker:
      utils: 1  # still on the old build
"""
STAGING = """\
config:
  aws:region: eu-west-1
  layersmith:pins:
    api:
      utils: 2
"""
FILES = {
    "Pulumi.yaml": "name: layersmith\nruntime: python\n",
    "Pulumi.prod.yaml": PROD,
    "Pulumi.staging.yaml": STAGING,
    "layers/utils/layer.toml": LAYER_TOML.format(name="shared code"),
    "layers/utils/src/shared_utils/__init__.py": "VERSION = 'local'\n",
    "layers/tools/layer.toml": LAYER_TOML.format(name="tools"),
    "layers/tools/src/shared_tools/__init__.py": "TOOLS = True\n",
    "functions/api/function.toml": FUNCTION_TOML.format(layers='["utils", "tools"]'),
    "functions/api/handler.py": "def handler(event, context):\n    return {}\n",
    "functions/worker/function.toml": FUNCTION_TOML.format(layers='["utils"]'),
    "functions/worker/handler.py": "def handler(event, context):\n    return {}\n",
}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def project(tmp_path: Path, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    shutil.copy(REPO / "__main__.py", root / "__main__.py")
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(var, raising=False)
    for key, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
                       "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
                       "AWS_EC2_METADATA_DISABLED": "true",
                       "LAYERSMITH_CACHE_DIR": str(tmp_path / "cache")}.items():
        monkeypatch.setenv(key, value)
    reset(endpoint)
    return root


def local_zip(project: Path, layer: str) -> bytes:
    spec = load_layers(project)[layer]
    result = make_builder(project).build(spec, expand_variants(spec)[0])
    return result.zip_path.read_bytes()


def code_sha256(data: bytes) -> str:
    """Lambda's CodeSha256, computed here independently of layersmith."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def publish(region: str, name: str, *contents: bytes) -> None:
    lam = boto3.client("lambda", region_name=region)
    for data in contents:
        lam.publish_layer_version(LayerName=name, Content={"ZipFile": data}, CompatibleRuntimes=["python3.11"])


@pytest.fixture
def seeded(project: Path) -> dict[str, bytes]:
    utils, tools = local_zip(project, "utils"), local_zip(project, "tools")
    old = layer_zip("an-older-utils-build")
    publish("eu-west-1", "layersmith-prod-utils", old, utils)           # v1 old, v2 = this build
    publish("eu-west-1", "layersmith-prod-tools", tools)                # v1 = this build
    publish("us-east-1", "layersmith-prod-tools", layer_zip("old tools"))  # v1 only, not this build; pin 9 missing
    publish("us-east-1", "layersmith-prod-utils", utils)                # v1 = this build
    publish("eu-west-1", "layersmith-staging-utils", old, utils)        # staging v2 = this build
    return {"utils": utils, "tools": tools, "old": old}


def run(capsys: pytest.CaptureFixture[str], project: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--project", str(project), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_moto_computes_code_sha256_as_lambda_does(project: Path, seeded: dict[str, bytes]) -> None:
    got = boto3.client("lambda", region_name="eu-west-1").get_layer_version(
        LayerName="layersmith-prod-utils", VersionNumber=2)["Content"]["CodeSha256"]
    assert got == code_sha256(seeded["utils"])


def test_check_online_reports_same_different_and_missing_per_region(
        project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, project, "check", "--stack", "prod", "--online", "--no-policy", "--json")
    assert code == 1, err
    report = json.loads(out)
    verdicts = {(v["function"], v["layer"], v["region"]): (v["pin"], v["status"]) for v in report["online"]}
    assert verdicts == {
        ("api", "utils", "eu-west-1"): (2, "same"),
        ("api", "tools", "eu-west-1"): (1, "same"),
        ("api", "tools", "us-east-1"): (9, "missing"),
        ("worker", "utils", "eu-west-1"): (1, "different"),
    }
    same = next(v for v in report["online"] if v["status"] == "same" and v["layer"] == "utils")
    assert same["local_sha256"] == same["published_sha256"] == code_sha256(seeded["utils"])
    errors = [f["message"] for f in report["findings"] if f["check"] == "pin-content"]
    assert errors == [
        "Pulumi.prod.yaml layersmith:pins.api.tools.us-east-1: layersmith-prod-tools v9 in us-east-1 does not exist "
        "(the latest there is v1); publish it there (pulumi up) or pin an existing version "
        "(layersmith promote tools --to prod)",
        f"Pulumi.prod.yaml layersmith:pins.worker.utils: layersmith-prod-utils v1 in eu-west-1 holds other content "
        f"than this checkout's build of utils (any): published {code_sha256(seeded['old'])}, local "
        f"{code_sha256(seeded['utils'])}; to pin the version holding this build: layersmith promote utils --to prod"]
    assert not [f for f in report["findings"] if f["check"] == "pin" and f["level"] == "unverified"]


def test_check_online_text_and_exit_0_when_every_pin_holds_the_build(
        project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, project, "check", "--stack", "staging", "--online", "--no-policy")
    assert code == 0, out
    assert "Pinned versions on AWS against this checkout's build" in out
    table = out.split("Pinned versions on AWS against this checkout's build", 1)[1].split("\n\n", 1)[0]
    assert [line.split() for line in table.splitlines()[3:]] == [
        ["api", "utils", "any", "eu-west-1", "2", "same", "content"],  # the only pin: it holds this build
        ["api", "tools", "any", "eu-west-1", "latest", "-", "(not", "pinned)"],
        ["worker", "utils", "any", "eu-west-1", "latest", "-", "(not", "pinned)"]], out



def changed_lines(old: str, new: str) -> list[tuple[str, str]]:
    """(old line, new line) for every line that differs; the files must have as many lines."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    assert len(a) == len(b), (old, new)
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def test_promote_from_staging_rewrites_exactly_one_value_keeping_comments(
        project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    path = project / "Pulumi.prod.yaml"
    path.chmod(0o640)
    publish("eu-west-1", "layersmith-prod-utils", seeded["utils"])  # v3: the same bytes again
    code, out, err = run(capsys, project, "promote", "utils", "--to", "prod", "--from", "staging")
    assert (code, err) == (0, ""), err
    new = path.read_text(encoding="utf-8")
    # staging's v2 is this build; in prod v2 and v3 hold it: api already pins v2, so worker moves 1 -> 2
    assert changed_lines(PROD, new) == [("      utils: 1  # still on the old build\n",
                                         "      utils: 2  # still on the old build\n")]
    assert path.stat().st_mode & 0o777 == 0o640
    assert "-      utils: 1  # still on the old build\n+      utils: 2  # still on the old build\n" in out
    assert "layersmith:pins.worker.utils: v1 -> v2  [layersmith-prod-utils v2 in eu-west-1 holds " \
           "layersmith-staging-utils v2 (eu-west-1)]" in out
    assert not list(project.glob(".Pulumi.prod.yaml.*"))  # no temporary file left behind
    code, out, _ = run(capsys, project, "check", "--stack", "prod", "--online", "--no-policy", "--json")
    statuses = {(v["function"], v["layer"], v["region"]): v["status"] for v in json.loads(out)["online"]}
    assert statuses[("worker", "utils", "eu-west-1")] == "same"


def test_promote_refuses_naming_the_region_without_that_content_and_writes_nothing(
        project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, project, "promote", "tools", "--to", "prod")
    assert (code, out) == (1, "")
    assert err == ("layersmith: error: no version holds the content of this checkout's build (any) in "
                   "us-east-1 (layersmith-prod-tools) yet: publish it there first (pulumi up --stack prod), then "
                   "promote again; nothing was written\n")
    assert (project / "Pulumi.prod.yaml").read_text(encoding="utf-8") == PROD


def test_promote_writes_every_region_of_a_qualified_pin(
        project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    publish("us-east-1", "layersmith-prod-tools", layer_zip("tools v2"), seeded["tools"])  # now v3 there
    code, out, err = run(capsys, project, "promote", "tools", "--to", "prod", "--dry-run")
    assert code == 0, err
    assert "+      tools: {eu-west-1: 1, us-east-1: 3}\n" in out and out.endswith("dry run: nothing written\n")
    assert (project / "Pulumi.prod.yaml").read_text(encoding="utf-8") == PROD
    code, out, _ = run(capsys, project, "promote", "tools", "--to", "prod")
    assert changed_lines(PROD, (project / "Pulumi.prod.yaml").read_text(encoding="utf-8")) == [
        ("      tools: {eu-west-1: 1, us-east-1: 9}\n", "      tools: {eu-west-1: 1, us-east-1: 3}\n")]


def test_promote_a_version_is_found_by_content_in_the_other_region(
        project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    # a rollback of worker to prod's eu-west-1 v1 (the old build): no other region is involved
    code, out, err = run(capsys, project, "promote", "utils", "--to", "prod", "--version", "2", "--region",
                         "eu-west-1", "--function", "worker", "--json")
    assert code == 0, err
    assert [(c["function"], c["region"], c["from"], c["to"]) for c in json.loads(out)["changes"]] == [
        ("worker", "eu-west-1", 1, 2)]
    code, out, err = run(capsys, project, "promote", "utils", "--to", "prod", "--version", "7")
    assert (code, out) == (1, "")
    assert err == "layersmith: error: version 7 of layersmith-prod-utils does not exist in eu-west-1\n"


def test_promote_needs_the_content_in_every_region_the_target_publishes_to(
        project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    # prod's plain utils pins name eu-west-1 only, but prod publishes utils in us-east-1 as well
    code, out, err = run(capsys, project, "promote", "utils", "--to", "prod", "--from", "staging", "--dry-run")
    assert code == 0, err
    assert "  us-east-1: layersmith-prod-utils v1 holds it too (no pin names us-east-1; its consumers pin there)\n" \
        in out
    # eu-west-1's v1 is an older build that was never published in us-east-1
    code, out, err = run(capsys, project, "promote", "utils", "--to", "prod", "--version", "1")
    assert (code, out) == (1, "")
    assert err == ("layersmith: error: no version holds the content of layersmith-prod-utils v1 "
                   "(eu-west-1) in us-east-1 (layersmith-prod-utils) yet: publish it there first "
                   "(pulumi up --stack prod), then promote again; nothing was written\n")
    assert (project / "Pulumi.prod.yaml").read_text(encoding="utf-8") == PROD


def test_promote_bad_input_is_one_line(project: Path, seeded: dict[str, bytes],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in (
            (["promote", "nope", "--to", "prod"], "LAYER: unknown layer 'nope'; the project has tools, utils"),
            (["promote", "utils", "--to", "qa"], "Pulumi.qa.yaml: no such stack file"),
            (["promote", "utils", "--to", "prod", "--function", "ghost"], "--function: Pulumi.prod.yaml does not "
                                                                         "deploy 'ghost'"),
            (["promote", "utils", "--to", "prod", "--region", "us-east-1"], "--region: --region says where")):
        code, out, err = run(capsys, project, *argv)
        assert (code, out) == (2, ""), (argv, err)
        assert len(err.splitlines()) == 1 and message in err, (argv, err)



def publish_as_pulumi_would(region: str, name: str, data: bytes, description: str) -> None:
    """A version with every input `pulumi up` gives one (layersmith/infra/layer.py)."""
    hexdigest = hashlib.sha256(data).hexdigest()
    boto3.client("lambda", region_name=region).publish_layer_version(
        LayerName=name, Content={"ZipFile": data}, CompatibleRuntimes=["python3.11"],
        CompatibleArchitectures=["x86_64"], Description=f"{description} [any, sha256 {hexdigest[:12]}]")


def test_plan_online_says_which_variants_pulumi_up_would_publish(
        project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    publish_as_pulumi_would("eu-west-1", "layersmith-prod-utils", seeded["utils"], "shared code")  # v3
    code, out, err = run(capsys, project, "plan", "--stack", "prod", "--online", "--json")
    assert code == 0, err
    plan = json.loads(out)
    verdicts = {(f["layer_name"], f["region"]): (f["verdict"], f["latest"], f["version"], f["reason"])
                for f in plan["online"]}
    assert verdicts == {
        ("layersmith-prod-utils", "eu-west-1"): ("unchanged", 3, 3, "same content and inputs as v3"),
        ("layersmith-prod-utils", "us-east-1"): ("new", 1, 2, "description, architectures differ from v1"),
        ("layersmith-prod-tools", "eu-west-1"): ("new", 1, 2, "description, architectures differ from v1"),
        ("layersmith-prod-tools", "us-east-1"): ("new", 1, 2, "content, description, architectures differ "
                                                              "from v1"),
    }
    # the plan is drawn with those numbers: the unchanged variant keeps v3, the others get v2
    published = {(v["regions"][r]["layerArn"].rsplit(":", 1)[1], r): v["regions"][r]["version"]
                 for vs in plan["outputs"]["layers"].values() for v in vs for r in v["regions"]}
    assert published == {("layersmith-prod-utils", "eu-west-1"): 3, ("layersmith-prod-utils", "us-east-1"): 2,
                         ("layersmith-prod-tools", "eu-west-1"): 2, ("layersmith-prod-tools", "us-east-1"): 2}
    code, out, err = run(capsys, project, "plan", "--stack", "prod", "--online")
    assert code == 0, err
    assert "unchanged: reuses v3" in out and "v3 (unchanged)" in out and "* (new)" not in out


def test_plan_offline_still_marks_the_mocked_new_version(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, project, "plan", "--stack", "prod")
    assert code == 0, err
    assert "v3* (new)" in out and "Publishing (--online)" not in out


def test_plan_without_a_program_is_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "__main__.py").unlink()
    code, out, err = run(capsys, project, "plan", "--stack", "prod")
    assert (code, out) == (2, "")
    assert err.startswith("layersmith: error: ") and len(err.splitlines()) == 1
    assert "__main__.py: no Pulumi program here: plan (and check's policy pack) run the project's __main__.py " \
           "under mocks; create it with `from pathlib import Path; from layersmith.infra.program import main; " \
           "main(Path(__file__).resolve().parent)`" in err
    code, out, err = run(capsys, project, "check", "--stack", "prod")
    assert code == 2 and "no Pulumi program here" in err and len(err.splitlines()) == 1


def test_online_commands_name_a_missing_profile_in_one_line(project: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for argv in (["check", "--stack", "prod", "--online", "--no-policy", "--profile", "ops"],
                 ["promote", "utils", "--to", "prod", "--profile", "ops"],
                 ["plan", "--stack", "prod", "--online", "--profile", "ops"]):
        code, out, err = run(capsys, project, *argv)
        assert (code, out) == (1, ""), (argv, out)
        assert err == ("layersmith: error: AWS profile 'ops' (--profile) is not in your AWS config files; fix the "
                       "name or run `aws configure --profile ops`\n")
    staging = project / "Pulumi.staging.yaml"
    staging.write_text(STAGING.replace("config:\n", "config:\n  aws:profile: platform\n"), encoding="utf-8")
    code, _, err = run(capsys, project, "plan", "--stack", "staging", "--online")  # the stack's, as pulumi up
    assert code == 1 and "AWS profile 'platform' (aws:profile in Pulumi.staging.yaml) is not in your AWS" in err
    staging.write_text(STAGING, encoding="utf-8")
    monkeypatch.setenv("AWS_PROFILE", "ci")
    code, _, err = run(capsys, project, "check", "--stack", "staging", "--online", "--no-policy")
    assert code == 1 and "AWS profile 'ci' (AWS_PROFILE) is not in your AWS config files" in err
    code, _, err = run(capsys, project, "inventory", "--stack", "prod")  # was an internal error before
    assert (code, err) == (1, "layersmith: error: AWS profile 'ci' (AWS_PROFILE) is not in your AWS config files; "
                              "fix the name or run `aws configure --profile ci`\n")


def test_online_commands_report_missing_credentials_in_one_line(project: Path, capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, out, err = run(capsys, project, "promote", "utils", "--to", "prod")
    assert (code, out) == (1, "")
    assert err == ("layersmith: error: no AWS credentials found; configure them (aws configure, AWS_PROFILE or "
                   "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and retry\n")



def test_access_denied_is_one_line_naming_the_call(project: Path, seeded: dict[str, bytes]) -> None:
    """Lambda's real 403 body for a caller without lambda:GetLayerVersion, answered on the wire."""
    client = boto3.client("lambda", region_name="eu-west-1")

    def before_send(request: Any, **_: Any) -> AWSResponse:
        body = json.dumps({"Type": "User", "Message": "User: arn:aws:iam::123456789012:user/ci is not authorized "
                           "to perform: lambda:GetLayerVersion on resource: layersmith-prod-utils:2"})
        return AWSResponse(request.url, 403, {"x-amzn-ErrorType": "AccessDeniedException:",
                                              "Content-Type": "application/json"}, _Raw(body.encode()))

    client.meta.events.register("before-send.lambda.GetLayerVersion", before_send)
    with pytest.raises(AwsError) as caught:
        RegionLayers(client, "eu-west-1").get("layersmith-prod-utils", 2)
    assert caught.value.render() == ("lambda:GetLayerVersion layersmith-prod-utils:2 in eu-west-1: access denied "
                                     "(AccessDeniedException); grant that permission to the credentials or role used")



NATIVE = """\
config:
  aws:region: eu-west-1
  layersmith:pins:
    fx:
      native: 1   # x86_64: an older build
    fa:
      native: 1   # arm64: this build
"""


def test_each_variant_is_its_own_layer_checked_and_promoted_on_its_own(
        tmp_path: Path, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "native-project"
    files = {"Pulumi.yaml": "name: layersmith\nruntime: python\n", "Pulumi.prod.yaml": NATIVE,
             "layers/native/layer.toml": 'description = "per arch"\nruntimes = ["python3.11"]\n'
                                         'architectures = ["x86_64", "arm64"]\nsource = "src"\nportable = false\n',
             "layers/native/src/native_code/__init__.py": "ARCH = None\n"}
    for fn, arch in (("fx", "x86_64"), ("fa", "arm64")):
        files[f"functions/{fn}/function.toml"] = (f'handler = "handler.handler"\nruntime = "python3.11"\n'
                                                 f'architecture = "{arch}"\nlayers = ["native"]\n')
        files[f"functions/{fn}/handler.py"] = "def handler(event, context):\n    return {}\n"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    spec = load_layers(root)["native"]
    builds = {v.key: make_builder(root).build(spec, v).zip_path.read_bytes() for v in expand_variants(spec)}
    assert builds["py311-x86_64"] != builds["py311-arm64"]  # the variant is part of what is built
    publish("eu-west-1", "layersmith-prod-native-py311-x86_64", layer_zip("old x86"), builds["py311-x86_64"])
    publish("eu-west-1", "layersmith-prod-native-py311-arm64", builds["py311-arm64"])
    code, out, _ = run(capsys, root, "check", "--stack", "prod", "--online", "--no-policy", "--json")
    assert code == 1
    assert {(v["function"], v["layer_name"], v["status"]) for v in json.loads(out)["online"]} == {
        ("fx", "layersmith-prod-native-py311-x86_64", "different"),
        ("fa", "layersmith-prod-native-py311-arm64", "same")}
    code, out, err = run(capsys, root, "promote", "native", "--to", "prod")
    assert code == 0, err
    assert changed_lines(NATIVE, (root / "Pulumi.prod.yaml").read_text(encoding="utf-8")) == [
        ("      native: 1   # x86_64: an older build\n", "      native: 2   # x86_64: an older build\n")]
