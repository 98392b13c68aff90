"""The one place that starts subprocesses. Tests replace `Runner` with fakes that write real files."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class Runner(Protocol):
    def run(self, argv: Sequence[str], *, cwd: Path | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None) -> Completed: ...


class SubprocessRunner:
    """Runs a command to completion, capturing its output; never raises on a non-zero exit."""

    def run(self, argv: Sequence[str], *, cwd: Path | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None) -> Completed:
        full_env = {**os.environ, **env} if env else None
        try:
            proc = subprocess.run(list(argv), cwd=cwd, env=full_env, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except FileNotFoundError as exc:
            return Completed(tuple(argv), 127, "", f"command not found: {exc.filename}")
        except subprocess.TimeoutExpired as exc:
            return Completed(tuple(argv), 124, "", f"timed out after {exc.timeout} s")
        return Completed(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


class Sandbox(Protocol):
    """Runs a program with exactly the environment given (nothing inherited), feeding stdin."""

    def run(self, argv: Sequence[str], *, env: Mapping[str, str], stdin: str,
            timeout: float) -> Completed: ...


class SubprocessSandbox:
    """`layersmith invoke`'s process: a Lambda-like environment, not the developer's shell."""

    def run(self, argv: Sequence[str], *, env: Mapping[str, str], stdin: str, timeout: float) -> Completed:
        try:
            proc = subprocess.run(list(argv), env=dict(env), input=stdin, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except FileNotFoundError as exc:
            return Completed(tuple(argv), 127, "", f"command not found: {exc.filename}")
        except subprocess.TimeoutExpired as exc:
            err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            return Completed(tuple(argv), 124, out, err)
        return Completed(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
