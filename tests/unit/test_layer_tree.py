"""`invoke`'s /opt, extracted once per combination of layer builds and reused (issue 25): reused only
while every file is what the zips hold. Fault injection on every file the tree persists (each
extracted file and the manifest): a damaged tree is extracted again, never run."""

from __future__ import annotations

import os
import stat
import threading
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from layersmith.errors import EnvironmentProblem
from layersmith.local import layer_tree as lt
from layersmith.local.layer_tree import MANIFEST, layer_tree


def attached(tmp_path: Path, name: str, files: dict[str, bytes], sha: str) -> Any:
    """What `invoke` gets for a layer with a local build: its zip and that zip's hash."""
    path = tmp_path / "zips" / f"{name}-{sha}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in files.items():
            info = zipfile.ZipInfo(rel)
            info.external_attr = (0o755 if rel.endswith(".so") else 0o644) << 16
            zf.writestr(info, data)
    return SimpleNamespace(name=name, pin="latest", build=SimpleNamespace(zip_path=path, sha256=sha))


@pytest.fixture
def layers(tmp_path: Path) -> list[Any]:
    base = attached(tmp_path, "base", {"python/base.py": b"x = 1\n" * 50, "python/shared.py": b"base\n",
                                       "lib/libfast.so": b"\x7fELF" + bytes(300)}, "a" * 64)
    top = attached(tmp_path, "top", {"python/shared.py": b"top wins\n", "python/pkg/__init__.py": b""}, "b" * 64)
    arn = SimpleNamespace(name="theirs", pin=3, build=None)
    return [base, arn, top]


def contents(opt: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(opt)): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
            for p in sorted(opt.rglob("*")) if p.is_file()}


EXPECTED = {"python/base.py": (b"x = 1\n" * 50, 0o444), "python/shared.py": (b"top wins\n", 0o444),
            "lib/libfast.so": (b"\x7fELF" + bytes(300), 0o555), "python/pkg/__init__.py": (b"", 0o444)}


def test_the_tree_is_lambda_s_opt_read_only_and_reused(tmp_path: Path, layers: list[Any]) -> None:
    root = tmp_path / "trees"
    opt = layer_tree(layers, root)
    assert contents(opt) == EXPECTED  # later over earlier; modes as the zip says, without write bits
    assert not os.stat(opt).st_mode & stat.S_IWUSR
    inode = (opt / "python" / "base.py").stat().st_ino
    assert layer_tree(layers, root) == opt and (opt / "python" / "base.py").stat().st_ino == inode  # not rewritten
    assert sorted(p.name for p in root.iterdir()) == [opt.parent.name]  # no scratch left behind


def test_another_order_or_another_build_is_another_tree(tmp_path: Path, layers: list[Any]) -> None:
    root = tmp_path / "trees"
    first = layer_tree(layers, root)
    swapped = layer_tree([layers[2], layers[0]], root)
    assert swapped != first and contents(swapped)["python/shared.py"][0] == b"base\n"
    rebuilt = attached(tmp_path, "top", {"python/shared.py": b"top v2\n"}, "c" * 64)
    assert contents(layer_tree([layers[0], rebuilt], root))["python/shared.py"][0] == b"top v2\n"


def _flip_keeping_mtime(path: Path) -> None:
    before = path.stat()
    data = bytearray(path.read_bytes() or b"\0")  # an empty file gets a byte
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _inject(path: Path, fault: str) -> None:
    os.chmod(path.parent, 0o755)  # root ignores modes anyway; a user's tool might not
    if fault == "flip":
        _flip_keeping_mtime(path)
    elif fault == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif fault == "delete":
        path.unlink()
    elif fault == "directory":
        path.unlink()
        path.mkdir()
    elif fault == "writable":
        path.chmod(0o644 | stat.S_IWUSR | stat.S_IWGRP)
    elif fault == "extra":
        (path.parent / "stray.py").write_bytes(b"import os\n")


FAULTS = ("flip", "truncate", "delete", "directory", "writable", "extra")
# Every file the tree persists × every fault (an empty file cannot be truncated).
CASES = [(victim, fault) for victim in [*EXPECTED, MANIFEST] for fault in FAULTS
         if not (fault == "truncate" and victim in EXPECTED and not EXPECTED[victim][0])]


@pytest.mark.parametrize(("victim", "fault"), CASES)
def test_a_damaged_tree_is_extracted_again(tmp_path: Path, layers: list[Any], victim: str, fault: str) -> None:
    root = tmp_path / "trees"
    opt = layer_tree(layers, root)
    if victim == MANIFEST and fault == "flip":
        (opt.parent / MANIFEST).write_text("{not json")
    else:
        _inject(opt.parent / MANIFEST if victim == MANIFEST else opt / victim, fault)
    again = layer_tree(layers, root)
    assert contents(again) == EXPECTED
    assert sorted(p.name for p in root.iterdir()) == [again.parent.name]


def test_only_the_most_recently_used_trees_are_kept(tmp_path: Path, layers: list[Any]) -> None:
    root = tmp_path / "trees"
    trees = []
    for i in range(lt.KEEP + 2):
        one = attached(tmp_path, f"l{i}", {"python/m.py": f"v = {i}\n".encode()}, f"{i:064x}")
        trees.append(layer_tree([one], root))
        os.utime(trees[-1].parent / MANIFEST, (1_000 + i, 1_000 + i))  # distinct use times
    first = attached(tmp_path, "l0", {"python/m.py": b"v = 0\n"}, f"{0:064x}")
    assert layer_tree([first], root) == trees[0]  # re-made (it was evicted), and now the newest
    kept = {p.name for p in root.iterdir()}
    assert len(kept) == lt.KEEP and trees[0].parent.name in kept and trees[-1].parent.name in kept
    assert trees[1].parent.name not in kept  # the least recently used went first


def test_invokes_racing_for_the_same_tree_all_get_it_whole(tmp_path: Path, layers: list[Any]) -> None:
    root = tmp_path / "trees"
    start, got, failed = threading.Barrier(4), [], []

    def one() -> None:
        start.wait()
        try:
            got.append(layer_tree(layers, root))
        except Exception as exc:  # reported below
            failed.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failed == [] and len(set(got)) == 1 and contents(got[0]) == EXPECTED
    assert sorted(p.name for p in root.iterdir()) == [got[0].parent.name]


def test_a_tree_that_cannot_be_written_is_the_machine_s_problem_in_one_line(tmp_path: Path,
                                                                          layers: list[Any]) -> None:
    # A file where the scratch directory must go stands for a full disk or another user's cache:
    # mkdtemp and the writes fail with OSError, which is said as an environment problem, not a crash.
    root = tmp_path / "trees"
    root.write_text("not a directory")
    with pytest.raises(EnvironmentProblem) as refused:
        layer_tree(layers, root)
    assert "\n" not in refused.value.render() and "LAYERSMITH_CACHE_DIR" in refused.value.render()
