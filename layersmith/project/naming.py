"""Physical names of what layersmith publishes: one rule, used by infra, plan, inventory and prune."""

from __future__ import annotations

from layersmith.model import Variant

# Lambda limits: LayerName <= 140 chars, FunctionName <= 64 chars.
MAX_LAYER_NAME = 140
MAX_FUNCTION_NAME = 64


def default_prefix(project: str, stack: str) -> str:
    """`<project>-<stack>`: two stacks of the project in one account never share a name."""
    return f"{project}-{stack}"


def layer_name(prefix: str, layer: str, variant: Variant) -> str:
    """`<prefix>-<layer>` for a portable layer, `<prefix>-<layer>-py312-arm64` for a native variant."""
    if variant.portable:
        return f"{prefix}-{layer}"
    return f"{prefix}-{layer}-{variant.key}"


def function_name(prefix: str, function: str) -> str:
    return f"{prefix}-{function}"


def layer_description(description: str, variant: Variant, zip_sha256: str) -> str:
    """A published version's Description: the spec's, the variant and the zip's hash (so that the
    console tells versions apart). Every LayerVersion input is replace-only: `plan --online`
    compares this too, to say whether `pulumi up` publishes."""
    return f"{description} [{variant.key}, sha256 {zip_sha256[:12]}]"
