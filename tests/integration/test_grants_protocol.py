"""`LayerGrants` speaks the engine's protocol: every RPC goes through Pulumi's own dynamic-provider
host (`python -m pulumi.dynamic`), with property bags exactly as the engine sends them.

What the host does with them (pulumi 3.272, `pulumi/dynamic/__main__.py` and
`pulumi/runtime/rpc.py`): Check and Diff deserialize olds and news with `keep_unknowns=True`, so
the engine's unknown sentinel (a preview of a version not yet published) reaches the provider as a
`pulumi.output.Unknown` instance, not as the sentinel string; a secret reaches every method still
wrapped (`{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": …}`);
Create, Update, Read and Delete deserialize without unknowns. A method that raises is answered
with `traceback.format_exc()`: the engine shows that text, so its last line must be the message.

State written by the previous release (`tests/integration/state/`, see its README) must still
diff, refresh and delete.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_engine import Engine, dynamic_provider_host
from helpers import REPO
from moto_fidelity import layer_policy_fidelity
from moto_layers import REGION, TEST_CREDENTIALS, fresh_lambda, layer_zip, moto_server
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2 as pb
from tiny_project import provider_blob

from layersmith.aws.grants import PREFIX, desired_statements
from layersmith.model import ShareWith

STATE = Path(__file__).resolve().parent / "state"
OLD_BLOB = (STATE / "layergrants_provider_4bd03ef.b64").read_text(encoding="utf-8").strip()
OLD_OUTPUTS: dict[str, Any] = json.loads((STATE / "layergrants_outputs_4bd03ef.json").read_text(encoding="utf-8"))
ACCOUNT = "123456789012"  # moto's default account
LAYER = "layersmith-prod-utils"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{LAYER}"
A, B, ORG = "222222222222", "333333333333", "o-exampleorg01"
SHARE = ShareWith(accounts=(A, B), organizations=(ORG,), public=False)


def grants(version: Any = 1, retain: bool = False) -> dict[str, Any]:
    return {"layerArn": ARN, "version": version, "retain": retain, "action": "lambda:GetLayerVersion",
            "statements": [s.to_props() for s in desired_statements(SHARE)]}


@pytest.fixture(scope="module")
def tiny_provider_blob(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The `__provider` today's program registers (a local layer: no download, runs offline)."""
    base = tmp_path_factory.mktemp("tiny")
    return provider_blob(base / "project", base / "cache")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with layer_policy_fidelity(), moto_server() as url:
        yield url


