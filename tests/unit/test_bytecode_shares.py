"""Bytecode compiled on every core: equal-bytes shares, same pycs as one compileall, errors reported."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedRunner

from layersmith.builder.install import compile_balanced, compile_with, shares
from layersmith.errors import BuildError
from layersmith.runner import Completed, SubprocessRunner
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
    assert argv[:4] == ("/usr/bin/python3.11", "-S", "-m", "compileall")  # no `site`: 40-80 ms per process
    assert argv[argv.index("-s") + 1] == str(tmp_path / "t") and argv[argv.index("-p") + 1] == "/opt"


def test_one_compileall_is_given_the_py_files_not_the_directory(tmp_path: Path) -> None:
    """compileall visits every file of a directory it walks: a one-package rebuild of pytz (6 modules among
    600 zoneinfo files) spent half its compile there. The list holds exactly the tree's `.py` files."""
    root = tree(tmp_path / "t")
    (root / "python" / "pkg0" / "zone.dat").write_bytes(b"TZif")
    listed: list[str] = []

    class Reading(ScriptedRunner):
        def run(self, argv: Sequence[str], **kw: Any) -> Completed:
            listed.extend(Path(argv[argv.index("-i") + 1]).read_text().splitlines())
            return super().run(argv, **kw)

    runner = Reading()
    compile_balanced(runner, ["/usr/bin/python3.11"], root, HERE, workers=2)
    [argv] = runner.argvs
    assert argv[-2] == "-i"  # the list is the last argument: no directory to walk
    assert sorted(listed) == sorted(str(p) for p in root.rglob("*.py")) and len(listed) == 12


def test_a_tree_without_python_files_runs_no_compileall(tmp_path: Path) -> None:
    """compileall given an empty `-i` list and no directory compiles its own sys.path instead (CPython's
    compileall.main: no destination means `compile_path()`), writing pycs into the interpreter's stdlib."""
    runner = ScriptedRunner()
    (tmp_path / "data.txt").write_text("no modules here")
    tag = f"cpython-{HERE.version[0]}{HERE.version[1]}"
    assert compile_balanced(runner, ["/usr/bin/python3.11"], tmp_path, HERE, workers=2) == tag
    assert runner.argvs == []


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


def tricky_tree(root: Path) -> Path:
    """Modules whose pycs could differ between processes if marshal depended on the process: set constants
    (ordered by string hashes, which differ per process), one-character and other non-identifier strings
    (shared, and maybe interned, by the whole process), names this process has loaded elsewhere, nested
    code, a SyntaxWarning, an executable file."""
    pkg = root / "python" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""The package."""\nimport os\nfrom pathlib import Path\n')
    (pkg / "sets.py").write_text("def f(x):\n    return x in {'alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta'}\n"
                                 "NAMES = frozenset(('a b', 'c-d', 'e.f'))\nBIG = 2 ** 70\nF = 1.5\n")
    (pkg / "cli.py").write_text("def flag(name):\n    return '--' + name.replace('_', '-').strip(' ') + ':' + ','\n")
    (pkg / "nested.py").write_text("class A:\n    def m(self):\n        def inner(y=(1, 2)):\n"
                                   "            return lambda z: (y, z, 'not an identifier!')\n        return inner\n")
    (pkg / "warns.py").write_text("PATTERN = '\\\\d+'\nOOPS = '\\d'\n")  # '\d': an invalid escape warning
    (pkg / "tool.py").write_text("print('hi')\n")
    (pkg / "tool.py").chmod(0o755)
    return root


def test_the_pycs_do_not_depend_on_the_process_that_builds(tmp_path: Path) -> None:
    """Issue 25 tried compiling a one-package rebuild's few modules in layersmith's own process: marshal
    writes a string flagged "interned" when the process has interned it, and one-character strings are
    shared by the whole process, so a process that had interned "-" (this pytest run had) wrote another
    tqdm cli.pyc than a fresh one. Compiling stays in fresh `compileall` processes, whatever this one holds."""
    for char in "-_.,: ":
        sys.intern(char)
    fresh, here = tricky_tree(tmp_path / "fresh"), tricky_tree(tmp_path / "here")
    compile_with(SubprocessRunner(), [sys.executable], fresh, HERE)
    compile_balanced(SubprocessRunner(), [sys.executable], here, HERE, workers=2)
    got = pycs(here)
    assert len(got) == 6 and got == pycs(fresh)
