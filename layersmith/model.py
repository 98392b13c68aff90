"""Inert, frozen data the rest of layersmith passes around. Imports nothing internal but `runtimes`.

Parsing/validation lives in `specs.py` / `config.py`; behaviour lives in `builder/`, `infra/`,
`checks.py`. Keeping the models dumb (chalice's `deploy/models.py`) keeps every layer testable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from layersmith.runtimes.supported import check_architecture, get_runtime

Pin = int | Literal["latest"]


@dataclass(frozen=True)
class Requirement:
    """One line of a hash-locked requirements file."""

    name: str  # canonicalised (PEP 503)
    version: str
    hashes: tuple[str, ...]  # "sha256:<hex>"
    marker: str | None
    line: int


@dataclass(frozen=True)
class LayerSpec:
    name: str
    directory: Path
    description: str
    license: str | None
    runtimes: tuple[str, ...]
    architectures: tuple[str, ...]
    requirements: Path | None
    source: Path | None
    portable: bool
    exclude: tuple[str, ...] = ()  # distributions the runtime provides; dropped after install

    @property
    def spec_path(self) -> Path:
        return self.directory / "layer.toml"


@dataclass(frozen=True)
class Variant:
    """One publishable unit: a portable layer has one, a native one has one per (runtime, arch)."""

    layer: str
    runtimes: tuple[str, ...]
    architectures: tuple[str, ...]
    portable: bool

    @property
    def key(self) -> str:
        """Stable, human-readable id used in resource names and the cache: `py312-x86_64` or `any`."""
        if self.portable:
            return "any"
        return f"py{self.runtimes[0].removeprefix('python').replace('.', '')}-{self.architectures[0]}"

    def supports(self, runtime: str, architecture: str) -> bool:
        return runtime in self.runtimes and architecture in self.architectures


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    tags: tuple[str, ...]  # from the installed WHEEL file


@dataclass(frozen=True)
class BuildResult:
    variant: Variant
    zip_path: Path
    sha256: str  # of the zip bytes
    content_sha256: str  # of the file tree inside (written in the manifest)
    files: int
    unzipped_bytes: int
    zip_bytes: int
    cached: bool
    cache_key: str
    distributions: tuple[Distribution, ...]
    bytecode: str | None  # e.g. "cpython-311", None when no matching interpreter was available
    builder: str
    warnings: tuple[str, ...] = ()
    top_level_sizes: tuple[tuple[str, int], ...] = ()  # largest top-level entries, for size errors
    timings: tuple[tuple[str, float], ...] = ()  # seconds per phase (install, slim, verify, bytecode, zip)
    pieces_reused: int = 0  # packages (and the source) taken from the piece cache
    pieces_built: int = 0


@dataclass(frozen=True)
class Statement:
    """One least-privilege inline IAM statement of a function's execution role (`[[statements]]`)."""

    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    allow_wildcard: bool = False  # the user's explicit consent to a bare `*` resource


@dataclass(frozen=True)
class SqsSource:
    """An SQS event source mapping (`[sqs]`). Without a queue ARN no mapping is created: a stack
    gives each environment its own queue (`layersmith:functions.<fn>.sqs.queue_arn`)."""

    queue_arn: str | None = None
    batch_size: int = 10
    maximum_batching_window: int = 0  # seconds
    report_batch_item_failures: bool = True


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    directory: Path
    handler: str
    runtime: str
    architecture: str
    layers: tuple[str, ...]
    memory: int
    timeout: int
    environment: tuple[tuple[str, str], ...] = ()
    tracing: bool = False
    reserved_concurrency: int | None = None  # None: unreserved (the account's shared pool)
    kms_key_arn: str | None = None
    code_signing_config_arn: str | None = None
    managed_policies: tuple[str, ...] = ()
    statements: tuple[Statement, ...] = ()
    sqs: SqsSource | None = None

    @property
    def spec_path(self) -> Path:
        return self.directory / "function.toml"


