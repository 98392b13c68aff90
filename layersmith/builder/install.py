"""Installers: the seam between the pipeline and pip/uv (host) or the Lambda build image (docker).

An installer does the two steps that need a Python of the target's kind: installing the locked
wheels for a runtime/architecture, and compiling bytecode with an interpreter of exactly the
runtime's version. Everything else (slim, verify, zip) is shared, so a new installer slots in
without touching the rest.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from layersmith.builder.index_reach import unreachable_index
from layersmith.errors import BuildError, EnvironmentProblem, LayersmithError
from layersmith.runner import Completed, Runner, uv_binary
from layersmith.runtimes.interpreters import Finder
from layersmith.runtimes.supported import Runtime, uv_python_platform


class Installer(Protocol):
    kind: str

    def identity(self, runtime: Runtime, arch: str) -> str:
        """Everything about the installer that can change the output bytes (goes into the cache key)."""
        ...

    def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None: ...

    def compile_bytecode(self, root: Path, runtime: Runtime) -> str | None:
        """Compile `root` for `runtime`; return e.g. "cpython-311", or None when it cannot. Each .pyc is
        written once, under a temporary name renamed into place (as py_compile does): the builder deflates
        a pyc as soon as it appears under its own name, while the others still compile."""
        ...


def installed_uv_version(binary: str) -> str | None:
    """`uv X.Y.Z` of the pinned `uv` wheel when `binary` is the file it installed, unmodified (its
    RECORD lists that path with that size); None otherwise. Asking the binary itself costs a process
    in every build (8 ms), and importlib.metadata costs more than that to import."""
    import uv  # the wheel's Python package sits next to its dist-info

    site = Path(uv.__file__).resolve().parent.parent
    real = os.path.realpath(binary)
    for info in sorted(site.glob("uv-*.dist-info")):
        try:
            record = (info / "RECORD").read_text()
            size = os.stat(real).st_size
        except OSError:
            continue
        for line in record.splitlines():  # path,sha256=...,size
            fields = line.rsplit(",", 2)
            if (len(fields) == 3 and Path(fields[0]).name == "uv" and fields[2] == str(size)
                    and os.path.realpath(site / fields[0]) == real):
                return f"uv {info.name.removeprefix('uv-').removesuffix('.dist-info')}"
    return None


# Patterns as strings, compiled by `re` on first use (and kept in its cache): most runs never need them,
# and compiling them at import was part of every command's start.
# uv may write the marker in braces: `numpy{python_full_version < '3.12'}==2.4.6 has no usable wheels`
_NO_WHEEL = r"(?:Because )?([A-Za-z0-9_.\-]+)(?:\{[^}]*\})?==([^\s]+) has no usable wheels"
_NO_WHEEL_ALT = r"Distribution `([A-Za-z0-9_.\-]+)==([^\s`]+)"
_HASH = r"[Hh]ash mismatch for `?([A-Za-z0-9_.\-]+)"
# uv: "error: Failed to initialize cache at `/home/u/.cache/uv`" (then the OS error as its cause).
_UV_CACHE = r"Failed to initialize cache at `([^`]+)`"


def uv_setup_problem(stderr: str) -> EnvironmentProblem | None:
    """uv could not start for a reason of this machine's, not the lock's: its cache directory (under
    $HOME, or UV_CACHE_DIR) cannot be created, as in a container with a read-only home."""
    if m := re.search(_UV_CACHE, stderr):
        return EnvironmentProblem(f"uv cannot create its cache at {m.group(1)} (read-only or not yours); set "
                                  "UV_CACHE_DIR to a writable directory and retry")
    return None


def explain_uv_failure(stderr: str, runtime: Runtime, arch: str, lock: Path) -> LayersmithError:
    """Turn uv's resolver prose into one actionable line."""
    if problem := uv_setup_problem(stderr) or unreachable_index(stderr, os.environ):
        return problem
    target = f"{runtime.name}/{arch} ({runtime.os}, glibc {runtime.glibc[0]}.{runtime.glibc[1]})"
    for pattern in (_NO_WHEEL, _NO_WHEEL_ALT):
        if m := re.search(pattern, stderr):
            return BuildError(
                f"{m.group(1)}=={m.group(2)} has no wheel for {target}; pin a version that ships one "
                "(see `layersmith lock`) or build with --builder docker", path=lock)
    if m := re.search(_HASH, stderr):
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

    def __init__(self, runner: Runner, *, python: str = sys.executable, finder: Finder | None = None,
                 uv_version: Callable[[str], str | None] = installed_uv_version) -> None:
        self.runner = runner
        self.uv_version = uv_version  # the pinned wheel's metadata: no `uv --version` process
        self.python = python  # only tells uv what to resolve with; targets come from the flags
        self.finder = finder or Finder(runner)
        self._uv_version: str | None = None

    def interpreter(self, runtime: Runtime) -> tuple[str, str] | None:
        """(path, full version) of a CPython of exactly the runtime's version, from this Python,
        PATH, pyenv or uv (layersmith.runtimes.interpreters). Bytecode needs the runtime's own interpreter,
        and any installed one will do, so a 3.11 host with 3.12 under pyenv compiles both."""
        found = self.finder.find(runtime.version)
        return (found.path, found.version) if found else None

    def _uv_id(self) -> str:
        if self._uv_version is None:
            binary = uv_binary()
            self._uv_version = self.uv_version(binary)
        if self._uv_version is None:
            done = self.runner.run([binary, "--version"])
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
                # Hardlinks from uv's cache, not copies: creating pytz's 600 files took uv 0.5-1.5 s
                # of a one-package rebuild, linking them 0.1 s. So nothing may write into an
                # installed file: slim replaces RECORD, compileall writes new pycs, the rest only
                # reads or deletes. (uv copies instead when the cache is on another filesystem.)
                "--only-binary", ":all:", "--require-hashes", "--no-deps", "--link-mode", "hardlink",
                "--python", self.python,
                "-r", str(lock)]
        # Offline first: with every pinned wheel in uv's cache (a rebuild after bumping one package
        # that was downloaded before, or a cold build on a warm machine) uv otherwise revalidates each
        # package's index page over the network. The hashes pin the files, so the result is the same;
        # anything uv cannot do offline is retried online, and only that answer is reported.
        done = self.runner.run([*argv, "--offline"])
        if done.returncode != 0:
            done = self.runner.run(argv)
        if done.returncode != 0:
            raise explain_uv_failure(done.stderr, runtime, arch, lock)

    def compile_bytecode(self, root: Path, runtime: Runtime) -> str | None:
        found = self.interpreter(runtime)
        if found is None:
            # never ship bytecode for another Python (docs/architecture.md#bytecode-for-the-runtimes-exact-python)
            return None
        return compile_balanced(self.runner, [found[0]], root, runtime)


