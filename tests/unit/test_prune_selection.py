"""The pure prune planner: keep the newest N, anything attached anywhere scanned, anything pinned;
refuse to delete when an account/region could not be scanned. Plus `execute`'s last-moment re-check."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from aws_fakes import FakeFactory

from layersmith.aws.clients import Caller
from layersmith.aws.inventory import LayerMatcher, recheck_scopes
from layersmith.aws.prune import execute, select_prunable
from layersmith.aws.records import Attachment, Inventory, LayerRef, LayerVersionRecord, ScanFailure, Target
from layersmith.aws.report import inventory_json
from layersmith.aws.scope import pins_of
from layersmith.errors import AwsError, UserError
from layersmith.model import Consume, FunctionSpec, Pin, ShareWith, StackConfig

HOME, OTHER = "111111111111", "222222222222"
A = Target(HOME, "eu-west-1")
B = Target(OTHER, "eu-west-1")
NO_WAIT = Caller(sleep=lambda _: None)


def stack(name: str, pins: dict[str, dict[str, Pin]] | None = None, prefix: str | None = None) -> StackConfig:
    return StackConfig(
        project="layersmith", stack=name, path=Path(f"Pulumi.{name}.yaml"), region="eu-west-1",
        publish=("utils", "data-science"), deploy=("api",), share_with=ShareWith(), retain_versions=True,
        pins=tuple((fn, tuple(lp.items())) for fn, lp in (pins or {}).items()), require_pins=False,
        consume=Consume(), name_prefix=prefix or f"layersmith-{name}", artifact_bucket=None,
        log_retention_days=30)


def version(name: str, number: int, *, target: Target = A, layer: str = "utils", variant: str = "any",
            prefix: str = "layersmith-dev", shared: tuple[str, ...] = ()) -> LayerVersionRecord:
    arn = f"arn:aws:lambda:{target.region}:{target.account}:layer:{name}:{number}"
    return LayerVersionRecord(target, name, number, arn, f"2026-11-{number:02d}T10:00:00.000+0000", 1000,
                              ("python3.12",), ("x86_64",), shared, LayerRef(("dev",), prefix, layer, variant))


def utils(*numbers: int, **kw: object) -> list[LayerVersionRecord]:
    return [version("layersmith-dev-utils", n, **kw) for n in numbers]  # type: ignore[arg-type]


def inventory(versions: list[LayerVersionRecord], attachments: tuple[Attachment, ...] = (),
              failures: tuple[ScanFailure, ...] = (), stacks: tuple[StackConfig, ...] = (),
              targets: tuple[Target, ...] = (A, B)) -> Inventory:
    return Inventory(targets, tuple(versions), attachments, failures, pins_of(stacks))


def verdicts(inv: Inventory, keep: int) -> dict[int, bool]:
    return {d.version.version: d.delete for d in select_prunable(inv, keep).decisions}


def test_keeps_the_newest_n_and_deletes_the_rest() -> None:
    plan = select_prunable(inventory(utils(1, 2, 3, 4, 5)), keep=2)
    assert [d.version.version for d in plan.deletions] == [3, 2, 1]
    assert {d.version.version: d.reasons for d in plan.kept} == {5: ("latest",), 4: ("among the newest 2",)}


def test_keep_n_counts_per_physical_layer_not_per_project_layer() -> None:
    x86 = [version("layersmith-dev-ds-py312-x86_64", n, layer="ds", variant="py312-x86_64") for n in (1, 2)]
    arm = [version("layersmith-dev-ds-py312-arm64", n, layer="ds", variant="py312-arm64") for n in (1, 2, 3)]
    plan = select_prunable(inventory(x86 + arm), keep=2)
    assert [(d.version.name, d.version.version) for d in plan.deletions] == [("layersmith-dev-ds-py312-arm64", 1)]


def test_a_version_used_only_in_the_other_account_is_kept() -> None:
    old = utils(1, 2, 3)
    used = Attachment(B, "billing", "version", "7", old[0].arn)
    inv = inventory(old, attachments=(used,))
    assert verdicts(inv, 1) == {3: False, 2: True, 1: False}
    kept = next(d for d in select_prunable(inv, 1).kept if d.version.version == 1)
    assert kept.reasons == (f"attached to {OTHER}/eu-west-1 billing:7",)


def test_an_alias_or_latest_attachment_keeps_a_version() -> None:
    old = utils(1, 2, 3, 4)
    inv = inventory(old, attachments=(Attachment(A, "api", "alias", "live", old[0].arn, alias_version="3"),
                                      Attachment(A, "api", "function", "$LATEST", old[1].arn)))
    assert verdicts(inv, 1) == {4: False, 3: True, 2: False, 1: False}


def test_a_pin_of_an_unknown_variant_protects_every_variant_of_the_layer() -> None:
    dev = stack("dev", pins={"api": {"data-science": 2}})
    x86 = [version("layersmith-dev-data-science-py312-x86_64", n, layer="data-science",
                   variant="py312-x86_64") for n in (1, 2, 3)]
    arm = [version("layersmith-dev-data-science-py312-arm64", n, layer="data-science",
                   variant="py312-arm64") for n in (1, 2, 3)]
    plan = select_prunable(inventory(x86 + arm, stacks=(dev,)), keep=1)
    assert sorted((d.version.name[-6:], d.version.version) for d in plan.deletions) == [("-arm64", 1), ("x86_64", 1)]
    pinned = [d for d in plan.kept if d.version.version == 2]
    assert len(pinned) == 2 and all(d.reasons == ("pinned by dev:api",) for d in pinned)


def test_a_pin_protects_its_own_variant_only_and_inventory_agrees() -> None:
    # `api` runs python3.12/arm64: its pin names data-science-py312-arm64:1, not x86_64's version 1.
    # The inventory used to mark x86_64:1 UNUSED while prune kept it ("same version pinned for another
    # variant"): both now read one verdict.
    api = FunctionSpec("api", Path("functions/api"), "handler.handler", "python3.12", "arm64", ("data-science",),
                       128, 3)
    pins = pins_of([stack("dev", pins={"api": {"data-science": 1}})], [api])
    x86, arm = ([version(f"layersmith-dev-data-science-py312-{a}", n, layer="data-science", variant=f"py312-{a}")
                 for n in (1, 2)] for a in ("x86_64", "arm64"))
    inv = Inventory((A,), (*x86, *arm), (), (), pins)
    plan = select_prunable(inv, 1)
    assert [(d.version.name[-6:], d.version.version) for d in plan.deletions] == [("x86_64", 1)]
    assert [d.reasons for d in plan.kept if d.version.version == 1] == [("pinned by dev:api",)]
    status = {(v["name"][-6:], v["version"]): v["status"] for v in inventory_json(inv)["versions"]}
    assert status == {("x86_64", 2): "latest", ("x86_64", 1): "unused", ("-arm64", 2): "latest",
                      ("-arm64", 1): "pinned"}


def two_regions(pins: dict[str, dict[str, Pin]], regional: tuple[tuple[str, str, str, int], ...] = ()
                ) -> StackConfig:
    """staging: functions in eu-west-1, layers published in eu-west-1 and us-east-1."""
    return replace(stack("staging", pins=pins, prefix="layersmith-dev"), regions=("eu-west-1", "us-east-1"),
                   regional_pins=regional)


US = Target(HOME, "us-east-1")


def test_a_region_qualified_pin_protects_each_regions_own_version() -> None:
    # utils: {eu-west-1: 4, us-east-1: 3}; prune --keep 1 planned us-east-1's 3 as "not pinned" (the
    # stack file's map was cut down to eu-west-1's 4, matched in every region) and deleted it.
    staging = two_regions({"api": {"utils": 4}}, (("api", "utils", "eu-west-1", 4), ("api", "utils", "us-east-1", 3)))
    versions = [*utils(1, 2, 3, 4, 5), *utils(1, 2, 3, 4, 5, target=US)]
    inv = inventory(versions, stacks=(staging,), targets=(A, US))
    plan = select_prunable(inv, 1)
    assert sorted((d.version.target.region, d.version.version) for d in plan.deletions) == [
        ("eu-west-1", 1), ("eu-west-1", 2), ("eu-west-1", 3), ("us-east-1", 1), ("us-east-1", 2), ("us-east-1", 4)]
    marks = {(v["region"], v["version"]): v["pinned_by"] for v in inventory_json(inv)["versions"]}
    assert marks[("eu-west-1", 4)] == marks[("us-east-1", 3)] == ["staging:api"]
    assert marks[("eu-west-1", 3)] == marks[("us-east-1", 4)] == []


def test_a_plain_pin_protects_its_version_in_the_stacks_region_only() -> None:
    # A plain pin is the version the functions attach in aws:region; us-east-1's 4 is another version.
    inv = inventory([*utils(3, 4, 5), *utils(3, 4, 5, target=US)], stacks=(two_regions({"api": {"utils": 4}}),),
                    targets=(A, US))
    assert {(d.version.target.region, d.version.version) for d in select_prunable(inv, 1).deletions} == {
        ("eu-west-1", 3), ("us-east-1", 3), ("us-east-1", 4)}


def test_a_failed_region_blinds_its_region_and_a_failed_account_every_region() -> None:
    versions = [*utils(1, 2), *utils(1, 2, target=US)]
    region = ScanFailure(OTHER, "us-east-1", "lambda:ListFunctions: access denied")
    plan = select_prunable(inventory(versions, failures=(region,), targets=(A, US)), 1)
    assert [(d.version.target.region, d.version.version) for d in plan.deletions] == [("eu-west-1", 1)]
    assert f"may be attached in {OTHER}/us-east-1, which could not be scanned" in plan.kept[-1].reasons
    account = ScanFailure(OTHER, None, "cannot assume the role")
    assert select_prunable(inventory(versions, failures=(account,), targets=(A, US)), 1).deletions == ()


def test_a_pin_of_another_stack_or_layer_does_not_protect() -> None:
    prod = stack("prod", pins={"api": {"utils": 1}})  # prefix layersmith-prod: not this layer
    dev = stack("dev", pins={"api": {"data-science": 1}})  # same prefix, other layer
    assert verdicts(inventory(utils(1, 2), stacks=(prod, dev)), 1) == {2: False, 1: True}


def test_a_pin_of_a_stack_sharing_the_prefix_protects() -> None:
    shared = stack("staging", pins={"api": {"utils": 1}}, prefix="layersmith-dev")
    assert verdicts(inventory(utils(1, 2), stacks=(shared,)), 1) == {2: False, 1: False}


def test_a_consumer_stacks_pin_protects_the_publishers_version() -> None:
    # The consumer publishes nothing and takes utils from the dev stack: its pin names dev's version.
    dev = stack("dev")
    consumer = replace(stack("consumer", pins={"api": {"utils": 1}}), publish=(),
                       consume=Consume(stack="acme/layersmith/dev"))
    assert verdicts(inventory(utils(1, 2, 3), stacks=(dev, consumer)), 1) == {3: False, 2: True, 1: False}


def test_a_consumer_pin_of_an_uncommitted_stack_uses_its_default_prefix() -> None:
    consumer = replace(stack("consumer", pins={"api": {"utils": 2}}), publish=(),
                       consume=Consume(stack="acme/layersmith/dev"))  # no Pulumi.dev.yaml here
    assert verdicts(inventory(utils(1, 2, 3), stacks=(consumer,)), 1) == {3: False, 2: False, 1: True}


def test_a_version_shared_with_an_unscanned_account_is_kept() -> None:
    versions = [*utils(1, shared=("333333333333",)), *utils(2, shared=(OTHER,)), *utils(3)]
    plan = select_prunable(inventory(versions), keep=1)
    assert [d.version.version for d in plan.deletions] == [2]  # OTHER was scanned: its use would be seen
    assert "shared with 333333333333, not scanned (add to --accounts)" in plan.kept[-1].reasons


def test_an_unscannable_account_blocks_every_deletion() -> None:
    failure = ScanFailure("333333333333", None, "cannot assume arn:aws:iam::333333333333:role/x: access denied")
    plan = select_prunable(inventory(utils(1, 2, 3), failures=(failure,)), keep=1)
    assert plan.blocked_by == (failure,)
    assert "333333333333 (all regions)" in plan.blocked_message()
    factory = FakeFactory(HOME)
    fake = factory.add(HOME, "eu-west-1")
    with pytest.raises(AwsError, match="refusing to delete: could not scan 333333333333"):
        execute(plan, factory, [A], LayerMatcher({"layersmith-dev": ("dev",)}, ["utils"]), call=NO_WAIT)
    assert fake.calls == []  # not even a re-check: nothing touched


def test_keep_must_be_at_least_one() -> None:
    with pytest.raises(UserError, match="at least 1"):
        select_prunable(inventory(utils(1)), keep=0)


def _fake_with_three_versions() -> tuple[FakeFactory, list[str]]:
    factory = FakeFactory(HOME)
    fake = factory.add(HOME, "eu-west-1")
    arns = [fake.publish("layersmith-dev-utils") for _ in range(3)]
    factory.add(OTHER, "eu-west-1")
    return factory, arns


def test_execute_deletes_exactly_the_planned_versions() -> None:
    factory, _ = _fake_with_three_versions()
    plan = select_prunable(inventory(utils(1, 2, 3)), keep=1)
    result = execute(plan, factory, [A, B], LayerMatcher({"layersmith-dev": ("dev",)}, ["utils"]), call=NO_WAIT)
    assert factory.all_deleted() == [("layersmith-dev-utils", 2), ("layersmith-dev-utils", 1)]
    assert [r.version for r in result.deleted] == [2, 1]


def test_execute_rechecks_and_skips_a_version_attached_since_the_scan() -> None:
    factory, arns = _fake_with_three_versions()
    plan = select_prunable(inventory(utils(1, 2, 3)), keep=1)
    # After the plan: v1 is shared with OTHER (a grant the scan did not see) and attached there.
    factory.lambdas[(HOME, "eu-west-1")].share("layersmith-dev-utils", 1, OTHER)
    factory.lambdas[(OTHER, "eu-west-1")].attach("late-comer", "$LATEST", arns[0])
    result = execute(plan, factory, [A, B], LayerMatcher({"layersmith-dev": ("dev",)}, ["utils"]), call=NO_WAIT)
    assert factory.all_deleted() == [("layersmith-dev-utils", 2)]
    assert result.skipped[0][0].version == 1 and "late-comer" in result.skipped[0][1]


def test_the_recheck_lists_only_the_scopes_that_can_attach_and_once_per_region() -> None:
    """Versions shared with nobody: only their own account is re-listed, once for both deletions; OTHER
    (which cannot attach them) and the other region are not asked at all."""
    factory, _ = _fake_with_three_versions()
    far = factory.add(HOME, "us-east-1")
    plan = select_prunable(inventory(utils(1, 2, 3)), keep=1)
    execute(plan, factory, [A, B, Target(HOME, "us-east-1")], LayerMatcher({"layersmith-dev": ("dev",)}, ["utils"]),
            call=NO_WAIT)
    assert factory.all_deleted() == [("layersmith-dev-utils", 2), ("layersmith-dev-utils", 1)]
    assert factory.lambdas[(HOME, "eu-west-1")].calls.count("ListFunctions") == 1
    assert factory.lambdas[(OTHER, "eu-west-1")].calls == [] and far.calls == []


def test_recheck_scopes_follow_the_grants() -> None:
    three = Target("333333333333", "eu-west-1")
    targets = [A, B, three, Target(OTHER, "us-east-1")]
    assert recheck_scopes(utils(1), targets) == [A]
    assert recheck_scopes(utils(1, shared=(OTHER,)), targets) == [A, B]
    assert recheck_scopes(utils(1, shared=("org:o-abc",)), targets) == [A, B, three]
    assert recheck_scopes(utils(1, shared=("public",)), targets) == [A, B, three]


def test_execute_stops_when_the_recheck_cannot_scan() -> None:
    factory, _ = _fake_with_three_versions()
    factory.lambdas[(HOME, "eu-west-1")].deny.add("ListFunctions")  # the scope the re-check must see
    plan = select_prunable(inventory(utils(1, 2, 3)), keep=1)
    with pytest.raises(AwsError, match=r"stopped, nothing more deleted: .*access denied") as info:
        execute(plan, factory, [A, B], LayerMatcher({"layersmith-dev": ("dev",)}, ["utils"]), call=NO_WAIT)
    assert factory.all_deleted() == []
    assert "\n" not in info.value.render()


def test_execute_keeps_a_version_shared_since_the_scan_with_an_account_not_scanned() -> None:
    """The re-check reads each version's grants as they are now: one granted meanwhile to an account the
    scan never saw may be attached there, so it is kept and said so, and the others are still deleted.
    (Mutation testing found this path untested: `blind = None` deleted such a version.)"""
    factory, _ = _fake_with_three_versions()
    plan = select_prunable(inventory(utils(1, 2, 3)), keep=1)
    stranger = "999999999999"  # in no target
    factory.lambdas[(HOME, "eu-west-1")].share("layersmith-dev-utils", 1, stranger)
    said: list[str] = []
    result = execute(plan, factory, [A, B], LayerMatcher({"layersmith-dev": ("dev",)}, ["utils"]), call=NO_WAIT,
                     progress=said.append)
    assert factory.all_deleted() == [("layersmith-dev-utils", 2)]
    assert [r.version for r in result.deleted] == [2]
    [(kept, why)] = result.skipped
    assert kept.version == 1 and why == f"now shared with {stranger}, not scanned"
    assert f"kept layersmith-dev-utils:1: now shared with {stranger}, not scanned" in said


def test_a_deletion_that_fails_stops_the_run_saying_how_far_it_got_and_where() -> None:
    """The one line names what was deleted before the failure, of how many, and the failed call's
    account, region and version; nothing after it is deleted."""
    factory, _ = _fake_with_three_versions()
    home = factory.lambdas[(HOME, "eu-west-1")]
    plan = select_prunable(inventory(utils(1, 2, 3, 4)), keep=1)
    home.publish("layersmith-dev-utils")  # v4: the fake holds what the inventory says
    real_delete = home.delete_layer_version

    def delete_once(**kw: object) -> dict[str, object]:
        if home.deleted:  # the second deletion is refused
            home.deny.add("DeleteLayerVersion")
        return real_delete(**kw)

    home.delete_layer_version = delete_once  # type: ignore[method-assign]
    with pytest.raises(AwsError) as info:
        execute(plan, factory, [A, B], LayerMatcher({"layersmith-dev": ("dev",)}, ["utils"]), call=NO_WAIT)
    assert factory.all_deleted() == [("layersmith-dev-utils", 3)]
    assert info.value.message.startswith(
        f"stopped, nothing more deleted: deleted 1 of 3 before this; {A}: lambda:DeleteLayerVersion "
        "layersmith-dev-utils:2: ")


def test_execute_says_each_step_on_the_progress_line() -> None:
    """What `prune --yes` prints on stderr while it works: the re-check per region, then each planned
    version in the plan's order (newest first), deleted or kept with why."""
    factory, arns = _fake_with_three_versions()
    plan = select_prunable(inventory(utils(1, 2, 3)), keep=1)
    factory.lambdas[(HOME, "eu-west-1")].share("layersmith-dev-utils", 1, OTHER)
    factory.lambdas[(OTHER, "eu-west-1")].attach("late-comer", "$LATEST", arns[0])
    said: list[str] = []
    execute(plan, factory, [A, B], LayerMatcher({"layersmith-dev": ("dev",)}, ["utils"]), call=NO_WAIT,
            progress=said.append)
    [kept] = [line for line in said if line.startswith("kept ")]
    assert said == ["eu-west-1: re-checking 2 scope(s) before deleting 2 version(s)",
                    f"deleted layersmith-dev-utils:2 in {A}", kept]
    assert kept.startswith(f"kept layersmith-dev-utils:1: now attached to {B} ") and "late-comer" in kept
