"""`@monitored`: structured logs, one EMF metric blob and (when X-Ray is there) a trace per invocation.

Built on aws-lambda-powertools (shipped in this layer) rather than on its stacked decorators
(`inject_lambda_context` + `log_metrics` + `capture_lambda_handler`) because those
- need a real Lambda context object (a local run with `context=None` crashes in the logger),
- emit cold start as a separate EMF blob and no duration/error metrics,
- leave tracing to Tracer's own detection, which treats any process with `LAMBDA_TASK_ROOT` as
  "in Lambda" — an emulator without an X-Ray daemon or trace header then logs X-Ray errors.

What every invocation produces (all on stdout, which Lambda ships to CloudWatch Logs):
- log lines as JSON with `service`, `cold_start`, `function_request_id`, `function_name`, ...;
- a final `Invocation succeeded` / `Invocation failed` line with `duration_ms` and, on failure,
  `error_type` plus the stack trace (the exception is then re-raised unchanged);
- one EMF blob in the monitor's namespace with dimension `service`: `Invocations` (1), `Errors`
  (0 or 1: always present so Sum/SampleCount is an error rate and alarms never lack data),
  `Duration` (ms), `ColdStart` (1, on cold starts only) and whatever the handler added.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.constants import LOGGER_ATTRIBUTE_POWERTOOLS_HANDLER
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

if TYPE_CHECKING:  # imported lazily at runtime: importing the X-Ray SDK costs cold-start time
    from aws_lambda_powertools import Tracer

H = TypeVar("H", bound=Callable[..., Any])

DEFAULT_NAMESPACE = "Layersmith"
_TRUTHY = {"1", "true", "yes", "on"}


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUTHY


def xray_available() -> bool:
    """True only inside real Lambda with an X-Ray daemon address and tracing not switched off.

    Powertools' Tracer disables itself outside Lambda (no `LAMBDA_TASK_ROOT`), under SAM local and
    with `POWERTOOLS_TRACE_DISABLED=true`; we also require `AWS_XRAY_DAEMON_ADDRESS`, which the Lambda
    service sets and local emulators usually do not.
    """
    if _env_true("POWERTOOLS_TRACE_DISABLED") or _env_true("AWS_SAM_LOCAL"):
        return False
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and bool(os.environ.get("AWS_XRAY_DAEMON_ADDRESS"))


class _CurrentStdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is at emit time.

    A plain StreamHandler keeps the stream it was created with; EMF metrics are `print()`ed to the
    current `sys.stdout`, so logs and metrics would otherwise go to different places whenever
    stdout is swapped (test capture, `layersmith invoke` collecting output).
    """

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def _context_keys(context: object) -> dict[str, Any]:
    """The Lambda context fields powertools puts in every log line, tolerating local stand-ins."""
    request_id = getattr(context, "aws_request_id", None) or f"local-{uuid.uuid4()}"
    return {
        "function_name": getattr(context, "function_name", None) or os.environ.get(
            "AWS_LAMBDA_FUNCTION_NAME", "local"),
        "function_memory_size": getattr(context, "memory_limit_in_mb", None) or os.environ.get(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
        "function_arn": getattr(context, "invoked_function_arn", None),
        "function_request_id": request_id,
    }


def _make_logger(service: str) -> Logger:
    # Powertools configures the stdlib logger named after the service once; a later Logger for the
    # same service reuses that handler, and passing it a new (never attached) handler would leave
    # it without a formatter ("'NoneType' object has no attribute 'clear_state'").
    configured = getattr(logging.getLogger(service), LOGGER_ATTRIBUTE_POWERTOOLS_HANDLER, None)
    return Logger(service=service, logger_handler=None if configured else _CurrentStdoutHandler())


def _make_tracer(service: str) -> Tracer | None:
    try:
        from aws_lambda_powertools import Tracer
        return Tracer(service=service)
    except Exception as exc:  # a missing/broken X-Ray SDK must not take the handler down with it
        logging.getLogger(__name__).warning("X-Ray tracing unavailable: %s", exc)
        return None


class Monitor:
    """One per service (module level): owns the logger, the metrics and the tracer.

    `monitor = Monitor("orders")`, then decorate the handler with `@monitor` and use
    `monitor.logger` / `monitor.add_metric` inside it.
    """

    def __init__(self, service: str | None = None, *, namespace: str | None = None,
                 tracing: bool = True, log_event: bool | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.service = (service or os.environ.get("POWERTOOLS_SERVICE_NAME")
                        or os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "service_undefined")
        self.namespace = namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
        self.logger = _make_logger(self.service)
        # Our own provider: powertools' Metrics() instances share one class-level metric set, which
        # would mix two monitors' metrics (and namespaces) in one blob.
        self.metrics = Metrics(provider=AmazonCloudWatchEMFProvider(namespace=self.namespace,
                                                                    service=self.service))
        self.tracer = _make_tracer(self.service) if tracing and xray_available() else None
        self.log_event = _env_true("POWERTOOLS_LOGGER_LOG_EVENT") if log_event is None else log_event
        self._clock = clock
        self._cold = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"

    def add_metric(self, name: str, value: float = 1, unit: MetricUnit | str = MetricUnit.Count) -> None:
        """Add to this invocation's EMF blob (flushed when the handler returns or raises)."""
        self.metrics.add_metric(name=name, unit=unit, value=value)

    def _take_cold_start(self) -> bool:
        cold, self._cold = self._cold, False
        return cold

    @contextmanager
    def _traced(self, name: str, cold_start: bool) -> Iterator[None]:
        # `_X_AMZN_TRACE_ID` is set per invocation by the runtime; without it there is no segment
        # to attach to and the X-Ray SDK would only log "cannot find the current segment".
        if self.tracer is None or not os.environ.get("_X_AMZN_TRACE_ID"):
            yield
            return
        with self.tracer.provider.in_subsegment(name=f"## {name}") as subsegment:
            subsegment.put_annotation(key="ColdStart", value=cold_start)
            subsegment.put_annotation(key="Service", value=self.service)
            yield  # the X-Ray SDK records an exception raised here on the subsegment

    def _publish(self, duration_ms: float, failed: bool, cold_start: bool, request_id: str) -> None:
        try:
            self.metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
            self.metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1 if failed else 0)
            self.metrics.add_metric(name="Duration", unit=MetricUnit.Milliseconds, value=duration_ms)
            if cold_start:
                self.metrics.add_metric(name="ColdStart", unit=MetricUnit.Count, value=1)
            # High-cardinality values go in metadata (searchable in logs), never in dimensions.
            self.metrics.add_metadata(key="request_id", value=request_id)
            self.metrics.flush_metrics()
        except Exception:  # publishing telemetry must never turn a success into a failure
            self.logger.warning("Could not publish metrics", exc_info=True)
        finally:
            # flush clears only when it printed; with POWERTOOLS_METRICS_DISABLED the set would grow.
            self.metrics.clear_metrics()

    def __call__(self, handler: H) -> H:
        name = getattr(handler, "__name__", "handler")

        @functools.wraps(handler)
        def wrapper(event: Any, context: Any = None, *args: Any, **kwargs: Any) -> Any:
            cold_start = self._take_cold_start()
            keys = _context_keys(context)
            # Keys appended during the previous invocation must not leak into this one.
            self.logger.clear_state()
            self.logger.append_keys(cold_start=cold_start, **keys)
            if self.log_event:
                self.logger.info("Event received", extra={"event": event})
            start = self._clock()
            try:
                with self._traced(name, cold_start):
                    result = handler(event, context, *args, **kwargs)
            except Exception as exc:
                duration_ms = _ms(self._clock() - start)
                self.logger.exception("Invocation failed", extra={
                    "duration_ms": duration_ms, "error_type": type(exc).__name__})
                self._publish(duration_ms, True, cold_start, keys["function_request_id"])
                raise
            duration_ms = _ms(self._clock() - start)
            self.logger.info("Invocation succeeded", extra={"duration_ms": duration_ms})
            self._publish(duration_ms, False, cold_start, keys["function_request_id"])
            return result

        wrapper.monitor = self  # type: ignore[attr-defined]  # lets tests and callers reach the monitor
        return cast(H, wrapper)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


@overload
def monitored(handler: H, *, service: str | None = None, namespace: str | None = None,
              tracing: bool = True, log_event: bool | None = None) -> H: ...
@overload
def monitored(handler: None = None, *, service: str | None = None, namespace: str | None = None,
              tracing: bool = True, log_event: bool | None = None) -> Monitor: ...
def monitored(handler: H | None = None, *, service: str | None = None, namespace: str | None = None,
              tracing: bool = True, log_event: bool | None = None) -> H | Monitor:
    """`@monitored`, `@monitored(service="orders")` or `monitored(handler)`.

    With arguments it returns the `Monitor` (itself a decorator). For logging or custom metrics
    inside the handler, keep that `Monitor` in a module-level name and use `.logger`/`.add_metric`.
    """
    monitor = Monitor(service, namespace=namespace, tracing=tracing, log_event=log_event)
    if handler is None:
        return monitor
    return monitor(handler)
