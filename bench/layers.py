"""`make bench`: the naive layer build vs `layersmith build`, and plan time on generated fleets.

Layer half (the data-science layer, python3.11/x86_64 — this host's Python, so bytecode for the
right version can be compiled at all):

- naive: `pip install --target` of the same hashed lock (cross-platform flags), then `zip -r`;
- layersmith: `layersmith build data-science --runtime python3.11 --arch x86_64 --builder host`
  with a fresh cache directory; the rebuild reuses it.

Both download caches (pip's and uv's) are warmed first, so "cold" means fresh target and cache
directories, not a cold network. Import time is measured in fresh interpreters
(`python -I -S -B`, only the layer on sys.path) over read-only extracted copies, warm page cache.
Results: a table on stdout, everything in bench/results/layers.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import fleet
from workdir import work_dir, write_results

from layersmith.builder.tree import tree_size
from layersmith.table import render_table

REPO = Path(__file__).resolve().parents[1]
LAYER, RUNTIME, ARCH = "data-science", "python3.11", "x86_64"
LOCK = REPO / "layers" / LAYER / "requirements.txt"
RESULTS = REPO / "bench" / "results" / "layers.json"
BIN = Path(sys.executable).parent
NAIVE_PIP = ["--platform", "manylinux2014_x86_64", "--only-binary", ":all:", "--python-version", "3.11",
             "--implementation", "cp"]
IMPORT = ("import sys, time; sys.path[:0] = [{entry!r}]; t = time.perf_counter(); import pandas; "
          "print(time.perf_counter() - t)")
TARGETS = {"zip": 0.7, "unzipped": 0.7, "cold_build": 0.5, "rebuild_s": 1.0, "import": 1.1}


def run(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run to completion; (seconds, stdout). A failure stops the benchmark with the tool's stderr."""
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(argv[:4])} … failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def naive_build(dest: Path) -> float:
    """What the docs of most layer tutorials do: pip into python/, zip it all."""
    dest.mkdir(parents=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--target", str(dest / "python"), *NAIVE_PIP, "-r", str(LOCK)]
    seconds, _ = run(pip)
    zipped, _ = run(["zip", "-r", "-q", str(dest / "layer.zip"), "python"], cwd=dest)
    return seconds + zipped


def layersmith_build(cache: Path) -> tuple[float, dict[str, Any]]:
    argv = [str(BIN / "layersmith"), "--project", str(REPO), "build", LAYER, "--runtime", RUNTIME, "--arch", ARCH,
            "--builder", "host", "--json"]
    seconds, out = run(argv, env={"LAYERSMITH_CACHE_DIR": str(cache)})
    [result] = json.loads(out)
    return seconds, dict(result)


def warm_download_caches(work: Path) -> None:
    """One untimed build of each kind, so neither side pays for the network in the timed runs."""
    naive_build(work / "warm-naive")
    layersmith_build(work / "warm-cache")


def builds(work: Path, repeats: int) -> dict[str, Any]:
    """Alternate the two kinds, so load from anything else on the machine hits both alike."""
    naive: list[float] = []
    cold, rebuild = [], []
    result: dict[str, Any] = {}
    for i in range(repeats):
        naive.append(naive_build(work / f"naive-{i}"))
        seconds, result = layersmith_build(work / f"cache-{i}")
        cold.append(seconds)
        seconds, again = layersmith_build(work / f"cache-{i}")
        if not again["cached"] or again["sha256"] != result["sha256"]:
            sys.exit("bench: the unchanged rebuild was not served from the cache")
        rebuild.append(seconds)
    # The naive recipe has no cache: "nothing changed" still means doing it all again.
    files, unzipped = tree_size(work / "naive-0" / "python")
    return {
        "naive": {"cold_s": naive, "rebuild_s": naive, "unzipped_bytes": unzipped, "files": files,
                  "zip_bytes": (work / "naive-0" / "layer.zip").stat().st_size},
        "layersmith": {"cold_s": cold, "rebuild_s": rebuild, "unzipped_bytes": result["unzipped_bytes"],
                       "files": result["files"], "zip_bytes": result["zip_bytes"], "zip": result["zip"],
                       "bytecode": result["bytecode"], "sha256": result["sha256"]},
    }


def extract(zip_path: Path, dest: Path) -> Path:
    run(["unzip", "-q", str(zip_path), "-d", str(dest)])
    return dest


def read_only(root: Path) -> None:
    """As /opt on Lambda (with -B as well, since root ignores mode bits)."""
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & 0o555)


