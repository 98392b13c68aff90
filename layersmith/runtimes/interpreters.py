"""Finding a CPython of an exact X.Y on this machine: PATH, pyenv, uv-managed Pythons.

Bytecode must be compiled, and a function must be run, by an interpreter of exactly the runtime's
version (docs/architecture.md#bytecode-for-the-runtimes-exact-python: a cpython-311 `.pyc` is dead
weight to python3.12). Machines often have more versions installed than PATH shows: pyenv keeps
every version under `$(pyenv root)/versions` and only exposes the selected ones (its `python3.12`
shim exits 127 until told otherwise), and uv keeps its own under `uv python dir`. So every such
place is searched, and each candidate is *run* to confirm what it is: a shim that fails, a broken
build or a `python3.12` that is really 3.11 is skipped, never silently used. The skip is said when
no candidate answers (it is then why none was found) or under `-v`; when a later candidate answers
it is noise: pyenv's shims on PATH fail for every version not selected, so every command printed
"…/shims/python3.12 (PATH): does not run…; skipped" right before using pyenv's own 3.12.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from layersmith.runner import Runner
from layersmith.runtimes.supported import HOST_MACHINE_ARCH

Reporter = Callable[[str], None]
PROBE = "import platform, sys; print(sys.implementation.name, platform.python_version(), platform.machine())"
PROBE_TIMEOUT = 30.0


def host_arch() -> str:
    machine = platform.machine().lower()
    return HOST_MACHINE_ARCH.get(machine, machine)


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str  # the exact version it reported, e.g. "3.12.1"
    arch: str  # Lambda's name: "x86_64" or "arm64"
    source: str  # where it was found: "PATH", "pyenv", "uv", "this Python"


class Finder:
    """Searches (in order) this Python, PATH, pyenv and uv for `python X.Y`; results are cached per
    version. Skipped candidates are kept in `skipped`, and reported (once, with why) when the search
    finds nothing, or as they happen when `verbose`."""

    def __init__(self, runner: Runner, report: Reporter = lambda _m: None, *,
                 env: Mapping[str, str] | None = None,
                 which: Callable[[str, str | None], str | None] | None = None,
                 home: Path | None = None, uv: Callable[[], str | None] | None = None,
                 current: tuple[str, tuple[int, int]] | None = None, verbose: bool = False) -> None:
        self.runner = runner
        self.report = report
        self.verbose = verbose
        self.env = dict(os.environ) if env is None else env
        self.which = which or _which
        self.home = home or Path.home()
        self.uv = uv or _uv_binary
        self.current = current or (sys.executable, (sys.version_info[0], sys.version_info[1]))
        self.skipped: list[str] = []
        self._found: dict[tuple[int, int], Interpreter | None] = {}

    def find(self, version: tuple[int, int]) -> Interpreter | None:
        if version not in self._found:
            self._found[version] = self._search(version)
        return self._found[version]

    def _search(self, version: tuple[int, int]) -> Interpreter | None:
        seen: set[str] = set()
        before = len(self.skipped)
        for path, source in self.candidates(version):
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            found = self._confirm(path, source, version)
            if found is not None:
                return found
        if not self.verbose:  # nothing answered: the skips are the explanation
            for message in self.skipped[before:]:
                self.report(f"python: {message}")
        return None

    def candidates(self, version: tuple[int, int]) -> Iterable[tuple[str, str]]:
        dotted = f"{version[0]}.{version[1]}"
        if self.current[1] == version:
            yield self.current[0], "this Python"
        on_path = self.which(f"python{dotted}", self.env.get("PATH"))
        shim = on_path is not None and _is_pyenv_shim(on_path)
        if on_path and not shim:
            yield on_path, "PATH"
        for root in self._pyenv_versions():
            for directory in sorted(root.glob(f"{dotted}.*"), reverse=True):  # newest patch first
                yield str(directory / "bin" / f"python{dotted}"), "pyenv"
        if on_path and shim:
            # After pyenv's own versions, not before: a shim is a bash script that runs `pyenv exec`
            # (~0.2 s a probe, measured here) and exits 127 for every version not selected, so probing
            # it first cost each command ~0.6 s for 3.10/3.12/3.13. Whatever it would select is one of
            # those versions' directories, already tried; only a shim that selects "system" can find
            # more, and it still does, here.
            yield on_path, "PATH"
        for directory in self._uv_pythons(dotted):
            yield str(directory / "bin" / f"python{dotted}"), "uv"

    def _pyenv_versions(self) -> list[Path]:
        root = self.env.get("PYENV_ROOT")
        if not root:
            pyenv = self.which("pyenv", self.env.get("PATH"))
            done = self.runner.run([pyenv, "root"], timeout=PROBE_TIMEOUT) if pyenv else None
            root = done.stdout.strip() if done and done.returncode == 0 else ""
            root = root or str(self.home / ".pyenv")
        versions = Path(root) / "versions"
        return [versions] if versions.is_dir() else []

    def _uv_pythons(self, dotted: str) -> list[Path]:
        uv = self.uv()
        if uv is None:
            return []
        done = self.runner.run([uv, "python", "dir"], timeout=PROBE_TIMEOUT)
        base = Path(done.stdout.strip())
        if done.returncode != 0 or not done.stdout.strip() or not base.is_dir():
            return []
        # uv names them cpython-3.12.7-linux-x86_64-gnu; freethreaded builds (3.13t) have another ABI.
        return [d for d in sorted(base.glob(f"cpython-{dotted}.*"), reverse=True) if "+freethreaded" not in d.name]

    def _confirm(self, path: str, source: str, version: tuple[int, int]) -> Interpreter | None:
        dotted = f"{version[0]}.{version[1]}"
        if source != "this Python" and not os.access(path, os.X_OK):
            return None  # not there: nothing to say
        if path == sys.executable and (this := _this_python(path, source, dotted)):
            return this  # the probe's answers are this process's own: no interpreter to start
        done = self.runner.run([path, "-I", "-c", PROBE], timeout=PROBE_TIMEOUT)
        parts = done.stdout.split()
        if done.returncode != 0 or len(parts) != 3:
            tail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[0]
            self._skip(f"{path} ({source}): does not run ({tail}); skipped")
            return None
        impl, reported, machine = parts
        if impl != "cpython" or not reported.startswith(f"{dotted}."):
            self._skip(f"{path} ({source}): is {impl} {reported}, not CPython {dotted}; skipped")
            return None
        return Interpreter(path, reported, HOST_MACHINE_ARCH.get(machine.lower(), machine), source)

    def _skip(self, message: str) -> None:
        self.skipped.append(message)
        if self.verbose:
            self.report(f"python: {message}")


def _this_python(path: str, source: str, dotted: str) -> Interpreter | None:
    """The running interpreter, when it is the CPython `dotted` asked for."""
    reported, machine = platform.python_version(), platform.machine()
    if sys.implementation.name == "cpython" and reported.startswith(f"{dotted}."):
        return Interpreter(path, reported, HOST_MACHINE_ARCH.get(machine.lower(), machine), source)
    return None


def _is_pyenv_shim(path: str) -> bool:
    """pyenv's shims are short shell scripts that `exec` pyenv: its name is in their first lines."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return False
    return head.startswith(b"#!") and b"pyenv" in head


def _which(name: str, path: str | None) -> str | None:
    import shutil

    return shutil.which(name, path=path)


def _uv_binary() -> str | None:
    try:
        from uv import find_uv_bin  # the pinned `uv` wheel ships the binary
    except ImportError:
        return None
    try:
        return str(find_uv_bin())
    except FileNotFoundError:
        return None
