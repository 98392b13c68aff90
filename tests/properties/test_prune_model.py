"""`prune` and `inventory` on generated fleets, checked against a small reference model.

A world is: committed stack files (plain, `latest` and `{region: version}` pins; publishers in one or
two regions, a consumer taking its layers from another stack, a custom `namePrefix`), two scanned
accounts × two regions holding layer versions (with gaps where versions were deleted, shares with
scanned and unscanned accounts), functions, function versions and aliases attaching versions of
either account in their own region, and scopes that fail to scan (a denied call in one region, a role
that cannot be assumed). The real code runs end to end on it: `config.parse_stack_config` on the
stack files, `aws.scope.Scope` for the pins and names, `aws.inventory.scan` over the in-memory
Lambda of `tests/unit/aws_fakes.py`, `aws.prune.select_prunable` and `execute`, and
`aws.report.inventory_json`.

The reference model below is written from the documented rules, not from that code: a version may
be deleted only when it is outside the newest K of its physical layer, attached by nothing scanned,
pinned in its region by no committed stack, shared with no unscanned account, and in no region (or
account) that failed to scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_fakes import FakeFactory
from hypothesis import example, given
from hypothesis import strategies as st

from layersmith.aws.clients import Caller
from layersmith.aws.inventory import scan
from layersmith.aws.prune import execute, select_prunable
from layersmith.aws.report import inventory_json
from layersmith.aws.scope import Scope
from layersmith.errors import AwsError
from layersmith.model import FunctionSpec, LayerSpec
from layersmith.project.stacks import parse_stack_config

HOME, OTHER, FAR = "111111111111", "222222222222", "333333333333"  # FAR is never scanned
ACCOUNTS = (HOME, OTHER)
REGIONS = ("eu-west-1", "us-east-1")
PROJECT = "layersmith"
# Unpaced (`pacers=None`): each (account, region) Pacer really sleeps 1/PACE between calls whatever
# `sleep` says, ~0.6 s of wall time per generated fleet (~8 min for the three properties). These
# properties are about verdicts, not time; pacing has its own tests (tests/unit/test_fleet_scan.py).
NO_WAIT = Caller(sleep=lambda _: None, pacers=None)

LAYERS = {
    "utils": LayerSpec("utils", Path("layers/utils"), "", None, ("python3.11", "python3.12"), ("x86_64", "arm64"),
                       None, None, portable=True),
    "mon": LayerSpec("mon", Path("layers/mon"), "", None, ("python3.11", "python3.12"), ("x86_64", "arm64"),
                     None, None, portable=False),
}
FUNCTIONS = {
    "api": FunctionSpec("api", Path("functions/api"), "h.h", "python3.11", "x86_64", ("utils", "mon"), 128, 3),
    "job": FunctionSpec("job", Path("functions/job"), "h.h", "python3.12", "arm64", ("utils", "mon"), 128, 3),
    "cron": FunctionSpec("cron", Path("functions/cron"), "h.h", "python3.11", "x86_64", ("utils",), 128, 3),
}
# The reference's own table: the variant each function runs, and the layers it attaches.
RUNS = {"api": "py311-x86_64", "job": "py312-arm64", "cron": "py311-x86_64"}
ATTACHES = {"api": ("utils", "mon"), "job": ("utils", "mon"), "cron": ("utils",)}
# Physical names under a prefix: the portable utils, native mon variants (py311-arm64 is built by
# no function's runtime), a native utils leftover.
SUFFIXES = ("utils", "mon-py311-x86_64", "mon-py312-arm64", "mon-py311-arm64", "utils-py311-x86_64")

Key = tuple[str, str, str, int]  # account, region, layer name, version


# --- the world ---------------------------------------------------------------------------------------

@dataclass
class World:
    stacks: dict[str, dict[str, Any]]  # stack -> its config map, as the stack file holds it
    versions: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)  # (account, region, name)
    shares: dict[Key, str] = field(default_factory=dict)  # -> principal
    functions: dict[tuple[str, str], list[tuple[str, str, tuple[str, ...]]]] = field(default_factory=dict)
    aliases: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    denied: set[tuple[str, str]] = field(default_factory=set)  # ListFunctions denied there
    unassumable: set[str] = field(default_factory=set)


def _pins_for(region: str) -> st.SearchStrategy[Any]:
    other = next(r for r in REGIONS if r != region)
    number = st.integers(1, 6)
    qualified = st.builds(lambda here, there: {region: here, **({other: there} if there else {})},
                          number, st.none() | number)
    return st.none() | number | st.just("latest") | qualified


PINS = {region: _pins_for(region) for region in REGIONS}  # built once: strategies are costly to build
SHARES = st.sampled_from([None, None, None, OTHER, FAR, "*"])


def prefix_of(stacks: dict[str, dict[str, Any]], stack: str) -> str:
    raw = stacks.get(stack, {})
    return str(raw.get("layersmith:namePrefix") or f"{PROJECT}-{stack}")


@st.composite
def stack_files(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    names = draw(st.lists(st.sampled_from(["dev", "prod", "cons"]), min_size=1, max_size=3, unique=True))
    files: dict[str, dict[str, Any]] = {}
    for name in names:
        region = draw(st.sampled_from(REGIONS))
        raw: dict[str, Any] = {"aws:region": region}
        if name == "cons":  # publishes nothing: its pins name the versions of the stack it consumes
            raw["layersmith:publish"] = []
            raw["layersmith:consume"] = {"stack": f"acme/{PROJECT}/{draw(st.sampled_from(['dev', 'prod']))}"}
        elif draw(st.booleans()):
            raw["layersmith:regions"] = sorted(REGIONS, key=lambda r: r != region)
        if name == "prod" and draw(st.booleans()):
            raw["layersmith:namePrefix"] = "acme-prod"
        deploy = draw(st.lists(st.sampled_from(sorted(FUNCTIONS)), unique=True))
        raw["layersmith:deploy"] = deploy
        pins: dict[str, dict[str, Any]] = {}
        for fn in deploy:
            for layer in ATTACHES[fn]:
                pin = draw(PINS[region])
                if pin is not None:
                    pins.setdefault(fn, {})[layer] = pin
        if pins:
            raw["layersmith:pins"] = pins
        files[name] = raw
    return files


def arn(account: str, region: str, name: str, version: int) -> str:
    return f"arn:aws:lambda:{region}:{account}:layer:{name}:{version}"


def _fleet(draw: st.DrawFn, world: World) -> None:
    prefixes = sorted({prefix_of(world.stacks, s) for s in ("dev", "prod", "cons")} | {"acme-prod"})
    names = st.lists(st.sampled_from([f"{p}-{s}" for p in prefixes for s in SUFFIXES] + ["someone-else-utils"]),
                     unique=True, max_size=3)
    for account in ACCOUNTS:
        for region in REGIONS:
            for name in draw(names):
                top = draw(st.integers(1, 5))
                mask = draw(st.integers(1, 2 ** top - 1))  # which of 1..top still exist (the rest were deleted)
                kept = [v for v in range(1, top + 1) if mask >> (v - 1) & 1]
                world.versions[(account, region, name)] = kept
                for version, share in zip(kept, draw(st.lists(SHARES, min_size=len(kept), max_size=len(kept))),
                                          strict=True):
                    if share:
                        world.shares[(account, region, name, version)] = share


def _functions(draw: st.DrawFn, world: World, account: str, region: str) -> None:
    arns = [arn(a, r, n, v) for (a, r, n), vs in world.versions.items() if r == region
            for v in [*vs, max(vs) + 1]]  # `max + 1`: attached but not found
    if not arns:
        return
    fns = world.functions.setdefault((account, region), [])
    for fn in draw(st.lists(st.sampled_from(["f1", "f2"]), unique=True, max_size=2)):
        attaching = st.lists(st.sampled_from(arns), max_size=2)
        for qualifier in ["$LATEST", *map(str, range(1, draw(st.integers(1, 3))))]:
            fns.append((fn, qualifier, tuple(draw(attaching))))
        if draw(st.booleans()):  # an alias routing to a published version (or to one that is gone)
            world.aliases.setdefault((account, region), {})[fn] = [
                {"Name": "live", "FunctionVersion": str(draw(st.integers(1, 3))),
                 "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.1}}}]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    world = World(draw(stack_files()))
    _fleet(draw, world)
    for account in ACCOUNTS:
        for region in REGIONS:
            _functions(draw, world, account, region)
            if draw(st.integers(0, 9)) == 0:
                world.denied.add((account, region))
    if draw(st.integers(0, 9)) == 0:
        world.unassumable.add(OTHER)
    return world


def fake_aws(world: World) -> FakeFactory:
    factory = FakeFactory(HOME, unassumable=set(world.unassumable))
    for account in ACCOUNTS:
        for region in REGIONS:
            factory.add(account, region)
    for (account, region, name), kept in world.versions.items():
        fake = factory.add(account, region)
        for _ in range(max(kept)):
            fake.publish(name)
        fake.layers[name] = [v for v in fake.layers[name] if v["Version"] in kept]
        for version in kept:
            if (share := world.shares.get((account, region, name, version))) is not None:
                fake.share(name, version, "*" if share == "*" else f"arn:aws:iam::{share}:root")
    for (account, region), fns in world.functions.items():
        fake = factory.add(account, region)
        for fn, qualifier, arns in fns:
            fake.attach(fn, qualifier, *arns)
        fake.aliases.update(world.aliases.get((account, region), {}))
    for account, region in world.denied:  # also where no function runs: the call is denied all the same
        factory.add(account, region).deny.add("ListFunctions")
    return factory


# --- the reference model -----------------------------------------------------------------------------

def failed(world: World, account: str, region: str) -> bool:
    return account in world.unassumable or (account, region) in world.denied


def listed(world: World) -> set[Key]:
    """What the scan can see: versions of this project's names, in the places that were scanned."""
    ours = {prefix_of(world.stacks, s) for s in world.stacks}
    return {(a, r, n, v) for (a, r, n), vs in world.versions.items() for v in vs
            if not failed(world, a, r) and any(n == f"{p}-{s}" for p in ours for s in SUFFIXES)}


