"""The README stays the way in (issue 24), and mkdocs does not check it (it lives outside `docs/`):

- it fits in 330 lines;
- it has a table of contents, and every anchor there names one of its headings;
- every relative link resolves: the file exists, and an anchor into a markdown file names one of its
  headings (GitHub's anchor rules, which mkdocs.yml's slugify also follows, so the site agrees).
"""

from __future__ import annotations

import re
from pathlib import Path

from test_docs import anchors

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_LINES = 330
# [text](target) and ![alt](target); a target ends at whitespace or ")" (titles are not used here).
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CONTENTS = re.compile(r"^## Contents\n\n((?:- \[[^\]]+\]\(#[^)]+\)\n)+)", re.MULTILINE)


def outside_code(markdown: str) -> str:
    """The text with fenced blocks and inline code spans blanked out: a link there is an example."""
    kept, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        kept.append("" if fenced else re.sub(r"`[^`]*`", "", line))
    return "\n".join(kept)


def contents_anchors(markdown: str) -> list[str]:
    """The anchors the table of contents links to; [] when there is no table of contents."""
    m = CONTENTS.search(markdown)
    return re.findall(r"\]\(#([^)]+)\)", m.group(1)) if m else []


def broken_links(markdown: str, base: Path) -> list[str]:
    """Every link of the text, relative to `base`, whose file or heading does not exist."""
    broken = []
    for target in LINK.findall(outside_code(markdown)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not this repository's
            continue
        path, _, anchor = target.partition("#")
        file = base / path if path else None
        if file is not None and not file.exists():
            broken.append(target)
        elif anchor:
            text = file.read_text(encoding="utf-8") if file is not None else markdown
            if (file is None or file.suffix == ".md") and anchor not in anchors(text):
                broken.append(target)
    return broken


def test_the_readme_fits_in_330_lines() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert 50 < lines <= MAX_LINES, f"README.md has {lines} lines: move reference text into docs/"


def test_the_table_of_contents_names_headings_of_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    toc = contents_anchors(text)
    assert len(toc) >= 4, "README.md has no table of contents (a `## Contents` list of #anchors)"
    assert [a for a in toc if a not in anchors(text)] == []


def test_every_relative_link_of_the_readme_resolves() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(LINK.findall(outside_code(text))) >= 10, "links not found: the test would pass vacuously"
    assert broken_links(text, ROOT) == []


def test_the_checks_see_violations(tmp_path: Path) -> None:
    """Each check can fail: a missing file, a missing heading, a stale contents entry are found."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\n## Known heading\n")
    text = (
        "# Title\n\n## Contents\n\n- [A](#a-section)\n- [Gone](#gone)\n\n## A section\n\n"
        "[ok](docs/page.md#known-heading) [file](docs/missing.md) [anchor](docs/page.md#unknown)\n"
        "[self](#a-section) [stale](#nowhere) `[code](docs/ignored.md)`\n\n"
        "```\n[fenced](docs/ignored.md)\n```\n"
    )
    assert contents_anchors(text) == ["a-section", "gone"]
    assert [a for a in contents_anchors(text) if a not in anchors(text)] == ["gone"]
    assert broken_links(text, tmp_path) == ["#gone", "docs/missing.md", "docs/page.md#unknown", "#nowhere"]
    assert contents_anchors("# Title\n\nno contents here\n") == []


def make_rule(makefile: str, target: str) -> tuple[list[str], list[str]]:
    """A Makefile rule's prerequisites and recipe lines ([] and [] when the target has no rule)."""
    m = re.search(rf"^{re.escape(target)}:([^\n=]*)\n((?:\t[^\n]*\n)*)", makefile, re.MULTILINE)
    if not m:
        return [], []
    return m.group(1).split(), [line.strip() for line in m.group(2).splitlines()]


def test_make_test_builds_the_manual_strictly_into_an_ignored_directory() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    prerequisites, recipe = make_rule(makefile, "test")
    # a prerequisite, or a target of the sub-make that runs lint, docs and browser beside the sysroot fetch
    assert "docs" in prerequisites or any(re.search(r"\$\(SUBMAKE\)[^|;]*\sdocs\s", line) for line in recipe), \
        "`make test` must build the manual"
    assert any("mkdocs build --strict" in line for line in make_rule(makefile, "docs")[1])
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    # Under --strict only warnings fail: unresolved links and anchors must be warnings.
    assert re.search(r"^  links:\n(?:    \w+: \w+\n)*    anchors: warn$", config, re.MULTILINE)
    assert re.search(r"^  links:\n(?:    \w+: \w+\n)*    not_found: warn$", config, re.MULTILINE)
    assert re.search(r"^site_dir: \.layersmith/", config, re.MULTILINE), "the site must be in git-ignored .layersmith/"
    assert ".layersmith/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert re.search(r"^  font: false$", config, re.MULTILINE), "web fonts would need the network"


def test_make_rule_reads_prerequisites_and_recipes() -> None:
    makefile = "test: venv lint docs\n\tpytest\ndocs: venv\n\tmkdocs build --strict\n"
    assert make_rule(makefile, "test") == (["venv", "lint", "docs"], ["pytest"])
    assert make_rule(makefile, "docs") == (["venv"], ["mkdocs build --strict"])
    assert make_rule(makefile, "lint") == ([], [])
