"""`layersmith invoke`: real local invocations on the real built layers (this host: python3.11 x86_64).

The repo's example functions run on the layers built once per session (conftest.py); Lambda's
semantics (layer order, /var/task first, read-only /opt, the runtime's boto3, the environment,
the context's deadline) are checked with tiny functions in a tmp project that copies the repo's
`utils` and `data-science` layers. Only the Docker path is faked — at the `Runner`/`Sandbox` seams,
with a fake container that writes the result file the real one would.
"""

from __future__ import annotations

import io
import itertools
import json
import platform
import re
import site
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun, copy_repo_layer, source_layer, write_function
from helpers import REPO

from layersmith.builder.docker import probe
from layersmith.builder.factory import build_layers, make_builder
from layersmith.errors import DockerUnavailable, UserError
from layersmith.local import invoke as invoke_module
from layersmith.local.invoke import _Dirs, docker_command, invoke
from layersmith.local.resolve import attached_layers
from layersmith.model import BuildResult
from layersmith.project.specs import load_functions, load_layers
from layersmith.runner import Completed, SubprocessRunner

HOST = f"host CPython {platform.python_version()} (x86_64, this Python)"  # how each run names the host
pytestmark = pytest.mark.skipif(
    sys.version_info[:2] != (3, 11) or platform.machine() not in ("x86_64", "AMD64"),
    reason="real invocations need a python3.11 x86_64 host (the example functions' runtime)")

SITE = "python/lib/python3.11/site-packages"


def json_lines(text: str) -> list[dict[str, Any]]:
    """The structured (JSON) log lines of a function's output."""
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
    return found


def emf_metrics(logs: list[dict[str, Any]]) -> dict[str, Any]:
    """name -> value over every embedded-metric-format blob in the logs."""
    values: dict[str, Any] = {}
    for blob in logs:
        if "_aws" in blob:
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = blob[metric["Name"]]
                    values[metric["Name"]] = value[0] if isinstance(value, list) and len(value) == 1 else value
    return values


# -- the repo's example functions on the real built layers ---------------------------------------------------


@pytest.fixture
def repo(repo_builds: dict[tuple[str, str], BuildResult], use_cache: Path) -> Path:
    return REPO


def test_sales_report_aggregates_with_pandas_from_the_data_science_layer(repo: Path, cli: CliRun) -> None:
    code, out, err = cli("--project", repo, "invoke", "sales-report")
    assert code == 0, err
    response = json.loads(out)
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["group_by"] == "region"
    assert body["groups"] == [{"region": "eu-west", "orders": 3, "quantity": 18, "revenue": 79.98},
                              {"region": "us-east", "orders": 2, "quantity": 5, "revenue": 57.1}]
    assert body["totals"] == {"orders": 5, "quantity": 23, "revenue": 137.08}
    logs = json_lines(err)
    [done] = [x for x in logs if x.get("message") == "Invocation succeeded"]
    assert done["cold_start"] is True and done["service"] == "sales-report"
    assert done["function_name"] == "local-sales-report" and isinstance(done["duration_ms"], float)
    metrics = emf_metrics(logs)
    assert metrics["Invocations"] == 1 and metrics["Errors"] == 0 and metrics["ColdStart"] == 1
    assert metrics["RowsAggregated"] == 5
    assert re.search(r"sales-report ran on host CPython 3\.11\.\d+ \(x86_64, this Python\) with event "
                     r"\S+/functions/sales-report/event\.json", err)


