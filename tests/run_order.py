"""The order `make test` hands tests to its pytest-xdist workers: the longest units of work first.

`make test` runs `--dist loadgroup`: a worker gets one `xdist_group` at a time, and tests/conftest.py
puts every test in its file's group (module fixtures run once, as with `--dist loadfile`) unless the
test names its own. The docker stand-in's builds do (one group per userland): that file is about
40 % of the work, and as one unit it alone took ~290 s of one worker.

xdist by default starts with the groups that have the most tests, the quick unit files, and leaves
those of few long tests for later, where one can run on alone while the other core idles: the loaded
run of 2026-12-07 ended with one worker running the prune model's three properties alone for ~500 s.
Longest first (the LPT rule) lets the other worker do everything small meanwhile. `make test` passes
`--no-loadscope-reorder` so xdist keeps this order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

# Slowest first; every other file follows in collection order. Seconds of work per file (setup + call +
# teardown) in a `pytest -n 2` run of 2026-12-07 on this 2-core machine under a load average of ~7 from
# other jobs: docker stand-in 480, variants_execute 168, stack_plans 119 (66 of them building the repo's
# 13 variants, which every later file finds in the cache), invoke 85, inventory_prune 60, cache_faults 44;
# the next file took 23.
# stack_plans goes before variants_execute: it needs no sysroot, so while `make test` still fetches them
# in the background the second worker builds the repo's layers and plans instead of waiting on a lock.
HEAVY = (
    "tests/functional/test_docker_standin.py",
    "tests/integration/test_stack_plans.py",
    "tests/functional/test_variants_execute.py",
    "tests/functional/test_invoke.py",
    "tests/integration/test_inventory_prune.py",
    "tests/unit/test_cache_faults.py",
)


class Item(Protocol):
    @property
    def nodeid(self) -> str: ...


T = TypeVar("T", bound=Item)


def file_of(item: Item) -> str:
    return item.nodeid.split("::", 1)[0]


def heavy_first(items: Sequence[T], heavy: Sequence[str] = HEAVY) -> list[T]:
    """`items` with the files of `heavy` first, in that order, then the rest as collected; the
    items of one file stay together and in their order (a stable sort)."""
    rank = {path: i for i, path in enumerate(heavy)}
    return sorted(items, key=lambda item: rank.get(file_of(item), len(rank)))
