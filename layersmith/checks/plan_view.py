"""Render a plan (`run_plan`'s dict) for a person: who gets which layer version, who may read what."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from layersmith.aws.grants import Statement, describe_statements
from layersmith.table import render_table, wrap_text

_LV = "aws:lambda/layerVersion:LayerVersion"
_GRANTS = "pulumi-python:dynamic/layersmith:LayerGrants"
_FN = "aws:lambda/function:Function"
_ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
_INLINE = "aws:iam/rolePolicy:RolePolicy"
_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"


def _of(plan: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == typ]


_SOURCES = {"publish": "this stack", "arn": "by ARN", "stack": "stack reference"}


def _layer_label(att: dict[str, Any]) -> str:
    """`utils v4 (pinned, this stack)`; a latest version resolves to a mocked number, marked *."""
    base, _, version = str(att["arn"]).rpartition(":")
    name = base.rsplit(":", 1)[-1]
    pin = "pinned" if att["pin"] != "latest" else "latest*"
    return f"{name} v{version} ({pin}, {_SOURCES.get(att['source'], att['source'])})"


def _role_policies(plan: dict[str, Any]) -> dict[str, list[str]]:
    """Role name -> its managed policies' names, then its inline policies (`inline:<name>`)."""
    policies: dict[str, list[str]] = defaultdict(list)
    for att in _of(plan, _ATTACH):
        policies[att["inputs"]["role"]].append(att["inputs"]["policyArn"].rsplit("/", 1)[-1])
    for inline in _of(plan, _INLINE):
        policies[inline["inputs"]["role"]].append(f"inline:{inline['inputs'].get('name', inline['name'])}")
    return policies


def _function_rows(plan: dict[str, Any]) -> list[list[str]]:
    policies = _role_policies(plan)
    rows = []
    for fn in _of(plan, _FN):
        inputs = fn["inputs"]
        labels = [_layer_label(a) for a in plan.get("attachments", {}).get(fn["name"], [])] or ["(no layers)"]
        role = ", ".join(policies.get(str(inputs.get("role", "")).rsplit("/", 1)[-1], [])) or "-"
        reserved = inputs.get("reservedConcurrentExecutions")
        head = [fn["name"], inputs.get("runtime", ""), ",".join(inputs.get("architectures", [])),
                "-" if reserved is None else str(reserved), role]
        for i, label in enumerate(labels):
            rows.append([*(head if i == 0 else [""] * len(head)), f"{i + 1}. {label}"])
    return rows


def _mapping_rows(plan: dict[str, Any]) -> list[list[str]]:
    rows = []
    for mapping in _of(plan, _MAPPING):
        inputs = mapping["inputs"]
        rows.append([mapping["name"], str(inputs.get("eventSourceArn")), str(inputs.get("batchSize")),
                     f"{inputs.get('maximumBatchingWindowInSeconds', 0)} s",
                     ", ".join(inputs.get("functionResponseTypes") or []) or "-"])
    return rows


