"""Bytecode compiled on every core: equal-bytes shares, same pycs as one compileall, errors reported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fakes import ScriptedRunner

from layersmith.builder.install import compile_balanced, compile_with, shares
from layersmith.errors import BuildError
from layersmith.runner import SubprocessRunner
from layersmith.runtimes.supported import RUNTIMES

HERE = RUNTIMES[f"python3.{sys.version_info[1]}"]


def test_shares_balance_bytes_not_file_counts() -> None:
    files = [(900, "big.py"), *((100, f"small{i}.py") for i in range(9))]
    split = shares(files, 2)
    sizes = dict((p, s) for s, p in files)
    assert [sum(sizes[p] for p in share) for share in split] == [900, 900]
    assert split[0] == ["big.py"]


def test_shares_never_returns_an_empty_share() -> None:
    assert shares([(5, "only.py")], 4) == [["only.py"]]


def tree(root: Path) -> Path:
    for i in range(12):
        pkg = root / "python" / f"pkg{i % 3}"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / f"mod{i}.py").write_text(f"VALUE = {i}\n" + "def f(x):\n    return x + 1\n" * (i * 40))
    return root


def pycs(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.pyc"))}


def test_split_compile_writes_the_same_pycs_as_one_compileall(tmp_path: Path) -> None:
    one, split = tree(tmp_path / "one"), tree(tmp_path / "split")
    compile_with(SubprocessRunner(), [sys.executable], one, HERE)
    compile_balanced(SubprocessRunner(), [sys.executable], split, HERE, workers=3, split_bytes=0)
    got = pycs(split)
    assert len(got) == 12 and got == pycs(one)


def test_split_compile_runs_one_command_with_a_share_per_worker(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    compile_balanced(runner, ["/usr/bin/python3.11"], tree(tmp_path / "t"), HERE, workers=2, split_bytes=0)
    [argv] = runner.argvs  # one command: an interrupt kills its whole process group
    lists = [Path(a) for a in argv if a.endswith(".txt")]
    assert argv[:3] == ("/usr/bin/python3.11", "-S", "-c") and len(lists) == 2


def test_small_trees_compile_in_one_process(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    compile_balanced(runner, ["/usr/bin/python3.11"], tree(tmp_path / "t"), HERE, workers=2)
    [argv] = runner.argvs
    assert "-i" not in argv and argv[-1] == str(tmp_path / "t")
    assert argv[:4] == ("/usr/bin/python3.11", "-S", "-m", "compileall")  # no `site`: 40-80 ms per process


def test_compiling_without_site_writes_the_same_pycs_in_one_process_too(tmp_path: Path) -> None:
    """The split path is compared above; this is the one-process path a one-package rebuild takes."""
    one, small = tree(tmp_path / "one"), tree(tmp_path / "small")
    compile_with(SubprocessRunner(), [sys.executable], one, HERE)  # with `site`
    compile_balanced(SubprocessRunner(), [sys.executable], small, HERE, workers=2)
    got = pycs(small)
    assert len(got) == 12 and got == pycs(one)


def test_a_syntax_error_in_one_share_fails_the_build(tmp_path: Path) -> None:
    root = tree(tmp_path / "t")
    (root / "python" / "bad.py").write_text("def broken(:\n")
    with pytest.raises(BuildError, match="compiling bytecode for python3"):
        compile_balanced(SubprocessRunner(), [sys.executable], root, HERE, workers=2, split_bytes=0)
