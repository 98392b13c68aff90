"""`layersmith check` against tmp projects seeded with each problem, built for real.

Layers come from `src/` dirs (fast, no PyPI) or from a real hash-locked `six` (1.16.0 / 1.17.0,
hashes from `uv pip compile --generate-hashes`); the over-size stack uses sparse files, which
cost no disk but count at their full size, exactly as on Lambda's unzipped quota. Each scenario
is its own stack so that its exit code is its own. The committed stacks are checked last.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun, source_layer, write_function
from helpers import REPO

from layersmith.builder.factory import build_layers
from layersmith.model import BuildResult

MB = 1_000_000
SIX = {
    "1.16.0": ("sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926",
               "sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"),
    "1.17.0": ("sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274",
               "sha256:ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81"),
}
HANDLER = """
import six


def handler(event, context):
    return six.__version__
"""

# stack -> (the functions it deploys, extra `layersmith:` config)
STACKS: dict[str, tuple[list[str], dict[str, Any]]] = {
    "conflicts": (["layered", "coded"], {}),
    "versions": (["six-diff"], {}),
    "duplicate": (["six-same"], {}),
    "mixed": (["six-mixed"], {}),
    "shadow": (["boto"], {}),
    "near": (["near"], {}),
    "over": (["over"], {}),
    "pinned": (["layered"], {"requirePins": True, "pins": {"layered": {"a": 3, "b": 12}}}),
    "unbuilt": (["unbuilt", "layered"], {}),
    "unbuilt-ok": (["unbuilt-ok"], {}),
    "over-plan": (["over"], {"publish": ["big-a", "big-b", "big-c"]}),
    "hidden": (["hidden"], {"publish": ["a"], "functions": {"hidden": {
        "reserved_concurrency": 3, "sqs": {"queue_arn": "arn:aws:sqs:eu-west-1:123456789012:hidden-jobs"}}}}),
}
# A function that uses every key issue 15 added (the queue comes from the stack above).
EVERY_KEY = """
tracing = true
reserved_concurrency = 1
kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
code_signing_config_arn = "arn:aws:lambda:eu-west-1:123456789012:code-signing-config:csc-0123456789abcdef0"
managed_policies = ["arn:aws:iam::123456789012:policy/hidden-reader"]

[[statements]]
actions = ["dynamodb:GetItem", "dynamodb:PutItem"]
resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/hidden"]

[[statements]]
effect = "Deny"
actions = ["dynamodb:DeleteTable"]
resources = ["*"]
allow_wildcard = true

