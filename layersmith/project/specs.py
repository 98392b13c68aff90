"""Parse and validate `layers/<name>/layer.toml`, `functions/<name>/function.toml` and hashed locks.

Every error names the file and key and says what to do; nothing here touches the network.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from layersmith.errors import SpecError, locating
from layersmith.model import FunctionSpec, LayerSpec, Requirement
from layersmith.names import canonicalize_name
from layersmith.project import function_keys as keys
from layersmith.project.lockfile import python_versions_marker
from layersmith.project.toml_positions import decode_error, key_line
from layersmith.runtimes.supported import check_architecture, get_runtime

LAYER_KEYS = {"description", "license", "runtimes", "architectures", "requirements", "source", "portable",
              "exclude"}
FUNCTION_KEYS = {"handler", "runtime", "architecture", "layers", "memory", "timeout", "environment", "tracing",
                 "reserved_concurrency", "kms_key_arn", "code_signing_config_arn", "managed_policies", "statements",
                 "sqs"}
# Attached to every function's role by layersmith itself (infra/function.py); listing them again is refused.
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
XRAY_WRITE = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
# Lambda's LayerName / FunctionName alphabet; we keep names short enough for a prefix.
MAX_LAYERS_PER_FUNCTION = 5  # Lambda quota
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
_HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# A lock line as `layersmith lock` writes it: a PEP 508 name, `==`, a plain release (N[.N]*, an a/b/rc
# pre-release, .postN, .devN), then nothing or ` ; ` and `python_version == 'X.Y'` terms joined by `or` (a
# lock resolved for several runtimes). packaging's parser reads such a line the same way
# (tests/properties/test_lock_line_properties.py); anything else (another marker, extras, spaces inside the
# pin, a local or epoch version) goes to packaging.
_PLAIN_PIN = (r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
              r"==([0-9]+(?:\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?)")
_HANDLER_RE = re.compile(r"^[A-Za-z_][\w./]*\.[A-Za-z_]\w*$")


class Reader(Protocol):
    """How a project file's bytes are read: the seam that lets a test count (or fake) every read."""

    def read_bytes(self, path: Path) -> bytes: ...


class DiskReader:
    def read_bytes(self, path: Path) -> bytes:
        return path.read_bytes()


DISK: Reader = DiskReader()


def _read_text(path: Path, reader: Reader) -> str:
    try:
        return reader.read_bytes(path).decode("utf-8")  # as tomllib.load decodes
    except FileNotFoundError:
        raise SpecError("file not found", path=path) from None


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        what, line, column = decode_error(exc, text)
        raise SpecError(f"malformed TOML: {what}; fix the syntax there", path=path, line=line,
                        column=column) from None


def read_toml(path: Path, reader: Reader = DISK) -> dict[str, Any]:
    return _parse_toml(_read_text(path, reader), path)


def _check_keys(data: dict[str, Any], allowed: set[str], path: Path) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise SpecError(f"unknown key; the known keys are {', '.join(sorted(allowed))}", path=path,
                        key=unknown[0])


def _str(data: dict[str, Any], key: str, path: Path, *, required: bool) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise SpecError("missing; add it as a string", path=path, key=key)
        return None
    if not isinstance(value, str) or not value.strip():
        raise SpecError("must be a non-empty string", path=path, key=key)
    return value


