"""Deterministic zips: same tree -> same bytes, whatever the creation order, clock or umask."""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import signal
import stat
import zipfile
from pathlib import Path

import pytest
from helpers import FakeClock

from layersmith.builder.archive import content_sha256, manifest_path, write_manifest, write_zip
from layersmith.builder.tree import file_sha256
from layersmith.errors import SpecError

FILES = {
    "python/pkg/__init__.py": b"from .core import x\n",
    "python/pkg/core.py": b"x = 1\n" * 200,
    "python/pkg/data/big.txt": bytes(range(256)) * 64,
    "python/pkg/_native.so": b"\x7fELF" + b"\0" * 60,
    "python/bin_tool": b"#!/bin/sh\necho hi\n",
    "python/a.py": b"",
}
EXECUTABLE = {"python/bin_tool", "python/pkg/_native.so"}


def make_tree(root: Path, *, reverse: bool, umask: int, mtime: float) -> Path:
    old = os.umask(umask)
    try:
        for rel in sorted(FILES, reverse=reverse):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(FILES[rel])
            if rel in EXECUTABLE:
                os.chmod(path, 0o777 & ~umask | 0o100)
            os.utime(path, (mtime, mtime))
    finally:
        os.umask(old)
    return root


def test_same_tree_gives_identical_bytes(tmp_path: Path, clock: FakeClock) -> None:
    a = make_tree(tmp_path / "a", reverse=False, umask=0o022, mtime=1_700_000_000)
    b = make_tree(tmp_path / "b" / "deeper", reverse=True, umask=0o077, mtime=1_000_000_000.5)
    sha_a = write_zip(a, tmp_path / "out-a" / "layer.zip")
    clock.advance(3 * 3600 + 7)  # past a DOS 2-second step and into another hour: "now" must not leak
    sha_b = write_zip(b, tmp_path / "out-b" / "layer.zip")
    assert (tmp_path / "out-a" / "layer.zip").read_bytes() == (tmp_path / "out-b" / "layer.zip").read_bytes()
    assert sha_a == sha_b == file_sha256(tmp_path / "out-a" / "layer.zip")


def test_a_change_changes_the_bytes(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "a", reverse=False, umask=0o022, mtime=0)
    before = write_zip(a, tmp_path / "1.zip")
    os.chmod(a / "python/a.py", 0o755)  # the exec bit is content: Lambda honours it
    assert write_zip(a, tmp_path / "2.zip") != before


def test_entries_modes_and_timestamps(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", reverse=True, umask=0o077, mtime=1_700_000_000)
    write_zip(root, tmp_path / "layer.zip")
    with zipfile.ZipFile(tmp_path / "layer.zip") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == sorted(FILES)  # sorted, no directory entries
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.create_system == 3
            mode = info.external_attr >> 16
            assert stat.S_ISREG(mode)
            assert stat.S_IMODE(mode) == (0o755 if info.filename in EXECUTABLE else 0o644), info.filename
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.extra == b""
            assert zf.read(info) == FILES[info.filename]
        assert zf.testzip() is None


def test_symlinks_are_materialised(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", reverse=False, umask=0o022, mtime=0)
    (root / "python/link.py").symlink_to(root / "python/pkg/core.py")
    (root / "python/dirlink").symlink_to(root / "python/pkg", target_is_directory=True)
    write_zip(root, tmp_path / "layer.zip")
    with zipfile.ZipFile(tmp_path / "layer.zip") as zf:
        assert zf.read("python/link.py") == FILES["python/pkg/core.py"]
        assert "python/dirlink" not in zf.namelist()


def test_no_temp_file_left_and_zip_is_0644(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", reverse=False, umask=0o022, mtime=0)
    out = tmp_path / "out"
    old = os.umask(0o077)
    try:
        write_zip(root, out / "layer.zip")
        write_zip(root, out / "layer.zip")  # overwrite in place
    finally:
        os.umask(old)
    assert sorted(p.name for p in out.iterdir()) == ["layer.zip"]
    assert stat.S_IMODE((out / "layer.zip").stat().st_mode) == 0o644


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux procfs")
def _write_with_a_file_size_limit(root: Path, dest: Path, limit: int) -> None:
    """In a forked child: writing past `limit` bytes fails with EFBIG (RLIMIT_FSIZE), a real failed write."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write returns EFBIG instead of killing the process
    try:
        write_zip(root, dest)
    except OSError:
        os._exit(3)
    os._exit(0)


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    """A write that fails mid-way leaves no temp file and the old zip untouched. (It used to read a link
    to /proc/self/mem; a link out of the tree is now refused before anything is written.)"""
    root = make_tree(tmp_path / "t", reverse=False, umask=0o022, mtime=0)
    out = tmp_path / "out"
    write_zip(root, out / "layer.zip")
    before = (out / "layer.zip").read_bytes()
    (root / "python/zz_big.bin").write_bytes(os.urandom(len(before) * 4))  # the new zip outgrows the limit
    child = multiprocessing.get_context("fork").Process(target=_write_with_a_file_size_limit,
                                                        args=(root, out / "layer.zip", len(before) * 2))
    child.start()
    child.join(60)
    assert child.exitcode == 3  # the write failed with an OSError
    assert sorted(p.name for p in out.iterdir()) == ["layer.zip"]
    assert (out / "layer.zip").read_bytes() == before


def test_links_in_the_tree_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", reverse=False, umask=0o022, mtime=0)
    (root / "python/zz_unreadable").symlink_to("/proc/self/mem")
    with pytest.raises(SpecError, match="zz_unreadable: a symlink to /proc/self/mem, outside the tree"):
        write_zip(root, tmp_path / "out" / "layer.zip")
    assert list((tmp_path / "out").iterdir()) == []


def test_manifest_records_the_content_hash_of_everything_else(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", reverse=False, umask=0o022, mtime=0)
    digest = write_manifest(root, "demo", {"layer": "demo", "variant": "any"})
    assert manifest_path("demo") == "layersmith/demo.json"
    data = json.loads((root / "layersmith/demo.json").read_text())
    assert data == {"layer": "demo", "variant": "any", "content_sha256": digest}
    assert content_sha256(root, exclude="layersmith/demo.json") == digest
    assert content_sha256(root) != digest  # the manifest itself is not part of its own hash
    # rewriting the manifest is stable (no clock, no host data)
    first = (root / "layersmith/demo.json").read_bytes()
    assert write_manifest(root, "demo", {"layer": "demo", "variant": "any"}) == digest
    assert (root / "layersmith/demo.json").read_bytes() == first


def test_content_hash_ignores_mtime_and_umask_but_not_exec_bits(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "a", reverse=False, umask=0o022, mtime=0)
    b = make_tree(tmp_path / "b", reverse=True, umask=0o077, mtime=1e9)
    assert content_sha256(a) == content_sha256(b)
    os.chmod(b / "python/bin_tool", 0o644)
    assert content_sha256(a) != content_sha256(b)
