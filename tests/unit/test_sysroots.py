"""Sysroots and the invoke target choice, with a fake runner that does what apt-get, dpkg-deb, uv and
the sysroot's python do to the file system (the real thing runs in tests/functional/test_variants_execute.py)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from helpers import REPO

from layersmith.commands import runtimes as runtimes_command
from layersmith.errors import EnvironmentProblem, UserError
from layersmith.local.targets import Chooser
from layersmith.project.checkout import load_project
from layersmith.runner import Completed
from layersmith.runtimes.interpreters import Interpreter
from layersmith.runtimes.sysroots import Sysroots, by_name, sysroot_for
from layersmith.runtimes.sysroots.apt import PrivateApt, deb_version
from layersmith.runtimes.sysroots.manager import IMAGE_LOCK, IMAGE_STAMP, STAMP, binfmt_registration


class FakeDebian:
    """apt-get (update / install --download-only / download), the dpkg-deb|tar unpack, uv and the
    unpacked python, as far as their effects on disk and their output go."""

    def __init__(self, *, python: str = "3.13.5", children: bool = True, fail: str | None = None,
                 docker: bool = False) -> None:
        self.python, self.children, self.fail, self.docker = python, children, fail, docker
        self.argvs: list[tuple[str, ...]] = []
        self.envs: list[Mapping[str, str]] = []

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        argv = tuple(argv)
        self.argvs.append(argv)
        self.envs.append(dict(env or {}))
        joined = " ".join(argv)
        if self.fail and self.fail in joined:
            return Completed(argv, 100, "", "E: Failed to fetch http://deb.debian.org/debian/dists/trixie/InRelease")
        if argv[0] == "docker":
            return Completed(argv, 0, "27.3.1\n", "") if self.docker else Completed(argv, 127, "", "not found")
        if argv[:2] == ("apt-get", "-q"):
            return self._apt(argv, cwd, env or {})
        if argv[0] == "bash":  # bash -o pipefail -c SCRIPT unpack DEB DEST [MEMBER...]
            deb, dest, members = Path(argv[6]), Path(argv[7]), argv[8:]
            package = deb.name.split("_")[0]
            files = [f"usr/bin/{package}"] if package.startswith("python3.") else []
            for rel in members or [f"usr/share/doc/{package}/copyright", *files]:
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                (dest / rel).write_text("unpacked")
            return Completed(argv, 0, "", "")
        if "pip" in argv and "install" in argv:
            target = Path(argv[argv.index("--target") + 1])
            (target / "boto3").mkdir(parents=True)
            return Completed(argv, 0, "", "")
        if "compileall" in argv:
            return Completed(argv, 0, "", "")
        if "subprocess" in joined:  # the child-process probe
            return Completed(argv, 0, "aarch64\n", "") if self.children else Completed(argv, 1, "", "Exec format error")
        if "platform.python_version()" in joined:
            return Completed(argv, 0, f"{self.python} aarch64\n", "")
        raise AssertionError(f"unexpected command {argv}")

    def _apt(self, argv: tuple[str, ...], cwd: Path | None, env: Mapping[str, str]) -> Completed:
        config = Path(env["APT_CONFIG"])
        archives = config.parent / "cache" / "archives"
        if "--download-only" in argv:
            for deb in ("python3.13_3.13.5-2_arm64.deb", "libc6_2.41-12_arm64.deb",
                        "libpython3.13-minimal_3.13.5-2_arm64.deb"):
                (archives / deb).write_bytes(b"!<arch>\n")
        elif "download" in argv:
            assert cwd is not None
            (cwd / "qemu-user-static_1%3a7.2+dfsg-7+deb12u18+b3_amd64.deb").write_bytes(b"!<arch>\n")
        return Completed(argv, 0, "", "")


ARM313 = by_name("trixie-arm64")


def test_prepare_is_private_idempotent_and_stamped(tmp_path: Path) -> None:
    assert ARM313 is not None
    fake, messages = FakeDebian(), []
    sysroots = Sysroots(tmp_path, fake, messages.append, arch="x86_64")
    python = sysroots.ensure(ARM313)
    # every apt-get call used the private config, never the host's apt/dpkg
    apt_envs = [e for a, e in zip(fake.argvs, fake.envs, strict=True) if a[0] == "apt-get"]
    assert apt_envs and all(e["APT_CONFIG"].startswith(str(tmp_path / "apt")) for e in apt_envs)
    assert not any(a[0] == "dpkg" or "--add-architecture" in a for a in fake.argvs)
    stamp = json.loads((tmp_path / "trixie-arm64" / STAMP).read_text())
    assert stamp["python"] == "3.13.5" and stamp["children"] is True
    assert "python3.13=3.13.5-2" in stamp["packages"] and "libc6=2.41-12" in stamp["packages"]
    assert not (tmp_path / "apt").exists() or not any((tmp_path / "apt").iterdir())  # lists and .debs removed
    assert (tmp_path / "trixie-arm64" / "var" / "runtime" / "boto3").is_dir()  # boto3 outside /opt
    assert (tmp_path / "trixie-arm64" / "lib").resolve() == (tmp_path / "trixie-arm64" / "usr" / "lib").resolve()
    assert python.env["QEMU_CPU"] == "neoverse-n1" and python.emulated
    assert python.argv[0] == "unshare" and python.argv[-1].endswith("trixie-arm64/usr/bin/python3.13")
    assert "sysroot trixie-arm64 (Debian trixie CPython 3.13.5, arm64 under qemu-aarch64, QEMU_CPU=neoverse-n1)" \
        in messages[-2]
    assert "pip into usr/local" in messages[-1]  # then the docker stand-in's tools
    assert any("compileall" in a for a in fake.argvs)  # the stdlib is precompiled
    before = len(fake.argvs)
    assert sysroots.ensure(ARM313) == python and len(fake.argvs) == before  # prepared: nothing runs
    sysroots.ensure(ARM313, force=True)
    assert len(fake.argvs) > before
    (tmp_path / "qemu" / "usr" / "bin" / "qemu-aarch64-static").unlink()
    assert sysroots.python(ARM313) is None  # without its qemu a sysroot is not ready


def test_a_sysroot_prepared_before_pip_is_extended_not_redone(tmp_path: Path) -> None:
    """pip's wheel and `python` (what the docker stand-in runs) come from a pinned, hashed lock, with
    their own stamp: `runtimes fetch` adds them to a ready sysroot without fetching it again."""
    assert ARM313 is not None
    fake = FakeDebian()
    sysroots = Sysroots(tmp_path, fake, arch="x86_64")
    sysroots.ensure(ARM313)
    root = tmp_path / "trixie-arm64"
    assert sysroots.has_image_tools(ARM313)
    assert os.readlink(root / "usr" / "local" / "bin" / "python") == "/usr/bin/python3.13"
    (root / IMAGE_STAMP).unlink()  # as on a machine that prepared it before this step existed
    assert not sysroots.has_image_tools(ARM313)
    before = len(fake.argvs)
    sysroots.ensure(ARM313)
    added = fake.argvs[before:]
    assert not any(a[0] == "apt-get" for a in added)  # not redone
    (install,) = [a for a in added if "install" in a]
    assert install[install.index("-r") + 1] == str(IMAGE_LOCK) and "--require-hashes" in install
    assert install[install.index("--target") + 1] == str(root / "usr/local/lib/python3.13/dist-packages")
    assert any("compileall" in a for a in added)  # pip precompiled: the stand-in's root is read-only
    assert sysroots.has_image_tools(ARM313)
    ready = len(fake.argvs)
    sysroots.ensure(ARM313)
    assert len(fake.argvs) == ready  # and then nothing runs


def test_without_binfmt_misc_the_emulated_python_runs_under_plain_qemu(tmp_path: Path) -> None:
    assert ARM313 is not None
    messages: list[str] = []
    python = Sysroots(tmp_path, FakeDebian(children=False), messages.append, arch="x86_64").ensure(ARM313)
    assert python.argv == (str(tmp_path / "qemu/usr/bin/qemu-aarch64-static"), "-L", str(tmp_path / "trixie-arm64"),
                           str(tmp_path / "trixie-arm64/usr/bin/python3.13"))
    assert any("child processes of the emulated python will not start" in m for m in messages)


def test_a_failed_download_is_an_environment_problem_and_leaves_no_stamp(tmp_path: Path) -> None:
    assert ARM313 is not None
    with pytest.raises(EnvironmentProblem, match=r"apt-get update \(bookworm, bookworm-updates, bookworm-security, "
                                                 r"amd64\) failed: E: Failed to fetch"):
        Sysroots(tmp_path, FakeDebian(fail="update"), arch="x86_64").ensure(ARM313)
    assert Sysroots(tmp_path, FakeDebian(), arch="x86_64").python(ARM313) is None


def test_a_machine_without_apt_get_is_told_what_is_needed(tmp_path: Path) -> None:
    class NoApt(FakeDebian):
        def run(self, argv: Sequence[str], **kw: object) -> Completed:
            if argv[0] == "apt-get":
                return Completed(tuple(argv), 127, "", "command not found: apt-get")
            return super().run(argv)

    with pytest.raises(EnvironmentProblem, match="apt-get is not installed: preparing the Debian sysroots needs "
                                                 "apt-get and dpkg-deb"):
        Sysroots(tmp_path, NoApt(), arch="x86_64").ensure_qemu("arm64")


def test_private_apt_config_points_only_at_its_own_directories(tmp_path: Path) -> None:
    apt = PrivateApt(tmp_path / "apt", "arm64", ("trixie", "trixie-updates", "trixie-security"), FakeDebian())
    apt.write_config()
    config = apt.config.read_text()
    paths = re.findall(r'"(/[^"]*)"', config)
    assert paths and all(p.startswith(str(tmp_path / "apt")) for p in paths)
    assert 'APT::Architecture "arm64";' in config and 'pkgCacheGen::Essential "none";' in config
    sources = (tmp_path / "apt" / "etc" / "sources.list").read_text().splitlines()
    signed = "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
    assert sources == [f"{signed} http://deb.debian.org/debian trixie main",
                       f"{signed} http://deb.debian.org/debian trixie-updates main",
                       f"{signed} http://deb.debian.org/debian-security trixie-security main"]
    assert (tmp_path / "apt" / "state" / "status").read_text() == ""  # nothing counts as installed


def test_deb_version_and_binfmt_registration() -> None:
    assert deb_version(Path("qemu-user-static_1%3a7.2+dfsg-7_amd64.deb")) == "qemu-user-static=1:7.2+dfsg-7"
    line = binfmt_registration("arm64", Path("/q/qemu-aarch64-static"))
    name, kind, _offset, magic, mask, interpreter, flags = line.split(":")[1:]
    assert (name, kind, interpreter, flags) == ("layersmith-aarch64", "M", "/q/qemu-aarch64-static", "FOC")
    magic_bytes = bytes(int(h, 16) for h in magic.split("\\x")[1:])
    mask_bytes = bytes(int(h, 16) for h in mask.split("\\x")[1:])
    assert len(magic_bytes) == len(mask_bytes) == 20
    assert magic_bytes[:4] == b"\x7fELF" and int.from_bytes(magic_bytes[18:20], "little") == 183  # EM_AARCH64


def test_the_catalog_has_no_python312_anywhere() -> None:
    assert sysroot_for((3, 12), "arm64") is None and sysroot_for((3, 12), "x86_64") is None
    assert [s.name for s in (sysroot_for((3, 11), "arm64"), sysroot_for((3, 13), "x86_64"))] == [
        "bookworm-arm64", "trixie-amd64"]


# --- where a function runs: host -> sysroot -> docker --------------------------------------------------


class FakeFinder:
    def __init__(self, found: dict[tuple[int, int], Interpreter]) -> None:
        self.found = found

    def find(self, version: tuple[int, int]) -> Interpreter | None:
        return self.found.get(version)


HOST311 = Interpreter("/usr/bin/python3.11", "3.11.7", "x86_64", "PATH")


def chooser(tmp_path: Path, fake: FakeDebian, messages: list[str] | None = None) -> Chooser:
    report = messages.append if messages is not None else (lambda _m: None)
    return Chooser(fake, Sysroots(tmp_path, fake, report, arch="x86_64"), finder=FakeFinder({(3, 11): HOST311}),
                   report=report, arch="x86_64")


def test_the_host_wins_when_version_and_arch_match(tmp_path: Path) -> None:
    fake = FakeDebian()
    target = chooser(tmp_path, fake).choose("python3.11", "x86_64")
    assert (target.kind, target.argv, target.label) == ("host", ("/usr/bin/python3.11",),
                                                        "host CPython 3.11.7 (x86_64, PATH)")
    assert fake.argvs == []


def test_a_missing_sysroot_is_prepared_on_first_use_with_progress(tmp_path: Path) -> None:
    fake, messages = FakeDebian(), []
    target = chooser(tmp_path, fake, messages).choose("python3.13", "arm64")
    assert target.kind == "sysroot" and target.env["QEMU_CPU"] == "neoverse-n1"
    assert target.runtime_site == tmp_path / "trixie-arm64" / "var" / "runtime"
    assert messages[0] == ("python3.13/arm64: preparing sysroot trixie-arm64 (first use; `layersmith runtimes "
                           "fetch` does it ahead of time)")
    assert not any(a[0] == "docker" for a in fake.argvs)  # a sysroot comes before Docker


def test_python312_arm64_goes_to_docker_or_is_refused_naming_why(tmp_path: Path) -> None:
    assert chooser(tmp_path, FakeDebian(docker=True)).choose("python3.12", "arm64").kind == "docker"
    with pytest.raises(UserError) as info:
        chooser(tmp_path, FakeDebian()).choose("python3.12", "arm64", who="thumbs")
    assert info.value.key == "thumbs"
    assert info.value.message.startswith("nothing here runs python3.12/arm64: this machine is x86_64; Python 3.12 "
                                         "exists in no Debian suite, and no Docker engine answers")


def test_a_sysroot_that_cannot_be_prepared_falls_back_to_docker_or_says_why(tmp_path: Path) -> None:
    assert chooser(tmp_path, FakeDebian(fail="update", docker=True)).choose("python3.13", "arm64").kind == "docker"
    with pytest.raises(UserError, match=r"preparing sysroot trixie-arm64 failed \(apt-get update"):
        chooser(tmp_path, FakeDebian(fail="update")).choose("python3.13", "arm64")


def test_a_native_sysroot_runs_through_its_own_loader_with_lambdas_library_dirs(tmp_path: Path) -> None:
    spec = by_name("trixie-amd64")
    assert spec is not None
    root = tmp_path / spec.name
    root.mkdir()
    (root / STAMP).write_text(json.dumps({"recipe": "1", "python": "3.13.5", "children": False}))
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "python3.13").write_text("")
    fake = FakeDebian()
    target = chooser(tmp_path, fake).choose("python3.13", "x86_64")
    assert fake.argvs == []  # prepared already: nothing ran
    assert target.label == "sysroot trixie-amd64 (Debian trixie CPython 3.13.5, x86_64, its own loader)"
    assert target.python("/task/lib", "/opt/lib") == [
        str(root / "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"), "--library-path",
        f"{root}/usr/lib/x86_64-linux-gnu:/task/lib:/opt/lib", str(root / "usr/bin/python3.13")]


# --- `runtimes fetch`: only what the project needs, every sysroot at once ------------------------------

class Overlapping(FakeDebian):
    """Holds each sysroot's `apt-get update` until two sysroots are being fetched at the same time."""

    def __init__(self) -> None:
        super().__init__()
        self.started: set[str] = set()
        self.guard = threading.Lock()
        self.overlapped = threading.Event()
        self.alone = False  # some sysroot's download gave up waiting for another to start

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        if tuple(argv[:2]) == ("apt-get", "-q") and "update" in argv and env:
            home = Path(env["APT_CONFIG"]).parent.name
            if not home.startswith("qemu"):
                with self.guard:
                    self.started.add(home)
                    if len(self.started) >= 2:
                        self.overlapped.set()
                if not self.overlapped.wait(5):
                    self.alone = True
        return super().run(argv, cwd=cwd, env=env, timeout=timeout)


