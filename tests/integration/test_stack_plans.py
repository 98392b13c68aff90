"""Every committed `Pulumi.<stack>.yaml`, planned by the real program under Pulumi's mocks.

`run_plan` runs `__main__.py` exactly as `layersmith plan` does, with the repo's layers built for
real (once per session, in a shared `LAYERSMITH_CACHE_DIR`; data-science takes about a minute
cold). Each plan is compared with `tests/golden/plan-<stack>.json` (digests and hashed archive
paths masked; `UPDATE_GOLDEN=1` rewrites them, then fails so the diff is reviewed) and checked
against the invariants of issue 3. Expected values come from the stack files and the `layer.toml` /
`function.toml` files read here with plain `tomllib`/`yaml`, not from the code under test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import deadline

from layersmith.infra.preview import run_plan
from layersmith.project.checkout import load_project

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]

LV = "aws:lambda/layerVersion:LayerVersion"
GRANTS = "pulumi-python:dynamic/layersmith:LayerGrants"
FN = "aws:lambda/function:Function"
ROLE = "aws:iam/role:Role"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
LOGS = "aws:cloudwatch/logGroup:LogGroup"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
XRAY = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
VERSIONED = re.compile(r"^arn:aws:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$")
PLAN_TIMEOUT = 1200  # a cold build of every layer variant, data-science included


# --- running plans once per session ----------------------------------------------------------------

@contextmanager
def _cache(path: Path) -> Iterator[None]:
    """Only while planning: other tests in the session expect their own cache settings."""
    before = os.environ.get("LAYERSMITH_CACHE_DIR")
    os.environ["LAYERSMITH_CACHE_DIR"] = str(path)
    try:
        yield
    finally:
        if before is None:
            del os.environ["LAYERSMITH_CACHE_DIR"]
        else:
            os.environ["LAYERSMITH_CACHE_DIR"] = before


def plan_with(project: Path, stack: str, cache: Path) -> dict[str, Any]:
    with _cache(cache), deadline(PLAN_TIMEOUT):
        return run_plan(load_project(project), stack)


@pytest.fixture(scope="session")
def cache_dir(repo_build_cache: Path) -> Path:
    """The session's shared build cache (tests/conftest.py); tests/functional/test_plan_cli.py shares it."""
    return repo_build_cache


@pytest.fixture(scope="session")
def planned(cache_dir: Path) -> Callable[[str], dict[str, Any]]:
    memo: dict[str, dict[str, Any]] = {}

    def get(stack: str) -> dict[str, Any]:
        if stack not in memo:
            memo[stack] = plan_with(ROOT, stack, cache_dir)
        return json.loads(json.dumps(memo[stack]))  # a copy: tests must not see each other's edits

    return get


# --- independent readers of the project's files ----------------------------------------------------

def stack_config(stack: str) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]
    return {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith("layersmith:")}


def toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def function_spec(name: str) -> dict[str, Any]:
    spec = toml(ROOT / "functions" / name / "function.toml")
    return {"architecture": "x86_64", "tracing": False, **spec}


def layer_spec(name: str) -> dict[str, Any]:
    return toml(ROOT / "layers" / name / "layer.toml")


def all_layers() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "layers").glob("*/layer.toml"))


def all_functions() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "functions").glob("*/function.toml"))


def prefix(stack: str) -> str:
    return str(stack_config(stack).get("namePrefix", f"{PROJECT}-{stack}"))


def expected_variants(stack: str, layer: str) -> dict[str, tuple[list[str], list[str]]]:
    """Physical layer name -> (compatible runtimes, compatible architectures), from layer.toml."""
    spec = layer_spec(layer)
    base = f"{prefix(stack)}-{layer}"
    if spec.get("portable"):
        return {base: (spec["runtimes"], spec["architectures"])}
    return {f"{base}-py{rt.removeprefix('python').replace('.', '')}-{arch}": ([rt], [arch])
            for rt in spec["runtimes"] for arch in spec["architectures"]}


def overrides(stack: str, fn: str) -> dict[str, Any]:
    return dict(stack_config(stack).get("functions", {}).get(fn, {}))


def expected_queue(stack: str, fn: str) -> str | None:
    """The stack's queue for `fn`, else function.toml's `[sqs] queue_arn`."""
    queue = overrides(stack, fn).get("sqs", {}).get("queue_arn")
    return queue or function_spec(fn).get("sqs", {}).get("queue_arn")


