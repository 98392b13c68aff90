"""Wiring: the one place that picks real implementations for the build seams."""

from __future__ import annotations

import os
from pathlib import Path

from layersmith.build.builder import Builder, Reporter, plan_variants
from layersmith.build.cache import BuildCache
from layersmith.build.install import HostInstaller, Installer
from layersmith.build.runner import Runner, SubprocessRunner
from layersmith.errors import UserError
from layersmith.model import BuildResult
from layersmith.specs import load_layers

BUILDERS = ("host",)


def cache_root(project: Path) -> Path:
    """`$LAYERSMITH_CACHE_DIR`, else `<project>/.layersmith/cache`."""
    env = os.environ.get("LAYERSMITH_CACHE_DIR")
    return Path(env).resolve() if env else project / ".layersmith" / "cache"


def make_installer(kind: str, runner: Runner) -> Installer:
    if kind == "host":
        return HostInstaller(runner)
    raise UserError(f"unknown builder {kind!r}; use one of {', '.join(BUILDERS)}", key="--builder")


def make_builder(project: Path, kind: str = "host", *, runner: Runner | None = None,
                 report: Reporter = lambda _m: None) -> Builder:
    installer = make_installer(kind, runner or SubprocessRunner())
    return Builder(installer, BuildCache(cache_root(project)), report)


def build_layers(project: Path, names: list[str] | None = None, *, runtime: str | None = None,
                 arch: str | None = None, builder: Builder | None = None,
                 report: Reporter = lambda _m: None) -> list[BuildResult]:
    """Build (or fetch from the cache) every selected variant of the selected layers."""
    specs = load_layers(project, names)
    builder = builder or make_builder(project, report=report)
    plans = [(spec, v) for spec in specs.values() for v in plan_variants(spec, runtime, arch)]
    if not plans:
        raise UserError("nothing to build: no layer variant matches --runtime/--arch", key="--runtime")
    results = []
    for index, (spec, variant) in enumerate(plans, start=1):
        report(f"[{index}/{len(plans)}] {spec.name} {variant.key}")
        results.append(builder.build(spec, variant))
    return results