def pinned(world: World, key: Key) -> bool:
    account, region, name, version = key
    for stack, raw in world.stacks.items():
        publishes = raw.get("layersmith:publish", list(LAYERS))
        for fn, layer_pins in raw.get("layersmith:pins", {}).items():
            for layer, value in layer_pins.items():
                publisher = stack if layer in publishes else raw["layersmith:consume"]["stack"].split("/")[2]
                prefix = prefix_of(world.stacks, publisher)
                if name not in (f"{prefix}-{layer}", f"{prefix}-{layer}-{RUNS[fn]}"):
                    continue
                where = value if isinstance(value, dict) else {raw["aws:region"]: value}
                newest = max(world.versions[(account, region, name)])
                pin = where.get(region)
                if pin == version or (pin == "latest" and version == newest):
                    return True
    return False


def protected(world: World, key: Key, keep: int) -> bool:
    account, region, name, version = key
    newest_first = sorted(world.versions[(account, region, name)], reverse=True)
    scanned = {a for a in ACCOUNTS if a not in world.unassumable}
    attached = {a for (acct, r), fns in world.functions.items() if not failed(world, acct, r)
                for _, _, arns in fns for a in arns}
    share = world.shares.get(key)
    return (newest_first.index(version) < keep
            or arn(*key) in attached
            or pinned(world, key)
            or (share is not None and share.isdigit() and share not in scanned)
            or bool(world.unassumable)  # a whole account is blind: every region may use anything
            or any((a, region) in world.denied for a in ACCOUNTS))


