"""The Docker builder executed: its real `docker run` commands run by tests/standin/docker.

No Docker engine answers here and the SAM build images cannot be pulled, so `docker` on PATH is the
stand-in (NOT Docker): it runs each command in the Debian sysroot of the image's Python and CPU
(`layersmith runtimes fetch`, which adds pip), in user+mount+pid namespaces, arm64 under qemu-user.
What runs for real: the builder's argv, pip's own resolution/download/hash check/--target install
inside a Linux userland, `compileall` with the container paths, the mounts (`:ro` really read-only,
files owned by the caller), exit codes and stderr. What only Docker with the SAM images can show:
that those images' pip and CPython behave like Debian's.

Executed variants: python3.11 x86_64 + arm64 (bookworm), python3.13 x86_64 + arm64 (trixie). Not
executed: python3.12 (no Debian suite has it); named in the skip reasons (`pytest -rs`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CliRun, copy_repo_layer, write_function
from helpers import REPO
from test_variants_execute import DATA_SCIENCE, MONITORING, REQUIRED, UTILS, extract, run_on, sysroots_root

from layersmith.builder.docker import probe
from layersmith.builder.factory import make_builder
from layersmith.builder.install import HostInstaller
from layersmith.errors import EnvironmentProblem
from layersmith.local.targets import sysroot_target
from layersmith.model import BuildResult, Variant, expand_variants
from layersmith.project.specs import load_layers
from layersmith.runner import SubprocessRunner, uv_binary
from layersmith.runtimes.supported import RUNTIMES
from layersmith.runtimes.sysroots import Sysroots, sysroot_for

pytestmark = pytest.mark.slow
STANDIN = REPO / "tests" / "standin" / "docker"
EXECUTED = [("python3.11", "x86_64"), ("python3.11", "arm64"), ("python3.13", "x86_64"), ("python3.13", "arm64")]
NOT_EXECUTED = {("python3.12", "x86_64"): "no Debian suite has python3.12",
                ("python3.12", "arm64"): "no Debian suite has python3.12"}
IMAGE = "public.ecr.aws/sam/build-python3.13:1.154.0-x86_64"
TIMEOUT = 1800


def userland(runtime: str, arch: str) -> Sysroots:
    """The prepared sysroots (with pip), preparing the one runtime/arch needs; a skip naming it as not
    executed when it cannot be prepared (a failure under `make test`, which prepared them)."""
    runner = SubprocessRunner()
    sysroots = Sysroots(sysroots_root(), runner, lambda m: print(f"  {m}", file=sys.stderr, flush=True))
    spec = sysroot_for(RUNTIMES[runtime].version, arch)
    assert spec is not None
    try:
        sysroots.ensure(spec)
    except EnvironmentProblem as exc:
        if REQUIRED:
            raise
        pytest.skip(f"not executed: docker builder {runtime}/{arch}: {exc.message}")
    return sysroots


@pytest.fixture(scope="session")
def uv_found() -> None:
    """`repo_builds` starts its builds in threads, and uv's `find_uv_bin` reads sysconfig, whose first
    initialisation is not thread-safe: in a run of this module alone, that first call is there."""
    uv_binary()


@pytest.fixture(scope="session")
def standin_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose only entry is `docker`: the stand-in, on this interpreter (it imports layersmith)."""
    bindir = tmp_path_factory.mktemp("standin-bin")
    shim = bindir / "docker"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN}" "$@"\n')
    shim.chmod(0o755)
    return bindir


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch, standin_bin: Path, tmp_path: Path) -> Path:
    """`docker` is the stand-in for this test; returns its state directory (one entry per running container)."""
    state = tmp_path / "standin-state"
    monkeypatch.setenv("PATH", f"{standin_bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("LAYERSMITH_SYSROOTS", str(sysroots_root()))
    monkeypatch.setenv("LAYERSMITH_STANDIN_STATE", str(state))
    return state / f"layersmith-docker-standin-{os.getuid()}"


def docker(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *map(str, args)], capture_output=True, text=True, timeout=TIMEOUT, check=False,
                          env={**os.environ, **(env or {})})


