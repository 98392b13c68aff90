"""Installers: the seam between the pipeline and pip/uv (host) or the Lambda build image (docker).

An installer does the two steps that need a Python of the target's kind: installing the locked
wheels for a runtime/architecture, and compiling bytecode with an interpreter of exactly the
runtime's version. Everything else (slim, verify, zip) is shared, so a new installer slots in
without touching the rest.
"""

from __future__ import annotations

import functools
import re
import sys
import tempfile
from pathlib import Path
from typing import Protocol

from layersmith.builder.runner import Runner
from layersmith.errors import BuildError, EnvironmentProblem, LayersmithError
from layersmith.interpreters import Finder
from layersmith.runtimes import Runtime, uv_python_platform


class Installer(Protocol):
    kind: str

    def identity(self, runtime: Runtime, arch: str) -> str:
        """Everything about the installer that can change the output bytes (goes into the cache key)."""
        ...

    def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None: ...

    def compile_bytecode(self, root: Path, runtime: Runtime) -> str | None:
        """Compile `root` for `runtime`; return e.g. "cpython-311", or None when it cannot."""
        ...


@functools.cache
def uv_binary() -> str:
    """Cached: `find_uv_bin` reads sysconfig, whose first initialisation is not thread-safe (a
    concurrent first call returned None into a path join: `lock` resolves targets in threads)."""
    from uv import find_uv_bin  # the pinned `uv` wheel ships the binary

    return str(find_uv_bin())


# uv may write the marker in braces: `numpy{python_full_version < '3.12'}==2.4.6 has no usable wheels`
_NO_WHEEL = re.compile(r"(?:Because )?([A-Za-z0-9_.\-]+)(?:\{[^}]*\})?==([^\s]+) has no usable wheels")
_NO_WHEEL_ALT = re.compile(r"Distribution `([A-Za-z0-9_.\-]+)==([^\s`]+)")
_HASH = re.compile(r"[Hh]ash mismatch for `?([A-Za-z0-9_.\-]+)")
# uv: "error: Failed to initialize cache at `/home/u/.cache/uv`" (then the OS error as its cause).
_UV_CACHE = re.compile(r"Failed to initialize cache at `([^`]+)`")


def uv_setup_problem(stderr: str) -> EnvironmentProblem | None:
    """uv could not start for a reason of this machine's, not the lock's: its cache directory (under
    $HOME, or UV_CACHE_DIR) cannot be created, as in a container with a read-only home."""
    if m := _UV_CACHE.search(stderr):
        return EnvironmentProblem(f"uv cannot create its cache at {m.group(1)} (read-only or not yours); set "
                                  "UV_CACHE_DIR to a writable directory and retry")
    return None


def explain_uv_failure(stderr: str, runtime: Runtime, arch: str, lock: Path) -> LayersmithError:
    """Turn uv's resolver prose into one actionable line."""
    if problem := uv_setup_problem(stderr):
        return problem
    target = f"{runtime.name}/{arch} ({runtime.os}, glibc {runtime.glibc[0]}.{runtime.glibc[1]})"
    for pattern in (_NO_WHEEL, _NO_WHEEL_ALT):
        if m := pattern.search(stderr):
            return BuildError(
                f"{m.group(1)}=={m.group(2)} has no wheel for {target}; pin a version that ships one "
                "(see `layersmith lock`) or build with --builder docker", path=lock)
    if m := _HASH.search(stderr):
        return BuildError(f"hash mismatch for {m.group(1)}: the download differs from the lock; "
                          "re-run `layersmith lock` if the change is expected", path=lock)
    tail = " | ".join(line.strip() for line in stderr.strip().splitlines()[-3:] if line.strip())
    return BuildError(f"installing for {target} failed: {tail or 'no output'}", path=lock)


class HostInstaller:
    """Cross-platform wheels with uv on the build host: `--python-platform`/`--python-version`
    select the target's wheels, `--only-binary :all:` refuses sdists (they would compile for the
    host), `--require-hashes` enforces the lock. ~1 s vs ~5.6 s for pip
    (docs/architecture.md#wheels-only-installed-by-uv)."""

    kind = "host"

    def __init__(self, runner: Runner, *, python: str = sys.executable, finder: Finder | None = None) -> None:
        self.runner = runner
        self.python = python  # only tells uv what to resolve with; targets come from the flags
        self.finder = finder or Finder(runner)
        self._uv_version: str | None = None

    def interpreter(self, runtime: Runtime) -> tuple[str, str] | None:
        """(path, full version) of a CPython of exactly the runtime's version, from this Python,
        PATH, pyenv or uv (layersmith.interpreters). Bytecode needs the runtime's own interpreter,
        and any installed one will do, so a 3.11 host with 3.12 under pyenv compiles both."""
        found = self.finder.find(runtime.version)
        return (found.path, found.version) if found else None

    def _uv_id(self) -> str:
        if self._uv_version is None:
            done = self.runner.run([uv_binary(), "--version"])
            self._uv_version = done.stdout.strip() or "uv unknown"
        return self._uv_version

    def identity(self, runtime: Runtime, arch: str) -> str:
        found = self.interpreter(runtime)
        interpreter = f"cpython-{found[1]}" if found else "no-bytecode"
        return f"host|{self._uv_id()}|{interpreter}"

    def resolves(self, lock: Path, runtime: Runtime, arch: str, *, shown: Path) -> None:
        """Dry-run the install for one target: a lock that some variant cannot install is refused
        when it is written, not at the next build. Errors name `shown` (the lock being replaced)."""
        with tempfile.TemporaryDirectory(prefix="layersmith-dry-run-") as target:
            argv = [uv_binary(), "pip", "install", "--no-config", "--quiet", "--dry-run",
                    "--target", target, "--python-version", runtime.dotted,
                    "--python-platform", uv_python_platform(runtime, arch), "--only-binary", ":all:",
                    "--require-hashes", "--python", self.python, "-r", str(lock)]
            done = self.runner.run(argv)
        if done.returncode != 0:
            raise explain_uv_failure(done.stderr, runtime, arch, shown)

    def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None:
        argv = [uv_binary(), "pip", "install", "--no-config", "--quiet",
                "--target", str(target),
                "--python-version", runtime.dotted,
                "--python-platform", uv_python_platform(runtime, arch),
                # --no-deps: the lock (or the part of it no cached piece has) is complete already.
                "--only-binary", ":all:", "--require-hashes", "--no-deps", "--link-mode", "copy",
                "--python", self.python,
                "-r", str(lock)]
        done = self.runner.run(argv)
        if done.returncode != 0:
            raise explain_uv_failure(done.stderr, runtime, arch, lock)

    def compile_bytecode(self, root: Path, runtime: Runtime) -> str | None:
        found = self.interpreter(runtime)
        if found is None:
            # never ship bytecode for another Python (docs/architecture.md#bytecode-for-the-runtimes-exact-python)
            return None
        return compile_with(self.runner, [found[0]], root, runtime)


def compile_with(runner: Runner, python: list[str], root: Path, runtime: Runtime,
                 *, strip_prefix: str | None = None) -> str:
    """`compileall` deterministically: unchecked-hash pycs (no source mtime inside, and /opt is
    read-only so they could never be rewritten anyway) with paths as they will be under /opt."""
    argv = [*python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
            "-s", strip_prefix or str(root), "-p", "/opt", str(root)]
    done = runner.run(argv)
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise BuildError(f"compiling bytecode for {runtime.name} failed: {tail}")
    return f"cpython-{runtime.version[0]}{runtime.version[1]}"

