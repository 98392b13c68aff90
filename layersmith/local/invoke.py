"""`layersmith invoke`: run a function locally on the exact layer variants its stack attaches.

Lambda's layout is reproduced, not approximated: layers are extracted into an `/opt`-like
directory in the function's order (a later layer overwrites an earlier one's files), the code is
the deployed zip's contents in a `/var/task`-like directory, and `sys.path` is
task -> /opt/python/lib/python3.X/site-packages -> /opt/python -> the runtime's boto3. The handler
runs in a separate process on an interpreter of the function's exact version AND architecture:
the host's, a prepared Debian sysroot's (arm64 under qemu), or the official Lambda image's when
Docker answers (`layersmith.local.targets` picks, in that order); otherwise a refusal naming what
is missing — never a silent fallback to the wrong Python.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from layersmith.builder.function_zip import package_function
from layersmith.errors import UserError
from layersmith.local.layer_tree import freeze, layer_tree, remove_tree
from layersmith.local.resolve import AttachedLayer
from layersmith.local.targets import Chooser, Target
from layersmith.model import FunctionSpec
from layersmith.runner import Completed, Runner, Sandbox
from layersmith.runtimes.supported import DOCKER_PLATFORM, RUNTIMES
from layersmith.runtimes.sysroots import Sysroots, sysroots_dir

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
# What every Lambda Python runtime ships besides the stdlib (boto3 and its dependencies).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
LAMBDA_IMAGE = "public.ecr.aws/lambda/python"
# Lambda's own library path (the base images' ENV): the image's python3 links libpython from
# /var/lang/lib, and a layer's /opt/lib comes last, after the system's and the function's libraries.
LAMBDA_LD_LIBRARY_PATH = ("/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:"
                          "/opt/lib")
# Lambda gives a function's init (imports, clients) up to 10 s on top of, not within, its timeout;
# the handler's own timeout is enforced inside the bootstrap, from the end of init.
INIT_TIMEOUT = 10
# Under qemu everything runs several times slower (pandas' import: ~4 s instead of ~0.5 s); the
# function's own timeout is still enforced inside the bootstrap, this only bounds the process.
EMULATED_SLACK = 120


@dataclass
class Invocation:
    function: str
    result: Any
    logs: str
    duration_ms: float | None
    error: str | None = None  # "Type: message" when the handler failed or timed out
    where: str = "host"  # host, sysroot or docker
    on: str = "host"  # the interpreter it ran on, as each run says
    notes: list[str] = field(default_factory=list)


def read_event(function: FunctionSpec, event: str | None, stdin: str | None = None) -> tuple[str, Any]:
    """(where it came from, parsed event). Default: the function's own `event.json`, else `{}`."""
    if event == "-":
        where, text = "<stdin>", stdin if stdin is not None else sys.stdin.read()
    elif event is not None:
        path = Path(event)
        try:
            where, text = str(path), path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot read event file ({exc.strerror})", path=path, key="--event") from None
    elif (function.directory / "event.json").is_file():
        where, text = str(function.directory / "event.json"), (function.directory / "event.json").read_text()
    else:
        return "{}", {}
    try:
        return where, json.loads(text)
    except ValueError as exc:
        raise UserError(f"event is not JSON ({exc}); pass a JSON file or '-'", path=where, key="--event") from None


def check_handler_module(function: FunctionSpec) -> None:
    module = function.handler.rpartition(".")[0].replace(".", "/")
    base = function.directory / module
    if not (base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()):
        raise UserError(f"handler module {module!r} not found: no {module}.py in functions/{function.name}/",
                        path=function.spec_path, key="handler")


def layer_notes(layers: list[AttachedLayer]) -> list[str]:
    """What the local /opt cannot be, said: layers attached by ARN, and pins run on the local build."""
    notes = []
    for layer in layers:
        if layer.build is None:
            notes.append(f"layer {layer.name} is attached by ARN; its contents are not available offline, "
                         "running without it")
        elif layer.pin != "latest":
            notes.append(f"the stack pins {layer.name} to v{layer.pin}; running on the local build of its "
                         f"variant ({layer.build.sha256[:12]}), which is what that version holds only if it was "
                         "published from these sources")
    return notes


def runtime_dir(dest: Path) -> Path:
    """The runtime's own boto3 & co., linked from this environment (Lambda puts them in /var/runtime)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (dest / source.name).symlink_to(source)
    return dest


def lambda_env(function: FunctionSpec, physical_name: str, region: str, task: str, opt: str,
               overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Lambda's variables, then the function's own, then `overrides` (`--env-vars`, which wins as
    it does in `sam local invoke`)."""
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": physical_name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{physical_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local/[$LATEST]layersmith",
        "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": task, "LAMBDA_RUNTIME_DIR": "/var/runtime", "_HANDLER": function.handler,
        "LANG": "en_US.UTF-8", "TZ": ":UTC", "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LD_LIBRARY_PATH": f"/lib64:/usr/lib64:{task}:{task}/lib:{opt}/lib", "PYTHONDONTWRITEBYTECODE": "1",
        "LAYERSMITH_TIMEOUT": str(function.timeout),
    }
    # Credentials for functions that call AWS, as `sam local invoke` passes them.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(dict(function.environment))
    env.update(overrides or {})
    return env


@dataclass(frozen=True)
class _Dirs:
    opt: Path
    task: Path
    out: Path
    runtime: Path


