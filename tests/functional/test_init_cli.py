"""`layersmith init layer|function` through the CLI, in a tmp project: what it writes passes
`layersmith check` (with the policy pack) as written and once a stack deploys it; it refuses to
overwrite and bad names, in one line, writing nothing.

The scaffolded layer is source-only, so `check` builds it for real without PyPI, into a build
cache of this module's own (no dependency on the repo's session builds)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CliRun
from helpers import REPO


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_stack(root: Path, deploy: list[str]) -> None:
    config = {"aws:region": "eu-west-1", "layersmith:deploy": deploy}
    (root / "Pulumi.dev.yaml").write_text(json.dumps({"config": config}, indent=2), encoding="utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("init") / "project"
    root.mkdir()
    (root / "Pulumi.yaml").write_text("name: scaffolds\nruntime: python\n", encoding="utf-8")
    shutil.copy(REPO / "__main__.py", root / "__main__.py")  # the policy pack runs the real program
    shutil.copytree(REPO / "policies" / "config", root / "policies" / "config")
    write_stack(root, [])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYERSMITH_CACHE_DIR", str(tmp_path_factory.mktemp("init-cache")))
        yield root


def one_line_error(cli: CliRun, *argv: str | Path) -> str:
    code, out, err = cli(*argv)
    assert (code, out) == (2, "") and "Traceback" not in err, err
    [line] = err.splitlines()
    return line


def test_scaffolds_pass_check_as_written_and_once_deployed(project: Path, cli: CliRun) -> None:
    code, out, err = cli("--project", project, "init", "layer", "greet-tools", "--runtime", "python3.11",
                         "python3.12", "--arch", "x86_64")
    assert code == 0, err
    assert out.splitlines()[0] == ("created layers/greet-tools/ : layer.toml, requirements.in, "
                                   "src/greet_tools/__init__.py, src/greet_tools/py.typed")
    code, out, err = cli("init", "function", "hello", "--layers", "greet-tools", "--project", project)
    assert code == 0, err
    assert "add hello to `layersmith:deploy`" in out and "next steps:" in out
    assert 'runtime = "python3.12"' in (project / "functions/hello/function.toml").read_text()

    code, out, err = cli("--project", project, "check", "--stack", "dev", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"], (out, err)
    assert [f for f in report["findings"] if f["level"] in ("error", "warning")] == []

    write_stack(project, ["hello"])  # the next step init printed: the stack now builds and attaches the layer
    code, out, err = cli("--project", project, "check", "--stack", "dev", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"], (out, err)
    [fn] = report["functions"]
    assert (fn["name"], fn["runtime"], fn["architecture"], fn["layers"]) == ("hello", "python3.12", "x86_64", 1)
    assert [f for f in report["findings"] if f["level"] == "error"] == []
    # advisory only, and each a decision for the team (which signing config, what concurrency share)
    assert sorted(f["check"] for f in report["findings"] if f["level"] == "warning") == [
        "policy:function-code-signing", "policy:function-observability"]


def test_init_never_overwrites_and_writes_nothing(project: Path, cli: CliRun) -> None:
    assert cli("--project", project, "init", "layer", "base", "--runtime", "python3.11")[0] == 0
    (project / "layers" / "mine").mkdir(parents=True, exist_ok=True)
    (project / "layers" / "mine" / "notes.txt").write_text("keep me\n")
    (project / "functions").mkdir(exist_ok=True)
    (project / "functions" / "taken").write_text("a file where the directory would go\n")
    before = files(project)
    line = one_line_error(cli, "--project", project, "init", "layer", "mine")
    assert line.endswith("layers/mine: already exists; layersmith init never overwrites: pick another name "
                         "or remove it")
    assert one_line_error(cli, "--project", project, "init", "function", "taken", "--layers", "base").endswith(
        "functions/taken: already exists; layersmith init never overwrites: pick another name or remove it")
    assert one_line_error(cli, "--project", project, "init", "layer", "base").endswith("layers/base: already exists; "
                                                                                      "layersmith init never "
                                                                                      "overwrites: pick another "
                                                                                      "name or remove it")
    assert files(project) == before


@pytest.mark.parametrize(("argv", "says"), [
    (["layer", "bad.name"], "layers/bad.name: name 'bad.name' must be 1-48 letters, digits, '-' or '_'"),
    (["layer", "_private"], "layers/_private: name '_private' starts with '_'"),
    (["layer", "x" * 49], "must be 1-48 letters"),
    (["layer", "ok", "--runtime", "python2.7"], "--runtime: unknown runtime 'python2.7'; use one of python3.11"),
    (["layer", "ok", "--arch", "amd64"], "--arch: unknown architecture 'amd64'; use one of x86_64, arm64"),
    (["function", "fn", "--layers", "nope"], "no layer 'nope'; the project has "),
])
def test_bad_input_is_one_line_and_writes_nothing(project: Path, cli: CliRun, argv: list[str], says: str) -> None:
    before = files(project)
    line = one_line_error(cli, "--project", project, "init", *argv)
    assert line.startswith("layersmith: error: ") and says in line
    assert files(project) == before
