"""The Docker builder without a Docker engine.

`FakeDocker` stands in for the Docker CLI behind the `Runner` seam. It records every argv and, for
`docker run`, does to the bind mounts what the SAM build image would: pip writes dist-info and an
ELF `.so` for the `--platform` machine; compileall writes `__pycache__/*.cpython-3X.pyc`. The rest
of the pipeline (slim -> verify -> manifest -> zip) then runs for real on those files. What only a
machine with Docker proves: that the image exists and pip/compileall behave inside it.
"""

from __future__ import annotations

import itertools
import shutil
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
from fakes import write_pyc

from layersmith.builder.builder import cache_key
from layersmith.builder.docker import DEFAULT_IMAGE_TAG, DockerInstaller, probe
from layersmith.builder.factory import build_layers, make_builder, make_installer
from layersmith.builder.install import HostInstaller
from layersmith.cli import main
from layersmith.commands.build import bytecode_cell, render_results
from layersmith.errors import BuildError, DockerUnavailable, UserError, VerificationError
from layersmith.model import expand_variants
from layersmith.project.specs import load_layers
from layersmith.runner import Completed
from layersmith.runtimes.supported import ELF_MACHINE, RUNTIMES

UID = "1000:1000"
HASH = "sha256:" + "ab" * 32
LOCK = f"tinyext==1.2.0 \\\n    --hash={HASH}\nhelperlib==0.3.1 \\\n    --hash={HASH}\n"
MACHINE = {"linux/amd64": ("x86_64", ELF_MACHINE["x86_64"]), "linux/arm64": ("aarch64", ELF_MACHINE["arm64"])}
NO_DAEMON = ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
             "Is the docker daemon running?\n")


def elf(e_machine: int) -> bytes:
    """The 20 bytes of an ELF64 little-endian header that `verify.elf_machine` reads, plus padding."""
    return b"\x7fELF\x02\x01\x01" + b"\0" * 11 + e_machine.to_bytes(2, "little") + b"\0" * 44


