"""Plan, hash, then execute: one cache-keyed, verified, deterministic zip per layer variant."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from layersmith.builder import archive, slim, verify
from layersmith.builder.assemble import Assembled, assemble
from layersmith.builder.cache import ZIP, BuildCache
from layersmith.builder.early_compile import EarlyCompile, start_compile
from layersmith.builder.install import Installer
from layersmith.builder.pieces import (
    Deflater,
    Piece,
    PieceStore,
    deflater,
    piece_key,
    split_by_distribution,
    stage_piece,
)
from layersmith.builder.tree import files_sha256, shipped_sources, walk_paths
from layersmith.builder.zipcheck import verify_zip
from layersmith.errors import BuildError, SpecError, UserError
from layersmith.model import BuildResult, Distribution, LayerSpec, Requirement, Variant
from layersmith.names import canonicalize_name
from layersmith.project.excludes import unmatched_excludes
from layersmith.project.lockfile import generated_by_layersmith, pins_for, recorded_targets, target_label
from layersmith.project.specs import parse_lock
from layersmith.runtimes.supported import ARCHITECTURES, RUNTIMES, Runtime

# Bump when the recipe (slimming rules, zip format, manifest) changes: old cache entries and
# old zips then stop matching, exactly once, on every machine.
RECIPE_VERSION = "5"  # 2: RECORD rows of slimmed-away files dropped; 3: assembled from per-wheel pieces;
# 4: entries deflated by libdeflate, not zlib; 5: at level 5, not 6

Reporter = Callable[[str], None]


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
        "deflate_level": archive.COMPRESS_LEVEL,  # in the key itself: no entry of another level is ever reused
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
        top_level_sizes=tuple((n, s) for n, s in data["top_level_sizes"]),
        timings=tuple((k, float(v)) for k, v in data.get("timings", {}).items()),
        pieces_reused=int(data.get("pieces_reused", 0)), pieces_built=int(data.get("pieces_built", 0)))


# Makes the pool that deflates a build's files: `pieces.deflater`, or in tests one that records what it is handed.
Deflaters = Callable[[int, int | None], contextlib.AbstractContextManager[Deflater]]


class Builder:
    def __init__(self, installer: Installer, cache: BuildCache, report: Reporter = lambda _m: None,
                 *, deflaters: Deflaters = deflater) -> None:
        self.installer = installer
        self.cache = cache
        self.report = report
        self.deflaters = deflaters

    def cached(self, spec: LayerSpec, variant: Variant) -> BuildResult | None:
        """The finished build of this variant if the cache has it; never builds."""
        key = cache_key(spec, variant, self.installer)
        entry = self.cache.entry(spec.name, variant.key, key)
        hit = self.cache.lookup(entry)
        return result_from_json(hit, entry / ZIP, cached=True) if hit is not None else None

    def build(self, spec: LayerSpec, variant: Variant) -> BuildResult:
        """The variant's zip, from the cache or built; its warnings include the layer.toml's `exclude`
        entries that match nothing (computed each time: they depend on the spec, not the build)."""
        result = self._build(spec, variant)
        unmatched = unmatched_excludes(spec)
        return replace(result, warnings=(*result.warnings, *unmatched)) if unmatched else result

    def _build(self, spec: LayerSpec, variant: Variant) -> BuildResult:
        key = cache_key(spec, variant, self.installer)
        entry = self.cache.entry(spec.name, variant.key, key)
        if (hit := self.cache.lookup(entry)) is not None:
            return result_from_json(hit, entry / ZIP, cached=True)
        def waiting(lock: Path) -> None:
            self.report(f"{spec.name} [{variant.key}]: waiting for another build of this variant to finish "
                        f"(it holds {lock})")

        with self.cache.locked(entry, on_wait=waiting):
            if (hit := self.cache.lookup(entry)) is not None:  # built by a concurrent process
                return result_from_json(hit, entry / ZIP, cached=True)
            with self.cache.workdir() as work:
                result = self._build_into(spec, variant, key, work)
                self.cache.publish(work / "out", entry, result)
        return result_from_json(result, entry / ZIP, cached=False)

    def _pins(self, spec: LayerSpec, variant: Variant) -> list[Requirement]:
        """The lock lines this variant installs (markers evaluated per target), minus `exclude`."""
        if spec.requirements is None:
            return []
        reqs = parse_lock(spec.requirements)  # refuse unpinned/unhashed lines before any download
        excluded = {canonicalize_name(n) for n in spec.exclude}
        targets = _targets(variant)
        per_target = [{n: r.version for n, r in pins_for(reqs, rt, a).items() if n not in excluded}
                      for rt, a in targets]
        for (runtime, arch), pins in zip(targets[1:], per_target[1:], strict=True):
            if pins != per_target[0]:
                raise _portable_mismatch(spec, runtime.name, arch, targets[0])
        chosen = pins_for(reqs, *targets[0])
        return sorted((r for n, r in chosen.items() if n not in excluded), key=lambda r: r.name)

    def _install(self, spec: LayerSpec, variant: Variant, missing: list[Requirement], site: Path,
                 work: Path) -> None:
        """Install only the pins no cached piece has (`--no-deps`: the lock is complete)."""
        subset = _write_subset(missing, work / "missing.txt")
        targets = _targets(variant)
        first: tuple[tuple[str, str], ...] | None = None
        for index, (runtime, arch) in enumerate(targets):
            dest = site if index == 0 else work / f"probe-{index}"
            dists = self._install_for(spec, variant, subset, dest, (runtime, arch))
            if first is not None and dists != first:
                raise _portable_mismatch(spec, runtime.name, arch, targets[0])
            first = first or dists

    def _install_for(self, spec: LayerSpec, variant: Variant, subset: Path, dest: Path,
                     target: tuple[Runtime, str]) -> tuple[tuple[str, str], ...]:
        """Install, slim and tag-check the subset for one runtime/architecture: the (name, version)s in dest."""
        runtime, arch = target
        self.report(f"{spec.name} [{variant.key}]: installing for {runtime.name}/{arch}")
        try:
            self.installer.install(subset, dest, runtime, arch)
        except BuildError as exc:  # name the user's lock, not the scratch subset of it
            if exc.path is None or Path(exc.path).name != subset.name:
                raise
            raise type(exc)(exc.message, path=spec.requirements, key=exc.key, line=exc.line,
                            column=exc.column) from None
        slim.remove_distributions(dest, spec.exclude)
        solo = Variant(variant.layer, (runtime.name,), (arch,), variant.portable)
        verify.check_wheel_tags(dest, solo, spec_path=spec.spec_path)
        return tuple((d.name, d.version) for d in _distributions(dest))

    def _compile(self, variant: Variant, stage: Path) -> str | None:
        compiled = [c for rt in variant.runtimes
                    if (c := self.installer.compile_bytecode(stage, RUNTIMES[rt])) is not None]
        return ",".join(compiled) or None

    def _piece_key(self, variant: Variant, kind: str, what: dict[str, Any], pure: bool) -> str:
        archs = ARCHITECTURES if pure else variant.architectures
        return piece_key({
            "recipe": RECIPE_VERSION, "deflate_level": archive.COMPRESS_LEVEL, "kind": kind, **what,
            "site": site_dir(variant),
            "runtimes": list(variant.runtimes), "architectures": ["any"] if pure else list(variant.architectures),
            "installer": sorted({self.installer.identity(RUNTIMES[rt], a) for rt in variant.runtimes for a in archs}),
        })

    def _dist_keys(self, variant: Variant, req: Requirement) -> tuple[str, str]:
        """(pure key, native key): a pure-Python piece is shared by every architecture."""
        what = {"name": req.name, "version": req.version, "hashes": sorted(req.hashes)}
        return self._piece_key(variant, "dist", what, True), self._piece_key(variant, "dist", what, False)

    def _build_into(self, spec: LayerSpec, variant: Variant, key: str, work: Path) -> dict[str, Any]:
        avoid: set[str] = set()
        while True:
            try:
                return _Run(self, spec, variant, work, avoid).build(key)
            except _StoredPieceDamaged as exc:
                # Rare (a damaged cache): start again in an empty `work`, with the damaged pieces counted as
                # missing. Each pass avoids at least one more piece key, so this ends.
                avoid |= exc.keys
                for child in list(work.iterdir()):
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()


class _StoredPieceDamaged(Exception):
    """Pieces that were stored when the run began turned out damaged when read (and were discarded)."""

    def __init__(self, keys: set[str]) -> None:
        super().__init__(", ".join(sorted(keys)))
        self.keys = keys


# What `_Run._make` made: the new pieces by name, the source piece, the bytecode tag.
_Made = tuple[dict[str, Piece], Piece | None, str | None]


class _Run:
    """One variant build from pieces: reuse what the piece cache has, make the rest, assemble."""

    def __init__(self, builder: Builder, spec: LayerSpec, variant: Variant, work: Path,
                 avoid: set[str] | None = None) -> None:
        self.b, self.spec, self.variant, self.work = builder, spec, variant, work
        self.avoid = avoid or set()  # piece keys found damaged by an earlier pass: built again, not read
        self.store = PieceStore(builder.cache.root, on_damage=self._damaged)
        self.timings: dict[str, float] = {}
        self.cleanup: threading.Thread | None = None
        self.early: EarlyCompile | None = None  # compileall started before the install (a rebuild's)

    def _damaged(self, piece: Path, why: str) -> None:
        self.b.report(f"{self.spec.name} [{self.variant.key}]: discarding cache piece {piece}: {why}; "
                      "it is made again")

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started

    def build(self, key: str) -> dict[str, Any]:
        stored, missing = self._stored_dists()
        source_keys = self._source_keys()
        source = self._cached_source(source_keys)
        if stored:
            self.b.report(f"{self.spec.name} [{self.variant.key}]: {len(stored)} package(s) from the piece cache, "
                          f"{len(missing)} to build")
        pieces, (made, made_source, compiled) = self._load_while_making(stored, missing,
                                                                        source_keys if source is None else None)
        reused = len(pieces) + (source is not None)
        pieces.update(made)
        source = source or made_source
        ordered = [pieces[n] for n in sorted(pieces)] + ([source] if source else [])
        self._require_content(ordered)
        bytecode = compiled if (made or made_source) else ordered[0].bytecode
        dists = _piece_distributions(ordered)
        done = self._assemble(ordered, bytecode, dists)
        return self._result(key, done, ordered, reused, bytecode, dists)

    def _load_while_making(self, stored: dict[str, str], missing: list[Requirement],
                           source_keys: tuple[str, str] | None) -> tuple[dict[str, Piece], _Made]:
        """The stored pieces, read and verified (30 MB of data.bin hashed, their indexes checked) in a
        thread while uv and compileall make the missing ones: it was 0.1-0.2 s of a one-package rebuild,
        spent before uv started. A piece that turns out damaged is discarded and the run starts again."""
        self.early = self._start_compile(stored, missing)
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="layersmith-pieces") as loader:
                loading = {name: (k, loader.submit(self.store.get, k)) for name, k in stored.items()}
                made = self._make(missing, source_keys)
                loaded = {name: (k, future.result()) for name, (k, future) in loading.items()}
        finally:
            if self.early is not None:  # a build that failed, or compiled without it: it must not wait on
                self.early.close()
        if damaged := {k for k, piece in loaded.values() if piece is None}:
            if self.cleanup is not None:
                self.cleanup.join()
            raise _StoredPieceDamaged(damaged)
        return {name: piece for name, (_, piece) in loaded.items() if piece is not None}, made

    def _start_compile(self, stored: dict[str, str], missing: list[Requirement]) -> EarlyCompile | None:
        """A rebuild's compileall, started while uv installs the few missing packages (`early_compile.py`):
        its start was most of the bytecode step. Only with pieces stored, something to install, one runtime
        and an installer that can (the host's)."""
        if not (stored and missing and len(self.variant.runtimes) == 1):
            return None
        return start_compile(self.b.installer, self.work / "layer", RUNTIMES[self.variant.runtimes[0]])

    def _stored_dists(self) -> tuple[dict[str, str], list[Requirement]]:
        """({name: piece key} for the pins the piece cache holds a piece of, [the pins it has not]). Only
        whether the piece is there: it is read and verified later (`PieceStore.get`)."""
        stored: dict[str, str] = {}
        missing: list[Requirement] = []
        for req in self.b._pins(self.spec, self.variant):
            keys = [k for k in self.b._dist_keys(self.variant, req) if k not in self.avoid and self.store.stored(k)]
            if keys:
                stored[req.name] = keys[0]
            else:
                missing.append(req)
        return stored, missing

    def _source_keys(self) -> tuple[str, str] | None:
        """(pure key, native key) of the layer's own sources, None when it ships none."""
        if not self.spec.source:
            return None
        what = {"files": files_sha256(shipped_sources(self.spec.source))}
        return (self.b._piece_key(self.variant, "source", what, True),
                self.b._piece_key(self.variant, "source", what, False))

    def _cached_source(self, source_keys: tuple[str, str] | None) -> Piece | None:
        if source_keys is None:
            return None
        return self.store.get(source_keys[0]) or self.store.get(source_keys[1])

    def _require_content(self, ordered: list[Piece]) -> None:
        if not any(p.entries for p in ordered):
            raise UserError(f"layer {self.spec.name!r} has nothing to put in it: the lock and source are empty",
                            path=self.spec.spec_path)

    def _assemble(self, ordered: list[Piece], bytecode: str | None, dists: list[Distribution]) -> Assembled:
        """Write the zip from the pieces, then wait for the stage's background deletion."""
        spec, variant = self.spec, self.variant
        manifest = {"layer": spec.name, "variant": variant.key, "runtimes": list(variant.runtimes),
                    "architectures": list(variant.architectures), "recipe": RECIPE_VERSION,
                    "builder": self.b.installer.kind, "bytecode": bytecode,
                    "distributions": [{"name": d.name, "version": d.version} for d in dists]}
        self.b.report(f"{spec.name} [{variant.key}]: writing zip")
        with self.phase("zip"):
            done = assemble(ordered, spec.name, manifest, self.work / "out" / ZIP)
        with self.phase("verify"):  # every entry's CRC and the sha256, before it may be called built
            verify_zip(self.work / "out" / ZIP, done.sha256, known=done.known,
                       remedy="it was not stored; run the build again, and report it if this repeats")
        if self.cleanup is not None:
            self.cleanup.join()
        return done

    def _result(self, key: str, done: Assembled, ordered: list[Piece], reused: int, bytecode: str | None,
                dists: list[Distribution]) -> dict[str, Any]:
        """The cache entry's record of this build (what `result_from_json` reads back)."""
        variant = self.variant
        return {"layer": self.spec.name, "runtimes": list(variant.runtimes),
                "architectures": list(variant.architectures), "portable": variant.portable,
                "sha256": done.sha256, "content_sha256": done.content_sha256, "files": done.files,
                "unzipped_bytes": done.unzipped_bytes, "zip_bytes": done.zip_bytes, "cache_key": key,
                "bytecode": bytecode, "builder": self.b.installer.kind,
                "warnings": verify.zip_warnings(done.zip_bytes),
                "distributions": [{"name": d.name, "version": d.version, "tags": list(d.tags)} for d in dists],
                "top_level_sizes": [list(x) for x in done.top_level_sizes],
                "pieces": [p.key for p in ordered], "pieces_reused": reused, "pieces_built": len(ordered) - reused,
                "timings": {k: round(v, 3) for k, v in self.timings.items()}}

    def _make(self, missing: list[Requirement], source_key: tuple[str, str] | None) -> _Made:
        """Install, slim, verify and compile what no piece has yet; split it into new pieces."""
        b, spec, variant = self.b, self.spec, self.variant
        stage = self.work / "layer"
        site = stage / site_dir(variant)
        site.mkdir(parents=True)
        removing: threading.Thread | None = None
        if missing:
            with self.phase("install"):
                b._install(spec, variant, missing, site, self.work)
            with self.phase("slim"):
                trash = self.work / "slimmed"  # outside the stage: never zipped
                trash.mkdir()
                slim.slim_tree(site, trash=trash)
            # What slimming moved aside is deleted while the rest of the build runs: `cleanup` waits for it.
            removing = _remove_in_background(trash)
        if source_key and spec.source:
            _copy_sources(spec.source, stage / "python")
        if not missing and not source_key:
            return {}, None, None
        files = walk_paths(stage)
        workers = _deflate_workers(files)
        if workers == 0:  # a cold build checks beside compileall (`_compile_handing_over`)
            with self.phase("verify"):
                verify.check_elf(stage, variant, spec_path=spec.spec_path, files=files)
        with b.deflaters(archive.COMPRESS_LEVEL, workers) as pool:
            # Sources and .so files are deflated while compileall runs: it only adds .pyc files.
            pool.submit(path for _, path in files)
            b.report(f"{spec.name} [{variant.key}]: compiling bytecode")
            with self.phase("bytecode"):
                compiled = (self._compile_deflating(stage, pool, files) if workers == 0
                            else self._compile_handing_over(stage, pool, files))
            with self.phase("zip"):
                made, source = self._split(stage, site, missing, source_key, pool, compiled)
        # The pieces hold everything now: delete the ~100 MB stage while the zip is assembled.
        self.cleanup = _remove_in_background(stage, after=removing)
        return made, source, compiled

    def _compile_deflating(self, stage: Path, pool: Deflater, files: list[tuple[str, str]]) -> str | None:
        """A few MB (a one-package rebuild): compileall runs as a process (a fresh interpreter's start is
        most of its time here), waited for in a thread, while this thread deflates the stage's files, until
        it is done. The pool of a larger build does that by itself. A compileall started with uv (`early`) is
        given its list here."""
        early = self.early

        def compile_now() -> str | None:
            return early.finish() if early is not None else self.b._compile(self.variant, stage)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="layersmith-compile") as compiler:
            compiling = compiler.submit(compile_now)
            for _, path in files:
                if compiling.done():
                    break
                pool.prefetch(path)
            return compiling.result()

    def _compile_handing_over(self, stage: Path, pool: Deflater, files: list[tuple[str, str]]) -> str | None:
        """A cold build: compileall's processes run (waited for in a thread) while this thread checks the
        ELF files, then hands each .pyc to the pool as soon as it is written. The pycs were deflated only
        after compileall ended, a tail of ~0.7 s with one core busy; now the pool deflates them while the
        other pycs compile. The ELF check (0.06-0.13 s) only reads the files listed before compiling,
        which compileall leaves alone; when it fails, the build fails once compileall has ended."""
        pending = _expected_bytecode(files, self.variant)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="layersmith-compile") as compiler:
            compiling = compiler.submit(self.b._compile, self.variant, stage)
            with self.phase("verify"):
                verify.check_elf(stage, self.variant, spec_path=self.spec.spec_path, files=files)
            while not _finished(compiling, _POLL_SECONDS):
                pending = _hand_over(pending, pool, _LOOKAHEAD)
            compiled = compiling.result()
        _hand_over(pending, pool, len(pending))
        return compiled

    def _split(self, stage: Path, site: Path, missing: list[Requirement], source_key: tuple[str, str] | None,
               pool: Deflater, compiled: str | None) -> tuple[dict[str, Piece], Piece | None]:
        wanted = {r.name: r for r in missing}
        wheels = _wheels_by_name(site)
        by_dist, rest = split_by_distribution(stage, site)
        # In batches, in the order the pieces ask for them: a file not handed over yet (a .pyc that was not
        # expected) would otherwise be deflated alone, when asked, while the pool waits.
        pool.submit(path for files in (*by_dist.values(), rest) for _, path in files)
        made = {name: self._dist_piece(name, files, wanted, wheels, pool, compiled)
                for name, files in by_dist.items()}
        return made, self._source_piece(rest, source_key, pool, compiled)

    def _dist_piece(self, name: str, files: list[tuple[str, str]], wanted: dict[str, Requirement],
                    wheels: dict[str, verify.WheelInfo], pool: Deflater, compiled: str | None) -> Piece:
        """Store one installed distribution's files as a piece: shared by every architecture when pure."""
        if name not in wanted:
            raise BuildError(f"installing the lock for {self.variant.key} also installed {name}, which the "
                             f"lock does not list for it; run `layersmith lock {self.spec.name}`",
                             path=self.spec.requirements)
        entries, elf, checked = stage_piece(files, pool, self.work / "pieces" / name)
        wheel = wheels[name]
        pure_key, native_key = self.b._dist_keys(self.variant, wanted[name])
        pure = not elf and all(t.endswith("-none-any") for t in wheel.tags)
        dist = {"name": name, "version": wanted[name].version, "tags": list(wheel.tags),
                "dist_info": wheel.dist_info}
        return self.store.put(pure_key if pure else native_key, self.work / "pieces" / name, entries,
                              dist, compiled, checked)

    def _source_piece(self, rest: list[tuple[str, str]], source_key: tuple[str, str] | None, pool: Deflater,
                      compiled: str | None) -> Piece | None:
        """Store the files no distribution owns as the sources' piece; without sources there must be none."""
        if source_key is None:
            if rest:
                raise BuildError(f"the install left {rest[0][0]}, which no installed distribution owns; "
                                 "report this layer's lock")
            return None
        entries, elf, checked = stage_piece(rest, pool, self.work / "pieces" / ".source")
        key = source_key[1] if elf else source_key[0]  # sources without compiled code: every architecture
        return self.store.put(key, self.work / "pieces" / ".source", entries, None, compiled, checked)


