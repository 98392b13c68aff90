"""Bounded retries with capped exponential backoff.

Bounded because a Lambda invocation has a hard timeout: unbounded retries just turn a transient
error into a timeout with no error message. Retry only the exception types you name — retrying a
`ValueError` repeats a bug. Jitter is the "full jitter" of the AWS Architecture Blog's
"Exponential Backoff And Jitter": sleep uniform(0, delay), which spreads retrying clients apart.
`sleep` and `random` are injectable so tests neither sleep nor depend on chance.
"""

from __future__ import annotations

import functools
import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

OnRetry = Callable[[int, BaseException, float], None]  # (attempt that failed, error, delay)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # total calls, including the first
    base_delay: float = 0.1  # seconds before the 2nd attempt
    max_delay: float = 5.0  # cap for any single sleep
    multiplier: float = 2.0
    jitter: bool = False
    retry_on: tuple[type[BaseException], ...] = (Exception,)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {self.attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("base_delay and max_delay must be >= 0")
        if self.multiplier < 1:
            raise ValueError(f"multiplier must be >= 1, got {self.multiplier}")
        if not self.retry_on:
            raise ValueError("retry_on must name at least one exception type")

    def delay(self, retry_number: int, random: Callable[[], float] = _random.random) -> float:
        """Seconds to wait before retry `retry_number` (1 = the wait before the 2nd attempt)."""
        capped = min(self.max_delay, self.base_delay * self.multiplier ** (retry_number - 1))
        return capped * random() if self.jitter else capped


def call_with_retry(fn: Callable[[], T], policy: RetryPolicy | None = None, *,
                    sleep: Callable[[float], None] = time.sleep,
                    random: Callable[[], float] = _random.random,
                    on_retry: OnRetry | None = None) -> T:
    """Call `fn()` until it returns, raises a non-retryable error, or attempts run out.

    The final error is re-raised unchanged (callers keep catching their own types), with a note
    saying how many attempts were made.
    """
    policy = policy or RetryPolicy()
    for attempt in range(1, policy.attempts + 1):
        try:
            return fn()
        except policy.retry_on as exc:
            if attempt == policy.attempts:
                exc.add_note(f"gave up after {attempt} attempt(s)")
                raise
            wait = policy.delay(attempt, random)
            if on_retry is not None:
                on_retry(attempt, exc, wait)
            sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def retry(*, attempts: int = 3, retry_on: tuple[type[BaseException], ...] = (Exception,),
          base_delay: float = 0.1, max_delay: float = 5.0, multiplier: float = 2.0, jitter: bool = False,
          sleep: Callable[[float], None] = time.sleep, random: Callable[[], float] = _random.random,
          on_retry: OnRetry | None = None) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorator form of `call_with_retry`; the policy is validated when decorating, not calling."""
    policy = RetryPolicy(attempts=attempts, base_delay=base_delay, max_delay=max_delay,
                         multiplier=multiplier, jitter=jitter, retry_on=retry_on)

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return call_with_retry(lambda: fn(*args, **kwargs), policy, sleep=sleep, random=random,
                                   on_retry=on_retry)
        return wrapper

    return decorate