def _local_command(function: FunctionSpec, dirs: _Dirs, env: dict[str, str],
                   target: Target) -> tuple[list[str], dict[str, str]]:
    """The bootstrap on the host's or a sysroot's interpreter, with the runtime's boto3 last on sys.path."""
    site = f"{dirs.opt}/{RUNTIMES[function.runtime].site_packages}"
    runtime = target.runtime_site or runtime_dir(dirs.runtime)
    env = {**env, **target.env,
           "LAYERSMITH_SYS_PATH": os.pathsep.join([str(dirs.task), site, f"{dirs.opt}/python", str(runtime)]),
           "LAYERSMITH_RESULT_FILE": str(dirs.out / "result.json"),
           "LAYERSMITH_READ_ONLY": os.pathsep.join(str(p) for p in (dirs.opt, dirs.task, runtime))}
    libs = (str(dirs.task), f"{dirs.task}/lib", f"{dirs.opt}/lib")
    if target.kind == "sysroot":
        # The sysroot's own libraries are its loader's defaults; the host's /lib64 must not come first.
        env["LD_LIBRARY_PATH"] = ":".join(libs)
    return [*target.python(*libs), "-I", "-S", str(BOOTSTRAP)], env


def docker_command(function: FunctionSpec, dirs: _Dirs, env: dict[str, str]) -> list[str]:
    """The same bootstrap inside the official Lambda base image of the runtime and architecture."""
    runtime = RUNTIMES[function.runtime]
    inner = {**env, "LAMBDA_TASK_ROOT": "/var/task", "LD_LIBRARY_PATH": LAMBDA_LD_LIBRARY_PATH,
             "LAYERSMITH_SYS_PATH": f"/var/task:/opt/{runtime.site_packages}:/opt/python:/var/runtime",
             "LAYERSMITH_RESULT_FILE": "/layersmith-out/result.json"}
    argv = ["docker", "run", "--rm", "-i", "--platform", DOCKER_PLATFORM[function.architecture],
            "--entrypoint", "/var/lang/bin/python3",
            "-v", f"{dirs.opt}:/opt:ro", "-v", f"{dirs.task}:/var/task:ro",
            "-v", f"{BOOTSTRAP.parent}:/layersmith:ro", "-v", f"{dirs.out}:/layersmith-out"]
    for key, value in sorted(inner.items()):
        argv += ["-e", f"{key}={value}"]
    return [*argv, f"{LAMBDA_IMAGE}:{runtime.dotted}", "-I", "-S", f"/layersmith/{BOOTSTRAP.name}"]


def _interpret(function: FunctionSpec, done: Completed, out: Path, target: Target) -> Invocation:
    logs, where = done.stdout + done.stderr, target.kind
    if done.returncode == 124:
        return Invocation(function.name, None, logs, None,
                          error=f"Task timed out after {function.timeout:.2f} seconds", where=where)
    try:
        data = json.loads((out / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tail = (done.stderr.strip().splitlines() or [""])[-1][:300]
        return Invocation(function.name, None, logs, None, where=where,
                          error=f"the handler process ended without a result (exit {done.returncode}"
                                f"{': ' + tail if tail else ''})")
    if done.returncode == 4:
        raise UserError(f"{data['errorMessage']}; fix the handler name", path=function.spec_path, key="handler")
    if "errorType" in data:
        return Invocation(function.name, None, logs, None, error=f"{data['errorType']}: {data['errorMessage']}",
                          where=where)
    return Invocation(function.name, data["result"], logs, data.get("duration_ms"), where=where)


def default_chooser(runner: Runner, work_root: Path) -> Chooser:
    """Host, then the sysroots next to the build cache `work_root` lives in, then Docker."""
    return Chooser(runner, Sysroots(sysroots_dir(work_root.parent), runner))


def invoke(function: FunctionSpec, layers: list[AttachedLayer], *, event: Any, physical_name: str, region: str,
           sandbox: Sandbox, runner: Runner, work_root: Path, chooser: Chooser | None = None,
           env_overrides: Mapping[str, str] | None = None) -> Invocation:
    check_handler_module(function)
    chooser = chooser or default_chooser(runner, work_root)
    target = chooser.choose(function.runtime, function.architecture, who=function.name)
    work_root.mkdir(parents=True, exist_ok=True)
    notes = layer_notes(layers)
    opt = layer_tree(layers, work_root / "opt")  # extracted once per combination of builds, then reused
    tmp = Path(tempfile.mkdtemp(prefix=f"invoke-{function.name}-", dir=work_root))
    try:
        dirs = _Dirs(opt, tmp / "task", tmp / "out", tmp / "runtime")
        dirs.out.mkdir()
        with zipfile.ZipFile(package_function(function, work_root / "packages").zip_path) as zf:
            zf.extractall(dirs.task)
        freeze(dirs.task)
        env = lambda_env(function, physical_name, region, str(dirs.task), str(dirs.opt), env_overrides)
        if target.kind == "docker":
            done = sandbox.run(docker_command(function, dirs, env), env=dict(os.environ), stdin=json.dumps(event),
                               timeout=function.timeout + 30)
        else:
            argv, env = _local_command(function, dirs, env, target)
            slack = EMULATED_SLACK if "QEMU_CPU" in target.env else 0
            done = sandbox.run(argv, env=env, stdin=json.dumps(event),
                               timeout=function.timeout + INIT_TIMEOUT + 1 + slack)
        result = _interpret(function, done, dirs.out, target)
        result.notes, result.on = notes, target.label
        return result
    finally:
        remove_tree(tmp)
