"""The inert data the policy rules and engines share: resources, findings, rules, violations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["mandatory", "advisory", "disabled"]
MANDATORY: Level = "mandatory"
ADVISORY: Level = "advisory"
DISABLED: Level = "disabled"
LEVELS: tuple[Level, ...] = (MANDATORY, ADVISORY, DISABLED)

# How `layersmith plan --json` writes a value Pulumi cannot know yet (an output during preview).
UNKNOWN = "<unknown>"


def is_unknown(value: object) -> bool:
    """`UNKNOWN`, or the `{"unknown": true}` marker some plan writers emit."""
    if isinstance(value, str):
        return value == UNKNOWN
    return isinstance(value, Mapping) and len(value) == 1 and value.get("unknown") is True


@dataclass(frozen=True)
class Resource:
    """One planned resource: its Pulumi type token, logical name and camelCase inputs."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    urn: str | None = None
    region: str | None = None  # from the provider (CrossGuard) or the plan; `inputs.region` wins

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, region: str | None = None) -> Resource:
        inputs = data.get("inputs")
        if inputs is None:
            inputs = data.get("props", {})  # CrossGuard calls them props; accept both spellings
        return cls(
            type=str(data["type"]),
            name=str(data.get("name", "")),
            inputs=inputs if isinstance(inputs, Mapping) else {},
            urn=data.get("urn"),
            region=data.get("region") or region,
        )

    def get(self, key: str, default: Any = None) -> Any:
        return self.inputs.get(key, default)

    @property
    def effective_region(self) -> str | None:
        value = self.inputs.get("region")
        if isinstance(value, str) and value and not is_unknown(value):
            return value
        return self.region


@dataclass(frozen=True)
class RuleResult:
    """What a check found. `skipped`: the check could not decide (an unknown value) — a note."""

    message: str
    skipped: bool = False
    resource: Resource | None = None  # set by stack checks; resource checks leave it to the engine


def fail(message: str, resource: Resource | None = None) -> RuleResult:
    return RuleResult(message, resource=resource)


def skip(message: str, resource: Resource | None = None) -> RuleResult:
    return RuleResult(message, skipped=True, resource=resource)


@dataclass(frozen=True)
class Context:
    """A check's inputs besides the resource: its options (defaults applied) and the date."""

    options: Mapping[str, Any]
    today: dt.date

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.options.get(name) or ()
        return tuple(str(v) for v in value)

    def integer(self, name: str) -> int:
        return int(self.options[name])  # policy config numbers arrive as floats from protobuf

    def flag(self, name: str) -> bool:
        return bool(self.options.get(name))


ResourceCheck = Callable[[Resource, Context], Iterable[RuleResult]]
StackCheck = Callable[[Sequence[Resource], Context], Iterable[RuleResult]]


@dataclass(frozen=True)
class Rule:
    """One policy: a resource check over `types`, or a stack check over every resource."""

    name: str  # CrossGuard policy name, the key in policies/config/*.json
    issue: int  # the rule's number in the policy list (docs/policies.md)
    description: str  # one line; CrossGuard prints it above each violation
    protects: str  # what goes wrong without it (docs)
    level: Level  # default enforcement level; a policy config raises or lowers it
    types: tuple[str, ...] = ()
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # JSON schema, with defaults

    @property
    def is_stack(self) -> bool:
        return self.stack_check is not None

    def defaults(self) -> dict[str, Any]:
        return {key: schema["default"] for key, schema in self.options.items() if "default" in schema}


@dataclass(frozen=True)
class Violation:
    rule: str
    level: Level
    resource_type: str
    resource_name: str
    message: str
    skipped: bool = False  # a note: the rule could not decide (unknown value), never a pass
    urn: str | None = None

    @property
    def blocking(self) -> bool:
        return self.level == MANDATORY and not self.skipped