# Below this many bytes to deflate, one package of a rebuild, files are deflated in the thread that
# stores the pieces, each when its stream is needed (`Deflater(workers=0)`): a pool's threads cost more
# than they save there. A cold build's 100 MB go to the pool.
_POOL_BYTES = 8 << 20


def _remove_in_background(path: Path, after: threading.Thread | None = None) -> threading.Thread:
    """A started thread that deletes `path`, once `after` (an earlier such deletion) has ended."""
    def remove() -> None:
        if after is not None:
            after.join()
        shutil.rmtree(path, ignore_errors=True)

    thread = threading.Thread(target=remove, name="layersmith-cleanup")
    thread.start()
    return thread


def _deflate_workers(files: list[tuple[str, str]]) -> int | None:
    """0 (deflate inline) for a small tree, None (a thread per core) otherwise."""
    total = 0
    for _, path in files:
        with contextlib.suppress(OSError):  # reading it fails later, naming it
            total += os.stat(path).st_size
        if total >= _POOL_BYTES:
            return None
    return 0


# How often the stage is looked at for new .pyc files while compileall runs (a pyc waits at most this long
# for the pool), and how many missing pycs in a row end a look. compileall's processes take their modules
# largest first (`install.compile_balanced`), so the pycs appear roughly in that order: a look stats the
# ones that appeared since the last and a few more, not all 589 still missing (0.17 s of CPU a build).
_POLL_SECONDS = 0.05
_LOOKAHEAD = 16


