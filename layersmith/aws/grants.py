"""The grants of one layer version, reconciled against its resource policy (boto3, no Pulumi).

Why not `aws.lambda_.LayerVersionPermission`: the upstream resource
(terraform-provider-aws `internal/service/lambda/layer_version_permission.go`) is one statement
per resource with ID `layer,version`, and its Read (which Create also calls) copies
`statement_id`, `action`, `principal` and `organization_id` from the *first* statement of the
version's policy. With several grants on one version every resource but one stores another
grant's values, all four fields are ForceNew, and the next `pulumi up` re-adds a statement id
that still exists: AWS answers ResourceConflictException (hashicorp/terraform-provider-aws#21917).

Here one owner reconciles a whole version instead. It owns exactly the statements whose id starts
with `PREFIX`; a statement with any other id (added by hand, by another tool) is never touched.

Lambda API reference facts applied (AddLayerVersionPermission, GetLayerVersionPolicy,
RemoveLayerVersionPermission):
* StatementId matches `([a-zA-Z0-9-_]+)`, 1-100 characters; an id already in the policy is a
  ResourceConflictException, so a changed statement is removed, then added.
* An account principal reads back as `{"AWS": "arn:<partition>:iam::<id>:root"}`, `*` as `"*"`;
  an OrganizationId reads back as `Condition: {StringEquals: {aws:PrincipalOrgID: <id>}}`.
* GetLayerVersionPolicy answers ResourceNotFoundException both for a version without a policy and
  for a version that does not exist; GetLayerVersion tells the two apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from layersmith.arns import parse_layer_arn
from layersmith.aws.clients import DENIED, THROTTLING, Caller, error_code
from layersmith.errors import AwsError
from layersmith.model import ShareWith

PREFIX = "layersmith-"
ACTION = "lambda:GetLayerVersion"
NOT_FOUND = "ResourceNotFoundException"
CONFLICT = "ResourceConflictException"


@dataclass(frozen=True, order=True)
class Statement:
    """One grant as layersmith states it: `principal` is a 12-digit account or `*`."""

    sid: str
    principal: str
    organization_id: str | None = None

    def to_props(self) -> dict[str, Any]:
        """camelCase, as the dynamic resource carries it (and the policy pack reads it)."""
        return {"sid": self.sid, "principal": self.principal, "organizationId": self.organization_id}

    @classmethod
    def from_props(cls, data: Mapping[str, Any]) -> Statement:
        org = data.get("organizationId")
        return cls(str(data["sid"]), str(data["principal"]), str(org) if org else None)


def desired_statements(share: ShareWith) -> list[Statement]:
    """Accounts get their own statement; an organization is principal `*` scoped by its ID; a bare
    `*` only when the stack explicitly asks for public. Ids derive from the principal, so two grants
    never collide and the same grant always has the same id."""
    wanted = [Statement(f"{PREFIX}account-{acct}", acct) for acct in share.accounts]
    wanted += [Statement(f"{PREFIX}org-{org}", "*", org) for org in share.organizations]
    if share.public:
        wanted.append(Statement(f"{PREFIX}public", "*"))
    return sorted(wanted)


def _principal(raw: object) -> str:
    """`{"AWS": "arn:aws:iam::123456789012:root"}` / `"123456789012"` -> the account; `*` stays."""
    value = raw.get("AWS", "") if isinstance(raw, Mapping) else raw
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else json.dumps(value)
    text = str(value)
    if text.startswith("arn:") and text.endswith(":root"):
        return text.split(":")[4]
    return text


def _organization(statement: Mapping[str, Any]) -> str | None:
    condition = statement.get("Condition") or {}
    equals = condition.get("StringEquals") or {} if isinstance(condition, Mapping) else {}
    value = equals.get("aws:PrincipalOrgID") if isinstance(equals, Mapping) else None
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


@dataclass(frozen=True)
class PolicyStatement:
    """A statement as read from a version's policy; `statement` is None when it is not a plain grant
    of `ACTION` (another action, a Deny): such a statement is never 'identical' to ours."""

    sid: str
    statement: Statement | None

    @property
    def owned(self) -> bool:
        return self.sid.startswith(PREFIX)


def parse_policy(policy: str | None) -> list[PolicyStatement]:
    if not policy:
        return []
    out = []
    for raw in json.loads(policy).get("Statement", []):
        sid = str(raw.get("Sid", ""))
        actions = raw.get("Action")
        plain = raw.get("Effect", "Allow") == "Allow" and actions in (ACTION, [ACTION])
        out.append(PolicyStatement(sid, Statement(sid, _principal(raw.get("Principal")), _organization(raw))
                                   if plain else None))
    return out


class LayerPolicyApi(Protocol):
    """The four Lambda operations a grant owner uses (a boto3 Lambda client satisfies it)."""

    def get_layer_version(self, **kwargs: Any) -> dict[str, Any]: ...
    def get_layer_version_policy(self, **kwargs: Any) -> dict[str, Any]: ...
    def add_layer_version_permission(self, **kwargs: Any) -> dict[str, Any]: ...
    def remove_layer_version_permission(self, **kwargs: Any) -> dict[str, Any]: ...


class VersionGone(AwsError):
    """The layer version does not exist (deleted outside Pulumi, or never published)."""


@dataclass(frozen=True)
class Changes:
    """What one reconcile did: statement ids added, removed, adopted (already there, identical)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    adopted: tuple[str, ...] = ()


