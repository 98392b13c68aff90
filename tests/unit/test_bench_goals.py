"""`make bench`: the peer table marks issue 25's goals, and the first-run section times `make demo`'s own steps."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    # as `python bench/NAME.py` runs it: its own directory first on sys.path (bench/workdir.py, fleet.py)
    if str(ROOT / "bench") not in sys.path:
        sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


peers = _load("peers")
first_run = _load("first_run")


def _met(ratios: dict[str, float]) -> dict[str, str]:
    return {row[0]: row[3] for row in peers.goal_rows(ratios)}


BASE = {"cold_vs_chalice": 0.38, "cold_vs_floor": 3.0, "incremental_vs_cold": 0.17, "incremental_s": 0.52,
        "rebuild_s": 0.2, "zip_vs_smallest": 0.9, "import_vs_fastest_peer": 0.24}


def test_the_2026_11_29_run_meets_neither_raised_build_goal() -> None:
    met = _met(BASE)
    assert met["cold build / Chalice's cold build"] == "NO"
    assert met["incremental rebuild / our cold build"] == "NO"
    assert met["unchanged rebuild (seconds)"] == "yes"


def test_either_measure_meets_a_two_sided_goal() -> None:
    met = _met({**BASE, "cold_vs_floor": 1.9, "incremental_s": 0.29})
    assert met["cold build / Chalice's cold build"] == "yes"  # within 2x the floor
    assert met["cold build / floor (download + deflate)"] == "yes"
    assert met["incremental rebuild / our cold build"] == "yes"  # under 0.3 s, the larger bound
    met = _met({**BASE, "cold_vs_chalice": 0.29, "incremental_vs_cold": 0.09})
    assert met["cold build / floor (download + deflate)"] == "yes"
    assert met["incremental rebuild (seconds)"] == "yes"


def test_first_run_steps_follow_the_makefiles_demo_lines() -> None:
    assert first_run.step_of("build") == "build"
    assert first_run.step_of("plan --stack dev") == "plans and checks"
    assert first_run.step_of("check --stack prod") == "plans and checks"
    assert first_run.step_of("invoke partner-digest --stack consumer") == "invokes"
    assert first_run.step_of("runtimes list") == "other"
    makefile = (ROOT / "Makefile").read_text()
    assert "$(PY) bench/first_run.py" in makefile


def test_the_demo_prints_each_step_s_duration_as_the_bench_reads_it(tmp_path: Path) -> None:
    """The Makefile's own `make demo` recipe, on a stand-in `layersmith` that only logs its argv: every
    command runs in order, the sysroot fetch in the background, and each step's duration line parses."""
    fake = tmp_path / "layersmith"
    calls = tmp_path / "calls"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    fake.chmod(0o755)
    # -o: the venv is taken as it is (never rebuilt by a test, even when the requirements are newer)
    done = subprocess.run(["make", "--no-print-directory", "-s", "-o", ".venv/.installed-stamp", "demo", f"LS={fake}",
                           f"DEMO_FETCH_LOG={tmp_path / 'fetch.log'}"], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    ran = calls.read_text().splitlines()
    foreground = [c for c in ran if c != "runtimes fetch --functions"]  # the background one lands anywhere
    assert len(foreground) == len(ran) - 1 and foreground[0] == "runtimes list"
    assert foreground[1] == "build" and foreground[-1] == "invoke thumbnail-index"
    log = tmp_path / "demo.log"
    log.write_text(done.stdout)
    steps = first_run.demo_steps(log, 0)
    assert set(steps) == {"build", "plans and checks", "invokes", "other"}
    assert len(first_run.STEP_LINE.findall(done.stdout)) == len(ran) - 1  # every step but the background fetch


def test_the_first_run_report_marks_each_goal(capsys: object) -> None:
    env = {"date": "2026-12-07T16:00:00+00:00", "cpus": 2, "load_at_start": (0.1, 0.1, 0.1)}
    summary = first_run.report({"venv": 24.0, "build": 50.0, "plans and checks": 8.0, "invokes": 45.0,
                                "other": 1.0, "total": 128.0, "rerun": 15.0}, None, env)
    assert summary["measured"] == {"demo_s": 128.0, "rerun_s": 15.0}
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "2 cores" in out and "2026-12-07" in out
    assert "fresh `make demo` (seconds)" in out and "NO" in out.split("fresh `make demo`")[1].splitlines()[0]
    assert "yes" in out.split("`make demo` again")[1].splitlines()[0]
