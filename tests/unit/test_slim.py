"""Slimming: what Lambda can never use goes, what importlib.metadata needs stays."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from fakes import FakeDist, FakeInstaller
from helpers import lock_text

from layersmith.builder.slim import remove_distributions, slim_tree
from layersmith.runtimes.supported import RUNTIMES


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def install(tmp_path: Path, *pins: str, dists: dict[str, FakeDist] | None = None) -> Path:
    lock = tmp_path / "requirements.txt"
    lock.write_text(lock_text(*pins))
    site = tmp_path / "site"
    FakeInstaller(dists or {}).install(lock, site, RUNTIMES["python3.12"], "x86_64")
    return site


def test_slim_removes_host_leftovers_and_keeps_metadata(tmp_path: Path) -> None:
    site = install(tmp_path, "alpha==1.0", "beta==2.0", dists={"beta": FakeDist(compiled=True)})
    (site / "alpha" / "stray.pyc").write_bytes(b"x")
    (site / "alpha" / "legacy.pyo").write_bytes(b"x")
    before = files(site)
    assert "alpha/__pycache__/core.cpython-311.pyc" in before and ".lock" in before and "bin/alpha" in before

    slim_tree(site)

    after = files(site)
    assert not [f for f in after if "__pycache__" in f or f.endswith((".pyc", ".pyo"))]
    assert not [f for f in after if "/tests/" in f]
    assert not [f for f in after if f.startswith("bin/")] and not (site / "bin").exists()
    assert ".lock" not in after
    for name in ("alpha-1.0", "beta-2.0"):
        assert {f"{name}.dist-info/METADATA", f"{name}.dist-info/RECORD", f"{name}.dist-info/WHEEL"} <= after
    assert {"alpha/__init__.py", "alpha/core.py", "beta/core.py"} <= after
    assert [f for f in after if f.endswith(".so")] == ["beta/_speedups.cpython-312-x86_64-linux-gnu.so"]
    assert not [p for p in site.rglob("*") if p.is_dir() and not any(p.iterdir())]  # no empty dirs left


def test_slim_moves_the_directories_that_go_into_the_trash(tmp_path: Path) -> None:
    """What a build's slimming leaves is the tree slimming without a trash leaves; the directories
    that go (test suites, host bytecode, scripts) are in the trash, whole, for the build to delete while
    it compiles, and the files that go one by one are deleted as before."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    site = install(tmp_path / "a", "alpha==1.0", "beta==2.0", dists={"beta": FakeDist(compiled=True)})
    same = install(tmp_path / "b", "alpha==1.0", "beta==2.0", dists={"beta": FakeDist(compiled=True)})
    trash = tmp_path / "trash"
    trash.mkdir()
    slim_tree(site, trash=trash)
    slim_tree(same)
    assert files(site) == files(same) and all((site / f).read_bytes() == (same / f).read_bytes() for f in files(site))
    moved = {p.relative_to(trash).as_posix().split("/", 1)[1] for p in trash.rglob("*") if p.is_file()}
    assert {"test_core.py", "__init__.py", "core.cpython-311.pyc", "alpha", "beta"} <= moved
    assert len(list(trash.iterdir())) == 5  # alpha's and beta's tests/ and __pycache__/, and bin/


