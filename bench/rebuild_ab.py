"""A/B of the one-package rebuild: this checkout's layersmith against another's, alternating in one shell.

    git archive --prefix=old/ main layersmith | tar x -C /tmp
    .venv/bin/python bench/rebuild_ab.py --old /tmp/old --pairs 4

Each pair runs, for each tree in turn (the order rotates): a cold build of data-science for
python3.11/x86_64 into an empty cache, then the same build after bumping pytz (the lock written once,
up front, by `layersmith lock`), timed as whole processes. Printed per run and as medians: the wall
times, the rebuild's CPU time (user+sys of the process and its children: uv, compileall), which the
machine's load moves less than the wall time, the ratio, the load average and the zip's sha256 (equal
for both trees, or the change altered bytes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYER, RUNTIME, ARCH = "data-science", "python3.11", "x86_64"
BIN = Path(sys.executable).parent
BUMP = "pytz==2025.2"  # bench/peers.py's bump


def _env(tree: Path, cache: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as bench/peers.py
    return {**base, "PYTHONPATH": str(tree), "LAYERSMITH_CACHE_DIR": str(cache)}


def _build(tree: Path, project: Path, cache: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the process tree, zip sha256)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    argv = [str(BIN / "layersmith"), "--project", str(project), "build", LAYER, "--runtime", RUNTIME, "--arch", ARCH,
            "--json"]
    done = subprocess.run(argv, env=_env(tree, cache), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"rebuild_ab: the build with {tree} failed:\n{done.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, json.loads(done.stdout)[0]["sha256"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="a directory holding the other `layersmith` package")
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    trees = {"old": args.old.resolve(), "new": REPO}
    with tempfile.TemporaryDirectory(prefix="layersmith-rebuild-ab-") as tmp:
        work = Path(tmp)
        project = work / "project"
        shutil.copytree(REPO / "layers" / LAYER, project / "layers" / LAYER)
        lock = project / "layers" / LAYER / "requirements.txt"
        original = lock.read_text()
        spec_in = project / "layers" / LAYER / "requirements.in"
        spec_in.write_text(spec_in.read_text() + BUMP + "\n")
        subprocess.run([str(BIN / "layersmith"), "--project", str(project), "lock", LAYER], env=_env(REPO, work / "c"),
                       check=True, capture_output=True)
        bumped = lock.read_text()
        runs: dict[str, list[tuple[float, float, float, str]]] = {name: [] for name in trees}
        for index in range(args.pairs):
            names = list(trees)[index % 2:] + list(trees)[:index % 2]
            for name in names:
                cache = work / f"cache-{name}"
                shutil.rmtree(cache, ignore_errors=True)
                lock.write_text(original)
                cold, _, _ = _build(trees[name], project, cache)
                lock.write_text(bumped)
                wall, cpu, sha = _build(trees[name], project, cache)
                runs[name].append((cold, wall, cpu, sha))
                print(f"{name}: cold {cold:.2f} s, rebuild {wall:.3f} s (CPU {cpu:.3f} s), ratio {wall / cold:.3f}, "
                      f"load {os.getloadavg()[0]:.1f}, sha256 {sha[:12]}", flush=True)
    for name, rows in runs.items():
        med = [statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows),
               statistics.median(r[2] for r in rows)]
        ratio = statistics.median(r[1] / r[0] for r in rows)
        print(f"{name}: median cold {med[0]:.2f} s, rebuild {med[1]:.3f} s, CPU {med[2]:.3f} s, ratio {ratio:.3f}; "
              f"sha256 {sorted({r[3][:12] for r in rows})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
