"""The example functions that need only the utils and monitoring layers, run in-process on the
layers' *source* (what lands under /opt/python) with the environment from their function.toml.

thumbnail-index targets python3.13/arm64; its code is pure Python and is exercised here on the
host's 3.11/x86_64 — that shows the logic; that it imports and runs on its real runtime is shown
by `layersmith invoke` on an arm64 CPython 3.13 (tests/functional/test_variants_execute.py).
sales-report needs pandas, which is deliberately not in this venv: only its request parsing
(pandas-free by design) is tested here; the handler runs for real on the built data-science layer
in `layersmith invoke`'s tests.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from layersmith.project.specs import load_function

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
for src in (ROOT / "layers" / "utils" / "src", ROOT / "layers" / "monitoring" / "src"):
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))

from shared_utils import EventError, InvalidSetting  # noqa: E402

_POWERTOOLS_ENV = ["LAMBDA_TASK_ROOT", "AWS_XRAY_DAEMON_ADDRESS", "_X_AMZN_TRACE_ID", "POWERTOOLS_DEV",
                   "POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE",
                   "AWS_LAMBDA_INITIALIZATION_TYPE", "POWERTOOLS_LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _POWERTOOLS_ENV:
        monkeypatch.delenv(name, raising=False)


def load_module(function: str, module: str, monkeypatch: pytest.MonkeyPatch,
                **overrides: str) -> ModuleType:
    """Import `functions/<function>/<module>.py` afresh, with function.toml's environment set first
    (module-level settings are read at import, as on Lambda's init phase)."""
    for key, value in load_function(FUNCTIONS / function).environment:
        monkeypatch.setenv(key, value)
    for key, value in overrides.items():
        monkeypatch.setenv(key, value)
    name = f"fn_{function.replace('-', '_')}_{module}"
    spec = importlib.util.spec_from_file_location(name, FUNCTIONS / function / f"{module}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    # Registered before executing, as a normal import would (dataclasses look their module up).
    monkeypatch.setitem(sys.modules, name, mod)
    spec.loader.exec_module(mod)
    return mod


def sample_event(function: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((FUNCTIONS / function / "event.json").read_text())
    return event


def output(capsys: pytest.CaptureFixture[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(log lines, the single EMF blob) printed by one invocation."""
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    blobs = [r for r in records if "_aws" in r]
    assert len(blobs) == 1, records
    return [r for r in records if "_aws" not in r], blobs[0]


# --- the function.toml contract ---------------------------------------------------------------------

@pytest.mark.parametrize(("name", "runtime", "arch", "layers"), [
    ("sales-report", "python3.11", "x86_64", ("data-science", "utils", "monitoring")),
    ("ingest-orders", "python3.11", "x86_64", ("utils", "monitoring")),
    ("thumbnail-index", "python3.13", "arm64", ("utils", "monitoring")),
])
def test_function_specs(name: str, runtime: str, arch: str, layers: tuple[str, ...]) -> None:
    spec = load_function(FUNCTIONS / name)
    assert (spec.handler, spec.runtime, spec.architecture, spec.layers) == ("handler.handler", runtime, arch,
                                                                           layers)
    assert (spec.directory / "handler.py").is_file()
    assert dict(spec.environment)["POWERTOOLS_METRICS_NAMESPACE"] == "Layersmith"


# --- ingest-orders ------------------------------------------------------------------------------------

def test_ingest_orders_sample_event(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    mod = load_module("ingest-orders", "handler", monkeypatch)
    result = mod.handler(sample_event("ingest-orders"), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]}
    logs, blob = output(capsys)
    accepted = [line for line in logs if line["message"] == "Accepted order"]
    assert [(a["order_id"], a["lines"], a["total"]) for a in accepted] == [("o-1001", 2, "34.90"),
                                                                         ("o-1003", 1, "8")]
    (rejected,) = [line for line in logs if line["message"] == "Rejected order message"]
    assert rejected["level"] == "WARNING"
    assert rejected["message_id"] == "2e1424d4-f796-459a-8184-9c92662be6da"
    assert rejected["reason"] == "'items' must be a non-empty list"
    assert rejected["receive_count"] == "3"
    assert {line["service"] for line in logs} == {"orders"}
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Layersmith"
    assert (blob["OrdersAccepted"], blob["OrdersRejected"], blob["Invocations"], blob["Errors"]) == (
        [2.0], [1.0], [1.0], [0.0])


def _sqs(*bodies: str, arn: str = "arn:aws:sqs:eu-west-1:123456789012:orders") -> dict[str, Any]:
    return {"Records": [{"messageId": f"m-{i}", "receiptHandle": f"rh-{i}", "body": body, "attributes": {},
                         "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": arn}
                        for i, body in enumerate(bodies, start=1)]}


GOOD = json.dumps({"order_id": "o-1", "customer_id": "c-1",
                   "items": [{"sku": "A", "quantity": 1, "unit_price": "1.10"},
                             {"sku": "B", "quantity": 3, "unit_price": 0.1}]})


@pytest.mark.parametrize(("body", "reason"), [
    ("{not json", "SQS event: message m-2 body is not valid JSON"),
    ("[1, 2]", "the body must be a JSON object"),
    (json.dumps({"order_id": "o-2", "items": [{"sku": "A", "quantity": 1, "unit_price": 1}]}),
     "'customer_id' must be a non-empty string"),
    (json.dumps({"order_id": "o-2", "customer_id": "c", "items": [{"sku": "A", "quantity": 0, "unit_price": 1}]}),
     "items[0].quantity must be a positive integer"),
    (json.dumps({"order_id": "o-2", "customer_id": "c", "items": [{"sku": "A", "quantity": 1, "unit_price": "x"}]}),
     "items[0].unit_price must be a number"),
    (json.dumps({"order_id": "o-2", "customer_id": "c", "items": [{"sku": "A", "quantity": 1, "unit_price": -1}]}),
     "items[0].unit_price must be a non-negative number"),
])
def test_ingest_orders_rejects_only_the_bad_message(body: str, reason: str, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    mod = load_module("ingest-orders", "handler", monkeypatch)
    assert mod.handler(_sqs(GOOD, body, GOOD), None) == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    logs, _ = output(capsys)
    (rejected,) = [line for line in logs if line["message"] == "Rejected order message"]
    assert rejected["reason"].startswith(reason)
    totals = [line["total"] for line in logs if line["message"] == "Accepted order"]
    assert totals == ["1.40", "1.40"]  # Decimal money: 1.10 + 3 x 0.1, no float residue


def test_ingest_orders_fifo_fails_everything_after_the_first_failure(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    mod = load_module("ingest-orders", "handler", monkeypatch)
    event = _sqs(GOOD, "{bad", GOOD, arn="arn:aws:sqs:eu-west-1:123456789012:orders.fifo")
    assert mod.handler(event, None) == {"batchItemFailures": [{"itemIdentifier": "m-2"},
                                                              {"itemIdentifier": "m-3"}]}
    _, blob = output(capsys)
    assert (blob["OrdersAccepted"], blob["OrdersRejected"]) == ([1.0], [2.0])


def test_ingest_orders_item_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    mod = load_module("ingest-orders", "handler", monkeypatch, MAX_ITEMS_PER_ORDER="1")
    assert mod.handler(_sqs(GOOD), None) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    logs, _ = output(capsys)
    assert logs[0]["reason"] == "2 items is more than MAX_ITEMS_PER_ORDER=1"


def test_ingest_orders_bad_setting_fails_at_init(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidSetting, match="MAX_ITEMS_PER_ORDER='0'"):
        load_module("ingest-orders", "handler", monkeypatch, MAX_ITEMS_PER_ORDER="0")


def test_ingest_orders_wrong_trigger_fails_the_invocation(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    mod = load_module("ingest-orders", "handler", monkeypatch)
    with pytest.raises(EventError, match="expected 'aws:sqs'"):
        mod.handler(sample_event("thumbnail-index"), None)
    logs, blob = output(capsys)
    assert logs[-1]["message"] == "Invocation failed" and logs[-1]["error_type"] == "EventError"
    assert blob["Errors"] == [1.0]


# --- thumbnail-index ------------------------------------------------------------------------------

def test_thumbnail_index_sample_event(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    mod = load_module("thumbnail-index", "handler", monkeypatch)
    result = mod.handler(sample_event("thumbnail-index"), None)
    assert result == {
        "indexed": [{
            "bucket": "acme-media",
            "key": "uploads/summer holiday(2026).JPG",
            "size": 2048000,
            "content_type": "image/jpeg",
            "thumbnails": {"128": "thumbnails/128/uploads/summer holiday(2026).webp",
                           "512": "thumbnails/512/uploads/summer holiday(2026).webp"},
        }],
        "skipped": [
            {"key": "thumbnails/128/uploads/old.webp", "reason": "is a thumbnail (our own output)"},
            {"key": "uploads/notes.txt", "reason": "not an image"},
            {"key": "uploads/cat.png", "reason": "event ObjectRemoved:Delete is not an upload"},
        ],
    }
    logs, blob = output(capsys)
    assert [line["message"] for line in logs] == ["Indexed image", "Invocation succeeded"]
    assert logs[0]["key"] == "uploads/summer holiday(2026).JPG"
    assert {line["service"] for line in logs} == {"thumbnails"}
    assert (blob["ImagesIndexed"], blob["ObjectsSkipped"], blob["Errors"]) == ([1.0], [3.0], [0.0])


def test_thumbnail_index_settings(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    mod = load_module("thumbnail-index", "handler", monkeypatch, THUMBNAIL_SIZES="64, 64,256",
                      THUMBNAIL_PREFIX="thumbs/")
    indexed = mod.handler(sample_event("thumbnail-index"), None)["indexed"]
    # With another prefix, the old "thumbnails/" object is just an image to index.
    assert [e["key"] for e in indexed] == ["uploads/summer holiday(2026).JPG", "thumbnails/128/uploads/old.webp"]
    entry = indexed[0]
    assert entry["thumbnails"] == {"64": "thumbs/64/uploads/summer holiday(2026).webp",
                                   "256": "thumbs/256/uploads/summer holiday(2026).webp"}
    with pytest.raises(InvalidSetting, match="THUMBNAIL_SIZES='big'"):
        load_module("thumbnail-index", "handler", monkeypatch, THUMBNAIL_SIZES="big")
    with pytest.raises(InvalidSetting, match="sizes from 16 to 4096"):
        load_module("thumbnail-index", "handler", monkeypatch, THUMBNAIL_SIZES="8")


# --- sales-report: request parsing only (pandas is not in this venv on purpose) -----------------------

def test_sales_report_sample_event_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    sales_input = load_module("sales-report", "sales_input", monkeypatch)
    query = sales_input.parse_query(sample_event("sales-report"))
    assert query.group_by == "region" and query.via_http is True
    assert len(query.rows) == 5
    assert query.rows[2] == sales_input.Row(date="2026-11-03", region="eu-west", product="gadget", quantity=2,
                                            unit_price=19.99)


def test_sales_report_scheduled_event_uses_bundled_data(monkeypatch: pytest.MonkeyPatch) -> None:
    sales_input = load_module("sales-report", "sales_input", monkeypatch)
    event = json.loads((FUNCTIONS / "sales-report" / "event-eventbridge.json").read_text())
    query = sales_input.parse_query(event)
    assert (query.group_by, query.rows, query.via_http) == ("month", None, False)
    header = (FUNCTIONS / "sales-report" / "sales.csv").read_text().splitlines()[0]
    assert header == "date,region,product,quantity,unit_price"


def test_sales_report_group_from_query_string_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    sales_input = load_module("sales-report", "sales_input", monkeypatch)
    event = sample_event("sales-report")
    event["body"] = None
    event["queryStringParameters"] = {"group_by": "product"}
    assert sales_input.parse_query(event).group_by == "product"
    del event["queryStringParameters"]
    assert sales_input.parse_query(event, "month").group_by == "month"


@pytest.mark.parametrize(("body", "message"), [
    ({"group_by": "colour"}, "group_by must be one of region, product, month, got 'colour'"),
    ({"rows": []}, "rows must be a non-empty list"),
    ({"rows": [{"date": "2026-11-02", "region": "eu", "product": "w", "quantity": -1, "unit_price": 1}]},
     "rows[0].quantity must be a non-negative integer"),
    ({"rows": [{"date": "02/11/2026", "region": "eu", "product": "w", "quantity": 1, "unit_price": 1}]},
     "rows[0].date must look like YYYY-MM-DD"),
    ({"rows": [{"date": "2026-11-02", "region": "eu", "product": "w", "quantity": 1, "unit_price": True}]},
     "rows[0].unit_price must be a non-negative number"),
    ({"rows": [{"date": "2026-11-02", "product": "w", "quantity": 1, "unit_price": 1}]},
     "rows[0].region must be a non-empty string"),
])
def test_sales_report_invalid_requests(body: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sales_input = load_module("sales-report", "sales_input", monkeypatch)
    event = copy.deepcopy(sample_event("sales-report"))
    event["body"] = json.dumps(body)
    with pytest.raises(sales_input.InvalidQuery) as info:
        sales_input.parse_query(event)
    assert str(info.value).startswith(message)


def test_sales_report_refuses_other_triggers(monkeypatch: pytest.MonkeyPatch) -> None:
    sales_input = load_module("sales-report", "sales_input", monkeypatch)
    with pytest.raises(EventError, match="expected an API Gateway HTTP API"):
        sales_input.parse_query(sample_event("ingest-orders"))
