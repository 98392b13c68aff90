"""Fleet-scale scanning with fakes: the parallel scan equals the sequential one (failures included),
the pace per (account, region), the on-disk GetLayerVersion cache, assumed roles that renew, Ctrl-C."""

from __future__ import annotations

import datetime as dt
import io
import pickle
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aws_fakes import FakeFactory, FakeLambda

from layersmith.aws.clients import Caller, Pacer, read_accounts_file
from layersmith.aws.inventory import LayerMatcher, scan
from layersmith.aws.options import interruptible
from layersmith.aws.progress import RichProgress, ScanProgress, for_stream
from layersmith.aws.prune import execute, select_prunable
from layersmith.aws.records import Inventory, Target
from layersmith.aws.report import summary
from layersmith.aws.sessions import AssumedRole
from layersmith.aws.version_cache import VersionCache
from layersmith.errors import UserError

HOME = "111111111111"
ACCOUNTS = [f"{200000000000 + i}" for i in range(6)]
REGIONS = ["eu-west-1", "us-east-1", "ap-south-1"]
MATCHER = LayerMatcher({"layersmith-dev": ("dev",)}, ["utils"])


def no_wait() -> Caller:
    return Caller(sleep=lambda _: None, pacers=None)


def fleet() -> FakeFactory:
    """The home account publishes utils v1..v4 in every region, shared with every account; each account
    attaches v2 in every region. Some scopes are throttled a little (retried), one for good (fails),
    one account's role is refused."""
    factory = FakeFactory(HOME)
    for region in REGIONS:
        home = factory.add(HOME, region)
        for _ in range(4):
            home.publish("layersmith-dev-utils")
        for version in range(1, 5):
            home.policies[("layersmith-dev-utils", version)] = {
                "Policy": '{"Statement": [{"Effect": "Allow", "Principal": "*", "Condition": {"StringEquals": '
                          '{"aws:PrincipalOrgID": "o-abc"}}}]}'}
        for n, account in enumerate(ACCOUNTS):
            fake = factory.add(account, region)
            fake.attach(f"fn-{n}", "$LATEST", home.arn("layersmith-dev-utils", 2))
            fake.throttle = n % 3  # 0-2 throttled answers first: retried and answered
    factory.lambdas[(ACCOUNTS[1], "us-east-1")].throttle = 1000  # never answers: that scope fails
    factory.unassumable.add(ACCOUNTS[4])
    return factory


def comparable(inv: Inventory) -> tuple[Any, ...]:
    return inv.targets, inv.versions, tuple(sorted(inv.attachments, key=str)), inv.failures


def test_the_parallel_scan_equals_the_sequential_one_failures_included() -> None:
    sequential = scan(fleet(), ACCOUNTS, REGIONS, MATCHER, call=no_wait(), workers=1)
    parallel = scan(fleet(), ACCOUNTS, REGIONS, MATCHER, call=no_wait(), workers=8)
    assert comparable(parallel) == comparable(sequential)
    assert parallel.attachments == sequential.attachments  # same order too: merged in scope order
    assert [f.where() for f in parallel.failures] == [f"{ACCOUNTS[1]}/us-east-1", f"{ACCOUNTS[4]} (all regions)"]
    assert len(parallel.versions) == 12 and len(parallel.attachments) == 5 * 3 - 1  # 1 scope failed
    assert not parallel.interrupted


def test_calls_and_throttles_are_counted_across_threads() -> None:
    call = no_wait()
    factory = fleet()
    factory.lambdas[(ACCOUNTS[1], "us-east-1")].throttle = 0
    scan(factory, ACCOUNTS, REGIONS, MATCHER, call=call, workers=8)
    made = sum(len(f.calls) for f in factory.lambdas.values())
    # throttled first answers: n % 3 in each region for every assumable account n, but ACCOUNTS[1]/us-east-1
    assert (call.stats.calls, call.stats.throttles) == (made, sum(n % 3 for n in range(6) if n != 4) * 3 - 1)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_pacer_spaces_calls_below_the_quota_and_backs_off_when_throttled() -> None:
    clock = Clock()
    pacer = Pacer(100.0, clock=clock, sleep=clock.sleep)  # asked for more than the quota: capped at 15/s
    for _ in range(16):
        pacer.wait()
    assert clock.now == pytest.approx(15 / 15.0)  # 16 calls: the first at 0, then one every 1/15 s
    pacer.throttled()
    assert pacer.rate == pytest.approx(7.5)
    for _ in range(200):
        pacer.succeeded()
    assert pacer.rate == pytest.approx(15.0)


