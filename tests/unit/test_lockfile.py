"""Merging per-target resolutions into one lock, and explaining targets without a wheel (fake index)."""

from __future__ import annotations

from pathlib import Path

import pytest

from layersmith.builder.locking import explain_no_wheel
from layersmith.errors import BuildError
from layersmith.model import Requirement
from layersmith.project.lockfile import Pinned, merge, pins_for, recorded_targets, render
from layersmith.project.specs import parse_lock
from layersmith.runtimes.supported import RUNTIMES

TARGETS = ["python3.11/x86_64", "python3.11/arm64", "python3.12/x86_64", "python3.12/arm64"]
H = "sha256:" + "a" * 64
H2 = "sha256:" + "b" * 64


def test_merge_marks_only_what_differs_and_the_lock_selects_per_target(tmp_path: Path) -> None:
    same = {"six": Pinned("1.17.0", frozenset({H}))}
    resolved = {
        "python3.11/x86_64": {**same, "numpy": Pinned("2.2.6", frozenset({H}))},
        "python3.11/arm64": {**same, "numpy": Pinned("2.2.6", frozenset({H2}))},
        "python3.12/x86_64": {**same, "numpy": Pinned("2.5.5", frozenset({H})), "odd": Pinned("1", frozenset({H}))},
        "python3.12/arm64": {**same, "numpy": Pinned("2.5.5", frozenset({H}))},
    }
    text = render("ds", TARGETS, merge(resolved, TARGETS))
    lock = tmp_path / "requirements.txt"
    lock.write_text(text, encoding="utf-8")
    assert recorded_targets(text) == tuple(TARGETS)
    reqs = parse_lock(lock)
    by_line = {(r.name, r.version): r for r in reqs}
    assert by_line[("six", "1.17.0")].marker is None
    assert by_line[("numpy", "2.2.6")].hashes == (H, H2)  # hashes of both targets' wheels
    assert by_line[("odd", "1")].marker == 'python_version == "3.12" and platform_machine == "x86_64"'
    for label in TARGETS:
        runtime, arch = label.split("/")
        pins = {n: r.version for n, r in pins_for(reqs, RUNTIMES[runtime], arch).items()}
        assert pins == {n: p.version for n, p in resolved[label].items()}


class FakeIndex:
    def __init__(self, files: dict[str, dict[str, list[str]]]) -> None:
        self.data = files

    def files(self, name: str) -> dict[str, list[str]]:
        return self.data.get(name, {})


INDEX = FakeIndex({
    "numpy": {"2.2.6": ["numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                        "numpy-2.2.6.tar.gz"],
              "2.4.6": ["numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"],
              "3.0.0rc1": ["numpy-3.0.0rc1-cp311-cp311-manylinux_2_17_x86_64.whl"]},
    "pycrypto": {"2.6.1": ["pycrypto-2.6.1.tar.gz"]},
    "glibc-only-new": {"1.0": ["glibc_only_new-1.0-cp311-cp311-manylinux_2_28_x86_64.whl"]},
})


def _explain(stderr: str) -> str:
    err = explain_no_wheel(stderr, RUNTIMES["python3.11"], "x86_64", Path("requirements.in"), INDEX)
    assert isinstance(err, BuildError)
    return err.message


def test_a_pinned_version_without_a_wheel_names_the_newest_that_has_one() -> None:
    msg = _explain("  cause: Because numpy==2.4.6 has no usable wheels and you require numpy==2.4.6, ...")
    assert msg.startswith("numpy==2.4.6 has no wheel for python3.11/x86_64 (Amazon Linux 2, glibc 2.26)")
    assert "the newest release with one is 2.2.6" in msg  # not the pre-release, not the 2_28 one


def test_sdist_only_and_no_compatible_release_say_what_to_do() -> None:
    msg = _explain("Because all versions of pycrypto have no usable wheels and you require pycrypto")
    assert "only source distributions" in msg and "pip install --no-deps --target" in msg
    msg = _explain("Because all versions of glibc-only-new have no usable wheels and you require it")
    assert msg.startswith("no release of glibc-only-new has a wheel for python3.11/x86_64")
    assert "not on PyPI" in _explain("Because all versions of typo-pkg have no usable wheels")
    assert explain_no_wheel("some other failure", RUNTIMES["python3.11"], "x86_64", Path("r.in"), INDEX) is None


@pytest.mark.parametrize("marker", ["python_full_version < '3.12'", "python_version == '3.11'"])
def test_pins_for_evaluates_old_and_new_markers(marker: str) -> None:
    req = Requirement("numpy", "2.2.6", (H,), marker, 1)
    assert pins_for([req], RUNTIMES["python3.11"], "arm64") == {"numpy": req}
    assert pins_for([req], RUNTIMES["python3.12"], "arm64") == {}