[sqs]
batch_size = 20
maximum_batching_window = 2
"""


def six_lock(version: str) -> str:
    first, second = SIX[version]
    return f"six=={version} \\\n    --hash={first} \\\n    --hash={second}\n"


def sparse(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.truncate(size)  # no disk used; st_size (and the unzipped size) is `size`


def write_stack(root: Path, stack: str, deploy: list[str], extra: dict[str, Any]) -> None:
    config: dict[str, Any] = {"aws:region": "eu-west-1", "layersmith:deploy": deploy}
    config.update({f"layersmith:{k}": v for k, v in extra.items()})
    # JSON is YAML: no YAML writer needed
    (root / f"Pulumi.{stack}.yaml").write_text(json.dumps({"config": config}, indent=2), encoding="utf-8")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, lambda_cache: Path) -> Path:
    root = tmp_path_factory.mktemp("check") / "project"
    (root / "layers").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: checks\nruntime: python\n", encoding="utf-8")
    source_layer(root, "a", {"shared.py": "WHO = 'a'\n", "common/__init__.py": "", "only_a.py": ""})
    with (root / "layers" / "a" / "layer.toml").open("a", encoding="utf-8") as fh:
        fh.write('license = "MIT"\n')  # complete metadata: the policy pack's mandatory rule 4
    source_layer(root, "b", {"shared.py": "WHO = 'b'\n", "common/__init__.py": "", "common/extra.py": ""})
    source_layer(root, "six16", {"marker16.py": ""}, lock=six_lock("1.16.0"))
    source_layer(root, "six17", {"marker17.py": ""}, lock=six_lock("1.17.0"))
    source_layer(root, "six17-copy", {"marker17c.py": ""}, lock=six_lock("1.17.0"))
    # native (portable = false): six goes to python/lib/python3.11/site-packages, before /opt/python
    source_layer(root, "six16-native", {"marker16n.py": ""}, lock=six_lock("1.16.0"), portable=False)
    source_layer(root, "botoish", {"boto3/__init__.py": "", "botocore/__init__.py": "", "helpers_x.py": ""})
    for name, size in (("big-a", 150 * MB), ("big-b", 65 * MB), ("big-c", 50 * MB)):
        directory = source_layer(root, name, {f"{name.replace('-', '_')}/__init__.py": ""})
        sparse(directory / "src" / name.replace("-", "_") / "blob.bin", size)
    never = source_layer(root, "never", {"never.py": ""})  # names a lock that does not exist: cannot build
    with (never / "layer.toml").open("a", encoding="utf-8") as fh:
        fh.write('requirements = "requirements.txt"\n')
    source_layer(root, "fresh", {"fresh_mod.py": ""})  # never built before check runs
    write_function(root, "layered", HANDLER, layers=["a", "b"])
    write_function(root, "coded", {"handler.py": HANDLER, "shared.py": "WHO = 'code'\n"}, layers=["a"])
    write_function(root, "six-diff", HANDLER, layers=["six16", "six17"])
    write_function(root, "six-same", HANDLER, layers=["six17", "six17-copy"])
    write_function(root, "six-mixed", HANDLER, layers=["six16-native", "six17"])
    write_function(root, "boto", HANDLER, layers=["botoish"])
    write_function(root, "near", HANDLER, layers=["big-a", "big-b"])
    write_function(root, "over", HANDLER, layers=["big-a", "big-b", "big-c"])
    write_function(root, "unbuilt", HANDLER, layers=["a", "never"])
    write_function(root, "unbuilt-ok", HANDLER, layers=["a", "fresh"])
    hidden = write_function(root, "hidden", HANDLER, layers=["a"], environment={"TABLE": "hidden"})
    toml = (hidden / "function.toml").read_text(encoding="utf-8")
    # top-level keys must come before function.toml's [environment] table
    (hidden / "function.toml").write_text(toml.replace("[environment]", EVERY_KEY.strip() + "\n\n[environment]", 1)
                                          if "[environment]" in toml else toml + EVERY_KEY, encoding="utf-8")
    shutil.copy(REPO / "__main__.py", root / "__main__.py")  # `plan` runs the real program
    shutil.copytree(REPO / "policies" / "config", root / "policies" / "config")
    for stack, (deploy, extra) in STACKS.items():
        write_stack(root, stack, deploy, extra)
    built = ["a", "b", "six16", "six17", "six17-copy", "six16-native", "botoish", "big-a", "big-b", "big-c"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYERSMITH_CACHE_DIR", str(lambda_cache))
        build_layers(root, built, runtime="python3.11", arch="x86_64")
    return root


def check(cli: CliRun, project: Path, stack: str, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("--project", project, "check", "--stack", stack, "--json", *extra)
    assert err == "" or "Traceback" not in err
    return code, json.loads(out)


def findings(report: dict[str, Any], check_name: str | None = None, level: str | None = None) -> list[str]:
    return [f["message"] for f in report["findings"]
            if check_name in (None, f["check"]) and level in (None, f["level"])]


def test_json_shape(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    code, report = check(cli, seeded, "conflicts", "--no-policy")
    assert code == 0
    assert set(report) == {"stack", "ok", "functions", "findings"}
    assert report["stack"] == "conflicts" and report["ok"] is True
    assert [f["name"] for f in report["functions"]] == ["layered", "coded"]
    layered = report["functions"][0]
    assert set(layered) == {"name", "runtime", "architecture", "layers", "unzipped"}
    assert (layered["runtime"], layered["architecture"], layered["layers"]) == ("python3.11", "x86_64", 2)
    assert isinstance(layered["unzipped"], int) and layered["unzipped"] > 0
    for finding in report["findings"]:
        assert set(finding) == {"level", "function", "check", "message"}
        assert finding["level"] in ("error", "warning", "unverified", "note")


def test_file_conflict_between_layers_the_later_wins(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    _, report = check(cli, seeded, "conflicts", "--no-policy")
    layered = [f for f in report["findings"] if f["function"] == "layered"]
    assert {(f["level"], f["check"], f["message"]) for f in layered} == {
        ("warning", "conflict", "common is provided by a, b: b wins (it is extracted last into /opt)"),
        ("warning", "conflict", "shared is provided by a, b: b wins (it is extracted last into /opt)"),
    }  # only_a / b's common/extra.py are not conflicts; nor is the bytecode dir both ship


def test_function_code_wins_over_a_layer(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    _, report = check(cli, seeded, "conflicts", "--no-policy")
    coded = [f["message"] for f in report["findings"] if f["function"] == "coded"]
    assert coded == ["shared is provided by function code, a: function code wins (/var/task is first on sys.path)"]


def test_distribution_at_two_versions_is_an_error(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    code, report = check(cli, seeded, "versions", "--no-policy")
    assert code == 1 and report["ok"] is False
    assert findings(report, "conflict", "error") == [
        "six at different versions (six16 has 1.16.0, six17 has 1.17.0): files of both end up mixed in /opt; "
        "lock the same version in both layers"]


def test_same_distribution_same_version_is_a_duplicate_warning(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    code, report = check(cli, seeded, "duplicate", "--no-policy")
    assert code == 0 and report["ok"] is True
    assert findings(report, "duplicate") == ["six==1.17.0 ships in six17, six17-copy; one copy is dead weight"]
    assert findings(report, level="error") == []


def test_winner_follows_sys_path_and_agrees_with_a_real_invocation(seeded: Path, cli: CliRun,
                                                                   use_cache: Path) -> None:
    """six16-native puts six in python/lib/python3.11/site-packages, six17 in python/: the former is
    earlier on sys.path, so it wins although it is attached first."""
    code, report = check(cli, seeded, "mixed", "--no-policy")
    assert code == 1  # two versions of six
    [claim] = [m for m in findings(report, "conflict", "warning") if m.startswith("six ")]
    if sys.version_info[:2] != (3, 11) or platform.machine() != "x86_64":
        pytest.skip("the real invocation needs a python3.11 x86_64 host")
    code, out, err = cli("--project", seeded, "invoke", "six-mixed")
    assert code == 0, err
    assert json.loads(out) == "1.16.0"  # what Lambda's import would really load
    assert claim == ("six is provided by six16-native, six17: six16-native wins "
                     "(/opt/python/lib/python3.X/site-packages comes before /opt/python on sys.path)")


def test_a_layer_shipping_boto3_shadows_the_runtimes_copy(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    code, report = check(cli, seeded, "shadow", "--no-policy")
    assert code == 0
    messages = findings(report, "shadowing", "warning")
    assert len(messages) == 2
    assert messages[0].startswith("botoish ship boto3, shadowing the runtime's own copy")
    assert messages[1].startswith("botoish ship botocore, shadowing the runtime's own copy")


def size_finding(report: dict[str, Any]) -> tuple[str, str]:
    [finding] = [f for f in report["findings"] if f["check"] == "size"]
    return finding["level"], finding["message"]


def test_over_the_unzipped_quota_is_an_error_with_a_breakdown(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    code, report = check(cli, seeded, "over", "--no-policy")
    assert code == 1 and report["ok"] is False
    level, message = size_finding(report)
    assert level == "error"
    assert re.fullmatch(r"265\.0 MB unzipped of Lambda's 262\.1 MB \(101%\): function code 0\.0 MB, "
                        r"big-a 150\.0 MB, big-b 65\.0 MB, big-c 50\.0 MB", message), message
    assert 265 * MB < report["functions"][0]["unzipped"] < 265.1 * MB


def test_over_80_percent_is_a_warning_with_a_breakdown(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    code, report = check(cli, seeded, "near", "--no-policy")
    assert code == 0 and report["ok"] is True
    level, message = size_finding(report)
    assert level == "warning"
    assert re.fullmatch(r"215\.0 MB unzipped of Lambda's 262\.1 MB \(82%\): function code 0\.0 MB, "
                        r"big-a 150\.0 MB, big-b 65\.0 MB", message), message


def test_plan_and_invoke_warn_about_the_unzipped_size_as_check_does(seeded: Path, cli: CliRun,
                                                                   use_cache: Path) -> None:
    code, report = check(cli, seeded, "over-plan", "--no-policy")
    _, message = size_finding(report)
    warning = f"layersmith: warning: over: {message}; Lambda rejects this function at deploy time: drop or slim a layer"
    code, _, err = cli("--project", seeded, "plan", "--stack", "over-plan")
    assert code == 0 and warning in err.splitlines(), err
    _, _, err = cli("--project", seeded, "invoke", "over", "--stack", "over-plan")
    assert warning in err.splitlines(), err


def test_a_function_with_every_new_key_plans_and_passes_check(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    code, out, err = cli("--project", seeded, "plan", "--stack", "hidden", "--json")
    assert code == 0, err
    resources = json.loads(out)["resources"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        by_type.setdefault(r["type"].rsplit(":", 1)[-1], []).append(r)
    (fn,) = by_type["Function"]
    assert fn["inputs"]["reservedConcurrentExecutions"] == 3  # the stack's value wins over function.toml's 1
    assert fn["inputs"]["kmsKeyArn"].endswith(":key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert fn["inputs"]["codeSigningConfigArn"].endswith(":code-signing-config:csc-0123456789abcdef0")
    assert "arn:aws:iam::123456789012:policy/hidden-reader" in [
        a["inputs"]["policyArn"] for a in by_type["RolePolicyAttachment"]]
    inline = {p["inputs"]["name"]: json.loads(p["inputs"]["policy"])["Statement"] for p in by_type["RolePolicy"]}
    assert inline["function-toml-statements"] == [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
         "Resource": ["arn:aws:dynamodb:eu-west-1:123456789012:table/hidden"]},
        {"Effect": "Deny", "Action": ["dynamodb:DeleteTable"], "Resource": ["*"]}]
    assert inline["sqs-event-source"][0]["Resource"] == "arn:aws:sqs:eu-west-1:123456789012:hidden-jobs"
    (mapping,) = by_type["EventSourceMapping"]
    assert mapping["inputs"]["batchSize"] == 20 and mapping["inputs"]["maximumBatchingWindowInSeconds"] == 2
    assert mapping["inputs"]["functionResponseTypes"] == ["ReportBatchItemFailures"]

    code, report = check(cli, seeded, "hidden")
    assert code == 0 and report["ok"] is True, report
    policy = [f for f in report["findings"] if f["check"].startswith("policy:") and f["function"] == "hidden"]
    assert not [f for f in policy if f["check"] in ("policy:function-code-signing", "policy:function-env-encrypted",
                                                    "policy:function-observability")], policy
    assert not [f for f in policy if f["level"] in ("error", "warning")], policy


def test_the_same_function_without_the_keys_gets_the_warnings_naming_them(seeded: Path, cli: CliRun,
                                                                          use_cache: Path) -> None:
    """The control for the test above: `plain` sets none of them, so each warning fires, naming its key."""
    write_function(seeded, "plain", HANDLER, layers=["a"], environment={"TABLE": "plain"})
    write_stack(seeded, "plain", ["plain"], {"publish": ["a"]})
    code, report = check(cli, seeded, "plain")
    assert code == 0
    messages = " ".join(f["message"] for f in report["findings"] if f["function"] == "plain")
    for key in ("code_signing_config_arn", "kms_key_arn", "reserved_concurrency", "tracing = true"):
        assert f"`{key}` in functions/plain/function.toml" in messages, messages
    assert "per stack in layersmith:functions.plain.reserved_concurrency" in messages


def test_pins_are_unverified_offline(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    code, report = check(cli, seeded, "pinned", "--no-policy")
    assert code == 0
    assert findings(report, "pin", "unverified") == [
        f"{layer}: not checked offline; `layersmith check --online` compares the pinned version's contents with "
        "this build in every region it names, and `pulumi preview` refuses a pin to a version that does not exist"
        for layer in ("a v3", "b v12")]


def test_a_layer_that_cannot_build_is_an_error_for_its_function(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    code, report = check(cli, seeded, "unbuilt", "--no-policy")
    assert code == 1
    [finding] = [f for f in report["findings"] if f["level"] == "error"]
    assert finding["function"] == "unbuilt" and finding["check"] == "build"
    assert "lock file missing" in finding["message"] and "layersmith lock never" in finding["message"]
    assert [f["unzipped"] for f in report["functions"] if f["name"] == "unbuilt"] == [None]
    # the other function is still checked
    assert any(f["function"] == "layered" for f in report["findings"])


def test_check_builds_what_is_missing_so_its_verdict_does_not_depend_on_history(
        seeded: Path, cli: CliRun, use_cache: Path) -> None:
    first = check(cli, seeded, "unbuilt-ok", "--no-policy")
    assert first[0] == 0 and not findings(first[1], level="error")
    assert check(cli, seeded, "unbuilt-ok", "--no-policy") == first


def test_human_output_lists_errors_and_warnings_separately(seeded: Path, cli: CliRun, use_cache: Path) -> None:
    code, out, _ = cli("--project", seeded, "check", "--stack", "mixed", "--no-policy")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "layersmith check --stack mixed"
    assert re.match(r"six-mixed\s+python3\.11\s+x86_64\s+2\s+[\d.]+\s+x$", lines[3])
    errors, warnings = lines.index("Errors (1)"), lines.index("Warnings (1)")
    assert errors < warnings
    assert lines[errors + 1].startswith("  x six-mixed [conflict] six at different versions")
    assert lines[warnings + 1].startswith("  ! six-mixed [conflict] six is provided by six16-native, six17")
    assert lines[-1] == "FAILED: 1 error(s), 1 warning(s)"


# -- the committed stacks, policy pack included ----------------------------------------------------------------


@pytest.fixture
def repo(repo_builds: dict[tuple[str, str], BuildResult], use_cache: Path) -> Path:
    return REPO


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_pass(repo: Path, cli: CliRun, stack: str) -> None:
    code, report = check(cli, repo, stack)
    assert code == 0 and report["ok"] is True, report
    assert [f["name"] for f in report["functions"]] == ["sales-report", "ingest-orders", "thumbnail-index"]
    assert findings(report, level="error") == []
    assert any(f["check"].startswith("policy:") for f in report["findings"])  # the pack did run
    pins = findings(report, "pin", "unverified")
    assert (len(pins) == 7) if stack == "prod" else (pins == [])  # prod pins every layer


def test_no_policy_skips_the_pack(repo: Path, cli: CliRun) -> None:
    code, report = check(cli, repo, "dev", "--no-policy")
    assert code == 0
    assert not [f for f in report["findings"] if f["check"].startswith("policy:")]


def test_unknown_stack_is_bad_input(repo: Path, cli: CliRun) -> None:
    code, out, err = cli("--project", repo, "check", "--stack", "nope")
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "Pulumi.nope.yaml" in err


def test_sizes_reported_are_the_built_artifacts(repo: Path, cli: CliRun,
                                                repo_builds: dict[tuple[str, str], BuildResult]) -> None:
    _, report = check(cli, repo, "dev", "--no-policy")
    sales = next(f for f in report["functions"] if f["name"] == "sales-report")
    layers = sum(repo_builds[key].unzipped_bytes for key in
                 (("data-science", "py311-x86_64"), ("utils", "any"), ("monitoring", "py311-x86_64")))
    code_bytes = sum(p.stat().st_size for p in (REPO / "functions/sales-report").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts and p.name != "function.toml")
    assert sales["unzipped"] == layers + code_bytes
    assert os.path.isdir(REPO / "functions/sales-report")