def test_ingest_orders_reports_only_the_bad_message(repo: Path, cli: CliRun) -> None:
    code, out, err = cli("--project", repo, "invoke", "ingest-orders")
    assert code == 0, err
    # event.json: o-1001 and o-1003 are valid orders, o-1002 has no items
    assert json.loads(out) == {"batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]}
    logs = json_lines(err)
    [rejected] = [x for x in logs if x.get("message") == "Rejected order message"]
    assert rejected["level"] == "WARNING" and rejected["message_id"] == "2e1424d4-f796-459a-8184-9c92662be6da"
    assert "items" in rejected["reason"]
    assert sorted(x["order_id"] for x in logs if x.get("message") == "Accepted order") == ["o-1001", "o-1003"]
    metrics = emf_metrics(logs)
    assert (metrics["OrdersAccepted"], metrics["OrdersRejected"], metrics["Invocations"]) == (2, 1, 1)


def test_partner_digest_in_the_consumer_stack_runs_without_the_arn_layer(repo: Path, cli: CliRun) -> None:
    code, out, err = cli("--project", repo, "invoke", "partner-digest", "--stack", "consumer")
    assert code == 0, err
    assert json.loads(out) == {"orders": 2, "source": "partner.orders", "type": "OrderBatchClosed", "units": 7}
    assert ("layersmith: note: layer secrets-extension is attached by ARN; its contents are not available "
            "offline, running without it") in err
    assert "the stack pins utils to v3" in err
    [done] = [x for x in json_lines(err) if x.get("message") == "Invocation succeeded"]
    # the stack's physical name and region, as the deployed function would see them
    assert done["function_name"] == "layersmith-consumer-partner-digest"
    assert done["function_arn"].startswith("arn:aws:lambda:eu-west-1:")


def test_event_from_a_file_and_from_stdin(repo: Path, cli: CliRun, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    event = json.loads((REPO / "functions/partner-digest/event.json").read_text())
    event["detail"]["items"] = [{"quantity": 3}]
    path = tmp_path / "one.json"
    path.write_text(json.dumps(event))
    code, out, err = cli("--project", repo, "invoke", "partner-digest", "--stack", "consumer", "--event", path)
    assert code == 0, err
    assert json.loads(out)["units"] == 3 and f"with event {path}" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({**event, "detail": {"items": []}})))
    code, out, err = cli("--project", repo, "invoke", "partner-digest", "--stack", "consumer", "--event", "-")
    assert code == 0, err
    assert json.loads(out)["orders"] == 0 and "with event <stdin>" in err


# -- Lambda's semantics, with tiny functions in a tmp project ------------------------------------------------

ORDER = """
import shared

def handler(event, context):
    return {"who": shared.WHO, "file": shared.__file__}
"""

PROBE = """
import os
import sys
import tempfile
import time
from pathlib import Path

import shared_utils

# A fake clock, installed at import, before the bootstrap makes the context (the module's `time` is
# the bootstrap's): the deadline and every remaining-time reading come from it, so the numbers below
# are exact whatever the machine's load. Steps of 1/4 s are exact in binary floating point.
CLOCK = [1000.0]
time.monotonic = lambda: CLOCK[0]


def _try_write(path):
    try:
        with open(path, "w") as fh:
            fh.write("x")
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror}"
    os.remove(path)
    return "written"


def handler(event, context):
    first = context.get_remaining_time_in_millis()
    CLOCK[0] += 0.25
    second = context.get_remaining_time_in_millis()
    opt = Path(shared_utils.__file__).parents[2]
    try:
        import pytest  # the host's test runner: not on Lambda
        host_import = "imported " + pytest.__file__
    except ImportError as exc:
        host_import = type(exc).__name__
    import boto3
    keys = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "_HANDLER",
            "GREETING", "LAYERSMITH_TEST_LEAK")
    return {
        "event": event,
        "remaining": [first, second],
        "env": {k: os.environ.get(k) for k in keys},
        "context": {k: getattr(context, k) for k in ("function_name", "function_version", "memory_limit_in_mb",
                                                     "invoked_function_arn", "aws_request_id", "log_group_name")},
        "sys_path": sys.path,
        "opt": str(opt),
        "writes": {
            "opt": _try_write(opt / "new.txt"),
            "opt/python": _try_write(opt / "python" / "new.py"),
            "opt/python/shared_utils/__init__.py": _try_write(Path(shared_utils.__file__)),
            "task": _try_write(Path(os.environ["LAMBDA_TASK_ROOT"]) / "new.txt"),
            "tmp": _try_write(Path(tempfile.gettempdir()) / f"layersmith-invoke-{os.getpid()}.txt"),
        },
        "host_import": host_import,
        "boto3": boto3.__file__,
        "cwd": os.getcwd(),
    }
"""

PANDAS = """
import sys

import pandas


def handler(event, context):
    import shared_utils
    return {"pandas": pandas.__file__, "version": pandas.__version__, "sys_path": sys.path[:3],
            "total": int(pandas.DataFrame({"q": [1, 2, 3]})["q"].sum()), "shared_utils": shared_utils.__file__}
"""

BOOM = """
def _parse(sku):
    raise ValueError(f"bad sku {sku!r}")


def handler(event, context):
    print("parsing", event["sku"])
    return _parse(event["sku"])
"""

