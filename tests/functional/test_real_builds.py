"""Real builds with real uv against PyPI: a small package with binary wheels for both architectures
(markupsafe) plus a pure one with a console script (tqdm: uv writes the build interpreter into its
shebang), reproducibility across directories/umask/mtimes/interpreter paths, a wheel AL2 cannot
load, the CLI."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import CountingRunner
from helpers import EM_AARCH64, EM_X86_64, copy_project, platform_glibc, read_machine, zip_names, zip_read

from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.builder.install import HostInstaller
from layersmith.cli import main
from layersmith.model import BuildResult, expand_variants
from layersmith.project.specs import load_layer, parse_lock
from layersmith.runner import uv_binary

GLIBC = {"python3.11": (2, 26), "python3.12": (2, 34)}  # AL2 / AL2023 (docs/architecture.md#lambda-runtimes-and-glibc)
ELF = {"x86_64": EM_X86_64, "arm64": EM_AARCH64}
WHEEL_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
LAYER_TOML = """\
description = "markupsafe: a small package with binary wheels for both architectures"
runtimes = ["python3.11", "python3.12"]
architectures = ["x86_64", "arm64"]
source = "src"
"""


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def new_layer(root: Path, name: str, toml: str, requirements_in: str) -> Path:
    directory = root / "layers" / name
    (directory / "src" / f"{name}_helpers").mkdir(parents=True)
    (directory / "src" / f"{name}_helpers" / "__init__.py").write_text("GREETING = 'hi'\n")
    tool = directory / "src" / f"{name}_helpers" / "tool.sh"
    tool.write_text("#!/bin/sh\necho hi\n")
    tool.chmod(0o755)
    (directory / "layer.toml").write_text(toml)
    (directory / "requirements.in").write_text(requirements_in)
    return directory


@pytest.fixture(scope="module")
def ms_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with layer `ms`, locked with the real `layersmith lock` (the flow its output suggests)."""
    root = tmp_path_factory.mktemp("ms") / "project"
    directory = new_layer(root, "ms", LAYER_TOML, "markupsafe==3.0.2\ntqdm==4.67.1\n")
    assert main(["--project", str(root), "lock", "ms"]) == 0
    with (directory / "layer.toml").open("a") as fh:
        fh.write('requirements = "requirements.txt"\n')
    return root


@pytest.fixture(scope="module")
def ms_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ms-cache")


@pytest.fixture(scope="module")
def ms_results(ms_project: Path, ms_cache: Path) -> dict[str, BuildResult]:
    spec = load_layer(ms_project / "layers" / "ms")
    builder = Builder(HostInstaller(CountingRunner()), BuildCache(ms_cache))
    return {v.key: builder.build(spec, v) for v in expand_variants(spec)}


@pytest.fixture
def ms_env(monkeypatch: pytest.MonkeyPatch, ms_cache: Path) -> Iterator[None]:
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(ms_cache))
    yield


def test_lock_is_pinned_and_hashed(ms_project: Path) -> None:
    reqs = {r.name: r for r in parse_lock(ms_project / "layers" / "ms" / "requirements.txt")}
    assert (reqs["markupsafe"].version, reqs["tqdm"].version) == ("3.0.2", "4.67.1")
    assert len(reqs["markupsafe"].hashes) > 10  # every wheel of the release, so any target can install
    assert "colorama" not in reqs  # tqdm needs it on Windows only: resolved per Lambda target, it never appears


def test_every_variant_is_built(ms_results: dict[str, BuildResult]) -> None:
    assert sorted(ms_results) == ["py311-arm64", "py311-x86_64", "py312-arm64", "py312-x86_64"]
    assert not any(r.cached for r in ms_results.values())
    assert len({r.sha256 for r in ms_results.values()}) == 4


