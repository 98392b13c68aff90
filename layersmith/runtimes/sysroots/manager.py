"""Prepare and run the sysroots: idempotent, atomic, with progress lines, the host left untouched.

Layout under the sysroots directory (`$LAYERSMITH_SYSROOTS`, else `<cache>/sysroots`):

    qemu/usr/bin/qemu-aarch64-static   from Debian's qemu-user-static, unpacked (not installed)
    <name>/                            a Debian userland: usr/bin/python3.X, its stdlib (precompiled),
    <name>/var/runtime/                boto3 & co., where Lambda keeps them (outside /opt)
    <name>/.layersmith-sysroot.json    written last: a sysroot without it is redone from scratch
    <name>/usr/local/                  pip and a `python` command, as a build image has them (the
    <name>/.layersmith-image.json      docker stand-in's userland); stamped apart, added to a ready sysroot
    apt/<name>/                        the private apt instance fetching it (removed when done)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layersmith.errors import EnvironmentProblem
from layersmith.runner import Runner
from layersmith.runtimes.interpreters import host_arch
from layersmith.runtimes.supported import RUNTIMES, uv_python_platform, wheel_machine
from layersmith.runtimes.sysroots.apt import PrivateApt, deb_version, unpack
from layersmith.runtimes.sysroots.catalog import DEBIAN_ARCH, QEMU_CPU, TOOLS_SUITE, SysrootSpec, native_twin

Reporter = Callable[[str], None]
RECIPE = "1"  # bump when what a prepared sysroot holds changes: every machine then redoes it once
STAMP = ".layersmith-sysroot.json"
RUNTIME_LOCK = Path(__file__).with_name("runtime-requirements.txt")
IMAGE_LOCK = Path(__file__).with_name("image-requirements.txt")
IMAGE_STAMP = ".layersmith-image.json"
PROBE = "import platform, sys; print(platform.python_version(), platform.machine())"
CHILD_PROBE = ("import subprocess, sys; print(subprocess.run([sys.executable, '-c', 'import platform; "
               "print(platform.machine())'], capture_output=True, text=True, check=True).stdout.strip())")
# Runs a command in its own user+mount namespace whose own binfmt_misc instance (Linux >= 6.7)
# hands the target's ELF files to qemu, so a child process the emulated program starts (its own
# sys.executable, a compiler worker) is emulated too. Plain `qemu -L` cannot follow an exec.
# The host's binfmt_misc is not touched. $1: the registration line, $2: where to mount.
BINFMT_SCRIPT = 'set -e; mount -t binfmt_misc binfmt_misc "$2"; printf "%s" "$1" > "$2/register"; shift 2; exec "$@"'
TIMEOUT = 1800.0


def sysroots_dir(cache: Path) -> Path:
    env = os.environ.get("LAYERSMITH_SYSROOTS")
    return Path(env).resolve() if env else cache / "sysroots"


def binfmt_registration(arch: str, qemu: Path) -> str:
    """`:name:M::magic:mask:interpreter:flags` for 64-bit little-endian executables of `arch`
    (e_ident + e_type EXEC/DYN + e_machine). F opens qemu now (the namespace sees the same file),
    O passes the binary as an fd, C keeps credentials."""
    machine = {"arm64": 183, "x86_64": 62}[arch]
    magic = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00" + machine.to_bytes(2, "little")
    mask = b"\xff" * 7 + b"\x00" + b"\xff" * 8 + b"\xfe\xff\xff\xff"
    esc = "".join(f"\\x{b:02x}" for b in magic), "".join(f"\\x{b:02x}" for b in mask)
    return f":layersmith-{wheel_machine(arch)}:M::{esc[0]}:{esc[1]}:{qemu}:FOC"


@dataclass(frozen=True)
class SysrootPython:
    """How to run a prepared sysroot's python: `argv + [args]` with `env` added."""

    spec: SysrootSpec
    root: Path
    version: str  # what it reports, e.g. "3.13.5"
    argv: tuple[str, ...]
    env: dict[str, str]
    emulated: bool
    children: bool  # can it start child processes (binfmt_misc in a namespace, or native)?

    @property
    def runtime_site(self) -> Path:
        return self.root / "var" / "runtime"

    @property
    def label(self) -> str:
        how = (f"{self.spec.arch} under qemu-{wheel_machine(self.spec.arch)}, QEMU_CPU={self.env['QEMU_CPU']}"
               if self.emulated else f"{self.spec.arch}, its own loader")
        return f"sysroot {self.spec.name} (Debian {self.spec.suite} CPython {self.version}, {how})"


