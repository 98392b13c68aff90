"""How wide the commands' text output may be: `--wide`, `COLUMNS`, the terminal, or unlimited.

The choice, in order:
1. `--wide`: unlimited (every table row on one line, every cell whole: the output before issue 24).
2. `COLUMNS`, when it is a positive integer: the user (or a test) said so, even into a pipe.
3. stdout is a terminal: its width (80 when the terminal does not report one, as `shutil` does).
4. Otherwise (a pipe or a file): unlimited. Output that goes to `grep`, a file, a CI log or `less -S`
   is read by a program or scrolled sideways, and a wrapped line breaks both: `grep code-signing`
   should print the whole finding, and a row cut onto three lines no longer greps as a row. A fixed
   guess (80, 100) would wrap for a reader who never asked for it; `COLUMNS=100 layersmith plan …
   | less` asks for it explicitly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import TextIO

FALLBACK = 80  # a terminal that reports no size (shutil.get_terminal_size's fallback)
WIDE_HELP = ("print tables unfitted: one line per row, no cell wrapped or shortened (the default when stdout "
             "is not a terminal and COLUMNS is not set)")


def add_wide_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wide", action="store_true", help=WIDE_HELP)


def _columns(env: Mapping[str, str]) -> int | None:
    value = env.get("COLUMNS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def output_width(wide: bool, env: Mapping[str, str] | None = None, stream: TextIO | None = None) -> int | None:
    """The width to fit text output to; None: unlimited."""
    if wide:
        return None
    columns = _columns(os.environ if env is None else env)
    if columns is not None:
        return columns
    out = sys.stdout if stream is None else stream
    if not out.isatty():
        return None
    try:
        size = os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError):  # a terminal without a size (or a stream without a descriptor)
        return FALLBACK
    return size or FALLBACK


def width_of(args: argparse.Namespace) -> int | None:
    """`output_width` for a command's parsed arguments (commands without `--wide` are never wide)."""
    return output_width(bool(getattr(args, "wide", False)))
