"""The build cache's discard and sweep, as the filesystem and other processes see them (issue 22)."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from layersmith.builder.cache import _HOST, RESULT, ZIP, BuildCache, discard
from layersmith.errors import EnvironmentProblem

FORK = multiprocessing.get_context("fork")


def stale_entry(cache: BuildCache) -> Path:
    entry = cache.entry("demo", "py311-x86_64", "0123456789abcdef0123")
    entry.mkdir(parents=True)
    (entry / ZIP).write_bytes(b"not really a zip")
    (entry / RESULT).write_text("{}\n", encoding="utf-8")
    return entry


def test_a_discarded_entry_is_gone_and_leaves_nothing_behind(cache: BuildCache) -> None:
    entry = stale_entry(cache)
    discard(entry, cache.root)
    assert not os.path.lexists(entry)
    assert sorted(p.name for p in cache.root.iterdir()) == [".tmp", "demo"]  # no other scratch area
    assert list((cache.root / ".tmp").iterdir()) == []  # moved aside, then deleted
    assert list((cache.root / "demo").iterdir()) == []


def test_discard_refuses_a_file_where_the_scratch_area_goes_in_one_line(cache: BuildCache) -> None:
    entry = stale_entry(cache)
    (cache.root / ".tmp").write_text("not a directory\n", encoding="utf-8")
    with pytest.raises(EnvironmentProblem) as refused:
        discard(entry, cache.root)
    assert str(refused.value) == (f"{cache.root / '.tmp'}: a file stands where the build cache's scratch area "
                                  "should be a directory; remove it")
    assert (entry / ZIP).read_bytes() == b"not really a zip"  # nothing was touched


def _discard_and_die_before_deleting(cache_root: Path, entry: Path) -> None:
    shutil.rmtree = lambda *_a, **_k: os._exit(0)  # killed right after the rename (a forked child only)
    discard(entry, cache_root)
    os._exit(3)


def test_a_discard_interrupted_after_its_rename_is_left_for_the_sweep(cache: BuildCache) -> None:
    entry = stale_entry(cache)
    child = FORK.Process(target=_discard_and_die_before_deleting, args=(cache.root, entry))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert not os.path.lexists(entry)  # no reader sees it any more
    [leftover] = list((cache.root / ".tmp").iterdir())
    assert leftover.name.startswith(f"{child.pid}-{_HOST}-")  # the dead process's, on this host
    assert sorted(p.name for p in leftover.rglob("*") if p.is_file()) == [ZIP, RESULT]
    cache.sweep(cache.root / ".tmp")  # the next build's sweep removes it: its owner is dead
    assert list((cache.root / ".tmp").iterdir()) == []


def test_the_sweep_only_asks_whether_a_build_is_alive_it_sends_it_no_signal(cache: BuildCache) -> None:
    tmp = cache.root / ".tmp"
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        held = tmp / f"{owner.pid}-{_HOST}-abc"
        held.mkdir(parents=True)
        cache.sweep(tmp)
        assert held.is_dir()  # a live build's scratch dir is kept
    finally:
        owner.send_signal(signal.SIGTERM)
        owner.wait(60)
    assert owner.returncode == -signal.SIGTERM  # not hung up on by the sweep


def _sweep_as_another_user(tmp: Path) -> None:
    os.chdir(tmp)  # its parents are private to root; the sweep works on "." from here
    os.setgid(65534)
    os.setuid(65534)
    BuildCache(Path(".")).sweep(Path("."))
    os._exit(0 if Path(f"1-{_HOST}-abc").is_dir() else 1)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs to become another user to be refused a signal")
def test_the_sweep_keeps_the_scratch_dir_of_a_live_process_it_may_not_signal(cache: BuildCache) -> None:
    """Pid 1 is alive and root's: a sweep run by another user gets EPERM, which means alive."""
    tmp = cache.root / ".tmp"
    held = tmp / f"1-{_HOST}-abc"
    held.mkdir(parents=True)
    tmp.chmod(0o777)
    held.chmod(0o777)
    child = FORK.Process(target=_sweep_as_another_user, args=(tmp,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert held.is_dir()


def _discard_as_another_user(cache_root: Path, entry: Path) -> None:
    os.chdir(cache_root)  # its parents are private to root; work relative to the cache root
    os.setgid(65534)
    os.setuid(65534)
    try:
        discard(entry.relative_to(cache_root), Path("."))
    except OSError:
        os._exit(1)
    os._exit(0)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs to become another user to be refused a deletion")
def test_discarding_an_entry_this_user_may_not_delete_moves_it_aside_without_an_error(cache: BuildCache) -> None:
    """A cache shared between users: a stale entry holding another user's read-only directory is taken
    out of the way (the build goes on); what cannot be deleted waits in the scratch area for a sweep."""
    entry = stale_entry(cache)
    locked = entry / "theirs"
    locked.mkdir()
    (locked / "file").write_text("x\n", encoding="utf-8")
    (cache.root / ".tmp").mkdir()
    for writable in (cache.root, cache.root / ".tmp", cache.root / "demo", entry):
        writable.chmod(0o777)
    child = FORK.Process(target=_discard_as_another_user, args=(cache.root, entry))
    child.start()
    child.join(60)
    assert child.exitcode == 0  # no error
    assert not os.path.lexists(entry)
    [leftover] = list((cache.root / ".tmp").iterdir())
    assert leftover.name.startswith(f"{child.pid}-{_HOST}-")
    cache.sweep(cache.root / ".tmp")
    assert list((cache.root / ".tmp").iterdir()) == []