def _grants(plan: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(unversioned layer ARN, version) -> who each `LayerGrants` lets read that version."""
    grants: dict[tuple[str, str], list[str]] = {}
    for resource in _of(plan, _GRANTS):
        inputs = resource["inputs"]
        statements = [Statement.from_props(s) for s in inputs.get("statements") or []]
        key = (inputs["layerArn"], str(inputs["version"]))
        grants[key] = sorted({*grants.get(key, []), *describe_statements(statements)}) or ["not shared"]
    return grants


def _new_label(plan: dict[str, Any], base: str, version: str) -> str:
    """`* (new)` for a mocked version; with --online the number is AWS's: `(new)` or `(unchanged)`."""
    online = {f"arn:aws:lambda:{f['region']}:{plan['mocked']['account']}:layer:{f['layer_name']}": f
              for f in plan.get("online", [])}
    if base not in online:
        return f"v{version}* (new)"
    return f"v{version} ({online[base]['verdict']})"


def _layer_rows(plan: dict[str, Any], published: dict[str, int]) -> list[list[str]]:
    """One row per granted version of each published layer version (the layer's cells on its first row)."""
    grants = _grants(plan)
    rows = []
    for layer in _of(plan, _LV):
        inputs = layer["inputs"]
        region = inputs.get("region") or plan["region"]
        base = _granted_base(plan, grants, region, inputs["layerName"])
        head = _layer_head(plan, inputs, region)
        for i, cell in enumerate(_grant_cells(plan, grants, base, published)):
            rows.append([*(head if i == 0 else [""] * len(head)), cell])
    return rows


def _granted_base(plan: dict[str, Any], grants: dict[tuple[str, str], list[str]], region: str,
                  layer_name: str) -> str | None:
    """The unversioned ARN the grants know this layer by, in its region (None: nothing grants it)."""
    suffix = f":{region}:{plan['mocked']['account']}:layer:{layer_name}"
    return next((k[0] for k in grants if k[0].endswith(suffix)), None)


def _layer_head(plan: dict[str, Any], inputs: dict[str, Any], region: str) -> list[str]:
    """[layer (region when not the stack's), python versions, architectures, what replacing it does]."""
    name = inputs["layerName"] + ("" if region == plan["region"] else f" ({region})")
    runtimes = ",".join(r.removeprefix("python") for r in inputs.get("compatibleRuntimes", []))
    retained = "retained" if inputs.get("skipDestroy") else "DELETED on replace"
    return [name, runtimes, ",".join(inputs.get("compatibleArchitectures", [])), retained]


def _grant_cells(plan: dict[str, Any], grants: dict[tuple[str, str], list[str]], base: str | None,
                 published: dict[str, int]) -> list[str]:
    """`v4 (pinned): <who may read it>` per granted version; the one this stack publishes is labelled new."""
    if not base:
        return ["not shared"]
    versions = sorted({v for (b, v) in grants if b == base}, key=int)
    new = published.get(base)
    return [f"{_new_label(plan, base, v) if new == int(v) else _pinned_label(plan, base, int(v), new)}: "
            f"{', '.join(sorted(grants[(base, v)]))}" for v in versions] or ["not shared"]


def _pinned_label(plan: dict[str, Any], base: str, version: int, new: int | None) -> str:
    """A version some stack pins. One above the version this stack publishes (a consumer's typo,
    `v99`) is not shown as granted: with --online that number is AWS's latest, so the version does
    not exist (pulumi up's preflight drops it with a warning); offline the latest is mocked, so
    whether it exists is unknown."""
    if new is None or version < new:
        return f"v{version} (pinned)"
    online = any(base.endswith(f":layer:{f['layer_name']}") and f":{f['region']}:" in base
                 for f in plan.get("online", []))
    if online:
        return f"v{version} (pinned, NOT granted: no such version, the latest is v{new})"
    return f"v{version}? (pinned, above v{new}*: granted only if it exists, unverified offline)"


def forecast_rows(forecasts: list[dict[str, Any]]) -> list[list[str]]:
    return [[f["layer_name"], f["region"], "-" if f["latest"] is None else f"v{f['latest']}",
             f"unchanged: reuses v{f['version']}" if f["verdict"] == "unchanged" else f"publishes v{f['version']}",
             f["reason"]] for f in forecasts]


def published_versions(plan: dict[str, Any]) -> dict[str, int]:
    out = {}
    for variants in plan["outputs"].get("layers", {}).values():
        for v in variants:
            for here in (v.get("regions") or {"": v}).values():
                out[here["layerArn"]] = int(here["version"])
    return out


def render_plan(plan: dict[str, Any], width: int | None = None) -> str:
    """`width`: fit every line to it (tables wrapped or shortened, prose wrapped); None: unfitted."""
    published = published_versions(plan)
    lines = [wrap_text(f"Plan for stack {plan['stack']} (project {plan['project']}) — run under Pulumi mocks: "
                       f"account {plan['mocked']['account']} and versions marked * are mocked; "
                       f"{plan['mocked'].get('pins', '')}"
                       + (f"; {plan['mocked']['versions']}" if plan["mocked"].get("versions") else ""), width), ""]
    fn_rows = _function_rows(plan)
    lines += [wrap_text("Functions (layers in extraction order: later overwrite earlier)", width),
              render_table(["function", "runtime", "arch", "reserved", "role policies", "layers"], fn_rows,
                           width=width)
              if fn_rows else "  (this stack deploys no functions)", ""]
    mapping_rows = _mapping_rows(plan)
    if mapping_rows:
        lines += [wrap_text("Event source mappings (the role may read and delete only these queues)", width),
                  render_table(["mapping", "source", "batch", "window", "response types"], mapping_rows,
                               width=width, ids={1}), ""]
    layer_rows = _layer_rows(plan, published)
    lines += [wrap_text("Layer versions published by this stack, and who may read them", width),
              render_table(["layer", "python", "arch", "on replace", "grants (lambda:GetLayerVersion)"], layer_rows,
                           width=width)
              if layer_rows else "  (this stack publishes no layers)", ""]
    if "online" in plan:
        lines += [wrap_text("Publishing (--online): the local zip and inputs against the latest version on AWS", width),
                  render_table(["layer", "region", "latest", "pulumi up", "why"], forecast_rows(plan["online"]),
                               width=width)
                  if plan["online"] else "  (this stack publishes no layers)", ""]
    counts: dict[str, int] = defaultdict(int)
    for r in plan["resources"]:
        counts[r["type"].rsplit(":", 1)[-1]] += 1
    lines.append(wrap_text("Resources: " + ", ".join(f"{n} {t}" for t, n in sorted(counts.items())), width,
                           hang="  "))
    return "\n".join(lines)
