"""`layersmith:functions` in `Pulumi.<stack>.yaml`: per-function values that differ between
environments (the queue, the concurrency, the key), validated like function.toml's own keys.

```yaml
layersmith:functions:
  ingest-orders:
    reserved_concurrency: 20
    sqs:
      queue_arn: arn:aws:sqs:eu-west-1:123456789012:orders-prod
```

A stack's value replaces function.toml's; `sqs` is merged key by key over function.toml's `[sqs]`.
ARNs must be in the stack's region: Lambda uses a KMS key, a code signing config and an SQS
queue only from the function's own region.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from layersmith.errors import ConfigError, SpecError, UserError
from layersmith.model import FunctionSpec
from layersmith.project import function_keys as keys

KEY = "functions"
OVERRIDABLE = ("reserved_concurrency", "kms_key_arn", "code_signing_config_arn", "sqs")


def parse_overrides(raw: Any, *, path: Path, namespace: str, region: str, deploy: tuple[str, ...],
                    functions: Mapping[str, FunctionSpec]) -> tuple[tuple[str, FunctionSpec], ...]:
    """Every deployed function's spec as this stack deploys it (overrides applied, regions checked)."""
    def fail_at(where: str) -> Callable[[str, str], UserError]:
        return lambda key, message: ConfigError(message, path=path.name, key=f"{namespace}:{where}.{key}")

    if raw is not None and not isinstance(raw, Mapping):
        raise ConfigError("must map function names to {key: value}", path=path.name, key=f"{namespace}:{KEY}")
    raw = raw or {}
    for name in raw:
        if name not in functions:
            raise ConfigError(f"unknown function; the project has {', '.join(functions)}", path=path.name,
                              key=f"{namespace}:{KEY}.{name}")
        if name not in deploy:
            raise ConfigError(f"this stack does not deploy that function ({namespace}:deploy)", path=path.name,
                              key=f"{namespace}:{KEY}.{name}")
    out = []
    for name in deploy:
        fail = fail_at(f"{KEY}.{name}")
        spec = _apply(functions[name], raw.get(name), fail)
        _check_regions(spec, raw.get(name) or {}, region, fail)
        out.append((name, spec))
    return tuple(out)


def _apply(spec: FunctionSpec, raw: Any, fail: keys.Fail) -> FunctionSpec:
    if raw is None:
        return spec
    if not isinstance(raw, Mapping):
        raise fail("", f"must be a map of {', '.join(OVERRIDABLE)}")
    unknown = sorted(set(raw) - set(OVERRIDABLE))
    if unknown:
        raise fail(unknown[0], f"unknown key; a stack may set {', '.join(OVERRIDABLE)} per function (the "
                               "rest lives in function.toml)")
    changes: dict[str, Any] = {}
    if "reserved_concurrency" in raw:
        changes["reserved_concurrency"] = keys.reserved_concurrency(raw["reserved_concurrency"], fail)
    if "kms_key_arn" in raw:
        changes["kms_key_arn"] = keys.kms_key_arn(raw["kms_key_arn"], fail)
    if "code_signing_config_arn" in raw:
        changes["code_signing_config_arn"] = keys.code_signing_config_arn(raw["code_signing_config_arn"], fail)
    if "sqs" in raw:
        changes["sqs"] = keys.sqs_source(raw["sqs"], fail, spec.sqs)
    return replace(spec, **changes)


def _check_regions(spec: FunctionSpec, raw: Mapping[str, Any], region: str, fail: keys.Fail) -> None:
    """A value from the stack fails naming the stack key; one from function.toml names that file."""
    values = [("kms_key_arn", spec.kms_key_arn), ("code_signing_config_arn", spec.code_signing_config_arn),
              ("sqs.queue_arn", spec.sqs.queue_arn if spec.sqs else None)]
    for key, arn in values:
        if arn is None or keys.arn_region(arn) == region:
            continue
        message = (f"is in {keys.arn_region(arn)} but this stack deploys to {region}; Lambda uses it only from "
                   "the function's own region")
        top, _, sub = key.partition(".")
        from_stack = top in raw and (not sub or sub in (raw.get(top) or {}))
        if from_stack:
            raise fail(key, message)
        raise SpecError(f"{message} (or set it per stack in layersmith:functions.{spec.name}.{key})",
                        path=spec.spec_path, key=key)
