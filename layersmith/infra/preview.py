"""`layersmith plan`: the real program (`__main__.py`) under Pulumi's mocks — no cloud, no CLI.

Pitfalls handled (docs/architecture.md#running-the-program-under-mocks): `preview=False` (with True,
applies on unknowns never run and the plan would be vacuous); computed outputs (arn, layerArn,
version) are returned from `new_resource`; the root stack is reset between runs; the whole program
runs inside one `pulumi.runtime.test` function and results are read after it returns.
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layersmith.errors import LayersmithError, SpecError, UserError
from layersmith.model import StackConfig
from layersmith.pins.preflight import OFFLINE_NOTE
from layersmith.project.checkout import Project

MOCK_ACCOUNT = "123456789012"  # marked "(mocked)" wherever shown
GRANTS_TYPE = "pulumi-python:dynamic/layersmith:LayerGrants"
PROVIDER_KEY = "__provider"
Answer = Callable[[str, dict[str, Any]], dict[str, Any] | None]
_SKIP_TYPES = {"pulumi:pulumi:Stack", "pulumi:providers:aws"}


@dataclass
class _Recorder:
    region: str
    next_versions: dict[str, int]  # physical layer name -> mocked next version
    remote_layers: dict[str, Any]
    resources: list[dict[str, Any]] = field(default_factory=list)
    # (region, physical name) -> the version `pulumi up` would leave (plan --online: read from AWS)
    region_versions: dict[tuple[str, str], int] = field(default_factory=dict)
    # dynamic resources' serialized providers (`__provider`), by resource name: kept out of the plan,
    # kept for the tests that load them in the engine's own dynamic-provider host
    providers: dict[str, str] = field(default_factory=dict)

    def outputs_for(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        out = dict(inputs)
        # pulumi-aws 7's per-resource `region` wins over the provider's
        region = inputs.get("region") if isinstance(inputs.get("region"), str) else self.region
        if typ == GRANTS_TYPE and isinstance(inputs.get("version"), int | float):
            return f"{inputs['layerArn']}:{int(inputs['version'])}", out  # the provider's own ID
        out.update(self._computed(typ, name, inputs, str(region)))
        return f"{name}-id", out

    def _computed(self, typ: str, name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
        """The outputs AWS would compute for one resource type (none for the others)."""
        arn_base = f"arn:aws:lambda:{region}:{MOCK_ACCOUNT}"
        if typ == "aws:lambda/layerVersion:LayerVersion":
            layer = inputs["layerName"]
            version = self.region_versions.get((region, str(layer))) or self.next_versions.get(layer, 1)
            return {"layerArn": f"{arn_base}:layer:{layer}", "version": str(version),
                    "arn": f"{arn_base}:layer:{layer}:{version}"}
        if typ == "aws:lambda/function:Function":
            return {"arn": f"{arn_base}:function:{inputs['name']}", "version": "$LATEST",
                    "qualifiedArn": f"{arn_base}:function:{inputs['name']}:$LATEST"}
        simple: dict[str, dict[str, Any]] = {
            "aws:iam/role:Role": {"name": f"{name}-mock", "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:role/{name}-mock"},
            "aws:cloudwatch/logGroup:LogGroup": {
                "arn": f"arn:aws:logs:{self.region}:{MOCK_ACCOUNT}:log-group:{inputs.get('name')}"},
            "aws:s3/bucket:Bucket": {"bucket": f"{name}-mock", "arn": f"arn:aws:s3:::{name}-mock"},
            "pulumi:pulumi:StackReference": {"outputs": {"layers": self.remote_layers}},
        }
        return simple.get(typ, {})


def _mock_remote_layers(project: Project, region: str, stack_ref: str | None) -> dict[str, Any]:
    """What a referenced stack of this program would export: its project's layers at a plausible
    version (one above the highest pin that stack's file holds), in the regions that stack publishes
    to. A referenced stack not committed here is modelled in this stack's region (the only thing
    offline can assume); a committed one in its own `layersmith:regions`, never invented ones."""
    if not stack_ref:
        return {}
    from layersmith.model import expand_variants
    from layersmith.project.naming import default_prefix, layer_name

    remote_stack = stack_ref.rsplit("/", 1)[-1]
    remote = _committed(project, remote_stack)
    prefix = remote.name_prefix if remote else default_prefix(project.name, remote_stack)
    regions = remote.publish_regions if remote else (region,)
    pins = _highest_pins(remote) if remote else {}
    out: dict[str, Any] = {}
    for name, spec in project.layers.items():
        version = pins.get(name, 0) + 1
        out[name] = []
        for variant in expand_variants(spec):
            per_region = {}
            for where in regions:
                base = f"arn:aws:lambda:{where}:{MOCK_ACCOUNT}:layer:{layer_name(prefix, name, variant)}"
                per_region[where] = {"layerArn": base, "version": version, "arn": f"{base}:{version}"}
            out[name].append({**per_region[regions[0]], "regions": per_region, "runtimes": list(variant.runtimes),
                              "architectures": list(variant.architectures), "sha256": "(mocked)"})
    return out


def _highest_pins(stack: StackConfig) -> dict[str, int]:
    """Per layer, the highest integer version the stack's functions pin."""
    pins: dict[str, int] = {}
    for _fn, layer_pins in stack.pins:
        for layer, pin in layer_pins:
            if isinstance(pin, int):
                pins[layer] = max(pins.get(layer, 0), pin)
    return pins


