"""`inventory` and `prune` fitted to the terminal (issue 24): the same report, every line within the
width; unfitted (`--wide`, a pipe) it is what it was."""

from __future__ import annotations

import pytest
from test_inventory_scan import MATCHER, OTHER, Sleeps, _two_accounts

from layersmith.aws.clients import Caller
from layersmith.aws.inventory import scan
from layersmith.aws.prune import select_prunable
from layersmith.aws.records import Inventory
from layersmith.aws.report import render_inventory, render_selection
from layersmith.table import text_width


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return scan(_two_accounts(), [OTHER], ["eu-west-1"], MATCHER, call=Caller(sleep=Sleeps()))


def widest(text: str) -> int:
    return max(text_width(line) for line in text.splitlines())


@pytest.mark.parametrize("width", [60, 80, 100])
def test_inventory_fits(inventory: Inventory, width: int) -> None:
    wide = render_inventory(inventory)
    assert widest(wide) > width
    fitted = render_inventory(inventory, width)
    assert widest(fitted) <= width
    words = " ".join(fitted.split())
    assert "layersmith-dev-api alias live→4" in words and "granted by a statement layersmith does not own" in words


@pytest.mark.parametrize("width", [60, 80])
def test_prune_plan_fits(inventory: Inventory, width: int) -> None:
    plan = select_prunable(inventory, 1)
    wide = render_selection(plan)
    assert widest(wide) > width
    assert widest(render_selection(plan, width)) <= width
