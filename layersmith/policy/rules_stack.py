"""Rules that need the whole stack: 7 (function/layer compatibility) and 12 (async failure handling)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from layersmith.arns import parse_layer_arn
from layersmith.policy import resource_types
from layersmith.policy.inputs import blank, dig
from layersmith.policy.model import Context, Resource, RuleResult, fail, is_unknown, skip

# Services that invoke Lambda asynchronously (Lambda developer guide, "Invoking functions asynchronously").
ASYNC_SERVICES = ("s3", "sns", "events", "ses", "logs", "iot", "codecommit", "config", "cloudformation")
DEFAULT_ARCHITECTURES = ["x86_64"]  # what Lambda uses when `architectures` is not set


def check_layers_compatible(resources: Sequence[Resource], ctx: Context) -> Iterator[RuleResult]:
    """Rule 7: Lambda does not compare a layer's runtimes/architectures with the function's (DESIGN §4)."""
    layers = {str(r.get("layerName")): r for r in resources
              if r.type == resource_types.LAYER_VERSION and isinstance(r.get("layerName"), str)}
    for function in (r for r in resources if r.type == resource_types.FUNCTION):
        yield from _function_compatible(function, layers)


def _function_compatible(function: Resource, layers: Mapping[str, Resource]) -> Iterator[RuleResult]:
    runtime = function.get("runtime")
    architectures = function.get("architectures") or DEFAULT_ARCHITECTURES
    attached = function.get("layers") or []
    unknown = _first_unknown((("runtime", runtime), ("architectures", architectures), ("layers", attached)))
    if unknown is not None:
        yield skip(f"`{unknown}` is not known until deployment; layer compatibility was not checked", function)
        return
    if blank(runtime):
        return  # an image function carries no runtime and takes no layers
    for layer in _stack_layers(attached, layers):
        yield from _supports(function, layer, str(runtime), [str(a) for a in architectures])


def _first_unknown(inputs: Sequence[tuple[str, object]]) -> str | None:
    """The first input (or an element of a list input) that preview cannot know yet."""
    for key, value in inputs:
        if is_unknown(value) or (isinstance(value, list) and any(is_unknown(v) for v in value)):
            return key
    return None


def _stack_layers(attached: Sequence[object], layers: Mapping[str, Resource]) -> Iterator[Resource]:
    """The attached layers this stack publishes: only those are described in the resources."""
    for arn in attached:
        parsed = parse_layer_arn(str(arn))
        layer = layers.get(parsed.name) if parsed else None
        if layer is not None:
            yield layer


def _supports(function: Resource, layer: Resource, runtime: str, architectures: list[str]) -> Iterator[RuleResult]:
    name = layer.get("layerName")
    for key, wanted in (("compatibleRuntimes", [runtime]), ("compatibleArchitectures", architectures)):
        declared = layer.get(key)
        if is_unknown(declared):
            yield skip(f"layer {name} `{key}` is not known until deployment; not compared", function)
        elif blank(declared):
            yield skip(f"layer {name} declares no {key} (layer-metadata-complete reports it); not compared",
                       function)
        else:
            missing = [w for w in wanted if w not in declared]
            if missing:
                yield fail(f"attaches layer {name}, which does not support {', '.join(missing)} "
                           f"({key}: {list(declared)}): it deploys and then fails at import", function)


def check_async_failure_destination(resources: Sequence[Resource], ctx: Context) -> Iterator[RuleResult]:
    """Rule 12 (async part): an async event that fails its retries is dropped unless it goes somewhere."""
    functions = [r for r in resources if r.type == resource_types.FUNCTION]
    async_refs: dict[str, str] = {}  # function reference -> why we think it is invoked asynchronously
    handled: set[str] = set()
    for resource in resources:
        yield from _collect_async(resource, async_refs, handled)
    for function in functions:
        keys = _function_keys(function)
        reasons = [why for ref, why in async_refs.items() if ref in keys]
        if reasons and not keys & handled:
            yield from _dead_letter(function, reasons[0])


def _dead_letter(function: Resource, reason: str) -> Iterator[RuleResult]:
    target = dig(function.inputs, "deadLetterConfig", "targetArn")
    if is_unknown(target):
        yield skip("`deadLetterConfig` is not known until deployment; failure handling not checked", function)
    elif blank(target):
        yield fail(f"invoked asynchronously ({reason}) with no deadLetterConfig or on-failure "
                   "destination: events that exhaust their retries are lost", function)


def _collect_async(resource: Resource, async_refs: dict[str, str], handled: set[str]) -> Iterator[RuleResult]:
    if resource.type == resource_types.PERMISSION:
        principal, ref = resource.get("principal"), resource.get("function")
        if not isinstance(principal, str) or principal.split(".")[0] not in ASYNC_SERVICES:
            return
        if is_unknown(ref):
            yield skip(f"permission {resource.name} targets a function not known until deployment", resource)
        else:
            async_refs[_ref_key(str(ref))] = f"{principal} via {resource.name}"
    elif resource.type == resource_types.EVENT_INVOKE_CONFIG:
        ref = resource.get("functionName")
        if is_unknown(ref):
            yield skip(f"{resource.name} targets a function not known until deployment", resource)
            return
        async_refs[_ref_key(str(ref))] = f"event invoke config {resource.name}"
        destination = dig(resource.inputs, "destinationConfig", "onFailure", "destination")
        if not blank(destination):  # an unknown destination is still a destination
            handled.add(_ref_key(str(ref)))


def _ref_key(ref: str) -> str:
    """A function name from a name or an ARN (`arn:aws:lambda:r:a:function:<name>[:qualifier]`)."""
    parts = ref.split(":")
    return parts[6] if ref.startswith("arn:") and len(parts) > 6 else ref


def _function_keys(function: Resource) -> set[str]:
    keys = {function.name}
    for key in ("name", "arn"):
        value = function.get(key)
        if isinstance(value, str) and not is_unknown(value):
            keys.add(_ref_key(value))
    return keys
