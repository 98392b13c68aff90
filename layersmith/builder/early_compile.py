"""`compileall` started before the files it compiles are installed (issue 25).

In a one-package rebuild the bytecode step was mostly a fresh interpreter's start and `import compileall`
(pathlib, py_compile, traceback, argparse: ~60 ms of ~100), all after uv had finished. So the process is
started with uv instead: `compileall -i FIFO`, the same command `install.compile_balanced` runs for one share,
except that its list is a named pipe. It starts, imports, opens the pipe and waits there; once the stage is
installed and slimmed, the list is written and the pipe closed, and it compiles exactly what it would have
compiled from a list file. It is a fresh `compileall -S` process like every other (a pyc depends on the
process's state: install.py), given the same files, so its pycs are the same bytes.

A tree whose sources are large enough to split across processes is compiled by `compile_balanced`
instead, and the waiting process is given an empty directory to compile. It is always given something
before it is waited for: a process left blocked on the pipe would never end.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from layersmith.builder.install import (
    _SPLIT_BYTES,
    HostInstaller,
    Installer,
    _check,
    _compileall,
    _sources,
    _tag,
    compile_balanced,
    worth_splitting,
)
from layersmith.runner import Runner
from layersmith.runtimes.supported import Runtime

_POLL = 0.002  # seconds between tries to open the pipe before the process has opened it


class EarlyCompile:
    """One `compileall -i FIFO` process, started now, compiling what `root` holds when `finish` is called."""

    def __init__(self, runner: Runner, python: list[str], root: Path, runtime: Runtime, *,
                 workers: int | None = None, split_bytes: int = _SPLIT_BYTES, scratch: str | None = None,
                 mkfifo: Callable[[str, int], None] = os.mkfifo) -> None:
        self.runner, self.python, self.root, self.runtime = runner, python, root, runtime
        self.workers, self.split_bytes = workers, split_bytes
        # in `scratch` (the system's temporary directory by default), outside `root`: never zipped
        self.lists = tempfile.mkdtemp(prefix="layersmith-compile-", dir=scratch)
        self.fifo = os.path.join(self.lists, "share-0.txt")
        self.nothing = os.path.join(self.lists, "nothing")  # what it compiles when it is not needed
        try:
            mkfifo(self.fifo, 0o600)
            os.mkdir(self.nothing)
        except OSError:  # a temporary directory without named pipes: `start_compile` compiles as before
            shutil.rmtree(self.lists, ignore_errors=True)
            raise
        self.fed = False
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="layersmith-compileall")
        argv = [*_compileall([*python, "-S"], root, None), "-i", self.fifo]
        self.running = self.pool.submit(runner.run, argv)

    def finish(self) -> str:
        """Compile `root`'s `.py` files as `compile_balanced` would; the bytecode tag. Raises BuildError
        when compiling fails."""
        try:
            files = _sources(self.root)
            if worth_splitting(files, self.workers, self.split_bytes):
                self._feed([self.nothing])
                return compile_balanced(self.runner, self.python, self.root, self.runtime, workers=self.workers,
                                        split_bytes=self.split_bytes)
            # An empty list would make compileall compile sys.path instead (its `compile_path`): none is given.
            self._feed([path for _, path in files] or [self.nothing])
            _check(self.running.result(), self.runtime)
            return _tag(self.runtime)
        finally:
            self.close()

    def close(self) -> None:
        """End the process (given nothing to compile, if it was given nothing yet) and remove its pipe."""
        try:
            self._feed([self.nothing])
            self.pool.shutdown(wait=True)
        finally:
            shutil.rmtree(self.lists, ignore_errors=True)

    def _feed(self, paths: list[str]) -> None:
        """Write the list into the pipe and close it (the process then reads to its end), once."""
        if self.fed:
            return
        self.fed = True
        fd = self._open_pipe()
        if fd is None:
            return
        data = memoryview("".join(f"{p}\n" for p in paths).encode("utf-8"))
        try:
            os.set_blocking(fd, True)
            with contextlib.suppress(BrokenPipeError):  # it stopped reading: its result says why
                while data:
                    data = data[os.write(fd, data):]
        finally:
            os.close(fd)

    def _open_pipe(self) -> int | None:
        """The pipe's writing end, once the process has opened it for reading; None when the process ended
        without opening it (it could not start: its result says why). Opened without blocking: a blocking
        open would wait forever for a process that is gone."""
        while True:
            try:
                return os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                    raise
            if self.running.done():
                return None
            wait([self.running], timeout=_POLL)



def start_compile(installer: Installer, root: Path, runtime: Runtime, *, scratch: str | None = None,
                  mkfifo: Callable[[str, int], None] = os.mkfifo) -> EarlyCompile | None:
    """The host installer's `compile_bytecode(root, runtime)`, its process started now, before `root` is
    installed; None for another installer (docker's compiles in its container), one that compiles in its own
    way (a subclass overriding `compile_bytecode`), or without an interpreter."""
    if (not isinstance(installer, HostInstaller)
            or type(installer).compile_bytecode is not HostInstaller.compile_bytecode
            or (found := installer.interpreter(runtime)) is None):
        return None
    try:
        return EarlyCompile(installer.runner, [found[0]], root, runtime, scratch=scratch, mkfifo=mkfifo)
    except OSError:
        return None
