"""The build pipeline end to end with a fake installer that writes what uv would."""

from __future__ import annotations

import importlib.metadata
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeDist, FakeInstaller, ScriptedRunner
from helpers import EM_X86_64, FakeClock, lock_text, read_machine, write_layer, zip_names, zip_read

from layersmith.builder.archive import content_sha256
from layersmith.builder.builder import RECIPE_VERSION, Builder, cache_key, site_dir
from layersmith.builder.cache import BuildCache
from layersmith.builder.factory import build_layers
from layersmith.builder.install import HostInstaller, installed_uv_version
from layersmith.errors import BuildError, SpecError, UserError, VerificationError
from layersmith.model import BuildResult, LayerSpec, Variant, expand_variants
from layersmith.project.specs import load_layer
from layersmith.runner import Completed, Runner, uv_binary
from layersmith.runtimes.interpreters import Finder
from layersmith.runtimes.supported import RUNTIMES, Runtime

SITE311 = "python/lib/python3.11/site-packages"
FAST = {"fast": FakeDist(compiled=True)}


def native(project: Path, **kw: object) -> LayerSpec:
    kw.setdefault("pins", ("alpha==1.0", "fast==2.0"))
    kw.setdefault("runtimes", ("python3.11", "python3.12"))
    kw.setdefault("architectures", ("x86_64", "arm64"))
    return load_layer(write_layer(project, "demo", **kw))  # type: ignore[arg-type]


def build_one(spec: LayerSpec, cache: BuildCache, installer: FakeInstaller, key: str | None = None,
              messages: list[str] | None = None) -> BuildResult:
    variants = {v.key: v for v in expand_variants(spec)}
    variant = variants[key] if key else next(iter(variants.values()))
    report = messages.append if messages is not None else (lambda _m: None)
    return Builder(installer, cache, report).build(spec, variant)


def nothing_cached(cache: BuildCache) -> bool:
    return not any(p.name == "layer.zip" for p in cache.root.rglob("*")) and not any(
        (cache.root / ".tmp").glob("*"))


# --- planning ---------------------------------------------------------------------------------------

def test_plan_native_variants(project: Path) -> None:
    spec = native(project)
    assert [v.key for v in expand_variants(spec)] == ["py311-x86_64", "py311-arm64", "py312-x86_64", "py312-arm64"]
    assert [v.key for v in expand_variants(spec, runtime="python3.12")] == ["py312-x86_64", "py312-arm64"]
    assert [v.key for v in expand_variants(spec, arch="arm64")] == ["py311-arm64", "py312-arm64"]
    assert expand_variants(spec, runtime="python3.13") == []


def test_plan_portable_is_one_variant(project: Path) -> None:
    spec = native(project, portable=True, pins=("alpha==1.0",))
    [variant] = expand_variants(spec)
    assert variant == Variant("demo", ("python3.11", "python3.12"), ("x86_64", "arm64"), True)
    assert variant.key == "any" and site_dir(variant) == "python"
    assert expand_variants(spec, arch="arm64") == [variant]
    assert expand_variants(spec, runtime="python3.13") == []


@pytest.mark.parametrize(("kw", "key"), [({"runtime": "python3.8"}, "--runtime"), ({"arch": "amd64"}, "--arch")])
def test_plan_rejects_unknown_filters(project: Path, kw: dict[str, str], key: str) -> None:
    with pytest.raises(SpecError) as err:
        expand_variants(native(project), **kw)
    assert err.value.key == key


# --- native variants --------------------------------------------------------------------------------

