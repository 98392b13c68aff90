"""The project, loaded once per command (or per Pulumi program run) and passed down.

A `Project` holds the layer and function specs and parses each committed stack on first use, so
every `layer.toml`, `function.toml` and `Pulumi.<stack>.yaml` is read at most once, through one
`Reader` (the seam a test counts reads with).

Blast radius: a spec that does not load is recorded, not raised. A stack is judged on what it
deploys (its functions) and publishes (its layers, and those its functions attach): a broken spec
it uses is its error; a broken spec it does not use is a warning (`unused_problems`). Messages go
through `report_once`, so a bad file is reported once however many steps meet it.

Imports neither pulumi nor boto3: scripts and the CLI load it cheaply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from layersmith.errors import SpecError, UserError
from layersmith.model import FunctionSpec, LayerSpec, StackConfig
from layersmith.project.specs import DISK, Reader, discover, load_function, load_layer
from layersmith.project.stack_lines import located
from layersmith.project.stacks import (
    committed_stacks,
    parse_stack_config,
    project_name,
    read_stack_document,
    stack_file,
)

LAYERS, FUNCTIONS = "layers", "functions"
SPEC_FILE = {LAYERS: "layer.toml", FUNCTIONS: "function.toml"}
_NAMESPACE = "layersmith:"
Config = dict[str, object]  # a stack's config map (values as YAML, or the engine decoded, typed them)
_Spec = TypeVar("_Spec", LayerSpec, FunctionSpec)
_T = TypeVar("_T")


def _once(memo: dict[str, _T | UserError], key: str, compute: Callable[[], _T]) -> _T:
    """`compute()` the first time `key` is asked for; later, the same value or the same error again."""
    if key not in memo:
        try:
            memo[key] = compute()
        except UserError as exc:
            memo[key] = exc
    found = memo[key]
    if isinstance(found, UserError):
        raise found
    return found


@dataclass
class _Memo:
    """What the frozen `Project` computes on first use: each value, or the error it raised."""

    name: dict[str, str | UserError] = field(default_factory=dict)  # one entry, under ""
    stacks: list[str] | None = None
    raw: dict[str, Config | UserError] = field(default_factory=dict)
    lines: dict[str, dict[str, int]] = field(default_factory=dict)  # per stack file: key -> line
    configs: dict[str, StackConfig | UserError] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)


@dataclass(frozen=True, eq=False)
class Uses:
    """The specs one stack needs: the layers it publishes or attaches, the functions it deploys."""

    layers: frozenset[str]
    functions: frozenset[str]


@dataclass(frozen=True, eq=False)
class Project:
    root: Path
    layers: Mapping[str, LayerSpec]  # every layer spec that loaded, by name (sorted)
    functions: Mapping[str, FunctionSpec]  # every function spec that loaded, by name (sorted)
    # (LAYERS | FUNCTIONS, name) -> why that spec did not load
    problems: Mapping[tuple[str, str], UserError] = field(default_factory=dict)
    reader: Reader = DISK
    _memo: _Memo = field(default_factory=_Memo, repr=False)

    # --- the project ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """`name` of Pulumi.yaml (read on first use: `build` needs no Pulumi.yaml)."""
        return _once(self._memo.name, "", lambda: project_name(self.root, self.reader))

    def layer_names(self) -> list[str]:
        return sorted([*self.layers, *(n for k, n in self.problems if k == LAYERS)])

    def function_names(self) -> list[str]:
        return sorted([*self.functions, *(n for k, n in self.problems if k == FUNCTIONS)])

    def layer_specs(self, names: list[str] | None = None) -> dict[str, LayerSpec]:
        """The named layers (all when None), as `specs.load_layers` gives them: an unknown name or a
        spec that did not load raises its error."""
        wanted = self.layer_names() if names is None else names
        self._require(LAYERS, wanted, "no layer {name!r}; the project has {known}", "no layers")
        return {name: self.layers[name] for name in wanted}

    def function_specs(self, names: list[str] | None = None) -> dict[str, FunctionSpec]:
        wanted = self.function_names() if names is None else names
        self._require(FUNCTIONS, wanted, "no function {name!r}; the project has {known}", "none")
        return {name: self.functions[name] for name in wanted}

    def _require(self, kind: str, names: list[str], unknown: str, none: str) -> None:
        known = self.layer_names() if kind == LAYERS else self.function_names()
        for name in names:
            if name not in known:
                raise SpecError(unknown.format(name=name, known=", ".join(known) or none), path=self.root / kind)
            if (kind, name) in self.problems:
                raise self.problems[(kind, name)]

    # --- stacks -----------------------------------------------------------------------------------

    def committed_stacks(self) -> list[str]:
        if self._memo.stacks is None:
            self._memo.stacks = committed_stacks(self.root)
        return list(self._memo.stacks)

    def stack_file(self, stack: str) -> Path:
        return stack_file(self.root, stack)

    def stack_raw(self, stack: str) -> Config:
        """The `config:` map of `Pulumi.<stack>.yaml`, read (and its errors raised) once."""
        return _once(self._memo.raw, stack, lambda: self._read_stack(stack))

    def _read_stack(self, stack: str) -> Config:
        config, self._memo.lines[stack] = read_stack_document(self.root, stack, self.reader)
        return config

    def stack_config(self, stack: str) -> StackConfig:
        """`Pulumi.<stack>.yaml` validated against the specs it uses; parsed (or failed) once. An
        error about one of its keys names the key's line (read from the file, unlike the engine's map)."""
        def parse() -> StackConfig:
            raw = self.stack_raw(stack)
            with located(self.stack_file(stack).name, self._memo.lines.get(stack, {})):
                return self.parse_stack(raw, stack=stack)

        return _once(self._memo.configs, stack, parse)

    def parse_stack(self, raw: Config, *, stack: str, project: str | None = None) -> StackConfig:
        """Validate a stack's config map (from its file, or as the engine passes it): first each spec
        it uses must have loaded, then every `layersmith:` key."""
        name = project or self.name
        self.require(self.uses(raw))
        return parse_stack_config(raw, project=name, stack=stack, path=self.stack_file(stack),
                                  layers=dict(self.layers), functions=dict(self.functions))

    def uses(self, raw: Mapping[str, object]) -> Uses:
        """What a stack's config map deploys and publishes, read leniently: a malformed key counts
        as the default (everything), and `parse_stack_config` reports it."""
        functions = _listed(raw, "deploy", self.function_names())
        layers = set(_listed(raw, "publish", self.layer_names()))
        for name in functions:
            if name in self.functions:
                layers.update(self.functions[name].layers)
        return Uses(frozenset(layers), frozenset(functions))

    def require(self, uses: Uses) -> None:
        """Raise the error of the first spec a stack uses that did not load (functions first: a
        broken function's layers are unknown)."""
        for kind, names in ((FUNCTIONS, uses.functions), (LAYERS, uses.layers)):
            for name in sorted(names):
                if (kind, name) in self.problems:
                    raise self.problems[(kind, name)]

    def unused_problems(self, uses: Uses) -> list[UserError]:
        """The specs that did not load and that the stack does not use: warnings, never errors."""
        chosen = {LAYERS: uses.layers, FUNCTIONS: uses.functions}
        return [error for (kind, name), error in sorted(self.problems.items()) if name not in chosen[kind]]

    def unused_warnings(self, stack: str, uses: Uses | None = None) -> list[str]:
        """One line per broken spec `stack` does not use (`uses`: from its file when None), naming
        the file."""
        chosen = self.uses(self.stack_raw(stack)) if uses is None else uses
        return [f"{error.render()} (ignored: stack {stack} does not use it)"
                for error in self.unused_problems(chosen)]

    # --- reporting --------------------------------------------------------------------------------

    def report_once(self, message: str, sink: Callable[[str], None]) -> None:
        """Pass `message` to `sink` unless an earlier step of this command already reported it."""
        if message not in self._memo.reported:
            self._memo.reported.add(message)
            sink(message)


def _listed(raw: Mapping[str, object], key: str, everything: list[str]) -> list[str]:
    value = raw.get(f"{_NAMESPACE}{key}")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    return everything


def _load_all(root: Path, kind: str, load: Callable[[Path, Reader], _Spec], reader: Reader) -> tuple[
        dict[str, _Spec], dict[tuple[str, str], UserError]]:
    specs: dict[str, _Spec] = {}
    problems: dict[tuple[str, str], UserError] = {}
    for name in discover(root, kind):
        try:
            specs[name] = load(root / kind / name, reader)
        except UserError as exc:
            problems[(kind, name)] = exc
    return specs, problems


def load_project(root: Path, reader: Reader = DISK) -> Project:
    """Every layer and function spec under `root`, each read once. A spec that fails to load is
    kept as a problem: an error for a stack that uses it, a warning for the others."""
    root = root.resolve()
    layers, layer_problems = _load_all(root, LAYERS, load_layer, reader)
    functions, function_problems = _load_all(root, FUNCTIONS, load_function, reader)
    return Project(root, layers, functions, {**layer_problems, **function_problems}, reader)


def load_stack_config(project: Project, stack: str) -> StackConfig:
    """`Pulumi.<stack>.yaml` validated with the project's specs (read and parsed once per project):
    a spec the stack uses that does not load is this stack's error; any other is not."""
    return project.stack_config(stack)
