"""`layersmith lock`: resolve requirements.in once per target, merge into one hashed lock.

Each (runtime, architecture) the layer declares is resolved by uv with that target's Python version
and manylinux level (`runtimes.uv_python_platform`), so a python3.11 target on Amazon Linux 2 gets
the newest release that ships a wheel its glibc loads without anyone writing markers. The
per-target pins are merged (`lockfile.merge`). Existing pins are uv's preferences (it reads the
`-o` file it is about to replace), so nothing moves unless asked; when no pin moves and the targets
are the same, the lock file is not touched at all (byte-identical).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from layersmith.builder.index_reach import unreachable_index
from layersmith.builder.install import uv_setup_problem
from layersmith.builder.wheel_index import PackageIndex, availability
from layersmith.errors import BuildError, SpecError, UserError
from layersmith.model import Requirement
from layersmith.project.lockfile import (
    Pinned,
    generated_by_layersmith,
    merge,
    pins_for,
    recorded_targets,
    render,
    resolved_pins,
    target_label,
)
from layersmith.project.specs import parse_lock
from layersmith.runner import Runner, uv_binary
from layersmith.runtimes.supported import Runtime, uv_python_platform
from layersmith.writable import require_writable_file, write_failed

Target = tuple[Runtime, str]
LOCK_REMEDY = "make its directory writable (or lock in a writable checkout) and run lock again"
# `numpy==2.4.6 has no usable wheels`, `all versions of pycrypto have no usable wheels`, and uv's
# marker-in-braces form `numpy{python_full_version < '3.12'}==2.4.6 has no usable wheels`.
_NO_WHEELS = re.compile(r"(all versions of )?([A-Za-z0-9_.\-]+)(?:\{[^}]*\})?(?:==([^\s,]+))? (?:has|have) "
                        r"no usable wheels")


@dataclass(frozen=True)
class LockRequest:
    layer: str
    source: Path  # requirements.in
    dest: Path  # requirements.txt
    targets: tuple[Target, ...]
    upgrade: bool = False
    upgrade_packages: tuple[str, ...] = ()


@dataclass
class LockOutcome:
    written: bool
    lines: int
    moved: list[str] = field(default_factory=list)  # "numpy 2.2.6 -> 2.3.0 (python3.12/x86_64)"


def describe(runtime: Runtime, arch: str) -> str:
    return f"{runtime.name}/{arch} ({runtime.os}, glibc {runtime.glibc[0]}.{runtime.glibc[1]})"


def explain_no_wheel(stderr: str, runtime: Runtime, arch: str, source: Path, index: PackageIndex) -> BuildError | None:
    """uv's "has no usable wheels" turned into what to do: the newest release that has one, or why none."""
    m = _NO_WHEELS.search(stderr)
    if m is None:
        return None
    name, version = m.group(2), m.group(3)
    target = describe(runtime, arch)
    found = availability(index, name, runtime, arch)
    what = f"{name}=={version}" if version else name
    if not found.project_known:
        return BuildError(f"{name} is not on PyPI; check its spelling in requirements.in", path=source)
    if not found.any_wheel:
        return BuildError(
            f"{name} publishes only source distributions (no wheels), and layersmith installs wheels only: a "
            f"source build here would compile for this machine, not Lambda. If it is pure Python, vendor it into "
            f"the layer's `source` (`pip install --no-deps --target <source dir> {name}`) and drop it from "
            f"requirements.in; otherwise pick a package that ships manylinux wheels", path=source)
    if found.newest_compatible is None:
        return BuildError(f"no release of {name} has a wheel for {target}; drop it from this layer or remove "
                          f"{runtime.name}/{arch} from layer.toml", path=source)
    advice = (f"the newest release with one is {found.newest_compatible}: relax `{what}` in requirements.in "
              "(lock then picks a version per runtime)")
    subject = f"{what} has no wheel" if version else f"no version of {name} that requirements.in allows has a wheel"
    return BuildError(f"{subject} for {target}; {advice}", path=source)


def _seed(old: Sequence[Requirement], runtime: Runtime, arch: str) -> str:
    return "".join(f"{r.name}=={r.version}\n" for r in sorted(pins_for(old, runtime, arch).values(),
                                                             key=lambda r: r.name))


def _compile_argv(req: LockRequest, runtime: Runtime, arch: str, out: Path) -> list[str]:
    argv = [uv_binary(), "pip", "compile", "--no-config", "--quiet", "--generate-hashes", "--no-header",
            "--no-annotate", "--python-version", runtime.dotted,
            "--python-platform", uv_python_platform(runtime, arch), "--only-binary", ":all:",
            # The host interpreter stands in for the target's (--python-version decides): without it uv
            # looks for, and tries to download, a python3.X of the target's version.
            "--python", sys.executable, "--no-python-downloads", "-o", str(out), str(req.source)]
    if req.upgrade:
        argv.append("--upgrade")
    for name in req.upgrade_packages:
        argv += ["--upgrade-package", name]
    return argv


