"""shared_monitoring (monitoring layer source) on the real aws-lambda-powertools: we read what it
prints — JSON log lines and EMF blobs on stdout, X-Ray documents over UDP — not mocks of it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

LAYER_SRC = Path(__file__).resolve().parents[2] / "layers" / "monitoring" / "src"
if str(LAYER_SRC) not in sys.path:
    sys.path.insert(0, str(LAYER_SRC))

import shared_monitoring  # noqa: E402
from shared_monitoring import DEFAULT_NAMESPACE, Monitor, monitored, xray_available  # noqa: E402

# Variables that change what powertools/our decorator do; each test starts without them.
_ENV = ["LAMBDA_TASK_ROOT", "AWS_XRAY_DAEMON_ADDRESS", "_X_AMZN_TRACE_ID", "POWERTOOLS_TRACE_DISABLED",
        "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_METRICS_DISABLED",
        "POWERTOOLS_DEV", "POWERTOOLS_LOGGER_LOG_EVENT", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_SAM_LOCAL",
        "AWS_LAMBDA_FUNCTION_NAME", "POWERTOOLS_LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


@dataclass
class FakeContext:
    """The attributes of the runtime's LambdaContext that the decorator reads."""

    aws_request_id: str = "req-1"
    function_name: str = "orders-fn"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:orders-fn"


def ticking(*values: float) -> Callable[[], float]:
    """A clock returning the given readings in order (start, end, start, end, ...)."""
    it: Iterator[float] = iter(values)
    return lambda: next(it)