@pytest.mark.parametrize("key", ["py311-x86_64", "py311-arm64", "py312-x86_64", "py312-arm64"])
def test_compiled_code_and_wheel_tags_fit_the_target(ms_results: dict[str, BuildResult], key: str) -> None:
    result = ms_results[key]
    runtime, arch = result.variant.runtimes[0], result.variant.architectures[0]
    site = f"python/lib/{runtime}/site-packages"
    names = zip_names(result.zip_path)
    sos = [n for n in names if n.endswith(".so")]
    assert sos and all(n.startswith(f"{site}/markupsafe/") for n in sos)
    for so in sos:
        assert read_machine(zip_read(result.zip_path, so)) == ELF[arch], so
    [wheel] = [n for n in names if n.lower() == f"{site}/markupsafe-3.0.2.dist-info/wheel"]
    tags = [line.split(":", 1)[1].strip() for line in zip_read(result.zip_path, wheel).decode().splitlines()
            if line.startswith("Tag:")]
    assert tags
    assert [d.tags for d in result.distributions if d.name == "tqdm"] == [("py3-none-any",)]
    assert not [n for n in names if "colorama" in n or "/bin/" in n]
    for tag in tags:
        interpreter, abi, plat = tag.split("-")
        assert interpreter == abi == "cp" + runtime.removeprefix("python").replace(".", "")
        parsed = platform_glibc(plat)
        assert parsed is not None, tag
        glibc, machine = parsed
        assert glibc <= GLIBC[runtime] and machine == WHEEL_MACHINE[arch], tag
    assert f"{site}/markupsafe/__init__.py" in names
    assert "python/ms_helpers/__init__.py" in names
    manifest = json.loads(zip_read(result.zip_path, "layersmith/ms.json"))
    assert manifest["distributions"] == [{"name": "markupsafe", "version": "3.0.2"},
                                         {"name": "tqdm", "version": "4.67.1"}]
    assert (manifest["variant"], manifest["runtimes"], manifest["architectures"]) == (key, [runtime], [arch])


@pytest.mark.parametrize("key", ["py311-x86_64", "py311-arm64"])
def test_python311_variants_ship_bytecode_for_311(ms_results: dict[str, BuildResult], key: str) -> None:
    names = zip_names(ms_results[key].zip_path)
    pycs = [n for n in names if n.endswith(".pyc")]
    assert "python/lib/python3.11/site-packages/markupsafe/__pycache__/__init__.cpython-311.pyc" in pycs
    assert "python/ms_helpers/__pycache__/__init__.cpython-311.pyc" in pycs
    assert all(".cpython-311." in n for n in pycs)
    assert ms_results[key].bytecode == "cpython-311"


@pytest.mark.parametrize("key", ["py312-x86_64", "py312-arm64"])
def test_python312_variants_carry_no_311_bytecode(ms_results: dict[str, BuildResult], key: str) -> None:
    names = zip_names(ms_results[key].zip_path)
    assert not [n for n in names if "cpython-311" in n]
    # the host is 3.11: whatever bytecode there is must be for 3.12
    assert all(".cpython-312." in n for n in names if n.endswith(".pyc"))
    assert ms_results[key].bytecode in (None, "cpython-312")


def test_exec_bit_of_own_code_survives(ms_results: dict[str, BuildResult]) -> None:
    with zipfile.ZipFile(ms_results["py311-x86_64"].zip_path) as zf:
        assert (zf.getinfo("python/ms_helpers/tool.sh").external_attr >> 16) & 0o777 == 0o755
        assert (zf.getinfo("python/ms_helpers/__init__.py").external_attr >> 16) & 0o777 == 0o644


@pytest.mark.skipif(platform.machine() != "x86_64" or sys.version_info[:2] != (3, 11),
                    reason="needs a python3.11 x86_64 host to load the variant")
def test_python311_x86_64_variant_imports_its_native_code(ms_results: dict[str, BuildResult], tmp_path: Path) -> None:
    opt = tmp_path / "opt"
    with zipfile.ZipFile(ms_results["py311-x86_64"].zip_path) as zf:
        zf.extractall(opt)
    code = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]];"
            "import markupsafe._speedups, markupsafe, ms_helpers;"
            "print(markupsafe.__file__); print(markupsafe.escape('<b>'))")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(opt / "python/lib/python3.11/site-packages"),
                           str(opt / "python")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    path, escaped = done.stdout.splitlines()
    assert path.startswith(str(opt)) and escaped == "&lt;b&gt;"