class FakeDocker:
    def __init__(self, *, engine: str | None = "27.3.1", platform_override: str | None = None) -> None:
        self.engine = engine  # None: the daemon does not answer
        self.platform_override = platform_override  # simulate an image that ignores --platform
        self.calls: list[list[str]] = []

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        argv = list(argv)
        self.calls.append(argv)
        if argv[:2] == ["docker", "version"]:
            if self.engine is None:
                return Completed(tuple(argv), 1, "\n", NO_DAEMON)
            return Completed(tuple(argv), 0, f"{self.engine}\n", "")
        if argv[:2] == ["docker", "run"]:
            return self._container(argv)
        raise AssertionError(f"unexpected command {argv}")

    def _container(self, argv: list[str]) -> Completed:
        if self.engine is None:
            return Completed(tuple(argv), 125, "", NO_DAEMON)
        mounts = {v.split(":")[1]: Path(v.split(":")[0]) for i, v in enumerate(argv) if argv[i - 1] == "-v"}
        image = argv[argv.index("-u") + 2]
        command = argv[argv.index("-u") + 3:]
        minor = image.split("build-python3.")[1].split(":")[0]
        platform = self.platform_override or argv[argv.index("--platform") + 1]
        if command[:4] == ["python", "-m", "pip", "install"]:
            self._pip(mounts["/out"], mounts["/in"] / Path(command[command.index("-r") + 1]).name, minor, platform)
        elif command[:3] == ["python", "-m", "compileall"]:
            self._compileall(mounts["/out"], minor)
        else:
            raise AssertionError(f"unexpected container command {command}")
        return Completed(tuple(argv), 0, "", "")

    @staticmethod
    def _pip(out: Path, lock: Path, minor: str, platform: str) -> None:
        machine, e_machine = MACHINE[platform]
        assert lock.is_file()
        tag = f"cp3{minor}-cp3{minor}-manylinux_2_17_{machine}"
        for name, version in (("tinyext", "1.2.0"), ("helperlib", "0.3.1")):
            pkg = out / name
            (pkg / "tests").mkdir(parents=True)
            (pkg / "__init__.py").write_text(f"VERSION = {version!r}\n")
            (pkg / "tests" / "__init__.py").write_text("")  # slim must drop it
            dist = out / f"{name}-{version}.dist-info"
            dist.mkdir()
            (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
            (dist / "WHEEL").write_text(f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n")
            (dist / "RECORD").write_text(f"{name}/__init__.py,,\n")
        (out / "tinyext" / f"_core.cpython-3{minor}-{machine}-linux-gnu.so").write_bytes(elf(e_machine))

    @staticmethod
    def _compileall(out: Path, minor: str) -> None:
        for source in sorted(out.rglob("*.py")):
            pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-3{minor}.pyc"
            pyc.parent.mkdir(exist_ok=True)
            # magic, flags=0b01 (unchecked hash), 8-byte source hash, then "code"
            write_pyc(pyc, b"\0\0\r\n" + (1).to_bytes(4, "little") + b"h" * 8 + source.read_bytes())


def make_project(root: Path, *, portable: bool = False) -> Path:
    layer = root / "layers" / "tiny"
    (layer / "src" / "tiny_shared").mkdir(parents=True)
    (layer / "src" / "tiny_shared" / "__init__.py").write_text("GREETING = 'hi'\n")
    runtimes = '"python3.11", "python3.12"'
    if portable:
        (layer / "layer.toml").write_text(f'description = "t"\nruntimes = [{runtimes}]\narchitectures = '
                                          '["x86_64", "arm64"]\nsource = "src"\nportable = true\n')
    else:
        (layer / "requirements.txt").write_text(LOCK)
        (layer / "layer.toml").write_text(f'description = "t"\nruntimes = [{runtimes}]\narchitectures = '
                                          '["x86_64", "arm64"]\nrequirements = "requirements.txt"\n'
                                          'source = "src"\nportable = false\n')
    return root


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAYERSMITH_CACHE_DIR", raising=False)


def names() -> Callable[[], str]:
    """Container names as DockerInstaller's default makes them, but predictable: c-1, c-2, …"""
    counter = itertools.count(1)
    return lambda: f"c-{next(counter)}"


def pip_argv(layer_dir: Path, target: Path, platform: str, image: str, name: str = "c-1") -> list[str]:
    return ["docker", "run", "--rm", "--name", name, "--platform", platform,
            "-v", f"{layer_dir}:/in:ro", "-v", f"{target}:/out", "-u", UID, image,
            "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-cache-dir",
            "--only-binary", ":all:", "--require-hashes", "--no-deps", "--no-compile",
            "-r", "/in/requirements.txt", "--target", "/out"]


def compile_argv(root: Path, platform: str, image: str, name: str = "c-2") -> list[str]:
    return ["docker", "run", "--rm", "--name", name, "--platform", platform, "-v", f"{root}:/out", "-u", UID, image,
            "python", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
            "-s", "/out", "-p", "/opt", "/out"]


@pytest.mark.parametrize(("runtime", "arch", "platform", "image"), [
    ("python3.11", "x86_64", "linux/amd64", "public.ecr.aws/sam/build-python3.11:1.154.0-x86_64"),
    ("python3.11", "arm64", "linux/arm64", "public.ecr.aws/sam/build-python3.11:1.154.0-arm64"),
    ("python3.12", "x86_64", "linux/amd64", "public.ecr.aws/sam/build-python3.12:1.154.0-x86_64"),
    ("python3.12", "arm64", "linux/arm64", "public.ecr.aws/sam/build-python3.12:1.154.0-arm64"),
])
def test_exact_docker_run_argv(tmp_path: Path, runtime: str, arch: str, platform: str, image: str) -> None:
    project = make_project(tmp_path)
    spec = load_layers(project)["tiny"]
    assert spec.requirements is not None
    fake = FakeDocker()
    installer = DockerInstaller(fake, user=UID, names=names())
    target, stage = tmp_path / "site", tmp_path / "stage"
    stage.mkdir()
    installer.install(spec.requirements, target, RUNTIMES[runtime], arch)
    assert installer.compile_bytecode(stage, RUNTIMES[runtime]) == f"cpython-3{runtime[-2:]}"
    assert fake.calls == [
        ["docker", "version", "--format", "{{.Server.Version}}"],  # probed once, before the first run
        pip_argv(spec.directory, target, platform, image),
        compile_argv(stage, platform, image),  # the same image as the install
    ]


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_pipeline_runs_on_what_the_container_wrote(tmp_path: Path, arch: str) -> None:
    project = make_project(tmp_path)
    fake = FakeDocker()
    builder = make_builder(project, "docker", runner=fake)
    results = build_layers(project, ["tiny"], arch=arch, builder=builder)
    assert [r.variant.key for r in results] == [f"py311-{arch}", f"py312-{arch}"]
    for result, minor in zip(results, ("11", "12"), strict=True):
        assert (result.builder, result.bytecode) == ("docker", f"cpython-3{minor}")
        names = zipfile.ZipFile(result.zip_path).namelist()
        site = f"python/lib/python3.{minor}/site-packages"
        machine = MACHINE[f"linux/{'amd64' if arch == 'x86_64' else 'arm64'}"][0]
        assert f"{site}/tinyext/_core.cpython-3{minor}-{machine}-linux-gnu.so" in names
        assert f"{site}/tinyext/__pycache__/__init__.cpython-3{minor}.pyc" in names
        assert "python/tiny_shared/__pycache__/__init__." + f"cpython-3{minor}.pyc" in names  # sources too
        assert not [n for n in names if "/tests/" in n]  # slim ran on the container's output
        assert [d.name for d in result.distributions] == ["helperlib", "tinyext"]
    platforms = {c[c.index("--platform") + 1] for c in fake.calls if c[1] == "run"}
    assert platforms == {"linux/amd64" if arch == "x86_64" else "linux/arm64"}


def test_wrong_machine_from_the_container_is_refused(tmp_path: Path) -> None:
    """If an image ignored --platform (an old engine without emulation does), verify catches it."""
    project = make_project(tmp_path)
    builder = make_builder(project, "docker", runner=FakeDocker(platform_override="linux/amd64"))
    with pytest.raises(VerificationError, match=r"x86_64, which python3\.11 on arm64 cannot load"):
        build_layers(project, ["tiny"], runtime="python3.11", arch="arm64", builder=builder)


def test_daemon_unreachable_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DockerUnavailable) as info:
        probe(FakeDocker(engine=None))
    message = info.value.render()
    assert message == ("no Docker engine answers at unix:///var/run/docker.sock; start Docker or use "
                       "--builder host")
    missing = Completed(("docker",), 127, "", "command not found: docker")
    with pytest.raises(DockerUnavailable, match=r"\(the docker CLI is not installed\); start Docker"):
        probe(_Fixed(missing))


class _Fixed:
    def __init__(self, done: Completed) -> None:
        self.done = done

    def run(self, argv: Sequence[str], **_: object) -> Completed:
        return self.done


def test_cli_docker_without_engine_exits_1_without_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The real CLI path end to end: the real docker CLI (or its absence) and a socket nobody serves."""
    project = make_project(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    code = main(["--project", str(project), "build", "tiny", "--builder", "docker"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("layersmith:")]
    assert lines == [f"layersmith: error: no Docker engine answers at unix://{tmp_path}/no-engine.sock"
                     + ("" if _has_docker_cli() else " (the docker CLI is not installed)")
                     + "; start Docker or use --builder host"]


def _has_docker_cli() -> bool:
    return shutil.which("docker") is not None


def test_auto_falls_back_to_host_when_the_probe_fails() -> None:
    messages: list[str] = []
    installer = make_installer("auto", FakeDocker(engine=None), report=messages.append)
    assert isinstance(installer, HostInstaller)
    assert messages == ["builder auto -> host: no Docker engine answers at unix:///var/run/docker.sock; "
                        "start Docker or use --builder host"]
    assert isinstance(make_installer("auto", FakeDocker()), DockerInstaller)


def test_cache_key_differs_by_builder_and_image_tag(tmp_path: Path) -> None:
    spec = load_layers(make_project(tmp_path))["tiny"]
    variant = expand_variants(spec, "python3.12", "arm64")[0]
    host = HostInstaller(_Fixed(Completed(("uv",), 0, "uv 0.13.9\n", "")))
    keys = {cache_key(spec, variant, i) for i in (
        host,
        DockerInstaller(FakeDocker(), user=UID),
        DockerInstaller(FakeDocker(), user=UID, image_tag="1.155.0-{arch}"),
        DockerInstaller(FakeDocker(), user=UID, image_tag="latest-{arch}"),
    )}
    assert len(keys) == 4
    same = DockerInstaller(FakeDocker(), user="0:0")  # the uid does not change the output
    assert cache_key(spec, variant, same) == cache_key(spec, variant, DockerInstaller(FakeDocker(), user=UID))


def test_portable_sources_only_layer_gets_bytecode_for_every_runtime(tmp_path: Path) -> None:
    project = make_project(tmp_path, portable=True)
    fake = FakeDocker()
    [result] = build_layers(project, ["tiny"], builder=make_builder(project, "docker", runner=fake))
    assert result.bytecode == "cpython-311,cpython-312"
    assert bytecode_cell(result) == "cpython-311,cpython-312"
    images = [c[c.index("-u") + 2] for c in fake.calls if c[1] == "run"]
    assert images == [f"public.ecr.aws/sam/build-python3.{m}:1.154.0-x86_64" for m in ("11", "12")]


def test_bad_image_tag_is_a_user_error() -> None:
    with pytest.raises(UserError, match="--image-tag"):
        DockerInstaller(FakeDocker(), image_tag="1.154.0 x86_64")
    assert DEFAULT_IMAGE_TAG.endswith("-{arch}")


def test_build_table_says_why_there_is_no_bytecode(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    [result] = build_layers(project, ["tiny"], runtime="python3.12", arch="x86_64",
                            builder=make_builder(project, "docker", runner=FakeDocker()))
    host_like = type(result)(**{**result.__dict__, "bytecode": None, "builder": "host"})
    assert bytecode_cell(host_like) == "none (no python3.12 here)"
    assert "none (no python3.12 here)" in render_results([host_like])
    assert bytecode_cell(result) == "cpython-312"


class _Sequence:
    """The engine answers the probe, then `docker run` fails as given."""

    def __init__(self, failure: Completed) -> None:
        self.failure = failure

    def run(self, argv: Sequence[str], **_: object) -> Completed:
        if list(argv[:2]) == ["docker", "version"]:
            return Completed(tuple(argv), 0, "27.3.1\n", "")
        return self.failure


@pytest.mark.parametrize(("returncode", "stderr", "expected"), [
    (1, "ERROR: Could not find a version that satisfies the requirement tinyext==1.2.0\n"
        "ERROR: No matching distribution found for tinyext==1.2.0\n",
     r"tinyext==1\.2\.0 has no wheel for python3\.11/arm64 in public\.ecr\.aws/sam/build-python3\.11:1\.154\.0-arm64;"),
    (1, "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.\n",
     r"a download differs from the hashes in the lock"),
    (125, "Unable to find image 'public.ecr.aws/sam/build-python3.11:9.9.9-arm64' locally\n"
          "docker: Error response from daemon: manifest unknown.\n",
     r"docker could not run .*manifest unknown\.; check --image-tag"),
    # pip's words when the engine mounts /out read-only, or the container user may not write there
    (1, "ERROR: Could not install packages due to an OSError: [Errno 30] Read-only file system: "
        "'/out/tinyext-1.2.0.dist-info'\n",
     r"the container cannot write to the build directory it mounts at /out \(read-only file system\); make the "
     r"cache writable for 1000:1000"),
    (1, "ERROR: Could not install packages due to an OSError: [Errno 13] Permission denied: '/out/tinyext'\n",
     r"cannot write to the build directory it mounts at /out \(permission denied\)"),
])
def test_container_failures_are_one_actionable_line(tmp_path: Path, returncode: int, stderr: str,
                                                     expected: str) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(LOCK)
    installer = DockerInstaller(_Sequence(Completed(("docker",), returncode, "", stderr)), user=UID)
    with pytest.raises(BuildError, match=expected) as info:
        installer.install(lock, tmp_path / "site", RUNTIMES["python3.11"], "arm64")
    assert "\n" not in info.value.render()
    assert not isinstance(info.value, DockerUnavailable)


class _Interrupted(_Sequence):
    """Ctrl-C arrives while `docker run` waits; `docker rm -f` answers like Docker (the name)."""

    def __init__(self) -> None:
        super().__init__(Completed(("docker",), 0, "", ""))
        self.calls: list[list[str]] = []

    def run(self, argv: Sequence[str], **kwargs: object) -> Completed:
        self.calls.append(list(argv))
        if list(argv[:2]) == ["docker", "run"]:
            raise KeyboardInterrupt
        if list(argv[:3]) == ["docker", "rm", "-f"]:
            return Completed(tuple(argv), 0, f"{argv[3]}\n", "")
        return super().run(argv, **kwargs)


@pytest.mark.parametrize("step", ["install", "compile"])
def test_an_interrupted_container_is_removed_by_name(tmp_path: Path, step: str) -> None:
    """Killing the docker CLI (all the Runner can do) leaves the daemon's container running."""
    lock = tmp_path / "requirements.txt"
    lock.write_text(LOCK)
    fake = _Interrupted()
    installer = DockerInstaller(fake, user=UID, names=names())
    with pytest.raises(KeyboardInterrupt):
        if step == "install":
            installer.install(lock, tmp_path / "site", RUNTIMES["python3.11"], "arm64")
        else:
            installer.compile_bytecode(tmp_path, RUNTIMES["python3.11"])
    run = fake.calls[-2]
    assert run[:4] == ["docker", "run", "--rm", "--name"] and fake.calls[-1] == ["docker", "rm", "-f", run[4]]


def test_engine_gone_between_probe_and_run_is_docker_unavailable(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(LOCK)
    installer = DockerInstaller(_Sequence(Completed(("docker",), 125, "", NO_DAEMON)), user=UID)
    with pytest.raises(DockerUnavailable, match=r"no Docker engine answers at unix:///var/run/docker\.sock;"):
        installer.install(lock, tmp_path / "site", RUNTIMES["python3.12"], "x86_64")