def test_fetch_prepares_the_sysroots_side_by_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = Overlapping()
    sysroots = Sysroots(tmp_path, fake, arch="x86_64")
    specs = [by_name("trixie-amd64"), by_name("trixie-arm64")]
    runtimes_command._fetch(sysroots, [s for s in specs if s], time.monotonic(), force=False, image_tools=True)
    assert not fake.alone  # the second sysroot's download began before the first one's was done
    out = capsys.readouterr().out
    assert "trixie-amd64: prepared: sysroot trixie-amd64" in out and "trixie-arm64: prepared" in out
    qemus = [a for a in fake.argvs if a[:2] == ("apt-get", "-q") and "download" in a]
    assert len(qemus) == 1  # one qemu-aarch64, not one per arm64 sysroot
    assert sysroots.python(by_name("trixie-arm64")) is not None  # type: ignore[arg-type]


def test_a_failed_sysroot_fails_the_fetch_after_the_others_are_done(tmp_path: Path) -> None:
    fake = FakeDebian(fail="trixie-amd64")  # its apt-get calls name its own private config
    sysroots = Sysroots(tmp_path, fake, arch="x86_64")
    specs = [s for s in (by_name("trixie-amd64"), by_name("trixie-arm64")) if s]
    with pytest.raises(EnvironmentProblem, match="Failed to fetch"):
        runtimes_command._fetch(sysroots, specs, time.monotonic(), force=False, image_tools=True)
    assert sysroots.python(specs[1]) is not None