class Sysroots:
    def __init__(self, root: Path, runner: Runner, report: Reporter = lambda _m: None,
                 arch: str | None = None) -> None:
        self.root = root
        self.runner = runner
        self.report = report
        self.host_arch = arch or host_arch()

    # --- state ----------------------------------------------------------------------------------

    def stamp(self, spec: SysrootSpec) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads((self.root / spec.name / STAMP).read_text())
        except (OSError, ValueError):
            return None
        return data if data.get("recipe") == RECIPE else None

    def qemu(self, arch: str) -> Path:
        return self.root / "qemu" / "usr" / "bin" / f"qemu-{wheel_machine(arch)}-static"

    def python(self, spec: SysrootSpec) -> SysrootPython | None:
        """The prepared sysroot's python, or None when it is not prepared (never prepares)."""
        stamp = self.stamp(spec)
        if stamp is None or not (self.root / spec.name / spec.python_bin).is_file():
            return None
        if spec.arch != self.host_arch and not self.qemu(spec.arch).is_file():
            return None  # qemu was removed: `ensure` fetches it again (and redoes the sysroot)
        return self._python(spec, stamp["python"], stamp["children"])

    def _python(self, spec: SysrootSpec, version: str, children: bool) -> SysrootPython:
        root = self.root / spec.name
        exe = str(root / spec.python_bin)
        if spec.arch == self.host_arch:
            # Its own loader and libraries (glibc newer than the host's); a child process that
            # re-executes sys.executable would get the host's loader, hence children=False.
            argv: tuple[str, ...] = (str(root / spec.loader), "--library-path", str(root / "usr" / "lib" /
                                     spec.multiarch), exe)
            return SysrootPython(spec, root, version, argv, {}, emulated=False, children=False)
        env = {"QEMU_CPU": QEMU_CPU.get(spec.arch, "max"), "QEMU_LD_PREFIX": str(root)}
        if children:
            # --kill-child: a timed-out run (the sandbox kills unshare) must not leave the python behind
            argv = ("unshare", "--user", "--map-root-user", "--mount", "--fork", "--kill-child",
                    "sh", "-c", BINFMT_SCRIPT, "layersmith-binfmt",
                    binfmt_registration(spec.arch, self.qemu(spec.arch)), str(root / ".binfmt"), exe)
        else:
            argv = (str(self.qemu(spec.arch)), "-L", str(root), exe)
        return SysrootPython(spec, root, version, argv, env, emulated=True, children=children)

    # --- preparing ------------------------------------------------------------------------------

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        """One preparer of each sysroot (and of each qemu) at a time, across processes: a test run
        and an invoke may both want the same one. Different sysroots are prepared side by side:
        each has its own private apt directory and destination."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / f".lock-{name}").open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def ensure(self, spec: SysrootSpec, *, force: bool = False, image_tools: bool = True) -> SysrootPython:
        """The sysroot's python, preparing the sysroot first when it is missing (or `force`), and
        its build-image tools (`has_image_tools`) unless `image_tools` is false: `invoke` and a plain
        `runtimes fetch` run functions there and need no pip (~6 s per arm64 sysroot under qemu,
        measured here); the docker stand-in and `runtimes fetch --image-tools` do."""
        if not force and (ready := self._ready(spec, image_tools)) is not None:
            return ready
        with self._locked(spec.name):
            ready = None if force else self.python(spec)  # prepared meanwhile?
            python = ready or self._prepare(spec)
            if image_tools and (force or not self.has_image_tools(spec)):
                self._image_tools(python)
            return python

    def _ready(self, spec: SysrootSpec, image_tools: bool) -> SysrootPython | None:
        """The sysroot's python when nothing asked for is missing."""
        ready = self.python(spec)
        return ready if ready is not None and (not image_tools or self.has_image_tools(spec)) else None

    def has_image_tools(self, spec: SysrootSpec) -> bool:
        """pip and `python` on PATH, what the docker builder's commands need in a build image."""
        try:
            data = json.loads((self.root / spec.name / IMAGE_STAMP).read_text())
        except (OSError, ValueError):
            return False
        return bool(data.get("lock") == _lock_digest(IMAGE_LOCK))

    def _image_tools(self, python: SysrootPython) -> None:
        """pip's wheel (IMAGE_LOCK: pinned, hash-checked, one version for every userland, as the SAM
        images ship one pip) into /usr/local, the Debian site directory nothing else uses, and a
        `python` command: what the docker stand-in (tests/standin/docker) runs in this userland.
        A separate step with its own stamp, so a sysroot prepared before it is extended, not redone.
        `invoke` runs with -I -S, so pip is never on a function's sys.path."""
        from layersmith.runner import uv_binary

        spec = python.spec
        local = python.root / "usr" / "local"
        site = local / "lib" / f"python{spec.dotted}" / "dist-packages"
        self.report(f"runtimes: {spec.name}: pip into usr/local ({IMAGE_LOCK.name}), for the docker stand-in")
        shutil.rmtree(local, ignore_errors=True)
        (local / "bin").mkdir(parents=True)
        argv = [uv_binary(), "pip", "install", "--no-config", "--quiet", "--target", str(site),
                "--python-version", spec.dotted, "--only-binary", ":all:", "--require-hashes", "--no-compile",
                "--link-mode", "copy", "--python", sys.executable, "-r", str(IMAGE_LOCK)]
        done = self.runner.run(argv, timeout=TIMEOUT)
        if done.returncode != 0:
            raise EnvironmentProblem(f"installing pip into {spec.name} failed: {done.stderr.strip()[-300:]}")
        shutil.rmtree(site / "bin", ignore_errors=True)  # uv's console scripts name host paths
        (local / "bin" / "python").symlink_to(f"/usr/bin/python{spec.dotted}")
        # Compiled once here: the stand-in's root is read-only, so an uncompiled pip would be
        # compiled again (under qemu: seconds) at every container start.
        code, err = self._compileall(self._compiler(python, (self.stamp(spec) or {}).get("packages", [])), [site])
        if code != 0:
            raise EnvironmentProblem(f"precompiling pip in {spec.name} failed: {err.strip()[-300:]}")
        stamp = python.root / IMAGE_STAMP
        stamp.with_suffix(".tmp").write_text(json.dumps({"lock": _lock_digest(IMAGE_LOCK)}) + "\n")
        stamp.with_suffix(".tmp").replace(stamp)

    def ensure_qemu(self, arch: str) -> Path:
        qemu = self.qemu(arch)
        if qemu.is_file():
            return qemu
        with self._locked(f"qemu-{arch}"):  # bookworm-arm64 and trixie-arm64 both need it
            return qemu if qemu.is_file() else self._fetch_qemu(arch, qemu)

    def _fetch_qemu(self, arch: str, qemu: Path) -> Path:
        host = DEBIAN_ARCH.get(self.host_arch)
        if host is None:
            raise EnvironmentProblem(f"no qemu-user-static for a {self.host_arch} host; run on x86_64 or arm64")
        self.report(f"runtimes: qemu: qemu-user-static from Debian {TOOLS_SUITE} ({host}), unpacked, not installed")
        home = self.root / "apt" / f"qemu-{arch}"
        apt = PrivateApt(home, host, (TOOLS_SUITE, f"{TOOLS_SUITE}-updates", f"{TOOLS_SUITE}-security"), self.runner)
        apt.update()
        deb = apt.download("qemu-user-static", home / "dl")
        # Only the one binary: the package unpacks to ~465 MB for 30 targets. Unpacked aside and
        # renamed into place: a concurrent `python()` must never see half a qemu.
        unpack(deb, home / "root", self.runner, [f"./usr/bin/{qemu.name}"])
        qemu.parent.mkdir(parents=True, exist_ok=True)
        (home / "root" / "usr" / "bin" / qemu.name).replace(qemu)
        shutil.rmtree(home, ignore_errors=True)
        self.report(f"runtimes: qemu: {qemu.name} ({deb_version(deb)})")
        return qemu

    def _prepare(self, spec: SysrootSpec) -> SysrootPython:
        dest = self.root / spec.name
        self.report(f"runtimes: {spec.name}: python{spec.dotted} for {spec.arch} from Debian {spec.suite} "
                    "(private APT_CONFIG; the host's apt/dpkg is not touched)")
        if spec.arch != self.host_arch:
            self.ensure_qemu(spec.arch)
        apt = PrivateApt(self.root / "apt" / spec.name, spec.debian_arch, spec.suites, self.runner)
        apt.update()
        debs = apt.download_closure(spec.packages)
        size = sum(d.stat().st_size for d in debs) / 1e6
        self.report(f"runtimes: {spec.name}: {len(debs)} packages ({size:.1f} MB), unpacking")
        _fresh_root(dest, spec)
        for deb in debs:
            unpack(deb, dest, self.runner)
        self._runtime_packages(spec, dest)
        python = self._python(spec, "?", children=False)
        version = self._probe(python)
        children = spec.arch != self.host_arch and self._children_work(self._python(spec, version, True))
        python = self._python(spec, version, children)
        packages = [deb_version(d) for d in debs]
        compiler = self._compiler(python, packages)
        by = "" if compiler is python else f" ({compiler.spec.name}'s, native: the same Debian build)"
        self.report(f"runtimes: {spec.name}: precompiling the standard library and boto3 with CPython {version}{by}")
        self._precompile(python, compiler)
        stamp = {"recipe": RECIPE, "name": spec.name, "python": version, "arch": spec.arch, "children": children,
                 "packages": packages}
        tmp = dest / f"{STAMP}.tmp"
        tmp.write_text(json.dumps(stamp, indent=2) + "\n")
        tmp.replace(dest / STAMP)
        # The package lists and .debs (~100 MB per suite) are not needed once unpacked.
        shutil.rmtree(self.root / "apt" / spec.name, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.root / "apt").rmdir()  # when no other fetch is using it
        self.report(f"runtimes: {spec.name}: ready ({python.label})")
        return python

    def _runtime_packages(self, spec: SysrootSpec, dest: Path) -> None:
        """boto3 and its dependencies in /var/runtime, outside /opt, as every Lambda Python runtime
        has them: pinned, hash-checked wheels for the sysroot's Python version."""
        from layersmith.runner import uv_binary

        self.report(f"runtimes: {spec.name}: boto3 into var/runtime (wheels, {RUNTIME_LOCK.name})")
        argv = [uv_binary(), "pip", "install", "--no-config", "--quiet", "--target", str(dest / "var" / "runtime"),
                "--python-version", spec.dotted,
                "--python-platform", uv_python_platform(RUNTIMES[f"python{spec.dotted}"], spec.arch),
                "--only-binary", ":all:", "--require-hashes", "--no-compile", "--link-mode", "copy",
                "--python", sys.executable, "-r", str(RUNTIME_LOCK)]
        done = self.runner.run(argv, timeout=TIMEOUT)
        if done.returncode != 0:
            raise EnvironmentProblem(f"installing boto3 into {spec.name} failed: {done.stderr.strip()[-300:]}")

    def _run(self, python: SysrootPython, *args: str) -> tuple[int, str, str]:
        done = self.runner.run([*python.argv, *args], env=python.env, timeout=TIMEOUT)
        return done.returncode, done.stdout, done.stderr

    def _probe(self, python: SysrootPython) -> str:
        code, out, err = self._run(python, "-I", "-c", PROBE)
        parts = out.split()
        if code != 0 or len(parts) != 2 or not parts[0].startswith(f"{python.spec.dotted}."):
            raise EnvironmentProblem(f"the {python.spec.name} python does not run ({(err or out).strip()[-300:]}); "
                                     f"remove {python.root} and retry")
        return parts[0]

    def _children_work(self, python: SysrootPython) -> bool:
        (python.root / ".binfmt").mkdir(exist_ok=True)
        code, out, err = self._run(python, "-I", "-c", CHILD_PROBE)
        if code == 0 and out.strip() == wheel_machine(python.spec.arch):
            return True
        self.report(f"runtimes: {python.spec.name}: no binfmt_misc of its own here (needs Linux >= 6.7 and "
                    f"user namespaces: {err.strip().splitlines()[-1:] or ['?']}); child processes of the "
                    "emulated python will not start")
        return False

    def _compiler(self, python: SysrootPython, packages: list[str]) -> SysrootPython:
        """Who compiles an emulated sysroot's bytecode: its native twin (`native_twin`: the same Debian
        CPython built for this CPU) when its CPython packages have the same Debian versions as
        `packages` (this sysroot's, "name=version"), else the emulated python itself.
        A pyc depends on the CPython version and the source, not on the CPU: the header is the magic
        number (one per minor version), flags and the source's mtime and size, and marshal's format is
        the same on every architecture. Compared here: trixie-amd64 and trixie-arm64 (qemu) compiled
        793 stdlib and boto3 files alike, but for 2 that differ only in marshal's interning marks (the
        same code objects once loaded), as two processes of one CPU can (tests/functional/
        test_sysroot_bytecode.py compares them). Under qemu the stdlib took ~37 s of CPU; natively ~3 s."""
        twin_spec = native_twin(python.spec, self.host_arch) if python.emulated else None
        if twin_spec is None:
            return python
        try:
            twin = self.ensure(twin_spec, image_tools=False)
        except EnvironmentProblem as exc:
            self.report(f"runtimes: {python.spec.name}: compiling under qemu, as {twin_spec.name} could not be "
                        f"prepared: {exc.message}")
            return python
        ours, theirs = _cpython_packages(python.spec, packages), _cpython_packages(
            twin_spec, (self.stamp(twin_spec) or {}).get("packages", []))
        if not ours or ours != theirs:
            self.report(f"runtimes: {python.spec.name}: compiling under qemu: {twin_spec.name} has CPython "
                        f"{', '.join(theirs) or '?'}, this sysroot {', '.join(ours) or '?'} "
                        f"(`runtimes fetch --force {twin_spec.name}` brings them together)")
            return python
        return twin

    def _compileall(self, compiler: SysrootPython, targets: list[Path]) -> tuple[int, str]:
        """`compileall` of `targets` (paths in the sysroot being prepared) by `compiler`. One worker unless
        child processes work (compileall's workers are new processes from 3.12 on)."""
        jobs = "0" if compiler.children else "1"
        code, _out, err = self._run(compiler, "-I", "-m", "compileall", "-q", "-j", jobs, *map(str, targets))
        return code, err

    def _precompile(self, python: SysrootPython, compiler: SysrootPython) -> None:
        """Debian compiles the stdlib in postinst, which never ran: without it every emulated start
        compiles what it imports, again (nothing is written back)."""
        targets = [python.root / "usr" / "lib" / f"python{python.spec.dotted}", python.runtime_site]
        code, err = self._compileall(compiler, targets)
        # Debian's stdlib carries a few files that do not compile on purpose (lib2to3 test data):
        # compileall then exits 1 having compiled everything else.
        if code not in (0, 1):
            raise EnvironmentProblem(f"precompiling {python.spec.name} failed: {err.strip()[-300:]}")


def _cpython_packages(spec: SysrootSpec, packages: list[str]) -> list[str]:
    """The Debian packages of `spec`'s CPython ("python3.13-minimal=3.13.5-2+deb13u5", ...), sorted."""
    return sorted(p for p in packages if p.startswith((f"python{spec.dotted}", f"libpython{spec.dotted}")))


def _lock_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fresh_root(dest: Path, spec: SysrootSpec) -> None:
    """An empty merged-/usr root (bin, sbin, lib -> usr/...), as Debian's packages expect."""
    if dest.exists():
        for dirpath, _dirs, _files in os.walk(dest):
            os.chmod(dirpath, 0o755)
        shutil.rmtree(dest)
    for sub in ("usr/bin", "usr/sbin", "usr/lib", "etc", "tmp", "var/runtime"):
        (dest / sub).mkdir(parents=True)
    for link in ("bin", "sbin", "lib"):
        (dest / link).symlink_to(f"usr/{link}")
    if spec.arch == "x86_64":
        (dest / "usr" / "lib64").mkdir()
        (dest / "lib64").symlink_to("usr/lib64")
    (dest / "tmp").chmod(0o1777)
