"""Directories layersmith must write to (the build cache, a layer's lock, a stack file): when the
machine refuses (a read-only checkout or mount, another user's files), that is the user's setup to
change, said in one line with what to do — never an internal error, never a half-written file."""

from __future__ import annotations

import os
from pathlib import Path

from layersmith.errors import EnvironmentProblem


def not_writable(path: Path, what: str, reason: str, remedy: str) -> EnvironmentProblem:
    return EnvironmentProblem(f"cannot write {what} here ({reason}); {remedy}", path=path)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def ensure_writable_dir(path: Path, *, what: str, remedy: str) -> Path:
    """`path`, created if missing; `EnvironmentProblem` when it cannot be created or written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise not_writable(path, what, _reason(exc), remedy) from None
    # access(2) sees a read-only mount (EROFS) and missing permissions, before any work is done.
    if not os.access(path, os.W_OK | os.X_OK):
        raise not_writable(path, what, "not writable", remedy)
    return path


def require_writable_file(path: Path, *, what: str, remedy: str) -> None:
    """Refuse early when `path` could not be replaced atomically: its directory takes the temporary
    file and the rename, so it is the directory that must be writable."""
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise not_writable(path, what, "its directory is not writable", remedy)


def write_failed(path: Path, what: str, exc: OSError, remedy: str) -> EnvironmentProblem:
    return not_writable(path, what, _reason(exc), remedy)
