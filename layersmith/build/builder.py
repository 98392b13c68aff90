"""Plan, hash, then execute: one cache-keyed, verified, deterministic zip per layer variant."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from layersmith.build import archive, slim, verify
from layersmith.build.cache import ZIP, BuildCache
from layersmith.build.install import Installer
from layersmith.build.tree import files_sha256, shipped_sources, top_level_sizes
from layersmith.errors import BuildError, SpecError, UserError
from layersmith.lockfile import generated_by_layersmith, recorded_targets, target_label
from layersmith.model import BuildResult, Distribution, LayerSpec, Variant
from layersmith.runtimes import RUNTIMES, check_architecture, get_runtime
from layersmith.specs import parse_lock

# Bump when the recipe (slimming rules, zip format, manifest) changes: old cache entries and
# old zips then stop matching, exactly once, on every machine.
RECIPE_VERSION = "2"  # 2: RECORD rows of slimmed-away files dropped (reproducible across hosts)

Reporter = Callable[[str], None]


def plan_variants(spec: LayerSpec, runtime: str | None = None, arch: str | None = None) -> list[Variant]:
    """A portable layer is one variant for all its runtimes/architectures; a native one has one
    per (runtime, architecture). `runtime`/`arch` filter native variants (CLI --runtime/--arch)."""
    if runtime is not None:
        get_runtime(runtime, key="--runtime")
    if arch is not None:
        check_architecture(arch, key="--arch")
    if spec.portable:
        if (runtime and runtime not in spec.runtimes) or (arch and arch not in spec.architectures):
            return []
        return [Variant(spec.name, spec.runtimes, spec.architectures, True)]
    return [Variant(spec.name, (rt,), (a,), False)
            for rt in spec.runtimes if runtime in (None, rt)
            for a in spec.architectures if arch in (None, a)]


def site_dir(variant: Variant) -> str:
    """Where packages go inside the zip: `python/` for a portable layer (every version reads it),
    `python/lib/python3.X/site-packages` for a native one (only that version reads it, so a
    mismatched attach fails loudly at import instead of loading the wrong ABI)."""
    return "python" if variant.portable else RUNTIMES[variant.runtimes[0]].site_packages


def _lock_digest(spec: LayerSpec) -> str | None:
    if spec.requirements is None:
        return None
    parse_lock(spec.requirements)  # a missing or invalid lock fails here, naming the file
    data = spec.requirements.read_bytes()
    check_lock_targets(spec, data.decode("utf-8"))
    return hashlib.sha256(data).hexdigest()


def check_lock_targets(spec: LayerSpec, text: str) -> None:
    """A lock `layersmith lock` wrote records the targets it was resolved for: one that does not cover
    a runtime/architecture now in layer.toml may pick a wheel that target cannot load. (A hand-written
    lock records none; installing and verifying it is the only check.)"""
    if not generated_by_layersmith(text):
        return
    recorded = recorded_targets(text) or ()
    missing = [label for rt in spec.runtimes for a in spec.architectures
               if (label := target_label(rt, a)) not in recorded]
    if missing:
        raise SpecError(f"the lock was resolved for {' '.join(recorded) or 'no recorded targets'}, not for "
                        f"{' '.join(missing)} (now in layer.toml); run `layersmith lock {spec.name}`",
                        path=spec.requirements)


def cache_key(spec: LayerSpec, variant: Variant, installer: Installer) -> str:
    runtime = RUNTIMES[variant.runtimes[0]]
    parts: dict[str, Any] = {
        "recipe": RECIPE_VERSION,
        "layer": spec.name,
        "variant": asdict(variant),
        "lock": _lock_digest(spec),
        "exclude": sorted(spec.exclude),
        "source": files_sha256(shipped_sources(spec.source)) if spec.source else None,
        "installer": installer.kind,
        "installer_id": sorted({installer.identity(RUNTIMES[rt], a)
                                for rt in variant.runtimes for a in variant.architectures}),
        "first_runtime": runtime.name,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _distributions(site: Path) -> tuple[Distribution, ...]:
    dists = []
    for wheel in verify.read_wheels(site):
        name, _, version = wheel.dist_info.removesuffix(".dist-info").rpartition("-")
        dists.append(Distribution(canonicalize_name(name), version, wheel.tags))
    return tuple(sorted(dists, key=lambda d: d.name))


def _copy_sources(source: Path, dest: Path) -> None:
    """Copy exactly the files the cache key hashed (`shipped_sources`), keeping the exec bit."""
    for rel, path in shipped_sources(source):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def result_from_json(data: dict[str, Any], zip_path: Path, cached: bool) -> BuildResult:
    variant = Variant(data["layer"], tuple(data["runtimes"]), tuple(data["architectures"]), data["portable"])
    dists = tuple(Distribution(d["name"], d["version"], tuple(d["tags"])) for d in data["distributions"])
    return BuildResult(
        variant=variant, zip_path=zip_path, sha256=data["sha256"], content_sha256=data["content_sha256"],
        files=data["files"], unzipped_bytes=data["unzipped_bytes"], zip_bytes=data["zip_bytes"],
        cached=cached, cache_key=data["cache_key"], distributions=dists, bytecode=data["bytecode"],
        builder=data["builder"], warnings=tuple(data["warnings"]),
        top_level_sizes=tuple((n, s) for n, s in data["top_level_sizes"]))


class Builder:
    def __init__(self, installer: Installer, cache: BuildCache, report: Reporter = lambda _m: None) -> None:
        self.installer = installer
        self.cache = cache
        self.report = report

    def cached(self, spec: LayerSpec, variant: Variant) -> BuildResult | None:
        """The finished build of this variant if the cache has it; never builds."""
        key = cache_key(spec, variant, self.installer)
        entry = self.cache.entry(spec.name, variant.key, key)
        hit = self.cache.lookup(entry)
        return result_from_json(hit, entry / ZIP, cached=True) if hit is not None else None

    def build(self, spec: LayerSpec, variant: Variant) -> BuildResult:
        key = cache_key(spec, variant, self.installer)
        entry = self.cache.entry(spec.name, variant.key, key)
        if (hit := self.cache.lookup(entry)) is not None:
            return result_from_json(hit, entry / ZIP, cached=True)
        with self.cache.locked(entry):
            if (hit := self.cache.lookup(entry)) is not None:  # built by a concurrent process
                return result_from_json(hit, entry / ZIP, cached=True)
            with self.cache.workdir() as work:
                result = self._build_into(spec, variant, key, work)
                self.cache.publish(work / "out", entry, result)
        return result_from_json(result, entry / ZIP, cached=False)

    def _install(self, spec: LayerSpec, variant: Variant, site: Path, work: Path) -> None:
        assert spec.requirements is not None
        parse_lock(spec.requirements)  # refuse unpinned/unhashed lines before any download
        targets = [(RUNTIMES[rt], a) for rt in variant.runtimes for a in variant.architectures]
        first: tuple[Distribution, ...] | None = None
        for index, (runtime, arch) in enumerate(targets):
            dest = site if index == 0 else work / f"probe-{index}"
            self.report(f"{spec.name} [{variant.key}]: installing for {runtime.name}/{arch}")
            self.installer.install(spec.requirements, dest, runtime, arch)
            slim.remove_distributions(dest, spec.exclude)
            solo = Variant(variant.layer, (runtime.name,), (arch,), variant.portable)
            verify.check_wheel_tags(dest, solo, spec_path=spec.spec_path)
            dists = tuple((d.name, d.version) for d in _distributions(dest))
            if first is not None and dists != tuple((d.name, d.version) for d in first):
                raise BuildError(
                    f"portable layer {spec.name!r} resolves to different packages for {runtime.name}/{arch} "
                    f"than for {targets[0][0].name}/{targets[0][1]}; set `portable = false`",
                    path=spec.spec_path, key="portable")
            first = first or _distributions(dest)

    def _compile(self, variant: Variant, stage: Path) -> str | None:
        compiled = [c for rt in variant.runtimes
                    if (c := self.installer.compile_bytecode(stage, RUNTIMES[rt])) is not None]
        return ",".join(compiled) or None

    def _build_into(self, spec: LayerSpec, variant: Variant, key: str, work: Path) -> dict[str, Any]:
        stage = work / "layer"
        site = stage / site_dir(variant)
        site.mkdir(parents=True)
        if spec.requirements:
            self._install(spec, variant, site, work)
        slim.slim_tree(site)
        if spec.source:
            _copy_sources(spec.source, stage / "python")
        if not any(p.is_file() for p in stage.rglob("*")):
            raise UserError(f"layer {spec.name!r} has nothing to put in it: the lock and source are empty",
                            path=spec.spec_path)
        verify.check_elf(stage, variant, spec_path=spec.spec_path)
        self.report(f"{spec.name} [{variant.key}]: compiling bytecode")
        bytecode = self._compile(variant, stage)
        dists = _distributions(site)
        manifest = {"layer": spec.name, "variant": variant.key, "runtimes": list(variant.runtimes),
                    "architectures": list(variant.architectures), "recipe": RECIPE_VERSION,
                    "builder": self.installer.kind, "bytecode": bytecode,
                    "distributions": [{"name": d.name, "version": d.version} for d in dists]}
        content = archive.write_manifest(stage, spec.name, manifest)
        files, unzipped = verify.check_size(stage, spec.name)
        self.report(f"{spec.name} [{variant.key}]: writing zip")
        out = work / "out"
        sha = archive.write_zip(stage, out / ZIP)
        zip_bytes = (out / ZIP).stat().st_size
        return {"layer": spec.name, "runtimes": list(variant.runtimes),
                "architectures": list(variant.architectures), "portable": variant.portable,
                "sha256": sha, "content_sha256": content, "files": files, "unzipped_bytes": unzipped,
                "zip_bytes": zip_bytes, "cache_key": key, "bytecode": bytecode,
                "builder": self.installer.kind, "warnings": verify.zip_warnings(zip_bytes),
                "distributions": [{"name": d.name, "version": d.version, "tags": list(d.tags)} for d in dists],
                "top_level_sizes": [list(x) for x in top_level_sizes(stage)]}