def _expected_bytecode(files: list[tuple[str, str]], variant: Variant) -> list[str]:
    """The .pyc paths compiling the stage's .py files writes, one per runtime (`pkg/__pycache__/mod.cpython-311.pyc`),
    largest source first. One the compiler does not write stays pending; `_split` hands the pool what this missed."""
    tags = [f"cpython-{RUNTIMES[rt].version[0]}{RUNTIMES[rt].version[1]}" for rt in variant.runtimes]
    sources = sorted(((_size(path), path) for _, path in files if path.endswith(".py")), key=lambda s: (-s[0], s[1]))
    return [os.path.join(os.path.dirname(path), "__pycache__", f"{os.path.basename(path)[:-3]}.{tag}.pyc")
            for tag in tags for _, path in sources]


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:  # reading it fails later, naming it
        return 0


def _finished(future: Future[Any], timeout: float) -> bool:
    return bool(wait([future], timeout=timeout).done)


def _hand_over(pending: list[str], pool: Deflater, lookahead: int) -> list[str]:
    """Give the pool the pycs of `pending` that exist now, looking no further than `lookahead` missing ones
    in a row; return the others, in order. A pyc under its own name is complete: py_compile (compileall's
    writer) writes it to a temporary name and renames it into place (importlib's `_write_atomic`), and
    each is written once (`Installer.compile_bytecode`)."""
    ready: list[str] = []
    waiting: list[str] = []
    missed = 0
    rest = iter(pending)
    for path in rest:
        if os.path.exists(path):
            ready.append(path)
            missed = 0
        else:
            waiting.append(path)
            missed += 1
            if missed >= lookahead:
                break
    if ready:
        pool.submit(ready)
    return [*waiting, *rest]