def _committed(project: Project, stack: str) -> StackConfig | None:
    """A referenced stack's committed config; None when not committed here, or when a spec it uses
    is broken (that breaks the referenced stack, not this one: it is modelled as uncommitted)."""
    if not project.stack_file(stack).is_file():
        return None
    try:
        return project.stack_config(stack)
    except SpecError:
        return None


def _engine_config(raw: dict[str, Any]) -> dict[str, str]:
    """What the engine would pass: every value a string, objects and lists JSON-encoded."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def _next_versions(project: Project, cfg: StackConfig) -> dict[str, int]:
    from layersmith.model import expand_variants
    from layersmith.project.naming import layer_name

    specs = project.layer_specs(list(cfg.publish)) if cfg.publish else {}
    out: dict[str, int] = {}
    for name, spec in specs.items():
        pins = [p for fn in cfg.deploy if isinstance(p := cfg.pin_for(fn, name), int)]
        for variant in expand_variants(spec):
            out[layer_name(cfg.name_prefix, name, variant)] = max(pins, default=0) + 1
    return out


def _json_friendly(value: Any, project: Path) -> Any:
    """Make inputs JSON- and golden-friendly: assets/archives become their project-relative path."""
    raw_path = getattr(value, "path", None)  # FileArchive / FileAsset
    if isinstance(raw_path, str):
        path = Path(raw_path)
        shown = path.relative_to(project) if path.is_relative_to(project) else Path("<cache>") / path.name
        return {"archive": shown.as_posix()}
    if isinstance(value, dict):
        return {k: _json_friendly(v, project) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_json_friendly(v, project) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # mocks hand numbers over as floats
    return value


def _mocks(rec: _Recorder, region: str, answer: Answer | None) -> Any:
    """Pulumi mocks that record every resource and answer the data sources the program calls."""
    import pulumi

    class _Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            inputs = dict(args.inputs)
            if PROVIDER_KEY in inputs:
                rec.providers[args.name] = str(inputs.pop(PROVIDER_KEY))
            if args.typ not in _SKIP_TYPES:
                rec.resources.append({"type": args.typ, "name": args.name, "inputs": inputs})
            return rec.outputs_for(args.typ, args.name, inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            # The monitor iterates the failures: always a list, never None.
            if answer is not None:
                try:
                    answered = answer(args.token, dict(args.args))
                except Exception as exc:  # as the engine reports a failing data source: to its caller
                    return {}, [("", str(exc))]
                if answered is not None:
                    return answered, []
            if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
                return {"accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:user/mock",
                        "userId": "MOCK"}, []
            if args.token == "aws:index/getRegion:getRegion":
                return {"name": region, "region": region}, []
            return {}, []

    return _Mocks()


def run_under_mocks(program: Callable[[], None], *, project: str, stack: str, region: str,
                    config: dict[str, str], recorder: _Recorder | None = None,
                    answer: Answer | None = None, secret_keys: list[str] | None = None,
                    preview: bool = False) -> tuple[_Recorder, dict[str, Any]]:
    """Run `program` inside one `pulumi.runtime.test` with layersmith's mocks; returns what was
    registered and the resolved stack outputs. `answer(token, args)` may answer a data source call
    (a test answers `getLayerVersion` from moto); None falls through to the built-in answers.
    `preview`: outputs a mock does not return stay unknown, and applies on them never run (what
    `pulumi preview` sees); plans use False, or they would pass vacuously."""
    import pulumi
    from pulumi.runtime import settings

    rec = recorder or _Recorder(region, {}, {})

    captured: dict[str, Any] = {}
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(_mocks(rec, region, answer), project=project, stack=stack, preview=preview)
    pulumi.runtime.set_all_config(config, secret_keys or [])  # [] resets what an earlier run set

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> Any:
        program()
        root = settings.get_root_resource()
        outputs = getattr(root, "outputs", {}) if root is not None else {}
        return pulumi.Output.from_input(outputs).apply(captured.update)

    try:
        run()
    except pulumi.RunError as exc:
        original = getattr(exc, "layersmith_error", None)
        if isinstance(original, LayersmithError):
            raise original from None  # the program's own one-line error, with its exit code
        raise
    finally:
        settings.ROOT.set(None)
    return rec, captured


def run_program(project: Project, stack: str, *, offline: bool = True, answer: Answer | None = None,
                versions: dict[tuple[str, str], int] | None = None) -> tuple[StackConfig, _Recorder, dict[str, Any]]:
    """The project's `__main__.py` for one committed stack under mocks: (config, what was registered,
    stack outputs). `offline`: skip the pin preflight (nothing answers `getLayerVersion`); a test
    that answers it through `answer` (from moto) runs it."""
    cfg = project.stack_config(stack)  # fails here, before any resource is registered
    entry = project.root / "__main__.py"
    if not entry.is_file():
        raise UserError("no Pulumi program here: plan (and check's policy pack) run the project's __main__.py "
                        "under mocks; create it with `from pathlib import Path; from layersmith.infra.program "
                        "import main; main(Path(__file__).resolve().parent)`", path=entry)
    recorder = _Recorder(cfg.region, _next_versions(project, cfg),
                         _mock_remote_layers(project, cfg.region, cfg.consume.stack), region_versions=versions or {})

    def program() -> None:
        from layersmith.infra.program import LOADED, OFFLINE

        token = OFFLINE.set(offline)  # no AWS to check pins against: the program says so and skips it
        loaded = LOADED.set(project)  # the program reuses it: each file is read once per plan
        try:
            runpy.run_path(str(entry), run_name="__main__")
        finally:
            LOADED.reset(loaded)
            OFFLINE.reset(token)

    rec, captured = run_under_mocks(
        program,
        project=cfg.project, stack=stack, region=cfg.region,
        config=_engine_config(project.stack_raw(stack)), recorder=recorder, answer=answer)
    return cfg, rec, captured


def run_plan(project: Project, stack: str, versions: dict[tuple[str, str], int] | None = None) -> dict[str, Any]:
    """Plan one committed stack: `{"project", "stack", "resources": [...], "outputs": {...}}`.
    `versions`: (region, physical layer name) -> the version a publish would leave (from AWS) instead
    of a mocked one."""
    cfg, rec, captured = run_program(project, stack, versions=versions)
    resources = sorted(({**r, "inputs": _json_friendly(r["inputs"], project.root)} for r in rec.resources),
                       key=lambda r: (r["type"], r["name"]))
    outputs = _json_friendly(captured, project.root)
    return {"project": cfg.project, "stack": stack, "region": cfg.region,
            "mocked": {"account": MOCK_ACCOUNT, "pins": OFFLINE_NOTE},
            "attachments": _attachments(project, cfg, outputs), "resources": resources, "outputs": outputs}


def _attachments(project: Project, cfg: StackConfig, outputs: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Per function: each attached layer with its pin, where it comes from, and the versioned ARN."""
    from layersmith.project.stacks import layer_source

    functions = project.function_specs(list(cfg.deploy))
    out: dict[str, list[dict[str, Any]]] = {}
    for name, spec in functions.items():
        arns = outputs.get("functions", {}).get(name, {}).get("layers", [])
        out[name] = [{"layer": layer, "pin": cfg.pin_for(name, layer), "source": layer_source(cfg, layer),
                      "arn": arn} for layer, arn in zip(spec.layers, arns, strict=False)]
    return out
