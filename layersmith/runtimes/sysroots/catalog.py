"""Which Debian userlands stand in for which Lambda runtimes (what `layersmith runtimes` prepares).

Lambda's own images cannot be pulled here, but Debian's CPython packages can: the same CPython
minor version, built for the same CPU, with a glibc at least as new as Amazon Linux's (so a layer
that loads on Lambda loads here too; the static glibc guard in `verify` covers the other
direction). Python 3.12 exists in no Debian suite for any architecture, so py312-arm64 has no
stand-in (py312-x86_64 runs on a host CPython 3.12 when one is installed).
"""

from __future__ import annotations

from dataclasses import dataclass

from layersmith.runtimes.supported import wheel_machine

# Lambda's architecture name -> Debian's.
DEBIAN_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
# Graviton2 (Neoverse N1) is what Lambda arm64 runs on. qemu's default CPU ("max") has SVE, and
# OpenBLAS then picks SVE kernels that qemu runs about 10x slower (a 512x512 matmul: 18.8 s vs 1.8 s).
QEMU_CPU = {"arm64": "neoverse-n1"}
# The suite qemu-user-static comes from: its binaries are static, so any suite runs on any host.
TOOLS_SUITE = "bookworm"


@dataclass(frozen=True)
class SysrootSpec:
    name: str  # "trixie-arm64"
    suite: str  # Debian suite: "bookworm", "trixie"
    arch: str  # Lambda's architecture name
    python: tuple[int, int]

    @property
    def dotted(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"

    @property
    def debian_arch(self) -> str:
        return DEBIAN_ARCH[self.arch]

    @property
    def multiarch(self) -> str:
        return f"{wheel_machine(self.arch)}-linux-gnu"

    @property
    def suites(self) -> tuple[str, ...]:
        return (self.suite, f"{self.suite}-updates", f"{self.suite}-security")

    @property
    def packages(self) -> tuple[str, ...]:
        # libstdc++/libgcc: what C++ extension modules (pandas, numpy's OpenBLAS) link against,
        # and what Amazon Linux has in its base image.
        return (f"python{self.dotted}", "libstdc++6", "libgcc-s1")

    @property
    def python_bin(self) -> str:
        return f"usr/bin/python{self.dotted}"

    @property
    def loader(self) -> str:
        """The dynamic loader, relative to the root (merged /usr: lib -> usr/lib)."""
        return {"x86_64": f"usr/lib/{self.multiarch}/ld-linux-x86-64.so.2",
                "arm64": f"usr/lib/{self.multiarch}/ld-linux-aarch64.so.1"}[self.arch]


# bookworm-amd64 runs python3.11/x86_64 where no host CPython 3.11 does, gives the docker stand-in that
# userland, and compiles bookworm-arm64's bytecode natively (`native_twin`).
SYSROOTS: tuple[SysrootSpec, ...] = (
    SysrootSpec("bookworm-amd64", "bookworm", "x86_64", (3, 11)),
    SysrootSpec("bookworm-arm64", "bookworm", "arm64", (3, 11)),
    SysrootSpec("trixie-amd64", "trixie", "x86_64", (3, 13)),
    SysrootSpec("trixie-arm64", "trixie", "arm64", (3, 13)),
)


def sysroot_for(version: tuple[int, int], arch: str) -> SysrootSpec | None:
    return next((s for s in SYSROOTS if s.python == version and s.arch == arch), None)


def native_twin(spec: SysrootSpec, host_arch: str) -> SysrootSpec | None:
    """The sysroot of the same Debian suite and Python built for the host's CPU, if the catalog has one
    (trixie-amd64 for trixie-arm64 on an x86_64 host): the same CPython source package, run natively."""
    if spec.arch == host_arch:
        return None
    return next((s for s in SYSROOTS if (s.suite, s.python, s.arch) == (spec.suite, spec.python, host_arch)), None)


def by_name(name: str) -> SysrootSpec | None:
    return next((s for s in SYSROOTS if s.name == name), None)
