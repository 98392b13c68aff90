"""Validators of the `function.toml` keys a stack may also set per function (and of their
neighbours): reserved concurrency, KMS key, code signing, managed policies, inline statements, SQS.

`specs.py` (function.toml) and `overrides.py` (`layersmith:functions` in a stack file) share them,
so a value means the same in both places. Each takes a `fail(key, message)` that builds the error
naming the right file and key; nothing here knows which file it reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from layersmith.errors import UserError
from layersmith.model import SqsSource, Statement

Fail = Callable[[str, str], UserError]

# Lambda's own validation patterns (CreateFunction / CreateEventSourceMapping API reference).
# Patterns as strings, compiled by `re` on first use (and kept in its cache): most runs never need them,
# and compiling them at import was part of every command's start.
KMS_KEY = r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d{12}:key/[A-Za-z0-9-]+$"
CODE_SIGNING = r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):\d{12}:code-signing-config:csc-[a-z0-9]{17}$"
POLICY_ARN = r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/([\w+=,.@-]+/)*[\w+=,.@-]{1,128}$"
SQS_QUEUE = r"^arn:aws[a-z-]*:sqs:(?P<region>[a-z0-9-]+):\d{12}:(?P<name>[A-Za-z0-9_-]{1,80}(\.fifo)?)$"
ACTION = r"^[a-z0-9-]+:[A-Za-z0-9*?]+$"
RESOURCE = r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:\S+$"
# Lambda caps an SQS batch at 10,000 messages (10 for FIFO: see _fifo_batching) and the batching window at 300 s.
SQS_MAX_BATCH, SQS_FIFO_MAX_BATCH, SQS_MAX_WINDOW = 10_000, 10, 300
# Lambda's API sets no fixed maximum: the account's concurrency quota (1,000 by default, raisable)
# bounds it at deploy time, which cannot be known offline. This bound only catches a slipped digit.
MAX_RESERVED = 1_000_000
STATEMENT_KEYS = ("effect", "actions", "resources", "allow_wildcard")
SQS_KEYS = ("queue_arn", "batch_size", "maximum_batching_window", "report_batch_item_failures")
ADMIN_ACTIONS = frozenset({"*", "*:*"})


def _integer(value: Any, key: str, fail: Fail, lower: int, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lower <= value <= upper:
        raise fail(key, f"{value!r} must be an integer from {lower} to {upper}")
    return value


def _bool(value: Any, key: str, fail: Fail) -> bool:
    if not isinstance(value, bool):
        raise fail(key, f"{value!r} must be true or false")
    return value


def reserved_concurrency(value: Any, fail: Fail, key: str = "reserved_concurrency") -> int:
    """0 is valid but throttles every invocation (Lambda's off switch); `check` warns about it."""
    return _integer(value, key, fail, 0, MAX_RESERVED)


def kms_key_arn(value: Any, fail: Fail, key: str = "kms_key_arn") -> str:
    if not isinstance(value, str) or not re.match(KMS_KEY, value):
        raise fail(key, f"{value!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>; "
                        "an alias is not accepted by Lambda's KMSKeyArn)")
    return value


def code_signing_config_arn(value: Any, fail: Fail, key: str = "code_signing_config_arn") -> str:
    if not isinstance(value, str) or not re.match(CODE_SIGNING, value):
        raise fail(key, f"{value!r} is not a code signing config ARN "
                        "(arn:aws:lambda:<region>:<account>:code-signing-config:csc-<17 characters>)")
    return value


def managed_policies(value: Any, fail: Fail, reserved: tuple[str, ...],
                     key: str = "managed_policies") -> tuple[str, ...]:
    """IAM policy ARNs. The ones layersmith attaches itself (`reserved`) are refused: listing them
    would attach them twice. Their last path segment names the attachment, so it must be unique."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(key, "must be a list of IAM policy ARNs (arn:aws:iam::aws:policy/<name> or "
                        "arn:aws:iam::<account>:policy/<name>)")
    seen: set[str] = set()
    for arn in value:
        if not re.match(POLICY_ARN, arn):
            raise fail(key, f"{arn!r} is not an IAM policy ARN (arn:aws:iam::aws:policy/<name> or "
                            "arn:aws:iam::<account>:policy/<name>)")
        if arn in reserved:
            raise fail(key, f"{arn.rsplit('/', 1)[-1]} is attached by layersmith already; drop it")
        name = arn.rsplit("/", 1)[-1]
        if name in seen:
            raise fail(key, f"two policies named {name!r}; attach one of them")
        seen.add(name)
    return tuple(value)


def _strings(value: Any, key: str, fail: Fail, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise fail(key, f"must be a non-empty list of {what}")
    return tuple(value)


def _statement(raw: Any, key: str, fail: Fail) -> Statement:
    if not isinstance(raw, Mapping):
        raise fail(key, "must be a table with effect, actions and resources ([[statements]])")
    unknown = sorted(set(raw) - set(STATEMENT_KEYS))
    if unknown:
        raise fail(f"{key}.{unknown[0]}", f"unknown key; a statement has {', '.join(STATEMENT_KEYS)}")
    effect = raw.get("effect", "Allow")
    if effect not in ("Allow", "Deny"):
        raise fail(f"{key}.effect", f"{effect!r} must be \"Allow\" or \"Deny\"")
    actions = _actions(raw.get("actions"), f"{key}.actions", fail)
    resources = _strings(raw.get("resources"), f"{key}.resources", fail, "resource ARNs")
    allow_wildcard = _bool(raw.get("allow_wildcard", False), f"{key}.allow_wildcard", fail)
    _check_resources(resources, allow_wildcard, f"{key}.resources", fail)
    return Statement(effect, actions, resources, allow_wildcard)


def _actions(value: Any, key: str, fail: Fail) -> tuple[str, ...]:
    """A statement's IAM actions: each `service:Action`, and never an admin wildcard."""
    actions = _strings(value, key, fail, "IAM actions (\"sqs:SendMessage\")")
    for action in actions:
        if action in ADMIN_ACTIONS:
            raise fail(key, f"{action!r} allows every action of every service; list the actions "
                            "the function calls")
        if not re.match(ACTION, action):
            raise fail(key, f"{action!r} is not an IAM action (service:Action, e.g. dynamodb:GetItem)")
    return actions


def _check_resources(resources: tuple[str, ...], allow_wildcard: bool, key: str, fail: Fail) -> None:
    """Each resource is an ARN, or `"*"` where the statement says its actions need it."""
    for resource in resources:
        if resource == "*" and not allow_wildcard:
            raise fail(key, "\"*\" grants the actions on every resource of the account; name the "
                            "resources, or set allow_wildcard = true on this statement if the "
                            "actions support no resource-level permissions")
        if resource != "*" and not re.match(RESOURCE, resource):
            raise fail(key, f"{resource!r} is not a resource ARN (arn:aws:<service>:<region>:"
                            "<account>:<resource>) or \"*\"")


def statements(value: Any, fail: Fail, key: str = "statements") -> tuple[Statement, ...]:
    if not isinstance(value, list) or not value:
        raise fail(key, "must be an array of tables: [[statements]] with effect, actions and resources")
    return tuple(_statement(raw, f"{key}[{index}]", fail) for index, raw in enumerate(value))


def sqs_source(value: Any, fail: Fail, base: SqsSource | None = None, key: str = "sqs") -> SqsSource:
    """`[sqs]`, over `base` (function.toml's table when a stack overrides some of its keys)."""
    if not isinstance(value, Mapping):
        raise fail(key, f"must be a table with {', '.join(SQS_KEYS)}")
    unknown = sorted(set(value) - set(SQS_KEYS))
    if unknown:
        raise fail(f"{key}.{unknown[0]}", f"unknown key; [sqs] has {', '.join(SQS_KEYS)}")
    old = base or SqsSource()
    queue = _queue_arn(value.get("queue_arn", old.queue_arn), f"{key}.queue_arn", fail)
    batch, window = _batching(value, old, queue is not None and queue.endswith(".fifo"), key, fail)
    report = _bool(value.get("report_batch_item_failures", old.report_batch_item_failures),
                   f"{key}.report_batch_item_failures", fail)
    return SqsSource(queue, batch, window, report)


def _queue_arn(queue: Any, key: str, fail: Fail) -> str | None:
    if queue is not None and (not isinstance(queue, str) or not re.match(SQS_QUEUE, queue)):
        raise fail(key, f"{queue!r} is not an SQS queue ARN (arn:aws:sqs:<region>:<account>:<queue>)")
    return queue


def _batching(value: Mapping[str, Any], old: SqsSource, fifo: bool, key: str, fail: Fail) -> tuple[int, int]:
    """(batch_size, maximum_batching_window) within Lambda's limits, which are tighter for a FIFO queue."""
    batch = _integer(value.get("batch_size", old.batch_size), f"{key}.batch_size", fail, 1, SQS_MAX_BATCH)
    window = _integer(value.get("maximum_batching_window", old.maximum_batching_window),
                      f"{key}.maximum_batching_window", fail, 0, SQS_MAX_WINDOW)
    if fifo:
        _fifo_batching(batch, window, key, fail)
    if batch > SQS_FIFO_MAX_BATCH and window < 1:
        # CreateEventSourceMapping refuses it: more than 10 messages need a batching window.
        raise fail(f"{key}.maximum_batching_window", f"batch_size {batch} is over 10, so Lambda needs a "
                                                     "batching window of at least 1 second; set it")
    return batch, window


def _fifo_batching(batch: int, window: int, key: str, fail: Fail) -> None:
    """A FIFO queue's own limits, named as such: the user set a number that is fine for a standard
    queue, so "from 1 to 10" alone reads like a typo in layersmith. The AWS Lambda Developer Guide,
    "Lambda parameters for Amazon SQS event source mappings" (services-sqs-parameters.html): BatchSize
    "For standard queues, the maximum is 10,000. For FIFO queues, the maximum is 10";
    MaximumBatchingWindowInSeconds "Batching window is not supported for FIFO queues"."""
    if batch > SQS_FIFO_MAX_BATCH:
        raise fail(f"{key}.batch_size", f"{batch} is over {SQS_FIFO_MAX_BATCH}, the most Lambda takes at once from "
                                        "a FIFO queue (queue_arn ends in .fifo; a standard queue allows up to "
                                        f"{SQS_MAX_BATCH:,}); set batch_size to {SQS_FIFO_MAX_BATCH} or less")
    if window:
        raise fail(f"{key}.maximum_batching_window", "Lambda has no batching window for a FIFO queue (queue_arn "
                                                     "ends in .fifo); set it to 0 or remove it")


def arn_region(arn: str) -> str:
    """The region field of an ARN (`arn:partition:service:region:…`)."""
    return arn.split(":")[3]
