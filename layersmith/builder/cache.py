"""The content-addressed build cache.

An entry is a directory `<root>/<layer>/<variant>-<key16>/` holding `layer.zip` and
`result.json`. It is assembled in a private temp directory and renamed into place in one
`rename(2)`, so an entry either exists whole or not at all: an interrupted build leaves only a
temp directory that no reader looks at (and the next build sweeps). A per-key `flock` makes two
concurrent builds of the same variant wait for each other instead of racing.

`result.json` carries a hash of itself (`check`), and a zip whose sha256 is not the recorded one is
not a hit: a damaged entry is assembled again from the (verified) pieces, never served. A lock file
or scratch area that is not what the cache put there (a directory where a lock file goes, a file
where `.tmp` goes) is refused in one line naming it: nothing the cache can safely remove by itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from layersmith.builder.tree import file_sha256
from layersmith.builder.zipcheck import vouch
from layersmith.errors import EnvironmentProblem

RESULT = "result.json"
# os.uname().nodename is what socket.gethostname() returns on Linux and macOS (both read the kernel's host
# name), without importing socket (4 ms of every start).
_HOST = "".join(c if c.isalnum() else "_" for c in os.uname().nodename)[:40] or "host"
ZIP = "layer.zip"


class BuildCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def entry(self, layer: str, variant_key: str, key: str) -> Path:
        return self.root / layer / f"{variant_key}-{key[:16]}"

    def lookup(self, entry: Path) -> dict[str, Any] | None:
        """The stored result if the entry is complete and its zip still has the recorded hash."""
        result_file, zip_file = entry / RESULT, entry / ZIP
        if not (result_file.is_file() and zip_file.is_file()):
            return None
        try:
            data: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
            digest = file_sha256(zip_file)
        except (OSError, ValueError):
            return None  # unreadable, or replaced under us by a concurrent publish: not a hit
        if not isinstance(data, dict) or data.get("check") != result_check(data):
            return None  # damaged, or written before results carried a hash (its zip was never CRC-checked)
        if data.get("sha256") != digest:
            return None  # tampered or truncated: rebuild rather than ship it
        vouch(digest)  # stored only after its zip passed zipcheck, and these are still those bytes
        return data

    def lock_path(self, entry: Path) -> Path:
        return self.root / ".locks" / f"{entry.parent.name}-{entry.name}.lock"

    @contextlib.contextmanager
    def locked(self, entry: Path, on_wait: Callable[[Path], None] = lambda _p: None) -> Iterator[None]:
        """Exclusive per-entry lock; `on_wait(lock file)` is called once when another build holds it,
        so a build that waits says so instead of looking hung."""
        path = self.lock_path(entry)
        ensure_dir(path.parent, "the build cache's lock files")
        if path.is_dir() and not path.is_symlink():
            raise EnvironmentProblem("a directory stands where the build cache keeps this lock file; remove it",
                                     path=path)
        with path.open("w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                on_wait(path)
                fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def workdir(self) -> Iterator[Path]:
        """A private scratch directory on the cache's filesystem (so the final rename is atomic)."""
        tmp_root = self.root / ".tmp"
        ensure_dir(tmp_root, "the build cache's scratch area")
        self._sweep(tmp_root)
        path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{_HOST}-", dir=tmp_root))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def sweep(self, tmp_root: Path) -> None:
        self._sweep(tmp_root)

    @staticmethod
    def _sweep(tmp_root: Path) -> None:
        """Remove scratch dirs of build processes that no longer exist (interrupted builds). Only this
        host's: a PID means nothing to a container or machine sharing LAYERSMITH_CACHE_DIR."""
        for path in tmp_root.iterdir():
            pid, _, rest = path.name.partition("-")
            if pid.isdigit() and rest.startswith(f"{_HOST}-") and not _alive(int(pid)):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)

    def publish(self, staged: Path, entry: Path, result: dict[str, Any]) -> None:
        """Write result.json last, then move the whole entry into place atomically."""
        stored = {**result, "check": result_check(result)}
        (staged / RESULT).write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        ensure_dir(entry.parent, f"the build cache's entries of {entry.parent.name}")
        if os.path.lexists(entry):  # a stale/corrupt entry (lookup refused it): replace it
            discard(entry, self.root)
        os.rename(staged, entry)


def result_check(result: dict[str, Any]) -> str:
    """result.json's hash of itself: a flipped digit in a size or a hash is not a hit."""
    body = {k: v for k, v in result.items() if k != "check"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def discard(path: Path, cache_root: Path) -> None:
    """Remove a damaged cache file or directory: first renamed into this process's scratch area in one
    `rename(2)` (so no reader sees it half-deleted, and a crash leaves it for the sweep), then deleted."""
    tmp_root = cache_root / ".tmp"
    ensure_dir(tmp_root, "the build cache's scratch area")
    aside = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{_HOST}-", dir=tmp_root))
    try:
        os.rename(path, aside / "discarded")
    except FileNotFoundError:
        pass  # another build discarded it first
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def ensure_dir(path: Path, what: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        # name the file in the way: the directory itself or one of its parents
        blocker = next((p for p in (path, *path.parents) if os.path.lexists(p) and not p.is_dir()), path)
        raise EnvironmentProblem(f"a file stands where {what} should be a directory; remove it",
                                 path=blocker) from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
