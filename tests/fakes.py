"""Fakes with real side effects (chalice's `FakePip` is the model,
docs/architecture.md#tests-use-fakes-not-patches): no mock.patch.

`FakeInstaller` writes what `uv pip install --target` writes — a package, host bytecode, a test
suite, a console script in `bin/`, uv's `.lock`, and a `.dist-info` with WHEEL tags and a RECORD —
plus, for a compiled distribution, a `.so` whose ELF header names the target's machine. What it
installs comes from the lock, like uv; tests tweak one distribution to be wrong in one way.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from helpers import MACHINE_FOR_ARCH, elf_header, elf_with_verneed

from layersmith.runner import Completed, Runner, SubprocessRunner
from layersmith.runtimes.supported import Runtime

_WHEEL_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


@dataclass(frozen=True)
class FakeDist:
    """How one locked distribution looks once installed."""

    compiled: bool = False
    platform: str | None = None  # wheel platform tag override, "{m}" -> wheel machine
    machine: int | None = None  # ELF e_machine override (a wrong-architecture wheel)
    top: str | None = None  # import name (default: the distribution name with '_')
    data_bytes: int = 0  # a sparse `<top>/data.bin` of this size (cheap "huge" packages)
    glibc: tuple[str, ...] = ()  # symbol versions the `.so` requires, e.g. ("GLIBC_2.28",): what its tag may belie


@dataclass
class FakeInstaller:
    dists: Mapping[str, FakeDist] = field(default_factory=dict)
    compiles: bool = True
    version: str = "1"
    python: str = "/usr/bin/python3.11"  # uv writes this interpreter into console-script shebangs
    kind: str = "fake"
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def identity(self, runtime: Runtime, arch: str) -> str:
        return f"fake|{self.version}|{'compile' if self.compiles else 'no-bytecode'}"

    def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None:
        self.calls.append(("install", runtime.name, arch))
        target.mkdir(parents=True, exist_ok=True)
        for line in lock.read_text(encoding="utf-8").splitlines():
            if m := _PIN.match(line.strip()):
                name, version = m.group(1).lower(), m.group(2)
                _write_dist(target, name, version, self.dists.get(name, FakeDist()), runtime, arch, self.python)
        (target / ".lock").write_text("")  # uv leaves this in every --target directory

    def compile_bytecode(self, root: Path, runtime: Runtime) -> str | None:
        self.calls.append(("compile", runtime.name))
        if not self.compiles:
            return None
        tag = f"cpython-{runtime.version[0]}{runtime.version[1]}"
        for source in sorted(root.rglob("*.py")):
            pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
            pyc.parent.mkdir(exist_ok=True)
            write_pyc(pyc, b"fake pyc " + hashlib.sha256(source.read_bytes()).digest())
        return tag


def write_pyc(pyc: Path, data: bytes) -> None:
    """Write a .pyc as py_compile does: under a temporary name, renamed into place, so a reader never sees
    it half written (the builder deflates each pyc as soon as it appears, while compiling goes on)."""
    tmp = pyc.with_name(f"{pyc.name}.{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, pyc)


def _wheel_tags(dist: FakeDist, runtime: Runtime, arch: str) -> list[str]:
    if not dist.compiled:
        return ["py3-none-any"]
    m = _WHEEL_MACHINE[arch]
    platforms = (dist.platform or "manylinux_2_17_{m}.manylinux2014_{m}").format(m=m).split(".")
    return [f"{runtime.cpython_tag}-{runtime.cpython_tag}-{p}" for p in platforms]


def _write_dist(site: Path, name: str, version: str, dist: FakeDist, runtime: Runtime, arch: str,
                python: str) -> None:
    top = dist.top or name.replace("-", "_")
    files: dict[str, bytes] = {
        f"{top}/__init__.py": f'__version__ = "{version}"\n'.encode(),
        f"{top}/core.py": b"def answer():\n    return 42\n",
        f"{top}/__pycache__/core.cpython-311.pyc": b"host bytecode",  # what a 3.11 host leaves
        f"{top}/tests/__init__.py": b"",
        f"{top}/tests/test_core.py": b"def test_answer():\n    pass\n",
        f"bin/{name}": f"#!{python}\nimport sys\n".encode(),  # the shebang names the build host
    }
    if dist.compiled:
        machine = dist.machine if dist.machine is not None else MACHINE_FOR_ARCH[arch]
        so = f"{top}/_speedups.cpython-{runtime.version[0]}{runtime.version[1]}-{_WHEEL_MACHINE[arch]}-linux-gnu.so"
        files[so] = (elf_with_verneed(machine, {"libc.so.6": ["GLIBC_2.2.5", *dist.glibc]}) if dist.glibc
                     else elf_header(machine) + b"\0" * 256)
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    tags = "".join(f"Tag: {t}\n" for t in _wheel_tags(dist, runtime, arch))
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    purelib = "true" if not dist.compiled else "false"
    files[f"{info}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: fake\nRoot-Is-Purelib: {purelib}\n{tags}".encode()
    files[f"{info}/INSTALLER"] = b"uv\n"
    for rel, data in files.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if rel.startswith("bin/"):
            os.chmod(path, 0o755)
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for rel in sorted(files):
        writer.writerow([rel, "sha256=" + hashlib.sha256(files[rel]).hexdigest(), len(files[rel])])
    writer.writerow([f"{info}/RECORD", "", ""])
    (site / info / "RECORD").write_text(record.getvalue(), encoding="utf-8")
    if dist.data_bytes:
        (site / top / "data.bin").touch()
        os.truncate(site / top / "data.bin", dist.data_bytes)


class CountingReader:
    """Reads the disk, counting each file read (by its path relative to the project)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.reads: Counter[str] = Counter()

    def read_bytes(self, path: Path) -> bytes:
        self.reads[path.relative_to(self.root).as_posix()] += 1
        return path.read_bytes()


class CountingRunner:
    """A real `SubprocessRunner` that remembers every argv it ran."""

    def __init__(self, inner: Runner | None = None) -> None:
        self.inner = inner or SubprocessRunner()
        self.argvs: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], *, cwd: Path | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None) -> Completed:
        self.argvs.append(tuple(argv))
        return self.inner.run(argv, cwd=cwd, env=env, timeout=timeout)


class ScriptedRunner:
    """Answers each command with a canned `Completed` (first matching argv fragment wins); records argv."""

    def __init__(self, answers: Mapping[str, tuple[int, str, str]] | None = None) -> None:
        self.answers = dict(answers or {})
        self.argvs: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], *, cwd: Path | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None) -> Completed:
        self.argvs.append(tuple(argv))
        joined = " ".join(argv)
        for fragment, (code, out, err) in self.answers.items():
            if fragment in joined:
                return Completed(tuple(argv), code, out, err)
        return Completed(tuple(argv), 0, "", "")
