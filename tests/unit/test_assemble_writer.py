"""The assembled zip is written with `os.writev` from the pieces' bytes and hashed while it is written
(issue 25): batches of buffers, each written by one thread and hashed by another. The file and the sha256
must be exactly the bytes given, in order, whatever their sizes and however few bytes a write takes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from layersmith.builder.assemble import _IOVECS, _Vectored

SIZES = [
    [30, 5, 1000],
    [1],
    [30, 70] * (_IOVECS // 2),  # a batch to the buffer
    [30, 70] * _IOVECS + [7],
    [3 << 20, 30, (1 << 20) + 1, 2],
    [30, 70] * 600 + [8 << 20] + [30, 70] * 600 + [1 << 19] * 5,
]


def _write(path: Path, chunks: list[bytes],
           writev: Callable[[int, Sequence[bytes | memoryview]], int] = os.writev) -> tuple[str, int]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        with ThreadPoolExecutor(1) as hasher, ThreadPoolExecutor(1) as writer:
            out = _Vectored(fd, hasher, writer, writev)
            for chunk in chunks:
                assert out.write(memoryview(chunk) if len(chunk) % 2 else chunk) == len(chunk)
            return out.finish(), out.size
    finally:
        os.close(fd)


@pytest.mark.parametrize("sizes", SIZES)
def test_the_file_and_its_sha256_are_the_bytes_written_in_order(tmp_path: Path, sizes: list[int]) -> None:
    chunks = [os.urandom(size) for size in sizes]
    digest, size = _write(tmp_path / "out", chunks)
    whole = b"".join(chunks)
    assert (tmp_path / "out").read_bytes() == whole and size == len(whole)
    assert digest == hashlib.sha256(whole).hexdigest()


def _stingy(fd: int, buffers: Sequence[bytes | memoryview]) -> int:
    """`os.writev` that writes at most 1,000 bytes each call, stopping inside a buffer (a short write)."""
    joined = b"".join(bytes(b) for b in buffers[:3])
    return os.write(fd, joined[:1000])


@pytest.mark.parametrize("sizes", [*SIZES[:4], [5000, 3, 2999, 1]])
def test_short_writes_go_on_where_they_stopped(tmp_path: Path, sizes: list[int]) -> None:
    chunks = [os.urandom(size) for size in sizes]
    digest, _size = _write(tmp_path / "out", chunks, _stingy)
    whole = b"".join(chunks)
    assert (tmp_path / "out").read_bytes() == whole
    assert digest == hashlib.sha256(whole).hexdigest()


def test_a_write_that_writes_nothing_fails_instead_of_looping(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="stopped"):
        _write(tmp_path / "out", [b"abc"], lambda _fd, _buffers: 0)
