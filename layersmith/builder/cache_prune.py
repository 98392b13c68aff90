"""`layersmith cache prune`: drop what no current layer spec or lock can produce any more.

Kept: every variant entry whose key the project's current specs and locks give (for the host
builder and the Docker builder with the given image tag), and every piece such an entry uses or
a current lock pin would use. Removed: entries of deleted layers and variants, of old locks,
sources, recipes or interpreters, the pieces only they used, stale lock files and the scratch
directories of dead builds. A layer whose spec or lock cannot be read is left alone, with a note:
its key cannot be computed, so nothing proves its entries stale.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from layersmith.builder.builder import Builder, cache_key
from layersmith.builder.cache import RESULT, BuildCache
from layersmith.builder.install import Installer
from layersmith.builder.pieces import PieceStore
from layersmith.errors import LayersmithError
from layersmith.model import LayerSpec, expand_variants

# Handled separately, or not build output at all: `sysroots/` is where `runtimes fetch` puts the Debian
# userlands when LAYERSMITH_SYSROOTS is unset, `functions/` the program's function zips. Removing them
# as "entries of a deleted layer" deleted hundreds of MB of prepared interpreters (issue 22).
_KEEP = {".tmp", ".locks", ".invoke", "sysroots", "functions"}
_PIECES = ".pieces"
_ENTRY = re.compile(r".+-[0-9a-f]{16}")  # `<variant key>-<key16>`, as BuildCache.entry names them


@dataclass
class CachePruneSelection:
    entries: list[Path] = field(default_factory=list)  # variant entries to remove
    pieces: list[Path] = field(default_factory=list)
    kept_entries: int = 0
    kept_pieces: int = 0
    notes: list[str] = field(default_factory=list)

    def paths(self) -> list[Path]:
        return [*self.entries, *self.pieces]


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _wanted(specs: dict[str, LayerSpec], builders: Sequence[Builder], plan: CachePruneSelection
            ) -> tuple[set[Path], set[str], set[str]]:
    """(entries to keep, layers whose entries must all stay, piece keys current pins would use)."""
    entries: set[Path] = set()
    untouchable: set[str] = set()
    pieces: set[str] = set()
    for spec in specs.values():
        try:
            for variant in expand_variants(spec):
                for builder in builders:
                    key = cache_key(spec, variant, builder.installer)
                    entries.add(builder.cache.entry(spec.name, variant.key, key))
                    for req in builder._pins(spec, variant):
                        pieces.update(builder._dist_keys(variant, req))
        except LayersmithError as exc:
            untouchable.add(spec.name)
            plan.notes.append(f"{spec.name}: kept as is ({exc.message})")
    return entries, untouchable, pieces


def plan_cache_prune(cache: BuildCache, specs: dict[str, LayerSpec], installers: Sequence[Installer]
                     ) -> CachePruneSelection:
    plan = CachePruneSelection()
    builders = [Builder(installer, cache) for installer in installers]
    wanted, untouchable, piece_keys = _wanted(specs, builders, plan)
    if not cache.root.is_dir():
        return plan
    _select_entries(cache, wanted, untouchable, piece_keys, plan)
    _select_pieces(cache, piece_keys, plan)
    return plan


def _select_entries(cache: BuildCache, wanted: set[Path], untouchable: set[str], piece_keys: set[str],
                    plan: CachePruneSelection) -> None:
    """Mark each variant entry kept or removed; a kept entry's pieces join `piece_keys`."""
    for layer_dir in sorted(p for p in cache.root.iterdir() if p.is_dir() and p.name not in _KEEP | {_PIECES}):
        for entry in _entries(layer_dir):
            if entry in wanted or layer_dir.name in untouchable:
                plan.kept_entries += 1
                piece_keys.update(_entry_pieces(entry))
            else:
                plan.entries.append(entry)


def _entries(layer_dir: Path) -> list[Path]:
    return sorted(p for p in layer_dir.iterdir() if p.is_dir() and _ENTRY.fullmatch(p.name))


def _select_pieces(cache: BuildCache, piece_keys: set[str], plan: CachePruneSelection) -> None:
    store = PieceStore(cache.root)
    for key in sorted(store.keys()):
        if key in piece_keys:
            plan.kept_pieces += 1
        else:
            plan.pieces.append(store.path(key))


def _entry_pieces(entry: Path) -> list[str]:
    try:
        data = json.loads((entry / RESULT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(k) for k in data.get("pieces", [])]


def execute(cache: BuildCache, plan: CachePruneSelection) -> int:
    """Remove what the plan lists, plus stale lock files and dead builds' scratch dirs; bytes freed."""
    freed = 0
    for path in plan.paths():
        freed += _size(path)
        shutil.rmtree(path, ignore_errors=True)
    for entry in plan.entries:
        cache.lock_path(entry).unlink(missing_ok=True)
    for layer_dir in (p for p in cache.root.iterdir() if p.is_dir() and p.name not in _KEEP | {_PIECES}):
        if not any(layer_dir.iterdir()):
            layer_dir.rmdir()
    tmp = cache.root / ".tmp"
    if tmp.is_dir():
        cache.sweep(tmp)
    return freed


def total_size(paths: Sequence[Path]) -> int:
    return sum(_size(p) for p in paths)