def _compileall(python: list[str], root: Path, strip_prefix: str | None, *jobs: str) -> list[str]:
    """`compileall` deterministically: unchecked-hash pycs (no source mtime inside, and /opt is
    read-only so they could never be rewritten anyway) with paths as they will be under /opt."""
    return [*python, "-m", "compileall", "-q", *jobs, "--invalidation-mode", "unchecked-hash",
            "-s", strip_prefix or str(root), "-p", "/opt"]


def _check(done: Completed, runtime: Runtime) -> None:
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise BuildError(f"compiling bytecode for {runtime.name} failed: {tail}")


def _tag(runtime: Runtime) -> str:
    return f"cpython-{runtime.version[0]}{runtime.version[1]}"


def compile_with(runner: Runner, python: list[str], root: Path, runtime: Runtime,
                 *, strip_prefix: str | None = None) -> str:
    """Compile the whole of `root` in one `compileall -j 0` (its own worker pool): for an
    interpreter whose filesystem this process cannot list (the docker builder's container)."""
    _check(runner.run([*_compileall(python, root, strip_prefix, "-j", "0"), str(root)]), runtime)
    return _tag(runtime)


# Below this many bytes of source, a second interpreter costs more to start than it saves.
_SPLIT_BYTES = 4 << 20

# Runs one `compileall -i SHARE` per share, all at once, in the runtime's interpreter. One command
# for the Runner (not one thread per share here): SubprocessRunner kills the command's whole process
# group when layersmith is interrupted, and these compileall processes are in that group.
_DRIVER = """
import subprocess, sys
procs = [subprocess.Popen([sys.executable, "-S", "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
                           "-s", sys.argv[1], "-p", "/opt", "-i", share], stderr=subprocess.PIPE)
         for share in sys.argv[2:]]
errors = [(p.communicate()[1], p.returncode) for p in procs]
sys.stderr.buffer.write(b"".join(err for err, code in errors if code))
sys.exit(max(code for _, code in errors))
"""


