"""The piece deflater hands out files in batches (issue 25): a task per file cost more than deflating
pytz's 600 small files. Batching changes no byte: each file's stream is what `deflate_file` gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from layersmith.builder.pieces import _BATCH_BYTES, _BATCH_FILES, Deflater, deflate_file


def _tasks(deflater: Deflater) -> int:
    return len({id(future) for future, _ in deflater.futures.values()})


def _small_files(root: Path, count: int) -> list[Path]:
    root.mkdir()
    paths = []
    for i in range(count):
        path = root / f"zone{i:04d}"
        path.write_bytes(f"TZif {i}\n".encode() * (i % 50 + 1))
        paths.append(path)
    return paths


def test_small_files_go_in_batches_and_give_the_streams_deflate_file_gives(tmp_path: Path) -> None:
    paths = _small_files(tmp_path / "zones", 600)
    deflater = Deflater(6, workers=2)
    try:
        deflater.submit(paths)
        assert _tasks(deflater) == -(-600 // _BATCH_FILES)  # not one task per file
        got = [deflater.result(p) for p in reversed(paths)]
    finally:
        deflater.close()
    assert got == [deflate_file(p, 6) for p in reversed(paths)]


def test_a_large_file_is_a_batch_of_its_own(tmp_path: Path) -> None:
    paths = _small_files(tmp_path / "zones", 3)
    big = tmp_path / "big.so"
    big.write_bytes(os.urandom(_BATCH_BYTES))
    deflater = Deflater(6, workers=2)
    try:
        deflater.submit([paths[0], big, paths[1], paths[2]])
        assert _tasks(deflater) == 2 and deflater.futures[big][0] is not deflater.futures[paths[1]][0]
        assert deflater.result(big) == deflate_file(big, 6)
    finally:
        deflater.close()


def test_a_file_that_cannot_be_read_fails_when_its_result_is_asked(tmp_path: Path) -> None:
    paths = _small_files(tmp_path / "zones", 2)
    missing = tmp_path / "zones" / "gone"
    deflater = Deflater(6, workers=1)
    try:
        deflater.submit([*paths, missing])
        with pytest.raises(FileNotFoundError):
            deflater.result(missing)
    finally:
        deflater.close()


def test_deflate_file_reads_every_byte_and_the_exec_bit(tmp_path: Path) -> None:
    """Files are read with a bare descriptor (issue 25: `open()` was a fifth of deflating pytz): an empty
    file, one larger than a read's chunk, and an executable keep their bytes, sizes, hashes and modes."""
    import hashlib

    import deflate

    bodies = {"empty": b"", "big": os.urandom(3 << 20) + b"tail", "tool": b"#!/bin/sh\necho hi\n"}
    for name, body in bodies.items():
        (tmp_path / name).write_bytes(body)
    (tmp_path / "tool").chmod(0o755)
    for name, body in bodies.items():
        got = deflate_file(tmp_path / name, 6)
        assert (got.size, got.crc, got.raw_sha) == (len(body), deflate.crc32(body), hashlib.sha256(body).hexdigest())
        assert bytes(deflate.deflate_decompress(got.data, len(body))) == body if body else got.data
        assert got.mode == (0o100755 if name == "tool" else 0o100644) and not got.elf


def test_without_a_pool_files_deflated_ahead_give_the_same_streams(tmp_path: Path) -> None:
    """A rebuild's few MB: deflated in the building thread while compileall runs, then handed out once."""
    paths = _small_files(tmp_path / "zones", 5)
    deflater = Deflater(6, workers=0)
    for path in paths[:3]:
        deflater.prefetch(path)
    assert deflater.pool is None and len(deflater.ready) == 3
    assert [deflater.result(p) for p in paths] == [deflate_file(p, 6) for p in paths] and not deflater.ready
