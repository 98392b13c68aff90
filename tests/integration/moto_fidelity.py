"""`layer_policy_fidelity()`: moto's layer-version policy made to behave as the Lambda API reference
documents it. A named, test-only patch of moto 5.2.5 (pinned in requirements-dev.txt).

Measured with moto 5.2.5, where moto is not faithful:
* AddLayerVersionPermission accepts a StatementId that is already in the policy. AWS answers
  ResourceConflictException ("The statement id (…) provided already exists").
* The request's OrganizationId is dropped from the statement. AWS writes it as
  `Condition: {StringEquals: {aws:PrincipalOrgID: <id>}}`.
* An account principal stays a bare "123456789012". AWS writes `{"AWS": "arn:aws:iam::<id>:root"}`.
* The statement's Resource is the layer ARN + ":$LATEST". AWS writes the layer *version* ARN.
* RemoveLayerVersionPermission leaves the policy's RevisionId unchanged. AWS changes RevisionId on
  every mutation (the optimistic-locking token of all three calls).
* With duplicated ids (which AWS never has), remove deletes only the first.

A deploy sequence against plain moto passes even with the `LayerVersionPermission` design that
fails on real AWS; `tests/integration/test_grants_deploy.py` shows both. The patch is also where
the tests count Add/Remove calls per version (`CALLS`).

`layer_version_fidelity()`: two more gaps of moto 5.2.5, in the layer versions themselves.
* DeleteLayerVersion of a layer that has no version answers ResourceNotFoundException. The API
  reference (DeleteLayerVersion) lists only ServiceException and TooManyRequestsException: deleting
  what is not there is a 204, as moto already answers for a missing version of an existing layer.
* ListLayerVersions finds the layer by name only (and still URL-encoded), so the layer's ARN lists
  nothing. The API
  reference (ListLayerVersions): `LayerName` is "The name or Amazon Resource Name (ARN) of the layer".
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import (
    LambdaClientError,
    PreconditionFailedException,
    UnknownLayerException,
    UnknownPolicyException,
)
from moto.moto_api._internal import mock_random

# (operation, layer name, version) -> calls that reached the backend, successful or not
CALLS: Counter[tuple[str, str, int]] = Counter()


class ResourceConflict(LambdaClientError):
    code = 409

    def __init__(self, sid: str) -> None:
        super().__init__("ResourceConflictException",
                         f"The statement id ({sid}) provided already exists. Please provide a new statement id, "
                         "or remove the existing statement.")


def _principal(raw: str) -> Any:
    if re.fullmatch(r"\d{12}", raw):
        return {"AWS": f"arn:aws:iam::{raw}:root"}
    if raw.startswith("arn:"):
        return {"AWS": raw}
    return raw  # "*"


def _precondition(policy: Any, revision: str | None) -> None:
    if revision and revision != policy.revision:
        raise PreconditionFailedException("The RevisionId provided does not match the latest RevisionId for "
                                          "the Lambda function or alias.")


def add_layer_version_permission(backend: Any, layer_name: str, version_number: int,
                                 statement: str) -> tuple[dict[str, Any], str]:
    layer_version = backend.get_layer_version(layer_name, str(version_number))
    CALLS["add", layer_version.name, int(version_number)] += 1
    request = json.loads(statement)
    policy = layer_version.policy
    sid = request["StatementId"]
    if any(s.get("Sid") == sid for s in policy.statements):
        raise ResourceConflict(sid)
    made: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": _principal(request["Principal"]),
                            "Action": request["Action"], "Resource": layer_version.arn}
    if request.get("OrganizationId"):
        made["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": request["OrganizationId"]}}
    policy.statements.append(made)
    policy.revision = str(mock_random.uuid4())
    return made, policy.revision


def remove_layer_version_permission(backend: Any, layer_name: str, version_number: str, sid: str,
                                    revision: str = "") -> None:
    layer_version = backend.get_layer_version(layer_name, str(version_number))
    CALLS["remove", layer_version.name, int(version_number)] += 1
    policy = layer_version.policy
    _precondition(policy, revision)
    kept = [s for s in policy.statements if s.get("Sid") != sid]
    if len(kept) == len(policy.statements):
        raise UnknownPolicyException()
    policy.statements[:] = kept
    policy.revision = str(mock_random.uuid4())


@contextmanager
def _backend_methods(add: Any, remove: Any) -> Iterator[None]:
    backend = lambda_models.LambdaBackend
    saved = backend.add_layer_version_permission, backend.remove_layer_version_permission
    backend.add_layer_version_permission, backend.remove_layer_version_permission = add, remove
    try:
        yield
    finally:
        backend.add_layer_version_permission, backend.remove_layer_version_permission = saved


_MOTO = (lambda_models.LambdaBackend.add_layer_version_permission,
         lambda_models.LambdaBackend.remove_layer_version_permission)


def layer_policy_fidelity() -> Any:
    """moto_server started inside this context answers layer policies as AWS does."""
    return _backend_methods(add_layer_version_permission, remove_layer_version_permission)


def plain_moto() -> Any:
    """moto's own behaviour again, inside a `layer_policy_fidelity()` (to show what it hides)."""
    return _backend_methods(*_MOTO)


def _layer_name(layer_name: str) -> str:
    """moto's ListLayerVersions handler passes the path segment still URL-encoded."""
    name = unquote(layer_name)
    return name.split(":")[6] if name.startswith("arn:") else name  # arn:aws:lambda:<region>:<account>:layer:<name>


def delete_layer_version(backend: Any, layer_name: str, layer_version: str) -> None:
    try:
        _MOTO_VERSIONS[0](backend, layer_name, layer_version)
    except UnknownLayerException:
        return  # nothing to delete: a 204, as for a missing version of an existing layer


def list_layer_versions(backend: Any, layer_name: str) -> Any:
    return _MOTO_VERSIONS[1](backend, _layer_name(layer_name))


_MOTO_VERSIONS = (lambda_models.LambdaBackend.delete_layer_version, lambda_models.LambdaBackend.list_layer_versions)


@contextmanager
def layer_version_fidelity() -> Iterator[None]:
    """moto_server started inside this context deletes and lists layer versions as AWS does."""
    backend = lambda_models.LambdaBackend
    backend.delete_layer_version, backend.list_layer_versions = delete_layer_version, list_layer_versions
    try:
        yield
    finally:
        backend.delete_layer_version, backend.list_layer_versions = _MOTO_VERSIONS