def test_native_layout_slim_and_bytecode(project: Path, cache: BuildCache) -> None:
    spec = native(project, source={"own/__init__.py": "VALUE = 1\n", "own/data.json": "{}"})
    result = build_one(spec, cache, FakeInstaller(FAST), "py311-x86_64")
    names = set(zip_names(result.zip_path))
    assert {f"{SITE311}/alpha/__init__.py", f"{SITE311}/alpha-1.0.dist-info/METADATA",
            f"{SITE311}/fast-2.0.dist-info/WHEEL", f"{SITE311}/fast/_speedups.cpython-311-x86_64-linux-gnu.so",
            "python/own/__init__.py", "python/own/data.json", "layersmith/demo.json"} <= names
    # everything is either the team's code, the runtime's site-packages, or the manifest
    assert all(n.startswith((f"{SITE311}/", "python/own/", "layersmith/")) for n in names)
    assert not [n for n in names if "/tests/" in n or "/bin/" in n or n.endswith("/.lock")]
    pycs = sorted(n for n in names if n.endswith(".pyc"))
    assert pycs and all(".cpython-311.pyc" in n for n in pycs)
    assert f"{SITE311}/alpha/__pycache__/core.cpython-311.pyc" in pycs
    # the host's leftover pyc was removed and the fake compiler wrote a fresh one
    assert zip_read(result.zip_path, f"{SITE311}/alpha/__pycache__/core.cpython-311.pyc") != b"host bytecode"
    assert result.bytecode == "cpython-311"
    so = zip_read(result.zip_path, f"{SITE311}/fast/_speedups.cpython-311-x86_64-linux-gnu.so")
    assert read_machine(so) == EM_X86_64


def test_arm64_variant_gets_aarch64_code(project: Path, cache: BuildCache) -> None:
    installer = FakeInstaller(FAST)
    result = build_one(native(project), cache, installer, "py312-arm64")
    site = "python/lib/python3.12/site-packages"
    assert read_machine(zip_read(result.zip_path, f"{site}/fast/_speedups.cpython-312-aarch64-linux-gnu.so")) == 183
    assert installer.calls == [("install", "python3.12", "arm64"), ("compile", "python3.12")]


def test_manifest_content(project: Path, cache: BuildCache) -> None:
    result = build_one(native(project), cache, FakeInstaller(FAST), "py311-x86_64")
    manifest = json.loads(zip_read(result.zip_path, "layersmith/demo.json"))
    assert manifest == {
        "layer": "demo", "variant": "py311-x86_64", "runtimes": ["python3.11"], "architectures": ["x86_64"],
        "recipe": RECIPE_VERSION, "builder": "fake", "bytecode": "cpython-311",
        "distributions": [{"name": "alpha", "version": "1.0"}, {"name": "fast", "version": "2.0"}],
        "content_sha256": result.content_sha256,
    }
    assert [(d.name, d.version) for d in result.distributions] == [("alpha", "1.0"), ("fast", "2.0")]
    assert result.distributions[1].tags == ("cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64")


def test_result_numbers_match_the_zip(project: Path, cache: BuildCache, tmp_path: Path) -> None:
    result = build_one(native(project), cache, FakeInstaller(FAST), "py311-x86_64")
    with zipfile.ZipFile(result.zip_path) as zf:
        infos = zf.infolist()
        zf.extractall(tmp_path / "x")
    assert result.files == len(infos)
    assert result.unzipped_bytes == sum(i.file_size for i in infos)
    assert result.zip_bytes == result.zip_path.stat().st_size
    # the manifest's hash is the hash of everything else, as it sits in /opt
    assert content_sha256(tmp_path / "x", exclude="layersmith/demo.json") == result.content_sha256
    assert result.builder == "fake" and not result.cached and result.warnings == ()
    assert result.top_level_sizes and result.top_level_sizes[0][1] >= result.top_level_sizes[-1][1]


def test_bytecode_none_when_the_installer_cannot_compile(project: Path, cache: BuildCache) -> None:
    result = build_one(native(project), cache, FakeInstaller(FAST, compiles=False), "py312-x86_64")
    assert result.bytecode is None
    assert not [n for n in zip_names(result.zip_path) if n.endswith(".pyc") or "__pycache__" in n]
    assert json.loads(zip_read(result.zip_path, "layersmith/demo.json"))["bytecode"] is None


def test_exclude_drops_runtime_provided_distributions(project: Path, cache: BuildCache) -> None:
    spec = native(project, pins=("alpha==1.0", "boto3==1.35.0"), extra='exclude = ["boto3"]\n')
    result = build_one(spec, cache, FakeInstaller())
    assert not [n for n in zip_names(result.zip_path) if "boto3" in n]
    assert [d.name for d in result.distributions] == ["alpha"]


# --- cache ------------------------------------------------------------------------------------------

