"""`LayerGrants`: a Pulumi dynamic resource owning the layersmith statements of ONE layer version.

Why a dynamic resource and not `aws.lambda_.LayerVersionPermission`: see `layersmith.aws.grants`
(the upstream Read copies the first statement of the policy into every grant of the version,
hashicorp/terraform-provider-aws#21917). The CRUD logic lives there, on boto3; this module is
the Pulumi side only:

* diff: another layer or version replaces the resource; other principals (or `retain`) update it
  in place. A replacement deletes the old resource first (see `diff_props`).
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

What the host hands each method (pulumi 3.272, `pulumi/dynamic/__main__.py`, `runtime/rpc.py`):
Check and Diff deserialize with `keep_unknowns=True`, so a value the preview does not know yet (the
version being published) arrives as a `pulumi.output.Unknown` instance — never as the sentinel
string `rpc.UNKNOWN`, which only the Struct on the wire carries. A secret input arrives in every
method still wrapped as `{rpc._special_sig_key: rpc._special_secret_sig, "value": ...}` (the host
pushes nested secrets up to the top-level value). An exception is answered with
`traceback.format_exc()`, which the engine prints: every method therefore ends in one `GrantError`
line (`_one_line`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
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


def _one_line(operation: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """The host formats the whole traceback of a failed call: drop botocore's chained frames so
    the output ends with one line naming the layer, the version and what to do. Anything that is
    not a `LayersmithError` is a bug here, still one line, naming the operation and the resource."""

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            try:
                return fn(*args, **kwargs)
            except GrantError:
                raise
            except LayersmithError as exc:
                raise GrantError(f"layersmith: {exc.render()}") from None
            except Exception as exc:  # the engine would print the raw traceback
                raise GrantError(f"layersmith: LayerGrants {operation} of {_label(args)}: {type(exc).__name__}: "
                                 f"{exc}; this is a bug in layersmith: report it with this line") from None

        return wrapper

    return decorate


def _label(args: tuple[Any, ...]) -> str:
    """`<layer ARN> version <n>` from the first property bag among a provider method's arguments."""
    for arg in args:
        if isinstance(arg, dict) and "layerArn" in arg:
            props = reveal(arg)[0]
            return f"{props.get('layerArn')} version {_shown(props.get('version'))}"
    return "a layer version"


def _shown(value: object) -> str:
    if isinstance(value, int | float) and float(value).is_integer():
        return str(int(value))
    return "(unknown)" if not _known(value) else str(value)