def test_fetch_wants_only_the_sysroots_of_declared_targets_the_host_cannot_run() -> None:
    def host_runs(runtime: str, arch: str) -> bool:
        return (runtime, arch) == ("python3.11", "x86_64")

    needed = runtimes_command.needed_sysroots
    assert needed({("python3.11", "x86_64"), ("python3.13", "arm64"), ("python3.12", "arm64")},
                  host_runs) == [by_name("trixie-arm64")]
    assert needed({("python3.11", "x86_64")}, host_runs) == []
    assert [s.name for s in needed({("python3.11", "arm64"), ("python3.13", "x86_64")}, host_runs)] == \
        ["bookworm-arm64", "trixie-amd64"]
    assert needed({("python3.13", "x86_64")}, lambda rt, arch: True) == []  # a host CPython 3.13 runs it


def test_the_declared_targets_are_the_layers_lists_and_the_functions_runtimes() -> None:
    targets = runtimes_command.declared_targets(load_project(REPO))
    assert ("python3.13", "arm64") in targets and ("python3.11", "x86_64") in targets
    assert all(rt.startswith("python3.") and arch in ("x86_64", "arm64") for rt, arch in targets)


def test_functions_only_are_what_invoke_needs() -> None:
    """`runtimes fetch --functions` (make demo, in the background): the repo's functions run on
    python3.11/x86_64 and python3.13/arm64, so only trixie-arm64 is wanted, not the layers'
    python3.11/arm64 (bookworm-arm64), which --all and the default fetch prepare."""
    project = load_project(REPO)
    assert runtimes_command.function_targets(project) == {("python3.11", "x86_64"), ("python3.13", "arm64")}

    def host_runs(_rt: str, arch: str) -> bool:
        return arch == "x86_64"

    wanted = runtimes_command.needed_sysroots(runtimes_command.function_targets(project), host_runs)
    assert [s.name for s in wanted] == ["trixie-arm64"]
    everything = runtimes_command.needed_sysroots(runtimes_command.declared_targets(project), host_runs)
    assert [s.name for s in everything] == ["bookworm-arm64", "trixie-arm64"]


