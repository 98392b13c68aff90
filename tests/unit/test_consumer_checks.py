"""A publishing stack's `check` and `plan` about the committed stacks that consume it: a stack file
that does not consume it is none of its business (a typo there must not fail this stack); a consumer
in a region it does not publish to is a warning naming the file; a consumer's pin above the version
the plan publishes is not shown as granted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from test_config import proj, write_function  # noqa: F401  (the fixture and its helper)

from layersmith.checks.plan_view import render_plan
from layersmith.commands.check import stack_findings
from layersmith.project.checkout import load_project
from layersmith.project.consumer_pins import consumer_pins

CONSUMER = {"layersmith:publish": [], "layersmith:deploy": ["thumbs"],
            "layersmith:consume": {"stack": "acme/layersmith/prod"}}


def stack(root: Path, name: str, config: dict[str, object]) -> None:
    (root / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": {"aws:region": "eu-west-1", **config}}),
                                              encoding="utf-8")


def findings(root: Path, name: str = "prod") -> list[tuple[str, str, str]]:
    return [(f.level, f.check, f.message) for f in stack_findings(load_project(root), name)]


def test_a_typo_in_a_stack_that_does_not_consume_this_one_is_not_its_error(proj: Path) -> None:  # noqa: F811
    stack(proj, "prod", {"layersmith:publish": ["data", "utils"]})
    stack(proj, "dev", {"layersmith:publish": ["data", "utils"], "layersmith:typo": 1})
    assert findings(proj) == []
    errors: list[str] = []
    project = load_project(proj)
    consumer_pins(project, project.stack_config("prod"), on_error=errors.append)
    assert errors == []


def test_a_typo_in_a_consumer_of_this_stack_is_still_its_error(proj: Path) -> None:  # noqa: F811
    stack(proj, "prod", {"layersmith:publish": ["data", "utils"]})
    stack(proj, "cons", {**CONSUMER, "layersmith:typo": 1})
    [(level, check, message)] = findings(proj)
    assert (level, check) == ("error", "consumers")
    assert re.match(r"ignoring the pins of Pulumi\.cons\.yaml, which consumes stack prod: "
                    r"Pulumi\.cons\.yaml:\d+: layersmith:typo: unknown key", message), message


def test_an_unreadable_stack_file_is_a_warning_not_an_error(proj: Path) -> None:  # noqa: F811
    stack(proj, "prod", {"layersmith:publish": ["data", "utils"]})
    (proj / "Pulumi.other.yaml").write_text("config: [\n", encoding="utf-8")
    [(level, check, message)] = findings(proj)
    assert (level, check) == ("warning", "consumers")
    assert "Pulumi.other.yaml:2:1: invalid YAML" in message and "cannot tell whether it consumes stack prod" in message


def test_a_consumer_in_a_region_this_stack_does_not_publish_to_is_named(proj: Path) -> None:  # noqa: F811
    stack(proj, "prod", {"layersmith:publish": ["data", "utils"]})
    stack(proj, "cons", {**CONSUMER, "aws:region": "us-east-1"})
    assert findings(proj) == [(
        "warning", "consumers", "Pulumi.cons.yaml consumes stack prod in us-east-1, where this stack does not "
        "publish (it publishes in eu-west-1): its functions cannot attach these layers there; add us-east-1 "
        "to layersmith:regions of Pulumi.prod.yaml")]
    stack(proj, "prod", {"layersmith:publish": ["data", "utils"], "layersmith:regions": ["eu-west-1", "us-east-1"]})
    assert findings(proj) == []


BASE = "arn:aws:lambda:eu-west-1:123456789012:layer:layersmith-prod-utils"


def plan_granting(*versions: int, online: bool = False) -> dict[str, Any]:
    """A plan (as run_plan returns it) where prod publishes utils v5 and grants `versions`."""
    layer = {"type": "aws:lambda/layerVersion:LayerVersion", "name": "utils-any",
             "inputs": {"layerName": "layersmith-prod-utils", "compatibleRuntimes": ["python3.12"],
                        "compatibleArchitectures": ["x86_64"], "skipDestroy": True}}
    grants = [{"type": "pulumi-python:dynamic/layersmith:LayerGrants", "name": f"utils-v{v}-grants",
               "inputs": {"layerArn": BASE, "version": v, "statements": []}} for v in versions]
    online_rows = [{"layer_name": "layersmith-prod-utils", "region": "eu-west-1", "verdict": "new",
                    "latest": 4, "version": 5, "reason": "content changed"}] if online else []
    return {"project": "layersmith", "stack": "prod", "region": "eu-west-1",
            "mocked": {"account": "123456789012", "pins": ""}, "attachments": {},
            "resources": [layer, *grants], "outputs": {"layers": {"utils": [{"layerArn": BASE, "version": 5}]}},
            **({"online": online_rows} if online else {})}


def test_a_consumer_pin_above_the_published_version_is_not_shown_as_granted() -> None:
    text = render_plan(plan_granting(3, 5, 99))
    assert "v3 (pinned): not shared" in text and "v5* (new): not shared" in text
    assert "v99 (pinned)" not in text
    assert "v99? (pinned, above v5*: granted only if it exists, unverified offline): not shared" in text
    online = render_plan(plan_granting(3, 5, 99, online=True))
    assert "v99 (pinned, NOT granted: no such version, the latest is v5)" in online