# --- the stand-in itself ------------------------------------------------------------------------


def test_the_standin_says_it_is_not_docker(standin: Path) -> None:
    assert "NOT Docker" in docker("version").stdout and "NOT Docker" in docker("info").stdout
    # the builder's probe gets a version that says so too (and `auto` reports it)
    assert "not-docker" in probe(SubprocessRunner())


def test_mounts_user_and_read_only_root(standin: Path, tmp_path: Path) -> None:
    userland("python3.13", "x86_64")
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "lock.txt").write_text("x\n")
    script = """
import errno, json, os
def attempt(path):
    try:
        open(path, "w").close()
        return "written"
    except OSError as exc:
        return errno.errorcode[exc.errno]
print(json.dumps({"id": [os.getuid(), os.getgid()], "in": os.listdir("/in"), "in_w": attempt("/in/new"),
                  "root": attempt("/new"), "usr": attempt("/usr/new"), "tmp": attempt("/tmp/new"),
                  "out": attempt("/out/made")}))
"""
    done = docker("run", "--rm", "--platform", "linux/amd64", "-v", f"{src}:/in:ro", "-v", f"{out}:/out",
                  "-u", f"{os.getuid()}:{os.getgid()}", IMAGE, "python", "-c", script)
    assert done.returncode == 0, done.stderr
    assert "NOT Docker" in done.stderr.splitlines()[0]
    seen = json.loads(done.stdout)
    assert seen == {"id": [os.getuid(), os.getgid()], "in": ["lock.txt"], "in_w": "EROFS", "root": "EROFS",
                    "usr": "EROFS", "tmp": "written", "out": "written"}
    made = (out / "made").stat()
    assert (made.st_uid, made.st_gid) == (os.getuid(), os.getgid())
    assert not list(standin.iterdir())  # --rm: nothing left


def test_docker_itself_failing_is_125_and_the_command_s_own_code_passes_through(standin: Path) -> None:
    userland("python3.13", "x86_64")
    me = f"{os.getuid()}:{os.getgid()}"
    for args, words in (
        (["--platform", "linux/amd64", "-u", me, "public.ecr.aws/sam/build-python3.12:1.154.0-x86_64", "python"],
         "no Debian userland for python3.12"),
        (["--platform", "linux/amd64", "-u", me, "public.ecr.aws/sam/build-python3.13:0.0.1-x86_64", "python"],
         "manifest unknown"),
        (["--platform", "linux/arm64", "-u", me, IMAGE, "python"], "no matching manifest for linux/arm64"),
        (["--platform", "linux/amd64", "-u", me, "busybox", "true"], "pull access denied"),
        (["--frobnicate", IMAGE, "python"], "unknown flag: --frobnicate"),
    ):
        done = docker("run", "--rm", *args)
        assert done.returncode == 125 and words in done.stderr, (args, done.stderr)
    done = docker("run", "--rm", "--platform", "linux/amd64", "-u", me, IMAGE, "python", "-c",
                  "import sys; print('to stderr', file=sys.stderr); sys.exit(3)")
    assert (done.returncode, done.stderr.splitlines()[-1]) == (3, "to stderr")
    assert docker("run", "--rm", "--platform", "linux/amd64", "-u", me, IMAGE, "no-such-tool").returncode == 127


