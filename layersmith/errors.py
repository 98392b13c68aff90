"""One exception hierarchy for the whole project.

The CLI maps these to exit codes (pypa/build's `_handle_build_error` is the model): a
`UserError` is bad input (exit 2), a `BuildError` is a build or verification that failed
(exit 1). Messages are one line, name the file and key at fault, and say what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _shown(path: Path | str) -> str:
    """A path as the user would type it: relative to the working directory when it is below it."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return str(candidate.relative_to(Path.cwd()))
        except (ValueError, OSError):
            return str(candidate)
    return str(path)


class LayersmithError(Exception):
    """Base of every error layersmith raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, path: Path | str | None = None, key: str | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.path = _shown(path) if path is not None else None
        self.key = key
        # Where in the file, when known: rendered FILE:LINE:COL, the form editors and terminals jump to.
        self.line = line
        self.column = column if line is not None else None
        super().__init__(self.render())

    def render(self) -> str:
        where = self.path or ""
        if where and self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        if self.key:
            where = f"{where}: {self.key}" if where else self.key
        return f"{where}: {self.message}" if where else self.message

    def concerns(self, path: Path | str) -> bool:
        """Whether this error names the file `path` (as given to the constructor)."""
        return self.path == _shown(path)

    def locate(self, line: int, column: int | None = None) -> None:
        """Add the line (and column) once a caller holding the file's text has found it."""
        self.line, self.column = line, column
        self.args = (self.render(),)


class UserError(LayersmithError):
    """Bad input: a spec, config or command line that must be fixed by the user."""

    exit_code = 2


class SpecError(UserError):
    """A `layer.toml`, `function.toml` or lock file is invalid."""


class ConfigError(UserError):
    """A `Pulumi.<stack>.yaml` value is invalid."""


class BuildError(LayersmithError):
    """A build step failed (resolve, install, compile)."""

    exit_code = 1


class VerificationError(BuildError):
    """A built layer would fail on Lambda (wrong architecture, too big, compiled code in a portable layer)."""


class DockerUnavailable(BuildError):
    """The Docker builder was asked for but no engine answers."""


class AwsError(LayersmithError):
    """An AWS call failed in a way the user must act on (credentials, region, role, throttling)."""


class EnvironmentProblem(LayersmithError):
    """Something this machine lacks or refuses (a download, a tool, a kernel feature): not bad input,
    not a bug. The message says what is missing and how to get it."""

    exit_code = 1


class PromotionRefused(LayersmithError):
    """`layersmith promote` found no version holding the wanted content in a region of the target
    stack (or the source of that content is ambiguous); nothing was written."""

    exit_code = 1


class ScanInterrupted(AwsError):
    """Ctrl-C arrived during a scan or a prune: no new AWS call is started, the partial result is reported
    as incomplete and nothing more is deleted."""

    exit_code = 130


@contextmanager
def locating(path: Path | str, line_of: Callable[[str], int | None]) -> Iterator[None]:
    """An error about a key of the file `path`, raised inside, gains that key's line (`line_of(key)`)
    when it has none yet: parsed data (TOML, YAML) carries no positions, the file's text does."""
    try:
        yield
    except LayersmithError as exc:
        line = line_of(exc.key) if exc.key and exc.line is None and exc.concerns(path) else None
        if line is not None:
            exc.locate(line)
        raise