def pin(stack: str, fn: str, layer: str) -> int | str:
    return stack_config(stack).get("pins", {}).get(fn, {}).get(layer, "latest")


def of(plan: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == typ]


def split_arn(arn: str) -> tuple[str, int]:
    base, _, version = arn.rpartition(":")
    return base, int(version)


# --- golden plans ------------------------------------------------------------------------------------

_ARCHIVE = re.compile(r'("archive": ")[^"]*?([^"/]+)(")')


def mask(plan: dict[str, Any]) -> str:
    """The plan as stable text: zip digests and hashed cache paths become placeholders."""
    text = json.dumps(plan, indent=2, sort_keys=True)
    text = _ARCHIVE.sub(lambda m: f"{m[1]}<cache>/{m[2]}{m[3]}", text)
    text = re.sub(r"\b[0-9a-f]{64}\b", "<sha256>", text)
    text = re.sub(r"sha256 [0-9a-f]{12}\b", "sha256 <sha256:12>", text)
    text = re.sub(r"\b[0-9a-f]{16}\b", "<hash16>", text)
    return text + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write next to `path` and rename into place: an interrupted rewrite never leaves half a golden."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def check_golden(golden: Path, actual: str, *, update: bool) -> None:
    """Compare with the golden; with `update`, rewrite it and fail all the same, so a stray
    UPDATE_GOLDEN=1 can never turn a run green."""
    name = golden.relative_to(ROOT) if golden.is_relative_to(ROOT) else golden
    if update:
        write_atomically(golden, actual)
        pytest.fail(f"{name} was rewritten (UPDATE_GOLDEN=1); review `git diff {name}`, then rerun without "
                    "UPDATE_GOLDEN", pytrace=False)
    assert golden.is_file(), f"no {name}; run UPDATE_GOLDEN=1 pytest {__file__}, then review and rerun"
    assert actual == golden.read_text(encoding="utf-8"), (
        f"plan differs from {name}; review, then UPDATE_GOLDEN=1 to rewrite it")


@pytest.mark.parametrize("stack", STACKS)
def test_plan_matches_golden(planned: Callable[[str], dict[str, Any]], stack: str) -> None:
    check_golden(GOLDEN / f"plan-{stack}.json", mask(planned(stack)), update=os.environ.get("UPDATE_GOLDEN") == "1")


def test_update_golden_rewrites_then_fails(tmp_path: Path) -> None:
    golden = tmp_path / "golden" / "plan-x.json"
    with pytest.raises(pytest.fail.Exception, match="was rewritten"):
        check_golden(golden, "new\n", update=True)
    assert golden.read_text(encoding="utf-8") == "new\n"
    assert [p.name for p in golden.parent.iterdir()] == ["plan-x.json"]  # no temporary left behind
    check_golden(golden, "new\n", update=False)  # the rewritten golden is what the next run compares with
    with pytest.raises(AssertionError, match="differs"):
        check_golden(golden, "other\n", update=False)


def test_mask_is_not_a_blanket() -> None:
    """The mask hides digests, not structure: versions, ARNs and account IDs stay visible."""
    masked = mask({"a": "f" * 64, "b": "x [any, sha256 0123456789ab]", "c": {"archive": "/tmp/x/0123456789abcdef.zip"},
                   "d": "arn:aws:lambda:eu-west-1:123456789012:layer:n:7"})
    assert '"<sha256>"' in masked and "sha256 <sha256:12>" in masked and "<cache>/<hash16>.zip" in masked
    assert "arn:aws:lambda:eu-west-1:123456789012:layer:n:7" in masked


# --- invariants ------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_versions_and_grants_are_retained(planned: Callable[[str], dict[str, Any]], stack: str) -> None:
    retain = stack_config(stack).get("retainVersions", True)
    assert retain is True, "every committed stack retains versions (the default)"
    plan = planned(stack)
    for r in of(plan, LV):
        assert r["inputs"].get("skipDestroy") is True, r["name"]
    for r in of(plan, GRANTS):
        assert r["inputs"].get("retain") is True, r["name"]