def test_a_linked_test_suite_is_refused_with_a_trash_too(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("")
    (tmp_path / "elsewhere").mkdir()
    (site / "pkg" / "tests").symlink_to(tmp_path / "elsewhere")
    trash = tmp_path / "trash"
    trash.mkdir()
    with pytest.raises(OSError):
        slim_tree(site, trash=trash)
    assert (tmp_path / "elsewhere").is_dir() and not list(trash.iterdir())


def test_metadata_still_works_after_slimming(tmp_path: Path) -> None:
    site = install(tmp_path, "alpha==1.0")
    slim_tree(site)
    dist = next(importlib.metadata.distributions(path=[str(site)]))
    assert (dist.metadata["Name"], dist.version) == ("alpha", "1.0")


def test_test_dirs_only_inside_packages(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for rel in ("pkg/__init__.py", "pkg/test/__init__.py", "pkg/sub/__init__.py", "pkg/sub/tests/t.py",
                "tests/conftest.py", "nspkg/tests/keep.py", "pkg/testing/__init__.py", "pkg/data/tests/x.csv"):
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text("")
    slim_tree(site)
    assert files(site) == {"pkg/__init__.py", "pkg/sub/__init__.py", "pkg/testing/__init__.py",
                           # not a package: a namespace dir / package data is left alone
                           "nspkg/tests/keep.py", "pkg/data/tests/x.csv"}


def test_a_package_named_bin_is_kept(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "bin").mkdir(parents=True)
    (site / "bin" / "__init__.py").write_text("")
    slim_tree(site)
    assert files(site) == {"bin/__init__.py"}


def test_so_files_are_never_stripped(tmp_path: Path) -> None:
    site = install(tmp_path, "beta==2.0", dists={"beta": FakeDist(compiled=True)})
    so = next(site.rglob("*.so"))
    data = so.read_bytes()
    slim_tree(site)
    assert so.read_bytes() == data


def test_exclude_removes_every_file_in_the_record(tmp_path: Path) -> None:
    site = install(tmp_path, "boto3==1.0", "python-dateutil==2.9", "keep-me==3.0",
                   dists={"python-dateutil": FakeDist(top="dateutil")})
    removed = remove_distributions(site, ("boto3", "python-dateutil"))
    assert sorted(removed) == ["boto3-1.0.dist-info", "python_dateutil-2.9.dist-info"]
    left = files(site)
    assert not [f for f in left if f.startswith(("boto3", "dateutil", "python_dateutil", "bin/boto3"))]
    assert "bin/python-dateutil" not in left
    assert {"keep_me/__init__.py", "keep_me-3.0.dist-info/RECORD", "bin/keep-me"} <= left
    assert not (site / "boto3").exists() and not (site / "dateutil").exists()


def test_exclude_never_deletes_outside_the_site(tmp_path: Path) -> None:
    site = install(tmp_path, "evil==1.0")
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    record = site / "evil-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + "../precious.txt,,\n")
    remove_distributions(site, ("evil",))
    assert outside.read_text() == "keep"


def test_exclude_of_an_absent_distribution_is_a_no_op(tmp_path: Path) -> None:
    site = install(tmp_path, "alpha==1.0")
    before = files(site)
    assert remove_distributions(site, ("boto3",)) == []
    assert files(site) == before



def test_slimmed_tree_does_not_depend_on_the_host_interpreter(tmp_path: Path) -> None:
    """uv writes the build interpreter into console scripts and their hashes into RECORD; the scripts
    go, so their RECORD rows must go too, or the zip differs per machine (and per venv path)."""
    trees = []
    for python in ("/work/.venv/bin/python", "/home/ci/.venv/bin/python3"):
        lock = tmp_path / "requirements.txt"
        lock.write_text(lock_text("alpha==1.0"))
        site = tmp_path / python.replace("/", "_")
        FakeInstaller(python=python).install(lock, site, RUNTIMES["python3.11"], "x86_64")
        slim_tree(site)
        trees.append({rel: (site / rel).read_bytes() for rel in files(site)})
    assert trees[0] == trees[1]
    record = trees[0]["alpha-1.0.dist-info/RECORD"].decode()
    assert "bin/" not in record and "__pycache__" not in record and "/tests/" not in record
    assert "alpha/__init__.py,sha256=" in record and "alpha-1.0.dist-info/RECORD,," in record


def test_slimming_never_writes_into_an_installed_file(tmp_path: Path) -> None:
    """Installed files are hardlinks into uv's cache: RECORD is replaced, never rewritten in place."""
    site = tmp_path / "site"
    dist_info = site / "gamma-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (site / "gamma").mkdir()
    (site / "gamma" / "__init__.py").write_text("")
    cached = tmp_path / "uv-cache-RECORD"
    original = "gamma/__init__.py,,\nbin/gone,,\ngamma-1.0.dist-info/RECORD,,\n"
    cached.write_text(original, encoding="utf-8")
    (dist_info / "RECORD").hardlink_to(cached)
    slim_tree(site)
    assert cached.read_text(encoding="utf-8") == original
    assert "bin/gone" not in (dist_info / "RECORD").read_text(encoding="utf-8")
    assert not list(dist_info.glob("*tmp*"))