def deletable(world: World, keep: int) -> set[Key]:
    return {k for k in listed(world) if not protected(world, k, keep)}


# --- the properties ----------------------------------------------------------------------------------

def run_scan(world: World) -> tuple[FakeFactory, Scope, Any]:
    stacks = tuple(parse_stack_config(raw, project=PROJECT, stack=name, path=Path(f"Pulumi.{name}.yaml"),
                                      layers=LAYERS, functions=FUNCTIONS) for name, raw in sorted(world.stacks.items()))
    scope = Scope(stacks, stacks, tuple(LAYERS), tuple(FUNCTIONS.values()))
    factory = fake_aws(world)
    inventory = scan(factory, [OTHER], list(REGIONS), scope.matcher(), call=NO_WAIT, pins=scope.pins())
    return factory, scope, inventory


# The data loss of issue 22, always tried first: a `{region: version}` pin on a stack publishing in two
# regions; us-east-1's v3 is pinned there, and was planned (and deleted) as "not pinned".
REGIONAL_PIN = World(
    stacks={"dev": {"aws:region": "eu-west-1", "layersmith:regions": ["eu-west-1", "us-east-1"],
                    "layersmith:deploy": ["cron"],
                    "layersmith:pins": {"cron": {"utils": {"eu-west-1": 4, "us-east-1": 3}}}}},
    versions={(HOME, region, "layersmith-dev-utils"): [3, 4] for region in REGIONS})


