"""Guards that no earlier test triggered (mutating them left the whole suite green): the pin
preflight's "the local build equals the latest version, so this deploy publishes none" rule, the
preflight of pins on layers consumed by ARN, and `stack_edit`'s read-back guard. Each test below
fails when its guard is inverted or deleted (checked by hand; see the report of issue 22)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_config import ARN, parse, proj, write_function  # noqa: F401  (the fixture and its helpers)

from layersmith.errors import ConfigError
from layersmith.pins.preflight import PinUse, Preflight, Published, lambda_sha256
from layersmith.pins.stack_edit import PinEdit, rewrite_pins
from layersmith.project.specs import load_functions

NAME = "layersmith-prod-utils"
LOCAL = lambda_sha256("aa" * 32)  # the zip this deploy would publish
OTHER = lambda_sha256("bb" * 32)


@dataclass
class FakeLookup:
    """What the aws provider's getLayerVersion answers: the latest version, and which exist."""

    latest_version: Published | None = None
    existing: set[tuple[str, int]] = field(default_factory=set)
    asked: list[tuple[str, int]] = field(default_factory=list)

    def latest(self, layer_name: str) -> Published | None:
        return self.latest_version

    def exists(self, layer_name: str, version: int) -> bool:
        self.asked.append((layer_name, version))
        return (layer_name, version) in self.existing


def own(version: int) -> PinUse:
    return PinUse("utils", NAME, version, "Pulumi.prod.yaml", "api")


# --- pin_preflight: a deploy publishes latest + 1 only when the local build differs from latest ---------

def test_a_pin_on_the_next_version_passes_when_the_local_build_differs_from_the_latest() -> None:
    lookup = FakeLookup(Published(3, OTHER), {(NAME, v) for v in (1, 2, 3)})
    preflight = Preflight(lookup, {NAME: LOCAL})
    assert preflight.highest_allowed(NAME) == 4
    preflight.check_own([own(4)])  # this deploy publishes v4


def test_a_pin_on_the_next_version_fails_when_the_local_build_equals_the_latest() -> None:
    lookup = FakeLookup(Published(3, LOCAL), {(NAME, v) for v in (1, 2, 3)})
    preflight = Preflight(lookup, {NAME: LOCAL})
    assert preflight.highest_allowed(NAME) == 3
    with pytest.raises(ConfigError) as err:
        preflight.check_own([own(4)])
    assert err.value.render() == (
        "Pulumi.prod.yaml: layersmith:pins.api.utils: version 4 of layersmith-prod-utils does not exist; the "
        "latest is 3 (this deploy publishes none: the local build equals it): pin an existing version (see "
        "`layersmith inventory`)")


def test_a_consumers_pin_on_the_next_version_is_not_granted_when_nothing_is_published() -> None:
    consumer = PinUse("utils", NAME, 4, "Pulumi.consumer.yaml")
    keep, warnings = Preflight(FakeLookup(Published(3, LOCAL)), {NAME: LOCAL}).filter_consumers([consumer])
    assert keep == [] and warnings == [
        "Pulumi.consumer.yaml pins utils v4: version 4 of layersmith-prod-utils does not exist; the latest is 3 "
        "(this deploy publishes none: the local build equals it); not granted (fix that stack's pin)"]
    keep, _ = Preflight(FakeLookup(Published(3, OTHER)), {NAME: LOCAL}).filter_consumers([consumer])
    assert keep == [consumer]


# --- infra/program.py: pins on layers consumed by ARN are asked for exactly -----------------------------

def test_a_pin_on_a_layer_consumed_by_arn_that_does_not_exist_fails_the_program(proj: Path) -> None:  # noqa: F811
    from layersmith.infra.program import check_pins

    cfg = parse(proj, {"layersmith:publish": ["data"], "layersmith:consume": {"arns": {"utils": ARN}},
                       "layersmith:pins": {"report": {"utils": 12}, "thumbs": {"utils": 12}}})
    functions = load_functions(proj)
    missing = FakeLookup()
    with pytest.raises(ConfigError) as err:
        check_pins(cfg, functions, {}, (), lambda _region: missing)
    assert err.value.render() == (
        f"Pulumi.test.yaml: layersmith:pins.report.utils: version 12 of {ARN} does not exist or is not shared "
        "with this account; pin a version its owner granted you")
    granted = FakeLookup(existing={(ARN, 12)})
    assert check_pins(cfg, functions, {}, (), lambda _region: granted) == ()
    assert set(granted.asked) == {(ARN, 12)}  # exactly the pinned version: nothing else is readable


# --- stack_edit: the rewritten text is read back and must differ only in the pins -----------------------

MERGED = ("config:\n  aws:region: eu-west-1\n  layersmith:pins:\n    api: &base\n      utils: 3\n"
          "    web:\n      <<: *base   # web takes api's pins\n")


def test_a_rewrite_that_would_move_another_pin_is_refused() -> None:
    """`web` merges `api`'s map: the round trip writes api's new version once, and on reading back
    web's pin has moved too. The guard sees the read-back data differ from the requested edit."""
    with pytest.raises(ConfigError, match=r"^Pulumi\.x\.yaml: cannot be rewritten without changing more than "
                                          r"the pins; edit them by hand"):
        rewrite_pins(MERGED, [PinEdit("api", "utils", None, 4)], path=Path("Pulumi.x.yaml"))


def test_the_same_file_rewrites_when_only_the_pin_moves() -> None:
    """The control: an edit of web's own pin is exactly the requested change, so it is written."""
    new = rewrite_pins(MERGED, [PinEdit("web", "utils", None, 5)], path=Path("Pulumi.x.yaml"))
    assert "utils: 5" in new and "utils: 3" in new
