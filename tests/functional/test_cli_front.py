"""The command line as a new user meets it: the project is found from any directory inside it,
`--project` goes anywhere, and setup problems are one line saying what to do, never an internal error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CliRun, source_layer


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one source-only layer (builds in a second, no PyPI) and its own build cache."""
    root = tmp_path / "proj"
    source_layer(root, "tiny", {"tiny/__init__.py": "VALUE = 1\n"})
    (root / "Pulumi.yaml").write_text("name: tiny\nruntime: python\n", encoding="utf-8")
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(tmp_path / "cache"))
    return root


def test_a_command_finds_the_project_from_a_subdirectory(tiny: Path, cli: CliRun,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny / "layers" / "tiny" / "src")
    code, out, err = cli("build", "tiny")
    assert code == 0, err
    assert "1 variant(s): 1 built" in out


def test_project_is_accepted_after_the_command(tiny: Path, tmp_path: Path, cli: CliRun,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("build", "tiny", "--project", tiny)
    assert code == 0, err
    code, out, err = cli("cache", "prune", "--dry-run", "--project", tiny)
    assert code == 0, err
    code, out, err = cli("build", "tiny", "--project", tmp_path)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"layersmith: error: --project {tmp_path.resolve()} is not a layersmith project (no "
                                "Pulumi.yaml or layers/ there); pass the directory that holds Pulumi.yaml"]


def test_outside_any_project_says_so_in_one_line(tmp_path: Path, cli: CliRun,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("build")
    assert (code, out) == (2, "")
    assert err == (f"layersmith: error: not inside a layersmith project: no Pulumi.yaml in {tmp_path.resolve()} or "
                   "any parent directory; cd into the project or pass --project DIR\n")


def _read_only_run(project: Path, *argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`layersmith ARGV` in `project` bind-mounted read-only, in a user+mount namespace: the real
    EROFS a read-only checkout gives, which root (who ignores chmod) cannot get otherwise."""
    script = ('mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && cd "$1" && shift && '
              'exec "$@"')
    return subprocess.run(["unshare", "-r", "-m", "sh", "-c", script, "sh", str(project), sys.executable, "-m",
                           "layersmith", *argv], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def read_only(tmp_path: Path) -> dict[str, str]:
    """The environment for `_read_only_run`; skips where user namespaces are not allowed."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-r", "-m", "true"],
                                                         capture_output=True).returncode != 0:
        pytest.skip("unshare -r -m (user namespaces) is not available here")
    env = {k: v for k, v in os.environ.items() if k != "LAYERSMITH_CACHE_DIR"}
    return env


def test_a_read_only_project_without_a_cache_dir_says_to_set_one(tiny: Path, read_only: dict[str, str]) -> None:
    for argv in (["build", "tiny"], ["build", "--project", str(tiny)]):
        done = _read_only_run(tiny, *argv, env=read_only)
        assert (done.returncode, done.stdout) == (1, ""), done.stderr
        assert done.stderr == ("layersmith: error: .layersmith/cache: cannot write the build cache here (Read-only "
                               "file system); set LAYERSMITH_CACHE_DIR to a writable directory (e.g. "
                               "~/.cache/layersmith)\n")
    done = _read_only_run(tiny, "build", "tiny", env={**read_only, "LAYERSMITH_CACHE_DIR": str(tiny.parent / "c")})
    assert done.returncode == 0, done.stderr


@pytest.mark.network  # resolves `six` on PyPI (uv and the index's JSON API): `-m 'not network'` skips it
def test_lock_in_a_read_only_project_names_the_lock_file(tiny: Path, read_only: dict[str, str]) -> None:
    """Needs PyPI, like every real lock: the write is refused after resolving, before installing."""
    layer = tiny / "layers" / "tiny"
    (layer / "requirements.in").write_text("six\n", encoding="utf-8")
    done = _read_only_run(tiny, "lock", "tiny", env=read_only)
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    assert done.stderr == ("layersmith: error: layers/tiny/requirements.txt: cannot write the lock file here (its "
                           "directory is not writable); make its directory writable (or lock in a writable "
                           "checkout) and run lock again\n")
    assert sorted(p.name for p in layer.iterdir()) == ["layer.toml", "requirements.in", "src"]


@pytest.mark.parametrize("argv", [["inventory"], ["prune", "--keep", "2"], ["promote", "tiny", "--to", "prod"],
                                  ["check", "--stack", "prod", "--online", "--no-policy"],
                                  ["plan", "--stack", "prod", "--online"]])
def test_aws_setup_problems_are_one_line_for_every_command_that_opens_a_session(
        argv: list[str], tiny: Path, tmp_path: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    (tiny / "Pulumi.prod.yaml").write_text("config:\n  aws:region: eu-west-1\n  layersmith:publish: [tiny]\n",
                                           encoding="utf-8")
    (tiny / "__main__.py").write_text("from pathlib import Path\nfrom layersmith.infra.program import main\n"
                                      "main(Path(__file__).resolve().parent)\n", encoding="utf-8")
    config = tmp_path / "aws-config"
    config.write_text("[profile real]\nregion = eu-west-1\n", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "nonexistent")
    code, _, err = cli("--project", tiny, *argv)
    assert (code, err) == (1, "layersmith: error: AWS profile 'nonexistent' (AWS_PROFILE) is not in your AWS config "
                              "files; fix the name or run `aws configure --profile nonexistent`\n")
    monkeypatch.delenv("AWS_PROFILE")
    config.write_text("[profile real\nregion = eu-west-1\n", encoding="utf-8")
    code, _, err = cli("--project", tiny, *argv)
    assert (code, err) == (1, f"layersmith: error: cannot parse the AWS config file {config}; fix its syntax (INI: "
                              "[profile name] sections of key = value lines) or point AWS_CONFIG_FILE at a valid "
                              "one\n")


@pytest.mark.parametrize("command", ["plan", "check"])
def test_without_stack_the_committed_stacks_are_listed(command: str, tiny: Path, cli: CliRun) -> None:
    """argparse's "the following arguments are required: --stack" named no stack to pick."""
    code, out, err = cli(command, "--project", tiny)
    assert (code, out) == (2, "")
    assert err.strip() == ("layersmith: error: --stack: which stack? the project has no Pulumi.<stack>.yaml yet: "
                           "create one with a `config:` map setting aws:region and layersmith:publish")
    for stack in ("prod", "dev"):
        (tiny / f"Pulumi.{stack}.yaml").write_text("config:\n  aws:region: eu-west-1\n", encoding="utf-8")
    code, out, err = cli(command, "--project", tiny)
    assert (code, out) == (2, "")
    assert err.strip() == (f"layersmith: error: --stack: which stack? committed stacks: dev, prod "
                           f"(e.g. `layersmith {command} --stack dev`)")
