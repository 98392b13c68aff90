"""The pins that other committed stacks hold on this stack's layers (`layersmith:consume.stack:
<org>/<project>/<this stack>`): what a publishing stack must keep. It reads every committed stack file
of the checkout, so it sits above `Project` (stacks.py, the stack-file parser, does not know it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from layersmith.errors import UserError
from layersmith.model import StackConfig
from layersmith.project.checkout import Project
from layersmith.project.stacks import NAMESPACE, layer_source


@dataclass(frozen=True, order=True)
class ConsumerPin:
    """A version of one of this stack's layers that a committed consuming stack pins."""

    layer: str
    runtime: str
    architecture: str
    version: int
    stack_file: str  # the consumer's, for messages
    region: str  # where the consumer's functions run: the version is that region's


def consumer_pins(project: Project, cfg: StackConfig,
                  on_error: Callable[[str], None] = lambda _m: None) -> tuple[ConsumerPin, ...]:
    """The versions that other committed stacks pin on layers they take from
    `cfg`'s stack (`layersmith:consume.stack: <org>/<project>/<this stack>`). A consuming stack file
    that does not validate is reported through `on_error` (once per project) and skipped: it must
    not block this stack. A stack file that does not consume this stack is none of its business,
    valid or not; one that cannot even be read is skipped (`check` warns about it)."""
    out: set[ConsumerPin] = set()
    for name in project.committed_stacks():
        other = _consumer(project, name, cfg, on_error) if may_consume(project, name, cfg) else None
        if other is not None and _references(other, cfg):
            out.update(_pins_on(project, other))
    return tuple(sorted(out))


def may_consume(project: Project, name: str, cfg: StackConfig) -> bool:
    """Whether committed stack `name` names `cfg`'s stack in `layersmith:consume.stack`, read from
    its raw config (so a stack file with an unrelated typo is not taken for a broken consumer)."""
    if name == cfg.stack:
        return False
    try:
        raw: Any = project.stack_raw(name)
    except UserError:
        raw = _lenient_raw(project, name)
    consume = raw.get(f"{NAMESPACE}:consume") if isinstance(raw, dict) else None
    ref = consume.get("stack") if isinstance(consume, dict) else None
    return isinstance(ref, str) and ref.split("/")[1:] == [cfg.project, cfg.stack]


def _lenient_raw(project: Project, name: str) -> Any:
    """The config map of a stack file the strict reader refused (a secret, a duplicate key): enough
    to see whether it consumes a stack. None when it is not even YAML."""
    try:
        data = yaml.safe_load(project.reader.read_bytes(project.stack_file(name)).decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data.get("config") if isinstance(data, dict) else None


def _consumer(project: Project, name: str, cfg: StackConfig, on_error: Callable[[str], None]) -> StackConfig | None:
    try:
        return project.stack_config(name)
    except UserError as exc:
        project.report_once(f"ignoring the pins of {project.stack_file(name).name}, which consumes stack "
                            f"{cfg.stack}: {exc.render()}", on_error)
        return None


def _references(other: StackConfig, cfg: StackConfig) -> bool:
    ref = (other.consume.stack or "").split("/")
    return len(ref) == 3 and ref[1:] == [cfg.project, cfg.stack]


def _pins_on(project: Project, other: StackConfig) -> list[ConsumerPin]:
    """`other`'s integer pins on this project's layers, taken from the stack it consumes."""
    functions = project.function_specs(list(other.deploy))
    return [ConsumerPin(layer, functions[fn].runtime, functions[fn].architecture, pin, other.path.name,
                        other.region)
            for fn, layer_pins in other.pins for layer, pin in layer_pins
            if isinstance(pin, int) and layer_source(other, layer) == "stack" and layer in project.layers]
