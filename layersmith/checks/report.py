"""`layersmith check`: what Lambda would only reject at deploy time — or never, failing at import.

Per deployed function, on the built artifacts: layer count, unzipped size (function + layers),
runtime/architecture support, file and distribution conflicts between layers and the code,
shadowing of the runtime's boto3, pins that cannot be verified offline; then the policy pack over
the stack's mocked program run.
"""

from __future__ import annotations

import ast
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from layersmith.builder.function_zip import package_function
from layersmith.builder.verify import MAX_UNZIPPED
from layersmith.errors import LayersmithError
from layersmith.local.resolve import AttachedLayer
from layersmith.model import BuildResult, FunctionSpec
from layersmith.project.stacks import MAX_LAYERS
from layersmith.runtimes.supported import RUNTIME_SDK

RUNTIME_PROVIDED = RUNTIME_SDK
SIZE_WARN_RATIO = 0.8
CODE = "function code"


@dataclass(frozen=True)
class Diagnostic:
    level: str  # "error" | "warning" | "unverified" | "note"
    function: str | None
    check: str
    message: str


@dataclass
class FunctionReport:
    name: str
    runtime: str
    architecture: str
    layers: int
    unzipped: int | None  # None when a part's size is unknown offline
    findings: list[Diagnostic] = field(default_factory=list)


UNVERIFIED_PIN = ("not checked offline; `layersmith check --online` compares the pinned version's contents "
                  "with this build in every region it names, and `pulumi preview` refuses a pin to a version "
                  "that does not exist")


def import_path(name: str) -> str | None:
    """Where a zip member lands relative to sys.path (None for metadata/manifest outside python/)."""
    if name.startswith("python/lib/"):
        parts = name.split("/", 4)
        return parts[4] if len(parts) == 5 and parts[3] == "site-packages" else None
    if name.startswith("python/"):
        return name[len("python/"):]
    return None


def _top_level(path: str) -> str:
    top = path.split("/", 1)[0]
    return top[:-3] if top.endswith(".py") else top


# Where a file sits decides its place on sys.path: /var/task, then
# /opt/python/lib/python3.X/site-packages, then /opt/python (docs/architecture.md#layer-layout-and-limits).
_TASK, _SITE, _OPT_PYTHON = 0, 1, 2


def _providers(parts: list[tuple[str, Iterable[tuple[str, int]]]]) -> dict[str, list[tuple[str, int]]]:
    """top-level module -> (part, sys.path slot) of the parts (code first, then layers in order) providing it."""
    found: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for label, paths in parts:
        slots: dict[str, int] = {}
        for path, slot in paths:
            top = _top_level(path)
            if not top.endswith(".dist-info"):
                slots[top] = min(slot, slots.get(top, slot))
        for top, slot in sorted(slots.items()):
            found[top].append((label, slot))
    return found


def _members(build: BuildResult) -> list[tuple[str, int]]:
    with zipfile.ZipFile(build.zip_path) as zf:
        return [(p, _SITE if n.startswith("python/lib/") else _OPT_PYTHON)
                for n in zf.namelist() if (p := import_path(n)) is not None]


def _winner(who: list[tuple[str, int]]) -> tuple[str, str]:
    """What `import` finds first: the earliest sys.path entry, and there the layer extracted last."""
    first = min(slot for _, slot in who)
    winner = [label for label, slot in who if slot == first][-1]
    if first == _TASK:
        return winner, "/var/task is first on sys.path"
    if len({slot for _, slot in who}) > 1:
        return winner, "/opt/python/lib/python3.X/site-packages comes before /opt/python on sys.path"
    return winner, "it is extracted last into /opt"


def conflict_findings(fn: str, code_files: list[str], layers: list[AttachedLayer]) -> list[Diagnostic]:
    built = [(a.name, _members(a.build)) for a in layers if a.build is not None]
    findings = []
    for top, who in sorted(_providers([(CODE, [(f, _TASK) for f in code_files]), *built]).items()):
        names = [label for label, _ in who]
        if top in RUNTIME_PROVIDED:
            findings.append(Diagnostic("warning", fn, "shadowing", f"{' and '.join(names)} ship {top}, shadowing the "
                                    "runtime's own copy (tested by AWS with its SDK); exclude it from the layer"))
        if len(who) > 1 and top not in ("__init__", "__pycache__"):
            winner, why = _winner(who)
            findings.append(Diagnostic("warning", fn, "conflict",
                                    f"{top} is provided by {', '.join(names)}: {winner} wins ({why})"))
    return findings


def distribution_findings(fn: str, layers: list[AttachedLayer]) -> list[Diagnostic]:
    versions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for a in layers:
        for dist in a.build.distributions if a.build else ():
            versions[dist.name].append((a.name, dist.version))
    findings = []
    for name, where in sorted(versions.items()):
        if len({v for _, v in where}) > 1:
            listed = ", ".join(f"{layer} has {v}" for layer, v in where)
            findings.append(Diagnostic("error", fn, "conflict", f"{name} at different versions ({listed}): files of "
                                    "both end up mixed in /opt; lock the same version in both layers"))
        elif len(where) > 1:
            findings.append(Diagnostic("warning", fn, "duplicate", f"{name}=={where[0][1]} ships in "
                                    f"{', '.join(layer for layer, _ in where)}; one copy is dead weight"))
    return findings


