"""Stack config (`Pulumi.<stack>.yaml`, namespace `layersmith`) -> a validated `StackConfig`.

Read once, at the edge: by the CLI straight from the YAML file, by the Pulumi program from the
engine's config map. Both feed `parse_stack_config`, which fails before any resource is
registered, naming the stack file and key (a typo must never silently do nothing).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from layersmith.arns import parse_layer_arn
from layersmith.errors import ConfigError, UserError
from layersmith.model import Consume, FunctionSpec, LayerSpec, Pin, ShareWith, StackConfig
from layersmith.project.naming import MAX_FUNCTION_NAME, MAX_LAYER_NAME, default_prefix, function_name, layer_name
from layersmith.project.overrides import parse_overrides
from layersmith.project.specs import DISK, MAX_LAYERS_PER_FUNCTION, Reader
from layersmith.project.stack_lines import config_key_lines, located
from layersmith.project.yaml_load import load_yaml, load_yaml_document
from layersmith.regions import region_problem

NAMESPACE = "layersmith"
KEYS = ("publish", "deploy", "shareWith", "retainVersions", "pins", "requirePins", "consume", "namePrefix",
        "artifactBucket", "logRetentionDays", "builder", "imageTag", "regions", "functions")
STRING_KEYS = {"namePrefix", "artifactBucket", "builder", "imageTag"}
MAX_LAYERS = MAX_LAYERS_PER_FUNCTION
_ACCOUNT = re.compile(r"^\d{12}$")
_ORG = re.compile(r"^o-[a-z0-9]{10,32}$")
_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# A region name as AWS spells them (eu-west-1, us-gov-west-1, ap-southeast-5, cn-north-1, …).
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_STACK_REF = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# CloudWatch Logs accepts only these retention periods (days).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                  2922, 3288, 3653)
BUILDERS = ("host", "docker", "auto")
def project_name(project: Path, reader: Reader = DISK) -> str:
    path = project / "Pulumi.yaml"
    try:
        data = load_yaml(reader.read_bytes(path).decode("utf-8"), path)
    except FileNotFoundError:
        raise UserError("not a layersmith project (no Pulumi.yaml); pass --project DIR", path=path) from None
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str):
        raise ConfigError("missing; set the project name", path=path, key="name")
    return name


def committed_stacks(project: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project.glob("Pulumi.*.yaml"))


def require_stack(project: Path, stack: str | None, command: str) -> str:
    """`--stack`'s value; without one, a UserError that lists the committed stacks to choose from
    (argparse's "required: --stack" named none of them)."""
    if stack:
        return stack
    known = committed_stacks(project)
    if not known:
        raise UserError("which stack? the project has no Pulumi.<stack>.yaml yet: create one with a `config:` map "
                        "setting aws:region and layersmith:publish", key="--stack")
    example = "dev" if "dev" in known else known[0]
    raise UserError(f"which stack? committed stacks: {', '.join(known)} (e.g. `layersmith {command} --stack "
                    f"{example}`)", key="--stack")


def stack_file(project: Path, stack: str) -> Path:
    return project / f"Pulumi.{stack}.yaml"


def read_stack_file(project: Path, stack: str, reader: Reader = DISK) -> dict[str, Any]:
    """The `config:` map of `Pulumi.<stack>.yaml`, values as YAML typed them."""
    return read_stack_document(project, stack, reader)[0]


def read_stack_document(project: Path, stack: str, reader: Reader = DISK) -> tuple[dict[str, Any], dict[str, int]]:
    """The `config:` map of `Pulumi.<stack>.yaml` and the line of each of its keys (stack_lines.py)."""
    path = stack_file(project, stack)
    if not path.is_file():
        known = ", ".join(committed_stacks(project))
        # A new project has none: say what the file holds rather than list nothing.
        todo = (f"committed stacks: {known}" if known else "the project has none yet: create it with a `config:` "
                "map setting aws:region and layersmith:publish (the layers it publishes)")
        raise UserError(f"no such stack file; {todo}", path=path)
    data, node = load_yaml_document(reader.read_bytes(path).decode("utf-8"), path)  # syntax: one line, its place
    lines = config_key_lines(node)
    with located(path.name, lines):
        _check_plain_scalars(node, path)
        config = _config_map(data or {}, path)
        _check_config_keys(config, path)
    return config, lines


def _config_map(data: Any, path: Path) -> dict[str, Any]:
    config = data.get("config", {}) if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise ConfigError("must be a map of key: value", path=path, key="config")
    return config


def _check_config_keys(config: dict[str, Any], path: Path) -> None:
    for key in config:
        if ":" not in str(key):
            # Pulumi refuses a key without a namespace; offline it must not be silently ignored.
            raise ConfigError(f"configuration keys are `namespace:name`; write it as {NAMESPACE}:{key}",
                              path=path.name, key=str(key))
        if str(key).startswith(f"{NAMESPACE}:") and _has_secret(config[key]):
            raise secret_error(path.name, str(key))


def _has_secret(value: Any) -> bool:
    """A `{secure: <ciphertext>}` anywhere in the value: how Pulumi writes a secret in a stack file."""
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return False


def secret_error(path: str, key: str) -> ConfigError:
    """layersmith's keys are names, account IDs and pins, read by other stacks and by offline tools
    that cannot decrypt: a secret there would be silently unreadable, so it is refused."""
    return ConfigError("is a secret (secure:), and layersmith keys cannot be secrets; set it in plain "
                       f"text: pulumi config set {key} <value> (without --secret)", path=path, key=key)


def check_no_secrets(secret_keys: list[str] | set[str], path: str) -> None:
    """The engine passes secrets decrypted and lists their keys apart: refuse any of ours."""
    for key in sorted(secret_keys):
        if key.startswith(f"{NAMESPACE}:"):
            raise secret_error(path, key.split(".", 1)[0] if "." in key else key)


_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}


