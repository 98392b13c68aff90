"""Report benchmark: `layersmith report` for a synthetic fleet of 100 accounts × 17 regions.

    .venv/bin/python bench/report.py [--accounts 100] [--regions 17] [--screenshot docs/report.png]

Goals (issue 23): the report written in <= 5 s, opened in the browser in <= 1 s, under 2 MB.

* "written": `layersmith report --inventory FLEET.json` in a fresh process (imports, reading and
  checking the inventory, the matrix, the treemaps from the build cache, the HTML), wall clock;
* "opened": headless Chromium loads the file; the page records `performance.now()` once its script
  has drawn every table and treemap and the layout is done (`data-render-ms`, from navigation
  start). The browser's own start-up is printed apart: it is not the report's.

The inventory is `tests/synthetic_fleet.py`'s (the repo's prod layers in every region, 4 versions
deep; every other account runs 2 functions per region attaching 1-2 layers). Variants the build
cache lacks are drawn as "not built" (run `layersmith build` first for the treemaps).
`--screenshot` draws the manual's picture (docs/report.png) instead: the repo with a 4-account, 2-region fleet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser import chromium, dump_dom, screenshot  # noqa: E402
from synthetic_fleet import fleet_inventory  # noqa: E402

REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
           "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
           "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "sa-east-1"]
WRITE_GOAL_S, OPEN_GOAL_S, SIZE_GOAL = 5.0, 1.0, 2_000_000


def write_report(inventory: Path, output: Path, cwd: Path | None = None) -> tuple[float, float]:
    """(wall clock, CPU seconds of the process): on a shared machine the wall clock includes waiting
    for a core, the CPU time does not."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "layersmith", "--project", str(REPO), "report", "--inventory",
                           str(inventory), "--output", str(output)], capture_output=True, text=True, check=False,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO)})
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"layersmith report failed ({done.returncode}): {done.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def open_report(binary: str, page: Path) -> tuple[float, float]:
    """(the page's own render time, the whole browser run's wall clock), in seconds."""
    start = time.perf_counter()
    dom = dump_dom(binary, page)
    wall = time.perf_counter() - start
    found = re.search(r'data-render-ms="(\d+)"', dom)
    if not found:
        raise SystemExit("the page did not finish drawing (no data-render-ms)")
    return int(found.group(1)) / 1000, wall


def bench(accounts: int, regions: int, repeats: int) -> None:
    binary = chromium()
    with tempfile.TemporaryDirectory() as tmp:
        inventory, page = Path(tmp) / "fleet.json", Path(tmp) / "report.html"
        data = fleet_inventory(accounts, REGIONS[:regions])
        inventory.write_text(json.dumps(data), encoding="utf-8")
        users = sum(len(v["used_by"]) for v in data["versions"])
        print(f"report benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: {accounts} accounts × {regions} "
              f"regions; inventory {inventory.stat().st_size / 1e6:.1f} MB, {len(data['versions'])} versions, "
              f"{users} attachments")
        runs = [write_report(inventory, page) for _ in range(repeats)]
        wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
        size = page.stat().st_size
        print(f"  written: median {wall:.2f} s wall, {cpu:.2f} s CPU, of {repeats} (goal <= {WRITE_GOAL_S:.0f} s: "
              f"{'met' if wall <= WRITE_GOAL_S else 'NOT met'}); load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores; "
              f"{size / 1e6:.2f} MB (goal < 2 MB: {'met' if size < SIZE_GOAL else 'NOT met'})")
        if binary is None:
            print("  opened: no headless Chromium here (make browser)")
            return
        blank = Path(tmp) / "blank.html"
        blank.write_text("<!doctype html><title>blank</title><body></body>", encoding="utf-8")
        start = time.perf_counter()
        dump_dom(binary, blank)
        startup = time.perf_counter() - start
        opens = [open_report(binary, page) for _ in range(repeats)]
        render = statistics.median(r for r, _ in opens)
        wall = statistics.median(w for _, w in opens)
        print(f"  opened: drawn {render:.2f} s after navigation start, median of {repeats} (goal <= "
              f"{OPEN_GOAL_S:.0f} s: {'met' if render <= OPEN_GOAL_S else 'NOT met'}); the whole browser run "
              f"{wall:.2f} s, of which {startup:.2f} s is Chromium starting on a blank page")


def draw_screenshot(png: Path) -> None:
    binary = chromium()
    if binary is None:
        raise SystemExit("no headless Chromium (make browser)")
    with tempfile.TemporaryDirectory() as tmp:
        inventory, page = Path(tmp) / "fleet.json", Path(tmp) / "layersmith-report.html"
        inventory.write_text(json.dumps(fleet_inventory(4, ["eu-west-1", "us-east-1"], functions=1)), encoding="utf-8")
        write_report(Path("fleet.json"), page, cwd=Path(tmp))  # the page names the file as given
        screenshot(binary, page, png, width=1100, height=1400)
    print(f"wrote {png} ({png.stat().st_size / 1e3:.0f} kB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--regions", type=int, default=17, choices=range(1, len(REGIONS) + 1), metavar="N")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--screenshot", type=Path, metavar="PNG")
    args = parser.parse_args()
    if args.screenshot:
        draw_screenshot(args.screenshot)
    else:
        bench(args.accounts, args.regions, args.repeats)


if __name__ == "__main__":
    main()