def size_findings(fn: FunctionSpec, code_bytes: int,
                  layers: list[AttachedLayer]) -> tuple[int | None, list[Diagnostic]]:
    parts = [(CODE, code_bytes)] + [(a.name, a.build.unzipped_bytes) for a in layers if a.build]
    total = sum(size for _, size in parts)
    unknown = [a.name for a in layers if a.build is None]
    findings = []
    if total > MAX_UNZIPPED * SIZE_WARN_RATIO:
        findings.append(_size_finding(fn, total, parts))
    if unknown:
        findings.append(Diagnostic("unverified", fn.name, "size", f"size of {', '.join(unknown)} (attached by ARN) is "
                                "not known offline; the total excludes it"))
    return (None if unknown else total), findings


def _size_finding(fn: FunctionSpec, total: int, parts: list[tuple[str, int]]) -> Diagnostic:
    """Near Lambda's unzipped limit (a warning) or over it (an error), with each part's share."""
    level = "error" if total > MAX_UNZIPPED else "warning"
    breakdown = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in parts)
    return Diagnostic(level, fn.name, "size", f"{total / 1e6:.1f} MB unzipped of Lambda's "
                      f"{MAX_UNZIPPED / 1e6:.1f} MB ({total / MAX_UNZIPPED:.0%}): {breakdown}")


def size_warnings(fn: FunctionSpec, layers: list[AttachedLayer], cache_root: Path) -> list[str]:
    """`check`'s size findings as the lines `plan` and `invoke` print: Lambda refuses a function whose
    code and layers exceed the limit only at deploy time, and a local run would not notice."""
    _total, findings = size_findings(fn, package_function(fn, cache_root).unzipped_bytes, layers)
    return [f"{fn.name}: {f.message}" + ("; Lambda rejects this function at deploy time: drop or slim a layer"
                                         if f.level == "error" else "")
            for f in findings if f.check == "size" and f.level in ("warning", "error")]


def handler_findings(fn: FunctionSpec) -> list[Diagnostic]:
    """The handler must resolve in the deployed code, or every invocation fails with
    Runtime.ImportModuleError / HandlerNotFound. Checked statically: nothing of the function runs."""
    module, _, attr = fn.handler.rpartition(".")
    base = fn.directory / module.replace(".", "/")
    source = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
    if not source.is_file():
        return [Diagnostic("error", fn.name, "handler", f"handler module {module!r} not found: no "
                        f"{module.replace('.', '/')}.py in functions/{fn.name}/ (function.toml: handler)")]
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    except SyntaxError as exc:
        return [Diagnostic("error", fn.name, "handler", f"{source.name} line {exc.lineno}: {exc.msg}")]
    if attr not in _top_level_names(tree):
        return [Diagnostic("error", fn.name, "handler", f"{source.name} defines no {attr!r} (function.toml: handler "
                        f"= {fn.handler!r})")]
    return []


def _top_level_names(tree: ast.Module) -> set[str]:
    """The names a module binds at its top level: what a handler string can point at."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update(a.asname or a.name.split(".")[0] for a in node.names)
        else:
            names.update(_assigned_names(node))
    return names


def _assigned_names(node: ast.stmt) -> list[str]:
    """The plain names an assignment statement binds (none for any other statement)."""
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def function_report(fn: FunctionSpec, layers: list[AttachedLayer], cache_root: Path) -> FunctionReport:
    package = package_function(fn, cache_root)
    with zipfile.ZipFile(package.zip_path) as zf:
        code_files = zf.namelist()
    total, findings = size_findings(fn, package.unzipped_bytes, layers)
    if len(layers) > MAX_LAYERS:
        findings.append(Diagnostic("error", fn.name, "layers", f"{len(layers)} layers attached; Lambda allows "
                                f"{MAX_LAYERS}"))
    for a in layers:
        if a.build and not a.build.variant.supports(fn.runtime, fn.architecture):
            findings.append(Diagnostic("error", fn.name, "compatibility", f"{a.name} ({a.build.variant.key}) does not "
                                    f"support {fn.runtime}/{fn.architecture}"))
        if a.pin != "latest":
            # Truthful about what does check it: `check --online` (contents, per region) and the
            # program's preflight (existence, in preview).
            findings.append(Diagnostic("unverified", fn.name, "pin", f"{a.name} v{a.pin}: {UNVERIFIED_PIN}"))
    findings += handler_findings(fn)
    findings += conflict_findings(fn.name, code_files, layers)
    findings += distribution_findings(fn.name, layers)
    return FunctionReport(fn.name, fn.runtime, fn.architecture, len(layers), total, findings)


def settings_findings(fn: FunctionSpec, stack_file: str) -> list[Diagnostic]:
    """What function.toml and the stack's `layersmith:functions` allow but would surprise on Lambda."""
    findings = []
    if fn.reserved_concurrency == 0:
        findings.append(Diagnostic("warning", fn.name, "concurrency", "reserved_concurrency = 0 throttles every "
                                "invocation (Lambda's off switch); raise it or remove it"))
    if fn.sqs is not None and fn.sqs.queue_arn is None:
        findings.append(Diagnostic("warning", fn.name, "event source", f"[sqs] has no queue_arn in {stack_file}, so no "
                                f"event source mapping is created; set layersmith:functions.{fn.name}.sqs.queue_arn"))
    return findings


def unbuilt_report(fn: FunctionSpec, error: LayersmithError) -> FunctionReport:
    return FunctionReport(fn.name, fn.runtime, fn.architecture, len(fn.layers), None,
                          [Diagnostic("error", fn.name, "build", error.render())])