SLOW = """
import time


def handler(event, context):
    time.sleep(60)
    return "never"
"""

SLOW_INIT = """
import time

CLOCK = [1000.0]  # a fake clock, as in PROBE: the context reads it
time.monotonic = lambda: CLOCK[0]
# Init (imports, clients) takes 1.5 s, against a 1 s timeout: on Lambda this is not part of the
# invocation's timeout. Slept for real (the watchdog and the parent's kill must not count it either)
# and moved on the fake clock (the context must not count it).
time.sleep(1.5)
CLOCK[0] += 1.5


def handler(event, context):
    return context.get_remaining_time_in_millis()
"""


@pytest.fixture(scope="module")
def sem(tmp_path_factory: pytest.TempPathFactory, lambda_cache: Path,
        repo_builds: dict[tuple[str, str], BuildResult]) -> Path:
    root = tmp_path_factory.mktemp("semantics") / "project"
    (root / "layers").mkdir(parents=True)
    copy_repo_layer(root, "utils")
    copy_repo_layer(root, "data-science")
    source_layer(root, "first", {"shared.py": 'WHO = "first"\n', "only_first.py": "X = 1\n"})
    source_layer(root, "second", {"shared.py": 'WHO = "second"\n'})
    source_layer(root, "never-built", {"nb.py": ""})
    source_layer(root, "never-built-native", {"nbn.py": ""}, portable=False)
    write_function(root, "order", ORDER, layers=["first", "second"])
    write_function(root, "order-reversed", ORDER, layers=["second", "first"])
    write_function(root, "shadow", {"handler.py": ORDER, "shared.py": 'WHO = "task"\n'}, layers=["first", "second"])
    write_function(root, "probe", PROBE, layers=["utils"], timeout=7, environment={"GREETING": "hello"},
                   event={"hello": "world"})
    write_function(root, "pandas-probe", PANDAS, layers=["data-science", "utils"])
    write_function(root, "boom", BOOM, layers=[], event={"sku": "X-42"})
    write_function(root, "slow", SLOW, layers=[], timeout=1)
    write_function(root, "slow-init", SLOW_INIT, layers=[], timeout=1)
    write_function(root, "no-module", BOOM, layers=[], handler="missing.handler")
    write_function(root, "no-attr", BOOM, layers=[], handler="handler.nope")
    write_function(root, "unbuilt", ORDER, layers=["first", "never-built"])
    write_function(root, "unbuilt-native", ORDER, layers=["never-built-native"])
    write_function(root, "arm", ORDER, layers=["utils"], runtime="python3.12", architecture="arm64",
                   environment={"THUMBNAIL_PREFIX": "thumbs/"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYERSMITH_CACHE_DIR", str(lambda_cache))
        results = build_layers(root, ["utils", "data-science", "first", "second"], runtime="python3.11",
                               arch="x86_64")
    # the copied repo layers are the very entries built for the repo: same name + contents = same key
    assert all(r.cached for r in results if r.variant.layer in ("utils", "data-science"))
    return root


def run_json(cli: CliRun, project: Path, *argv: str) -> Any:
    code, out, err = cli("--project", project, "invoke", *argv)
    assert code == 0, err
    return json.loads(out)


def test_a_later_layer_overwrites_an_earlier_ones_files(sem: Path, cli: CliRun, use_cache: Path) -> None:
    assert run_json(cli, sem, "order")["who"] == "second"
    assert run_json(cli, sem, "order-reversed")["who"] == "first"  # the order decides, not the names


def test_the_functions_own_module_shadows_every_layer(sem: Path, cli: CliRun, use_cache: Path) -> None:
    result = run_json(cli, sem, "shadow")
    assert result["who"] == "task"
    assert "/opt/" not in result["file"] and result["file"].endswith("/task/shared.py")


def test_pandas_comes_from_the_extracted_layer_on_lambdas_path(sem: Path, cli: CliRun, use_cache: Path) -> None:
    result = run_json(cli, sem, "pandas-probe")
    task, site_packages, opt_python = result["sys_path"]
    opt = opt_python.removesuffix("/python")
    assert task.endswith("/task") and site_packages == f"{opt}/{SITE}" and opt_python == f"{opt}/python"
    assert result["pandas"] == f"{opt}/{SITE}/pandas/__init__.py"
    assert result["shared_utils"] == f"{opt}/python/shared_utils/__init__.py"
    assert result["total"] == 6
    locked = re.search(r"^pandas==(\S+)", (REPO / "layers/data-science/requirements.txt").read_text(), re.M)
    assert locked is not None and result["version"] == locked.group(1)  # the locked pandas, not the host's


def test_lambda_environment_context_and_deadline(sem: Path, cli: CliRun, use_cache: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYERSMITH_TEST_LEAK", "from the developer's shell")
    result = run_json(cli, sem, "probe")
    assert result["event"] == {"hello": "world"}  # the function's own event.json by default
    task = result["sys_path"][0]
    assert result["env"] == {
        "AWS_LAMBDA_FUNCTION_NAME": "local-probe", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "LAMBDA_TASK_ROOT": task, "_HANDLER": "handler.handler",
        "GREETING": "hello", "LAYERSMITH_TEST_LEAK": None}
    assert result["cwd"] == task  # Lambda's working directory is /var/task
    context = result["context"]
    assert context["function_name"] == "local-probe" and context["function_version"] == "$LATEST"
    assert context["memory_limit_in_mb"] == "128" and context["log_group_name"] == "/aws/lambda/local-probe"
    assert re.fullmatch(r"arn:aws:lambda:us-east-1:\d{12}:function:local-probe", context["invoked_function_arn"])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", context["aws_request_id"])
    # On the handler's fake clock: the function's whole 7 s timeout (not Lambda's 3 s default) at the
    # start of the invocation, then 1/4 s less once the clock moved.
    assert result["remaining"] == [7000, 6750]


def test_opt_and_task_are_read_only_tmp_is_not(sem: Path, cli: CliRun, use_cache: Path) -> None:
    writes = run_json(cli, sem, "probe")["writes"]
    read_only = {k: v for k, v in writes.items() if k != "tmp"}
    assert read_only == dict.fromkeys(read_only, "OSError: Read-only file system")
    assert writes["tmp"] == "written"


def test_host_packages_are_not_importable_but_the_runtimes_boto3_is(sem: Path, cli: CliRun,
                                                                    use_cache: Path) -> None:
    result = run_json(cli, sem, "probe")
    assert result["host_import"] == "ModuleNotFoundError"
    task, runtime = result["sys_path"][0], result["sys_path"][3]
    assert result["boto3"] == f"{runtime}/boto3/__init__.py"
    assert not result["boto3"].startswith((task, result["opt"]))
    host_site = [*site.getsitepackages(), site.getusersitepackages()]
    assert not [p for p in result["sys_path"] if p in host_site]
    assert all(p.startswith(sys.base_prefix) for p in result["sys_path"][4:])  # then only the stdlib


def test_init_time_does_not_count_against_the_timeout(sem: Path, cli: CliRun, use_cache: Path) -> None:
    remaining = run_json(cli, sem, "slow-init")
    # Init took 1.5 s (real and fake) against a 1 s timeout: had it counted, the run would have timed out,
    # and a deadline taken before init would not leave exactly the whole second on the fake clock.
    assert remaining == 1000


# -- failures ------------------------------------------------------------------------------------------------


def test_handler_exception_exits_1_with_the_functions_traceback(sem: Path, cli: CliRun, use_cache: Path) -> None:
    code, out, err = cli("--project", sem, "invoke", "boom")
    assert code == 1 and out == ""
    assert "parsing X-42" in err  # the handler's prints are its logs
    assert re.search(r'File "\S+/task/handler\.py", line \d+, in _parse\n\s+raise ValueError', err)
    assert err.rstrip().splitlines()[-1] == f"layersmith: error: boom failed on {HOST}: ValueError: bad sku 'X-42'"


@pytest.mark.serial  # a wall-clock bound: alone, not beside another worker
def test_timeout_is_reported_as_such(sem: Path, cli: CliRun, use_cache: Path) -> None:
    started = time.monotonic()
    code, out, err = cli("--project", sem, "invoke", "slow")
    assert code == 1 and out == ""
    assert f"layersmith: error: slow failed on {HOST}: Task timed out after 1.00 seconds" in err
    # Killed at the 1 s deadline, long before the handler's 60 s sleep ends; generous for a loaded machine.
    assert time.monotonic() - started < 30


def bad_input(cli: CliRun, *argv: str | Path) -> str:
    """Exit 2, one line, no traceback."""
    code, out, err = cli(*argv)
    assert code == 2, err
    assert out == "" and "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith("layersmith: error: ")
    return line


def test_unknown_function(sem: Path, cli: CliRun, use_cache: Path) -> None:
    line = bad_input(cli, "--project", sem, "invoke", "nope")
    assert "no function 'nope'; the project has" in line and "order" in line


def test_event_file_that_is_not_json_is_named(sem: Path, cli: CliRun, use_cache: Path, tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text("{not json")
    line = bad_input(cli, "--project", sem, "invoke", "order", "--event", bad)
    assert line.startswith(f"layersmith: error: {bad}: --event: event is not JSON")
    missing = bad_input(cli, "--project", sem, "invoke", "order", "--event", tmp_path / "missing.json")
    assert f"{tmp_path / 'missing.json'}: --event: cannot read event file" in missing


def test_handler_module_missing_names_function_toml_handler(sem: Path, cli: CliRun, use_cache: Path) -> None:
    line = bad_input(cli, "--project", sem, "invoke", "no-module")
    assert f"{sem / 'functions/no-module/function.toml'}: handler: handler module 'missing' not found" in line


def test_handler_attribute_missing_names_the_attribute(sem: Path, cli: CliRun, use_cache: Path) -> None:
    line = bad_input(cli, "--project", sem, "invoke", "no-attr")
    assert f"{sem / 'functions/no-attr/function.toml'}: handler:" in line
    assert "Handler 'nope' missing on module 'handler'" in line


def test_traceback_only_with_verbose(sem: Path, cli: CliRun, use_cache: Path) -> None:
    code, _, err = cli("--project", sem, "-v", "invoke", "no-attr")
    assert code == 2 and "Traceback (most recent call last)" in err


def test_a_missing_layer_is_built_first(sem: Path, cli: CliRun, use_cache: Path) -> None:
    """As `plan` and `check` do: `never-built` is in no cache until this invoke builds it."""
    code, out, err = cli("--project", sem, "invoke", "unbuilt")
    assert code == 0, err
    assert json.loads(out)["who"] == "first"  # `first` provides shared.py; never-built only nb.py
    (again,) = build_layers(sem, ["never-built"])
    assert again.cached, "invoke should have built the missing layer into the cache"


def docker_answers() -> bool:
    try:
        probe(SubprocessRunner())
    except DockerUnavailable:
        return False
    return True


def test_python312_arm64_without_docker_is_refused_naming_what_is_missing(sem: Path, cli: CliRun,
                                                                          use_cache: Path) -> None:
    if docker_answers():
        pytest.skip("a Docker engine answers here: the function would really run in the Lambda image")
    line = bad_input(cli, "--project", sem, "invoke", "arm")
    assert line.startswith("layersmith: error: arm: nothing here runs python3.12/arm64: this machine is x86_64; "
                           "Python 3.12 exists in no Debian suite, and no Docker engine answers at")
    assert "start Docker" in line


# -- the Docker path: exact argv, and a fake container with the real container's side effects ----------------


class FakeDockerCli:
    """`docker version` answers like an engine does (or like a missing CLI, with `installed=False`)."""

    def __init__(self, installed: bool = True) -> None:
        self.installed = installed
        self.argvs: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        self.argvs.append(tuple(argv))
        if not self.installed:
            return Completed(tuple(argv), 127, "", "command not found: docker")
        return Completed(tuple(argv), 0, "27.3.1\n", "")


class FakeLambdaContainer:
    """What `docker run … public.ecr.aws/lambda/python:3.12 … bootstrap.py` does to the host: reads
    the read-only mounts, logs to stderr, and writes the result file into the writable mount."""

    def __init__(self) -> None:
        self.argv: list[str] = []
        self.seen_opt: list[str] = []
        self.seen_task: list[str] = []

    def run(self, argv: Sequence[str], *, env: Mapping[str, str], stdin: str, timeout: float) -> Completed:
        self.argv = list(argv)
        mounts = {}
        for flag, spec in itertools.pairwise(argv):
            if flag == "-v":
                host, dest, *_ = spec.split(":")
                mounts[dest] = Path(host)
        self.seen_opt = sorted(str(p.relative_to(mounts["/opt"])) for p in mounts["/opt"].rglob("*.py"))
        self.seen_task = sorted(p.name for p in mounts["/var/task"].iterdir())
        result = {"result": {"echo": json.loads(stdin), "python": "3.12"}, "duration_ms": 4.2}
        (mounts["/layersmith-out"] / "result.json").write_text(json.dumps(result))
        return Completed(tuple(argv), 0, "", '{"level":"INFO","message":"inside the container"}\n')


@pytest.fixture
def arm(sem: Path, use_cache: Path) -> tuple[Any, list[Any]]:
    fn = load_functions(sem, ["arm"])["arm"]
    return fn, attached_layers(fn, load_layers(sem), None, make_builder(sem))


def test_docker_command_exact_argv(arm: tuple[Any, list[Any]], tmp_path: Path) -> None:
    fn, _ = arm
    dirs = _Dirs(tmp_path / "opt", tmp_path / "task", tmp_path / "out", tmp_path / "runtime")
    argv = docker_command(fn, dirs, {"AWS_REGION": "eu-west-1", "THUMBNAIL_PREFIX": "thumbs/",
                                     "LAMBDA_TASK_ROOT": str(dirs.task)})
    bootstrap = Path(invoke_module.__file__).parent
    assert argv == [
        "docker", "run", "--rm", "-i", "--platform", "linux/arm64", "--entrypoint", "/var/lang/bin/python3",
        "-v", f"{tmp_path}/opt:/opt:ro", "-v", f"{tmp_path}/task:/var/task:ro",
        "-v", f"{bootstrap}:/layersmith:ro", "-v", f"{tmp_path}/out:/layersmith-out",
        "-e", "AWS_REGION=eu-west-1",
        "-e", "LAMBDA_TASK_ROOT=/var/task",
        "-e", "LAYERSMITH_RESULT_FILE=/layersmith-out/result.json",
        "-e", "LAYERSMITH_SYS_PATH=/var/task:/opt/python/lib/python3.12/site-packages:/opt/python:/var/runtime",
        # Lambda's own value: the image's python3 needs /var/lang/lib; /opt/lib comes last
        "-e", "LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:"
              "/var/task/lib:/opt/lib",
        "-e", "THUMBNAIL_PREFIX=thumbs/",
        "public.ecr.aws/lambda/python:3.12", "-I", "-S", "/layersmith/bootstrap.py"]


def test_docker_invocation_result_flows_back(arm: tuple[Any, list[Any]], tmp_path: Path) -> None:
    fn, layers = arm
    docker, container = FakeDockerCli(), FakeLambdaContainer()
    result = invoke(fn, layers, event={"key": "a.png"}, physical_name="dev-arm", region="eu-west-1",
                    sandbox=container, runner=docker, work_root=tmp_path / "work")
    assert docker.argvs == [("docker", "version", "--format", "{{.Server.Version}}")]  # the engine was asked
    assert result.where == "docker" and result.error is None
    assert result.result == {"echo": {"key": "a.png"}, "python": "3.12"} and result.duration_ms == 4.2
    assert "inside the container" in result.logs
    argv = container.argv
    assert argv[argv.index("--platform") + 1] == "linux/arm64"
    assert "public.ecr.aws/lambda/python:3.12" in argv
    env = {argv[i + 1].split("=", 1)[0]: argv[i + 1].split("=", 1)[1] for i, a in enumerate(argv) if a == "-e"}
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "dev-arm" and env["AWS_REGION"] == "eu-west-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12" and env["THUMBNAIL_PREFIX"] == "thumbs/"
    # the container saw the extracted layer in /opt and the function's code in /var/task
    assert "python/shared_utils/__init__.py" in container.seen_opt
    assert container.seen_task == ["handler.py"]
    # scratch dirs removed; the layers' /opt is kept for the next invoke (local/layer_tree.py)
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["opt", "packages"]


def test_docker_path_without_an_engine_is_a_refusal_not_a_fallback(arm: tuple[Any, list[Any]],
                                                                    tmp_path: Path) -> None:
    fn, layers = arm
    container = FakeLambdaContainer()
    with pytest.raises(UserError) as info:
        invoke(fn, layers, event={}, physical_name="dev-arm", region="eu-west-1", sandbox=container,
               runner=FakeDockerCli(installed=False), work_root=tmp_path / "work")
    assert "nothing here runs python3.12/arm64" in info.value.message
    assert "(the docker CLI is not installed)" in info.value.message
    assert info.value.exit_code == 2 and container.argv == []  # nothing ran, not even on the host
