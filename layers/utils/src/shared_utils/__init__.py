"""The team's shared Lambda code: event parsing, API responses, settings, retries.

Standard library only, so this layer is portable (one zip for every runtime and architecture).
"""

from shared_utils.events import (
    EventBridgeEvent,
    EventError,
    EventKind,
    HttpRequest,
    S3Object,
    SqsMessage,
    event_kind,
    parse_eventbridge_event,
    parse_http_event,
    parse_s3_event,
    parse_sqs_event,
)
from shared_utils.responses import (
    JSON_CONTENT_TYPE,
    batch_item_failures,
    dumps,
    error_response,
    json_default,
    json_response,
)
from shared_utils.retry import RetryPolicy, call_with_retry, retry
from shared_utils.settings import (
    InvalidSetting,
    MissingSetting,
    SettingError,
    get_bool,
    get_int,
    get_str,
)

__version__ = "0.2.0"

__all__ = [
    "JSON_CONTENT_TYPE",
    "EventBridgeEvent",
    "EventError",
    "EventKind",
    "HttpRequest",
    "InvalidSetting",
    "MissingSetting",
    "RetryPolicy",
    "S3Object",
    "SettingError",
    "SqsMessage",
    "__version__",
    "batch_item_failures",
    "call_with_retry",
    "dumps",
    "error_response",
    "event_kind",
    "get_bool",
    "get_int",
    "get_str",
    "json_default",
    "json_response",
    "parse_eventbridge_event",
    "parse_http_event",
    "parse_s3_event",
    "parse_sqs_event",
    "retry",
]
