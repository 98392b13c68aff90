"""The Lambda `context` of `layersmith invoke`: its remaining time, read from a clock the test moves.

The functional tests (tests/functional/test_invoke.py) run real invocations, where the scheduler of a
loaded machine decides how much time passes; the exact arithmetic is pinned here instead.
"""

from __future__ import annotations

import pytest

from layersmith.local import bootstrap as invoke_bootstrap


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    clock = Monotonic()
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "probe")
    monkeypatch.setattr(invoke_bootstrap.time, "monotonic", clock)
    return clock


def test_remaining_time_counts_down_from_the_functions_timeout(monotonic: Monotonic) -> None:
    context = invoke_bootstrap.LambdaContext(7.0)
    assert context.get_remaining_time_in_millis() == 7000  # the whole timeout, at the start of the invocation
    monotonic.now += 0.3
    assert context.get_remaining_time_in_millis() == 6700
    monotonic.now += 6.6995
    assert context.get_remaining_time_in_millis() == 0  # under a millisecond left: truncated, as Lambda does


def test_remaining_time_never_goes_negative(monotonic: Monotonic) -> None:
    context = invoke_bootstrap.LambdaContext(1.0)
    monotonic.now += 5
    assert context.get_remaining_time_in_millis() == 0


def test_time_before_the_context_exists_is_not_counted(monotonic: Monotonic) -> None:
    monotonic.now += 1.5  # the init phase (module import) runs before the context is made
    context = invoke_bootstrap.LambdaContext(1.0)
    assert context.get_remaining_time_in_millis() == 1000
