"""Fixtures for the `layersmith invoke` / `layersmith check` tests: one build cache per session.

Every real layer variant these tests need is built once per session into a private
`LAYERSMITH_CACHE_DIR` (the repo's data-science py311-x86_64 variant is the slow one, ~20 s cold);
tmp projects that copy a repo layer hit the same cache entry, because the cache key is the
layer's name and contents, not its path.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import REPO, build_every_repo_variant

from layersmith.cli import main
from layersmith.model import BuildResult

CliRun = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="session")
def lambda_cache(repo_build_cache: Path) -> Path:
    """The session's build cache (`invoke` puts its scratch dirs inside it, in `.invoke/`)."""
    return repo_build_cache


@pytest.fixture(scope="session")
def repo_builds(lambda_cache: Path) -> dict[tuple[str, str], BuildResult]:
    """Every variant of the repo's layers, really built (uv + PyPI) once per session, in parallel:
    {(layer, variant key): result}. All of them, because `check` plans the committed stacks with the
    real program, which builds every variant it publishes. (Under xdist, `repo_build_cache` already
    built them: these are cache hits.)"""
    results = build_every_repo_variant(lambda_cache)
    return {(r.variant.layer, r.variant.key): r for r in results}


@pytest.fixture
def use_cache(monkeypatch: pytest.MonkeyPatch, lambda_cache: Path) -> Path:
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(lambda_cache))
    return lambda_cache


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRun:
    """`layersmith ARGS…` in-process: (exit code, stdout, stderr)."""

    def run(*argv: str | Path) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def write_function(project: Path, name: str, code: str | dict[str, str], *, layers: list[str],
                   runtime: str = "python3.11", architecture: str = "x86_64", handler: str = "handler.handler",
                   timeout: int = 10, environment: dict[str, str] | None = None,
                   event: object | None = None) -> Path:
    """`functions/<name>/` with function.toml and its code (`handler.py`, or several files)."""
    directory = project / "functions" / name
    directory.mkdir(parents=True, exist_ok=True)
    files = {"handler.py": code} if isinstance(code, str) else code
    for rel, text in files.items():
        (directory / rel).write_text(text, encoding="utf-8")
    toml = [f'handler = "{handler}"', f'runtime = "{runtime}"', f'architecture = "{architecture}"',
            "layers = [" + ", ".join(f'"{x}"' for x in layers) + "]", f"timeout = {timeout}"]
    if environment:
        toml.append("[environment]")
        toml += [f'{k} = "{v}"' for k, v in environment.items()]
    (directory / "function.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")
    if event is not None:
        (directory / "event.json").write_text(json.dumps(event), encoding="utf-8")
    return directory


def source_layer(project: Path, name: str, files: dict[str, str], *, portable: bool = True,
                 runtimes: tuple[str, ...] = ("python3.11",), architectures: tuple[str, ...] = ("x86_64",),
                 lock: str | None = None) -> Path:
    """A layer from a `src/` dir only (fast, no PyPI), or with a real hashed lock when `lock` is given."""
    directory = project / "layers" / name
    (directory / "src").mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = directory / "src" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    toml = [f'description = "test layer {name}"', "runtimes = [" + ", ".join(f'"{r}"' for r in runtimes) + "]",
            "architectures = [" + ", ".join(f'"{a}"' for a in architectures) + "]",
            f"portable = {'true' if portable else 'false'}", 'source = "src"']
    if lock is not None:
        (directory / "requirements.txt").write_text(lock, encoding="utf-8")
        toml.append('requirements = "requirements.txt"')
    (directory / "layer.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")
    return directory


def copy_repo_layer(project: Path, name: str) -> None:
    shutil.copytree(REPO / "layers" / name, project / "layers" / name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


# What each test reported executing, gathered from the test reports: under pytest-xdist the tests run
# in worker processes and only their reports (with `user_properties`) reach the process that prints.
REPORTED: set[str] = set()


@pytest.fixture(autouse=True)
def _executed_into_the_report(request: pytest.FixtureRequest) -> Iterator[None]:
    module = sys.modules.get("test_variants_execute")
    before = len(getattr(module, "EXECUTED", []))
    yield
    for line in getattr(module, "EXECUTED", [])[before:]:
        request.node.user_properties.append(("executed", line))  # carried by the teardown report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "teardown":
        REPORTED.update(str(value) for key, value in report.user_properties if key == "executed")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Which interpreter executed each layer variant (the ones it could not are in the skip summary)."""
    if REPORTED:
        terminalreporter.section("layer variants executed")
        for line in sorted(REPORTED):
            terminalreporter.write_line(line)
