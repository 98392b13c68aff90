"""Read the JSON `layersmith inventory --json` wrote, refusing what this project cannot trust.

The file is checked whole before anything uses it: another tool's JSON, an older layersmith's (a
version entry without a key the report reads) and another project's (a layer name that is not this
project's `<prefix>-<layer>[-<variant>]`) are each refused in one line naming the file and what to do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from layersmith.errors import UserError

# What the report reads from each entry of "versions" (and of its "used_by"): all written by
# `aws.report.inventory_json`; an entry lacking one comes from an older format.
VERSION_KEYS = ("name", "version", "arn", "account", "region", "layer", "variant", "code_size", "shared_with",
                "latest", "used_by")
USER_KEYS = ("account", "region", "function", "kind", "qualifier", "layer_version_arn")
AGAIN = "write it again with `layersmith inventory --json > FILE` from this project"


def load_inventory(path: Path, is_ours: Any) -> dict[str, Any]:
    """The parsed inventory; `is_ours(name)` tells this project's physical layer names."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror or exc}", path=path) from None
    except ValueError as exc:
        raise UserError(f"is not JSON ({exc}); {AGAIN}", path=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("versions"), list) \
            or not isinstance(data.get("scanned"), list):
        raise UserError(f"is not the JSON of `layersmith inventory --json` (no \"scanned\" and \"versions\"); {AGAIN}",
                        path=path)
    for index, entry in enumerate(data["versions"]):
        _check_version(path, index, entry, is_ours)
    return data


def _check_version(path: Path, index: int, entry: Any, is_ours: Any) -> None:
    where = f"versions[{index}]"
    if not isinstance(entry, dict):
        raise UserError(f"{where} is not an object; {AGAIN}", path=path)
    missing = [k for k in VERSION_KEYS if k not in entry]
    if not missing:
        missing = [f"used_by[{i}].{k}" for i, user in enumerate(entry["used_by"]) for k in USER_KEYS
                   if not isinstance(user, dict) or k not in user][:1]
    if missing:
        raise UserError(f"is an older or foreign inventory format: {where} has no {missing[0]!r}; {AGAIN}", path=path)
    if not is_ours(str(entry["name"])):
        raise UserError(f"is another project's inventory: {where} is layer {entry['name']!r}, not one of this "
                        f"project's; {AGAIN}", path=path)
