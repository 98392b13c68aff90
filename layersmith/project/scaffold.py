"""What `layersmith init layer|function` writes: pure, it returns the files (relative path -> text)
and never touches the disk (`layersmith.commands.init` writes them, atomically).

Everything it returns parses with `specs.load_layer` / `specs.load_function` as written, and a
function's runtime and architecture are ones every layer it names builds a variant for (the check
`stacks._check_variant` makes once a stack deploys it), so `layersmith check` passes straight away.
"""

from __future__ import annotations

import datetime as dt
import keyword
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from layersmith.errors import UserError
from layersmith.model import LayerSpec
from layersmith.project.specs import MAX_LAYERS_PER_FUNCTION, check_name
from layersmith.runtimes.supported import ARCHITECTURES, RUNTIME_SDK, RUNTIMES

DEFAULT_ARCHITECTURE = "x86_64"
# Lambda's own LayerVersion.Description limit is 256 characters; the policy pack's rule 4 wants a
# description and a license on every published layer, so both are written, as placeholders to edit.
DEFAULT_LICENSE = "Proprietary"


@dataclass(frozen=True)
class Scaffold:
    kind: str  # "layer" or "function"
    name: str
    directory: Path  # relative to the project: layers/NAME or functions/NAME
    files: dict[str, str]  # path relative to `directory` -> text
    next_steps: tuple[str, ...]


def check_new_name(name: str, kind: str) -> str:
    """The spec parsers' rule (Lambda's alphabet, 1-48 characters), plus: `discover` skips a
    directory whose name starts with '.' or '_', so such a layer or function would never be found."""
    where = f"{kind}s/{name}"
    check_name(name, Path(where))
    if name.startswith("_"):
        raise UserError(f"name {name!r} starts with '_': layersmith skips such directories under {kind}s/; "
                        "start it with a letter or digit", path=where)
    return name


def package_name(layer: str) -> str:
    """The importable package a layer's `src/` holds: the name in lower case with '-' as '_', made
    `layer_<name>` when that would not import as itself (a leading digit, a keyword, a standard
    library module or the runtime's AWS SDK, which the package would shadow on Lambda's sys.path)."""
    base = layer.lower().replace("-", "_")
    taken = base[0].isdigit() or keyword.iskeyword(base) or base in sys.stdlib_module_names \
        or base in RUNTIME_SDK
    return f"layer_{base}" if taken else base


def offered(today: dt.date) -> tuple[str, ...]:
    """The runtimes a new layer or function may use: the ones Lambda has not deprecated by `today`
    (deprecated ones can no longer be chosen for new functions), oldest first."""
    return tuple(r.name for r in sorted(RUNTIMES.values(), key=lambda r: r.version) if not r.is_deprecated(today))


def default_runtime(today: dt.date) -> str:
    """The newest one, as `sam init` defaults to its newest Python."""
    return offered(today)[-1]


def _runtimes(values: list[str], today: dt.date) -> tuple[str, ...]:
    for value in values:
        if value in RUNTIMES and RUNTIMES[value].is_deprecated(today):
            raise UserError(f"{value} is deprecated on Lambda since {RUNTIMES[value].deprecated}; use one of "
                            f"{', '.join(offered(today))}", key="--runtime")
    return _choices(values, offered(today), "runtime", "--runtime")


def _choices(values: list[str], known: tuple[str, ...], what: str, option: str) -> tuple[str, ...]:
    for value in values:
        if value not in known:
            raise UserError(f"unknown {what} {value!r}; use one of {', '.join(known)}", key=option)
    if len(set(values)) != len(values):
        raise UserError(f"lists a {what} twice", key=option)
    return tuple(values)


def _toml_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def layer_defaults(existing: Iterable[LayerSpec], today: dt.date) -> tuple[list[str], list[str]]:
    """A new layer's runtimes and architectures when none are asked for: every one the project's
    layers build for (the runtimes still offered), so any function of the project can attach it
    beside them; the newest runtime on x86_64 in a project without layers. The scaffold is
    pure-Python (portable): one variant serves them all, so listing several costs nothing."""
    specs = list(existing)
    runtimes = [r for r in offered(today) if any(r in spec.runtimes for spec in specs)]
    archs = [a for a in ARCHITECTURES if any(a in spec.architectures for spec in specs)]
    return runtimes or [default_runtime(today)], archs or [DEFAULT_ARCHITECTURE]