@dataclass
class VersionPolicy:
    """The layersmith-owned statements of one layer version, read and changed through `api`."""

    api: LayerPolicyApi
    layer_arn: str  # unversioned
    version: int
    caller: Caller = field(default_factory=Caller)

    @property
    def label(self) -> str:
        parsed = parse_layer_arn(self.layer_arn)
        name = parsed.name if parsed else self.layer_arn
        return f"layer {name} version {self.version}"

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One call, throttling retried by `Caller`; failures become one line naming the version."""
        method = getattr(self.api, operation)
        try:
            result: dict[str, Any] = self.caller(
                lambda: method(LayerName=self.layer_arn, VersionNumber=self.version, **kwargs),
                f"{self.label}: lambda:{_action_name(operation)}")
            return result
        except AwsError as exc:
            cause = exc.__cause__
            code = error_code(cause) if isinstance(cause, ClientError | BotoCoreError) else ""
            if code in DENIED:
                raise AwsError(f"{self.label}: access denied for lambda:{_action_name(operation)}; "
                               "grant it to the credentials Pulumi runs with (aws:profile or the "
                               "environment)") from cause
            if code in THROTTLING:
                raise AwsError(f"{self.label}: still throttled ({code}) after retries; run pulumi up "
                               "again later") from cause
            raise

    def read(self) -> list[PolicyStatement]:
        """Every statement of the version's policy; `VersionGone` when the version does not exist."""
        try:
            return parse_policy(self._call("get_layer_version_policy").get("Policy"))
        except AwsError as exc:
            if _code(exc) != NOT_FOUND:
                raise
        self.require_exists()
        return []  # the version exists, it just has no policy yet

    def require_exists(self) -> None:
        try:
            self._call("get_layer_version")
        except AwsError as exc:
            if _code(exc) == NOT_FOUND:
                raise VersionGone(f"{self.label} does not exist; it was deleted outside Pulumi or never "
                                  "published: remove the pin naming it, or run pulumi refresh") from exc
            raise

    def owned(self) -> list[Statement]:
        return sorted(p.statement if p.statement else Statement(p.sid, "?")
                      for p in self.read() if p.owned)

    def reconcile(self, desired: Sequence[Statement]) -> Changes:
        """Make the owned statements exactly `desired`: identical ones are adopted, changed ones
        replaced, missing ones added, owned ones no longer wanted revoked."""
        current = {p.sid: p for p in self.read()}
        wanted = {s.sid: s for s in desired}
        added, removed, adopted = [], [], []
        for sid, have in sorted(current.items()):
            if have.owned and (sid not in wanted or have.statement != wanted[sid]):
                self._remove(sid)
                removed.append(sid)
        for sid, statement in sorted(wanted.items()):
            if sid in current and current[sid].statement == statement:
                adopted.append(sid)
            else:
                self._add(statement)
                added.append(sid)
        return Changes(tuple(added), tuple(removed), tuple(adopted))

    def revoke_all(self) -> tuple[str, ...]:
        """Remove every owned statement; a version already gone has none left to remove."""
        try:
            sids = [p.sid for p in self.read() if p.owned]
        except VersionGone:
            return ()
        for sid in sids:
            self._remove(sid)
        return tuple(sids)

    def _add(self, statement: Statement) -> None:
        kwargs: dict[str, Any] = {"StatementId": statement.sid, "Action": ACTION, "Principal": statement.principal}
        if statement.organization_id:
            kwargs["OrganizationId"] = statement.organization_id
        try:
            self._call("add_layer_version_permission", **kwargs)
        except AwsError as exc:
            # Another owner of this version (its current and a pinned grant) may have added the same
            # statement a moment ago: identical content is success, anything else is a real conflict.
            if _code(exc) != CONFLICT or self._find(statement.sid) != statement:
                raise

    def _remove(self, sid: str) -> None:
        try:
            self._call("remove_layer_version_permission", StatementId=sid)
        except AwsError as exc:
            if _code(exc) != NOT_FOUND:  # already gone: what we wanted
                raise

    def _find(self, sid: str) -> Statement | None:
        return next((p.statement for p in self.read() if p.sid == sid), None)


def _code(exc: AwsError) -> str:
    cause = exc.__cause__
    return error_code(cause) if cause is not None else ""


def _action_name(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))


def describe_statements(statements: Iterable[Statement]) -> list[str]:
    """`account 222222222222`, `org o-…`, `PUBLIC`: how plan, inventory and errors name grants."""
    out = []
    for s in statements:
        if s.organization_id:
            out.append(f"org {s.organization_id}")
        else:
            out.append("PUBLIC" if s.principal == "*" else f"account {s.principal}")
    return out
