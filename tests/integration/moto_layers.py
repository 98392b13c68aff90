"""moto_server on loopback for the inventory/prune tests, plus seeding and wire-level fault helpers.

Two honest workarounds, both for moto 5.2.5 (pinned in requirements-dev.txt):

* moto resolves a function's layer ARNs in the *function's* account, by layer name only, so it
  rejects a function in account B that attaches a layer version of account A (real Lambda accepts
  it when A's layer policy grants B `lambda:GetLayerVersion`). `cross_account_layers()` fixes that
  one lookup to use the account and region in the ARN; seeding still goes through the real API.
* moto lets any role be assumed and does not throttle. `deny_assume_role` / `throttle` answer a
  request on the client's `before-send` hook with the exact bytes STS/Lambda send in that case, so
  botocore parses a genuine error response and layersmith's real error handling runs.
"""

from __future__ import annotations

import io
import json
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from moto.awslambda import models as lambda_models
from moto.awslambda.utils import get_backend, split_layer_arn
from moto.server import ThreadedMotoServer

REGION = "eu-west-1"
LAMBDA_ROLE = "service-role/lambda-basic"


@contextmanager
def cross_account_layers() -> Iterator[None]:
    original = lambda_models.LambdaFunction._get_layers_data

    def _get_layers_data(self: Any, arns: list[str]) -> list[dict[str, Any]]:
        out = []
        for arn in arns:
            parts = split_layer_arn(arn)
            found = get_backend(parts.account, parts.region).layers_versions_by_arn(arn)
            if found is None:
                raise lambda_models.UnknownLayerVersionException(arns)
            out.append({"Arn": found.arn, "CodeSize": found.code_size})
        return out

    lambda_models.LambdaFunction._get_layers_data = _get_layers_data
    try:
        yield
    finally:
        lambda_models.LambdaFunction._get_layers_data = original


@contextmanager
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}


def fresh_lambda(endpoint: str, monkeypatch: Any) -> Any:
    """An emptied moto_server and a Lambda client on it; boto3 anywhere in this process (and any
    subprocess started with this environment) goes to the same endpoint with test credentials."""
    reset(endpoint)
    for key, value in {**TEST_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(key, value)
    return boto3.client("lambda", region_name=REGION)


def reset(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)


def layer_zip(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"python/{name.replace('-', '_')}.py", f"NAME = {name!r}\n")
    return buf.getvalue()


class Account:
    """Seeds one moto account through the public API (home credentials, or an assumed role)."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.id = str(session.client("sts").get_caller_identity()["Account"])
        self.iam = session.client("iam")
        self.iam.create_role(RoleName="lambda-basic", Path="/service-role/", AssumeRolePolicyDocument=json.dumps({
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                           "Action": "sts:AssumeRole"}]}))
        self.lam = session.client("lambda", region_name=REGION)

    @classmethod
    def assumed(cls, home: boto3.Session, account: str, role: str = "layersmith-inventory") -> Account:
        creds = home.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}",
                                               RoleSessionName="seed")["Credentials"]
        return cls(boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                                 aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"], region_name=REGION))

    def publish(self, name: str, count: int, runtimes: tuple[str, ...] = ("python3.12",),
                architectures: tuple[str, ...] = ("x86_64",)) -> list[str]:
        return [self.lam.publish_layer_version(
            LayerName=name, Content={"ZipFile": layer_zip(name)}, CompatibleRuntimes=list(runtimes),
            CompatibleArchitectures=list(architectures), Description=f"{name} build {n}")["LayerVersionArn"]
            for n in range(1, count + 1)]

    def share(self, name: str, version: int, account: str) -> None:
        self.lam.add_layer_version_permission(LayerName=name, VersionNumber=version,
                                              StatementId=f"layersmith-account-{account}",
                                              Action="lambda:GetLayerVersion",
                                              Principal=account)

    def function(self, name: str, layers: list[str]) -> None:
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="handler.handler",
                                 Role=f"arn:aws:iam::{self.id}:role/{LAMBDA_ROLE}",
                                 Code={"ZipFile": layer_zip(name)}, Layers=layers)

    def publish_function(self, name: str, layers: list[str] | None = None) -> str:
        if layers is not None:
            self.lam.update_function_configuration(FunctionName=name, Layers=layers)
        return str(self.lam.publish_version(FunctionName=name)["Version"])

    def versions(self, name: str) -> list[int]:
        return sorted(v["Version"] for v in self.lam.list_layer_versions(LayerName=name)["LayerVersions"])


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def deny_assume_role(session: boto3.Session, account: str) -> None:
    """STS answers AssumeRole into `account` with AccessDenied, as it does for a role that does not trust us."""

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        body = urllib.parse.parse_qs((request.body or b"").decode() if isinstance(request.body, bytes)
                                     else str(request.body or ""))
        role = body.get("RoleArn", [""])[0]
        if body.get("Action") != ["AssumeRole"] or f"::{account}:" not in role:
            return None
        xml = (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
               f"<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ops is not authorized "
               f"to perform: sts:AssumeRole on resource: {role}</Message></Error>"
               f"<RequestId>c0ffee00-0000-4000-8000-000000000000</RequestId></ErrorResponse>")
        return AWSResponse(request.url, 403, {"Content-Type": "text/xml"}, _Raw(xml.encode()))

    session.events.register("before-send.sts.AssumeRole", before_send)


def throttle(session: boto3.Session, operation: str, times: int) -> Callable[[], int]:
    """Lambda answers `operation` with 429 TooManyRequestsException `times` times; returns a counter."""
    seen = {"n": 0}

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        if seen["n"] >= times:
            return None
        seen["n"] += 1
        body = json.dumps({"Type": "User", "message": "Rate exceeded", "Reason": "CallerRateLimitExceeded"})
        return AWSResponse(request.url, 429, {"x-amzn-ErrorType": "TooManyRequestsException:",
                                              "Content-Type": "application/json"}, _Raw(body.encode()))

    session.events.register(f"before-send.lambda.{operation}", before_send)
    return lambda: seen["n"]
