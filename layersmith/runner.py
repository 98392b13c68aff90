"""The one place that starts subprocesses. Tests replace `Runner` with fakes that write real files."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
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
    """Runs a command to completion, capturing its output; never raises on a non-zero exit.

    The command gets its own process group, and anything that interrupts the wait (Ctrl-C, a SIGINT
    sent to layersmith alone) kills that whole group before it propagates: `compileall -j 0`'s
    workers are the command's children, and killing only the command left them running as orphans.
    """

    def run(self, argv: Sequence[str], *, cwd: Path | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None) -> Completed:
        full_env = {**os.environ, **env} if env else None
        try:
            proc = subprocess.Popen(list(argv), cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, start_new_session=True)
        except FileNotFoundError as exc:
            return Completed(tuple(argv), 127, "", f"command not found: {exc.filename}")
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            proc.communicate()
            return Completed(tuple(argv), 124, "", f"timed out after {timeout} s")
        except BaseException:
            kill_group(proc)
            proc.wait()
            raise
        return Completed(tuple(argv), proc.returncode, stdout, stderr)


def kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)


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


# The pinned `uv` wheel's binary: builds, locks and sysroot set-up all run it through a Runner.
@functools.cache
def uv_binary() -> str:
    """Cached: `find_uv_bin` reads sysconfig, whose first initialisation is not thread-safe (a
    concurrent first call returned None into a path join: `lock` resolves targets in threads)."""
    from uv import find_uv_bin  # the pinned `uv` wheel ships the binary

    return str(find_uv_bin())