def _str_list(data: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError("must be a list of strings", path=path, key=key)
    if not value:
        raise SpecError("must not be empty", path=path, key=key)
    if len(set(value)) != len(value):
        raise SpecError("lists a value twice", path=path, key=key)
    return tuple(value)


def _relative_path(base: Path, raw: str, path: Path, key: str, *, want_dir: bool) -> Path:
    target = (base / raw).resolve()
    if want_dir and not target.is_dir():
        raise SpecError(f"directory {raw!r} does not exist next to the spec", path=path, key=key)
    if not want_dir and not target.is_file():
        raise SpecError(f"file {raw!r} does not exist next to the spec", path=path, key=key)
    return target


def check_name(name: str, path: Path) -> str:
    if not _NAME_RE.match(name):
        raise SpecError(f"name {name!r} must be 1-48 letters, digits, '-' or '_' (Lambda's alphabet)", path=path)
    return name


def _spec_data(directory: Path, filename: str, missing: str, reader: Reader) -> tuple[Path, dict[str, Any], str]:
    path = directory / filename
    if not path.is_file():
        raise SpecError(missing, path=directory)
    text = _read_text(path, reader)
    return path, _parse_toml(text, path), text


def _bool(data: dict[str, Any], key: str, path: Path) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise SpecError("must be true or false", path=path, key=key)
    return value


def _layer_targets(data: dict[str, Any], path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`runtimes` and `architectures`, each checked against what Lambda offers."""
    runtimes = _str_list(data, "runtimes", path)
    for rt in runtimes:
        get_runtime(rt, path=str(path), key="runtimes")
    architectures = _str_list(data, "architectures", path)
    for arch in architectures:
        check_architecture(arch, path=str(path), key="architectures")
    return runtimes, architectures


def load_layer(directory: Path, reader: Reader = DISK) -> LayerSpec:
    path, data, text = _spec_data(directory, "layer.toml", f"layer directory {directory.name!r} has no "
                                  "layer.toml; add one or remove the directory", reader)
    with locating(path, lambda key: key_line(text, key)):
        return _layer(directory, path, data)


def _layer(directory: Path, path: Path, data: dict[str, Any]) -> LayerSpec:
    _check_keys(data, LAYER_KEYS, path)
    runtimes, architectures = _layer_targets(data, path)
    portable = _bool(data, "portable", path)
    requirements = _str(data, "requirements", path, required=False)
    source = _str(data, "source", path, required=False)
    if requirements is None and source is None:
        raise SpecError("the layer has nothing to put in it; set `requirements` and/or `source`", path=path)
    return LayerSpec(
        name=check_name(directory.name, path),
        directory=directory.resolve(),
        description=_str(data, "description", path, required=True) or "",
        license=_str(data, "license", path, required=False),
        runtimes=runtimes,
        architectures=architectures,
        # The lock may not exist yet: `layersmith lock` creates it from requirements.in.
        requirements=(directory / requirements).resolve() if requirements else None,
        source=_relative_path(directory, source, path, "source", want_dir=True) if source else None,
        portable=portable,
        exclude=_excluded(data, path),
    )


def _excluded(data: dict[str, Any], path: Path) -> tuple[str, ...]:
    return tuple(canonicalize_name(n) for n in _str_list(data, "exclude", path)) if "exclude" in data else ()


def discover(project: Path, kind: str) -> list[str]:
    """Names of the directories under `layers/` or `functions/`, sorted."""
    root = project / kind
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def load_layers(project: Path, names: list[str] | None = None, reader: Reader = DISK) -> dict[str, LayerSpec]:
    available = discover(project, "layers")
    wanted = names or available
    for name in wanted:
        if name not in available:
            raise SpecError(f"no layer {name!r}; the project has {', '.join(available) or 'no layers'}",
                            path=project / "layers")
    return {name: load_layer(project / "layers" / name, reader) for name in wanted}


# --- hashed locks ---------------------------------------------------------------------------------

def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations and drop comments, keeping the first physical line number."""
    out: list[tuple[int, str]] = []
    buf, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not buf:
            start = number
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            out.append((start, buf.strip()))
        buf = ""
    if buf.strip():
        out.append((start, buf.strip()))
    return out


def _lock_fail(message: str, path: Path, where: int) -> SpecError:
    return SpecError(message, path=path, line=where)  # FILE:LINE, as TOML and YAML errors


def _lock_requirement(head: str, path: Path, where: int) -> tuple[str, str, str | None]:
    """(name, its one `==` version, marker) of a lock line, or why the line is not pinned. A plain pin is
    read without packaging's requirement parser: importing it compiled ~25 patterns, 20 ms of every
    `layersmith build`, for lines a regular expression reads exactly as it does."""
    if plain := _plain_pin(head):
        return plain
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as PkgRequirement

    try:
        req = PkgRequirement(head)
    except InvalidRequirement as exc:
        raise _lock_fail(f"not a requirement ({exc})", path, where) from None
    specs = list(req.specifier)
    if req.url or len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
        raise _lock_fail(f"{req.name!r} is not pinned with '=='; every line must be `name==version "
                         "--hash=sha256:…`: add it to requirements.in and run `layersmith lock "
                         f"{path.parent.name}`", path, where)
    return req.name, specs[0].version, str(req.marker) if req.marker else None


def _plain_pin(head: str) -> tuple[str, str, str | None] | None:
    """`_lock_requirement` of a line as `layersmith lock` writes it (`_PLAIN_PIN`), None for any other."""
    pin, semicolon, written = head.partition(";")
    marker = python_versions_marker(written) if semicolon else None
    if (plain := re.fullmatch(_PLAIN_PIN, pin.strip() if semicolon else pin)) and (marker or not semicolon):
        return plain.group(1), plain.group(2), marker
    return None


def _lock_hashes(name: str, version: str, hashes: tuple[str, ...], path: Path, where: int) -> None:
    if not hashes:
        raise _lock_fail(f"{name}=={version} has no --hash: add it to requirements.in and run "
                         f"`layersmith lock {path.parent.name}`, which hashes every line", path, where)
    for h in hashes:
        if not _HASH_RE.match(h):
            raise _lock_fail(f"{name}: hash {h!r} is not sha256:<64 hex>", path, where)


def _parse_lock_line(number: int, line: str, path: Path) -> Requirement:
    if line.startswith("-"):
        raise _lock_fail(f"option {line.split()[0]!r} is not allowed in a lock; regenerate it with "
                         f"`layersmith lock {path.parent.name}`", path, number)
    parts = line.split(" --hash=")
    head, hashes = parts[0].strip(), tuple(h.strip() for h in parts[1:])
    name, version, marker = _lock_requirement(head, path, number)
    _lock_hashes(name, version, hashes, path, number)
    return Requirement(canonicalize_name(name), version, hashes, marker, number)


def parse_lock(path: Path) -> tuple[Requirement, ...]:
    """Refuse any unpinned or unhashed line before anything is downloaded."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"lock file missing; run `layersmith lock {path.parent.name}` to create it from "
                        "requirements.in", path=path) from None
    except OSError as exc:
        raise SpecError(f"cannot read lock ({exc.strerror})", path=path) from None
    reqs = tuple(_parse_lock_line(n, line, path) for n, line in _logical_lines(text))
    return reqs


# --- functions ------------------------------------------------------------------------------------

def _positive_int(data: dict[str, Any], key: str, path: Path, default: int, upper: int, lower: int = 1) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lower <= value <= upper:
        raise SpecError(f"must be an integer from {lower} to {upper}", path=path, key=key)
    return value


def _handler(data: dict[str, Any], path: Path) -> str:
    handler = _str(data, "handler", path, required=True) or ""
    if not _HANDLER_RE.match(handler):
        raise SpecError("must look like 'module.function' (e.g. 'handler.handler')", path=path, key="handler")
    return handler


def _function_layers(data: dict[str, Any], path: Path) -> tuple[str, ...]:
    layers = data.get("layers", [])
    if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
        raise SpecError("must be a list of layer names", path=path, key="layers")
    if len(set(layers)) != len(layers):
        raise SpecError("lists a layer twice", path=path, key="layers")
    if len(layers) > MAX_LAYERS_PER_FUNCTION:
        raise SpecError(f"{len(layers)} layers; Lambda attaches at most {MAX_LAYERS_PER_FUNCTION} to a function: "
                        "merge layers or drop one", path=path, key="layers")
    return tuple(layers)


def _environment(data: dict[str, Any], path: Path) -> tuple[tuple[str, str], ...]:
    env = data.get("environment", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise SpecError("must be a table of strings", path=path, key="environment")
    return tuple(sorted(env.items()))


def load_function(directory: Path, reader: Reader = DISK) -> FunctionSpec:
    path, data, text = _spec_data(directory, "function.toml", f"function directory {directory.name!r} has no "
                                  "function.toml", reader)
    with locating(path, lambda key: key_line(text, key)):
        return _function(directory, path, data)


def _function(directory: Path, path: Path, data: dict[str, Any]) -> FunctionSpec:
    _check_keys(data, FUNCTION_KEYS, path)
    handler = _handler(data, path)
    runtime = _str(data, "runtime", path, required=True) or ""
    get_runtime(runtime, path=str(path), key="runtime")
    arch = check_architecture(str(data.get("architecture", "x86_64")), path=str(path), key="architecture")
    layers = _function_layers(data, path)
    environment = _environment(data, path)
    tracing = _bool(data, "tracing", path)
    return _with_access_keys(data, path, FunctionSpec(
        name=check_name(directory.name, path),
        directory=directory.resolve(),
        handler=handler,
        runtime=runtime,
        architecture=arch,
        layers=layers,
        memory=_positive_int(data, "memory", path, 128, 10240, lower=128),
        timeout=_positive_int(data, "timeout", path, 3, 900),
        environment=environment,
        tracing=tracing,
    ))


def _with_access_keys(data: dict[str, Any], path: Path, spec: FunctionSpec) -> FunctionSpec:
    """Concurrency, encryption, signing, permissions and event sources (function_keys.py)."""
    def fail(key: str, message: str) -> SpecError:
        return SpecError(message, path=path, key=key)

    def optional(key: str, parse: Any) -> Any:
        return parse(data[key], fail) if key in data else None

    return replace(
        spec,
        reserved_concurrency=optional("reserved_concurrency", keys.reserved_concurrency),
        kms_key_arn=optional("kms_key_arn", keys.kms_key_arn),
        code_signing_config_arn=optional("code_signing_config_arn", keys.code_signing_config_arn),
        managed_policies=keys.managed_policies(data.get("managed_policies", []), fail,
                                               (BASIC_EXECUTION, XRAY_WRITE)),
        statements=optional("statements", keys.statements) or (),
        sqs=optional("sqs", keys.sqs_source),
    )


def load_functions(project: Path, names: list[str] | None = None,
                   reader: Reader = DISK) -> dict[str, FunctionSpec]:
    available = discover(project, "functions")
    wanted = available if names is None else names
    for name in wanted:
        if name not in available:
            raise SpecError(f"no function {name!r}; the project has {', '.join(available) or 'none'}",
                            path=project / "functions")
    return {name: load_function(project / "functions" / name, reader) for name in wanted}