def test_rebuild_with_nothing_changed_is_a_cache_hit(ms_project: Path, ms_cache: Path,
                                                     ms_results: dict[str, BuildResult]) -> None:
    spec = load_layer(ms_project / "layers" / "ms")
    runner = CountingRunner()
    builder = Builder(HostInstaller(runner), BuildCache(ms_cache))  # as a fresh `layersmith build` would
    again = {v.key: builder.build(spec, v) for v in expand_variants(spec)}
    assert all(r.cached for r in again.values())
    assert {k: r.sha256 for k, r in again.items()} == {k: r.sha256 for k, r in ms_results.items()}
    # nothing installed or compiled: only the version probes that are part of the cache key (uv's,
    # and each runtime's interpreter: candidates run with `-I -c`, pyenv and uv asked where theirs are)
    def probe(argv: tuple[str, ...]) -> bool:
        return argv[1:] in (("--version",), ("root",), ("python", "dir")) or argv[1:3] == ("-I", "-c")

    assert all(probe(argv) for argv in runner.argvs), runner.argvs
    assert not any("install" in argv or "compileall" in argv for argv in runner.argvs)
    probes = len(runner.argvs)
    for variant in expand_variants(spec):  # and once that is known: no subprocess at all
        assert builder.build(spec, variant).cached
    assert len(runner.argvs) == probes


def _build_json(project: Path, cache: Path, umask: str, python: Path) -> dict[str, str]:
    env = {**os.environ, "LAYERSMITH_CACHE_DIR": str(cache)}
    script = f'umask {umask} && exec "$0" -m layersmith --project "$1" build --json'
    done = subprocess.run(["sh", "-c", script, str(python), str(project)], env=env, capture_output=True,
                          text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert not any(r["cached"] for r in rows)  # really built, from an empty cache
    return {r["variant"]: r["sha256"] for r in rows}


def test_builds_are_byte_for_byte_reproducible(ms_project: Path, tmp_path: Path,
                                               ms_results: dict[str, BuildResult]) -> None:
    one = copy_project(ms_project, tmp_path / "a" / "one")
    two = copy_project(ms_project, tmp_path / "somewhere" / "else" / "two")
    for path in (two / "layers").rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))  # another clock, as far as files can tell
    # three spellings of one venv interpreter (this process uses sys.executable): uv writes the one
    # it is given into console-script shebangs, whose hashes land in RECORD
    pythons = [Path(sys.executable).with_name(name) for name in ("python3.11", "python3")]
    assert all(p.exists() and str(p) != sys.executable for p in pythons)
    first = _build_json(one, tmp_path / "cache-one", "022", pythons[0])
    second = _build_json(two, tmp_path / "cache-two", "077", pythons[1])
    assert first == second == {k: r.sha256 for k, r in ms_results.items()}
    zips = sorted((tmp_path / "cache-two").rglob("layer.zip"))
    assert len(zips) == 4
    # the umask really applied to the second build (its cache files are private)
    assert {(z.parent / "result.json").stat().st_mode & 0o777 for z in zips} == {0o600}


# --- a wheel Amazon Linux 2 cannot load ----------------------------------------------------------

NUMPY_TOML = """\
description = "numpy 2.4 ships only manylinux_2_27+ wheels: nothing for AL2"
runtimes = ["python3.11"]
architectures = ["x86_64"]
source = "src"
requirements = "requirements.txt"
"""