def _grant_sets(plan: dict[str, Any]) -> dict[tuple[str, int], set[tuple[str, str | None]]]:
    """(layer ARN, version) -> the (principal, organization) its `LayerGrants` resources hold."""
    out: dict[tuple[str, int], set[tuple[str, str | None]]] = {}
    for res in of(plan, GRANTS):
        i = res["inputs"]
        key = (i["layerArn"], int(i["version"]))
        out.setdefault(key, set()).update((st["principal"], st.get("organizationId")) for st in i["statements"])
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_grants(planned: Callable[[str], dict[str, Any]], stack: str) -> None:
    cfg = stack_config(stack)
    share = cfg.get("shareWith", {})
    public = share.get("public", False)
    expected = {(a, None) for a in share.get("accounts", [])} | {("*", o) for o in share.get("organizations", [])}
    if public:
        expected.add(("*", None))
    plan = planned(stack)
    current = {v["layerArn"]: v["version"] for variants in plan["outputs"]["layers"].values() for v in variants}
    owners: dict[tuple[str, int], list[str]] = {}
    for res in of(plan, GRANTS):
        i = res["inputs"]
        assert i["action"] == "lambda:GetLayerVersion"
        assert i["retain"] is cfg.get("retainVersions", True), res["name"]
        assert i["layerArn"] in current, "grants only on layers this stack publishes"
        for st in i["statements"]:
            org = st.get("organizationId")
            if org:
                assert st["principal"] == "*"
                derived = f"org-{org}"
            elif st["principal"] == "*":
                assert public, f"{res['name']}: bare '*' without shareWith.public: true"
                derived = "public"
            else:
                assert re.fullmatch(r"\d{12}", st["principal"]), st["principal"]
                derived = f"account-{st['principal']}"
            assert st["sid"] == f"layersmith-{derived}", res["name"]  # derived from the principal
        owners.setdefault((i["layerArn"], int(i["version"])), []).append(res["name"])
        assert len({st["sid"] for st in i["statements"]}) == len(i["statements"]), f"ids collide in {res['name']}"
    grants = _grant_sets(plan)
    for layer_arn, version in current.items():  # every published version: exactly the configured grants
        assert grants.get((layer_arn, version)) is not None, f"{layer_arn}: no grants resource on the new version"
        assert grants[(layer_arn, version)] == expected, layer_arn
    for key, principals in grants.items():
        assert principals == expected, key
    # one resource per (layer, version), except a pin on the version being published (two owners
    # with identical statements: the reconcile adopts whatever the other already added)
    for key, names in owners.items():
        assert len(names) == 1 or (len(names) == 2 and current.get(key[0]) == key[1]), (key, names)


@pytest.mark.parametrize("stack", STACKS)
def test_functions_attach_versioned_arns_in_spec_order(planned: Callable[[str], dict[str, Any]],
                                                       stack: str) -> None:
    cfg = stack_config(stack)
    publish = cfg.get("publish", all_layers())
    consumed = cfg.get("consume", {}).get("arns", {})
    referenced = cfg.get("consume", {}).get("stack", "").rpartition("/")[2]
    plan = planned(stack)
    functions = {f["name"]: f["inputs"] for f in of(plan, FN)}
    assert sorted(functions) == sorted(cfg.get("deploy", all_functions()))
    current = {v["layerArn"]: v["version"] for variants in plan["outputs"]["layers"].values() for v in variants}
    for name, inputs in functions.items():
        spec = function_spec(name)
        arns = inputs["layers"]
        assert len(arns) == len(spec["layers"]) <= 5
        for layer, arn in zip(spec["layers"], arns, strict=True):
            assert VERSIONED.match(arn), arn
            base, version = split_arn(arn)
            wanted = pin(stack, name, layer)
            if isinstance(wanted, int):
                assert version == wanted, (name, layer, arn)
            if layer in consumed:
                assert base == consumed[layer], (name, layer, arn)
                continue
            # The variant of that layer (published here, or by the referenced stack) for this
            # function's runtime and architecture.
            variants = expected_variants(stack if layer in publish else referenced, layer)
            runtimes, archs = variants[base.rsplit(":", 1)[-1]]
            assert spec["runtime"] in runtimes and spec["architecture"] in archs, (name, arn)
            if layer in publish and wanted == "latest":
                assert version == current[base], (name, arn)


def test_prod_attaches_the_pinned_variant_versions(planned: Callable[[str], dict[str, Any]]) -> None:
    plan = planned("prod")
    base = f"arn:aws:lambda:{plan['region']}:{plan['mocked']['account']}:layer:{prefix('prod')}"
    layers = {f["name"]: f["inputs"]["layers"] for f in of(plan, FN)}
    assert layers["sales-report"] == [f"{base}-data-science-py311-x86_64:7", f"{base}-utils:4",
                                      f"{base}-monitoring-py311-x86_64:5"]
    assert layers["ingest-orders"] == [f"{base}-utils:4", f"{base}-monitoring-py311-x86_64:5"]
    assert layers["thumbnail-index"] == [f"{base}-utils:4", f"{base}-monitoring-py313-arm64:5"]
    assert plan["outputs"]["functions"]["sales-report"]["layers"] == layers["sales-report"]