def _check_plain_scalars(node: yaml.Node | None, path: Path, where: str = "") -> None:
    """Catch what PyYAML (YAML 1.1) and Pulumi (YAML 1.2) read differently, by how it is *written*:
    an unquoted account ID (a number to Pulumi: leading zeros dropped, or octal) and yes/no/on/off
    (booleans here, strings to Pulumi)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _check_plain_scalars(value, path, f"{where}.{key.value}" if where else str(key.value))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_plain_scalars(item, path, where)
    elif isinstance(node, yaml.ScalarNode) and node.style is None:
        _check_plain_scalar(node.value, path, where.removeprefix("config."))


def _check_plain_scalar(value: str, path: Path, key: str) -> None:
    if key.endswith("shareWith.accounts") and value.isdigit():
        raise ConfigError(f"account ID {value} is unquoted: YAML reads it as a number (dropping "
                          f"leading zeros, or as octal); quote it: \"{value}\"", path=path.name, key=key)
    if value.lower() in _YAML11_BOOLS:
        raise ConfigError(f"{value!r} is not a boolean to Pulumi; write true or false", path=path.name, key=key)


def decode_engine_config(config: dict[str, str]) -> dict[str, Any]:
    """The engine passes every value as a string (objects JSON-encoded); undo that per key."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        short = key.split(":", 1)[1] if ":" in key else key
        if key.startswith(f"{NAMESPACE}:") and short not in STRING_KEYS:
            try:
                out[key] = json.loads(value)
            except (TypeError, ValueError):
                out[key] = value
        else:
            out[key] = value
    return out