@dataclass(frozen=True)
class ShareWith:
    accounts: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    public: bool = False


@dataclass(frozen=True)
class Consume:
    stack: str | None = None
    arns: tuple[tuple[str, str], ...] = ()  # layer name -> unversioned layer ARN


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    path: Path
    region: str
    publish: tuple[str, ...]
    deploy: tuple[str, ...]
    share_with: ShareWith
    retain_versions: bool
    pins: tuple[tuple[str, tuple[tuple[str, Pin], ...]], ...]  # function -> ((layer, pin), ...)
    require_pins: bool
    consume: Consume
    name_prefix: str
    artifact_bucket: str | None
    log_retention_days: int
    builder: str = "host"
    image_tag: str | None = None  # SAM build image tag for the docker builder (None: the default)
    extra: tuple[tuple[str, str], ...] = field(default=())
    # Where layers are published and granted; functions deploy to `region` (always listed first).
    regions: tuple[str, ...] = ()
    # function -> its spec with this stack's `layersmith:functions` overrides applied
    overrides: tuple[tuple[str, FunctionSpec], ...] = ()
    # (function, layer, region, version) of every pin written `{region: version, …}`: `pins` keeps
    # only `region`'s number (what the functions attach), prune protects every region's
    regional_pins: tuple[tuple[str, str, str, int], ...] = ()

    @property
    def publish_regions(self) -> tuple[str, ...]:
        """`regions` with the stack's own region first (its resources keep their names)."""
        return tuple(sorted(self.regions or (self.region,), key=lambda r: r != self.region))

    def function_spec(self, spec: FunctionSpec) -> FunctionSpec:
        """`spec` as this stack deploys it (queue ARN, concurrency, … may differ per environment)."""
        return dict(self.overrides).get(spec.name, spec)

    def pin_for(self, function: str, layer: str) -> Pin:
        for fn, layer_pins in self.pins:
            if fn == function:
                for name, pin in layer_pins:
                    if name == layer:
                        return pin
        return "latest"

    def pins_by_region(self) -> tuple[tuple[str, str, str, Pin], ...]:
        """(function, layer, region, pin) for every region a pin names: each region of a qualified
        pin, `region` (where the functions run) for a plain one."""
        qualified = {(fn, layer) for fn, layer, _, _ in self.regional_pins}
        plain = tuple((fn, layer, self.region, pin) for fn, layer_pins in self.pins for layer, pin in layer_pins
                      if (fn, layer) not in qualified)
        return plain + tuple((fn, layer, region, version) for fn, layer, region, version in self.regional_pins)


def expand_variants(spec: LayerSpec, runtime: str | None = None, arch: str | None = None) -> list[Variant]:
    """A portable layer is one variant for all its runtimes/architectures; a native one has one
    per (runtime, architecture). `runtime`/`arch` filter native variants (CLI --runtime/--arch)."""
    _check_variant_filter(runtime, arch)
    if spec.portable:
        if not _portable_matches(spec, runtime, arch):
            return []
        return [Variant(spec.name, spec.runtimes, spec.architectures, True)]
    return [Variant(spec.name, (rt,), (a,), False)
            for rt in spec.runtimes if runtime in (None, rt)
            for a in spec.architectures if arch in (None, a)]


def _check_variant_filter(runtime: str | None, arch: str | None) -> None:
    """An unknown --runtime/--arch is an error, not a filter that silently matches nothing."""
    if runtime is not None:
        get_runtime(runtime, key="--runtime")
    if arch is not None:
        check_architecture(arch, key="--arch")


def _portable_matches(spec: LayerSpec, runtime: str | None, arch: str | None) -> bool:
    """Whether the portable variant serves the filter: it covers every runtime/architecture it lists."""
    return not ((runtime and runtime not in spec.runtimes) or (arch and arch not in spec.architectures))
