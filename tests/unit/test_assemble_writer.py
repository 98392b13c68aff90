"""The assembled zip is hashed while it is written (issue 25): writes gathered into two reused buffers,
each hashed in a thread while the file gets it. The file and the sha256 must be exactly the bytes given,
in order, whatever their sizes: a header of 30 bytes, a stream that fills a buffer to the byte, one larger
than a buffer (numpy's OpenBLAS), one after the other."""

from __future__ import annotations

import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from layersmith.builder.assemble import _BLOCK, _Hashing


@pytest.mark.parametrize("sizes", [
    [30, 5, 1000],
    [_BLOCK],
    [_BLOCK - 10, 10, 1],
    [_BLOCK - 10, 11],
    [3 * _BLOCK + 7, 30, _BLOCK + 1, 2],
    [30, 70] * 200 + [2 * _BLOCK] + [30, 70] * 200 + [_BLOCK // 2] * 5,
])
def test_the_file_and_its_sha256_are_the_bytes_written_in_order(sizes: list[int]) -> None:
    chunks = [os.urandom(size) for size in sizes]
    out = io.BytesIO()
    with ThreadPoolExecutor(1) as hasher:
        writer = _Hashing(out, hasher)
        for chunk in chunks:
            assert writer.write(memoryview(chunk)) == len(chunk)
        writer.flush()
        digest = writer.hexdigest()
    whole = b"".join(chunks)
    assert out.getvalue() == whole and writer.size == len(whole)
    assert digest == hashlib.sha256(whole).hexdigest()
