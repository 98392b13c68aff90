"""`layersmith init`'s scaffolds (project/scaffold.py, pure) and their writer (commands/init.py):
what they return parses with the spec parsers as written, names and targets are checked as the
parsers check them, and the writer never overwrites and leaves nothing behind when it fails."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from layersmith.commands.init import write_scaffold
from layersmith.errors import LayersmithError, UserError
from layersmith.model import LayerSpec
from layersmith.project.scaffold import (
    Scaffold,
    default_runtime,
    function_scaffold,
    layer_defaults,
    layer_scaffold,
    offered,
    package_name,
)
from layersmith.project.specs import load_function, load_layer

TODAY = dt.date(2026, 12, 7)  # python3.9 and python3.10 are deprecated by then, python3.11+ are not


def materialize(root: Path, scaffold: Scaffold) -> Path:
    return write_scaffold(root, scaffold)


def layer(root: Path, name: str, runtimes: list[str], archs: list[str]) -> LayerSpec:
    return load_layer(materialize(root, layer_scaffold(name, TODAY, runtimes, archs)))


def test_offered_runtimes_leave_out_the_deprecated_and_default_to_the_newest() -> None:
    assert offered(TODAY) == ("python3.11", "python3.12", "python3.13", "python3.14")
    assert default_runtime(TODAY) == "python3.14"


def test_a_layer_scaffold_loads_as_written(tmp_path: Path) -> None:
    spec = layer(tmp_path, "greet-tools", ["python3.11", "python3.12"], ["x86_64", "arm64"])
    assert (spec.name, spec.runtimes, spec.architectures) == ("greet-tools", ("python3.11", "python3.12"),
                                                               ("x86_64", "arm64"))
    assert spec.portable and spec.requirements is None and spec.license and spec.description
    assert spec.source == (tmp_path / "layers/greet-tools/src").resolve()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "layers").rglob("*") if p.is_file()) == [
        "layers/greet-tools/layer.toml", "layers/greet-tools/requirements.in",
        "layers/greet-tools/src/greet_tools/__init__.py", "layers/greet-tools/src/greet_tools/py.typed"]
    # the package imports and does what its docstring says
    namespace: dict[str, object] = {}
    exec((tmp_path / "layers/greet-tools/src/greet_tools/__init__.py").read_text(), namespace)
    assert namespace["greeting"]("x") == "Hello x, from the greet-tools layer"  # type: ignore[operator]


def test_layer_defaults(tmp_path: Path) -> None:
    spec = load_layer(materialize(tmp_path, layer_scaffold("plain", TODAY)))
    assert (spec.runtimes, spec.architectures) == (("python3.14",), ("x86_64",))


def test_a_new_layer_defaults_to_what_the_project_s_layers_build_for(tmp_path: Path) -> None:
    """So `init function X --layers NEW OLD` finds a runtime both build for (with python3.14 alone it
    refused: the layers shared none); a deprecated runtime of an old layer is not offered."""
    old = layer(tmp_path / "a", "old", ["python3.11", "python3.12"], ["arm64"])
    other = layer(tmp_path / "b", "other", ["python3.12", "python3.13"], ["arm64", "x86_64"])
    legacy = LayerSpec(name="legacy", directory=tmp_path, description="", license=None, runtimes=("python3.10",),
                       architectures=("x86_64",), requirements=None, source=None, portable=True)
    assert layer_defaults([old], TODAY) == (["python3.11", "python3.12"], ["arm64"])
    assert layer_defaults([old, other, legacy], TODAY) == (["python3.11", "python3.12", "python3.13"],
                                                          ["x86_64", "arm64"])
    assert layer_defaults([legacy], TODAY) == (["python3.14"], ["x86_64"])  # nothing offered in common
    new = load_layer(materialize(tmp_path / "c", layer_scaffold("new", TODAY, existing=[old])))
    assert (new.runtimes, new.architectures) == (("python3.11", "python3.12"), ("arm64",))
    fn = function_scaffold("uses-both", [new, old], TODAY)
    assert 'runtime = "python3.12"' in fn.files["function.toml"] and 'architecture = "arm64"' in fn.files[
        "function.toml"]
    # what is asked for wins over the project's
    asked = load_layer(materialize(tmp_path / "d", layer_scaffold("asked", TODAY, ["python3.13"], None, [old])))
    assert (asked.runtimes, asked.architectures) == (("python3.13",), ("arm64",))


@pytest.mark.parametrize(("layer_name", "package"), [
    ("greet-tools", "greet_tools"), ("Utils2", "utils2"), ("json", "layer_json"), ("3d", "layer_3d"),
    ("class", "layer_class"), ("boto3", "layer_boto3"), ("a_b", "a_b")])
def test_package_name_is_an_identifier_that_shadows_nothing(layer_name: str, package: str) -> None:
    assert package_name(layer_name) == package and package.isidentifier()


@pytest.mark.parametrize(("bad", "says"), [
    ("", "1-48 letters"), ("x" * 49, "1-48 letters"), ("bad.name", "1-48 letters"), ("has space", "1-48 letters"),
    ("_hidden", "starts with '_'"), ("dir/x", "1-48 letters")])
def test_bad_names_are_refused_as_the_spec_parsers_refuse_them(bad: str, says: str) -> None:
    for make in (lambda: layer_scaffold(bad, TODAY), lambda: function_scaffold(bad, [], TODAY)):
        with pytest.raises(UserError, match=says):
            make()


def test_unknown_deprecated_or_repeated_targets_list_the_valid_ones() -> None:
    with pytest.raises(UserError, match=r"--runtime: unknown runtime 'python3.99'; use one of python3.11, "
                                        r"python3.12, python3.13, python3.14$"):
        layer_scaffold("x", TODAY, ["python3.99"])
    with pytest.raises(UserError, match=r"python3.10 is deprecated on Lambda since 2026-10-31; use one of python3.11"):
        layer_scaffold("x", TODAY, ["python3.10"])
    with pytest.raises(UserError, match=r"--arch: unknown architecture 'amd64'; use one of x86_64, arm64$"):
        layer_scaffold("x", TODAY, None, ["amd64"])
    with pytest.raises(UserError, match="twice"):
        layer_scaffold("x", TODAY, ["python3.12", "python3.12"])


def test_a_function_scaffold_loads_and_fits_every_layer_it_names(tmp_path: Path) -> None:
    a = layer(tmp_path, "a", ["python3.11", "python3.12", "python3.13"], ["x86_64", "arm64"])
    b = layer(tmp_path, "b", ["python3.12", "python3.13", "python3.14"], ["arm64"])
    fn = load_function(materialize(tmp_path, function_scaffold("hello", [a, b], TODAY)))
    # the newest runtime both build for, and arm64: the only architecture they share
    assert (fn.runtime, fn.architecture, fn.layers, fn.handler) == ("python3.13", "arm64", ("a", "b"),
                                                                     "handler.handler")
    assert (tmp_path / "functions/hello/handler.py").is_file()
    chosen = load_function(materialize(tmp_path, function_scaffold("old", [a], TODAY, "python3.11", "x86_64")))
    assert (chosen.runtime, chosen.architecture) == ("python3.11", "x86_64")


def test_a_function_target_no_layer_builds_for_is_refused_naming_the_layer(tmp_path: Path) -> None:
    a = layer(tmp_path, "a", ["python3.11"], ["x86_64"])
    b = layer(tmp_path, "b", ["python3.12"], ["arm64"])
    with pytest.raises(UserError, match=r"--runtime: layer a has no variant for python3.12 \(its runtimes: "
                                        r"python3.11\)"):
        function_scaffold("f", [a], TODAY, "python3.12")
    with pytest.raises(UserError, match=r"--arch: layer a has no variant for arm64"):
        function_scaffold("f", [a], TODAY, None, "arm64")
    with pytest.raises(UserError, match=r"--layers: the layers share no runtime and architecture: a: python3.11 on "
                                        r"x86_64; b: python3.12 on arm64"):
        function_scaffold("f", [a, b], TODAY)
    with pytest.raises(UserError, match="twice"):
        function_scaffold("f", [a, a], TODAY)
    with pytest.raises(UserError, match="at most 5"):
        function_scaffold("f", [layer(tmp_path, f"l{i}", ["python3.11"], ["x86_64"]) for i in range(6)], TODAY)


def test_next_steps_say_to_deploy_and_to_lock_a_layer_that_has_no_lock(tmp_path: Path) -> None:
    a = layer(tmp_path, "a", ["python3.11"], ["x86_64"])
    steps = " ".join(function_scaffold("f", [a], TODAY).next_steps)
    assert "layersmith:deploy" in steps and "layersmith lock" not in steps
    toml = tmp_path / "layers/a/layer.toml"
    toml.write_text(toml.read_text().replace('# requirements = ', 'requirements = '))
    steps = " ".join(function_scaffold("f", [load_layer(tmp_path / "layers/a")], TODAY).next_steps)
    assert "run `layersmith lock a`" in steps


# -- the writer ----------------------------------------------------------------------------------------------


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("existing", ["dir", "file", "empty-dir", "symlink"])
def test_an_existing_target_is_refused_and_nothing_is_written(tmp_path: Path, existing: str) -> None:
    target = tmp_path / "layers" / "greet"
    target.parent.mkdir()
    if existing == "dir":
        target.mkdir()
        (target / "layer.toml").write_text("mine\n")
    elif existing == "file":
        target.write_text("mine\n")
    elif existing == "empty-dir":
        target.mkdir()
    else:
        target.symlink_to(tmp_path / "elsewhere")
    before = tree(tmp_path)
    with pytest.raises(UserError, match=r"layers/greet: already exists; layersmith init never overwrites"):
        write_scaffold(tmp_path, layer_scaffold("greet", TODAY))
    assert tree(tmp_path) == before and sorted(p.name for p in target.parent.iterdir()) == ["greet"]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    # "x" is written as a file, so "x/y" cannot be: the write fails half-way
    broken = Scaffold("layer", "half", Path("layers/half"), {"x": "", "x/y": ""}, ())
    with pytest.raises(LayersmithError, match="cannot write the new layer here"):
        write_scaffold(tmp_path, broken)
    assert list((tmp_path / "layers").iterdir()) == []  # no target, no scratch directory


def test_the_written_directory_is_not_private(tmp_path: Path) -> None:
    target = write_scaffold(tmp_path, layer_scaffold("greet", TODAY))
    assert target.stat().st_mode & 0o777 == 0o755
