"""The documentation the code points at exists in this repository.

- no file cites a design document that is not part of the repository (its name is spelled in two
  halves below, so this file does not cite it either);
- every pointer into `docs/architecture.md` (the path, `#`, an anchor), in code, tests, the README or the docs, names a
  heading of that document, with GitHub's anchor rules; so does every `(#anchor)` link inside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
OUTSIDE_DOC = "DESIGN" + ".md"
DOC = "docs/architecture.md"  # pointers below are built from it, so this file holds none
# Not the project's files: the virtualenv, git's data, the build cache, tools' caches.
SKIP_DIRS = {".venv", ".git", ".layersmith", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
POINTER = re.compile(r"docs/architecture\.md#([A-Za-z0-9_-]+)")
LOCAL_LINK = re.compile(r"\]\(#([A-Za-z0-9_-]+)\)")


def repo_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.iterdir()):
        if path.is_dir():
            if path.name not in SKIP_DIRS and not path.name.endswith(".egg-info"):
                yield from repo_files(path)
        elif path.is_file():
            yield path


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading's anchor, outside fenced code; a repeated heading gets `-1`, `-2`, ..."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6} (.+)", line)):
            base = slug(m.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            out.add(base if count == 0 else f"{base}-{count}")
    return out


def pointers(root: Path) -> list[tuple[str, str]]:
    """(file, anchor) for every pointer into docs/architecture.md in the repository's text files."""
    found = []
    for path in repo_files(root):
        text = path.read_bytes().decode("utf-8", errors="replace")
        found += [(str(path.relative_to(root)), anchor) for anchor in POINTER.findall(text)]
    return found


def citing(root: Path) -> list[str]:
    needle = OUTSIDE_DOC.encode().lower()
    return [str(p.relative_to(root)) for p in repo_files(root) if needle in p.read_bytes().lower()]


def test_no_file_cites_design_md() -> None:
    assert len(list(repo_files(ROOT))) > 50, "too few files found: the test would pass vacuously"
    assert citing(ROOT) == []


def test_architecture_pointers_resolve() -> None:
    headings = anchors(ARCHITECTURE.read_text(encoding="utf-8"))
    found = pointers(ROOT)
    assert len({f for f, _ in found}) >= 10, "pointers not found: the test would pass vacuously"
    assert [(f, a) for f, a in found if a not in headings] == []


def test_links_inside_the_architecture_doc_resolve() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    links = LOCAL_LINK.findall(text)
    assert links
    assert sorted(set(links) - anchors(text)) == []


@pytest.mark.parametrize(("heading", "anchor"), [
    ("Grants are layersmith's own dynamic resource", "grants-are-layersmiths-own-dynamic-resource"),
    ("Slimming never strips .so files", "slimming-never-strips-so-files"),
    ("Docker builds are driven by layersmith's builder, not pulumi-docker",
     "docker-builds-are-driven-by-layersmiths-builder-not-pulumi-docker"),
    ("`Pulumi.<stack>.yaml` keys", "pulumistackyaml-keys"),
])
def test_slug_follows_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_the_checks_see_violations(tmp_path: Path) -> None:
    """Both checks can fail: a citation and a dangling pointer are found."""
    (tmp_path / "a.py").write_text(f'"""see {OUTSIDE_DOC.lower()} §4 and {DOC}#nowhere"""\n')
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "b.py").write_text(f"{DOC}#hidden\n")
    assert pointers(tmp_path) == [("a.py", "nowhere")]
    assert citing(tmp_path) == ["a.py"]
    assert "nowhere" not in anchors("# Somewhere\n```\n# nowhere\n```\n## Twice\n## Twice\n")
    assert anchors("## Twice\n## Twice\n") == {"twice", "twice-1"}
