"""Every layer variant executed on a real interpreter of its own Python version and CPU architecture.

Static checks (ELF machine, wheel tags, glibc symbol versions) say a variant *should* load; this
tier loads it. Each built zip is extracted into an /opt-like directory and its compiled packages
are imported, and used, by an interpreter of exactly the variant's version and architecture,
chosen the way `layersmith invoke` chooses (`layersmith.local.targets`): the host's own CPython
(this one, pyenv, uv), else a Debian sysroot (bookworm arm64 3.11, trixie x86_64/arm64 3.13; arm64
under qemu-user with a Graviton2 CPU), prepared on first use. `make test` prepares the sysroots
first (`make runtimes`) and sets LAYERSMITH_REQUIRE_RUNTIMES=1, so a sysroot that cannot be
prepared fails the run instead of being skipped.

A variant with no interpreter anywhere here (py312-arm64: Python 3.12 for arm64 exists in no
Debian suite) is reported by name as "not executed" in the skip reasons (`pytest -rs`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun, copy_repo_layer, write_function
from helpers import REPO

from layersmith.builder.verify import check_elf
from layersmith.errors import EnvironmentProblem
from layersmith.local.invoke import runtime_dir
from layersmith.local.targets import Chooser, Target, sysroot_target
from layersmith.model import BuildResult, Variant, expand_variants
from layersmith.project.specs import load_layers
from layersmith.runner import SubprocessRunner
from layersmith.runtimes.supported import RUNTIMES
from layersmith.runtimes.sysroots import Sysroots, sysroot_for

pytestmark = pytest.mark.slow
# "<variant>: <interpreter>" for every variant this session executed; printed in pytest's terminal
# summary (tests/functional/conftest.py), next to the skip reasons of those it could not.
EXECUTED: list[str] = []
MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
REQUIRED = os.environ.get("LAYERSMITH_REQUIRE_RUNTIMES") == "1"
# Emulated imports of pandas take ~4 s; a cold sysroot adds ~40 s. Generous, never a timing test.
TIMEOUT = 600


def sysroots_root() -> Path:
    """Where `make runtimes` puts them (LAYERSMITH_SYSROOTS), else the project's default place, so a
    developer's `pytest` reuses what `layersmith runtimes fetch` prepared."""
    env = os.environ.get("LAYERSMITH_SYSROOTS")
    return Path(env) if env else REPO / ".layersmith" / "cache" / "sysroots"


