"""The test tree's own layout: pytest imports test modules of the tiers (no __init__.py) by their
basename, so two tiers holding the same basename fail collection of the whole run ("import file
mismatch"), and only when both are collected together, as `make test` does."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_modules_share_a_basename() -> None:
    names = Counter(p.name for p in TESTS.rglob("test_*.py") if not (p.parent / "__init__.py").exists())
    assert sum(names.values()) > 50, "too few test modules found: the test would pass vacuously"
    assert [name for name, count in names.items() if count > 1] == []
