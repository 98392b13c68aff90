"""The parallel writer must produce exactly the bytes `zipfile` produces for the same entries."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from layersmith.builder.archive import COMPRESS_LEVEL, DOS_DATE, DOS_TIME, ZIP_EPOCH, write_zip
from layersmith.builder.tree import is_executable, walk_files
from layersmith.builder.zipwriter import Entry, write_entries


def reference_zip(root: Path) -> bytes:
    """What `zipfile.ZipFile.writestr` writes for the same sorted entries, modes and timestamp."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for rel, path in walk_files(root):
            info = zipfile.ZipInfo(rel, date_time=ZIP_EPOCH)
            info.create_system = 3
            info.external_attr = (0o100755 if is_executable(path) else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


def tree(root: Path) -> Path:
    (root / "python" / "pkg").mkdir(parents=True)
    (root / "python" / "pkg" / "__init__.py").write_text("VALUE = 1\n" * 500)
    (root / "python" / "pkg" / "empty.py").write_bytes(b"")
    (root / "python" / "pkg" / "blob.bin").write_bytes(os.urandom(200_000))  # incompressible
    (root / "python" / "pkg" / "naïve_ünïcode.py").write_text("x = 'é'\n")
    tool = root / "bin" / "tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho hi\n")
    tool.chmod(0o755)
    return root


def test_same_bytes_as_zipfile(tmp_path: Path) -> None:
    root = tree(tmp_path / "t")
    written = write_zip(root, tmp_path / "out.zip")
    assert (tmp_path / "out.zip").read_bytes() == reference_zip(root)
    assert len(written) == 64


def test_readable_by_zipfile_with_modes_and_crc(tmp_path: Path) -> None:
    root = tree(tmp_path / "t")
    write_zip(root, tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.testzip() is None  # every CRC checks out
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        assert modes["bin/tool"] == 0o100755 and modes["python/pkg/empty.py"] == 0o100644
        assert zf.read("python/pkg/naïve_ünïcode.py") == "x = 'é'\n".encode()
        assert all(i.date_time == ZIP_EPOCH for i in zf.infolist())


@pytest.mark.parametrize("workers", [1, 4])
def test_worker_count_does_not_change_bytes(tmp_path: Path, workers: int) -> None:
    root = tree(tmp_path / "t")
    entries = [Entry(rel, path, 0o100755 if is_executable(path) else 0o100644) for rel, path in walk_files(root)]
    out = io.BytesIO()
    write_entries(out, entries, level=COMPRESS_LEVEL, dos_date=DOS_DATE, dos_time=DOS_TIME, workers=workers)
    assert out.getvalue() == reference_zip(root)