def test_invoke_s_first_use_prepares_the_sysroot_without_pip(tmp_path: Path) -> None:
    """`invoke` runs a function in the sysroot and needs no pip: its first use skips that step (the
    docker stand-in's, ~6 s under qemu); `runtimes fetch` (ensure's default) adds it later."""
    assert ARM313 is not None
    fake = FakeDebian()
    sysroots = Sysroots(tmp_path, fake, arch="x86_64")
    sysroots.ensure(ARM313, image_tools=False)
    assert sysroots.python(ARM313) is not None and not sysroots.has_image_tools(ARM313)
    assert not any("--require-hashes" in a and str(IMAGE_LOCK) in a for a in fake.argvs)
    ready = len(fake.argvs)
    sysroots.ensure(ARM313, image_tools=False)
    assert len(fake.argvs) == ready  # ready for invoke: nothing runs
    sysroots.ensure(ARM313)
    assert sysroots.has_image_tools(ARM313) and not any(a[0] == "apt-get" for a in fake.argvs[ready:])


@pytest.mark.parametrize("image_tools", [False, True])
def test_fetch_adds_pip_only_with_image_tools(tmp_path: Path, image_tools: bool) -> None:
    """`runtimes fetch` prepares what invoke runs; `--image-tools` (make test) also the stand-in's pip."""
    sysroots = Sysroots(tmp_path, FakeDebian(), arch="x86_64")
    spec = by_name("trixie-arm64")
    assert spec is not None
    runtimes_command._fetch(sysroots, [spec], time.monotonic(), force=False, image_tools=image_tools)
    assert sysroots.python(spec) is not None and sysroots.has_image_tools(spec) is image_tools
    runtimes_command._fetch(sysroots, [spec], time.monotonic(), force=True, image_tools=False)
    assert not sysroots.has_image_tools(spec)  # --force redoes the sysroot; pip only when asked


