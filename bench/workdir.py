"""What every bench script does around its measurements: a scratch directory removed afterwards (or
kept with --keep, and said where), and the results written as JSON under bench/results/."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def work_dir(prefix: str, keep: bool) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        if keep:
            print(f"bench: work directory kept at {work}", file=sys.stderr)
        else:
            for path in [work, *work.rglob("*")]:
                if path.is_dir() and not path.is_symlink():
                    path.chmod(0o755)  # read-only copies (the import measurements) must be deletable
            shutil.rmtree(work, ignore_errors=True)


def write_results(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nJSON: {path.relative_to(REPO)}")
