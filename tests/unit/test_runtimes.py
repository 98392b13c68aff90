"""Boundary tests for the runtime table (docs/architecture.md#lambda-runtimes-and-glibc: python3.11 = AL2/glibc 2.26,
python3.12 = AL2023/glibc 2.34)."""

from __future__ import annotations

import pytest
from packaging.tags import Tag, parse_tag

from layersmith.errors import SpecError, UserError
from layersmith.runtimes.supported import (
    ELF_MACHINE,
    RUNTIMES,
    check_architecture,
    get_runtime,
    supported_tags,
    uv_python_platform,
    wheel_machine,
)


def accepts(runtime: str, arch: str, tag: str) -> bool:
    return any(t in supported_tags(runtime, arch) for t in parse_tag(tag))


@pytest.mark.parametrize(("name", "os_name", "glibc"), [
    ("python3.10", "Amazon Linux 2", (2, 26)),
    ("python3.11", "Amazon Linux 2", (2, 26)),
    ("python3.12", "Amazon Linux 2023", (2, 34)),
    ("python3.13", "Amazon Linux 2023", (2, 34)),
])
def test_runtime_os_and_glibc(name: str, os_name: str, glibc: tuple[int, int]) -> None:
    rt = get_runtime(name)
    assert (rt.os, rt.glibc) == (os_name, glibc)


def test_runtime_derived_names() -> None:
    rt = get_runtime("python3.12")
    assert rt.dotted == "3.12"
    assert rt.cpython_tag == "cp312"
    assert rt.site_packages == "python/lib/python3.12/site-packages"
    assert rt.build_image == "public.ecr.aws/sam/build-python3.12"


@pytest.mark.parametrize(("tag", "ok"), [
    ("cp311-cp311-manylinux_2_17_x86_64", True),
    ("cp311-cp311-manylinux2014_x86_64", True),
    ("cp311-cp311-manylinux_2_26_x86_64", True),  # exactly AL2's glibc
    ("cp311-cp311-manylinux_2_27_x86_64", False),  # one newer: GLIBC_2.27 not found at import
    ("cp311-cp311-manylinux_2_28_x86_64", False),
    ("cp311-cp311-manylinux1_x86_64", True),
    ("cp311-abi3-manylinux_2_17_x86_64", True),
    ("cp38-abi3-manylinux_2_17_x86_64", True),
    ("py3-none-any", True),
    ("cp312-cp312-manylinux_2_17_x86_64", False),  # another CPython ABI
    ("cp311-cp311-manylinux_2_17_aarch64", False),  # another machine
    ("cp311-cp311-linux_x86_64", False),  # promises nothing about glibc
    ("cp311-cp311-musllinux_1_2_x86_64", False),
])
def test_python311_x86_64_tag_boundaries(tag: str, ok: bool) -> None:
    assert accepts("python3.11", "x86_64", tag) is ok


@pytest.mark.parametrize(("tag", "ok"), [
    ("cp312-cp312-manylinux_2_17_aarch64", True),
    ("cp312-cp312-manylinux_2_28_aarch64", True),
    ("cp312-cp312-manylinux_2_34_aarch64", True),  # exactly AL2023's glibc
    ("cp312-cp312-manylinux_2_35_aarch64", False),
    ("cp312-cp312-manylinux_2_34_x86_64", False),
    ("cp311-cp311-manylinux_2_17_aarch64", False),
])
def test_python312_arm64_tag_boundaries(tag: str, ok: bool) -> None:
    assert accepts("python3.12", "arm64", tag) is ok


def test_python312_x86_64_accepts_2_34_refuses_2_35() -> None:
    assert accepts("python3.12", "x86_64", "cp312-cp312-manylinux_2_34_x86_64")
    assert not accepts("python3.12", "x86_64", "cp312-cp312-manylinux_2_35_x86_64")


def test_python311_arm64_accepts_2_26_refuses_2_27() -> None:
    assert accepts("python3.11", "arm64", "cp311-cp311-manylinux_2_26_aarch64")
    assert not accepts("python3.11", "arm64", "cp311-cp311-manylinux_2_27_aarch64")


def test_supported_tags_are_packaging_tags() -> None:
    assert Tag("cp311", "cp311", "manylinux_2_17_x86_64") in supported_tags("python3.11", "x86_64")


@pytest.mark.parametrize(("arch", "machine", "elf"), [("x86_64", "x86_64", 62), ("arm64", "aarch64", 183)])
def test_architecture_names(arch: str, machine: str, elf: int) -> None:
    assert wheel_machine(arch) == machine
    assert ELF_MACHINE[arch] == elf
    assert check_architecture(arch) == arch


@pytest.mark.parametrize(("runtime", "arch", "platform"), [
    # uv has no 2_26 target: AL2 maps down to 2_17 (conservative, never a too-new wheel)
    ("python3.11", "x86_64", "x86_64-manylinux_2_17"),
    ("python3.11", "arm64", "aarch64-manylinux_2_17"),
    ("python3.10", "x86_64", "x86_64-manylinux_2_17"),
    ("python3.12", "x86_64", "x86_64-manylinux_2_34"),
    ("python3.12", "arm64", "aarch64-manylinux_2_34"),
    ("python3.13", "arm64", "aarch64-manylinux_2_34"),
])
def test_uv_python_platform(runtime: str, arch: str, platform: str) -> None:
    assert uv_python_platform(RUNTIMES[runtime], arch) == platform


def test_uv_platform_never_newer_than_the_runtime_glibc() -> None:
    for rt in RUNTIMES.values():
        for arch in ("x86_64", "arm64"):
            minor = int(uv_python_platform(rt, arch).rsplit("_", 1)[1])
            assert (2, minor) <= rt.glibc


@pytest.mark.parametrize("name", ["python3.8", "python3.99", "python3", "Python3.12", ""])
def test_unknown_runtime_is_a_spec_error_naming_file_and_key(name: str) -> None:
    with pytest.raises(SpecError) as err:
        get_runtime(name, path="layers/x/layer.toml", key="runtimes")
    assert isinstance(err.value, UserError)
    assert err.value.exit_code == 2
    text = str(err.value)
    assert text.startswith("layers/x/layer.toml: runtimes: ")
    assert repr(name) in text and "python3.12" in text  # says what to use instead


@pytest.mark.parametrize("name", ["aarch64", "amd64", "x86-64", "ARM64"])
def test_unknown_architecture(name: str) -> None:
    with pytest.raises(SpecError, match=r"architectures: unknown architecture .*x86_64, arm64"):
        check_architecture(name, path="layer.toml", key="architectures")


def test_deprecation_dates() -> None:
    import datetime as dt

    rt = get_runtime("python3.11")
    assert not rt.is_deprecated(dt.date(2027, 6, 29))
    assert rt.is_deprecated(dt.date(2027, 6, 30))