def test_throttled_answers_slow_that_scope_down() -> None:
    factory = FakeFactory(HOME)
    factory.add(HOME, "eu-west-1").throttle = 3
    call = Caller(sleep=lambda _: None)
    scan(factory, [], ["eu-west-1"], MATCHER, call=call, workers=1)
    assert call.pacers is not None and call.pacers.get(HOME, "eu-west-1").rate < 10.0


def test_get_layer_version_is_asked_once_per_arn_then_read_from_disk(tmp_path: Path) -> None:
    cache = VersionCache(tmp_path)
    first = scan(fleet(), [], REGIONS, MATCHER, call=no_wait(), cache=cache)
    again = fleet()
    second = scan(again, [], REGIONS, MATCHER, call=no_wait(), cache=cache)
    assert not any("GetLayerVersion" in f.calls for f in again.lambdas.values())
    assert second.versions == first.versions and first.versions[0].code_sha256.startswith("sha-")


def test_a_damaged_cache_entry_is_ignored_and_fetched_again(tmp_path: Path) -> None:
    cache = VersionCache(tmp_path)
    scan(fleet(), [], ["eu-west-1"], MATCHER, call=no_wait(), cache=cache)
    entries = sorted((tmp_path / "layer-versions").rglob("*.json"))
    assert len(entries) == 4
    entries[0].write_text('{"v": 1, "arn": "trunc')
    entries[1].write_text('{"v": 1, "arn": "arn:aws:lambda:eu-west-1:1:layer:other:1", '
                          '"Content": {"CodeSize": 5, "CodeSha256": "x"}}')  # another ARN's answer
    again = fleet()
    inv = scan(again, [], ["eu-west-1"], MATCHER, call=no_wait(), cache=cache)
    assert again.lambdas[(HOME, "eu-west-1")].calls.count("GetLayerVersion") == 2
    assert {v.code_size for v in inv.versions} == {1000}


def test_an_assumed_role_renews_itself_before_it_expires() -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    fetched: list[str] = []

    def fetch() -> dict[str, str]:
        fetched.append("AssumeRole")
        return {"access_key": "AK2", "secret_key": "s", "token": "t", "expiry_time": later}

    creds = AssumedRole(fetch, {"access_key": "AK1", "secret_key": "s", "token": "t", "expiry_time": soon}).load()
    assert creds.get_frozen_credentials().access_key == "AK2"  # inside botocore's mandatory window: renewed
    assert creds.get_frozen_credentials().access_key == "AK2" and fetched == ["AssumeRole"]  # and only once


def test_accounts_file_reads_ids_comments_and_names_a_bad_line(tmp_path: Path) -> None:
    good = tmp_path / "accounts.txt"
    good.write_text(f"# the fleet\n{ACCOUNTS[0]}\n\n  {ACCOUNTS[1]}  # billing\n{ACCOUNTS[0]}\n")
    assert read_accounts_file(good) == [ACCOUNTS[0], ACCOUNTS[1], ACCOUNTS[0]]
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{ACCOUNTS[0]}\n12345\n")
    with pytest.raises(UserError) as info:
        read_accounts_file(bad)
    assert info.value.render().endswith("bad.txt:2: '12345' is not a 12-digit AWS account ID; write one account "
                                        "ID a line (# starts a comment)")


class SlowLambda(FakeLambda):
    """Answers after 20 ms, like a far endpoint: the scan is still running when Ctrl-C is handled."""

    def _enter(self, operation: str) -> None:
        time.sleep(0.02)
        super()._enter(operation)


def ctrl_c() -> None:
    """What the terminal does on Ctrl-C: SIGINT, to the main thread (the scan runs in worker threads)."""
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


