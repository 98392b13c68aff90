"""Checks that a built tree will load on its target — what Lambda itself would only reveal at import.

Lambda does not check a layer's runtimes/architectures against the function
(docs/architecture.md#verify-what-lambda-does-not-check): an
x86-64 `.so` in an arm64 layer, or a `manylinux_2_28` wheel on Amazon Linux 2, deploys fine and
fails at import. So every ELF header and every installed wheel tag is checked here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from layersmith.builder.elf_versions import needed_versions
from layersmith.builder.tree import top_level_sizes, tree_size, walk_paths
from layersmith.errors import VerificationError
from layersmith.limits import MAX_DIRECT_UPLOAD
from layersmith.model import Variant
from layersmith.runtimes.supported import ELF_MACHINE, ELF_MACHINE_NAMES, RUNTIMES, supported_tags

MAX_UNZIPPED = 262_144_000  # function + all layers, unzipped (Lambda quota)
_GLIBC = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$")


@dataclass(frozen=True)
class WheelInfo:
    dist_info: str
    tags: tuple[str, ...]

    @property
    def pure(self) -> bool:
        return all(t.endswith("-none-any") for t in self.tags)


def elf_machine(path: Path | str) -> int | None:
    """e_machine of an ELF file, or None when the file is not ELF."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return elf_header_machine(os.read(fd, 20))
    finally:
        os.close(fd)


def elf_header_machine(header: bytes) -> int | None:
    """`elf_machine` of a file's first 20 bytes."""
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def glibc_required(path: Path) -> tuple[int, int] | None:
    """The newest `GLIBC_x.y` symbol version an ELF file needs (its `.gnu.version_r` entries), or
    None when it needs none. This is what the dynamic loader checks at import (`GLIBC_2.28 not
    found`), whatever the wheel's tag claims."""
    with path.open("rb") as fh:
        names = needed_versions(fh)  # a well-formed file, read with struct (~100x pyelftools' time)
    if names is None:
        names = _needed_versions_pyelftools(path)
    versions = [(int(m.group(1)), int(m.group(2))) for n in names if (m := _GLIBC.match(n))]
    return max(versions) if versions else None


def _needed_versions_pyelftools(path: Path) -> list[str]:
    """pyelftools' reading, for every file the struct reader does not fully understand: it decides
    whether a damaged file is refused, as before the fast path existed."""
    # Imported here: pyelftools is 30 ms of every CLI start, and most builds have no new ELF file.
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerNeedSection

    with path.open("rb") as fh:
        try:
            elf = ELFFile(fh)
            return [aux.name for section in elf.iter_sections() if isinstance(section, GNUVerNeedSection)
                    for _need, auxes in section.iter_versions() for aux in auxes]
        except (ELFError, ValueError, KeyError, OSError) as exc:
            raise VerificationError(f"{path.name} is an ELF file that cannot be read ({exc}); the wheel "
                                    "that shipped it is damaged") from None


def check_glibc(rel: str, path: Path, variant: Variant) -> tuple[int, int] | None:
    """Refuse a binary that needs a newer glibc than the oldest runtime of the variant provides."""
    needed = glibc_required(path)
    if needed is None:
        return None
    for name in variant.runtimes:
        runtime = RUNTIMES[name]
        if needed > runtime.glibc:
            have = f"{runtime.glibc[0]}.{runtime.glibc[1]}"
            raise VerificationError(
                f"{rel} needs GLIBC_{needed[0]}.{needed[1]} but {name} runs on {runtime.os} (glibc {have}): it "
                f"would fail at import with `GLIBC_{needed[0]}.{needed[1]} not found`; pin a release whose wheel "
                f"is built for glibc {have} or older, or drop {name} from the layer")
    return needed


def read_wheels(site: Path) -> list[WheelInfo]:
    wheels = []
    for wheel_file in sorted(site.glob("*.dist-info/WHEEL")):
        tags = tuple(line.split(":", 1)[1].strip() for line in wheel_file.read_text().splitlines()
                     if line.startswith("Tag:"))
        wheels.append(WheelInfo(wheel_file.parent.name, tags))
    return wheels


