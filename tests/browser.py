"""Headless Chromium for the report's tests and bench: Debian's `chromium-headless-shell` (or
`chromium`), which `make browser` installs. Plain command-line modes: `--dump-dom` prints the DOM
once the page has loaded and its scripts have run; `--screenshot` writes a PNG."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CANDIDATES = ("chromium-headless-shell", "chromium", "chromium-browser")
# --no-sandbox: the tests may run as root (containers, CI), where Chromium refuses its sandbox.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-extensions", "--disable-background-networking")


def chromium() -> str | None:
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def required() -> bool:
    """In CI a missing browser fails the test: `make browser` installs it there."""
    return bool(os.environ.get("CI") or os.environ.get("LAYERSMITH_REQUIRE_BROWSER"))


def _run(argv: list[str], timeout: float) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def dump_dom(binary: str, page: Path, *, timeout: float = 120) -> str:
    return _run([binary, *FLAGS, "--dump-dom", page.resolve().as_uri()], timeout)


def screenshot(binary: str, page: Path, png: Path, *, width: int = 1200, height: int = 1500,
               timeout: float = 120) -> None:
    _run([binary, *FLAGS, f"--window-size={width},{height}", f"--screenshot={png.resolve()}",
          page.resolve().as_uri()], timeout)
