"""The report as one self-contained HTML file: inline CSS, inline JS, inline SVG, no network.

The data is embedded once, as JSON in a `<script type="application/json">`, and a small inline
script draws the tables and the SVG treemaps from it when the page opens: a fleet's matrix is
tens of thousands of cells, and its data is several times smaller than the same cells as markup
(the file must stay under 2 MB). The treemap rectangles are laid out in Python (`treemap.py`), so
the browser only draws them. `</` is escaped inside the JSON so no value can close the script.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from layersmith.fleet.report_data import Report
from layersmith.writable import require_writable_file, write_failed

MAX_BYTES = 2_000_000

# Kept beside this module as plain files (package data) so they read, lint and diff as CSS and JS.
_ASSETS = Path(__file__).with_name("report.css"), Path(__file__).with_name("report.js")



def report_json(report: Report) -> str:
    """The report's data as JSON: what `--json` prints and what the page draws from."""
    # Every record is a plain dataclass: its __dict__ is the JSON object, in field order. Letting the
    # C encoder walk it is ~10x faster than dataclasses.asdict, which deep-copies every value (2 s
    # for a 100-account fleet).
    return json.dumps(report, default=vars, separators=(",", ":"))


def _meta(report: Report) -> str:
    fleet = f"fleet: {report.inventory}" if report.inventory else "project only (offline)"
    return (f"generated {report.generated} · stacks {', '.join(report.stacks)} · {fleet}"
            f"{' · contents read online' if report.online else ''}")


def render_html(report: Report) -> str:
    from html import escape

    css, js = (path.read_text(encoding="utf-8") for path in _ASSETS)
    payload = report_json(report).replace("</", "<\\/").replace("<!--", "<\\!--")
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    legend = "".join(f'<span style="--c:var(--{k})">{escape(t)}</span>' for k, t in (
        ("current", "at the newest version"), ("latest", "follows latest"), ("behind", "1 version behind"),
        ("far", "2 or more behind"), ("unknown", "newest not known")))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>layersmith report: {escape(report.project)}</title><style>{css}</style></head>
<body><header><h1>Layers of {escape(report.project)}</h1><div class="meta">{escape(_meta(report))}</div></header>
<main><ul class="notes">{notes}</ul>
<section><h2>Who runs which version</h2><div class="legend">{legend}</div>
<div id="matrix"></div></section>
<section><h2>What the layers weigh</h2><div class="maps" id="maps"></div>
<h3>Each function's layers against the 250 MB unzipped budget</h3><table id="budget"></table></section>
<section><h2>Who can read which version</h2><table id="grants"></table></section>
<section><h2>Content drift between regions</h2><table id="drift"></table></section>
</main><script type="application/json" id="report-data">{payload}</script><script>{js}</script></body></html>
"""


def write_report(path: Path, text: str) -> None:
    """Atomically: a temporary file beside it, renamed over it, so an interrupted run leaves the
    previous report (or none), never half of one."""
    require_writable_file(path, what="the report", remedy="pass another --output")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_failed(path, "the report", exc, "pass another --output") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(name, 0o644)  # mkstemp makes it 0600; a report is for people to open
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
