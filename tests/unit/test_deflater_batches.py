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
