"""Policy rules for layersmith stacks: pure functions over planned resources.

The same rules run in two engines (docs/architecture.md#policy-rules-never-construct-a-policypack:
constructing `pulumi_policy.PolicyPack` starts a
server and blocks, so nothing here may construct it):

- offline, `layersmith check`: `engine.check_plan` over the mocked program run (`layersmith plan --json`);
- online, CrossGuard: `crossguard.build_policies` wraps each rule for `policies/__main__.py`.

A resource is `{"type", "name", "urn"?, "region"?, "inputs"}` with pulumi-aws camelCase input names.
An input the engine cannot know yet (preview) is `UNKNOWN`; a rule that meets one skips with a note.
"""

from __future__ import annotations

from layersmith.policy.model import (
    ADVISORY,
    DISABLED,
    MANDATORY,
    UNKNOWN,
    Resource,
    Rule,
    RuleResult,
    Violation,
    is_unknown,
)

__all__ = [
    "ADVISORY",
    "DISABLED",
    "MANDATORY",
    "UNKNOWN",
    "Resource",
    "Rule",
    "RuleResult",
    "Violation",
    "is_unknown",
]
