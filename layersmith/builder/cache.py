"""The content-addressed build cache.

An entry is a directory `<root>/<layer>/<variant>-<key16>/` holding `layer.zip` and
`result.json`. It is assembled in a private temp directory and renamed into place in one
`rename(2)`, so an entry either exists whole or not at all: an interrupted build leaves only a
temp directory that no reader looks at (and the next build sweeps). A per-key `flock` makes two
concurrent builds of the same variant wait for each other instead of racing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from layersmith.builder.tree import file_sha256

RESULT = "result.json"
_HOST = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40] or "host"
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
        if data.get("sha256") != digest:
            return None  # tampered or truncated: rebuild rather than ship it
        return data

    def lock_path(self, entry: Path) -> Path:
        return self.root / ".locks" / f"{entry.parent.name}-{entry.name}.lock"

    @contextlib.contextmanager
    def locked(self, entry: Path, on_wait: Callable[[Path], None] = lambda _p: None) -> Iterator[None]:
        """Exclusive per-entry lock; `on_wait(lock file)` is called once when another build holds it,
        so a build that waits says so instead of looking hung."""
        path = self.lock_path(entry)
        path.parent.mkdir(parents=True, exist_ok=True)
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
        tmp_root.mkdir(parents=True, exist_ok=True)
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
                shutil.rmtree(path, ignore_errors=True)

    def publish(self, staged: Path, entry: Path, result: dict[str, Any]) -> None:
        """Write result.json last, then move the whole entry into place atomically."""
        (staged / RESULT).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        entry.parent.mkdir(parents=True, exist_ok=True)
        if entry.exists():  # a stale/corrupt entry (lookup refused it): replace it
            shutil.rmtree(entry)
        os.rename(staged, entry)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