class _StackFile:
    """The stack file being read: every error made through it names the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, path=self.path.name, key=f"{NAMESPACE}:{key}")


def _names(where: _StackFile, raw: Any, key: str, known: list[str], kind: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise where.fail(key, f"must be a list of {kind} names")
    for name in raw:
        if name not in known:
            raise where.fail(key, f"unknown {kind} {name!r}; the project has {', '.join(known) or 'none'}")
    return tuple(raw)


def _bool(where: _StackFile, raw: Any, key: str, default: bool) -> bool:
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise where.fail(key, "must be true or false")


def _accounts(where: _StackFile, raw: Any) -> tuple[str, ...]:
    key = "shareWith.accounts"
    if not isinstance(raw, list):
        raise where.fail(key, "must be a list of 12-digit account IDs (as quoted strings)")
    for value in raw:
        if value == "*":  # checked before the 12-digit rule, which would otherwise hide this advice
            raise where.fail(key, "'*' shares with every AWS account; set shareWith.public: true instead if "
                                "that is really meant")
        if isinstance(value, int) and not isinstance(value, bool):
            # Rebuild the ID only when it has all 12 digits: YAML also reads a leading 0 as octal.
            example = f"\"{value}\"" if 10**11 <= value < 10**12 else "\"012345678901\""
            raise where.fail(key, f"account ID {value} is a number; YAML drops leading zeros (and reads a leading "
                                f"0 as octal), so quote the 12 digits as a string, e.g. {example}")
        if not isinstance(value, str) or not _ACCOUNT.match(value):
            raise where.fail(key, f"{value!r} is not a 12-digit AWS account ID")
    return tuple(raw)


def _share_with(where: _StackFile, raw: Any) -> ShareWith:
    if raw is None:
        return ShareWith()
    if not isinstance(raw, dict):
        raise where.fail("shareWith", "must be an object with accounts, organizations, public")
    unknown = set(raw) - {"accounts", "organizations", "public"}
    if unknown:
        raise where.fail(f"shareWith.{sorted(unknown)[0]}", "unknown key; use accounts, organizations, public")
    public = _bool(where, raw.get("public"), "shareWith.public", False)
    accounts = _accounts(where, raw.get("accounts", []))
    orgs = raw.get("organizations", [])
    if not isinstance(orgs, list):
        raise where.fail("shareWith.organizations", "must be a list of organization IDs (o-…)")
    for org in orgs:
        if org == "*":
            raise where.fail("shareWith.organizations", "'*' is not an organization; use shareWith.public: true "
                                                      "to share publicly")
        if not isinstance(org, str) or not _ORG.match(org):
            raise where.fail("shareWith.organizations", f"{org!r} is not an organization ID "
                                                      "(o- followed by 10-32 lowercase letters or digits)")
    return ShareWith(accounts, tuple(orgs), public)


def _retention(where: _StackFile, raw: Any) -> int:
    if raw is None:
        return 30
    try:
        days = int(raw)
    except (TypeError, ValueError):
        days = -1
    # int() would truncate 30.5 to 30 and accept it: a typo must not silently become another value.
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()) or days not in RETENTION_DAYS:
        raise where.fail("logRetentionDays", f"must be one of CloudWatch's periods: "
                                           f"{', '.join(map(str, RETENTION_DAYS))}")
    return days


def _string(where: _StackFile, raw: Any, key: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise where.fail(key, "must be a non-empty string")
    return raw


def _consume(where: _StackFile, raw: Any, region: str) -> Consume:
    if raw is None:
        return Consume()
    if not isinstance(raw, dict) or set(raw) - {"stack", "arns"}:
        raise where.fail("consume", "must be an object with `stack` (org/project/stack) and/or `arns`")
    stack = raw.get("stack")
    if stack is not None and (not isinstance(stack, str) or not _STACK_REF.match(stack)):
        raise where.fail("consume.stack", f"{stack!r} must be a stack reference `org/project/stack`")
    arns = raw.get("arns", {})
    if not isinstance(arns, dict):
        raise where.fail("consume.arns", "must map layer names to unversioned layer ARNs")
    for name, arn in arns.items():
        _consumed_arn(where, f"consume.arns.{name}", arn, region)
    return Consume(stack, tuple(sorted(arns.items())))


def _consumed_arn(where: _StackFile, key: str, arn: Any, region: str) -> None:
    parsed = parse_layer_arn(arn) if isinstance(arn, str) else None
    if parsed is None:
        raise where.fail(key, f"{arn!r} is not a layer ARN (arn:aws:lambda:<region>:<account>:layer:<name>)")
    _known_region(where, key, parsed.region)
    if parsed.version is not None:
        raise where.fail(key, "is versioned; give the ARN without ':<version>' and pin the version in "
                            "layersmith:pins")
    if parsed.region != region:
        raise where.fail(key, f"is in {parsed.region} but this stack deploys to {region}; Lambda attaches "
                            "only layers of the function's own region")


def _regions(where: _StackFile, raw: Any, region: str) -> tuple[str, ...]:
    """`layersmith:regions`: where the stack publishes and grants (default: `aws:region` only)."""
    if raw is None:
        return (region,)
    if not isinstance(raw, list) or not raw or not all(isinstance(r, str) for r in raw):
        raise where.fail("regions", f"must be a non-empty list of region names, e.g. [{region}, us-east-1]")
    for name in raw:
        _known_region(where, "regions", name)
    if len(set(raw)) != len(raw):
        raise where.fail("regions", "lists a region twice")
    return tuple(raw)


def _is_version(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _pin_value(where: _StackFile, key: str, value: Any, region: str) -> Pin:
    """A version in the function's region: `7`, `latest`, or `{eu-west-1: 7, us-east-1: 3}` (version
    numbers differ between regions: the qualified form says which region a number belongs to, so a
    stack copied into another region fails here instead of attaching whatever has that number)."""
    if value == "latest" or _is_version(value):
        return "latest" if value == "latest" else int(value)
    if isinstance(value, dict) and value:
        return _regional_pin(where, key, value, region)
    raise where.fail(key, f"{value!r} must be a positive integer version, \"latest\", or {{<region>: <version>}}")


def _regional_pin(where: _StackFile, key: str, value: dict[Any, Any], region: str) -> int:
    for name, version in value.items():
        if not isinstance(name, str) or not _REGION.match(name):
            raise where.fail(f"{key}.{name}", "is not an AWS region name; write {<region>: <version>, …}")
        if not _is_version(version):
            raise where.fail(f"{key}.{name}", f"{version!r} must be a positive integer version")
    if region not in value:
        raise where.fail(key, f"no version for {region}, the region this function deploys to "
                            f"(it names {', '.join(sorted(value))}); add {region}: <version>")
    return int(value[region])


def _pins(where: _StackFile, raw: Any, functions: dict[str, FunctionSpec],
          deploy: tuple[str, ...], region: str) -> tuple[tuple[str, tuple[tuple[str, Pin], ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise where.fail("pins", "must map function names to {layer: version}")
    out = []
    for fn, layer_pins in sorted(raw.items()):
        if fn not in functions:
            raise where.fail(f"pins.{fn}", f"unknown function; the project has {', '.join(functions)}")
        if fn not in deploy:
            raise where.fail(f"pins.{fn}", "this stack does not deploy that function (layersmith:deploy)")
        if not isinstance(layer_pins, dict):
            raise where.fail(f"pins.{fn}", "must map layer names to a version or \"latest\"")
        pins = []
        for layer, value in sorted(layer_pins.items()):
            if layer not in functions[fn].layers:
                raise where.fail(f"pins.{fn}.{layer}", f"{fn} does not attach {layer!r} (it attaches "
                                                     f"{', '.join(functions[fn].layers) or 'no layers'})")
            pins.append((layer, _pin_value(where, f"pins.{fn}.{layer}", value, region)))
        out.append((fn, tuple(pins)))
    return tuple(out)


def _regional_pins(raw: Any) -> tuple[tuple[str, str, str, int], ...]:
    """Every `{region: version}` pin as (function, layer, region, version); `_pins` validated `raw`."""
    return tuple(sorted((str(fn), str(layer), str(region), int(version))
                        for fn, layer_pins in (raw or {}).items() for layer, value in layer_pins.items()
                        if isinstance(value, dict) for region, version in value.items()))


def layer_source(cfg: StackConfig, layer: str) -> str | None:
    """Where a function's layer comes from in this stack: publish, arn, stack, or None."""
    if layer in cfg.publish:
        return "publish"
    if layer in dict(cfg.consume.arns):
        return "arn"
    if cfg.consume.stack:
        return "stack"
    return None


