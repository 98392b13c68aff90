"""Small readers for resource inputs: ARNs, IAM policy documents, unknown detection."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from layersmith.policy.model import is_unknown

ACCOUNT_ID = re.compile(r"^\d{12}$")
_ACCOUNT_ROOT = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):root$")


def principal_account(principal: str) -> str | None:
    """`123456789012` or `arn:aws:iam::123456789012:root` -> the account id; anything else -> None."""
    if ACCOUNT_ID.match(principal):
        return principal
    match = _ACCOUNT_ROOT.match(principal)
    return match["account"] if match else None


def blank(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def listify(value: object) -> list[Any]:
    """IAM lets most fields be a string or a list of strings."""
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return [value]


def find_unknown(value: object, path: str) -> str | None:
    """The path of the first unknown inside `value` (`layers[2]`), or None when fully known."""
    if is_unknown(value):
        return path
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = find_unknown(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_unknown(item, f"{path}[{index}]")
            if found:
                return found
    return None


def policy_statements(document: object) -> list[Mapping[str, Any]] | None:
    """The statements of an IAM policy given as JSON text or a dict; None when it does not parse."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    if not isinstance(document, Mapping):
        return None
    return [s for s in listify(document.get("Statement")) if isinstance(s, Mapping)]


def service_principals(statement: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(service principals, every other principal) of a trust-policy statement."""
    principal = statement.get("Principal")
    if principal is None or isinstance(principal, str):
        return [], [str(principal)]  # "*" or missing: never a service principal
    services: list[str] = []
    others: list[str] = []
    for kind, values in principal.items():
        target = services if kind == "Service" else others
        target += [f"{v}" if kind == "Service" else f"{kind}:{v}" for v in listify(values)]
    return services, others


def dig(value: object, *keys: str) -> Any:
    """`value[k1][k2]…`; None when a step is missing, the unknown itself when a step is unknown."""
    for key in keys:
        if is_unknown(value):
            return value
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