def import_trees(work: Path, layersmith_zip: Path) -> dict[str, Path]:
    """The sys.path entry of each candidate: naive, layersmith, best achievable, and no bytecode."""
    naive = extract(work / "naive-0" / "layer.zip", work / "x-naive") / "python"
    ours = extract(layersmith_zip, work / "x-layersmith") / "python/lib/python3.11/site-packages"
    # Best achievable: pip's tree as installed (never zipped), every module compiled by this
    # interpreter in the default mode — a developer's site-packages after a first import.
    best = work / "x-best"
    shutil.copytree(work / "naive-0" / "python", best)
    run([str(BIN / "python"), "-m", "compileall", "-q", "-j", "0", str(best)])
    bare = work / "x-nobytecode"
    shutil.copytree(ours, bare, ignore=shutil.ignore_patterns("__pycache__"))
    trees = {"naive": naive, "layersmith": ours, "best": best, "no bytecode": bare}
    for path in trees.values():
        read_only(path)
    return trees


def import_times(trees: dict[str, Path], runs: int) -> dict[str, list[float]]:
    """Round-robin fresh processes (drift hits every candidate alike); one untimed warm-up each."""
    samples: dict[str, list[float]] = {name: [] for name in trees}
    for round_ in range(runs + 1):
        for name, entry in trees.items():
            argv = [str(BIN / "python"), "-I", "-S", "-B", "-c", IMPORT.format(entry=str(entry))]
            _, out = run(argv)
            if round_:
                samples[name].append(float(out.strip()))
    return samples


def summarize(build: dict[str, Any], imports: dict[str, list[float]]) -> dict[str, Any]:
    naive, ours = build["naive"], build["layersmith"]
    med = {name: statistics.median(v) for name, v in imports.items()}
    cold_n, cold_o = statistics.median(naive["cold_s"]), statistics.median(ours["cold_s"])
    figures = {
        "cold_build": (cold_n, cold_o, cold_o / cold_n, cold_o / cold_n <= TARGETS["cold_build"]),
        "rebuild": (statistics.median(naive["rebuild_s"]), statistics.median(ours["rebuild_s"]), None,
                    statistics.median(ours["rebuild_s"]) < TARGETS["rebuild_s"]),
        "unzipped": (naive["unzipped_bytes"], ours["unzipped_bytes"], ours["unzipped_bytes"] / naive["unzipped_bytes"],
                     ours["unzipped_bytes"] / naive["unzipped_bytes"] <= TARGETS["unzipped"]),
        "zip": (naive["zip_bytes"], ours["zip_bytes"], ours["zip_bytes"] / naive["zip_bytes"],
                ours["zip_bytes"] / naive["zip_bytes"] <= TARGETS["zip"]),
        "import": (med["naive"], med["layersmith"], med["layersmith"] / med["best"],
                   med["layersmith"] / med["best"] <= TARGETS["import"]),
    }
    return {"figures": {k: dict(zip(("naive", "layersmith", "ratio", "met"), v, strict=True))
                        for k, v in figures.items()},
            "import_median_s": med}


def _mb(size: float) -> str:
    return f"{size / 1e6:.1f} MB"


def _seconds(value: float) -> str:
    return f"{value:.2f} s"


def layer_table(summary: dict[str, Any]) -> str:
    f = summary["figures"]
    mb, s = _mb, _seconds
    rows = [
        ["cold build (warm download caches)", s(f["cold_build"]["naive"]), s(f["cold_build"]["layersmith"]),
         f"{f['cold_build']['ratio']:.2f}x naive", "<= 0.5x naive"],
        ["rebuild (naive: no cache = cold)", s(f["rebuild"]["naive"]), s(f["rebuild"]["layersmith"]), "",
         "< 1 s"],
        ["unzipped", mb(f["unzipped"]["naive"]), mb(f["unzipped"]["layersmith"]),
         f"{f['unzipped']['ratio']:.2f}x naive", "<= 0.7x naive"],
        ["zip", mb(f["zip"]["naive"]), mb(f["zip"]["layersmith"]), f"{f['zip']['ratio']:.2f}x naive",
         "<= 0.7x naive"],
        ["import pandas (median, read-only)", s(f["import"]["naive"]), s(f["import"]["layersmith"]),
         f"{f['import']['ratio']:.2f}x best", "<= 1.1x best"],
    ]
    keys = ["cold_build", "rebuild", "unzipped", "zip", "import"]
    rows = [[*r, "yes" if f[k]["met"] else "NO"] for r, k in zip(rows, keys, strict=True)]
    return render_table(["measure", "naive", "layersmith", "ratio", "target", "met"], rows, right={1, 2, 3})