def check_elf(root: Path, variant: Variant, *, spec_path: Path | None = None,
              files: Sequence[tuple[str, str]] | None = None) -> tuple[int, int] | None:
    """Every ELF file's machine and required glibc against the variant; returns the newest glibc
    any of them needs (None when none needs one). `files`: `walk_paths(root)` taken already (a cold
    build checks while compileall adds .pyc files, so it must not walk the stage then)."""
    newest: tuple[int, int] | None = None
    for rel, path in walk_paths(root) if files is None else files:
        machine = elf_machine(path)
        if machine is None:
            continue
        if variant.portable:
            raise VerificationError(
                f"portable layer {variant.layer!r} contains compiled code ({rel}); set `portable = false` "
                "to build one variant per runtime/architecture", path=spec_path, key="portable")
        want = ELF_MACHINE[variant.architectures[0]]
        if machine != want:
            raise VerificationError(
                f"{rel} is {ELF_MACHINE_NAMES.get(machine, f'machine {machine}')} code but the variant "
                f"targets {variant.architectures[0]}; a wheel for the wrong architecture was installed")
        needed = check_glibc(rel, Path(path), variant)
        if needed is not None and (newest is None or needed > newest):
            newest = needed
    return newest


def check_wheel_tags(site: Path, variant: Variant, *, spec_path: Path | None = None) -> None:
    """Every installed wheel must carry a tag each of the variant's runtime/arch pairs accepts."""
    for wheel in read_wheels(site):
        if variant.portable and not wheel.pure:
            raise VerificationError(
                f"portable layer {variant.layer!r} pulls in a compiled wheel ({wheel.dist_info}: "
                f"{', '.join(wheel.tags)}); set `portable = false`", path=spec_path, key="portable")
        if not any(_every_python3_loads(tag) for tag in wheel.tags):
            _check_tag_tables(wheel, variant)


def _check_tag_tables(wheel: WheelInfo, variant: Variant) -> None:
    from packaging.tags import parse_tag  # here: most rebuilds install only `py3-none-any` wheels

    for runtime in variant.runtimes:
        for arch in variant.architectures:
            accepted = supported_tags(runtime, arch)
            if not any(t in accepted for tag in wheel.tags for t in parse_tag(tag)):
                raise VerificationError(
                    f"{wheel.dist_info} is tagged {', '.join(wheel.tags)}, which {runtime} on {arch} "
                    f"cannot load (glibc/ABI mismatch); pin a version with a compatible wheel")


def _every_python3_loads(tag: str) -> bool:
    """`py3-none-any` (or a compressed set holding it, as `py2.py3-none-any`): `packaging.tags.compatible_tags`
    yields it for every CPython 3 on every platform, so every runtime accepts it without expanding their tag
    tables (tests/properties/test_names_properties.py checks that against them)."""
    parts = tag.split("-")
    return len(parts) == 3 and "py3" in parts[0].split(".") and "none" in parts[1].split(".") and (
        "any" in parts[2].split("."))


def check_size(root: Path, layer: str) -> tuple[int, int]:
    files, unzipped = tree_size(root)
    return check_totals(files, unzipped, lambda: top_level_sizes(root), layer)


def check_totals(files: int, unzipped: int, largest_tops: Callable[[], list[tuple[str, int]]],
                 layer: str) -> tuple[int, int]:
    if unzipped > MAX_UNZIPPED:
        largest = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in largest_tops())
        raise VerificationError(
            f"layer {layer!r} is {unzipped / 1e6:.1f} MB unzipped, over Lambda's {MAX_UNZIPPED / 1e6:.1f} MB "
            f"limit; largest: {largest}. Split the layer or drop packages")
    if files == 0:
        raise VerificationError(f"layer {layer!r} has nothing in it; add `requirements` or `source`")
    return files, unzipped


def zip_warnings(zip_bytes: int) -> list[str]:
    if zip_bytes > MAX_DIRECT_UPLOAD:
        return [f"zip is {zip_bytes / 1e6:.1f} MB, over the {MAX_DIRECT_UPLOAD / 2**20:.0f} MiB direct-upload "
                "limit: it will be published through S3 (layersmith:artifactBucket)"]
    return []