def _sources(root: Path) -> list[tuple[int, str]]:
    """(size, path) of every `.py` file under `root`, largest first, ties by path."""
    files: list[tuple[int, str]] = []
    for dirpath, dirnames, filenames in os.walk(root):  # compileall does not follow directory links
        dirnames.sort()
        files.extend((os.path.getsize(p), p) for name in filenames
                     if name.endswith(".py") and os.path.isfile(p := os.path.join(dirpath, name)))
    files.sort(key=lambda f: (-f[0], f[1]))
    return files


def shares(files: list[tuple[int, str]], count: int) -> list[list[str]]:
    """`files` in up to `count` shares of about equal bytes (largest first, each into the lightest
    share so far). Compile time follows source size, not file count: `compileall -j 0` hands out
    files in directory order, and one worker got pandas' largest modules while the other idled."""
    loads = [0] * count
    out: list[list[str]] = [[] for _ in range(count)]
    for size, path in files:
        lightest = loads.index(min(loads))
        loads[lightest] += size
        out[lightest].append(path)
    return [share for share in out if share]


def worth_splitting(files: list[tuple[int, str]], workers: int | None, split_bytes: int = _SPLIT_BYTES) -> bool:
    """Whether `files` ((size, path), `_sources`) are compiled by one process per core rather than one:
    several cores, and enough source bytes to pay for the other interpreters' start."""
    count = workers or os.cpu_count() or 1
    return count > 1 and sum(size for size, _ in files) >= split_bytes


def compile_balanced(runner: Runner, python: list[str], root: Path, runtime: Runtime,
                     *, workers: int | None = None, split_bytes: int = _SPLIT_BYTES) -> str:
    """Compile `root` with one `compileall` per core, each given an equal-bytes share of the files.
    A pyc is a function of its source, its /opt path and the interpreter, not of which process
    compiled it: the incremental-vs-cold byte-identity tests compile the same files in different
    mixes and check exactly that.

    Every process runs with `-S`: compileall is standard library only, and importing `site` (the
    interpreter's .pth files: coverage's hook, editable installs, setuptools' distutils shim) was
    40-80 ms of each process's start, most of a one-package rebuild's compile. `-S` changes no byte
    of a pyc (tests/unit/test_bytecode_shares.py compares them with a plain `compileall`'s)."""
    count = workers or os.cpu_count() or 1
    files = _sources(root)
    split = worth_splitting(files, workers, split_bytes)
    # Always a process, never this one: a pyc's bytes depend on the compiling process's state. marshal
    # writes a string as "interned" when the process has interned it, and one-character strings are
    # shared by the whole process: tqdm's cli.pyc came out different when compiled in a process that
    # had interned "-" (a pytest run) than in a fresh one. Every `compileall -S` process starts alike.
    _compile_in_processes(runner, [*python, "-S"], root, runtime, shares(files, count if split else 1))
    return _tag(runtime)


def _compile_in_processes(runner: Runner, python: list[str], root: Path, runtime: Runtime,
                          split: list[list[str]]) -> None:
    """One `compileall -i LIST` process per share (through `_DRIVER` when there are several); none when
    there is no `.py` file: given an empty list and no directory, compileall compiles its own sys.path
    (the interpreter's standard library: 0.2 s, and pycs written into it where it is writable)."""
    if not any(split):
        return
    with tempfile.TemporaryDirectory(prefix="layersmith-compile-") as lists:  # outside `root`: never zipped
        listed = []
        for index, share in enumerate(split):
            path = Path(lists) / f"share-{index}.txt"
            path.write_text("".join(f"{p}\n" for p in share), encoding="utf-8")
            listed.append(str(path))
        if len(listed) > 1:
            _check(runner.run([*python, "-c", _DRIVER, str(root), *listed]), runtime)
        else:
            # The `.py` files as a list (`-i`), not the directory: compileall visits every file of a
            # directory it is given (cache_from_source, stat) and pytz ships 6 modules among 600 zoneinfo
            # files, so the walk was half of a one-package rebuild's compile. Same files, same pycs.
            _check(runner.run([*_compileall(python, root, None), "-i", listed[0]]), runtime)
