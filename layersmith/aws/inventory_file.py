"""Read the JSON `layersmith inventory --json` wrote, refusing what this project cannot trust.

The file is checked whole before anything uses it, and turned into typed records: another tool's
JSON, an older layersmith's (a version entry without a key the report reads) and another project's
(a layer name that is not this project's `<prefix>-<layer>[-<variant>]`) are each refused in one
line naming the file and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from layersmith.errors import UserError

# What the report reads from each entry of "versions" (and of its "used_by"): all written by
# `aws.report.inventory_json`; an entry lacking one comes from an older format.
VERSION_KEYS = ("name", "version", "arn", "account", "region", "layer", "variant", "code_size", "shared_with",
                "latest", "used_by")
USER_KEYS = ("account", "region", "function", "kind", "qualifier", "layer_version_arn")
AGAIN = "write it again with `layersmith inventory --json > FILE` from this project"


@dataclass(frozen=True)
class User:
    account: str
    region: str
    function: str
    kind: str  # function ($LATEST) | version | alias


@dataclass(frozen=True)
class FleetVersion:
    name: str
    version: int
    account: str
    region: str
    layer: str
    variant: str
    code_size: int
    shared_with: tuple[str, ...]
    unmanaged: tuple[str, ...]
    used_by: tuple[User, ...]
    code_sha256: str | None = None  # only when the inventory recorded it


@dataclass(frozen=True)
class FleetInventory:
    scanned: tuple[str, ...]
    versions: tuple[FleetVersion, ...]
    not_scanned: tuple[str, ...] = ()  # "account/region: why" (or "account (all regions): why")


def load_inventory(path: Path, is_ours: Callable[[str], bool]) -> FleetInventory:
    """The parsed inventory; `is_ours(name)` tells this project's physical layer names."""
    try:
        data: object = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror or exc}", path=path) from None
    except ValueError as exc:
        raise UserError(f"is not JSON ({exc}); {AGAIN}", path=path) from None
    return parse_inventory(data, path, is_ours)


def parse_inventory(data: object, path: Path, is_ours: Callable[[str], bool]) -> FleetInventory:
    """Validate `inventory --json`'s data (from a file, or straight from an online scan)."""
    if not isinstance(data, dict) or not isinstance(data.get("versions"), list) \
            or not isinstance(data.get("scanned"), list):
        raise UserError(f"is not the JSON of `layersmith inventory --json` (no \"scanned\" and \"versions\"); {AGAIN}",
                        path=path)
    versions = tuple(_version(path, index, entry, is_ours) for index, entry in enumerate(data["versions"]))
    return FleetInventory(tuple(str(s) for s in data["scanned"]), versions, _failures(data.get("failures")))


def _failures(value: object) -> tuple[str, ...]:
    """The scan's blind spots, said in the report: a function there is missing from the matrix."""
    out = []
    for f in value if isinstance(value, list) else []:
        if isinstance(f, dict):
            where = f"{f.get('account')}/{f['region']}" if f.get("region") else f"{f.get('account')} (all regions)"
            out.append(f"{where}: {f.get('message', '')}")
    return tuple(out)


def _missing(entry: dict[str, object]) -> str | None:
    """The first key the report reads that the entry lacks (an older or another tool's format)."""
    missing = [k for k in VERSION_KEYS if k not in entry]
    users = entry.get("used_by")
    if missing or not isinstance(users, list):
        return (missing or ["used_by"])[0]
    return next((f"used_by[{i}].{k}" for i, user in enumerate(users) for k in USER_KEYS
                 if not isinstance(user, dict) or k not in user), None)


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(s) for s in value) if isinstance(value, list) else ()


def _record(entry: dict[str, object], users: list[dict[str, object]]) -> FleetVersion:
    """Raises TypeError/ValueError on a value of the wrong type."""
    def num(key: str) -> int:
        value = entry[key]
        if not isinstance(value, (int, str)):
            raise TypeError(f"{key} is {value!r}")
        return int(value)

    return FleetVersion(
        str(entry["name"]), num("version"), str(entry["account"]), str(entry["region"]), str(entry["layer"]),
        str(entry["variant"]), num("code_size"), _strings(entry["shared_with"]),
        _strings(entry.get("shared_unmanaged")),
        tuple(User(str(u["account"]), str(u["region"]), str(u["function"]), str(u["kind"])) for u in users),
        str(entry["code_sha256"]) if entry.get("code_sha256") else None)


def _version(path: Path, index: int, entry: object, is_ours: Callable[[str], bool]) -> FleetVersion:
    where = f"versions[{index}]"
    if not isinstance(entry, dict):
        raise UserError(f"{where} is not an object; {AGAIN}", path=path)
    missing = _missing(entry)
    if missing is not None:
        raise UserError(f"is an older or foreign inventory format: {where} has no {missing!r}; {AGAIN}", path=path)
    if not is_ours(str(entry["name"])):
        raise UserError(f"is another project's inventory: {where} is layer {entry['name']!r}, not one of this "
                        f"project's; {AGAIN}", path=path)
    try:
        return _record(entry, entry["used_by"])
    except (TypeError, ValueError) as exc:
        raise UserError(f"{where} has a value of the wrong type ({exc}); {AGAIN}", path=path) from None