def test_like_the_daemon_s_a_container_outlives_a_killed_cli_until_rm_f(standin: Path) -> None:
    """What makes the Ctrl-C test mean something: SIGKILL to the `docker` CLI's process group (all
    layersmith's Runner can do) leaves the container running, as with Docker; `rm -f` ends it."""
    userland("python3.13", "x86_64")
    cli = subprocess.Popen(["docker", "run", "--rm", "--name", "outlives", "--platform", "linux/amd64", "-u",
                            f"{os.getuid()}:{os.getgid()}", IMAGE, "python", "-c", "import time; time.sleep(120)"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    pid_file = standin / "outlives" / "pid"
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    pgid = int(pid_file.read_text())
    os.killpg(cli.pid, signal.SIGKILL)
    cli.wait()
    time.sleep(0.5)
    assert container_processes(pgid)  # still running
    done = docker("rm", "-f", "outlives")
    assert (done.returncode, done.stdout) == (0, "outlives\n")
    assert container_processes(pgid) == [] and not (standin / "outlives").exists()
    assert docker("rm", "-f", "outlives").returncode == 1  # No such container


def test_arm64_runs_as_aarch64_and_its_child_processes_too(standin: Path) -> None:
    userland("python3.13", "arm64")
    code = ("import platform, subprocess, sys; print(platform.machine(), subprocess.run([sys.executable, '-c', "
            "'import platform; print(platform.machine())'], capture_output=True, text=True).stdout.strip())")
    done = docker("run", "--rm", "--platform", "linux/arm64", "-u", f"{os.getuid()}:{os.getgid()}",
                  "public.ecr.aws/sam/build-python3.13:1.154.0-arm64", "python", "-c", code)
    assert (done.returncode, done.stdout.split()) == (0, ["aarch64", "aarch64"]), done.stderr


# --- the Docker builder through it, against the host builder --------------------------------------

# Files whose bytes differ between the two paths by design
# (docs/architecture.md#the-docker-builder-executed-through-a-stand-in): the installer's name (uv
# writes `uv`, pip `pip\n`), the RECORD row of that file, and the manifest (builder, content digest).
def expected_difference(name: str, layer: str) -> bool:
    return name.endswith(".dist-info/INSTALLER") or name.endswith(".dist-info/RECORD") or \
        name == f"layersmith/{layer}.json"


def compare(host: BuildResult, dock: BuildResult, layer: str) -> list[str]:
    """Assert what must agree; return the `.pyc` entries whose bytes differ (the interpreters' patch
    releases differ: the caller decides whether that is expected)."""
    with zipfile.ZipFile(host.zip_path) as h, zipfile.ZipFile(dock.zip_path) as d:
        hi, di = h.infolist(), d.infolist()
        assert [i.filename for i in hi] == [i.filename for i in di]  # same files, same order
        pycs = []
        for a, b in zip(hi, di, strict=True):
            assert (a.external_attr, a.date_time, a.create_system) == (b.external_attr, b.date_time,
                                                                      b.create_system), a.filename
            x, y = h.read(a), d.read(b)
            if x == y:
                continue
            if a.filename.endswith(".pyc"):
                assert x[:16] == y[:16], a.filename  # magic, unchecked-hash flag, the source's hash
                pycs.append(a.filename)
            elif a.filename.endswith("/INSTALLER"):
                assert (x, y) == (b"uv", b"pip\n")
            elif a.filename.endswith("/RECORD"):
                hx, hy = ([r for r in t.decode().splitlines() if "/INSTALLER," not in r] for t in (x, y))
                assert hx == hy, a.filename
            else:
                assert expected_difference(a.filename, layer), f"{a.filename} differs"
            if a.filename.endswith(".pyc"):
                source = "/opt/" + a.filename.replace("__pycache__/", "").rsplit(".cpython-", 1)[0] + ".py"
                assert source.encode() in y and b"/out/" not in y, a.filename  # co_filename as under /opt
    return pycs


def docker_build(layer: str, variant: Variant) -> BuildResult:
    spec = load_layers(REPO)[layer]
    return make_builder(REPO, "docker").build(spec, variant)


def variants(layers: tuple[str, ...]) -> Iterator[object]:
    for spec in load_layers(REPO, list(layers)).values():
        for variant in expand_variants(spec):
            pair = (variant.runtimes[0], variant.architectures[0])
            # Each userland's builds are a unit of work of their own for `make test`'s workers
            # (tests/run_order.py): together they are too long for one worker while the other idles.
            skip = f"not executed: docker builder {spec.name} {variant.key}: {NOT_EXECUTED.get(pair)}"
            marks = [pytest.mark.xdist_group(f"docker-standin-{variant.key}")] if pair in EXECUTED else [
                pytest.mark.skip(reason=skip)]
            yield pytest.param(spec.name, variant, id=f"{spec.name}-{variant.key}", marks=marks)


def test_the_builds_are_one_unit_of_work_per_userland() -> None:
    """For `make test`'s workers (tests/run_order.py): both layers of one userland together, the
    skipped variants in no group of their own."""
    groups = {p.id: [m.args[0] for m in p.marks if m.name == "xdist_group"]  # type: ignore[attr-defined]
              for p in variants(("monitoring", "data-science"))}
    assert groups["data-science-py311-arm64"] == groups["monitoring-py311-arm64"] == ["docker-standin-py311-arm64"]
    assert groups["data-science-py313-arm64"] == groups["monitoring-py313-arm64"] == ["docker-standin-py313-arm64"]
    assert groups["monitoring-py312-x86_64"] == []


@pytest.mark.parametrize(("layer", "variant"), list(variants(("monitoring", "data-science"))))
def test_docker_build_agrees_with_the_host_build_and_runs(uv_found: None, layer: str, variant: Variant, standin: Path,
                                                          use_cache: Path,
                                                          repo_builds: dict[tuple[str, str], BuildResult],
                                                          tmp_path: Path) -> None:
    runtime, arch = variant.runtimes[0], variant.architectures[0]
    sysroots = userland(runtime, arch)
    started = time.monotonic()
    dock = docker_build(layer, variant)
    print(f"docker build {layer} {variant.key}: {time.monotonic() - started:.1f} s", file=sys.stderr)
    host = repo_builds[(layer, variant.key)]
    assert (dock.builder, dock.bytecode) == ("docker", f"cpython-{RUNTIMES[runtime].cpython_tag[2:]}")
    pycs = compare(host, dock, layer)
    spec = sysroot_for(RUNTIMES[runtime].version, arch)
    assert spec is not None
    python = sysroots.python(spec)
    assert python is not None
    # A pyc may differ only because the host's CPython is another patch release than the image's.
    found = HostInstaller(SubprocessRunner()).interpreter(RUNTIMES[runtime])
    if found is not None and found[1] == python.version:
        assert pycs == []
    # The docker-built zip runs: its compiled packages imported and used on the image's userland.
    opt = tmp_path / "opt"
    extract(dock, opt)
    if layer == "monitoring":
        extract(repo_builds[("utils", "any")], opt)
    result = run_on(sysroot_target(python), opt, runtime, DATA_SCIENCE if layer == "data-science" else MONITORING)
    assert result["machine"] == {"x86_64": "x86_64", "arm64": "aarch64"}[arch]
    if layer == "monitoring":
        assert result["wrapt_c_is_extension"] is True and result["wrapped"] == 6
    else:
        assert result["matmul"] is True and result["totals"] == {"ap": 2.0, "eu": 15.0, "us": 3.0}


def test_docker_pycs_are_what_the_image_s_cpython_compiles_outside_the_container(
        standin: Path, use_cache: Path, tmp_path: Path) -> None:
    """The pycs the container wrote equal those the same CPython (trixie's 3.13, natively) compiles
    from the same files under the same /opt paths, outside any container: the bind mounts and the
    -s/-p rewriting change nothing, so a pyc that differs from the host's differs by the interpreter."""
    sysroots = userland("python3.13", "x86_64")
    spec = load_layers(REPO)["monitoring"]
    by_key = {v.key: v for v in expand_variants(spec)}
    x86 = docker_build("monitoring", by_key["py313-x86_64"])
    extract(x86, tmp_path / "opt")
    for pyc in (tmp_path / "opt").rglob("*.pyc"):
        pyc.unlink()
    trixie = sysroot_for((3, 13), "x86_64")
    assert trixie is not None
    python = sysroots.python(trixie)
    assert python is not None
    done = subprocess.run([*python.argv, "-I", "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
                           "-s", str(tmp_path / "opt"), "-p", "/opt", str(tmp_path / "opt")],
                          env={**python.env}, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(x86.zip_path) as zf:
        pycs = [n for n in zf.namelist() if n.endswith(".pyc")]
        assert pycs
        different = [n for n in pycs if zf.read(n) != (tmp_path / "opt" / n).read_bytes()]
    assert different == []


# --- failures through the stand-in ---------------------------------------------------------------

SIX = "six==1.17.0 \\\n    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274\n"


def tiny_project(root: Path, lock: str, runtime: str = "python3.13", arch: str = "x86_64") -> Path:
    layer = root / "layers" / "tiny"
    layer.mkdir(parents=True)
    (layer / "requirements.txt").write_text(lock)
    (layer / "layer.toml").write_text(f'description = "t"\nruntimes = ["{runtime}"]\narchitectures = ["{arch}"]\n'
                                      'requirements = "requirements.txt"\nportable = false\n')
    return root


def cache_entries(cache: Path) -> list[str]:
    """What the build cache holds (its scratch `.tmp` dir included): nothing may be half-written."""
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*"))


def one_line_error(code: int, err: str) -> str:
    lines = [line for line in err.strip().splitlines() if not line.startswith(("  ", "["))]
    assert code != 0 and len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(("case", "lock", "extra_env", "words"), [
    ("image-not-pulled", SIX, {}, "docker could not run public.ecr.aws/sam/build-python3.13:0.0.1-x86_64"),
    ("no-wheel", SIX.replace("1.17.0", "99.0.0"), {}, "six==99.0.0 has no wheel for python3.13/x86_64"),
    ("hash-mismatch", SIX.replace("4721f3", "000000"), {}, "re-run `layersmith lock`"),
    ("read-only-out", SIX, {"LAYERSMITH_STANDIN_FORCE_RO": "/out"}, "cannot write to the build directory"),
])
def test_container_failures_are_one_line_and_leave_the_cache_clean(
        case: str, lock: str, extra_env: dict[str, str], words: str, standin: Path, tmp_path: Path,
        cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    userland("python3.13", "x86_64")
    project = tiny_project(tmp_path / "project", lock)
    cache = tmp_path / "cache"
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(cache))
    for key, value in extra_env.items():
        monkeypatch.setenv(key, value)
    tag = ["--image-tag", "0.0.1-{arch}"] if case == "image-not-pulled" else []
    code, _out, err = cli("--project", project, "build", "--builder", "docker", *tag)
    line = one_line_error(code, err)
    assert words in line, line
    print(line, file=sys.stderr)
    # only the locks and the (empty) scratch directory: no entry, no piece, no staging tree
    assert [e for e in cache_entries(cache) if not e.startswith(".locks")] in ([], [".tmp"]), case
    assert not standin.exists() or not list(standin.iterdir())  # no container left


def container_processes(pgid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def test_ctrl_c_during_a_container_install_leaves_no_container_and_no_half_written_cache(
        standin: Path, tmp_path: Path) -> None:
    userland("python3.13", "arm64")  # pip under qemu: a long enough install to interrupt
    project = tmp_path / "project"
    copy_repo_layer(project, "monitoring")
    cache = tmp_path / "cache"
    env = {**os.environ, "LAYERSMITH_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "layersmith", "--project", str(project), "build", "monitoring",
                             "--builder", "docker", "--runtime", "python3.13", "--arch", "arm64"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    pid_file = None
    while pid_file is None and time.monotonic() < deadline and proc.poll() is None:
        pid_file = next(iter(standin.glob("*/pid")), None) if standin.exists() else None
        time.sleep(0.2)
    assert pid_file is not None, f"no container started: {proc.communicate()[1] if proc.poll() is not None else ''}"
    time.sleep(2)
    pgid = int(pid_file.read_text())
    assert container_processes(pgid)  # pip is running in it
    proc.send_signal(signal.SIGINT)  # what Ctrl-C delivers to layersmith (the container is in its own session)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.strip().splitlines()[-1] == "layersmith: interrupted", err
    time.sleep(1)
    assert container_processes(pgid) == []
    assert not list(standin.iterdir())  # removed, like `docker rm -f`
    before = cache_entries(cache)
    time.sleep(2)
    assert cache_entries(cache) == before  # nothing is still writing into it
    assert not [e for e in before if e.endswith(("layer.zip", "result.json"))], before


# --- check and invoke on a stack whose builder is docker -----------------------------------------

HANDLER = """
import wrapt
from aws_lambda_powertools import Logger
from wrapt import _wrappers

def handler(event, context):
    Logger(service="docker-standin").info("hi")
    return {"wrapt": wrapt.__version__, "compiled": not _wrappers.__file__.endswith(".py"), "n": event.get("n")}
"""


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_check_and_invoke_pass_with_the_docker_builder_as_with_the_host_one(
        arch: str, standin: Path, use_cache: Path, tmp_path: Path, cli: CliRun) -> None:
    userland("python3.13", arch)
    project = tmp_path / "project"
    copy_repo_layer(project, "monitoring")
    toml = project / "layers" / "monitoring" / "layer.toml"  # the stack publishes every variant: only these
    text = re.sub(r"(?m)^runtimes = .*$", 'runtimes = ["python3.13"]', toml.read_text(encoding="utf-8"))
    toml.write_text(re.sub(r"(?m)^architectures = .*$", f'architectures = ["{arch}"]', text), encoding="utf-8")
    (project / "Pulumi.yaml").write_text("name: dockercheck\nruntime: python\n", encoding="utf-8")
    shutil.copy(REPO / "__main__.py", project / "__main__.py")  # `check` plans with the real program
    shutil.copytree(REPO / "policies" / "config", project / "policies" / "config")
    write_function(project, "probe", HANDLER, layers=["monitoring"], runtime="python3.13", architecture=arch,
                   event={"n": 7})
    results = {}
    for builder in ("host", "docker"):
        config = {"aws:region": "eu-west-1", "layersmith:deploy": ["probe"], "layersmith:builder": builder}
        (project / f"Pulumi.{builder}.yaml").write_text(json.dumps({"config": config}), encoding="utf-8")
        code, out, err = cli("--project", project, "check", "--stack", builder, "--json")
        assert code == 0, err
        assert [f for f in json.loads(out)["findings"] if f["level"] == "error"] == []
        code, out, err = cli("--project", project, "invoke", "probe", "--stack", builder)
        assert code == 0, err
        results[builder] = json.loads(out)
    assert results["docker"] == results["host"] == {"wrapt": "2.5.2", "compiled": True, "n": 7}


def test_the_portable_utils_layer_on_the_runtimes_the_standin_has(standin: Path, use_cache: Path,
                                                                  tmp_path: Path) -> None:
    """utils lists python3.11-3.13 and compiles bytecode for each, with the x86_64 image: python3.12
    has no userland here, so the repo's utils is not executed through the stand-in. The same sources
    restricted to python3.13 are, and agree with the host build."""
    sysroots = userland("python3.13", "x86_64")
    project = tmp_path / "project"
    copy_repo_layer(project, "utils")
    toml = project / "layers" / "utils" / "layer.toml"
    original = toml.read_text(encoding="utf-8")
    restricted = re.sub(r"(?m)^runtimes = .*$", 'runtimes = ["python3.13"]', original)
    assert restricted != original
    toml.write_text(restricted, encoding="utf-8")
    spec = load_layers(project)["utils"]
    (variant,) = expand_variants(spec)
    host = make_builder(project, "host").build(spec, variant)
    dock = make_builder(project, "docker").build(spec, variant)
    assert dock.bytecode == host.bytecode == "cpython-313"
    compare(host, dock, "utils")
    trixie = sysroot_for((3, 13), "x86_64")
    assert trixie is not None
    python = sysroots.python(trixie)
    assert python is not None
    extract(dock, tmp_path / "opt")
    result = run_on(sysroot_target(python), tmp_path / "opt", "python3.13", UTILS)
    assert result["parsed"] == 1 and result["utils"].startswith(str(tmp_path / "opt" / "python"))
