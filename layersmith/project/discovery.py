"""Which project a command acts on: `--project DIR`, else the nearest directory holding `Pulumi.yaml`,
from the working directory up, the way git finds `.git` and pulumi finds `Pulumi.yaml` (so
`cd layers && layersmith build` works). A project without `Pulumi.yaml` (only `layers/`) is found only
when it is the working directory itself: a stray `layers/` higher up must not capture a command.
"""

from __future__ import annotations

from pathlib import Path

from layersmith.errors import UserError

PROJECT_FILE = "Pulumi.yaml"


def is_project(directory: Path) -> bool:
    return directory.is_dir() and ((directory / PROJECT_FILE).is_file() or (directory / "layers").is_dir())


def find_project(start: Path) -> Path | None:
    """The nearest of `start` and its parents that holds `Pulumi.yaml`, else `start` if it holds
    `layers/`, else None."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory
    return start if is_project(start) else None


def resolve_project(given: Path | None, cwd: Path) -> Path:
    """The project directory for this command; `UserError` (one line, what to do) when there is none."""
    if given is not None:
        project = (cwd / given).resolve()
        if not is_project(project):
            raise UserError(f"--project {project} is not a layersmith project (no {PROJECT_FILE} or layers/ there); "
                            "pass the directory that holds Pulumi.yaml")
        return project
    found = find_project(cwd)
    if found is None:
        raise UserError(f"not inside a layersmith project: no {PROJECT_FILE} in {cwd.resolve()} or any parent "
                        "directory; cd into the project or pass --project DIR")
    return found