def layer_scaffold(name: str, today: dt.date, runtimes: list[str] | None = None,
                   architectures: list[str] | None = None, existing: Iterable[LayerSpec] = ()) -> Scaffold:
    check_new_name(name, "layer")
    default_rts, default_archs = layer_defaults(existing, today)
    rts = _runtimes(runtimes or default_rts, today)
    archs = _choices(architectures or default_archs, ARCHITECTURES, "architecture", "--arch")
    package = package_name(name)
    toml = f'''# Scaffolded by `layersmith init layer {name}`; the keys are described in the manual (layer specs).
description = "The {name} layer: say what it holds and who may use it"
license = "{DEFAULT_LICENSE}"  # an SPDX identifier (e.g. "MIT") or your organisation's terms
runtimes = {_toml_list(rts)}
architectures = {_toml_list(archs)}
# Pure-Python code: one variant serves every runtime and architecture above. Set it to false once
# requirements.in names a package with compiled code (one variant per runtime/architecture).
portable = true
source = "src"
# Third-party packages: list them in requirements.in, run `layersmith lock {name}`, then uncomment:
# requirements = "requirements.txt"
'''
    requirements = (f"# What the {name} layer installs besides src/: one requirement per line (e.g. `attrs>=23`).\n"
                    f"# `layersmith lock {name}` resolves it into requirements.txt, hashed, per runtime and "
                    "architecture.\n")
    init = (f'"""The {name} layer\'s shared code: handlers import it as `{package}` (Lambda puts the layer\'s\n'
            'python/ directory on sys.path)."""\n\n\n'
            "def greeting(name: str) -> str:\n"
            f'    return f"Hello {{name}}, from the {name} layer"\n')
    return Scaffold("layer", name, Path("layers") / name, {
        "layer.toml": toml,
        "requirements.in": requirements,
        f"src/{package}/__init__.py": init,
        f"src/{package}/py.typed": "",
    }, next_steps=(
        f"edit layers/{name}/src/{package}/ (handlers `import {package}`) and the description in layer.toml",
        f"third-party packages: add them to layers/{name}/requirements.in, run `layersmith lock {name}`, "
        "and uncomment `requirements` in layer.toml",
        f"`layersmith build {name}` builds it; a stack publishes it once a function it deploys attaches it "
        f"(`layersmith init function NAME --layers {name}`)",
    ))


def _common(layers: list[LayerSpec], attr: str, known: tuple[str, ...]) -> list[str]:
    """The values of `known` every layer lists under `attr`, in `known`'s order."""
    return [v for v in known if all(v in getattr(layer, attr) for layer in layers)]


def _fits_every_layer(layers: list[LayerSpec], value: str, attr: str, option: str) -> None:
    """`value` (a runtime or an architecture asked for) is one every layer builds a variant for."""
    for layer in layers:
        listed: tuple[str, ...] = getattr(layer, attr)
        if value not in listed:
            raise UserError(f"layer {layer.name} has no variant for {value} (its {attr}: {', '.join(listed)}); "
                            f"pick one of those or add {value} to its layer.toml", key=option)


def _function_target(layers: list[LayerSpec], today: dt.date, runtime: str | None,
                     arch: str | None) -> tuple[str, str]:
    """The runtime and architecture: the ones asked for, each checked against every layer, or by
    default the newest runtime (and x86_64, else arm64) that every layer builds a variant for."""
    if runtime is not None:
        _runtimes([runtime], today)
        _fits_every_layer(layers, runtime, "runtimes", "--runtime")
    if arch is not None:
        _choices([arch], ARCHITECTURES, "architecture", "--arch")
        _fits_every_layer(layers, arch, "architectures", "--arch")
    runtimes = _common(layers, "runtimes", offered(today))
    archs = _common(layers, "architectures", ARCHITECTURES)
    if not runtimes or not archs:
        raise UserError("the layers share no runtime and architecture: "
                        + "; ".join(f"{x.name}: {', '.join(x.runtimes)} on {', '.join(x.architectures)}"
                                    for x in layers), key="--layers")
    return runtime or runtimes[-1], arch or archs[0]


def function_scaffold(name: str, chosen: list[LayerSpec], today: dt.date, runtime: str | None = None,
                      arch: str | None = None) -> Scaffold:
    """`chosen`: the specs of the layers it attaches, in order (the command resolves the names, so an
    unknown or broken layer is refused there, with the project's list)."""
    check_new_name(name, "function")
    layer_names = [x.name for x in chosen]
    if len(set(layer_names)) != len(layer_names):
        raise UserError("lists a layer twice", key="--layers")
    if len(chosen) > MAX_LAYERS_PER_FUNCTION:
        raise UserError(f"{len(chosen)} layers; Lambda attaches at most {MAX_LAYERS_PER_FUNCTION} to a function",
                        key="--layers")
    runtime, arch = _function_target(chosen, today, runtime, arch)
    toml = f'''# Scaffolded by `layersmith init function {name}`; the keys are described in the manual (function.toml).
handler = "handler.handler"
runtime = "{runtime}"
architecture = "{arch}"
layers = {_toml_list(tuple(layer_names))}  # attach order: a later layer's files overwrite an earlier one's
memory = 128
timeout = 10
tracing = true  # X-Ray: the policy pack's observability rule asks for it

# Variables the handler reads (the policy pack then asks for a kms_key_arn that encrypts them):
# [environment]
# LOG_LEVEL = "DEBUG"
'''
    handler = (f'"""The {name} function. `layersmith invoke {name} --event sqs|s3|apigw|schedule` runs it here,\n'
               'on the layer variants it attaches."""\n\n'
               "from __future__ import annotations\n\n"
               "import logging\nimport os\nfrom typing import Any\n\n"
               "logger = logging.getLogger()\n"
               'logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))\n\n\n'
               "def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:\n"
               '    logger.info("event keys: %s", sorted(event))\n'
               '    return {"function": context.function_name, "event_keys": sorted(event)}\n')
    return Scaffold("function", name, Path("functions") / name, {"function.toml": toml, "handler.py": handler},
                    next_steps=(
                        f"`layersmith invoke {name} --event apigw` runs it here (it builds the layers it needs)",
                        f"add {name} to `layersmith:deploy` in a stack file (Pulumi.<stack>.yaml): that stack "
                        f"then publishes (or consumes) {', '.join(layer_names)}, and `layersmith check --stack "
                        "<stack>` checks it",
                        *(f"layer {x.name} names a lock: run `layersmith lock {x.name}` if it has none yet"
                          for x in chosen if x.requirements is not None and not x.requirements.is_file()),
                    ))
