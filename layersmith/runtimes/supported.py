"""Everything layersmith knows about Lambda's Python runtimes, in one table.

Platform knowledge lives here and nowhere else (CDK's `platform.ts` and chalice's
`_RUNTIME_GLIBC` are the anchors). Facts, checked late 2026
(docs/architecture.md#lambda-runtimes-and-glibc):
python3.10/3.11 run on Amazon Linux 2 (glibc 2.26); python3.12+ on Amazon Linux 2023
(glibc 2.34). A wheel tagged for a newer glibc installs fine and then fails at import with
`GLIBC_2.xx not found`, so the tag table below is the gate every installed wheel must pass.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from layersmith.errors import SpecError

if TYPE_CHECKING:
    from packaging.tags import Tag

ARCHITECTURES: tuple[str, ...] = ("x86_64", "arm64")

# Lambda's architecture name -> the machine name in wheel tags and the ELF e_machine value.
_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
# `platform.machine()` / `uname -m` spellings, which vary by OS -> Lambda's architecture name.
HOST_MACHINE_ARCH = {**{m: a for a, m in _MACHINE.items()}, "amd64": "x86_64", "arm64": "arm64"}
ELF_MACHINE = {"x86_64": 62, "arm64": 183}  # EM_X86_64, EM_AARCH64 (elf.h)
ELF_MACHINE_NAMES = {62: "x86-64", 183: "AArch64", 3: "i386", 40: "ARM", 243: "RISC-V"}
DOCKER_PLATFORM = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}
# The AWS SDK every Python runtime ships (the distributions `check` warns a layer shadows).
RUNTIME_SDK: tuple[str, ...] = ("boto3", "botocore", "s3transfer")


@dataclass(frozen=True)
class Runtime:
    name: str  # "python3.12"
    version: tuple[int, int]  # (3, 12)
    os: str  # "Amazon Linux 2023"
    glibc: tuple[int, int]  # (2, 34)
    deprecated: dt.date  # Lambda's published deprecation date

    @property
    def dotted(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def cpython_tag(self) -> str:
        return f"cp{self.version[0]}{self.version[1]}"

    @property
    def site_packages(self) -> str:
        """Where a version-specific layer puts its packages (Lambda adds it to sys.path)."""
        return f"python/lib/python{self.dotted}/site-packages"

    @property
    def build_image(self) -> str:
        """The official SAM build image repository for this runtime (tag chosen by the builder)."""
        return f"public.ecr.aws/sam/build-{self.name}"

    def is_deprecated(self, today: dt.date) -> bool:
        return today >= self.deprecated


_AL2 = ("Amazon Linux 2", (2, 26))
_AL2023 = ("Amazon Linux 2023", (2, 34))

RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        Runtime("python3.9", (3, 9), *_AL2, dt.date(2025, 12, 15)),
        Runtime("python3.10", (3, 10), *_AL2, dt.date(2026, 10, 31)),
        Runtime("python3.11", (3, 11), *_AL2, dt.date(2027, 6, 30)),
        Runtime("python3.12", (3, 12), *_AL2023, dt.date(2028, 10, 31)),
        Runtime("python3.13", (3, 13), *_AL2023, dt.date(2029, 6, 30)),
        Runtime("python3.14", (3, 14), *_AL2023, dt.date(2030, 6, 30)),
    )
}


def get_runtime(name: str, *, path: str | None = None, key: str | None = None) -> Runtime:
    try:
        return RUNTIMES[name]
    except KeyError:
        known = ", ".join(RUNTIMES)
        raise SpecError(
            f"unknown Lambda runtime {name!r}; use one of {known}", path=path, key=key
        ) from None


def check_architecture(name: str, *, path: str | None = None, key: str | None = None) -> str:
    if name not in ARCHITECTURES:
        raise SpecError(
            f"unknown architecture {name!r}; use one of {', '.join(ARCHITECTURES)}", path=path, key=key
        )
    return name


def wheel_machine(arch: str) -> str:
    return _MACHINE[arch]


def manylinux_platforms(runtime: Runtime, arch: str) -> list[str]:
    """Every platform tag a wheel may carry to load on this runtime/arch, newest glibc first.

    PEP 600 tags down to glibc 2.17 (2.5 on x86_64) plus the legacy PEP 513/571/599 aliases.
    `linux_*` tags are deliberately absent: they promise nothing about the glibc they need.
    """
    machine = _MACHINE[arch]
    major, top = runtime.glibc
    floor = 5 if arch == "x86_64" else 17
    platforms = [f"manylinux_{major}_{minor}_{machine}" for minor in range(top, floor - 1, -1)]
    platforms.append(f"manylinux2014_{machine}")
    if arch == "x86_64":
        platforms += [f"manylinux2010_{machine}", f"manylinux1_{machine}"]
    return platforms


@cache
def supported_tags(runtime_name: str, arch: str) -> frozenset[Tag]:
    """The wheel tags the runtime's interpreter accepts on Lambda (packaging.tags does the expansion)."""
    from packaging.tags import compatible_tags, cpython_tags  # here: a build of pure wheels never needs it

    runtime = RUNTIMES[runtime_name]
    platforms = manylinux_platforms(runtime, arch)
    tags = list(cpython_tags(runtime.version, abis=[runtime.cpython_tag], platforms=platforms))
    tags += compatible_tags(runtime.version, runtime.cpython_tag, platforms)
    return frozenset(tags)


def uv_python_platform(runtime: Runtime, arch: str) -> str:
    """The `uv pip install --python-platform` value for this target.

    uv offers manylinux_2_17 and then jumps to 2_28, so glibc 2.26 (Amazon Linux 2) maps to
    manylinux_2_17: conservative (a wheel tagged exactly 2_24/2_26 is not picked) but never wrong.
    """
    machine = _MACHINE[arch]
    if runtime.glibc >= (2, 34):
        return f"{machine}-manylinux_2_34"
    if runtime.glibc >= (2, 28):
        return f"{machine}-manylinux_2_28"
    return f"{machine}-manylinux_2_17"
