"""The struct reader of an ELF file's needed symbol versions (layersmith/builder/elf_versions.py)
against pyelftools, its reference: the same names on every ELF file of this machine's Python
environments and system libraries (x86_64, and aarch64 where a Debian sysroot is prepared), and,
on damaged copies, either the same answer or "not understood" (pyelftools then decides)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from hypothesis import given, settings
from hypothesis import strategies as st

from layersmith.builder.elf_versions import needed_versions
from layersmith.builder.verify import glibc_required
from layersmith.errors import VerificationError

ROOTS = [Path(sys.prefix) / "lib", Path(sys.base_prefix) / "lib", Path("/usr/lib/x86_64-linux-gnu"),
         Path("/usr/lib/aarch64-linux-gnu"),
         Path(os.environ.get("LAYERSMITH_SYSROOTS", "/nonexistent")) / "trixie-arm64" / "usr" / "lib"]


def reference(data: bytes) -> list[str]:
    elf = ELFFile(io.BytesIO(data))
    return [aux.name for section in elf.iter_sections() if isinstance(section, GNUVerNeedSection)
            for _need, auxes in section.iter_versions() for aux in auxes]


def elf_files(limit: int = 200) -> Iterator[Path]:
    """Up to `limit` distinct regular ELF files (`.so` and `.so.N`), walked in a stable order."""
    seen: set[tuple[int, int]] = set()
    for root in ROOTS:
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if ".so" not in name or path.is_symlink() or not path.is_file():
                    continue
                st_ = path.stat()
                if (st_.st_dev, st_.st_ino) in seen:
                    continue
                with path.open("rb") as fh:
                    if fh.read(4) != b"\x7fELF":
                        continue
                seen.add((st_.st_dev, st_.st_ino))
                yield path
                if len(seen) >= limit:
                    return


FILES = list(elf_files())


def test_there_are_real_elf_files_to_compare() -> None:
    assert len(FILES) >= 50
    assert any(needed_versions(io.BytesIO(p.read_bytes())) for p in FILES)  # some do need GLIBC_x.y


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p))
def test_the_same_names_as_pyelftools(path: Path) -> None:
    data = path.read_bytes()
    assert needed_versions(io.BytesIO(data)) == reference(data)


def test_glibc_required_is_unchanged_on_the_real_files() -> None:
    for path in FILES[:80]:
        names = reference(path.read_bytes())
        versions = [tuple(int(x) for x in n.split("_", 1)[1].split(".")[:2]) for n in names
                    if n.startswith("GLIBC_") and n[6:7].isdigit()]
        assert glibc_required(path) == (max(versions) if versions else None), path


SMALL = sorted((p for p in FILES if p.stat().st_size < 400_000 and reference(p.read_bytes())),
               key=lambda p: p.stat().st_size)[:8]


@settings(max_examples=300, deadline=None)
@given(which=st.integers(0, max(len(SMALL) - 1, 0)), cut=st.floats(0, 1), flips=st.lists(
    st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=4))
def test_a_damaged_file_gets_the_reference_answer_or_falls_through(which: int, cut: float,
                                                                  flips: list[tuple[float, int]]) -> None:
    data = bytearray(SMALL[which].read_bytes())
    for where, xor in flips:
        data[int(where * (len(data) - 1))] ^= xor
    damaged = bytes(data[: max(16, int(cut * len(data)))]) if cut < 0.999 else bytes(data)
    got = needed_versions(io.BytesIO(damaged))
    if got is None:
        return  # not understood: pyelftools decides (verify._needed_versions_pyelftools)
    try:
        expected = reference(damaged)
    except (ELFError, ValueError, KeyError, OSError, AssertionError):
        # pyelftools cannot read some section the struct reader never looks at (it builds every
        # section); the reader's answer is then what the headers, the version-needed section and its
        # string table say, and it must at least be an answer, not a crash.
        assert all(isinstance(name, str) for name in got)
        return
    assert got == expected


def test_a_file_the_reader_does_not_understand_is_refused_by_pyelftools(tmp_path: Path) -> None:
    path = tmp_path / "broken.so"
    path.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 40)  # headers cut short
    assert needed_versions(io.BytesIO(path.read_bytes())) is None
    with pytest.raises(VerificationError, match=r"broken\.so is an ELF file that cannot be read"):
        glibc_required(path)
