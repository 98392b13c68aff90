"""The /opt a function's layers make, extracted once per combination of layer builds and reused.

Extracting is most of a warm `invoke`: the data-science layer is ~3,700 files, and creating them,
freezing them read-only and removing them again took ~2.5 s of the ~3.3 s `invoke sales-report`
(measured 2026-12-07). The tree depends only on the attached builds, in order: a layer variant's zip
is named by its content hash, so the ordered list of those hashes names the tree.

Safety, because the tree is reused rather than written fresh:
- It is written into a scratch directory beside its final place, frozen read-only, and only then
  renamed into place, so a tree under its final name is always complete. Two invokes racing to
  extract the same tree both finish; the loser's copy is removed.
- Its manifest (every file's path, mode, size and CRC-32, the CRC taken from the zip entry it was
  extracted from; every directory's path and mode) is written last. Before each reuse the tree is
  walked, every file read and its CRC-32 computed, and all is compared with the manifest: a file
  added, removed, truncated, changed (even with its mtime put back) or made writable makes the tree
  stale, and it is extracted again — a damaged cache is never run. A missing or unreadable manifest
  counts as damaged too. Checking reads the whole tree (~0.3 s for data-science's 108 MB, measured
  here) — an eighth of extracting it.
- The tree is read-only like Lambda's /opt (root ignores modes; the bootstrap refuses writes too).
- Only the most recently used `KEEP` trees stay; the others are removed when a new one is made.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

from layersmith.local.resolve import AttachedLayer
from layersmith.writable import write_failed

KEEP = 4
MANIFEST = "manifest.json"
# Bumped when what a tree holds for the same builds changes (its layout, modes, the manifest's form).
FORMAT = "1"
Manifest = dict[str, list[int]]


def tree_key(layers: Iterable[AttachedLayer]) -> str:
    """The builds a tree is made of, in attach order (ARN-attached layers are not in it)."""
    hashes = [layer.build.sha256 for layer in layers if layer.build is not None]
    return hashlib.sha256("\n".join([FORMAT, *hashes]).encode()).hexdigest()[:24]


def layer_tree(layers: list[AttachedLayer], root: Path) -> Path:
    """The /opt directory of `layers`, under `root`: reused when its manifest still matches it,
    otherwise extracted anew."""
    entry = root / tree_key(layers)
    opt = entry / "opt"
    try:
        if _intact(entry, opt):
            os.utime(entry / MANIFEST)  # most recently used
            return opt
        root.mkdir(parents=True, exist_ok=True)
        _extract_into_place(layers, root, entry)
        _evict(root, keep=entry)
    except OSError as exc:  # a full disk, a cache another user owns: the machine's to fix, in one line
        raise write_failed(root, "the layers' extracted /opt", exc,
                           "free space there or point LAYERSMITH_CACHE_DIR at a writable directory") from None
    return opt


def _extract_into_place(layers: list[AttachedLayer], root: Path, entry: Path) -> None:
    """A complete, frozen tree under `entry`, made in a scratch directory and renamed into place."""
    if entry.exists():
        remove_tree(entry)
    scratch = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=root))
    try:
        crcs = extract_layers(layers, scratch / "opt")
        freeze(scratch / "opt")
        _write_manifest(scratch, _walk(scratch / "opt", crcs))
        try:
            os.rename(scratch, entry)
        except OSError:  # another invoke put the same tree in place meanwhile: use it
            if not _intact(entry, entry / "opt"):
                raise
    finally:
        if scratch.exists():
            remove_tree(scratch)


def extract_layers(layers: list[AttachedLayer], opt: Path) -> dict[str, int]:
    """Extract in attach order, later over earlier, exactly like Lambda; returns each file's CRC-32
    (of the entry that won)."""
    opt.mkdir(parents=True, exist_ok=True)
    crcs: dict[str, int] = {}
    for layer in layers:
        if layer.build is None:
            continue
        with zipfile.ZipFile(layer.build.zip_path) as zf:
            for info in zf.infolist():
                target = opt / info.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    target.chmod(0o644)
                target.write_bytes(zf.read(info))  # zipfile checks the entry's CRC as it reads
                target.chmod(0o755 if (info.external_attr >> 16) & stat.S_IXUSR else 0o644)
                crcs[os.path.normpath(info.filename)] = info.CRC
    return crcs


def freeze(root: Path) -> None:
    """/opt and /var/task are read-only on Lambda: so are they here (no bytecode writes either).
    The root itself too, or a new file at /opt/x could be created. (Root ignores modes: the
    bootstrap refuses those writes as well, see LAYERSMITH_READ_ONLY.)"""
    for path in [*sorted(root.rglob("*"), key=lambda p: -len(p.parts)), root]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def remove_tree(path: Path) -> None:
    """Remove a tree whose dirs `freeze` made read-only: deleting a file needs its *directory*
    writable, so thaw every directory first (os.walk does not follow symlinks into the host's
    site-packages)."""
    for dirpath, _dirs, _files in os.walk(path):
        os.chmod(dirpath, 0o755)
    shutil.rmtree(path)


def _walk(opt: Path, crcs: dict[str, int] | None = None) -> Manifest:
    """[mode, size, CRC-32] of every file (the CRC from `crcs` when given, else computed), [mode] of
    every directory, by path under `opt`."""
    found: Manifest = {}
    for dirpath, dirnames, filenames in os.walk(opt):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            found[os.path.relpath(path, opt)] = [os.lstat(path).st_mode]
        for name in filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, opt)
            st = os.lstat(path)
            if crcs is not None:
                crc = crcs.get(rel, -1)
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as fh:
                    crc = zlib.crc32(fh.read())
            else:
                crc = -1
            found[rel] = [st.st_mode, st.st_size, crc]
    return found


def _write_manifest(entry: Path, manifest: Manifest) -> None:
    (entry / MANIFEST).write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")


def _intact(entry: Path, opt: Path) -> bool:
    try:
        recorded = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    try:
        return bool(opt.is_dir() and _walk(opt) == recorded)
    except OSError:  # a file vanished while walking
        return False


def _evict(root: Path, *, keep: Path) -> None:
    """Keep the `KEEP` most recently used trees (their manifests' mtimes), `keep` among them."""
    def used(entry: Path) -> float:
        try:
            return (entry / MANIFEST).stat().st_mtime
        except OSError:
            return 0.0

    trees = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p != keep),
                   key=used, reverse=True)
    for old in trees[KEEP - 1:]:
        remove_tree(old)