# --- the native twin compiles an emulated sysroot's bytecode ------------------------------------------

class TwinDebian(FakeDebian):
    """Each sysroot's python reports its own version (`versions`, by sysroot name); `broken` fails the
    apt-get of the sysroots named."""

    def __init__(self, versions: Mapping[str, str], broken: Sequence[str] = ()) -> None:
        super().__init__()
        self.versions, self.broken = versions, broken

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        joined = " ".join(argv)
        if argv[0] == "apt-get" and any(f"/apt/{name}/" in (env or {}).get("APT_CONFIG", "") for name in self.broken):
            return Completed(tuple(argv), 100, "", "E: Unable to locate package python3.13")
        if "platform.python_version()" in joined:
            self.argvs.append(tuple(argv))
            self.envs.append(dict(env or {}))
            name = next(n for n in self.versions if f"/{n}/usr/bin/" in joined)
            return Completed(tuple(argv), 0, f"{self.versions[name]} ?\n", "")
        return super().run(argv, cwd=cwd, env=env, timeout=timeout)

    def _apt(self, argv: tuple[str, ...], cwd: Path | None, env: Mapping[str, str]) -> Completed:
        config = Path(env["APT_CONFIG"])
        name = config.parent.name
        if "--download-only" not in argv or name not in self.versions:
            return super()._apt(argv, cwd, env)
        archives = config.parent / "cache" / "archives"
        dotted = self.versions[name].rsplit(".", 1)[0]
        for package in (f"python{dotted}", f"libpython{dotted}-minimal", "libc6"):
            (archives / f"{package}_{self.versions[name] if 'python' in package else '2.41'}-2_all.deb").write_bytes(
                b"!<arch>\n")
        return Completed(argv, 0, "", "")