def _check_functions(where: _StackFile, cfg: StackConfig, functions: dict[str, FunctionSpec],
                     layers: dict[str, LayerSpec]) -> None:
    for name in cfg.deploy:
        fn = functions[name]
        if len(fn.layers) > MAX_LAYERS:
            raise where.fail("deploy", f"function {name} attaches {len(fn.layers)} layers; Lambda allows at most "
                                     f"{MAX_LAYERS} ({fn.spec_path.name})")
        for layer in fn.layers:
            source = _check_source(where, cfg, fn, layer, layers)
            _check_variant(where, fn, layer, None if source == "arn" else layers.get(layer))
            _check_pin(where, cfg, fn.name, layer, source)


def _check_source(where: _StackFile, cfg: StackConfig, fn: FunctionSpec, layer: str,
                  layers: dict[str, LayerSpec]) -> str:
    """Where the stack takes `layer` from, for `fn`, in `fn`'s region."""
    name, source = fn.name, layer_source(cfg, layer)
    if source is None:
        raise where.fail("deploy", f"function {name} attaches {layer!r}, which this stack neither "
                                 "publishes (layersmith:publish) nor consumes (layersmith:consume)")
    if source == "publish" and cfg.region not in cfg.publish_regions:
        raise where.fail("regions", f"function {name} attaches {layer!r} in {cfg.region} (aws:region), "
                                  f"where this stack does not publish; add {cfg.region} to layersmith:regions")
    if source == "stack" and layer not in layers:
        raise where.fail("consume.stack", f"{layer!r} (attached by {name}) is not a layer of this project; "
                                        "consume it through layersmith:consume.arns")
    return source


