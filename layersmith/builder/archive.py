"""Deterministic layer zips and the manifest embedded in them.

Rules (terraform-aws-lambda's `package.py` is the anchor, docs/architecture.md#reproducible-zips):
entries sorted by path, a fixed 1980-01-01 timestamp, modes normalised to 0644/0755 (keeping the executable bit, which
Lambda honours for binaries), one compression method (deflate) and level, no directory entries,
no extra fields. Entries are deflated on every core (`zipwriter.py`). The file is written next
to its destination and renamed into place, so a reader never sees half a zip. Same tree -> same
bytes, whatever the clock, umask or directory order.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from layersmith.builder.tree import file_sha256, files_sha256, is_executable, walk_files
from layersmith.builder.zipwriter import Entry, write_entries

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DOS_DATE = ((ZIP_EPOCH[0] - 1980) << 9) | (ZIP_EPOCH[1] << 5) | ZIP_EPOCH[2]  # MS-DOS date of ZIP_EPOCH
DOS_TIME = 0
# libdeflate's level (zipwriter.py says why 5). It is in every cache and piece key (builder.py), so changing
# it never reuses a zip or piece of the old level; it changes every zip's bytes: bump RECIPE_VERSION too.
COMPRESS_LEVEL = 5
MANIFEST_DIR = "layersmith"  # outside python/: never on sys.path, one file per layer in /opt


def content_sha256(root: Path, exclude: str | None = None) -> str:
    """Hash of the tree as it will sit in /opt (names, exec bits, contents), manifest excluded."""
    return files_sha256((rel, path) for rel, path in walk_files(root) if rel != exclude)


def manifest_path(layer: str) -> str:
    return f"{MANIFEST_DIR}/{layer}.json"


def write_manifest(root: Path, layer: str, data: dict[str, Any]) -> str:
    """Embed `layersmith/<layer>.json`; returns the content hash it records."""
    rel = manifest_path(layer)
    digest = content_sha256(root, exclude=rel)
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {**data, "content_sha256": digest}
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.chmod(path, 0o644)
    return digest


def write_zip(root: Path, dest: Path) -> str:
    """Zip `root` deterministically to `dest` (atomically); returns the zip's sha256."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        entries = [Entry(rel, path, 0o100755 if is_executable(path) else 0o100644)
                   for rel, path in walk_files(root)]
        with os.fdopen(fd, "wb") as raw:
            write_entries(raw, entries, level=COMPRESS_LEVEL, dos_date=DOS_DATE, dos_time=DOS_TIME)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return file_sha256(dest)
