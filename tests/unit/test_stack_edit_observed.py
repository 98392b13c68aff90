"""What a user sees of the pin preflight's verdicts and of `write_atomic` (issue 22: surviving
mutants of layersmith/pins/preflight.py and layersmith/pins/stack_edit.py). Each test pins an exact
message, a refusal, a file mode or the files in the stack's directory."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from layersmith.errors import ConfigError, EnvironmentProblem
from layersmith.pins.preflight import PinUse, Preflight, Published, lambda_sha256
from layersmith.pins.stack_edit import write_atomic

UTILS = "layersmith-prod-utils"
DATA = "layersmith-prod-data"
LOCAL = lambda_sha256("aa" * 32)  # the zip this deploy would publish
OTHER = lambda_sha256("bb" * 32)


@dataclass
class KeyedLookup:
    """What AWS answers, per layer name: its latest version and which versions exist."""

    latest_of: dict[str, Published] = field(default_factory=dict)
    existing: set[tuple[str, int]] = field(default_factory=set)
    asked_latest: list[str] = field(default_factory=list)
    asked: list[tuple[str, int]] = field(default_factory=list)

    def latest(self, layer_name: str) -> Published | None:
        self.asked_latest.append(layer_name)
        return self.latest_of.get(layer_name)

    def exists(self, layer_name: str, version: int) -> bool:
        self.asked.append((layer_name, version))
        return (layer_name, version) in self.existing


def pin(layer_name: str, version: int, function: str = "api", layer: str = "utils") -> PinUse:
    return PinUse(layer, layer_name, version, "Pulumi.prod.yaml", function)


def two_layers() -> KeyedLookup:
    """utils has v1..v3 (v3 is the local build); data has v1..v7."""
    return KeyedLookup({UTILS: Published(3, LOCAL), DATA: Published(7, OTHER)},
                       {(UTILS, v) for v in (1, 2, 3)} | {(DATA, v) for v in range(1, 8)})


# --- each layer is asked about by its own name ------------------------------------------------------------

def test_each_layer_is_judged_against_its_own_latest_version() -> None:
    lookup = two_layers()
    preflight = Preflight(lookup, {})
    assert preflight.latest(DATA) == Published(7, OTHER)
    assert preflight.highest_allowed(UTILS) == 3 and preflight.highest_allowed(DATA) == 7
    assert preflight.problem(pin(DATA, 8)) == f"version 8 of {DATA} does not exist; the latest is 7"
    assert preflight.problem(pin(DATA, 5)) is None
    assert lookup.asked_latest == [DATA, UTILS]  # once per layer, by name
    assert lookup.asked == [(DATA, 5)]


# --- a layer with no version yet ---------------------------------------------------------------------------

def test_a_layer_never_published_allows_only_the_version_this_deploy_publishes() -> None:
    lookup = KeyedLookup()
    preflight = Preflight(lookup, {UTILS: LOCAL})
    assert preflight.highest_allowed(UTILS) == 1
    assert preflight.problem(pin(UTILS, 1)) is None  # this deploy publishes v1
    assert preflight.problem(pin(UTILS, 2)) == f"version 2 of {UTILS} does not exist; no version is published yet"
    assert lookup.asked == []  # nothing exists to ask about


def test_a_pin_on_a_layer_that_has_no_version_and_is_not_published_here_fails() -> None:
    preflight = Preflight(KeyedLookup(), {})
    assert preflight.highest_allowed(UTILS) == 0
    with pytest.raises(ConfigError) as err:
        preflight.check_own([pin(UTILS, 1)])
    assert err.value.render() == (
        f"Pulumi.prod.yaml: layersmith:pins.api.utils: version 1 of {UTILS} does not exist; no version is "
        "published yet: pin an existing version (see `layersmith inventory`)")


# --- the "publishes none" note appears only when the local build equals the latest -----------------------

def test_a_pin_beyond_the_next_version_says_only_what_the_latest_is() -> None:
    preflight = Preflight(KeyedLookup({UTILS: Published(3, OTHER)}), {UTILS: LOCAL})
    assert preflight.problem(pin(UTILS, 4)) is None  # this deploy publishes v4
    assert preflight.problem(pin(UTILS, 5)) == f"version 5 of {UTILS} does not exist; the latest is 3"


def test_a_pin_too_high_on_a_layer_this_deploy_does_not_build_has_no_note() -> None:
    keep, warnings = Preflight(two_layers(), {UTILS: LOCAL}).filter_consumers(
        [PinUse("data", DATA, 9, "Pulumi.consumer.yaml")])
    assert keep == [] and warnings == [
        f"Pulumi.consumer.yaml pins data v9: version 9 of {DATA} does not exist; the latest is 7; not granted "
        "(fix that stack's pin)"]


# --- versions at or below the latest are asked for exactly -------------------------------------------------

def test_an_existing_older_version_passes_after_asking_for_exactly_it() -> None:
    lookup = two_layers()
    Preflight(lookup, {}).check_own([pin(UTILS, 2)])
    assert lookup.asked == [(UTILS, 2)]


def test_a_deleted_older_version_is_refused() -> None:
    lookup = two_layers()
    lookup.existing.discard((UTILS, 2))
    assert Preflight(lookup, {}).problem(pin(UTILS, 2)) == (
        f"version 2 of {UTILS} does not exist (deleted?); the latest is 3")


def test_the_latest_version_deleted_after_it_was_listed_is_refused() -> None:
    lookup = two_layers()
    lookup.existing.discard((UTILS, 3))  # gone between the listing and the exact question
    assert Preflight(lookup, {}).problem(pin(UTILS, 3)) == (
        f"version 3 of {UTILS} does not exist (deleted?); the latest is 3")
    assert lookup.asked == [(UTILS, 3)]


# --- check_own reports the first bad pin by (function, layer), whatever the input order --------------------

def test_check_own_passes_several_good_pins() -> None:
    Preflight(two_layers(), {}).check_own([pin(DATA, 7, "worker", "data"), pin(UTILS, 3, "api", "utils")])


def test_check_own_names_the_first_bad_pin_by_function_then_layer() -> None:
    bad = [pin(DATA, 9, "worker", "alpha"), pin(UTILS, 9, "api", "zeta")]
    for pins in (bad, bad[::-1]):
        with pytest.raises(ConfigError) as err:
            Preflight(two_layers(), {}).check_own(pins)
        assert err.value.key == "layersmith:pins.api.zeta"
    same_function = [pin(DATA, 9, "api", "zeta"), pin(UTILS, 9, "api", "alpha")]
    with pytest.raises(ConfigError) as err:
        Preflight(two_layers(), {}).check_own(same_function)
    assert err.value.key == "layersmith:pins.api.alpha"


# --- write_atomic --------------------------------------------------------------------------------------------

def test_write_atomic_creates_a_missing_file_with_mode_644(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.new.yaml"
    write_atomic(path, "config: {}\n")
    assert path.read_text(encoding="utf-8") == "config: {}\n"
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["Pulumi.new.yaml"]


def test_write_atomic_writes_through_a_hidden_tmp_file_beside_the_stack_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a killed promote would leave: `.Pulumi.prod.yaml.<random>.tmp`, in the stack's directory."""
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("old\n", encoding="utf-8")
    seen: list[list[str]] = []
    real_fsync = os.fsync

    def fsync_and_look(fd: int) -> None:
        seen.append(sorted(p.name for p in tmp_path.iterdir()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_and_look)
    write_atomic(path, "new\n")
    assert len(seen) == 1 and len(seen[0]) == 2
    tmp_name = next(name for name in seen[0] if name != "Pulumi.prod.yaml")
    assert tmp_name.startswith(".Pulumi.prod.yaml.") and tmp_name.endswith(".tmp")
    assert path.read_text(encoding="utf-8") == "new\n"


def test_write_atomic_into_a_missing_directory_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "gone" / "Pulumi.prod.yaml"
    with pytest.raises(EnvironmentProblem) as err:
        write_atomic(path, "new\n")
    assert err.value.render() == (
        f"{path}: cannot write the stack file here (No such file or directory); make its directory writable "
        "and promote again")
    assert not (tmp_path / "gone").exists()


def test_write_atomic_writes_utf8_whatever_the_locale(tmp_path: Path) -> None:
    """A comment in a stack file may be non-ASCII; an ASCII locale must not refuse or re-encode it."""
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("old\n", encoding="utf-8")
    code = ("import sys; from pathlib import Path; from layersmith.pins.stack_edit import write_atomic; "
            "write_atomic(Path(sys.argv[1]), '# gehalten: Gr\\u00f6\\u00dfe\\nconfig: {}\\n')")  # ASCII source
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    subprocess.run([sys.executable, "-c", code, str(path)], env=env, check=True, capture_output=True,
                   timeout=30)
    assert path.read_bytes() == "# gehalten: Größe\nconfig: {}\n".encode()