def _check_variant(where: _StackFile, fn: FunctionSpec, layer: str, spec: LayerSpec | None) -> None:
    if spec is not None and not (fn.runtime in spec.runtimes and fn.architecture in spec.architectures):
        raise where.fail("deploy", f"function {fn.name} ({fn.runtime}, {fn.architecture}) attaches {layer!r}, "
                                 f"whose variants support only {', '.join(spec.runtimes)} on "
                                 f"{', '.join(spec.architectures)}")


def _check_pin(where: _StackFile, cfg: StackConfig, name: str, layer: str, source: str) -> None:
    pin = cfg.pin_for(name, layer)
    if cfg.require_pins and pin == "latest":
        raise where.fail(f"pins.{name}.{layer}", "must be an integer version: this stack sets "
                                               "layersmith:requirePins")
    if source == "arn" and pin == "latest":
        raise where.fail(f"pins.{name}.{layer}", "a layer consumed by ARN needs an integer pin (its "
                                               "latest version is not known to this stack)")


def _check_names(where: _StackFile, cfg: StackConfig, layers: dict[str, LayerSpec],
                 functions: dict[str, FunctionSpec]) -> None:
    """Lambda rejects long names only at deploy time: FunctionName <= 64, LayerName <= 140."""
    from layersmith.model import expand_variants

    for name in cfg.deploy:
        physical = function_name(cfg.name_prefix, name)
        if len(physical) > MAX_FUNCTION_NAME:
            raise where.fail("namePrefix", f"function name {physical!r} is {len(physical)} characters; Lambda allows "
                                         f"{MAX_FUNCTION_NAME}: shorten the prefix or rename the function")
    for name in cfg.publish:
        for variant in expand_variants(layers[name]):
            physical = layer_name(cfg.name_prefix, name, variant)
            if len(physical) > MAX_LAYER_NAME:
                raise where.fail("namePrefix", f"layer name {physical!r} is over Lambda's {MAX_LAYER_NAME} "
                                             "characters; shorten the prefix")