@pytest.fixture
def lam(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    return fresh_lambda(endpoint, monkeypatch)


@pytest.fixture
def engine(endpoint: str, tiny_provider_blob: str) -> Iterator[Engine]:
    with dynamic_provider_host(REPO, {**TEST_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}) as stub:
        eng = Engine(stub, tiny_provider_blob)
        eng.configure({"aws:region": REGION})
        yield eng


def check(eng: Engine, olds: dict[str, Any], news: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Check's inputs as the engine reads them (unknowns kept) and its failures."""
    from grpc_engine import _struct

    response = eng.stub.Check(pb.CheckRequest(urn=eng.urn("g"), olds=_struct(olds),
                                              news=_struct({**news, "__provider": eng.provider})))
    inputs = dict(rpc.deserialize_properties(response.inputs, keep_unknowns=True))
    return inputs, [(f.property, f.reason) for f in response.failures]


def diff(eng: Engine, olds: dict[str, Any], news: dict[str, Any]) -> Any:
    from grpc_engine import _struct

    return eng.stub.Diff(pb.DiffRequest(id=f"{ARN}:1", urn=eng.urn("g"), olds=_struct(olds),
                                        news=_struct({**news, "__provider": eng.provider})))


def last_line(err: pytest.ExceptionInfo[grpc.RpcError]) -> str:
    return str(err.value.details()).strip().splitlines()[-1]


def policy(lam: Any, version: int) -> list[str]:
    try:
        doc = lam.get_layer_version_policy(LayerName=LAYER, VersionNumber=version)["Policy"]
    except lam.exceptions.ResourceNotFoundException:
        return []
    return sorted(s["Sid"] for s in json.loads(doc)["Statement"])


def publish(lam: Any) -> int:
    return int(lam.publish_layer_version(LayerName=LAYER, Content={"ZipFile": layer_zip("p")})["Version"])


# --- preview: unknowns as the engine sends them ----------------------------------------------------

def test_preview_of_a_version_being_published_checks_and_diffs_as_a_replacement(engine: Engine) -> None:
    """`pulumi up` previews first: the new version is the engine's unknown sentinel in the Struct."""
    olds = {**OLD_OUTPUTS, "__provider": engine.provider}
    inputs, failures = check(engine, olds, grants(rpc.UNKNOWN))
    assert failures == []
    assert isinstance(inputs["version"], Unknown)  # handed back to the engine still unknown
    result = diff(engine, olds, grants(rpc.UNKNOWN))
    assert result.changes == pb.DiffResponse.DIFF_SOME
    assert list(result.replaces) == ["version"]


def test_preview_with_an_unknown_layer_arn_and_statements(engine: Engine) -> None:
    olds = {**OLD_OUTPUTS, "__provider": engine.provider}
    news = {**grants(1), "layerArn": rpc.UNKNOWN, "statements": [rpc.UNKNOWN]}
    _inputs, failures = check(engine, olds, news)
    assert failures == []  # unknown now, checked again when known
    result = diff(engine, olds, news)
    assert list(result.replaces) == ["layerArn"] and result.changes == pb.DiffResponse.DIFF_SOME


def test_an_unknown_whole_statement_list_is_a_change_not_a_crash(engine: Engine) -> None:
    olds = {**OLD_OUTPUTS, "__provider": engine.provider}
    result = diff(engine, olds, {**OLD_OUTPUTS, "statements": rpc.UNKNOWN})
    assert result.changes == pb.DiffResponse.DIFF_SOME and list(result.replaces) == []


# --- secrets ---------------------------------------------------------------------------------------

def test_secret_inputs_check_diff_create_read_and_delete(engine: Engine, lam: Any) -> None:
    v1 = publish(lam)
    secret = {**grants(v1), "layerArn": rpc.wrap_rpc_secret(ARN),
              "statements": rpc.wrap_rpc_secret(grants(v1)["statements"])}
    inputs, failures = check(engine, {}, secret)
    assert failures == []
    assert rpc.is_rpc_secret(inputs["layerArn"]) and rpc.is_rpc_secret(inputs["statements"])  # kept secret
    engine.up({"g": secret})
    assert policy(lam, v1) == sorted(s.sid for s in desired_statements(SHARE))
    _id, outputs = engine.state["g"]
    assert rpc.is_rpc_secret(outputs["layerArn"]) and rpc.is_rpc_secret(outputs["statements"])
    assert engine.up({"g": secret}) == [("same", "g")]
    assert diff(engine, {**outputs, "__provider": engine.provider}, grants(v1)).changes == pb.DiffResponse.DIFF_NONE
    refreshed = engine.refresh("g")
    assert refreshed is not None and rpc.is_rpc_secret(refreshed["statements"])
    engine.up({})
    assert policy(lam, v1) == []


# --- state the previous release wrote --------------------------------------------------------------

def test_the_previous_releases_provider_blob_unpickles_to_todays_class() -> None:
    import base64

    import dill  # type: ignore[import-untyped]

    from layersmith.infra.grants import LayerGrantsProvider

    provider = dill.loads(base64.b64decode(OLD_BLOB))
    assert type(provider) is LayerGrantsProvider
    provider.configure(type("Req", (), {"config": {}})())  # what the host calls first
    assert provider.check({}, grants(1)).failures == []


def test_the_blob_names_only_the_providers_module_path() -> None:
    """Issue 24 regrouped the package: the blob (made before that) refers to layersmith by one module
    path, `layersmith.infra.grants`, which must stay importable with the class under that name."""
    import base64
    import importlib
    import pickletools

    named = {arg for _op, arg, _pos in pickletools.genops(base64.b64decode(OLD_BLOB))
             if isinstance(arg, str) and arg.startswith("layersmith")}
    assert named == {"layersmith.infra.grants"}
    assert importlib.import_module("layersmith.infra.grants").LayerGrantsProvider.__name__ == "LayerGrantsProvider"


def test_the_previous_releases_state_diffs_refreshes_and_deletes(endpoint: str, lam: Any) -> None:
    """The engine keeps the `__provider` of the state for Read and Delete (and of the olds for a
    Diff whose news provider is unknown): today's host must run it."""
    v1 = publish(lam)
    assert v1 == OLD_OUTPUTS["version"]
    with dynamic_provider_host(REPO, {**TEST_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}) as stub:
        eng = Engine(stub, OLD_BLOB)
        eng.configure({"aws:region": REGION})
        eng.up({"g": {k: v for k, v in OLD_OUTPUTS.items()}})  # what that release created
        assert policy(lam, v1) == sorted(s["sid"] for s in OLD_OUTPUTS["statements"])
        eng.state["g"] = (eng.state["g"][0], {**OLD_OUTPUTS, "__provider": OLD_BLOB})  # exactly its outputs
        same = diff(eng, {**OLD_OUTPUTS, "__provider": OLD_BLOB}, grants(v1))
        assert same.changes == pb.DiffResponse.DIFF_NONE
        lam.remove_layer_version_permission(LayerName=LAYER, VersionNumber=v1, StatementId=f"{PREFIX}account-{B}")
        refreshed = eng.refresh("g")
        assert refreshed is not None and [s["sid"] for s in refreshed["statements"]] == [
            f"{PREFIX}account-{A}", f"{PREFIX}org-{ORG}"]
        eng.up({})  # not retained: the delete removes its own statements
    assert policy(lam, v1) == []


def test_state_without_a_newer_field_still_diffs(engine: Engine) -> None:
    """An older shape: no `retain`, no `action`, statements without `organizationId`, the version a
    float (the Struct's number)."""
    older = {"layerArn": ARN, "version": 1.0, "__provider": engine.provider,
             "statements": [{"sid": f"{PREFIX}account-{A}", "principal": A}]}
    result = diff(engine, older, {**grants(1), "statements": older["statements"]})
    assert list(result.replaces) == [] and result.changes == pb.DiffResponse.DIFF_NONE
    assert diff(engine, older, grants(1)).changes == pb.DiffResponse.DIFF_SOME  # more statements: update


# --- errors in check and diff end in one line ------------------------------------------------------

def test_malformed_statements_are_a_check_failure_not_a_traceback(engine: Engine) -> None:
    _inputs, failures = check(engine, {}, {**grants(1), "statements": 5})
    assert failures and failures[0][0] == "statements"


def test_an_error_in_diff_is_one_line_naming_the_resource(engine: Engine) -> None:
    broken = {**OLD_OUTPUTS, "statements": [{"principal": A}], "__provider": engine.provider}  # no sid
    with pytest.raises(grpc.RpcError) as err:
        diff(engine, broken, grants(1))
    assert last_line(err).startswith("layersmith.infra.grants.GrantError: layersmith: LayerGrants diff of "
                                     f"{ARN} version 1: ")
    assert "During handling of the above exception" not in str(err.value.details())  # no chained traceback