def compiles(fake: FakeDebian, root: Path) -> list[tuple[str, ...]]:
    """The compileall commands run on files under `root`."""
    return [a for a in fake.argvs if "compileall" in a and any(x.startswith(f"{root}/") for x in a)]


def test_an_emulated_sysroot_is_compiled_by_its_native_twin_of_the_same_version(tmp_path: Path) -> None:
    assert ARM313 is not None
    fake, messages = TwinDebian({"trixie-arm64": "3.13.5", "trixie-amd64": "3.13.5"}), []
    sysroots = Sysroots(tmp_path, fake, messages.append, arch="x86_64")
    sysroots.ensure(ARM313)
    twin = by_name("trixie-amd64")
    assert twin is not None and sysroots.python(twin) is not None  # prepared for it
    arm = tmp_path / "trixie-arm64"
    stdlib, pip = compiles(fake, arm)
    for argv in (stdlib, pip):  # the stdlib and boto3, then pip: by the amd64 python, natively, one worker
        assert argv[0] == str(tmp_path / "trixie-amd64/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
        assert argv[3] == str(tmp_path / "trixie-amd64/usr/bin/python3.13") and argv[argv.index("-j") + 1] == "1"
    assert stdlib[-2:] == (str(arm / "usr/lib/python3.13"), str(arm / "var/runtime"))
    assert pip[-1] == str(arm / "usr/local/lib/python3.13/dist-packages")
    assert not any("qemu" in a[0] or a[0] == "unshare" for a in fake.argvs if "compileall" in a)
    assert any("trixie-arm64: precompiling the standard library and boto3 with CPython 3.13.5 (trixie-amd64's, "
               "native: the same Debian build)" in m for m in messages)


def test_a_twin_of_another_version_leaves_the_compiling_to_the_emulated_python(tmp_path: Path) -> None:
    assert ARM313 is not None
    fake, messages = TwinDebian({"trixie-arm64": "3.13.5", "trixie-amd64": "3.13.3"}), []
    Sysroots(tmp_path, fake, messages.append, arch="x86_64").ensure(ARM313)
    stdlib, pip = compiles(fake, tmp_path / "trixie-arm64")
    assert stdlib[0] == pip[0] == "unshare" and stdlib[stdlib.index("-j") + 1] == "0"  # under qemu, children work
    assert any("compiling under qemu: trixie-amd64 has CPython libpython3.13-minimal=3.13.3-2, python3.13=3.13.3-2, "
               "this sysroot libpython3.13-minimal=3.13.5-2, python3.13=3.13.5-2" in m for m in messages)


def test_a_twin_that_cannot_be_prepared_leaves_the_compiling_to_the_emulated_python(tmp_path: Path) -> None:
    assert ARM313 is not None
    fake, messages = TwinDebian({"trixie-arm64": "3.13.5", "trixie-amd64": "3.13.5"}, broken=["trixie-amd64"]), []
    sysroots = Sysroots(tmp_path, fake, messages.append, arch="x86_64")
    python = sysroots.ensure(ARM313)
    assert sysroots.python(ARM313) == python  # prepared all the same
    (stdlib, _pip) = compiles(fake, tmp_path / "trixie-arm64")
    assert stdlib[0] == "unshare"
    assert any("compiling under qemu, as trixie-amd64 could not be prepared: apt-get update (trixie" in m
               for m in messages)


def test_a_sysroot_without_a_twin_in_the_catalog_compiles_under_qemu(tmp_path: Path) -> None:
    from layersmith.runtimes.sysroots.catalog import SysrootSpec

    lonely = SysrootSpec("sid-arm64", "sid", "arm64", (3, 13))  # no sid-amd64 in the catalog
    fake = TwinDebian({"sid-arm64": "3.13.9"})
    Sysroots(tmp_path, fake, arch="x86_64").ensure(lonely)
    assert [a[0] for a in compiles(fake, tmp_path / "sid-arm64")] == ["unshare", "unshare"]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["qemu", "sid-arm64"]


def test_native_twins_are_the_same_suite_and_python_on_the_host_s_cpu() -> None:
    from layersmith.runtimes.sysroots.catalog import native_twin

    arm, amd, bookworm = by_name("trixie-arm64"), by_name("trixie-amd64"), by_name("bookworm-arm64")
    assert arm is not None and amd is not None and bookworm is not None
    assert native_twin(arm, "x86_64") == amd
    assert native_twin(amd, "arm64") == arm  # on a Graviton host the other way round
    assert native_twin(amd, "x86_64") is None  # native already
    assert native_twin(bookworm, "x86_64") == by_name("bookworm-amd64")