def key_of(version: Any) -> Key:
    return version.target.account, version.target.region, version.name, version.version


@given(worlds(), st.integers(1, 3))
@example(REGIONAL_PIN, 1)
def test_prune_plans_exactly_the_versions_nothing_protects(world: World, keep: int) -> None:
    _, _, inventory = run_scan(world)
    plan = select_prunable(inventory, keep)
    planned = {key_of(d.version) for d in plan.deletions}
    expected = deletable(world, keep)
    assert not planned - expected, f"planned a protected version: {sorted(planned - expected)}"
    assert not expected - planned, f"kept a version nothing protects: {sorted(expected - planned)}"
    assert {key_of(d.version) for d in plan.decisions} == listed(world)


@given(worlds(), st.integers(1, 3))
@example(REGIONAL_PIN, 1)
def test_inventory_marks_and_prune_verdicts_agree(world: World, keep: int) -> None:
    _, _, inventory = run_scan(world)
    report = {(v["account"], v["region"], v["name"], v["version"]): v for v in inventory_json(inventory)["versions"]}
    unused = {k for k, v in report.items() if v["status"] == "unused"}
    assert unused == deletable(world, 1)  # UNUSED is exactly what `prune --keep 1` deletes
    for decision in select_prunable(inventory, keep).decisions:
        version = report[key_of(decision.version)]
        rank = sorted(world.versions[key_of(decision.version)[:3]], reverse=True).index(decision.version.version)
        assert decision.delete == (version["status"] == "unused" and rank >= keep), (version, decision.reasons)
        assert bool(version["pinned_by"]) == pinned(world, key_of(decision.version))
        assert bool(version["pinned_by"]) == any(r.startswith("pinned by") for r in decision.reasons)
        assert bool(version["used_by"]) == any(r.startswith("attached to") for r in decision.reasons)
        assert version["latest"] == (rank == 0) == ("latest" in decision.reasons)


@given(worlds(), st.integers(1, 3))
@example(REGIONAL_PIN, 1)
def test_prune_yes_deletes_only_what_nothing_protects(world: World, keep: int) -> None:
    factory, scope, inventory = run_scan(world)
    plan = select_prunable(inventory, keep)
    try:
        execute(plan, factory, inventory.targets, scope.matcher(), call=NO_WAIT)
    except AwsError:
        assert world.unassumable or world.denied  # refused: a place could not be scanned
    deleted = {(fake.account, fake.region, name, version)
               for fake in factory.lambdas.values() for name, version in fake.deleted}
    expected = deletable(world, keep)
    assert deleted <= expected, f"deleted a protected version: {sorted(deleted - expected)}"
    assert deleted == (set() if world.unassumable or world.denied else expected)
