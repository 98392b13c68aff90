"""`layersmith runtimes`: what runs each runtime here, and fetching the sysroots (idempotent)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CliRun
from helpers import REPO
from test_variants_execute import REQUIRED, sysroots_root

from layersmith.runner import SubprocessRunner
from layersmith.runtimes.interpreters import Finder, host_arch


@pytest.fixture
def sysroots(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAYERSMITH_SYSROOTS", str(sysroots_root()))
    return sysroots_root()


def test_fetch_is_idempotent_and_list_says_where_each_runtime_runs(sysroots: Path, cli: CliRun) -> None:
    code, out, err = cli("--project", REPO, "runtimes", "fetch", "trixie-amd64")
    if code != 0 and not REQUIRED:
        pytest.skip(f"not executed: fetching trixie-amd64 failed here: {err.strip()}")
    assert code == 0, err
    code, out, err = cli("--project", REPO, "runtimes", "fetch", "trixie-amd64")
    assert code == 0 and out.startswith("trixie-amd64: already prepared: sysroot trixie-amd64 (Debian trixie "
                                        "CPython 3.13"), out
    assert "runtimes: trixie-amd64" not in err  # nothing was fetched again
    code, out, err = cli("--project", REPO, "runtimes")
    assert code == 0, err
    assert re.search(r"python3\.11\s+x86_64\s+host CPython 3\.11\.\d+ \(x86_64, this Python\)", out)
    assert re.search(r"python3\.12\s+arm64\s+Docker only \(this machine is x86_64; Python 3\.12 exists in no "
                     r"Debian suite\)", out)
    assert re.search(r"trixie-amd64\s+python3\.13\s+x86_64\s+Debian trixie\s+prepared \(CPython 3\.13\.\d+\)", out)


def test_an_unknown_sysroot_is_named(sysroots: Path, cli: CliRun) -> None:
    code, out, err = cli("--project", REPO, "runtimes", "fetch", "sid-riscv64")
    assert code == 2 and out == ""
    assert err.strip() == ("layersmith: error: NAME: unknown sysroot 'sid-riscv64'; use one of bookworm-amd64, "
                           "bookworm-arm64, trixie-amd64, trixie-arm64")


def test_fetch_without_names_prepares_the_sysroots_the_project_declares(sysroots: Path, cli: CliRun) -> None:
    """The repo's layers list python3.11 and 3.13 on arm64 (and its function thumbnail-index runs
    on 3.13/arm64): both arm64 sysroots; trixie-amd64 only where no host CPython 3.13 runs."""
    code, out, err = cli("--project", REPO, "runtimes", "fetch")
    if code != 0 and not REQUIRED:
        pytest.skip(f"not executed: fetching the declared sysroots failed here: {err.strip()}")
    assert code == 0, err
    assert re.search(r"^bookworm-arm64: (already )?prepared: ", out, re.M), out
    assert re.search(r"^trixie-arm64: (already )?prepared: ", out, re.M), out
    assert out.strip().splitlines()[-1].startswith("sysroots in ")
    if host_arch() == "x86_64" and Finder(SubprocessRunner()).find((3, 13)) is not None:
        assert "trixie-amd64" not in out  # a host CPython 3.13 runs python3.13/x86_64 itself
