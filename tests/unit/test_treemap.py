"""The squarified layout: rectangles tile the box, each with its share of the bytes."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from layersmith.fleet.treemap import squarify


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    dx = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    dy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(dx, 0.0) * max(dy, 0.0)


@given(st.lists(st.integers(min_value=0, max_value=300_000_000), min_size=1, max_size=40),
       st.floats(min_value=10, max_value=2000), st.floats(min_value=10, max_value=2000))
def test_rectangles_tile_the_box_in_proportion(sizes: list[int], w: float, h: float) -> None:
    items = [(f"d{i}", s) for i, s in enumerate(sizes)]
    rects = squarify(items, 0, 0, w, h)
    total = sum(sizes)
    assert sum(r.size for r in rects) == total
    assert {r.name for r in rects} == {n for n, s in items if s > 0}
    if total == 0:
        return
    assert math.isclose(sum(r.w * r.h for r in rects), w * h, rel_tol=1e-6)
    for r in rects:
        assert math.isclose(r.w * r.h, r.size / total * w * h, rel_tol=1e-6, abs_tol=1e-6)
        assert r.x >= -1e-6 and r.y >= -1e-6 and r.x + r.w <= w + 1e-6 and r.y + r.h <= h + 1e-6
    boxes = [(r.x, r.y, r.w, r.h) for r in rects]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert _overlap(a, b) <= 1e-6 * w * h


def test_squarified_keeps_rectangles_near_square() -> None:
    """The example of the paper: sizes 6,6,4,3,2,2,1 in a 6x4 box; the worst ratio stays under 3."""
    rects = squarify([(str(i), s) for i, s in enumerate([6, 6, 4, 3, 2, 2, 1])], 0, 0, 6, 4)
    assert max(max(r.w / r.h, r.h / r.w) for r in rects) < 3
    # the first two (6 and 6) share the first column, 2 wide
    assert [round(r.w, 6) for r in rects[:2]] == [3.0, 3.0] or [round(r.h, 6) for r in rects[:2]] == [2.0, 2.0]


def test_nothing_to_lay_out() -> None:
    assert squarify([], 0, 0, 10, 10) == []
    assert squarify([("a", 0)], 0, 0, 10, 10) == []
    assert squarify([("a", 5)], 0, 0, 0, 10) == []
