"""Setup problems of this machine (an unwritable build cache, lock file or uv cache, a broken AWS
config) are `EnvironmentProblem`s in one line saying what to do, never internal errors; writes stay
atomic. Real read-only mounts are exercised in tests/functional/test_cli_front.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from helpers import lock_text

from layersmith.aws.sessions import make_session
from layersmith.builder.factory import cache_root
from layersmith.builder.install import explain_uv_failure
from layersmith.builder.locking import LockRequest, lock_layer
from layersmith.errors import EnvironmentProblem
from layersmith.runner import Completed
from layersmith.runtimes.supported import RUNTIMES

UV_NO_CACHE = ("error: Failed to initialize cache at `/home/u/.cache/uv`\n"
               "  Caused by: failed to create directory `/home/u/.cache/uv`: Read-only file system (os error 30)\n")


def test_a_cache_dir_that_cannot_be_created_says_to_set_layersmith_cache_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAYERSMITH_CACHE_DIR", raising=False)
    (tmp_path / ".layersmith").write_text("a file where the cache's parent should be", encoding="utf-8")
    with pytest.raises(EnvironmentProblem) as caught:
        cache_root(tmp_path)
    assert caught.value.exit_code == 1
    assert caught.value.render() == (f"{tmp_path / '.layersmith' / 'cache'}: cannot write the build cache here (Not "
                                     "a directory); set LAYERSMITH_CACHE_DIR to a writable directory (e.g. "
                                     "~/.cache/layersmith)")
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(tmp_path / ".layersmith" / "elsewhere"))
    with pytest.raises(EnvironmentProblem, match=r"build cache \(LAYERSMITH_CACHE_DIR\) here .*; point "
                                                 r"LAYERSMITH_CACHE_DIR at a writable directory$"):
        cache_root(tmp_path)


def test_a_writable_cache_dir_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAYERSMITH_CACHE_DIR", raising=False)
    assert cache_root(tmp_path) == tmp_path / ".layersmith" / "cache"
    assert (tmp_path / ".layersmith" / "cache").is_dir()


def test_uv_without_a_writable_cache_is_a_setup_problem_not_a_failed_resolve() -> None:
    problem = explain_uv_failure(UV_NO_CACHE, RUNTIMES["python3.11"], "x86_64", Path("requirements.txt"))
    assert isinstance(problem, EnvironmentProblem)
    assert problem.render() == ("uv cannot create its cache at /home/u/.cache/uv (read-only or not yours); set "
                                "UV_CACHE_DIR to a writable directory and retry")


class _Uv:
    """`uv pip compile` answered from a script: writes `lock` to the `-o` file, or fails with `stderr`."""

    def __init__(self, lock: str = "", stderr: str = "") -> None:
        self.lock, self.stderr = lock, stderr

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        if self.stderr:
            return Completed(tuple(argv), 2, "", self.stderr)
        Path(argv[list(argv).index("-o") + 1]).write_text(self.lock, encoding="utf-8")
        return Completed(tuple(argv), 0, "", "")


class _NoIndex:
    def files(self, name: str) -> dict[str, list[str]]:
        return {}


def _request(tmp_path: Path, dest: Path) -> LockRequest:
    source = tmp_path / "requirements.in"
    source.write_text("six\n", encoding="utf-8")
    return LockRequest("x", source, dest, ((RUNTIMES["python3.11"], "x86_64"),))


def test_lock_with_uv_lacking_its_cache_says_uv_cache_dir(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="set UV_CACHE_DIR to a writable directory"):
        lock_layer(_Uv(stderr=UV_NO_CACHE), _request(tmp_path, tmp_path / "requirements.txt"), _NoIndex())


def test_a_lock_file_that_cannot_be_written_is_named_and_nothing_is_left_behind(tmp_path: Path) -> None:
    dest = tmp_path / "requirements.txt"
    (dest / "occupied").mkdir(parents=True)  # a non-empty directory where the lock goes: the rename fails
    with pytest.raises(EnvironmentProblem) as caught:
        lock_layer(_Uv(lock=lock_text("six==1.17.0")), _request(tmp_path, dest), _NoIndex())
    assert caught.value.render().startswith(f"{dest}: cannot write the lock file here (")
    assert caught.value.render().endswith("); make its directory writable (or lock in a writable checkout) and "
                                          "run lock again")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requirements.in", "requirements.txt"]


def test_an_aws_config_file_that_does_not_parse_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text("[default\nregion = eu-west-1\n", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with pytest.raises(EnvironmentProblem) as caught:
        make_session()
    assert caught.value.render() == (f"cannot parse the AWS config file {config}; fix its syntax (INI: [profile name] "
                                     "sections of key = value lines) or point AWS_CONFIG_FILE at a valid one")