@pytest.mark.parametrize("stack", STACKS)
def test_pinned_versions_are_granted_on_the_attached_variant_only(planned: Callable[[str], dict[str, Any]],
                                                                  stack: str) -> None:
    """A pin names a version of the variant matching the function's runtime/arch; variants are
    numbered independently, so the same number on a sibling variant is another (or no) version."""
    cfg = stack_config(stack)
    share = cfg.get("shareWith", {})
    principals = set(share.get("accounts", [])) | {f"org:{o}" for o in share.get("organizations", [])}
    plan = planned(stack)
    published = {lv["inputs"]["layerName"] for lv in of(plan, LV)}
    attached_pins = set()
    # this stack's own pins, and those of committed stacks that consume it (they are granted too)
    consumers = [s for s in STACKS if stack_config(s).get("consume", {}).get("stack", "").endswith(f"/{stack}")]
    for source in [stack, *consumers]:
        for fn in of(planned(source), FN):
            for layer, arn in zip(function_spec(fn["name"])["layers"], fn["inputs"]["layers"], strict=True):
                base, version = split_arn(arn)
                if isinstance(pin(source, fn["name"], layer), int) and base.rsplit(":", 1)[-1] in published:
                    attached_pins.add((base, version))
    granted: dict[tuple[str, int], set[str]] = {}
    for res in of(plan, GRANTS):
        i = res["inputs"]
        if re.search(r"-v\d+-grants$", res["name"]):  # a pinned version's own grants
            granted[(i["layerArn"], int(i["version"]))] = {
                f"org:{st['organizationId']}" if st.get("organizationId") else st["principal"]
                for st in i["statements"]}
    for key in attached_pins:
        assert granted.get(key) == principals, f"pinned {key} not granted to every shareWith principal"
    assert set(granted) <= attached_pins, f"grants on versions no function pins: {set(granted) - attached_pins}"
    if stack == "prod":
        # ds py311-x86_64:7, utils:4, monitoring py311-x86_64:5, py313-arm64:5 + utils:3 pinned by consumer
        assert len(attached_pins) == 5