def test_second_build_is_a_cache_hit_without_the_installer(project: Path, cache: BuildCache) -> None:
    spec = native(project)
    first = build_one(spec, cache, FakeInstaller(FAST))
    again_installer = FakeInstaller(FAST)
    messages: list[str] = []
    again = build_one(spec, cache, again_installer, messages=messages)
    assert again.cached and again_installer.calls == [] and messages == []
    assert (again.sha256, again.zip_path, again.content_sha256) == (first.sha256, first.zip_path, first.content_sha256)
    assert again.distributions == first.distributions and again.bytecode == first.bytecode


def test_same_inputs_elsewhere_give_the_same_key_and_bytes(tmp_path: Path, clock: FakeClock) -> None:
    results = []
    for name, python in (("one", "/usr/bin/python3.11"), ("two", "/home/ci/.venv/bin/python3")):
        clock.advance(3 * 3600 + 7)  # past a DOS 2-second step: neither "now" nor an mtime may leak
        spec = native(tmp_path / name, source={"own/__init__.py": "VALUE = 1\n"})
        clock.touch(tmp_path / name)
        installer = FakeInstaller(FAST, python=python)  # another host interpreter in the shebangs
        results.append(build_one(spec, BuildCache(tmp_path / f"cache-{name}"), installer))
    assert results[0].cache_key == results[1].cache_key
    assert results[0].zip_path.read_bytes() == results[1].zip_path.read_bytes()


