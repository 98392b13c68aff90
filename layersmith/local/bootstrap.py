"""Runs ONE handler invocation the way Lambda's Python runtime does. Stdlib only: it is executed
by the target interpreter with `-I -S` (no site-packages, no user env), on the host or inside the
official Lambda image.

Protocol: the event arrives on stdin; the handler's prints and logs go to stderr (Lambda sends
both to CloudWatch); the outcome is written as JSON to $LAYERSMITH_RESULT_FILE. Exit codes:
0 ok, 1 handler raised, 3 module import failed, 4 handler attribute missing, 5 result not JSON,
124 the handler ran past the function's timeout.
"""

import errno
import importlib
import json
import os
import sys
import threading
import time
import traceback
import uuid
from typing import Any, NoReturn

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES_FIRST = ("os.mkdir", "os.remove", "os.rmdir", "os.truncate", "os.chmod", "os.chown", "os.utime")
_CHANGES_BOTH = ("os.rename", "os.link")


class LambdaContext:
    """The attributes Lambda's `context` has, with a deadline that honours the function's timeout."""

    def __init__(self, timeout_s: float) -> None:
        env = os.environ
        self._deadline = time.monotonic() + timeout_s
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.aws_request_id = str(uuid.uuid4())
        region = env.get("AWS_REGION", "us-east-1")
        self.invoked_function_arn = f"arn:aws:lambda:{region}:000000000000:function:{self.function_name}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _write(result: dict) -> None:  # type: ignore[type-arg]
    with open(os.environ["LAYERSMITH_RESULT_FILE"], "w", encoding="utf-8") as fh:
        json.dump(result, fh)


def _error(kind: str, message: str, code: int) -> NoReturn:
    _write({"errorType": kind, "errorMessage": message, "stackTrace": traceback.format_exc().splitlines()})
    sys.exit(code)


def _written(event: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The paths an audit event writes to (none for reads and unrelated events)."""
    if event == "open":
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(flags & _WRITE_FLAGS)
        return (path,) if writing else ()
    if event in _CHANGES_BOTH:
        return args[:2]
    if event == "os.symlink":
        return args[1:2]  # the link created, not what it points to
    return args[:1] if event in _CHANGES_FIRST else ()


def _read_only(roots: list[str]) -> None:
    """/opt and /var/task are read-only file systems on Lambda (EROFS). Their modes are cleared too,
    but root ignores modes, so writes under them are refused here as well, with Lambda's error
    (an audit hook sees every open/mkdir/remove/rename made through Python)."""
    prefixes = tuple(os.path.join(os.path.abspath(r), "") for r in roots)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        for target in _written(event, args):
            if isinstance(target, (str, bytes, os.PathLike)) and os.path.join(
                    os.path.abspath(os.fsdecode(target)), "").startswith(prefixes):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(target))

    if prefixes:
        sys.addaudithook(hook)


def _watchdog(timeout_s: float) -> threading.Timer:
    """Lambda stops an invocation at its timeout whatever the handler is doing (sleeping, in C code,
    catching exceptions): only ending the process is that final."""

    def expire() -> None:
        sys.stderr.flush()
        os._exit(124)

    timer = threading.Timer(timeout_s, expire)
    timer.daemon = True
    timer.start()
    return timer


def main() -> None:
    sys.path[:0] = [p for p in os.environ["LAYERSMITH_SYS_PATH"].split(os.pathsep) if p]
    sys.stdout = sys.stderr  # the handler's prints are logs; stdout stays clean for the result
    module_name, _, attr = os.environ["_HANDLER"].rpartition(".")
    event = json.loads(sys.stdin.read() or "null")
    os.chdir(os.environ["LAMBDA_TASK_ROOT"])  # Lambda's working directory is /var/task
    _read_only([p for p in os.environ.get("LAYERSMITH_READ_ONLY", "").split(os.pathsep) if p])
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:
        traceback.print_exc()
        _error("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}", 3)
    handler = getattr(module, attr, None)
    if not callable(handler):
        _error("Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'", 4)
    # The timeout starts with the invocation, after init (the module import above), as on Lambda.
    timeout_s = float(os.environ["LAYERSMITH_TIMEOUT"])
    context = LambdaContext(timeout_s)
    watchdog = _watchdog(timeout_s)
    started = time.monotonic()
    try:
        result = handler(event, context)
    except Exception as exc:
        traceback.print_exc()
        _error(type(exc).__name__, str(exc), 1)
    finally:
        watchdog.cancel()
    try:
        _write({"result": result, "duration_ms": round((time.monotonic() - started) * 1000, 2)})
    except TypeError as exc:
        _error("Runtime.MarshalError", f"Unable to marshal response: {exc}", 5)


if __name__ == "__main__":
    main()