def _write_subset(missing: list[Requirement], path: Path) -> Path:
    """The pins to install as a hashed requirements file (the installer's input)."""
    path.write_text("".join(f"{r.name}=={r.version} " + " ".join(f"--hash={h}" for h in r.hashes) + "\n"
                            for r in missing), encoding="utf-8")
    return path


def _wheels_by_name(site: Path) -> dict[str, verify.WheelInfo]:
    return {canonicalize_name(w.dist_info.removesuffix(".dist-info").rsplit("-", 1)[0]): w
            for w in verify.read_wheels(site)}


def _piece_distributions(ordered: list[Piece]) -> list[Distribution]:
    return [Distribution(p.dist["name"], p.dist["version"], tuple(p.dist["tags"]))
            for p in ordered if p.dist is not None]


def _targets(variant: Variant) -> list[tuple[Runtime, str]]:
    return [(RUNTIMES[rt], a) for rt in variant.runtimes for a in variant.architectures]


def _portable_mismatch(spec: LayerSpec, runtime: str, arch: str, first: tuple[Runtime, str]) -> BuildError:
    return BuildError(f"portable layer {spec.name!r} resolves to different packages for {runtime}/{arch} "
                      f"than for {first[0].name}/{first[1]}; set `portable = false`",
                      path=spec.spec_path, key="portable")
