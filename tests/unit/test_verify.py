"""Verification: what Lambda would only reveal at import time (wrong arch, glibc, ABI, size)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fakes import FakeDist, FakeInstaller
from helpers import EM_386, EM_AARCH64, EM_X86_64, elf_header, elf_with_verneed, lock_text

from layersmith.builder.tree import top_level_sizes
from layersmith.builder.verify import (
    MAX_DIRECT_UPLOAD,
    MAX_UNZIPPED,
    check_elf,
    check_size,
    check_wheel_tags,
    elf_machine,
    read_wheels,
    zip_warnings,
)
from layersmith.errors import BuildError, VerificationError
from layersmith.model import Variant
from layersmith.runtimes.supported import RUNTIMES

X86_311 = Variant("demo", ("python3.11",), ("x86_64",), False)
ARM_312 = Variant("demo", ("python3.12",), ("arm64",), False)
PORTABLE = Variant("demo", ("python3.11", "python3.12"), ("x86_64", "arm64"), True)


def put(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("data", "machine"), [
    (elf_header(EM_X86_64), 62),
    (elf_header(EM_AARCH64), 183),
    (elf_header(EM_AARCH64, little=False), 183),
    (elf_header(EM_386, bits=32), 3),
    (b"\x7fELF", None),  # truncated header
    (b"#!/bin/sh\n" + b"\0" * 64, None),
    (b"", None),
])
def test_elf_machine_from_crafted_headers(tmp_path: Path, data: bytes, machine: int | None) -> None:
    assert elf_machine(put(tmp_path, "f", data)) == machine


def test_right_architecture_passes(tmp_path: Path) -> None:
    put(tmp_path, "python/lib/python3.12/site-packages/pkg/_x.so", elf_header(EM_AARCH64))
    put(tmp_path, "python/lib/python3.12/site-packages/pkg/__init__.py", b"")
    check_elf(tmp_path, ARM_312)


def test_wrong_architecture_names_the_file(tmp_path: Path) -> None:
    put(tmp_path, "python/pkg/_ok.so", elf_header(EM_AARCH64))
    put(tmp_path, "python/pkg/_bad.so", elf_header(EM_X86_64))
    with pytest.raises(VerificationError) as err:
        check_elf(tmp_path, ARM_312)
    assert isinstance(err.value, BuildError) and err.value.exit_code == 1
    assert "python/pkg/_bad.so is x86-64 code but the variant targets arm64" in str(err.value)


def test_elf_without_so_suffix_is_still_checked(tmp_path: Path) -> None:
    put(tmp_path, "python/pkg.libs/libopenblas-r0.3", elf_header(EM_386, bits=32))
    with pytest.raises(VerificationError, match=r"libopenblas-r0\.3 is i386 code .* targets x86_64"):
        check_elf(tmp_path, X86_311)


def test_portable_layer_with_compiled_code(tmp_path: Path) -> None:
    put(tmp_path, "python/pkg/_x.so", elf_header(EM_X86_64))
    with pytest.raises(VerificationError) as err:
        check_elf(tmp_path, PORTABLE)
    assert err.value.key == "portable"
    assert "portable layer 'demo' contains compiled code (python/pkg/_x.so)" in str(err.value)
    assert "portable = false" in str(err.value)


def installed(tmp_path: Path, runtime: str, arch: str, **dists: FakeDist) -> Path:
    lock = tmp_path / "requirements.txt"
    lock.write_text(lock_text("purelib==1.0", *(f"{name}==2.0" for name in dists)))
    site = tmp_path / "site"
    FakeInstaller(dists).install(lock, site, RUNTIMES[runtime], arch)
    return site


def test_read_wheels(tmp_path: Path) -> None:
    site = installed(tmp_path, "python3.11", "x86_64", fast=FakeDist(compiled=True))
    wheels = {w.dist_info: w for w in read_wheels(site)}
    assert wheels["purelib-1.0.dist-info"].pure
    fast = wheels["fast-2.0.dist-info"]
    assert not fast.pure
    assert fast.tags == ("cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64")


def test_fitting_wheels_pass(tmp_path: Path) -> None:
    check_wheel_tags(installed(tmp_path, "python3.12", "arm64",
                               fast=FakeDist(compiled=True, platform="manylinux_2_34_{m}")), ARM_312)


@pytest.mark.parametrize("platform", ["manylinux_2_27_{m}", "manylinux_2_28_{m}", "linux_{m}"])
def test_wheel_tag_not_loadable_on_al2(tmp_path: Path, platform: str) -> None:
    site = installed(tmp_path, "python3.11", "x86_64", fast=FakeDist(compiled=True, platform=platform))
    with pytest.raises(VerificationError) as err:
        check_wheel_tags(site, X86_311)
    text = str(err.value)
    assert "fast-2.0.dist-info is tagged cp311-cp311-" in text
    assert "python3.11 on x86_64 cannot load" in text


def test_wheel_for_another_python(tmp_path: Path) -> None:
    site = installed(tmp_path, "python3.12", "x86_64", fast=FakeDist(compiled=True))
    with pytest.raises(VerificationError, match=r"fast-2\.0\.dist-info is tagged cp312-cp312-manylinux_2_17_x86_64"):
        check_wheel_tags(site, X86_311)


def test_portable_layer_with_compiled_wheel(tmp_path: Path) -> None:
    site = installed(tmp_path, "python3.11", "x86_64", fast=FakeDist(compiled=True))
    with pytest.raises(VerificationError) as err:
        check_wheel_tags(site, PORTABLE)
    assert err.value.key == "portable"
    assert "pulls in a compiled wheel (fast-2.0.dist-info" in str(err.value)


def test_portable_pure_layer_passes_for_every_target(tmp_path: Path) -> None:
    check_wheel_tags(installed(tmp_path, "python3.11", "x86_64"), PORTABLE)


def sparse(root: Path, rel: str, size: int) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.truncate(path, size)  # sparse: costs no disk, still counts as st_size


def test_size_at_the_limit_passes(tmp_path: Path) -> None:
    sparse(tmp_path, "python/lib/python3.12/site-packages/big/blob.bin", MAX_UNZIPPED - 10)
    sparse(tmp_path, "layersmith/demo.json", 10)
    assert check_size(tmp_path, "demo") == (2, MAX_UNZIPPED)


def test_size_over_the_limit_lists_the_ten_largest_packages(tmp_path: Path) -> None:
    site = "python/lib/python3.12/site-packages"
    mb = 1_000_000
    for i in range(12):  # pkg00 .. pkg11, pkg11 the largest
        sparse(tmp_path, f"{site}/pkg{i:02d}/a.bin", (i + 1) * mb)
        sparse(tmp_path, f"{site}/pkg{i:02d}/sub/b.bin", (i + 1) * mb)  # nested files count too
    sparse(tmp_path, f"{site}/huge/core.so", MAX_UNZIPPED - 100 * mb)
    with pytest.raises(VerificationError) as err:
        check_size(tmp_path, "demo")
    text = str(err.value)
    assert "\n" not in text
    assert "over Lambda's 262.1 MB limit" in text
    listed = text.split("largest: ", 1)[1]
    assert listed.startswith("huge 162.1 MB, pkg11 24.0 MB, pkg10 22.0 MB")
    assert listed.count(" MB") == 10  # the ten largest: huge + pkg11..pkg03
    assert "pkg03 8.0 MB" in listed and "pkg02" not in listed and "pkg00" not in listed


def test_top_level_sizes_group_by_package(tmp_path: Path) -> None:
    sparse(tmp_path, "python/lib/python3.11/site-packages/numpy/core/x.so", 300)
    sparse(tmp_path, "python/lib/python3.11/site-packages/numpy/__init__.py", 5)
    sparse(tmp_path, "python/shared_utils/events.py", 100)
    sparse(tmp_path, "layersmith/demo.json", 1)
    assert top_level_sizes(tmp_path) == [("numpy", 305), ("shared_utils", 100), ("demo.json", 1)]


def test_empty_layer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VerificationError, match="has nothing in it"):
        check_size(tmp_path, "demo")


def test_zip_warnings_at_the_direct_upload_limit() -> None:
    assert zip_warnings(MAX_DIRECT_UPLOAD) == []
    [warning] = zip_warnings(MAX_DIRECT_UPLOAD + 1)
    assert "45 MiB direct-upload limit" in warning and "S3" in warning


def test_the_direct_upload_limit_fits_lambdas_request_body_once_base64_encoded() -> None:
    """PublishLayerVersion carries the zip base64-encoded in a body capped at 69,905,067 bytes: a
    50 MiB zip (exactly 69,905,067 once encoded) leaves no room for the rest of the request."""
    import base64
    import math

    from layersmith.infra.layer import SharedLayerArgs
    from layersmith.limits import MAX_DIRECT_UPLOAD as LIMIT

    request_cap = 69_905_067
    assert LIMIT is MAX_DIRECT_UPLOAD  # one constant, wherever it is read
    assert SharedLayerArgs.__dataclass_fields__["direct_upload_limit"].default == LIMIT
    assert 4 * math.ceil(LIMIT / 3) < request_cap - 1_000_000  # a margin for the JSON around it
    assert len(base64.b64encode(bytes(50 * 1024 * 1024))) >= request_cap


# --- the glibc guard: the symbol versions every ELF file requires (.gnu.version_r) --------------------

X86_312 = Variant("demo", ("python3.12",), ("x86_64",), False)


@pytest.mark.parametrize(("variant", "version", "refused"), [
    (X86_311, "GLIBC_2.17", False),  # manylinux2014: what the py311 layers need at most
    (X86_311, "GLIBC_2.26", False),  # Amazon Linux 2's own
    (X86_311, "GLIBC_2.27", True),
    (X86_311, "GLIBC_2.28", True),
    (X86_312, "GLIBC_2.27", False),  # scipy-openblas in py312 data-science
    (X86_312, "GLIBC_2.34", False),  # Amazon Linux 2023's own
    (X86_312, "GLIBC_2.35", True),
])
def test_glibc_boundaries_per_runtime(tmp_path: Path, variant: Variant, version: str, refused: bool) -> None:
    put(tmp_path, "python/pkg/_c.so", elf_with_verneed(EM_X86_64, {"libc.so.6": ["GLIBC_2.2.5", version]}))
    if refused:
        with pytest.raises(VerificationError, match=rf"python/pkg/_c\.so needs {version}"):
            check_elf(tmp_path, variant)
    else:
        assert check_elf(tmp_path, variant) == tuple(int(x) for x in version.removeprefix("GLIBC_").split("."))


def test_the_newest_version_over_every_library_and_file_counts(tmp_path: Path) -> None:
    put(tmp_path, "a/_a.so", elf_with_verneed(EM_X86_64, {"libc.so.6": ["GLIBC_2.3.4"], "libm.so.6": ["GLIBC_2.23"]}))
    put(tmp_path, "b/_b.so", elf_with_verneed(EM_X86_64, {"libpthread.so.0": ["GLIBC_2.12", "GLIBC_PRIVATE"]}))
    put(tmp_path, "c/_c.so", elf_header(EM_X86_64))  # no version needs at all
    assert check_elf(tmp_path, X86_311) == (2, 23)


def test_the_message_names_the_file_the_runtime_and_what_to_do(tmp_path: Path) -> None:
    put(tmp_path, "python/lib/python3.11/site-packages/fast/_speed.so",
        elf_with_verneed(EM_X86_64, {"libc.so.6": ["GLIBC_2.28"]}))
    with pytest.raises(VerificationError) as info:
        check_elf(tmp_path, X86_311)
    assert info.value.message == (
        "python/lib/python3.11/site-packages/fast/_speed.so needs GLIBC_2.28 but python3.11 runs on Amazon Linux 2 "
        "(glibc 2.26): it would fail at import with `GLIBC_2.28 not found`; pin a release whose wheel is built for "
        "glibc 2.26 or older, or drop python3.11 from the layer")


def test_a_real_compiled_object_is_read_the_same_way(tmp_path: Path) -> None:
    """gcc and the host's glibc (2.36 here) produce the real thing: statx appeared in glibc 2.28."""
    if shutil.which("gcc") is None:
        pytest.skip("no gcc on this machine: the hand-made ELF tests above still ran")
    (tmp_path / "x.c").write_text("#define _GNU_SOURCE\n#include <sys/stat.h>\n#include <fcntl.h>\n"
                                  "int f(struct statx *b) { return statx(0, \"/\", 0, 0, b); }\n")
    (tmp_path / "layer").mkdir()
    done = subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(tmp_path / "layer" / "x.so"), str(tmp_path / "x.c")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with pytest.raises(VerificationError, match=r"x\.so needs GLIBC_2\.28 but python3\.11"):
        check_elf(tmp_path / "layer", X86_311)
    assert check_elf(tmp_path / "layer", X86_312) == (2, 28)