def output(capsys: pytest.CaptureFixture[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(log lines, EMF blobs) printed so far; every stdout line must be JSON."""
    logs, blobs = [], []
    for line in capsys.readouterr().out.splitlines():
        record = json.loads(line)
        (blobs if "_aws" in record else logs).append(record)
    return logs, blobs


def metric_names(blob: dict[str, Any]) -> list[str]:
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    return [m["Name"] for m in directive["Metrics"]]


def test_version_and_exports() -> None:
    assert shared_monitoring.__version__ == "0.2.0"
    assert DEFAULT_NAMESPACE == "Layersmith"


def test_success_logs_and_one_emf_blob_per_invocation(capsys: pytest.CaptureFixture[str]) -> None:
    monitor = Monitor("orders", namespace="Shop", clock=ticking(10.0, 10.25, 20.0, 20.0015))

    @monitor
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        monitor.logger.info("working", extra={"items": event["items"]})
        monitor.add_metric("OrdersAccepted", event["items"])
        return {"ok": True}

    assert handler({"items": 2}, FakeContext()) == {"ok": True}
    logs, blobs = output(capsys)
    assert [line["message"] for line in logs] == ["working", "Invocation succeeded"]
    for line in logs:
        assert line["service"] == "orders"
        assert line["cold_start"] is True
        assert line["function_request_id"] == "req-1"
        assert line["function_name"] == "orders-fn"
        assert line["function_memory_size"] == 256
    assert logs[0]["items"] == 2 and logs[0]["level"] == "INFO"
    assert logs[1]["duration_ms"] == 250.0
    (blob,) = blobs
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Shop"
    assert directive["Dimensions"] == [["service"]]
    assert blob["service"] == "orders"
    assert metric_names(blob) == ["OrdersAccepted", "Invocations", "Errors", "Duration", "ColdStart"]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]}["Duration"] == "Milliseconds"
    assert (blob["Invocations"], blob["Errors"], blob["Duration"], blob["ColdStart"]) == (
        [1.0], [0.0], [250.0], [1.0])
    assert blob["OrdersAccepted"] == [2.0]
    assert blob["request_id"] == "req-1"  # metadata: searchable, not a dimension

    handler({"items": 1}, FakeContext(aws_request_id="req-2"))
    logs, blobs = output(capsys)
    assert {line["cold_start"] for line in logs} == {False}
    assert {line["function_request_id"] for line in logs} == {"req-2"}
    (blob,) = blobs
    assert "ColdStart" not in metric_names(blob)
    assert (blob["Invocations"], blob["Duration"], blob["OrdersAccepted"]) == ([1.0], [1.5], [1.0])


def test_failure_is_logged_counted_and_reraised(capsys: pytest.CaptureFixture[str]) -> None:
    monitor = Monitor("orders", clock=ticking(1.0, 1.004))
    boom = LookupError("order o-9 not found")

    @monitor
    def handler(event: Any, context: Any) -> None:
        raise boom

    with pytest.raises(LookupError) as info:
        handler({}, FakeContext(aws_request_id="req-err"))
    assert info.value is boom  # the very same exception, not a wrapper
    logs, blobs = output(capsys)
    (line,) = logs
    assert line["level"] == "ERROR"
    assert line["message"] == "Invocation failed"
    assert line["error_type"] == "LookupError"
    assert line["exception_name"] == "LookupError"
    assert "order o-9 not found" in line["exception"]
    assert line["duration_ms"] == 4.0
    assert line["function_request_id"] == "req-err"
    (blob,) = blobs
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == DEFAULT_NAMESPACE
    assert (blob["Invocations"], blob["Errors"], blob["Duration"]) == ([1.0], [1.0], [4.0])


def test_keys_appended_in_one_invocation_do_not_leak(capsys: pytest.CaptureFixture[str]) -> None:
    monitor = Monitor("leaky")

    @monitor
    def handler(event: dict[str, str], context: Any) -> None:
        if "customer" in event:
            monitor.logger.append_keys(customer=event["customer"])
        monitor.logger.info("hello")

    handler({"customer": "c-1"}, FakeContext())
    handler({}, FakeContext())
    logs, _ = output(capsys)
    hellos = [line for line in logs if line["message"] == "hello"]
    assert hellos[0]["customer"] == "c-1"
    assert "customer" not in hellos[1]


def test_local_run_without_context_or_xray(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -c 'handler(event, None)'` on a laptop: no context, no X-Ray daemon, no trace id."""
    monitor = Monitor("local", tracing=True)
    assert monitor.tracer is None  # powertools Tracer would be disabled here anyway; we skip it

    @monitor
    def handler(event: Any, context: Any) -> str:
        return "done"

    assert handler({}, None) == "done"
    logs, blobs = output(capsys)
    (line,) = logs
    assert line["function_request_id"].startswith("local-")
    assert line["function_name"] == "local"
    assert "xray_trace_id" not in line
    assert blobs[0]["request_id"] == line["function_request_id"]


def test_xray_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    assert xray_available() is False
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    assert xray_available() is False  # an emulator: Lambda-like but no daemon
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000")
    assert xray_available() is True
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert xray_available() is False
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED")
    monkeypatch.setenv("AWS_SAM_LOCAL", "true")
    assert xray_available() is False


def test_service_and_namespace_from_powertools_env(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "from-env")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "EnvSpace")
    handler = monitored(lambda event, context: 1)
    assert handler({}, None) == 1
    logs, blobs = output(capsys)
    assert logs[0]["service"] == "from-env"
    assert blobs[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "EnvSpace"
    assert blobs[0]["service"] == "from-env"


def test_monitored_forms(capsys: pytest.CaptureFixture[str]) -> None:
    with_args = monitored(service="forms")
    assert isinstance(with_args, Monitor)

    @with_args
    def handler(event: Any, context: Any) -> int:
        return 7

    assert handler({}, None) == 7
    assert handler.__name__ == "handler"
    assert handler.monitor is with_args  # type: ignore[attr-defined]
    logs, _ = output(capsys)
    assert logs[0]["service"] == "forms"


def test_log_event_option(capsys: pytest.CaptureFixture[str]) -> None:
    handler = monitored(lambda event, context: None, service="events", log_event=True)
    handler({"order": "o-1"}, None)
    logs, _ = output(capsys)
    assert logs[0]["message"] == "Event received"
    assert logs[0]["event"] == {"order": "o-1"}


def test_metrics_disabled_prints_no_emf_and_keeps_nothing(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monitor = Monitor("quiet")
    handler = monitor(lambda event, context: "x")
    handler({}, None)
    handler({}, None)
    logs, blobs = output(capsys)
    assert blobs == []
    assert len(logs) == 2
    assert monitor.metrics.provider.metric_set == {}  # not accumulating across invocations


def test_broken_metrics_publishing_does_not_fail_the_invocation(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monitor = Monitor("flaky-metrics")

    def refuse(raise_on_empty_metrics: bool = False) -> None:
        raise RuntimeError("stdout closed")

    monkeypatch.setattr(monitor.metrics, "flush_metrics", refuse)
    assert monitor(lambda event, context: "fine")({}, None) == "fine"
    logs, blobs = output(capsys)
    assert blobs == []
    assert [line["message"] for line in logs] == ["Invocation succeeded", "Could not publish metrics"]
    assert logs[1]["level"] == "WARNING"


def test_provisioned_concurrency_is_never_a_cold_start(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    monitored(lambda event, context: None, service="warm")({}, None)
    logs, blobs = output(capsys)
    assert logs[0]["cold_start"] is False
    assert "ColdStart" not in metric_names(blobs[0])


# --- X-Ray present: a fresh interpreter that looks like Lambda, with a UDP "daemon" we read -------

_TRACED_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from shared_monitoring import Monitor

    monitor = Monitor("traced")
    assert monitor.tracer is not None, "tracer should be on inside Lambda with a daemon"

    @monitor
    def handler(event, context):
        if event.get("fail"):
            raise RuntimeError("boom")
        return "ok"

    assert handler({}, None) == "ok"
    try:
        handler({"fail": True}, None)
    except RuntimeError:
        pass
    else:
        raise SystemExit("the error was swallowed")
""")


def _xray_documents(sock: socket.socket) -> list[dict[str, Any]]:
    docs = []
    sock.settimeout(0.5)  # the child has exited: its datagrams are already queued
    while True:
        try:
            data = sock.recv(65536).decode()
        except TimeoutError:
            return docs
        header, _, body = data.partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        docs.append(json.loads(body))


def test_handler_subsegment_is_sent_to_the_xray_daemon(tmp_path: Path) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in _ENV}
    env.update({
        "LAMBDA_TASK_ROOT": str(tmp_path), "AWS_LAMBDA_FUNCTION_NAME": "traced-fn",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}",
        "_X_AMZN_TRACE_ID": "Root=1-6740a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1",
    })
    try:
        proc = subprocess.run([sys.executable, "-c", _TRACED_SCRIPT, str(LAYER_SRC)], env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        docs = _xray_documents(sock)
    finally:
        sock.close()
    handlers = [d for d in docs if d.get("name") == "## handler"]
    assert len(handlers) == 2, docs
    ok, failed = handlers
    for doc in handlers:
        assert doc["trace_id"] == "1-6740a1b2-0123456789abcdef01234567"
        assert doc["parent_id"] == "53995c3f42cd8ad8"
        assert doc["annotations"]["Service"] == "traced"
    assert ok["annotations"]["ColdStart"] is True
    assert failed["annotations"]["ColdStart"] is False
    assert "fault" not in ok
    assert failed["fault"] is True
    assert failed["cause"]["exceptions"][0]["type"] == "RuntimeError"
    # and the logs carry the trace id, so a log line leads to its trace
    log_lines = [json.loads(line) for line in proc.stdout.splitlines() if '"level"' in line]
    assert {line["xray_trace_id"] for line in log_lines} == {"1-6740a1b2-0123456789abcdef01234567"}
