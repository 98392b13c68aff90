"""The parallel writer: deterministic bytes that every zip reader extracts, with zipfile's headers.

The entries are deflated by libdeflate, so the streams (and thus the bytes) are not what `zipfile`
writes; everything else about an entry is, and the bytes are pinned across runs and machines.
"""

from __future__ import annotations

import hashlib
import io
import random
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from layersmith.builder.archive import COMPRESS_LEVEL, DOS_DATE, DOS_TIME, ZIP_EPOCH, write_zip
from layersmith.builder.tree import is_executable, walk_files
from layersmith.builder.zipwriter import Entry, write_entries

# sha256 of the zip of `tree()`. It may change only with the deflate stream (the pinned `deflate`
# package, COMPRESS_LEVEL) or the header layout, and then RECIPE_VERSION in builder.py must change
# too: cache keys and published zips depend on these bytes.
TREE_ZIP_SHA256 = "dfddc3f137146f0bdc32db3401c361edc8305debf5f0a2b55eb297c052be2f04"


def tree(root: Path) -> Path:
    (root / "python" / "pkg").mkdir(parents=True)
    (root / "python" / "pkg" / "__init__.py").write_text("VALUE = 1\n" * 500)
    (root / "python" / "pkg" / "empty.py").write_bytes(b"")
    (root / "python" / "pkg" / "blob.bin").write_bytes(random.Random(13).randbytes(200_000))  # incompressible
    (root / "python" / "pkg" / "naïve_ünïcode.py").write_text("x = 'é'\n")
    tool = root / "bin" / "tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho hi\n")
    tool.chmod(0o755)
    return root


def zipfile_infos(root: Path) -> list[zipfile.ZipInfo]:
    """The entries `zipfile.ZipFile.writestr` writes for the same sorted names, modes and timestamp."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for rel, path in walk_files(root):
            info = zipfile.ZipInfo(rel, date_time=ZIP_EPOCH)
            info.create_system = 3
            info.external_attr = (0o100755 if is_executable(path) else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=COMPRESS_LEVEL)
    with zipfile.ZipFile(buffer) as zf:
        return zf.infolist()


def test_readable_by_zipfile_with_contents_modes_and_crc(tmp_path: Path) -> None:
    root = tree(tmp_path / "t")
    write_zip(root, tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.testzip() is None  # every CRC checks out
        assert {i.filename: zf.read(i) for i in zf.infolist()} == {
            rel: path.read_bytes() for rel, path in walk_files(root)}
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        assert modes["bin/tool"] == 0o100755 and modes["python/pkg/empty.py"] == 0o100644


@pytest.mark.skipif(shutil.which("unzip") is None, reason="needs Info-ZIP unzip")
def test_unzip_tests_every_entry(tmp_path: Path) -> None:
    write_zip(tree(tmp_path / "t"), tmp_path / "out.zip")
    done = subprocess.run(["unzip", "-t", str(tmp_path / "out.zip")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No errors detected" in done.stdout


def test_headers_are_the_ones_zipfile_writes(tmp_path: Path) -> None:
    root = tree(tmp_path / "t")
    write_zip(root, tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        ours = zf.infolist()
    fields = ("filename", "date_time", "create_system", "create_version", "extract_version", "flag_bits",
              "compress_type", "external_attr", "internal_attr", "extra", "comment", "file_size", "CRC")
    assert [[getattr(i, f) for f in fields] for i in ours] == [
        [getattr(i, f) for f in fields] for i in zipfile_infos(root)]


def test_same_bytes_on_every_run_and_machine(tmp_path: Path) -> None:
    first = write_zip(tree(tmp_path / "a"), tmp_path / "a.zip")
    second = write_zip(tree(tmp_path / "b"), tmp_path / "b.zip")  # other paths, mtimes, inodes
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert first == second == hashlib.sha256((tmp_path / "a.zip").read_bytes()).hexdigest() == TREE_ZIP_SHA256


@pytest.mark.parametrize("workers", [1, 4])
def test_worker_count_does_not_change_bytes(tmp_path: Path, workers: int) -> None:
    root = tree(tmp_path / "t")
    write_zip(root, tmp_path / "out.zip")
    entries = [Entry(rel, path, 0o100755 if is_executable(path) else 0o100644) for rel, path in walk_files(root)]
    out = io.BytesIO()
    write_entries(out, entries, level=COMPRESS_LEVEL, dos_date=DOS_DATE, dos_time=DOS_TIME, workers=workers)
    assert out.getvalue() == (tmp_path / "out.zip").read_bytes()
