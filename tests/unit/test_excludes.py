"""An `exclude` entry that no line of the layer's lock names excludes nothing: `build` and `check`
warn, naming the entry and the layer.toml (it used to be silently ignored, so a typo shipped the
distribution it meant to drop)."""

from __future__ import annotations

from pathlib import Path

from fakes import FakeInstaller
from helpers import write_layer

from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.model import expand_variants
from layersmith.project.excludes import unmatched_excludes
from layersmith.project.specs import load_layer

TYPO = ("layers/utils/layer.toml: exclude: 'botocroe' matches no distribution in requirements.txt, so it "
        "excludes nothing; did you mean botocore?")


def layer(project: Path, exclude: list[str], *,
          pins: tuple[str, ...] | None = ("botocore==1.0", "six==1.17.0")) -> Path:
    entries = ", ".join(f'"{e}"' for e in exclude)
    return write_layer(project, "utils", pins=pins, source={"u.py": "X = 1\n"}, extra=f"exclude = [{entries}]\n")


def test_an_entry_the_lock_does_not_name_is_a_warning_naming_it(project: Path) -> None:
    assert unmatched_excludes(load_layer(layer(project, ["botocroe", "six"]))) == [TYPO]


def test_entries_that_match_are_silent_whatever_their_spelling(project: Path) -> None:
    assert unmatched_excludes(load_layer(layer(project, ["BotoCore", "six"]))) == []


def test_without_a_lock_every_entry_matches_nothing(project: Path) -> None:
    [warning] = unmatched_excludes(load_layer(layer(project, ["jmespath"], pins=None)))
    assert "'jmespath' matches no distribution in no lock" in warning


def test_the_runtimes_sdk_is_a_standing_guard_that_never_warns(project: Path) -> None:
    """The committed monitoring layer excludes boto3 and s3transfer, which its lock does not pull in
    today: if a future lock does, the runtime's copy stays in charge."""
    assert unmatched_excludes(load_layer(layer(project, ["boto3", "s3transfer", "sixx"]))) == [
        "layers/utils/layer.toml: exclude: 'sixx' matches no distribution in requirements.txt, so it excludes "
        "nothing; did you mean six?"]


def test_build_results_carry_the_warning_built_or_cached(project: Path, tmp_path: Path) -> None:
    spec = load_layer(layer(project, ["botocroe"]))
    builder = Builder(FakeInstaller(), BuildCache(tmp_path / "cache"))
    [variant] = expand_variants(spec)
    built = builder.build(spec, variant)
    cached = builder.build(spec, variant)
    assert not built.cached and cached.cached
    assert TYPO in built.warnings and TYPO in cached.warnings


def test_check_warns_for_the_layers_the_stack_publishes(project: Path) -> None:
    from layersmith.commands.check import stack_findings
    from layersmith.project.checkout import load_project

    layer(project, ["botocroe"])
    (project / "Pulumi.yaml").write_text("name: proj\nruntime: python\n", encoding="utf-8")
    (project / "Pulumi.s.yaml").write_text("config:\n  aws:region: eu-west-1\n  layersmith:deploy: []\n",
                                           encoding="utf-8")
    findings = [(f.level, f.check, f.message) for f in stack_findings(load_project(project), "s")]
    assert findings == [("warning", "exclude", TYPO)]