class InterruptingLambda(SlowLambda):
    """Ctrl-C arrives while this scope is being listed."""

    def list_functions(self, **kw: Any) -> dict[str, Any]:
        ctrl_c()
        return super().list_functions(**kw)


def test_ctrl_c_during_the_scan_reports_what_was_scanned_and_marks_the_rest() -> None:
    factory = fleet()
    factory.unassumable.clear()
    factory.lambdas[(ACCOUNTS[1], "us-east-1")].throttle = 0
    for (account, region), fake in list(factory.lambdas.items()):
        kind = InterruptingLambda if (account, region) == (ACCOUNTS[0], "eu-west-1") else SlowLambda
        factory.lambdas[account, region] = kind(account, region, fake.layers, fake.functions, fake.aliases,
                                                fake.policies)
    call = no_wait()
    with interruptible(call):
        inv = scan(factory, ACCOUNTS, REGIONS, MATCHER, call=call, workers=1)
    assert inv.interrupted
    failed = [Target(f.account, f.region or "") for f in inv.failures]
    assert failed and all(f.message == "interrupted (Ctrl-C) before it was scanned" for f in inv.failures)
    assert failed == list(inv.targets[-len(failed):])  # the scopes after the interruption, none before
    assert {Target(HOME, r) for r in REGIONS} <= {a.target for a in inv.attachments} | {v.target for v in inv.versions}
    assert factory.lambdas[(ACCOUNTS[5], "ap-south-1")].calls == []  # nothing new started
    assert "INCOMPLETE (interrupted)" in summary(inv)


class InterruptingDelete(FakeLambda):
    def delete_layer_version(self, **kw: Any) -> dict[str, Any]:
        answer = super().delete_layer_version(**kw)
        ctrl_c()
        time.sleep(0.1)  # the answer is still on its way when the handler runs
        return answer


def test_ctrl_c_during_prune_finishes_the_deletion_under_way_and_starts_no_other() -> None:
    factory = FakeFactory(HOME)
    fake = factory.lambdas[(HOME, "eu-west-1")] = InterruptingDelete(HOME, "eu-west-1")
    for _ in range(4):
        fake.publish("layersmith-dev-utils")
    call = no_wait()
    inv = scan(factory, [], ["eu-west-1"], MATCHER, call=call)
    plan = select_prunable(inv, keep=1)
    assert len(plan.deletions) == 3
    with interruptible(call):
        result = execute(plan, factory, inv.targets, MATCHER, call=call)
    assert result.interrupted and [r.version for r in result.deleted] == [3]
    assert fake.deleted == [("layersmith-dev-utils", 3)]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_progress_bar_with_calls_and_throttles_elsewhere_plain_lines() -> None:
    plain = io.StringIO()
    assert type(for_stream(plain)) is ScanProgress
    scan(fleet(), ACCOUNTS[:2], REGIONS[:1], MATCHER, call=no_wait(), progress=for_stream(plain))
    assert plain.getvalue().splitlines()[0] == "  scanning 3 account(s) × 1 region(s): 3 scopes, 3 at a time"
    screen = Terminal()
    bar = for_stream(screen)
    assert isinstance(bar, RichProgress)
    factory = fleet()
    factory.lambdas[(ACCOUNTS[1], "eu-west-1")].throttle = 1000
    scan(factory, ACCOUNTS[:2], REGIONS[:1], MATCHER, call=no_wait(), progress=bar)
    shown = screen.getvalue()
    assert "scopes ·" in shown and "calls ·" in shown and "throttled" in shown and "ETA" in shown
    assert f"{ACCOUNTS[1]}/eu-west-1: FAILED: lambda:ListLayers: still throttled" in shown  # printed above the bar


def test_a_caller_still_pickles_as_its_settings() -> None:
    """`Caller` sits inside objects Pulumi's dynamic providers may pickle; its locks must not travel."""
    copy = pickle.loads(pickle.dumps(Caller(attempts=3, base_delay=0.1)))
    assert (copy.attempts, copy.base_delay, copy.stats.calls, copy.stop.is_set()) == (3, 0.1, 0, False)