@pytest.mark.parametrize("stack", STACKS)
def test_roles_are_least_privilege(planned: Callable[[str], dict[str, Any]], stack: str) -> None:
    plan = planned(stack)
    assert not of(plan, "aws:iam/policy:Policy")
    inline = {r["inputs"]["role"]: json.loads(r["inputs"]["policy"]) for r in of(plan, ROLE_POLICY)}
    for fn in of(plan, FN):  # the only inline policy is the SQS poller's, on that function's queue alone
        queue = expected_queue(stack, fn["name"])
        document = inline.pop(f"{fn['name']}-role-mock", None)
        if queue is None:
            assert document is None, fn["name"]
        else:
            assert document["Statement"] == [{"Effect": "Allow", "Resource": queue, "Action": [
                "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]}], fn["name"]
    assert not inline
    roles = {r["name"]: r["inputs"] for r in of(plan, ROLE)}
    attachments: dict[str, set[str]] = {}
    for att in of(plan, ATTACH):
        attachments.setdefault(att["inputs"]["role"], set()).add(att["inputs"]["policyArn"])
    for fn in of(plan, FN):
        name = fn["name"]
        role = roles[f"{name}-role"]
        assert not role.get("inlinePolicies") and not role.get("managedPolicyArns")
        trust = json.loads(role["assumeRolePolicy"])
        assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                       "Action": "sts:AssumeRole"}]
        # The mock names a role `<resource>-mock`; the function and the attachments use that role.
        assert fn["inputs"]["role"] == f"arn:aws:iam::{plan['mocked']['account']}:role/{name}-role-mock"
        want = {BASIC} | ({XRAY} if function_spec(name)["tracing"] else set())
        assert attachments.pop(f"{name}-role-mock") == want, name
        assert fn["inputs"]["tracingConfig"]["mode"] == ("Active" if function_spec(name)["tracing"] else "PassThrough")
    assert not attachments, f"policies attached to roles of no function: {attachments}"
    assert len(roles) == len(of(plan, FN))


@pytest.mark.parametrize("stack", STACKS)
def test_event_sources_and_concurrency_follow_function_toml_and_the_stack(
        planned: Callable[[str], dict[str, Any]], stack: str) -> None:
    plan = planned(stack)
    functions = {f["name"]: f["inputs"] for f in of(plan, FN)}
    mappings = {m["name"]: m["inputs"] for m in of(plan, MAPPING)}
    for name, inputs in functions.items():
        concurrency = overrides(stack, name).get("reserved_concurrency",
                                                 function_spec(name).get("reserved_concurrency"))
        assert inputs.get("reservedConcurrentExecutions") == concurrency, name
        queue = expected_queue(stack, name)
        mapping = mappings.pop(f"{name}-sqs", None)
        if queue is None:
            assert mapping is None, name
            continue
        sqs = {**function_spec(name).get("sqs", {}), **overrides(stack, name).get("sqs", {})}
        assert mapping.pop("functionName").endswith(f":function:{inputs['name']}")
        assert mapping == {"eventSourceArn": queue, "batchSize": sqs.get("batch_size", 10),
                           "maximumBatchingWindowInSeconds": sqs.get("maximum_batching_window", 0),
                           "functionResponseTypes": ["ReportBatchItemFailures"]}, name
    assert not mappings
    if stack == "prod":  # the committed prod stack demonstrates both fixes
        assert functions["ingest-orders"]["reservedConcurrentExecutions"] == 20
        assert [m["inputs"]["eventSourceArn"] for m in of(plan, MAPPING)] == [
            "arn:aws:sqs:eu-west-1:123456789012:orders-prod"]


@pytest.mark.parametrize("stack", STACKS)
def test_log_groups_have_the_stack_retention(planned: Callable[[str], dict[str, Any]], stack: str) -> None:
    retention = stack_config(stack).get("logRetentionDays", 30)
    plan = planned(stack)
    groups = {g["inputs"]["name"]: g["inputs"] for g in of(plan, LOGS)}
    for fn in of(plan, FN):
        physical = fn["inputs"]["name"]
        assert physical == f"{prefix(stack)}-{fn['name']}"
        group = groups.pop(f"/aws/lambda/{physical}")
        assert group["retentionInDays"] == retention
        assert fn["inputs"]["loggingConfig"]["logGroup"] == f"/aws/lambda/{physical}"
    assert not groups


@pytest.mark.parametrize("stack", STACKS)
def test_layer_versions_match_their_variants(planned: Callable[[str], dict[str, Any]], stack: str) -> None:
    publish = stack_config(stack).get("publish", all_layers())
    plan = planned(stack)
    layer_versions = {lv["inputs"]["layerName"]: lv["inputs"] for lv in of(plan, LV)}
    expected: dict[str, tuple[str, tuple[list[str], list[str]]]] = {}
    for layer in publish:
        for physical, compat in expected_variants(stack, layer).items():
            expected[physical] = (layer, compat)
    assert sorted(layer_versions) == sorted(expected)
    for physical, (layer, (runtimes, archs)) in expected.items():
        inputs = layer_versions[physical]
        spec = layer_spec(layer)
        assert inputs["compatibleRuntimes"] == runtimes
        assert inputs["compatibleArchitectures"] == archs
        assert inputs["licenseInfo"] == spec["license"]
        assert inputs["description"].startswith(spec["description"])
        assert len(inputs["description"]) <= 256  # Lambda's limit on a layer description
        assert Path(inputs["code"]["archive"]).suffix == ".zip"  # a reproducible zip, not a directory
        assert "s3Key" not in inputs  # everything here is under the 50 MB direct-upload limit
    for variants in plan["outputs"]["layers"].values():
        for v in variants:
            physical = v["layerArn"].rsplit(":", 1)[-1]
            assert f"sha256 {v['sha256'][:12]}" in layer_versions[physical]["description"]


def test_physical_names_do_not_collide_between_stacks(planned: Callable[[str], dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for stack in STACKS:
        plan = planned(stack)
        names = ([lv["inputs"]["layerName"] for lv in of(plan, LV)] + [f["inputs"]["name"] for f in of(plan, FN)]
                 + [g["inputs"]["name"] for g in of(plan, LOGS)])
        for name in names:
            assert name not in seen, f"{name} is used by both {seen[name]} and {stack}"
            seen[name] = stack
    assert {"dev", "prod"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_have_the_documented_shape(planned: Callable[[str], dict[str, Any]], stack: str) -> None:
    cfg = stack_config(stack)
    plan = planned(stack)
    outputs = plan["outputs"]
    assert set(outputs) == {"layers", "functions"}
    assert sorted(outputs["layers"]) == sorted(cfg.get("publish", all_layers()))
    for layer, variants in outputs["layers"].items():
        assert len(variants) == len(expected_variants(stack, layer))
        for v in variants:
            assert set(v) == {"layerArn", "version", "arn", "runtimes", "architectures", "sha256", "regions"}
            assert isinstance(v["version"], int) and v["version"] >= 1
            home = plan["region"]
            regions = cfg.get("regions", [home])
            assert sorted(v["regions"]) == sorted(regions)
            assert v["regions"][home if home in regions else regions[0]] == {
                "layerArn": v["layerArn"], "version": v["version"], "arn": v["arn"]}
            assert v["arn"] == f"{v['layerArn']}:{v['version']}"
            assert VERSIONED.match(v["arn"])
            assert re.fullmatch(r"[0-9a-f]{64}", v["sha256"])
            assert isinstance(v["runtimes"], list) and isinstance(v["architectures"], list)
    functions = {f["name"]: f["inputs"] for f in of(plan, FN)}
    assert sorted(outputs["functions"]) == sorted(functions)
    for name, out in outputs["functions"].items():
        assert set(out) == {"name", "arn", "layers"}
        assert out["name"] == functions[name]["name"]
        assert out["arn"].endswith(f":function:{functions[name]['name']}")
        assert out["layers"] == functions[name]["layers"]


def test_consumer_publishes_nothing_and_attaches_prod_and_third_party(
        planned: Callable[[str], dict[str, Any]]) -> None:
    plan = planned("consumer")
    cfg = stack_config("consumer")
    assert not of(plan, LV) and not of(plan, GRANTS)
    assert not [r for r in plan["resources"] if r["type"].startswith("layersmith:index:Shared")]
    assert plan["outputs"]["layers"] == {}
    (ref,) = of(plan, "pulumi:pulumi:StackReference")
    assert ref["name"] == cfg["consume"]["stack"] == "acme/layersmith/prod"
    (fn,) = of(plan, FN)
    assert fn["name"] == "partner-digest"
    account, region = plan["mocked"]["account"], plan["region"]
    prod = f"arn:aws:lambda:{region}:{account}:layer:{prefix('prod')}"
    utils, monitoring, extension = fn["inputs"]["layers"]
    assert utils == f"{prod}-utils:3"  # pinned, through the StackReference's `layers` output
    monitoring_base, _ = split_arn(monitoring)
    assert monitoring_base == f"{prod}-monitoring-py311-x86_64"  # latest: the variant for 3.11/x86_64
    assert extension == cfg["consume"]["arns"]["secrets-extension"] + ":12"
    assert fn["inputs"]["name"] == f"{prefix('consumer')}-partner-digest"


# --- determinism -------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_planning_twice_gives_identical_resources(planned: Callable[[str], dict[str, Any]], cache_dir: Path,
                                                  stack: str) -> None:
    first = planned(stack)
    second = plan_with(ROOT, stack, cache_dir)
    assert second["resources"] == first["resources"]
    assert second["outputs"] == first["outputs"]


def test_a_fresh_build_gives_identical_resources(cache_dir: Path, tmp_path: Path) -> None:
    """Rebuilt from nothing (a new cache), unchanged inputs give the same zips, hence the same
    archives and digests: an unchanged stack previews no change. utils and monitoring only, to keep
    it fast; the data-science rebuild is covered by the builder's own tests."""
    project = tmp_path / "copy"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".layersmith", ".venv", ".git", "tests",
                                                                 "__pycache__", "bench", "docs"))
    (project / "Pulumi.rebuild.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  layersmith:publish: [utils, monitoring]\n"
        "  layersmith:deploy: [ingest-orders, thumbnail-index]\n"
        "  layersmith:shareWith:\n    accounts: ['111111111111']\n", encoding="utf-8")
    warm = plan_with(project, "rebuild", cache_dir)
    cold = plan_with(project, "rebuild", tmp_path / "fresh-cache")
    assert cold["resources"] == warm["resources"]
    assert cold["outputs"] == warm["outputs"]
    assert len(of(cold, LV)) == 1 + 6  # utils, and monitoring for 3 runtimes x 2 architectures
