"""The offline engine: every rule over a planned stack, levels and options from a policy config.

`layersmith check` calls `check_plan` with the JSON of `layersmith plan --json` (the real program
run under Pulumi mocks) and the stack's policy config, which has the same format
`pulumi preview --policy-pack-config` reads: `{"<policy>": "<level>"}` or
`{"<policy>": {"enforcementLevel": "<level>", "<option>": …}}`, plus an optional `"all"` level.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from layersmith.errors import ConfigError
from layersmith.policy.model import LEVELS, Context, Level, Resource, Rule, RuleResult, Violation
from layersmith.policy.rules import RULES

CONFIG_DIR = Path("policies") / "config"
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "array": (list,), "integer": (int, float), "boolean": (bool,), "string": (str,),
}


class PolicyConfigError(ConfigError):
    """A policy config file names an unknown policy, level or option, or has a wrong value type."""


def resolve(config: Mapping[str, Any], rules: Sequence[Rule] = RULES,
            source: str | None = None) -> dict[str, tuple[Level, dict[str, Any]]]:
    """Each rule's effective level and options: defaults < `"all"` < the rule's own entry."""
    known = {rule.name: rule for rule in rules}
    for name in config:
        if name != "all" and name not in known:
            raise PolicyConfigError(f"unknown policy {name!r}; known: {', '.join(known)}", path=source)
    default_level = _level(config.get("all"), None, source, "all") if "all" in config else None
    result: dict[str, tuple[Level, dict[str, Any]]] = {}
    for rule in rules:
        entry = config.get(rule.name)
        level = _level(entry, default_level or rule.level, source, rule.name)
        options = rule.defaults()
        if isinstance(entry, Mapping):
            options.update(_options(rule, entry, source))
        result[rule.name] = (level, options)
    return result


def _level(entry: object, fallback: Level | None, source: str | None, key: str) -> Level:
    value = entry.get("enforcementLevel") if isinstance(entry, Mapping) else entry
    if value is None and fallback is not None:
        return fallback
    if value not in LEVELS:
        raise PolicyConfigError(f"enforcement level {value!r} is not one of {', '.join(LEVELS)}",
                                path=source, key=key)
    return cast(Level, value)


def _options(rule: Rule, entry: Mapping[str, Any], source: str | None) -> dict[str, Any]:
    options = {k: v for k, v in entry.items() if k != "enforcementLevel"}
    for key, value in options.items():
        schema = rule.options.get(key)
        where = f"{rule.name}.{key}"
        if schema is None:
            known = ", ".join(rule.options) or "none"
            raise PolicyConfigError(f"unknown option (this policy's options: {known})", path=source, key=where)
        if not isinstance(value, _JSON_TYPES[schema["type"]]):
            raise PolicyConfigError(f"expected {schema['type']}, got {value!r}", path=source, key=where)
        if key.endswith("Patterns"):
            for pattern in cast(list[str], value):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise PolicyConfigError(f"bad regular expression {pattern!r}: {exc}",
                                            path=source, key=where) from None
    return options


def evaluate(resources: Iterable[Mapping[str, Any] | Resource], config: Mapping[str, Any],
             today: dt.date | None = None, *, region: str | None = None,
             rules: Sequence[Rule] = RULES, source: str | None = None) -> list[Violation]:
    """Run every enabled rule; stack rules see all resources. Skips come back as `skipped` notes."""
    when = today or dt.date.today()
    planned = [r if isinstance(r, Resource) else Resource.from_dict(r, region=region) for r in resources]
    settings = resolve(config, rules, source)
    violations: list[Violation] = []
    for rule in rules:
        level, options = settings[rule.name]
        if level != "disabled":
            violations += run_rule(rule, planned, level, Context(options, when))
    return violations


def run_rule(rule: Rule, resources: Sequence[Resource], level: Level, ctx: Context) -> list[Violation]:
    if rule.stack_check is not None:
        return [_stack_violation(rule, level, finding) for finding in rule.stack_check(resources, ctx)]
    assert rule.check is not None
    return [Violation(rule.name, level, resource.type, resource.name, finding.message, finding.skipped, resource.urn)
            for resource in resources if resource.type in rule.types
            for finding in rule.check(resource, ctx)]


def _stack_violation(rule: Rule, level: Level, finding: RuleResult) -> Violation:
    """A stack rule's finding names its resource when it has one, else the stack as a whole."""
    target = finding.resource
    if target is None:
        return Violation(rule.name, level, "", "", finding.message, finding.skipped, None)
    return Violation(rule.name, level, target.type, target.name, finding.message, finding.skipped, target.urn)


def check_plan(plan_json: Mapping[str, Any], config: Mapping[str, Any], today: dt.date | None = None,
               *, source: str | None = None) -> list[Violation]:
    """`evaluate` over `layersmith plan --json` output; a plan-level `region` fills resources' region."""
    region = plan_json.get("region")
    return evaluate(plan_json.get("resources", []), config, today,
                    region=region if isinstance(region, str) else None, source=source)


def blocking(violations: Iterable[Violation]) -> list[Violation]:
    """The violations that fail `layersmith check` (and `pulumi preview`): mandatory, not skipped."""
    return [v for v in violations if v.blocking]


def config_path(project: Path, stack: str) -> Path:
    """`policies/config/<stack>.json`, else the dev config (the least strict one shipped)."""
    own = project / CONFIG_DIR / f"{stack}.json"
    return own if own.is_file() else project / CONFIG_DIR / "dev.json"


def load_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        # config_path fell back to dev.json: neither the stack's own config nor the default exists.
        raise PolicyConfigError(f"policy config not found (check reads {CONFIG_DIR}/<stack>.json, else this "
                                "file); create it: `{}` applies every policy at its default level",
                                path=path) from None
    except ValueError as exc:
        raise PolicyConfigError(f"not valid JSON: {exc}", path=path) from None
    if not isinstance(data, dict):
        raise PolicyConfigError("expected a JSON object of policy name -> level or settings", path=path)
    resolve(data, source=str(path))  # fail early, naming the file, on a typo
    return data


def format_violations(violations: Sequence[Violation]) -> str:
    """Human output: mandatory first, then advisory, then notes; one line each, then a summary."""
    order = {"mandatory": 0, "advisory": 1, "disabled": 2}
    ranked = sorted(violations, key=lambda v: (v.skipped, order[v.level]))
    width = max((len(v.rule) for v in ranked), default=0)
    lines = []
    for v in ranked:
        label = "note" if v.skipped else v.level
        kind = v.resource_type.rsplit(":", 1)[-1] or "stack"
        lines.append(f"{label:<9}  {v.rule:<{width}}  {kind} {v.resource_name}: {v.message}")
    counts = (sum(v.blocking for v in ranked), sum(not v.skipped and not v.blocking for v in ranked),
              sum(v.skipped for v in ranked))
    lines.append(f"policy: {counts[0]} mandatory, {counts[1]} advisory violation(s), "
                 f"{counts[2]} not checked (unknown values)")
    return "\n".join(lines)
