"""The rule table: every policy of the pack, its default level, options and check, in one place.

Both engines read this table: `engine.evaluate` offline and `crossguard.build_policies` for
`pulumi preview --policy-pack policies`. A policy config (policies/config/<env>.json) raises or
lowers a level and sets options; `Rule.options` is the JSON schema CrossGuard validates it with.
Issue rules 5, 10 and 11 mix a mandatory and an advisory part; CrossGuard has one level per
policy, so each is two policies here.
"""

from __future__ import annotations

from typing import Any

from layersmith.policy import resource_types
from layersmith.policy import rules_access as access
from layersmith.policy import rules_functions as functions
from layersmith.policy import rules_layers as layers
from layersmith.policy import rules_stack as stack
from layersmith.policy.model import ADVISORY, MANDATORY, Rule

_ACCOUNTS: dict[str, Any] = {
    "type": "array", "items": {"type": "string", "pattern": r"^\d{12}$"}, "default": [],
    "description": "AWS account ids that may be granted / may own attached layers",
}
_ORGANIZATIONS: dict[str, Any] = {
    "type": "array", "items": {"type": "string", "pattern": r"^o-[a-z0-9]{10,32}$"}, "default": [],
    "description": "AWS Organization ids a `*` grant may be scoped to",
}
_PATTERNS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_ROLE_TYPES = (resource_types.ROLE, resource_types.ROLE_POLICY, resource_types.ROLE_POLICY_ATTACHMENT)
_GRANT_TYPES = (resource_types.LAYER_GRANTS, resource_types.LAYER_PERMISSION)

RULES: tuple[Rule, ...] = (
    Rule("layer-not-public", 1, "A layer permission with principal `*` must carry an organizationId.",
         "publishing the team's code (and whatever it embeds) to every AWS account in the world",
         MANDATORY, _GRANT_TYPES, layers.per_statement(layers.check_not_public)),
    Rule("layer-grants-scoped", 2,
         "Layer grants: action lambda:GetLayerVersion only, allow-listed principals, valid statement ids.",
         "a grant that lets another account do more than read the layer, reaches an account nobody "
         "approved, or collides with another grant's statement id",
         MANDATORY, _GRANT_TYPES, layers.per_statement(layers.check_grants_scoped),
         options={"allowedAccounts": _ACCOUNTS, "allowedOrganizations": _ORGANIZATIONS}),
    Rule("layer-versions-retained", 3, "Layer versions and their grants set skipDestroy.",
         "a replacement (any input change) deleting the old version or grant and breaking every "
         "function still pinned to it",
         MANDATORY, (resource_types.LAYER_VERSION, *_GRANT_TYPES), layers.check_retained),
    Rule("layer-metadata-complete", 4,
         "Layer versions declare supported runtimes and architectures, a license and a description.",
         "layers nobody can tell apart, license questions, and functions attaching a layer built for "
         "another runtime or CPU",
         MANDATORY, (resource_types.LAYER_VERSION,), layers.check_metadata),
    Rule("function-runtime-not-deprecated", 5, "Functions do not use a deprecated runtime.",
         "running on a runtime Lambda no longer patches and will soon refuse to update",
         MANDATORY, (resource_types.FUNCTION,), functions.check_runtime_not_deprecated),
    Rule("function-runtime-deprecation-warning", 5,
         "Functions whose runtime is deprecated within deprecationWarningDays.",
         "discovering a runtime deprecation the week it blocks deployments",
         ADVISORY, (resource_types.FUNCTION,), functions.check_runtime_deprecation_soon,
         options={"deprecationWarningDays": {"type": "integer", "minimum": 0, "default": 180}}),
    Rule("function-layers-valid", 6,
         "Function layers are versioned ARNs, at most 5, in the function's region, from allowed accounts.",
         "deploy-time rejections (unversioned ARN, other region, a sixth layer) and code injected "
         "from a layer owned by an account nobody approved",
         MANDATORY, (resource_types.FUNCTION,), functions.check_layers_valid,
         options={"allowedAccounts": _ACCOUNTS}),
    Rule("function-layers-compatible", 7,
         "Every function's runtime and architecture are supported by each layer of this stack it attaches.",
         "Lambda accepting an x86_64 or python3.12 layer on an arm64 or python3.11 function, which then "
         "fails at import",
         MANDATORY, stack_check=stack.check_layers_compatible),
    Rule("function-code-signing", 8, "Functions have a code signing configuration.",
         "running code that did not come out of the team's signed build",
         ADVISORY, (resource_types.FUNCTION,), functions.check_code_signing),
    Rule("invoke-permissions-scoped", 9,
         "Invoke permissions: no `*` principal, service principals carry sourceArn, no URL without auth.",
         "anyone (or any other account's bucket/topic — the confused deputy) invoking the function",
         MANDATORY, (resource_types.PERMISSION, resource_types.FUNCTION_URL), access.check_invoke_scoped),
    Rule("execution-role-least-privilege", 10,
         "Execution roles trust only lambda.amazonaws.com and carry no admin or `*`/`*:*` permissions.",
         "a compromised dependency in a layer taking over the account",
         MANDATORY, _ROLE_TYPES, access.check_least_privilege),
    Rule("execution-role-no-wildcards", 10, "Execution role policies avoid wildcard actions and resources.",
         "a function able to touch far more than it needs",
         ADVISORY, _ROLE_TYPES, access.check_no_wildcards),
    Rule("function-env-no-secrets", 11, "Environment variables hold no secrets.",
         "credentials readable in plain text by anyone with lambda:GetFunctionConfiguration, and in state",
         MANDATORY, (resource_types.FUNCTION,), functions.check_no_secrets,
         options={"secretPatterns": {**_PATTERNS, "default": list(functions.SECRET_VALUE_PATTERNS)},
                  "secretNamePatterns": {**_PATTERNS, "default": list(functions.SECRET_NAME_PATTERNS)}}),
    Rule("function-env-encrypted", 11, "Functions with environment variables set a KMS key.",
         "configuration readable with only the AWS-managed key's implicit access",
         ADVISORY, (resource_types.FUNCTION,), functions.check_environment_encrypted),
    Rule("function-observability", 12, "Functions enable active tracing and reserve concurrency.",
         "invisible failures and one function starving the others of concurrency",
         ADVISORY, (resource_types.FUNCTION,), functions.check_observability),
    Rule("function-async-failure-destination", 12,
         "Asynchronously invoked functions have a dead-letter queue or an on-failure destination.",
         "events silently dropped after Lambda's retries",
         ADVISORY, stack_check=stack.check_async_failure_destination),
)

RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