def _resolve_failure(stderr: str, req: LockRequest, runtime: Runtime, arch: str, index: PackageIndex) -> Exception:
    """The most useful account of a failed `uv pip compile`: a setup problem, an index out of reach, a
    missing wheel, else uv's tail. uv ran with this process's environment, so that names its index."""
    if problem := uv_setup_problem(stderr) or unreachable_index(stderr, os.environ):
        return problem
    if explained := explain_no_wheel(stderr, runtime, arch, req.source, index):
        return explained
    tail = " | ".join(line.strip() for line in stderr.strip().splitlines()[-3:] if line.strip())
    return BuildError(f"resolving for {describe(runtime, arch)} failed: {tail or 'no output'}", path=req.source)


def compile_target(runner: Runner, req: LockRequest, runtime: Runtime, arch: str, old: Sequence[Requirement],
                   work: Path, index: PackageIndex) -> dict[str, Pinned]:
    out = work / f"{runtime.name}-{arch}.txt"
    if not req.upgrade:
        out.write_text(_seed(old, runtime, arch), encoding="utf-8")  # uv keeps these pins when it can
    done = runner.run(_compile_argv(req, runtime, arch, out), cwd=req.source.parent)
    if done.returncode != 0:
        raise _resolve_failure(done.stderr, req, runtime, arch, index)
    return {r.name: Pinned(r.version, frozenset(r.hashes)) for r in parse_lock(out)}


def _old_lock(dest: Path) -> tuple[tuple[Requirement, ...], tuple[str, ...] | None]:
    if not dest.is_file():
        return (), None
    try:
        reqs = parse_lock(dest)
    except SpecError:
        return (), None  # a broken lock keeps nothing; the new one replaces it
    return reqs, recorded_targets(dest.read_text(encoding="utf-8"))


def _moved(old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> list[str]:
    changes: dict[str, list[str]] = {}
    for label, pins in new.items():
        before = old.get(label, {})
        for name in sorted(set(pins) | set(before)):
            if before.get(name) != pins.get(name):
                change = f"{name} {before.get(name, '(new)')} -> {pins.get(name, '(removed)')}"
                changes.setdefault(change, []).append(label)
    return [f"{change} ({', '.join(labels)})" for change, labels in changes.items()]


def _known_upgrades(req: LockRequest, resolved: dict[str, dict[str, Pinned]]) -> None:
    """`--upgrade-package` of something no target resolves is a typo: say so, not a silent no-op."""
    for name in req.upgrade_packages:
        if not any(canonicalize_name(name) in pins for pins in resolved.values()):
            raise UserError(f"{name!r} is not in the lock of any target; nothing to upgrade",
                            key="--upgrade-package", path=req.source)


def lock_layer(runner: Runner, req: LockRequest, index: PackageIndex,
               check: Callable[[Path], None] = lambda _lock: None) -> LockOutcome:
    """Resolve every target (in parallel: each is a uv process), merge, vet with `check`, write atomically."""
    if not req.source.is_file():
        raise SpecError("no requirements.in to lock; create it with one requirement per line", path=req.source)
    old, old_targets = _old_lock(req.dest)
    labels = [target_label(rt.name, arch) for rt, arch in req.targets]
    uv_binary()  # resolved once here, before the threads (see its docstring)
    with tempfile.TemporaryDirectory(prefix="layersmith-lock-") as tmp:
        work = Path(tmp)
        with ThreadPoolExecutor(max_workers=len(req.targets)) as pool:
            futures = [pool.submit(compile_target, runner, req, rt, arch, old, work, index) for rt, arch in req.targets]
            resolved = dict(zip(labels, [f.result() for f in futures], strict=True))
        _known_upgrades(req, resolved)
        text = render(req.layer, labels, merge(resolved, labels))
        candidate = work / "lock.txt"
        candidate.write_text(text, encoding="utf-8")
        new_reqs = parse_lock(candidate)
        before, after = resolved_pins(old, req.targets), resolved_pins(new_reqs, req.targets)
        if old_targets == tuple(labels) and before == after and generated_by_layersmith(req.dest.read_text("utf-8")):
            return LockOutcome(False, len(old))  # nothing moved: leave the file byte-identical
        # A read-only checkout: said before the dry-run installs, and in place of a traceback after.
        require_writable_file(req.dest, what="the lock file", remedy=LOCK_REMEDY)
        check(candidate)  # every target installs from the merged lock (markers and hashes)
        tmp_dest = req.dest.with_name(f".{req.dest.name}.tmp")
        try:
            tmp_dest.write_text(text, encoding="utf-8")
            tmp_dest.replace(req.dest)
        except OSError as exc:
            tmp_dest.unlink(missing_ok=True)
            raise write_failed(req.dest, "the lock file", exc, LOCK_REMEDY) from None
    return LockOutcome(True, len(new_reqs), _moved(before, after) if old else [])