def import_table(summary: dict[str, Any], trees: dict[str, Path]) -> str:
    med = summary["import_median_s"]
    notes = {"naive": "pip's cpython-311 pycs, as unzipped", "layersmith": "unchecked-hash cpython-311 pycs",
             "best": "pip's tree never zipped + compileall by this interpreter",
             "no bytecode": "layersmith's tree minus __pycache__ (what a foreign-version layer gets)"}
    rows = [[name, f"{med[name]:.3f} s", f"{med[name] / med['best']:.2f}x", notes[name]] for name in trees]
    return render_table(["import pandas from", "median", "vs best", "what"], rows, right={1, 2})


def plan_table(plan: dict[str, Any]) -> str:
    if not plan["available"]:
        return f"plan: not available ({plan['reason']})"
    rows = [[n, f"{v['median_s']:.3f} s", f"{v['median_s'] / int(n) * 1000:.1f} ms", f"{v['first_s']:.2f} s"]
            for n, v in plan["fleets"].items()]
    met = "yes" if plan["growth"] <= plan["size_factor"] else "NO"
    table = render_table(["functions", "plan (median)", "per function", "first plan"], rows, right={0, 1, 2, 3})
    return (f"{table}\nplan time grew {plan['growth']:.2f}x for {plan['size_factor']:.0f}x the functions "
            f"({plan['accounts']} accounts, {plan['layers']} layers); target: no worse than linear -> {met}")


def environment() -> dict[str, Any]:
    uv = subprocess.run([str(BIN / "python"), "-c", "from uv import find_uv_bin; print(find_uv_bin())"],
                        capture_output=True, text=True, check=False).stdout.strip()
    return {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "python": sys.version.split()[0],
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "uv": subprocess.run([uv, "--version"], capture_output=True, text=True, check=False).stdout.strip(),
            "pip": run([str(BIN / "python"), "-m", "pip", "--version"])[1].split(" from ")[0]}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed builds of each kind (median; default 3)")
    parser.add_argument("--imports", type=int, default=11, help="fresh import processes per tree (default 11)")
    parser.add_argument("--plan-repeats", type=int, default=3, help="timed plans per fleet (default 3)")
    parser.add_argument("--skip-plan", action="store_true", help="skip the fleet plan timings")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (printed)")
    return parser.parse_args()


def measure_all(args: argparse.Namespace, work: Path) -> None:
    print(f"bench: {LAYER} {RUNTIME}/{ARCH}; warming pip's and uv's download caches", file=sys.stderr)
    warm_download_caches(work)
    print(f"bench: {args.repeats} timed build(s) of each kind", file=sys.stderr)
    build = builds(work, args.repeats)
    trees = import_trees(work, Path(build["layersmith"]["zip"]))
    print(f"bench: import pandas, {args.imports} fresh process(es) per tree", file=sys.stderr)
    imports = import_times(trees, args.imports)
    summary = summarize(build, imports)
    plan: dict[str, Any] = {"available": False, "reason": "skipped (--skip-plan)"}
    if not args.skip_plan:
        print("bench: plan on generated fleets (20 and 200 functions)", file=sys.stderr)
        os.environ["LAYERSMITH_CACHE_DIR"] = str(work / "cache-0")  # plan reuses the built layers
        plan = fleet.measure(work, REPO, (20, 200), accounts=20, repeats=args.plan_repeats)
    report = {"environment": environment(), "layer": LAYER, "runtime": RUNTIME, "architecture": ARCH,
              "download_caches": "warm for both (one untimed build of each kind first)",
              "builds": build, "imports_s": imports, **summary, "plan": plan}
    print(f"{LAYER} layer, {RUNTIME}/{ARCH}; download caches warm for both; fresh target/cache dirs\n")
    print(layer_table(summary), end="\n\n")
    print(import_table(summary, trees), end="\n\n")
    print(plan_table(plan))
    write_results(RESULTS, report)


def main() -> int:
    args = parse_args()
    missing = [tool for tool in ("zip", "unzip") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"bench: needs {' and '.join(missing)} on PATH (the naive recipe zips with Info-ZIP, and "
                 "unzip restores the mtimes pip's timestamp pycs depend on)")
    with work_dir("layersmith-bench-", args.keep) as work:
        measure_all(args, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
