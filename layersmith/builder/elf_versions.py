"""The symbol versions an ELF file needs (its `.gnu.version_r` section), read with `struct`.

pyelftools reads the same thing, but it builds an object for every section of every file: the 66
shared objects of the data-science layer took ~0.45 s of a ~4.4 s cold build on this machine
(cProfile: `ELFFile.__init__` and `iter_sections`). This reader looks only at the section headers,
the version-needed section and the string table it links to (the ELF gABI's `Elf32/64_Shdr`,
`Elf_Verneed` and `Elf_Vernaux` layouts, as glibc's `elf.h` defines them and pyelftools'
`elftools/elf/structs.py` parses them).

It answers only for files it fully understands. Anything else (a truncated file, an offset
outside the file, a chain that does not end) returns `None`, and the caller asks pyelftools, which
decides as before: the fast path never judges a damaged file. tests/unit/test_elf_versions.py holds
its answers equal to pyelftools' on every ELF file of this machine's Python environments and
system libraries, and checks that damaged files fall through.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

SHT_GNU_VERNEED = 0x6FFFFFFE
SHN_XINDEX_SIZE0 = 0  # e_shnum == 0: the count is section 0's sh_size (gABI, "Extended Section Indices")
_MAX_ENTRIES = 1 << 16  # a Verneed/Vernaux chain longer than this is not a real file


class _Unreadable(Exception):
    """Not a file this reader understands: pyelftools decides."""


def needed_versions(fh: BinaryIO) -> list[str] | None:
    """Every `vna_name` of the file's version-needed entries (e.g. `GLIBC_2.17`), in file order;
    `[]` when it has none; None when this reader does not understand the file."""
    try:
        return _read(fh)
    except (_Unreadable, struct.error, IndexError, ValueError, OSError):
        return None


def _read(fh: BinaryIO) -> list[str]:
    wide, end = _ident(fh.read(16))
    # e_shoff, then e_shentsize, e_shnum (Elf64_Ehdr at 0x28/0x3A, Elf32_Ehdr at 0x20/0x2E)
    shoff = _unpack(fh, 0x28 if wide else 0x20, end + ("Q" if wide else "I"))[0]
    shentsize, shnum = _unpack(fh, 0x3A if wide else 0x2E, end + "HH")
    if shoff == 0 or shentsize != (64 if wide else 40):
        raise _Unreadable
    headers = _section_headers(fh, shoff, shnum, wide, end)
    names: list[str] = []
    for sh_type, offset, size, link, info in headers:
        if sh_type == SHT_GNU_VERNEED:
            if link >= len(headers):
                raise _Unreadable
            strtab = _slice(fh, headers[link][1], headers[link][2])
            names += _verneed_names(_slice(fh, offset, size), info, strtab, end)
    return names


def _ident(ident: bytes) -> tuple[bool, str]:
    """(64-bit, struct byte order) from e_ident: EI_CLASS 1/2 = 32/64-bit, EI_DATA 1/2 = little/big."""
    if len(ident) < 16 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2) or ident[5] not in (1, 2):
        raise _Unreadable
    return ident[4] == 2, "<" if ident[5] == 1 else ">"


def _unpack(fh: BinaryIO, offset: int, fmt: str) -> tuple[int, ...]:
    fh.seek(offset)
    data = fh.read(struct.calcsize(fmt))
    return struct.unpack(fmt, data)  # struct.error when short


def _slice(fh: BinaryIO, offset: int, size: int) -> bytes:
    fh.seek(offset)
    data = fh.read(size)
    if len(data) != size:
        raise _Unreadable
    return data


def _section_headers(fh: BinaryIO, shoff: int, shnum: int, wide: bool,
                     end: str) -> list[tuple[int, int, int, int, int]]:
    """(sh_type, sh_offset, sh_size, sh_link, sh_info) of every section."""
    # Elf64_Shdr: name I, type I, flags Q, addr Q, offset Q, size Q, link I, info I, align Q, entsize Q
    # Elf32_Shdr: name I, type I, flags I, addr I, offset I, size I, link I, info I, align I, entsize I
    fmt = end + ("IIQQQQIIQQ" if wide else "IIIIIIIIII")
    width = struct.calcsize(fmt)
    first = struct.unpack(fmt, _slice(fh, shoff, width))
    count = shnum if shnum != SHN_XINDEX_SIZE0 else first[5]
    if count > _MAX_ENTRIES:
        raise _Unreadable
    table = _slice(fh, shoff, count * width)
    out = []
    for index in range(count):
        _name, sh_type, _flags, _addr, offset, size, link, info, _align, _entsize = struct.unpack_from(
            fmt, table, index * width)
        out.append((sh_type, offset, size, link, info))
    return out


def _verneed_names(section: bytes, count: int, strtab: bytes, end: str) -> list[str]:
    """Walk `count` Elf_Verneed entries (vn_version H, vn_cnt H, vn_file I, vn_aux I, vn_next I) and
    each one's Elf_Vernaux chain (vna_hash I, vna_flags H, vna_other H, vna_name I, vna_next I)."""
    if count > _MAX_ENTRIES:
        raise _Unreadable
    names: list[str] = []
    need = 0
    for _ in range(count):
        _version, cnt, _file, aux_off, nxt = struct.unpack_from(end + "HHIII", section, need)
        aux = need + aux_off
        for _ in range(cnt):
            _hash, _flags, _other, name, aux_next = struct.unpack_from(end + "IHHII", section, aux)
            names.append(_string(strtab, name))
            aux += aux_next
        need += nxt
    return names


def _string(strtab: bytes, offset: int) -> str:
    stop = strtab.index(b"\0", offset)  # ValueError when unterminated
    return strtab[offset:stop].decode("utf-8", errors="replace")