def reveal(props: dict[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """The property bag with its secrets unwrapped, and the keys that were secret (the host keeps
    secrets wrapped at the top level of each property)."""
    from pulumi.runtime import rpc

    secret = frozenset(k for k, v in props.items() if rpc.is_rpc_secret(v))
    return {k: rpc.unwrap_rpc_secret(v) for k, v in props.items()}, secret


def _conceal(props: dict[str, Any], secret: frozenset[str]) -> dict[str, Any]:
    """Wrap again what was secret: outputs stay as secret as the inputs they came from."""
    from pulumi.runtime import rpc

    return {k: rpc.wrap_rpc_secret(v) if k in secret else v for k, v in props.items()}


def statements_of(props: dict[str, Any]) -> list[Statement]:
    return sorted(Statement.from_props(s) for s in props.get("statements") or [])


def _has_unknowns(value: object) -> bool:
    if isinstance(value, dict):
        return any(_has_unknowns(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknowns(v) for v in value)
    return not _known(value)


def _wire(value: Any) -> Any:
    """An `Unknown` back to the sentinel the Struct carries: Check's inputs go back to the engine,
    and `rpc.serialize_property` does not know the `Unknown` class."""
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    from pulumi.runtime import rpc

    return rpc.UNKNOWN if not _known(value) else value


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


def _sid_failures(statements: object) -> list[dynamic.CheckFailure]:
    """Every statement id is valid for Lambda and carries the prefix that marks it as ours. A value
    the preview does not know yet is checked again when it is known."""
    if not _known(statements):
        return []
    if not isinstance(statements, list):
        return [dynamic.CheckFailure("statements", f"must be a list of {{sid, principal, organizationId}}, "
                                                   f"not {type(statements).__name__}")]
    failures = []
    for item in statements:
        if _has_unknowns(item):
            continue
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

        from layersmith.aws.sessions import boto_config

        parsed = parse_layer_arn(layer_arn)
        region = parsed.region if parsed else None
        try:
            session = boto3.Session(profile_name=self._profile) if self._profile else boto3.Session()
        except ProfileNotFound:
            raise AwsError(f"aws:profile {self._profile!r} is not in your AWS config files; fix the stack's "
                           "aws:profile or run aws configure --profile with that name") from None
        api: LayerPolicyApi = session.client("lambda", region_name=region, config=boto_config())
        return api

    def _policy(self, props: dict[str, Any]) -> VersionPolicy:
        arn = str(props["layerArn"])
        return VersionPolicy(self.client(arn), arn, int(props["version"]))

    @_one_line("check")
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        plain = reveal(news)[0]
        failures = [*_layer_arn_failures(plain.get("layerArn")), *_sid_failures(plain.get("statements") or [])]
        return dynamic.CheckResult(_wire(news), failures)  # secrets stay wrapped, unknowns stay unknown

    @_one_line("diff")
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        return diff_props(reveal(olds)[0], reveal(news)[0])

    @_one_line("create")
    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        plain, secret = reveal(props)
        policy = self._policy(plain)
        policy.reconcile(statements_of(plain))
        return dynamic.CreateResult(f"{plain['layerArn']}:{int(plain['version'])}",
                                    _conceal(outputs(plain), secret))

    @_one_line("update")
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        plain, secret = reveal(news)
        self._policy(plain).reconcile(statements_of(plain))
        return dynamic.UpdateResult(_conceal(outputs(plain), secret))

    @_one_line("delete")
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        plain = reveal(props)[0]
        if plain.get("retain"):
            return  # superseded versions keep their grants: consumers pinned to them keep access
        self._policy(plain).revoke_all()

    @_one_line("read")
    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        plain, secret = reveal(props)
        try:
            owned = self._policy(plain).owned()
        except VersionGone:
            return dynamic.ReadResult("", {})  # the version is gone: so is this resource
        return dynamic.ReadResult(id_, _conceal({**outputs(plain), "statements": [s.to_props() for s in owned]},
                                                secret))


def outputs(props: dict[str, Any]) -> dict[str, Any]:
    return {"layerArn": props["layerArn"], "version": int(props["version"]), "retain": bool(props.get("retain")),
            "action": ACTION, "statements": [s.to_props() for s in statements_of(props)]}


def diff_props(olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
    """Another version or layer replaces; principals (and `retain`) update in place. An unknown new
    value (a version being published in this preview) counts as a change of that field.

    A replacement deletes the old resource first. Create-before-delete (the engine's default) is
    wrong here whenever the replacement owns the same version (`pulumi up --replace`): the new
    resource adopts the statements, then the old one's delete revokes them all, leaving the version
    without its grants while the state says granted. The delete cannot tell, since both resources
    own the same statement ids. `LayerGrants` also sets the `delete_before_replace` resource option,
    because a targeted replace never asks the provider's Diff."""
    news_statements = news.get("statements") or []
    replaces = [key for key in _IDENTITY if not _same(olds.get(key), news.get(key))]
    changed = replaces or [key for key in ("retain",) if bool(olds.get(key)) != bool(news.get(key))]
    if _has_unknowns(news_statements) or statements_of(olds) != statements_of(news):
        changed = [*changed, "statements"]
    return dynamic.DiffResult(changes=bool(changed), replaces=replaces, stables=[],
                              delete_before_replace=True)


def _known(value: object) -> bool:
    """False for a value the preview does not know yet: the `Unknown` the host deserializes the
    engine's sentinel into (`keep_unknowns=True`), or the sentinel string itself."""
    from pulumi.output import Unknown
    from pulumi.runtime import rpc

    return not isinstance(value, Unknown) and not (isinstance(value, str) and value == rpc.UNKNOWN)


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
        # Delete before replace (see `diff_props`): the option, not only the Diff answer, because
        # `pulumi up --replace` does not call the provider's Diff (pulumi's step generator).
        first = pulumi.ResourceOptions(delete_before_replace=True)
        super().__init__(LayerGrantsProvider(), name, props, pulumi.ResourceOptions.merge(first, opts))