@pytest.mark.network
def test_no_wheel_for_al2_is_one_line_naming_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "project"
    directory = new_layer(root, "np", NUMPY_TOML, "numpy==2.4.6\n")
    # `layersmith lock` refuses this lock (tests/functional/test_lock.py); a hand-made or stale one
    # still reaches the builder, which must say the same thing.
    done = subprocess.run([uv_binary(), "pip", "compile", "--no-config", "--quiet", "--generate-hashes",
                           "--python-version", "3.11", "--only-binary", ":all:", "-o",
                           str(directory / "requirements.txt"), str(directory / "requirements.in")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    cache = tmp_path / "cache"
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(cache))

    code, out, err = cli(capsys, "--project", str(root), "build", "np")

    assert code == 1
    assert out == "" and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert [line for line in err.splitlines() if line.startswith("layersmith:")] == [last]
    assert last.startswith("layersmith: error: ") and "requirements.txt" in last
    assert "numpy==2.4.6 has no wheel for python3.11/x86_64 (Amazon Linux 2, glibc 2.26)" in last
    assert "docker" in last
    assert not list(cache.rglob("layer.zip")) and not list((cache / ".tmp").glob("*"))


# --- the CLI --------------------------------------------------------------------------------------

def test_cli_json_shape(ms_project: Path, ms_results: dict[str, BuildResult], ms_env: None,
                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--project", str(ms_project), "build", "ms", "--runtime", "python3.11",
                         "--arch", "arm64", "--json")
    assert code == 0, err
    [row] = json.loads(out)  # stdout is pure JSON: progress never goes there
    expected = ms_results["py311-arm64"]
    assert {"layer": "ms", "variant": "py311-arm64", "runtimes": ["python3.11"], "architectures": ["arm64"],
            "portable": False, "cached": True, "sha256": expected.sha256, "zip": str(expected.zip_path),
            "files": expected.files, "unzipped_bytes": expected.unzipped_bytes, "zip_bytes": expected.zip_bytes,
            "content_sha256": expected.content_sha256, "bytecode": "cpython-311",
            "distributions": ["markupsafe==3.0.2", "tqdm==4.67.1"], "warnings": []}.items() <= row.items()
    assert isinstance(row["builder"], str)


def test_cli_table(ms_project: Path, ms_results: dict[str, BuildResult], ms_env: None,
                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--project", str(ms_project), "build")
    assert code == 0
    rows = [line.split() for line in out.splitlines() if line.startswith("ms ")]
    assert len(rows) == 4
    for row in rows:
        assert row[-1] == "cached"
        assert any(r.sha256.startswith(row[-2]) for r in ms_results.values())
    assert "4 variant(s): 0 built, 4 cached" in out


def bad_project(root: Path) -> Path:
    new_layer(root, "bad", LAYER_TOML.replace('"python3.12"', '"python3.8"'), "")
    return root


def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = bad_project(tmp_path / "p")
    code, out, err = cli(capsys, "--project", str(root), "build")
    assert code == 2 and out == ""
    assert err.splitlines() == [f"layersmith: error: {root}/layers/bad/layer.toml:2: runtimes: unknown Lambda "
                                f"runtime 'python3.8'; use one of {err.split('use one of ')[1].strip()}"]
    assert "python3.12" in err


def test_cli_traceback_only_with_verbose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = bad_project(tmp_path / "p")
    code, _, err = cli(capsys, "-v", "--project", str(root), "build")
    assert code == 2
    assert "Traceback (most recent call last)" in err and "SpecError" in err
    assert err.strip().splitlines()[-1].startswith("layersmith: error: ")


@pytest.mark.parametrize("argv", [["build", "nope"], ["build", "--runtime", "python3.99"], ["build", "--arch", "x86"],
                                  ["lock", "nope"]])
def test_cli_other_bad_input(ms_project: Path, ms_env: None, capsys: pytest.CaptureFixture[str],
                             argv: list[str]) -> None:
    code, out, err = cli(capsys, "--project", str(ms_project), *argv)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("layersmith: error: ")


def test_cli_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["build", "--no-such-flag"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    root = bad_project(tmp_path / "p")
    done = subprocess.run([sys.executable, "-m", "layersmith", "--project", str(root), "build"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("layersmith: error: ") and len(done.stderr.splitlines()) == 1


@pytest.mark.network
def test_lock_a_new_requirements_only_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "p" / "layers" / "new"
    directory.mkdir(parents=True)
    (directory / "layer.toml").write_text('description = "x"\nruntimes = ["python3.11"]\n'
                                          'architectures = ["x86_64"]\nrequirements = "requirements.txt"\n')
    (directory / "requirements.in").write_text("markupsafe==3.0.2\n")
    code, _, err = cli(capsys, "--project", str(tmp_path / "p"), "lock", "new")
    assert code == 0, err
    assert [r.name for r in parse_lock(directory / "requirements.txt")] == ["markupsafe"]
