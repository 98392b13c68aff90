"""SIGINT to layersmith alone (not its process group) must not leave a command's children running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import deadline

# A command that behaves like `compileall -j 0`: it starts a worker child, then works (sleeps).
COMMAND = textwrap.dedent("""
    import subprocess, sys, time
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    open(sys.argv[1], "w").write(str(worker.pid))
    time.sleep(600)
""")
# layersmith's side: the real SubprocessRunner waiting for that command.
PARENT = textwrap.dedent("""
    import sys
    from layersmith.runner import SubprocessRunner
    try:
        SubprocessRunner().run([sys.executable, "-c", sys.argv[1], sys.argv[2]])
    except KeyboardInterrupt:
        sys.exit(130)
""")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in {"Z", "X"}  # a zombie has already died


@pytest.mark.serial  # signals and a deadline on real processes: alone, not beside another worker
def test_sigint_to_the_parent_alone_kills_the_commands_workers(tmp_path: Path) -> None:
    pidfile = tmp_path / "worker.pid"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, COMMAND, str(pidfile)])
    worker = 0
    try:
        with deadline(60):
            while not (pidfile.is_file() and pidfile.read_text().strip()):
                time.sleep(0.05)
            worker = int(pidfile.read_text())
            assert _alive(worker)
            os.kill(parent.pid, signal.SIGINT)  # the parent only, as `kill -INT <pid>` does
            assert parent.wait() == 130
            while _alive(worker):  # SIGKILLed with its group; reaped by whoever adopted it
                time.sleep(0.05)
    finally:
        if parent.poll() is None:
            parent.kill()
        if worker and _alive(worker):
            os.kill(worker, signal.SIGKILL)
