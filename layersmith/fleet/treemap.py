"""Squarified treemap layout (Bruls, Huizing, van Wijk 2000): pure, so it is tested without a browser.

Items are laid out largest first in rows along the shorter side of the remaining rectangle; an item
joins the current row while that does not make the row's worst aspect ratio worse. Each rectangle's
area is exactly its share of the whole (up to float rounding), so the rectangles of a layer variant
add up to its bytes — what the report's browser test checks in the DOM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    name: str
    size: int  # bytes
    x: float
    y: float
    w: float
    h: float


def _worst(row: Sequence[float], side: float) -> float:
    """The largest aspect ratio of `row` (areas) laid along a side of length `side`."""
    total = sum(row)
    return max(max(side * side * a / (total * total), total * total / (side * side * a)) for a in row)


def _worse_with(row: list[tuple[str, int]], size: int, scale: float, side: float) -> bool:
    """Whether adding an item of `size` makes the row's worst aspect ratio worse (then start a new row)."""
    if not row:
        return False
    areas = [s * scale for _, s in row]
    return _worst([*areas, size * scale], side) > _worst(areas, side)


def squarify(items: Sequence[tuple[str, int]], x: float, y: float, w: float, h: float) -> list[Rect]:
    """Rectangles tiling (x, y, w, h) with areas proportional to the sizes; zero-size items are left out."""
    kept = sorted(((n, s) for n, s in items if s > 0), key=lambda item: (-item[1], item[0]))
    total = sum(s for _, s in kept)
    if not kept or w <= 0 or h <= 0:
        return []
    scale = w * h / total
    out: list[Rect] = []
    row: list[tuple[str, int]] = []
    for item in kept:
        if _worse_with(row, item[1], scale, min(w, h)):
            x, y, w, h = _place(row, scale, x, y, w, h, out)
        row.append(item)
    _place(row, scale, x, y, w, h, out)
    return out


def _place(row: list[tuple[str, int]], scale: float, x: float, y: float, w: float, h: float,
           out: list[Rect]) -> tuple[float, float, float, float]:
    """Lay `row` along the shorter side; return the rectangle that remains. Empties `row`."""
    area = sum(s for _, s in row) * scale
    if w >= h:  # a column on the left, items stacked top to bottom
        thick = area / h if h else 0.0
        offset = y
        for name, size in row:
            length = size * scale / thick if thick else 0.0
            out.append(Rect(name, size, x, offset, thick, length))
            offset += length
        row.clear()
        return x + thick, y, w - thick, h
    thick = area / w if w else 0.0
    offset = x
    for name, size in row:
        length = size * scale / thick if thick else 0.0
        out.append(Rect(name, size, offset, y, length, thick))
        offset += length
    row.clear()
    return x, y + thick, w, h - thick
