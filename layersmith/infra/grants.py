"""`LayerGrants`: a Pulumi dynamic resource owning the layersmith statements of ONE layer version.

Why a dynamic resource and not `aws.lambda_.LayerVersionPermission`: see `layersmith.aws.grants`
(the upstream Read copies the first statement of the policy into every grant of the version,
hashicorp/terraform-provider-aws#21917). The CRUD logic lives there, on boto3; this module is
the Pulumi side only:

* diff: another layer or version replaces the resource; other principals (or `retain`) update it
  in place.
* create / update: reconcile — identical statements adopted, changed ones replaced, missing ones
  added, dropped ones revoked; a statement without the `layersmith-` prefix is never touched.
* delete: with `retain` (the stack retains versions) nothing is removed, so consumers pinned to
  a superseded version keep access; otherwise the resource removes its own statements.
* read: the owned statements as they are in AWS, so `pulumi refresh` is truthful.

The engine runs this provider in its own process (`python -m pulumi.dynamic`, started in the
project directory) from the dill-serialized `LayerGrantsProvider` instance. The instance holds no
state: the class is pickled by reference, so the host must be able to import `layersmith`.
Credentials: boto3's default chain with the stack's `aws:profile`; the region is the one in the
layer ARN (built from `aws:region`). Nothing else of the aws provider's config (assumeRole,
explicit keys) applies here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pulumi
import pulumi.dynamic as dynamic

from layersmith.arns import parse_layer_arn
from layersmith.aws.grants import ACTION, PREFIX, LayerPolicyApi, Statement, VersionGone, VersionPolicy
from layersmith.errors import AwsError, LayersmithError

T = TypeVar("T")
TYPE = "pulumi-python:dynamic/layersmith:LayerGrants"
_SID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")  # AddLayerVersionPermission StatementId
_IDENTITY = ("layerArn", "version")  # what the resource is about: a change means another resource


class GrantError(Exception):
    """A grant operation failed; its text is the one line the engine shows last."""


def _one_line(fn: Callable[..., T]) -> Callable[..., T]:
    """The host formats the whole traceback of a failed call: drop botocore's chained frames so
    the output ends with one line naming the layer, the version and what to do."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except LayersmithError as exc:
            raise GrantError(f"layersmith: {exc.render()}") from None

    return wrapper


def statements_of(props: dict[str, Any]) -> list[Statement]:
    return sorted(Statement.from_props(s) for s in props.get("statements") or [])


def _layer_arn_failures(arn: object) -> list[dynamic.CheckFailure]:
    """`layerArn` names a layer, without a version (the version is its own input)."""
    if not isinstance(arn, str):
        return []
    parsed = parse_layer_arn(arn)
    if parsed is None:
        return [dynamic.CheckFailure("layerArn", f"{arn!r} is not a layer ARN")]
    if parsed.version is not None:
        return [dynamic.CheckFailure("layerArn", f"{arn} must be unversioned (the version is separate)")]
    return []


def _sid_failures(statements: Iterable[object]) -> list[dynamic.CheckFailure]:
    """Every statement id is valid for Lambda and carries the prefix that marks it as ours."""
    failures = []
    for item in statements:
        sid = str(item.get("sid", "")) if isinstance(item, dict) else ""
        if not (_SID.match(sid) and sid.startswith(PREFIX)):
            failures.append(dynamic.CheckFailure(
                "statements", f"statement id {sid!r} must match [A-Za-z0-9_-]{{1,100}} and start with {PREFIX!r}"))
    return failures


class LayerGrantsProvider(dynamic.ResourceProvider):
    """Stateless: every call builds its Lambda client from the stack config and the props."""

    serialize_as_secret_always = False  # it captures nothing secret; keep the state readable

    def __init__(self) -> None:
        super().__init__()
        self._profile: str | None = None

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        # The engine passes the stack's config: honour the profile the aws provider is told to use.
        profile = req.config.get("aws:profile")
        self._profile = str(profile) if profile else None

    def client(self, layer_arn: str) -> LayerPolicyApi:
        """The seam the tests replace; boto3 honours AWS_ENDPOINT_URL (moto_server in the tests)."""
        import boto3
        from botocore.exceptions import ProfileNotFound

        from layersmith.aws.clients import BOTO_CONFIG

        parsed = parse_layer_arn(layer_arn)
        region = parsed.region if parsed else None
        try:
            session = boto3.Session(profile_name=self._profile) if self._profile else boto3.Session()
        except ProfileNotFound:
            raise AwsError(f"aws:profile {self._profile!r} is not in your AWS config files; fix the stack's "
                           "aws:profile or run aws configure --profile with that name") from None
        api: LayerPolicyApi = session.client("lambda", region_name=region, config=BOTO_CONFIG)
        return api

    def _policy(self, props: dict[str, Any]) -> VersionPolicy:
        arn = str(props["layerArn"])
        return VersionPolicy(self.client(arn), arn, int(props["version"]))

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        return dynamic.CheckResult(news, [*_layer_arn_failures(news.get("layerArn")),
                                          *_sid_failures(news.get("statements") or [])])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        return diff_props(olds, news)

    @_one_line
    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        policy = self._policy(props)
        policy.reconcile(statements_of(props))
        return dynamic.CreateResult(f"{props['layerArn']}:{int(props['version'])}", outputs(props))

    @_one_line
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        self._policy(news).reconcile(statements_of(news))
        return dynamic.UpdateResult(outputs(news))

    @_one_line
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if props.get("retain"):
            return  # superseded versions keep their grants: consumers pinned to them keep access
        self._policy(props).revoke_all()

    @_one_line
    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        try:
            owned = self._policy(props).owned()
        except VersionGone:
            return dynamic.ReadResult("", {})  # the version is gone: so is this resource
        return dynamic.ReadResult(id_, {**outputs(props), "statements": [s.to_props() for s in owned]})


def outputs(props: dict[str, Any]) -> dict[str, Any]:
    return {"layerArn": props["layerArn"], "version": int(props["version"]), "retain": bool(props.get("retain")),
            "action": ACTION, "statements": [s.to_props() for s in statements_of(props)]}


def diff_props(olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
    """Another version or layer replaces; principals (and `retain`) update in place. An unknown new
    value (a version being published in this preview) counts as a change of that field."""
    replaces = [key for key in _IDENTITY if not _same(olds.get(key), news.get(key))]
    changed = replaces or [key for key in ("retain",) if bool(olds.get(key)) != bool(news.get(key))]
    if statements_of(olds) != statements_of(news):
        changed = [*changed, "statements"]
    return dynamic.DiffResult(changes=bool(changed), replaces=replaces, stables=[],
                              delete_before_replace=False)


def _known(value: object) -> bool:
    from pulumi.runtime import rpc

    return value != rpc.UNKNOWN


def _same(old: object, new: object) -> bool:
    if not _known(new):
        return False
    if isinstance(old, int | float) or isinstance(new, int | float):
        return old is not None and new is not None and int(old) == int(new)  # type: ignore[call-overload]
    return old == new


class LayerGrants(dynamic.Resource, module="layersmith", name="LayerGrants"):
    """The layersmith grants (lambda:GetLayerVersion) on one version of one layer."""

    def __init__(self, name: str, *, layer_arn: pulumi.Input[str], version: pulumi.Input[int],
                 statements: list[Statement], retain: bool,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"layerArn": layer_arn, "version": version, "retain": retain, "action": ACTION,
                 "statements": [s.to_props() for s in sorted(statements)]}
        super().__init__(LayerGrantsProvider(), name, props, opts)
