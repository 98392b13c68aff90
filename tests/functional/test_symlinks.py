"""Symlinks in what a layer or function ships (issue 22, defect 7).

A zip holds files, so a link is shipped as a copy of what it points at, but only when that is
inside the layer's source (or the function's directory). A link that leaves it, dangles, or points
at a directory containing it is refused in one line naming the link: following it shipped the build
host's `/etc/passwd` in every variant of utils.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import CliRun
from fakes import FakeInstaller
from helpers import write_layer

from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.builder.function_zip import package_function
from layersmith.errors import SpecError
from layersmith.model import FunctionSpec, expand_variants
from layersmith.project.specs import load_layer

REPO = Path(__file__).resolve().parents[2]


def _utils_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(REPO / "layers" / "utils", root / "layers" / "utils")
    (root / "Pulumi.yaml").write_text("name: links\nruntime: python\n", encoding="utf-8")
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(root)
    return root


def test_a_link_out_of_the_layers_source_is_refused_in_one_line(tmp_path: Path, cli: CliRun,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's reproduction: `ln -s /etc/passwd layers/utils/src/shared_utils/passwd`, then build."""
    root = _utils_project(tmp_path, monkeypatch)
    os.symlink("/etc/passwd", root / "layers/utils/src/shared_utils/passwd")
    code, out, err = cli("build", "utils")
    assert code == 2 and out == ""
    assert "Traceback" not in err and err.splitlines()[1:] == [  # after the "[1/1] utils any" progress line
        "layersmith: error: layers/utils/src/shared_utils/passwd: a symlink to /etc/passwd, outside the layer's "
        "source (layers/utils/src): only what is inside it ships; copy the file in, or remove the link"]
    assert not (tmp_path / "cache" / "utils").exists()  # nothing built


def _build(project: Path, source: dict[str, str], links: dict[str, str]) -> zipfile.ZipFile:
    directory = write_layer(project, "linked", source=source)
    for rel, target in links.items():
        os.symlink(target, directory / "src" / rel)
    spec = load_layer(directory)
    [variant] = expand_variants(spec)
    result = Builder(FakeInstaller(compiles=False), BuildCache(project.parent / "cache")).build(spec, variant)
    return zipfile.ZipFile(result.zip_path)


def test_links_inside_the_source_ship_as_copies_of_their_targets(project: Path) -> None:
    zf = _build(project, {"pkg/__init__.py": "", "pkg/real.py": "VALUE = 1\n", "shared/data.txt": "data\n"},
                {"pkg/alias.py": "real.py", "pkg/shared": "../shared"})
    names = zf.namelist()
    assert zf.read("python/pkg/alias.py") == zf.read("python/pkg/real.py") == b"VALUE = 1\n"
    assert zf.read("python/pkg/shared/data.txt") == zf.read("python/shared/data.txt")
    assert all((i.external_attr >> 16) & 0o170000 == 0o100000 for i in zf.infolist()), names  # files, no links


@pytest.mark.parametrize(("link", "target", "says"), [
    ("pkg/passwd", "/etc/passwd", "outside the layer's source"),
    ("pkg/up.py", "../../outside.py", "outside the layer's source"),
    ("pkg/etc", "/etc", "outside the layer's source"),
    ("pkg/gone.py", "nowhere.py", "which does not exist"),
    ("pkg/loop", "..", "a directory that contains it"),
])
def test_links_that_leave_dangle_or_loop_are_refused(project: Path, link: str, target: str, says: str) -> None:
    (project / "layers" / "outside.py").parent.mkdir(parents=True, exist_ok=True)
    (project / "layers" / "outside.py").write_text("SECRET = 1\n", encoding="utf-8")
    with pytest.raises(SpecError) as refused:
        _build(project, {"pkg/__init__.py": ""}, {link: target})
    line = str(refused.value)
    assert "\n" not in line and line.startswith(f"{project}/layers/linked/src/{link}: a symlink to {target}, ")
    assert says in line


def test_a_hidden_link_is_skipped_before_it_is_judged(project: Path) -> None:
    """An editor's lock file (`.#mod.py -> user@host.1234`) dangles; hidden files never ship anyway."""
    zf = _build(project, {"pkg/__init__.py": ""}, {"pkg/.#mod.py": "user@host.1234"})
    assert "python/pkg/__init__.py" in zf.namelist()


def _function(tmp_path: Path) -> FunctionSpec:
    fn_dir = tmp_path / "functions" / "fn"
    fn_dir.mkdir(parents=True)
    (fn_dir / "handler.py").write_text("def handler(event, context):\n    return 1\n", encoding="utf-8")
    return FunctionSpec(name="fn", directory=fn_dir, handler="handler.handler", runtime="python3.11",
                        architecture="x86_64", layers=(), memory=128, timeout=3)


def test_a_functions_links_follow_the_same_rules(tmp_path: Path) -> None:
    fn = _function(tmp_path)
    os.symlink("handler.py", fn.directory / "alias.py")
    with zipfile.ZipFile(package_function(fn, tmp_path / "cache").zip_path) as zf:
        assert zf.read("alias.py") == zf.read("handler.py")
    os.symlink("/etc/passwd", fn.directory / "passwd")
    with pytest.raises(SpecError, match="a symlink to /etc/passwd, outside the function's directory"):
        package_function(fn, tmp_path / "cache")


class _LinkingInstaller(FakeInstaller):
    """An installer whose output holds a link out of the build (no wheel can, but the stage is checked too)."""

    def install(self, lock: Path, target: Path, runtime: object, arch: str) -> None:  # type: ignore[override]
        super().install(lock, target, runtime, arch)  # type: ignore[arg-type]
        os.symlink("/etc/passwd", target / "alpha" / "passwd")


def test_a_link_out_of_the_installed_packages_is_refused(project: Path) -> None:
    spec = load_layer(write_layer(project, "pkgs", pins=("alpha==1.0",)))
    [variant] = expand_variants(spec)
    with pytest.raises(SpecError, match="passwd: a symlink to /etc/passwd, outside"):
        Builder(_LinkingInstaller(), BuildCache(project.parent / "cache")).build(spec, variant)
