"""What a built variant is made of, by distribution, read from the cache only (never builds).

A cached build records the keys of the pieces it was assembled from (`result.json`'s "pieces"),
and each piece's index lists every entry with its unzipped size. The zip holds each name once, the
later piece winning a clash (`assemble._layout`), so sizes are attributed the same way; the rest of
`unzipped_bytes` is the manifest layersmith writes into every zip. The parts therefore add up to
the variant's unzipped bytes exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from layersmith.builder.archive import manifest_path
from layersmith.builder.builder import Builder, cache_key
from layersmith.builder.pieces import PieceStore
from layersmith.errors import LayersmithError
from layersmith.model import LayerSpec, Variant

SOURCES = "(layer source)"
MANIFEST = "(manifest)"


@dataclass(frozen=True)
class VariantSizes:
    layer: str
    variant: str
    unzipped_bytes: int
    zip_bytes: int
    parts: tuple[tuple[str, int], ...]  # (distribution "name version", unzipped bytes), largest first


def cached_sizes(builder: Builder, spec: LayerSpec, variant: Variant) -> VariantSizes | None:
    """The variant's sizes when the cache holds its build and every piece it names; else None."""
    try:
        key = cache_key(spec, variant, builder.installer)
    except LayersmithError:  # e.g. the installer cannot be identified here: the build cannot be found
        return None
    hit = builder.cache.lookup(builder.cache.entry(spec.name, variant.key, key))
    if hit is None or not hit.get("pieces"):  # no build, or one that did not record its pieces
        return None
    store = PieceStore(builder.cache.root)
    owner: dict[str, tuple[str, int]] = {}
    for piece_key in hit.get("pieces", []):
        piece = store.get(str(piece_key))
        if piece is None:  # swept by `cache prune`: the zip is there, its breakdown is not
            return None
        label = f"{piece.dist['name']} {piece.dist['version']}" if piece.dist else SOURCES
        for entry in piece.entries:
            owner[entry.name] = (label, entry.size)
    owner.pop(manifest_path(spec.name), None)  # replaced by the manifest, as `assemble` does
    by_part: dict[str, int] = {}
    for label, size in owner.values():
        by_part[label] = by_part.get(label, 0) + size
    total = int(hit["unzipped_bytes"])
    rest = total - sum(by_part.values())
    if rest > 0:
        by_part[MANIFEST] = rest
    parts = tuple(sorted(by_part.items(), key=lambda p: (-p[1], p[0])))
    return VariantSizes(spec.name, variant.key, total, int(hit["zip_bytes"]), parts)