@pytest.fixture(scope="session")
def chooser() -> Chooser:
    def progress(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    runner = SubprocessRunner()
    return Chooser(runner, Sysroots(sysroots_root(), runner, progress), report=progress)


def target_for(chooser: Chooser, runtime: str, arch: str, what: str) -> Target:
    """The interpreter for runtime/arch (preparing its sysroot if needed), or a skip that names
    `what` as not executed, and why."""
    try:
        return chooser.choose(runtime, arch, docker=False)
    except EnvironmentProblem as exc:
        if REQUIRED and sysroot_for(RUNTIMES[runtime].version, arch) is not None:
            raise  # make test prepared it: failing to run it is a failure, not a skip
        pytest.skip(f"not executed: {what}: {exc.message}")


def extract(result: BuildResult, opt: Path) -> None:
    with zipfile.ZipFile(result.zip_path) as zf:
        zf.extractall(opt)


def extract_elf(result: BuildResult, root: Path) -> int:
    """Only the zip's ELF files (by their first four bytes, as `check_elf` tells them), the only ones
    `check_elf` reads: the 13 variants' .py files were most of this test's time. Returns how many."""
    count = 0
    with zipfile.ZipFile(result.zip_path) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            with zf.open(info) as member:
                if member.read(4) != b"\x7fELF":
                    continue
            zf.extract(info, root)
            count += 1
    return count


def run_on(target: Target, opt: Path, runtime: str, code: str) -> dict[str, Any]:
    """`code` on the target interpreter with Lambda's sys.path over `opt`; it prints one JSON line,
    returned parsed."""
    # Lambda's boto3 & co. come last: the sysroot's own var/runtime, or (on a host interpreter) this
    # environment's, linked the way `invoke` links them
    runtime_site = target.runtime_site or runtime_dir(opt.parent / "runtime")
    paths = [str(opt / RUNTIMES[runtime].site_packages), str(opt / "python"), str(runtime_site)]
    prelude = f"import sys; sys.path[:0] = {paths!r}\n"
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(opt), "PYTHONDONTWRITEBYTECODE": "1",
           **target.env}
    done = subprocess.run([*target.python(), "-I", "-S", "-c", prelude + code], env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, f"{target.label}: {done.stderr[-2000:]}"
    lines = done.stdout.strip().splitlines()
    assert lines, f"{target.label}: no output; stderr: {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result


IDENTITY = """
import json, platform
def identity(**extra):
    print(json.dumps({"machine": platform.machine(), "version": platform.python_version(), **extra}))
"""

DATA_SCIENCE = IDENTITY + """
import numpy, pandas
n = 160
a = numpy.fromfunction(lambda i, j: (i * 7 + j * 3) % 11 - 5, (n, n))
c = a @ a.T  # BLAS (OpenBLAS from the wheel), checked against plain Python below
rows = [[(i * 7 + j * 3) % 11 - 5 for j in range(n)] for i in range(n)]
expected = [sum(x * y for x, y in zip(rows[i], rows[j])) for i, j in ((0, 0), (3, 17), (n - 1, 42))]
got = [int(c[i, j]) for i, j in ((0, 0), (3, 17), (n - 1, 42))]
frame = pandas.DataFrame({"region": ["eu", "us", "eu", "ap"], "amount": [10.5, 3.0, 4.5, 2.0]})
totals = frame.groupby("region")["amount"].sum().to_dict()
identity(numpy=numpy.__version__, pandas=pandas.__version__, numpy_file=numpy.__file__,
         matmul=got == expected, trace=float(numpy.trace(c)),
         expected_trace=float(sum(sum(v * v for v in r) for r in rows)), totals=totals)
"""

MONITORING = IDENTITY + """
import importlib.machinery, io, contextlib
import wrapt
from wrapt import _wrappers  # the compiled module (a pure-Python fallback exists: make sure it is not that)
from aws_lambda_powertools import Logger, Metrics, Tracer
import aws_xray_sdk
import shared_monitoring
@wrapt.decorator
def twice(wrapped, instance, args, kwargs):
    return wrapped(*args, **kwargs) * 2
@twice
def three():
    return 3
out = io.StringIO()
with contextlib.redirect_stdout(out):
    Logger(service="variant-test").info("hello from the layer")
logged = json.loads(out.getvalue())
identity(wrapt_c=_wrappers.__file__, wrapt_c_is_extension=_wrappers.__file__.endswith(
    tuple(importlib.machinery.EXTENSION_SUFFIXES)), wrapped=three(), logged=logged["message"],
    level=logged["level"], monitor=shared_monitoring.__file__)
"""

UTILS = IDENTITY + """
import shared_utils
from shared_utils import parse_sqs_event
record = {"messageId": "m1", "receiptHandle": "r1", "body": "{}", "eventSource": "aws:sqs"}
records = parse_sqs_event({"Records": [record]})
identity(utils=shared_utils.__file__, parsed=len(records))
"""


def native_variants() -> list[tuple[str, Variant]]:
    return [(spec.name, v) for spec in load_layers(REPO).values() for v in expand_variants(spec) if not v.portable]


def variant_id(item: tuple[str, Variant]) -> str:
    return f"{item[0]}-{item[1].key}"


@pytest.mark.parametrize("item", native_variants(), ids=variant_id)
def test_native_variant_imports_its_compiled_packages(item: tuple[str, Variant], chooser: Chooser,
                                                      repo_builds: dict[tuple[str, str], BuildResult],
                                                      tmp_path: Path) -> None:
    layer, variant = item
    runtime, arch = variant.runtimes[0], variant.architectures[0]
    target = target_for(chooser, runtime, arch, f"{layer} {variant.key}")
    build = repo_builds[(layer, variant.key)]
    opt = tmp_path / "opt"
    extract(build, opt)
    code = {"data-science": DATA_SCIENCE, "monitoring": MONITORING}[layer]
    if layer == "monitoring":
        extract(repo_builds[("utils", "any")], opt)  # shared_monitoring uses nothing from utils, but Lambda
        # functions attach both: the pair must import together
    result = run_on(target, opt, runtime, code)
    assert result["machine"] == MACHINE[arch], target.label
    assert result["version"].startswith(f"{RUNTIMES[runtime].dotted}."), target.label
    if layer == "data-science":
        assert result["matmul"] is True and result["trace"] == result["expected_trace"]
        assert result["totals"] == {"ap": 2.0, "eu": 15.0, "us": 3.0}
        assert result["numpy_file"].startswith(str(opt / RUNTIMES[runtime].site_packages))
        locked = {d.name: d.version for d in build.distributions}
        assert (result["numpy"], result["pandas"]) == (locked["numpy"], locked["pandas"])
    else:
        assert result["wrapt_c_is_extension"] is True, result["wrapt_c"]
        assert result["wrapt_c"].startswith(str(opt))
        assert result["wrapped"] == 6
        assert (result["logged"], result["level"]) == ("hello from the layer", "INFO")
        assert result["monitor"].startswith(str(opt / "python"))
    EXECUTED.append(f"{layer} {variant.key}: {target.label}")


@pytest.mark.parametrize("layer", ["data-science", "monitoring"])
def test_the_native_trixie_sysroot_runs_the_py313_x86_64_variants_too(layer: str, chooser: Chooser,
                                                                       repo_builds: dict[tuple[str, str], BuildResult],
                                                                       tmp_path: Path) -> None:
    """Where a host CPython 3.13 exists the tier above uses it; Debian's own 3.13 build (glibc 2.41,
    run through its own loader) must load the same zips: the path a machine without pyenv takes."""
    spec = sysroot_for((3, 13), "x86_64")
    assert spec is not None
    try:
        target = sysroot_target(chooser.sysroots.ensure(spec))
    except EnvironmentProblem as exc:
        if REQUIRED:
            raise
        pytest.skip(f"not executed: {layer} py313-x86_64 on sysroot {spec.name}: {exc.message}")
    opt = tmp_path / "opt"
    extract(repo_builds[(layer, "py313-x86_64")], opt)
    extract(repo_builds[("utils", "any")], opt)
    result = run_on(target, opt, "python3.13", DATA_SCIENCE if layer == "data-science" else MONITORING)
    assert result["machine"] == "x86_64" and result["version"].startswith("3.13.")
    assert result.get("matmul", True) is True and result.get("wrapt_c_is_extension", True) is True
    EXECUTED.append(f"{layer} py313-x86_64: {target.label}")


PORTABLE_TARGETS = [(rt, a) for rt in ("python3.11", "python3.12", "python3.13") for a in ("x86_64", "arm64")]


@pytest.mark.parametrize(("runtime", "arch"), PORTABLE_TARGETS, ids=lambda v: v)
def test_the_portable_utils_layer_runs_on_every_runtime_it_lists(runtime: str, arch: str, chooser: Chooser,
                                                                 repo_builds: dict[tuple[str, str], BuildResult],
                                                                 tmp_path: Path) -> None:
    target = target_for(chooser, runtime, arch, f"utils any on {runtime}/{arch}")
    extract(repo_builds[("utils", "any")], tmp_path / "opt")
    result = run_on(target, tmp_path / "opt", runtime, UTILS)
    assert (result["machine"], result["parsed"]) == (MACHINE[arch], 1)
    assert result["version"].startswith(f"{RUNTIMES[runtime].dotted}.")


def test_every_variants_binaries_fit_its_runtimes_glibc(repo_builds: dict[tuple[str, str], BuildResult],
                                                        tmp_path: Path) -> None:
    """The guard `verify` applies at build time, re-read from the shipped zips, with the numbers
    measured on this lock: the Amazon Linux 2 (python3.11) variants need at most glibc 2.17."""
    needed: dict[str, tuple[int, int] | None] = {}
    for (layer, key), result in sorted(repo_builds.items()):
        if result.variant.portable:
            continue
        root = tmp_path / f"{layer}-{key}"
        assert extract_elf(result, root) > 0, f"{layer}-{key} is not portable but ships no ELF file"
        needed[f"{layer}-{key}"] = check_elf(root, result.variant)  # raises when a binary needs more
    print("glibc needed:", {k: f"{v[0]}.{v[1]}" if v else "none" for k, v in needed.items()})
    for name, version in needed.items():
        assert version is not None, f"{name} ships compiled code, so it needs some glibc"
        if "py311" in name:
            assert version <= (2, 17), name


@pytest.fixture
def invoking(monkeypatch: pytest.MonkeyPatch, use_cache: Path, repo_builds: dict[tuple[str, str], BuildResult]) -> None:
    """`layersmith invoke` in-process, on the session's builds and the same sysroots as `chooser`."""
    monkeypatch.setenv("LAYERSMITH_SYSROOTS", str(sysroots_root()))


def test_thumbnail_index_is_invoked_on_arm64_with_its_result(invoking: None, cli: CliRun, chooser: Chooser) -> None:
    target_for(chooser, "python3.13", "arm64", "thumbnail-index (python3.13/arm64)")
    code, out, err = cli("--project", REPO, "invoke", "thumbnail-index")
    assert code == 0, err
    assert "thumbnail-index ran on sysroot trixie-arm64 (Debian trixie CPython 3.13" in err
    assert "arm64 under qemu-aarch64, QEMU_CPU=neoverse-n1)" in err
    result = json.loads(out)
    assert [e["key"] for e in result["indexed"]] == ["uploads/summer holiday(2026).JPG"]
    assert result["indexed"][0]["thumbnails"] == {"128": "thumbnails/128/uploads/summer holiday(2026).webp",
                                                  "512": "thumbnails/512/uploads/summer holiday(2026).webp"}
    assert [s["reason"] for s in result["skipped"]] == ["is a thumbnail (our own output)", "not an image",
                                                        "event ObjectRemoved:Delete is not an upload"]


PROBE = """
import platform, subprocess, sys
import wrapt
def handler(event, context):
    child = subprocess.run([sys.executable, "-c", "import platform; print(platform.machine())"],
                           capture_output=True, text=True)
    return {"machine": platform.machine(), "child": child.stdout.strip() or child.stderr.strip()[-200:],
            "wrapt": wrapt.__version__, "remaining": context.get_remaining_time_in_millis() > 0}
"""


def test_an_arm64_handler_sees_aarch64_and_can_start_child_processes(invoking: None, cli: CliRun, tmp_path: Path,
                                                                      chooser: Chooser) -> None:
    target = target_for(chooser, "python3.11", "arm64", "an arm64 python3.11 probe function")
    project = tmp_path / "project"
    for layer in ("utils", "monitoring"):
        copy_repo_layer(project, layer)  # same contents: the session's cache entries
    write_function(project, "arm-probe", PROBE, layers=["utils", "monitoring"], runtime="python3.11",
                   architecture="arm64", timeout=60)
    code, out, err = cli("--project", project, "invoke", "arm-probe")
    assert code == 0, err
    assert "arm-probe ran on sysroot bookworm-arm64 (Debian bookworm CPython 3.11" in err
    result = json.loads(out)
    assert result["machine"] == "aarch64" and result["remaining"] is True
    # a child process of the emulated python: it needs binfmt_misc in a namespace of its own
    expected_child = "aarch64" if "unshare" in target.argv else result["child"]
    assert result["child"] == expected_child
