"""`make bench`, first-run section: what a newcomer waits for, timed step by step in a fresh clone.

A fresh clone of this checkout's HEAD in a temporary directory, with empty caches apart from the
package indexes (an empty uv cache, no pip cache, no build cache, no sysroots). It runs the
Makefile's own `make demo`, so it measures what the Makefile does, not a copy of it:

- venv: `make venv` (uv bootstrapped and the pinned requirements installed);
- then `make demo` itself, timed whole; its steps are the durations it prints for each command
  ("make demo: <command> took N.N s"), while the sysroot the functions need is fetched in the
  background:
  - build: `layersmith build` (every layer variant, empty build cache, empty uv cache);
  - plans and checks: `layersmith plan` / `check` of the dev and prod stacks;
  - invokes: every `layersmith invoke` (the arm64 one waiting for its sysroot if still fetching);
  - other: the rest of the demo's time (make, `runtimes list`, the final wait for the fetch);
- then `make demo` again (the rerun), and with `--ci` a whole `bash .ci/run` in a second fresh clone.

Prints each step, the total, the date and the core count, and the goals of issue 25 with met or not;
writes bench/results/first_run.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from workdir import work_dir, write_results

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "first_run.json"
GOALS = {"demo_s": 120.0, "rerun_s": 20.0, "ci_s": 300.0}
LABELS = {"demo_s": "fresh `make demo` (seconds)", "rerun_s": "`make demo` again (seconds)",
          "ci_s": "fresh `bash .ci/run` (seconds)"}


def fresh_clone(work: Path, name: str) -> Path:
    dest = work / name
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(dest)], check=True)
    return dest


def clean_env(work: Path) -> dict[str, str]:
    """Empty caches apart from the package indexes: uv's and pip's caches are new directories."""
    # PYTHONDONTWRITEBYTECODE too: a fresh machine leaves it unset, so the venv's modules are compiled
    # once, at their first import. (This machine's environment sets it; with it, every command
    # compiles pulumi and pulumi_aws again: plans and checks took ~1.5x as long, measured here.)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LAYERSMITH_", "VIRTUAL_ENV", "PYTHONPATH", "UV_CACHE_DIR", "PYTHONDONTWRITEBYTECODE"))}
    env["UV_CACHE_DIR"] = str(work / "uv-cache")
    env["PIP_NO_CACHE_DIR"] = "1"
    return env


def timed(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    started = time.perf_counter()
    with log.open("a") as fh:
        fh.write(f"\n$ {shlex.join(argv)}\n")
        fh.flush()
        done = subprocess.run(argv, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"bench: {shlex.join(argv)} failed (exit {done.returncode}); see {log}")
    return elapsed


def step_of(command: str) -> str:
    """Which first-run step a `make demo` command belongs to."""
    words = command.split()
    return {"build": "build", "plan": "plans and checks", "check": "plans and checks",
            "invoke": "invokes"}.get(words[0] if words else "", "other")


STEP_LINE = re.compile(r"^make demo: (.+) took ([0-9.]+) s$", re.M)


def demo_steps(log: Path, since: int) -> dict[str, float]:
    """The durations `make demo` printed for its steps ("make demo: <command> took N.N s"), per step."""
    steps: dict[str, float] = {}
    for command, seconds in STEP_LINE.findall(log.read_text()[since:]):
        steps[step_of(command)] = steps.get(step_of(command), 0.0) + float(seconds)
    return steps


def first_run(work: Path, log: Path) -> dict[str, float]:
    clone = fresh_clone(work, "demo")
    env = clean_env(work)
    steps: dict[str, float] = {"venv": timed(["make", "venv"], clone, env, log)}
    since = log.stat().st_size
    demo = timed(["make", "demo"], clone, env, log)  # as a newcomer runs it: the sysroot fetch in the background
    steps.update(demo_steps(log, since))
    timed_steps = ("build", "plans and checks", "invokes")
    steps["other"] = demo - sum(steps.get(k, 0.0) for k in timed_steps)  # runtimes list, make, the final wait
    steps["total"] = steps["venv"] + demo
    steps["rerun"] = timed(["make", "demo"], clone, env, log)
    return steps


def ci_run(work: Path, log: Path) -> float:
    clone = fresh_clone(work, "ci")
    env = {**clean_env(work / "ci-caches"), "CI": "true"}
    return timed(["bash", ".ci/run"], clone, env, log)


def report(steps: dict[str, float], ci: float | None, env: dict[str, Any]) -> dict[str, Any]:
    print(f"\nfirst run: `make demo` in a fresh clone, empty caches apart from the package index; "
          f"{env['date']}, {env['cpus']} cores, load at start {env['load_at_start'][0]:.1f}\n")
    for name in ("venv", "build", "plans and checks", "invokes", "other"):
        if name in steps:
            print(f"  {name:<18} {steps[name]:6.1f} s")
    print(f"  {'total':<18} {steps['total']:6.1f} s")
    print(f"  {'rerun':<18} {steps['rerun']:6.1f} s")
    measured = {"demo_s": steps["total"], "rerun_s": steps["rerun"]}
    if ci is not None:
        print(f"  {'bash .ci/run':<18} {ci:6.1f} s")
        measured["ci_s"] = ci
    print("\n  goal (issue 25)                          measured  target  met")
    for key, value in measured.items():
        print(f"  {LABELS[key]:<40} {value:8.1f}  <= {GOALS[key]:<4.0f} {'yes' if value <= GOALS[key] else 'NO'}")
    return {"steps_s": steps, "measured": measured, "goals": GOALS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ci", action="store_true", help="also time `bash .ci/run` in a second fresh clone (long)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (printed)")
    args = parser.parse_args()
    env = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
           "load_at_start": os.getloadavg()}
    with work_dir("layersmith-first-run-", args.keep) as work:
        log = work / "first-run.log"
        print(f"bench: first run in {work} (log: {log})", file=sys.stderr)
        steps = first_run(work, log)
        ci = ci_run(work, log) if args.ci else None
        summary = report(steps, ci, env)
        write_results(RESULTS, {"environment": env, **summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
