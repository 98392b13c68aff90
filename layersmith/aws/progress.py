"""How a scan shows its progress: plain lines (pipes, CI logs), or a rich progress bar on a terminal.

Both go to stderr, so `--json` on stdout stays clean. The bar shows scopes done, calls, throttled
answers and the ETA; failures are still printed as lines above it (they must not scroll away).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from layersmith.aws.clients import CallStats

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class ScanProgress:
    """Plain lines through `write`: one when the scan starts, one per (account, region) done."""

    def __init__(self, write: Callable[[str], None] = lambda _: None) -> None:
        self.write = write

    def start(self, what: str, total: int, stats: CallStats) -> None:
        self.write(what)

    def done(self, line: str, *, failed: bool) -> None:
        self.write(line)

    def finish(self) -> None:
        pass


class RichProgress(ScanProgress):
    """A rich progress bar on a terminal (rich is imported only here, only when one is drawn)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        from rich.console import Console

        self._console = Console(file=stream)
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._stats = CallStats()

    def start(self, what: str, total: int, stats: CallStats) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._stats = stats
        self._console.print(what, markup=False, highlight=False)
        counts = "scopes · {task.fields[calls]} calls · {task.fields[throttles]} throttled · ETA"
        self._bar = Progress(BarColumn(bar_width=20), MofNCompleteColumn(), TextColumn(counts),
                             TimeRemainingColumn(), console=self._console, transient=True)
        self._bar.start()
        self._task = self._bar.add_task("scan", total=total, calls=0, throttles=0)

    def done(self, line: str, *, failed: bool) -> None:
        if self._bar is None or self._task is None:
            return
        if failed:
            self._bar.console.print(line, markup=False, highlight=False)
        self._bar.update(self._task, advance=1, calls=self._stats.calls, throttles=self._stats.throttles)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def for_stream(stream: TextIO | None = None) -> ScanProgress:
    """A bar on a terminal, plain indented lines elsewhere."""
    out = stream or sys.stderr
    if out.isatty():
        return RichProgress(out)
    return ScanProgress(lambda message: print(f"  {message}", file=out, flush=True))