def parse_stack_config(raw: dict[str, Any], *, project: str, stack: str, path: Path,
                       layers: dict[str, LayerSpec], functions: dict[str, FunctionSpec]) -> StackConfig:
    """Validate every `layersmith:` key of one stack; raises ConfigError naming file and key."""
    where = _StackFile(path)
    ours = _our_keys(where, raw)
    region = _region(raw, path)
    _check_pin_regions(where, ours.get("pins"))
    publish = _names(where, ours.get("publish", list(layers)), "publish", list(layers), "layer")
    deploy = _names(where, ours.get("deploy", list(functions)), "deploy", list(functions), "function")
    consume = _consume(where, ours.get("consume"), region)
    for name, _ in consume.arns:
        if name in publish:
            raise where.fail(f"consume.arns.{name}", "this stack also publishes that layer; drop it from "
                                                   "layersmith:publish or from layersmith:consume")
    prefix, builder = _prefix(where, ours, project, stack), _builder(where, ours)
    cfg = StackConfig(
        project=project, stack=stack, path=path, region=region, publish=publish, deploy=deploy,
        share_with=_share_with(where, ours.get("shareWith")),
        retain_versions=_bool(where, ours.get("retainVersions"), "retainVersions", True),
        pins=_pins(where, ours.get("pins"), functions, deploy, region),
        regional_pins=_regional_pins(ours.get("pins")),
        require_pins=_bool(where, ours.get("requirePins"), "requirePins", False),
        consume=consume, name_prefix=prefix,
        artifact_bucket=_string(where, ours.get("artifactBucket"), "artifactBucket"),
        log_retention_days=_retention(where, ours.get("logRetentionDays")), builder=builder,
        image_tag=_string(where, ours.get("imageTag"), "imageTag"),
        regions=_regions(where, ours.get("regions"), region),
        overrides=parse_overrides(ours.get("functions"), path=path, namespace=NAMESPACE, region=region,
                                  deploy=deploy, functions=functions))
    _check_names(where, cfg, layers, functions)
    _check_functions(where, cfg, functions, layers)
    return cfg


def _our_keys(where: _StackFile, raw: dict[str, Any]) -> dict[str, Any]:
    """The `layersmith:` keys without their namespace; an unknown one is refused."""
    ours = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(f"{NAMESPACE}:")}
    for key in ours:
        if key not in KEYS:
            raise where.fail(key, f"unknown key; the known keys are {', '.join(KEYS)}")
    return ours


def _region(raw: dict[str, Any], path: Path) -> str:
    region = raw.get("aws:region")
    if not isinstance(region, str) or not region:
        raise ConfigError("missing; set the AWS region (pulumi config set aws:region eu-west-1)",
                          path=path.name, key="aws:region")
    problem = region_problem(region)
    if problem is not None:
        raise ConfigError(problem, path=path.name, key="aws:region")
    return region


def _known_region(where: _StackFile, key: str, region: str) -> None:
    """Every region a stack file names goes through `layersmith.regions` (botocore's data)."""
    problem = region_problem(region)
    if problem is not None:
        raise where.fail(key, problem)


def _check_pin_regions(where: _StackFile, raw: Any) -> None:
    """The region keys of qualified pins (`{eu-west-1: 7}`), before the pins are parsed: a typo'd
    region would otherwise be a version for nowhere."""
    for fn, layer_pins in (raw.items() if isinstance(raw, dict) else ()):
        for layer, value in (layer_pins.items() if isinstance(layer_pins, dict) else ()):
            for name in (value if isinstance(value, dict) else ()):
                if isinstance(name, str):
                    _known_region(where, f"pins.{fn}.{layer}.{name}", name)


def _prefix(where: _StackFile, ours: dict[str, Any], project: str, stack: str) -> str:
    prefix = _string(where, ours.get("namePrefix"), "namePrefix") or default_prefix(project, stack)
    if not _PREFIX.match(prefix):
        raise where.fail("namePrefix", "must be 1-40 letters, digits, '-' or '_'")
    return prefix


def _builder(where: _StackFile, ours: dict[str, Any]) -> str:
    builder = _string(where, ours.get("builder"), "builder") or "host"
    if builder not in BUILDERS:
        raise where.fail("builder", f"must be one of {', '.join(BUILDERS)}")
    return builder
