"""Wiring: the one place that picks real implementations for the build seams."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from layersmith.builder.builder import Builder, Reporter, check_lock_targets
from layersmith.builder.cache import BuildCache
from layersmith.builder.docker import DEFAULT_IMAGE_TAG, DockerInstaller
from layersmith.builder.install import HostInstaller, Installer
from layersmith.errors import DockerUnavailable, UserError
from layersmith.model import BuildResult, LayerSpec, expand_variants
from layersmith.project.specs import load_layers
from layersmith.runner import Runner, SubprocessRunner
from layersmith.runtimes.interpreters import Finder
from layersmith.writable import ensure_writable_dir

BUILDERS = ("host", "docker", "auto")


def cache_root(project: Path) -> Path:
    """`$LAYERSMITH_CACHE_DIR`, else `<project>/.layersmith/cache`; created if missing. A directory that
    cannot be written (a read-only checkout) is an `EnvironmentProblem` saying to set the variable."""
    env = os.environ.get("LAYERSMITH_CACHE_DIR")
    if env:
        return ensure_writable_dir(Path(env).resolve(), what="the build cache (LAYERSMITH_CACHE_DIR)",
                                   remedy="point LAYERSMITH_CACHE_DIR at a writable directory")
    return ensure_writable_dir(project / ".layersmith" / "cache", what="the build cache",
                               remedy="set LAYERSMITH_CACHE_DIR to a writable directory (e.g. ~/.cache/layersmith)")


def make_installer(kind: str, runner: Runner, *, image_tag: str = DEFAULT_IMAGE_TAG,
                   report: Reporter = lambda _m: None, verbose: bool = False) -> Installer:
    """`host`, `docker`, or `auto`: Docker when an engine answers (the official image gives every
    runtime its bytecode), else the host. An explicit `docker` probes lazily, at the first install,
    so a build served entirely from the cache needs no engine."""
    if kind == "host":
        return HostInstaller(runner, finder=Finder(runner, report, verbose=verbose))
    if kind == "docker":
        return DockerInstaller(runner, image_tag=image_tag)
    if kind == "auto":
        docker = DockerInstaller(runner, image_tag=image_tag)
        try:
            version = docker.probe()
        except DockerUnavailable as exc:
            report(f"builder auto -> host: {exc.message}")
            return HostInstaller(runner, finder=Finder(runner, report, verbose=verbose))
        report(f"builder auto -> docker (engine {version})")
        return docker
    raise UserError(f"unknown builder {kind!r}; use one of {', '.join(BUILDERS)}", key="--builder")


def make_builder(project: Path, kind: str = "host", *, runner: Runner | None = None,
                 image_tag: str | None = None, report: Reporter = lambda _m: None, verbose: bool = False) -> Builder:
    image_tag = image_tag or DEFAULT_IMAGE_TAG
    installer = make_installer(kind, runner or SubprocessRunner(), image_tag=image_tag, report=report,
                               verbose=verbose)
    return Builder(installer, BuildCache(cache_root(project)), report)


def build_layers(project: Path, names: list[str] | None = None, *, runtime: str | None = None,
                 arch: str | None = None, builder: Builder | None = None,
                 report: Reporter = lambda _m: None,
                 specs: Mapping[str, LayerSpec] | None = None) -> list[BuildResult]:
    """Build (or fetch from the cache) every selected variant of the selected layers. `specs`: the
    layers already loaded (a `Project`'s), instead of reading `names` from the project again."""
    specs = load_layers(project, names) if specs is None else specs
    builder = builder or make_builder(project, report=report)
    for spec in specs.values():  # a stale lock is refused before anything starts
        if spec.requirements is not None and spec.requirements.is_file():
            check_lock_targets(spec, spec.requirements.read_text(encoding="utf-8"))
    plans = [(spec, v) for spec in specs.values() for v in expand_variants(spec, runtime, arch)]
    if not plans:
        raise UserError("nothing to build: no layer variant matches --runtime/--arch", key="--runtime")
    results = []
    for index, (spec, variant) in enumerate(plans, start=1):
        report(f"[{index}/{len(plans)}] {spec.name} {variant.key}")
        results.append(builder.build(spec, variant))
    return results
