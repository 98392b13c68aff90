"""`GetLayerVersion` answers kept on disk, keyed by layer version ARN.

A published layer version is immutable: its content, `CodeSize` and `CodeSha256` never change (Lambda
API reference, PublishLayerVersion: "each time you call PublishLayerVersion with the same layer name, a
new version is created"; a version is only ever deleted). A deleted and re-published layer gets a new
version number, so its ARN never names other content. Only what the inventory reports is stored.

Entries are written atomically (temporary file + rename); one that is unreadable, or whose ARN does not
match, is ignored and fetched again — a damaged cache costs a call, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

VERSION = 1


class VersionCache:
    def __init__(self, root: Path | None) -> None:
        """`root` None: a cache that remembers nothing (tests, or a cache directory that cannot be used)."""
        self._root = root / "layer-versions" if root is not None else None

    def _path(self, arn: str) -> Path | None:
        if self._root is None:
            return None
        digest = hashlib.sha256(arn.encode()).hexdigest()
        return self._root / digest[:2] / f"{digest}.json"

    def get(self, arn: str) -> dict[str, Any] | None:
        """`{"CodeSize": int, "CodeSha256": str}`, or None when absent or damaged."""
        path = self._path(arn)
        if path is None:
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("v") != VERSION or entry.get("arn") != arn:
            return None
        content = entry.get("Content")
        if (not isinstance(content, dict) or not isinstance(content.get("CodeSize"), int)
                or not isinstance(content.get("CodeSha256"), str)):
            return None
        return {"CodeSize": content["CodeSize"], "CodeSha256": content["CodeSha256"]}

    def put(self, arn: str, answer: dict[str, Any]) -> None:
        path = self._path(arn)
        content = answer.get("Content") or {}
        if path is None or not isinstance(content.get("CodeSize"), int):
            return
        entry = {"v": VERSION, "arn": arn, "Content": {"CodeSize": content["CodeSize"],
                                                      "CodeSha256": str(content.get("CodeSha256", ""))}}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        except OSError:
            return  # a cache that cannot be written only costs calls next time
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entry, handle)
            os.replace(tmp, path)  # readers see the old entry or the new one, never half of one
        except OSError:
            Path(tmp).unlink(missing_ok=True)