def test_cache_key_tracks_every_input(project: Path) -> None:
    spec = native(project, source={"own/__init__.py": "VALUE = 1\n"})
    variant = expand_variants(spec)[0]
    base = cache_key(spec, variant, FakeInstaller())
    assert cache_key(spec, variant, FakeInstaller()) == base
    (spec.source / "own" / "__pycache__").mkdir()  # type: ignore[operator]
    (spec.source / "own" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")  # type: ignore[operator]
    assert cache_key(spec, variant, FakeInstaller()) == base  # bytecode never reaches the zip
    assert cache_key(spec, expand_variants(spec)[1], FakeInstaller()) != base
    assert cache_key(spec, variant, FakeInstaller(version="2")) != base
    assert cache_key(spec, variant, FakeInstaller(compiles=False)) != base
    (spec.source / "own" / "__init__.py").write_text("VALUE = 2\n")  # type: ignore[operator]
    changed_source = cache_key(spec, variant, FakeInstaller())
    assert changed_source != base
    spec.requirements.write_text(lock_text("alpha==1.1", "fast==2.0"))  # type: ignore[union-attr]
    assert cache_key(spec, variant, FakeInstaller()) not in (base, changed_source)


# --- portable layers --------------------------------------------------------------------------------

def test_portable_pure_layer(project: Path, cache: BuildCache) -> None:
    spec = native(project, portable=True, pins=("alpha==1.0",), source={"own/__init__.py": ""})
    installer = FakeInstaller()
    result = build_one(spec, cache, installer)
    assert result.variant.key == "any"
    installs = [c for c in installer.calls if c[0] == "install"]
    assert len(installs) == 4  # every runtime/arch is resolved and checked
    names = set(zip_names(result.zip_path))
    assert {"python/alpha/__init__.py", "python/alpha-1.0.dist-info/METADATA", "python/own/__init__.py"} <= names
    assert not [n for n in names if n.startswith("python/lib/")]
    assert json.loads(zip_read(result.zip_path, "layersmith/demo.json"))["variant"] == "any"


def test_portable_layer_with_a_compiled_wheel_is_refused(project: Path, cache: BuildCache) -> None:
    spec = native(project, portable=True)
    with pytest.raises(VerificationError) as err:
        build_one(spec, cache, FakeInstaller(FAST))
    assert err.value.key == "portable"
    assert "portable layer 'demo' pulls in a compiled wheel (fast-2.0.dist-info" in err.value.message
    assert nothing_cached(cache)


def test_portable_layer_with_compiled_source_is_refused(project: Path, cache: BuildCache) -> None:
    spec = native(project, portable=True, pins=None, source={"own/__init__.py": ""})
    assert spec.source is not None
    (spec.source / "own" / "_x.so").write_bytes(b"\x7fELF" + b"\2\1\1" + b"\0" * 57)
    with pytest.raises(VerificationError, match=r"contains compiled code \(python/own/_x\.so\)"):
        build_one(spec, cache, FakeInstaller())


def test_portable_layer_resolving_differently_per_target(project: Path, cache: BuildCache) -> None:
    class ArmExtra(FakeInstaller):
        def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None:
            super().install(lock, target, runtime, arch)
            if arch == "arm64":
                extra = target.parent / "extra.txt"
                extra.write_text(lock_text("armonly==1.0"))
                super().install(extra, target, runtime, arch)

    spec = native(project, portable=True, pins=("alpha==1.0",))
    with pytest.raises(BuildError) as err:
        build_one(spec, cache, ArmExtra())
    assert err.value.key == "portable" and err.value.path == str(spec.spec_path)
    assert "resolves to different packages for python3.11/arm64 than for python3.11/x86_64" in err.value.message


# --- refusals ---------------------------------------------------------------------------------------

def test_wrong_architecture_wheel_is_refused(project: Path, cache: BuildCache) -> None:
    installer = FakeInstaller({"fast": FakeDist(compiled=True, machine=EM_X86_64)})
    with pytest.raises(VerificationError) as err:
        build_one(native(project), cache, installer, "py312-arm64")
    assert ("python/lib/python3.12/site-packages/fast/_speedups.cpython-312-aarch64-linux-gnu.so is x86-64 code "
            "but the variant targets arm64") in err.value.message
    assert nothing_cached(cache)


def test_too_new_glibc_wheel_is_refused_on_al2(project: Path, cache: BuildCache) -> None:
    installer = FakeInstaller({"fast": FakeDist(compiled=True, platform="manylinux_2_28_{m}")})
    with pytest.raises(VerificationError, match=r"fast-2\.0\.dist-info is tagged cp311-cp311-manylinux_2_28_x86_64"):
        build_one(native(project), cache, installer, "py311-x86_64")
    # the same wheel is fine on AL2023
    assert build_one(native(project), cache, installer, "py312-x86_64").distributions


def test_oversized_layer_is_refused_listing_the_largest_packages(project: Path, cache: BuildCache) -> None:
    installer = FakeInstaller({"fat": FakeDist(data_bytes=200_000_000), "chubby": FakeDist(data_bytes=70_000_000)})
    spec = native(project, pins=("alpha==1.0", "fat==1.0", "chubby==1.0"))
    with pytest.raises(VerificationError) as err:
        build_one(spec, cache, installer, "py312-x86_64")
    assert "layer 'demo' is 270.0 MB unzipped, over Lambda's 262.1 MB limit" in err.value.message
    assert "largest: fat 200.0 MB, chubby 70.0 MB, " in err.value.message
    assert nothing_cached(cache)


def test_unhashed_lock_is_refused_before_installing(project: Path, cache: BuildCache) -> None:
    spec = native(project)
    assert spec.requirements is not None
    spec.requirements.write_text(lock_text("alpha==1.0") + "fast==2.0\n")
    installer = FakeInstaller()
    with pytest.raises(SpecError) as err:
        build_one(spec, cache, installer)
    assert err.value.path == str(spec.requirements) and err.value.line == 5
    assert installer.calls == [] and nothing_cached(cache)


def test_layer_with_nothing_in_it(project: Path, cache: BuildCache) -> None:
    spec = native(project, pins=())
    with pytest.raises(UserError) as err:
        build_one(spec, cache, FakeInstaller())
    assert err.value.exit_code == 2 and err.value.path == str(spec.spec_path)
    assert "nothing to put in it" in err.value.message
    assert nothing_cached(cache)


def test_progress_is_reported(project: Path, cache: BuildCache) -> None:
    messages: list[str] = []
    build_one(native(project), cache, FakeInstaller(FAST), "py311-arm64", messages)
    assert messages == ["demo [py311-arm64]: installing for python3.11/arm64", "demo [py311-arm64]: compiling bytecode",
                        "demo [py311-arm64]: writing zip"]


def test_build_layers_builds_every_variant_of_every_layer(project: Path, cache: BuildCache) -> None:
    native(project)
    write_layer(project, "mine", runtimes=("python3.12",), architectures=("arm64",), portable=True,
                source={"mine/__init__.py": ""})
    builder = Builder(FakeInstaller(FAST), cache)
    results = build_layers(project, builder=builder)
    assert [(r.variant.layer, r.variant.key) for r in results] == [
        ("demo", "py311-x86_64"), ("demo", "py311-arm64"), ("demo", "py312-x86_64"), ("demo", "py312-arm64"),
        ("mine", "any")]
    assert len({r.sha256 for r in results}) == 5
    with pytest.raises(UserError, match="nothing to build"):
        build_layers(project, ["mine"], runtime="python3.11", builder=builder)


def test_zip_is_a_valid_archive(project: Path, cache: BuildCache) -> None:
    result = build_one(native(project), cache, FakeInstaller(FAST))
    with zipfile.ZipFile(io.BytesIO(result.zip_path.read_bytes())) as zf:
        assert zf.testzip() is None


# --- the host installer's side of the seam ----------------------------------------------------------

NO_WHEEL = ("error: No solution found when resolving dependencies\n  cause: Because numpy==2.4.6 has no usable "
            "wheels and you require numpy==2.4.6, we can conclude that your requirements are unsatisfiable.\n")


def test_host_install_argv_selects_target_wheels_only(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    HostInstaller(runner).install(tmp_path / "req.txt", tmp_path / "site", RUNTIMES["python3.11"], "arm64")
    [argv] = runner.argvs
    joined = " ".join(argv)
    assert argv[1:3] == ("pip", "install")
    for part in ("--python-version 3.11", "--python-platform aarch64-manylinux_2_17", "--only-binary :all:",
                 "--require-hashes", f"--target {tmp_path / 'site'}", f"-r {tmp_path / 'req.txt'}"):
        assert part in joined


def test_host_install_failure_names_the_package_and_the_docker_builder(tmp_path: Path) -> None:
    runner = ScriptedRunner({"pip install": (1, "", NO_WHEEL)})
    with pytest.raises(BuildError) as err:
        HostInstaller(runner).install(tmp_path / "req.txt", tmp_path / "site", RUNTIMES["python3.11"], "x86_64")
    text = str(err.value)
    assert "\n" not in text and err.value.path == str(tmp_path / "req.txt")
    assert "numpy==2.4.6 has no wheel for python3.11/x86_64 (Amazon Linux 2, glibc 2.26)" in text
    assert "docker" in text


@pytest.mark.parametrize(("stderr", "expected"), [
    ("error: Hash mismatch for `six==1.16.0`\n\nExpected:\n  sha256:aa\n", "hash mismatch for six"),
    ("error: something odd\n  line two\n  line three\n  line four\n", "line two | line three | line four"),
    ("", "no output"),
])
def test_host_install_other_failures_are_one_line(tmp_path: Path, stderr: str, expected: str) -> None:
    runner = ScriptedRunner({"pip install": (2, "", stderr)})
    with pytest.raises(BuildError) as err:
        HostInstaller(runner).install(tmp_path / "r.txt", tmp_path / "s", RUNTIMES["python3.12"], "x86_64")
    assert expected in str(err.value) and "\n" not in str(err.value)


PROBE = "platform.python_version"


def finder(runner: Runner, tmp_path: Path, found: dict[str, str] | None = None) -> Finder:
    """A Finder that sees only `found` on PATH (no pyenv, no uv), this Python being /usr/bin/python3.11."""
    return Finder(runner, env={"PYENV_ROOT": str(tmp_path / "no-pyenv")},
                  which=lambda name, _path: (found or {}).get(name), uv=lambda: None,
                  current=("/usr/bin/python3.11", (3, 11)))


def test_host_bytecode_only_for_the_matching_interpreter(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("X = 1\n", encoding="utf-8")  # a tree without modules compiles nothing
    runner = ScriptedRunner({"--version": (0, "uv 9.9.9\n", ""), PROBE: (0, "cpython 3.11.7 x86_64\n", "")})
    installer = HostInstaller(runner, finder=finder(runner, tmp_path), uv_version=lambda _binary: None)
    assert installer.compile_bytecode(tmp_path, RUNTIMES["python3.12"]) is None
    assert not any("compileall" in argv for argv in runner.argvs)  # never compiles with the wrong interpreter
    assert installer.compile_bytecode(tmp_path, RUNTIMES["python3.11"]) == "cpython-311"
    [argv] = [a for a in runner.argvs if "compileall" in a]
    assert argv[:4] == ("/usr/bin/python3.11", "-S", "-m", "compileall")
    assert "unchecked-hash" in argv and argv[argv.index("-p") + 1] == "/opt"
    assert installer.identity(RUNTIMES["python3.11"], "x86_64") == "host|uv 9.9.9|cpython-3.11.7"
    assert installer.identity(RUNTIMES["python3.12"], "x86_64") == "host|uv 9.9.9|no-bytecode"


def test_host_compiles_with_another_installed_python_of_the_exact_version(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("X = 1\n", encoding="utf-8")  # a tree without modules compiles nothing
    class Versions(ScriptedRunner):
        def run(self, argv: Sequence[str], **kw: Any) -> Completed:
            if PROBE in " ".join(argv):  # each interpreter reports its own version
                self.argvs.append(tuple(argv))
                version = "3.12.7" if argv[0] == "/bin/true" else "3.11.7"
                return Completed(tuple(argv), 0, f"cpython {version} x86_64\n", "")
            return super().run(argv, **kw)

    runner = Versions({"--version": (0, "uv 9.9.9\n", "")})
    found = {"python3.12": "/bin/true", "python3.13": "/bin/false"}  # real executables, faked versions
    installer = HostInstaller(runner, finder=finder(runner, tmp_path, found), uv_version=lambda _binary: None)
    assert installer.compile_bytecode(tmp_path, RUNTIMES["python3.12"]) == "cpython-312"
    assert next(a for a in runner.argvs if "compileall" in a)[0] == "/bin/true"
    assert installer.identity(RUNTIMES["python3.12"], "arm64") == "host|uv 9.9.9|cpython-3.12.7"
    # a `python3.13` that turns out to be another version is not trusted
    assert installer.compile_bytecode(tmp_path, RUNTIMES["python3.13"]) is None


def test_uv_version_comes_from_the_pinned_wheel_without_a_process(tmp_path: Path) -> None:
    runner = ScriptedRunner({PROBE: (0, "cpython 3.11.7 x86_64\n", "")})
    installer = HostInstaller(runner, finder=finder(runner, tmp_path))
    pinned = importlib.metadata.version("uv")
    assert installer.identity(RUNTIMES["python3.11"], "x86_64") == f"host|uv {pinned}|cpython-3.11.7"
    assert not any("--version" in argv for argv in runner.argvs)


def test_uv_version_from_metadata_only_for_the_file_the_wheel_installed(tmp_path: Path) -> None:
    assert installed_uv_version(uv_binary()) == f"uv {importlib.metadata.version('uv')}"
    other = tmp_path / "bin" / "uv"  # same name, not the wheel's file: its version must be asked
    other.parent.mkdir()
    other.write_bytes(Path(uv_binary()).read_bytes()[:100])
    assert installed_uv_version(str(other)) is None
    assert installed_uv_version("/bin/true") is None


def test_host_compile_failure_is_a_build_error(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("X = 1\n", encoding="utf-8")  # a tree without modules compiles nothing
    runner = ScriptedRunner({"compileall": (1, "", "*** Error compiling 'bad.py'...\nSyntaxError: nope\n"),
                             PROBE: (0, "cpython 3.11.7 x86_64\n", "")})
    with pytest.raises(BuildError, match=r"compiling bytecode for python3\.11 failed: .*SyntaxError: nope"):
        HostInstaller(runner, finder=finder(runner, tmp_path)).compile_bytecode(tmp_path, RUNTIMES["python3.11"])


def test_a_wheel_whose_so_needs_glibc_2_28_is_refused_in_a_python311_layer(project: Path, cache: BuildCache) -> None:
    """The hand-made wheel's tag claims manylinux2014 (glibc 2.17) but its `.so` needs GLIBC_2.28:
    the tag check passes, the glibc guard does not, and nothing is cached."""
    installer = FakeInstaller({"fast": FakeDist(compiled=True, glibc=("GLIBC_2.28",))})
    spec = native(project)
    with pytest.raises(VerificationError) as info:
        build_one(spec, cache, installer, "py311-x86_64")
    assert info.value.message.startswith(
        "python/lib/python3.11/site-packages/fast/_speedups.cpython-311-x86_64-linux-gnu.so needs GLIBC_2.28 "
        "but python3.11 runs on Amazon Linux 2 (glibc 2.26)")
    assert nothing_cached(cache)
    # Amazon Linux 2023 (glibc 2.34) loads it: the same wheel builds for python3.12
    assert build_one(spec, cache, installer, "py312-x86_64").files > 0
