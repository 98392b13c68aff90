"""`layersmith.project.checkout`: the project loaded once; stacks judged on the specs they use.

Reads are counted through the `Reader` seam, with a fake that also serves changed bytes (no
monkeypatching, no disk edits between reads)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from fakes import CountingReader
from test_config import proj, write_function  # noqa: F401  (the fixture and its helper)

import layersmith
from layersmith.errors import ConfigError, SpecError
from layersmith.project.checkout import Project, load_project, load_stack_config
from layersmith.project.consumer_pins import consumer_pins


def stack(root: Path, name: str, config: dict[str, object]) -> None:
    (root / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": {"aws:region": "eu-west-1", **config}}),
                                              encoding="utf-8")


def test_every_file_is_read_once_however_often_it_is_asked_for(proj: Path) -> None:  # noqa: F811
    stack(proj, "prod", {"layersmith:publish": ["data", "utils"]})
    stack(proj, "consumer", {"layersmith:publish": [], "layersmith:deploy": ["thumbs"],
                             "layersmith:consume": {"stack": "acme/layersmith/prod"}})
    reader = CountingReader(proj.resolve())
    project = load_project(proj, reader)
    prod = load_stack_config(project, "prod")
    for _ in range(3):
        assert load_stack_config(project, "prod") is prod
        consumer_pins(project, prod)
        project.stack_raw("consumer")
    print("reads:", dict(sorted(reader.reads.items())))
    assert reader.reads == Counter({
        "Pulumi.yaml": 1, "Pulumi.prod.yaml": 1, "Pulumi.consumer.yaml": 1, "layers/data/layer.toml": 1,
        "layers/utils/layer.toml": 1, "layers/legacy/layer.toml": 1, "functions/report/function.toml": 1,
        "functions/thumbs/function.toml": 1})


def test_a_broken_function_a_stack_does_not_deploy_is_a_warning(proj: Path) -> None:  # noqa: F811
    (proj / "functions" / "report" / "function.toml").write_text("memory = = 3\n", encoding="utf-8")
    stack(proj, "thumbs", {"layersmith:deploy": ["thumbs"]})
    project = load_project(proj)
    assert load_stack_config(project, "thumbs").deploy == ("thumbs",)
    [warning] = project.unused_warnings("thumbs")
    assert "functions/report/function.toml:1:10: malformed TOML: Invalid value" in warning
    assert warning.endswith("(ignored: stack thumbs does not use it)")


def test_a_broken_spec_a_stack_uses_is_its_error(proj: Path) -> None:  # noqa: F811
    (proj / "functions" / "report" / "function.toml").write_text("memory = = 3\n", encoding="utf-8")
    (proj / "layers" / "legacy" / "layer.toml").write_text("runtimes = 3\n", encoding="utf-8")
    stack(proj, "all", {})  # deploys every function (the default)
    stack(proj, "legacy", {"layersmith:deploy": ["thumbs"], "layersmith:publish": ["legacy", "utils"]})
    project = load_project(proj)
    with pytest.raises(SpecError, match=r"functions/report/function.toml:1:10: malformed TOML"):
        load_stack_config(project, "all")
    with pytest.raises(SpecError, match=r"layers/legacy/layer.toml:1: runtimes: must be a list"):
        load_stack_config(project, "legacy")


def test_a_layer_is_used_when_a_deployed_function_attaches_it(proj: Path) -> None:  # noqa: F811
    (proj / "layers" / "data" / "layer.toml").write_text("runtimes = 3\n", encoding="utf-8")
    stack(proj, "report", {"layersmith:deploy": ["report"], "layersmith:publish": ["utils"]})
    with pytest.raises(SpecError, match=r"layers/data/layer.toml"):
        load_stack_config(load_project(proj), "report")


def test_a_bad_stack_file_is_read_and_reported_once(proj: Path) -> None:  # noqa: F811
    stack(proj, "prod", {"layersmith:publish": ["data", "utils"]})
    stack(proj, "bad", {"layersmith:consume": {"stack": "acme/layersmith/prod"}, "layersmith:typo": 1})
    reader = CountingReader(proj.resolve())
    project = load_project(proj, reader)
    prod = load_stack_config(project, "prod")
    errors: list[str] = []
    consumer_pins(project, prod, on_error=errors.append)
    consumer_pins(project, prod, on_error=errors.append)  # the program, after the CLI: not again
    assert len(errors) == 1 and re.search(r"Pulumi\.bad\.yaml:\d+: layersmith:typo: unknown key", errors[0])
    with pytest.raises(ConfigError):
        load_stack_config(project, "bad")
    assert reader.reads["Pulumi.bad.yaml"] == 1


def test_load_project_and_project_are_public() -> None:
    assert {"load_project", "Project"} <= set(layersmith.__all__)
    assert layersmith.load_project is load_project and layersmith.Project is Project
