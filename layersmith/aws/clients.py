"""The seam between layersmith and AWS: Lambda clients per (account, region), retries, one-line errors.

`Boto3ClientFactory` uses the user's normal credential chain for their own account and assumes
`arn:<partition>:iam::<account>:role/<role-name>` for every other one. boto3 honours
`AWS_ENDPOINT_URL` natively, which is how the tests point it at `moto_server` on loopback.
Tests can also hand the scanner any object with the `ClientFactory` shape (a fake that throttles,
or refuses a role) — no `mock.patch` (docs/architecture.md#tests-use-fakes-not-patches).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from layersmith.errors import AwsError, ScanInterrupted, UserError
from layersmith.regions import lambda_regions, partition_of, region_problem

T = TypeVar("T")

THROTTLING = frozenset({"ThrottlingException", "TooManyRequestsException", "Throttling",
                        "RequestLimitExceeded", "ThrottledException"})
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
BAD_CREDENTIALS = frozenset({"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                             "UnrecognizedClientException", "SignatureDoesNotMatch"})
# AWS Lambda quotas, "Lambda API requests" (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
# control-plane API requests (everything but invocations, GetFunction and GetPolicy) are limited to 15
# requests per second per account and Region, across all APIs, and cannot be raised. Each (account,
# region) is paced below that, leaving room for the team's own deploys running at the same time.
CONTROL_PLANE_QUOTA = 15.0
PACE = 10.0
_ACCOUNT = re.compile(r"^\d{12}$")
DEFAULT_ROLE = "layersmith-inventory"


class LambdaApi(Protocol):
    """The Lambda operations inventory and prune use (a boto3 client satisfies it)."""

    def list_layers(self, **kwargs: Any) -> dict[str, Any]: ...
    def list_layer_versions(self, **kwargs: Any) -> dict[str, Any]: ...
    def get_layer_version(self, **kwargs: Any) -> dict[str, Any]: ...
    def get_layer_version_policy(self, **kwargs: Any) -> dict[str, Any]: ...
    def list_functions(self, **kwargs: Any) -> dict[str, Any]: ...
    def list_aliases(self, **kwargs: Any) -> dict[str, Any]: ...
    def delete_layer_version(self, **kwargs: Any) -> dict[str, Any]: ...


class ClientFactory(Protocol):
    def home_account(self) -> str:
        """The account of the user's own credentials; raises `AwsError` when there are none."""
        ...

    def lambda_client(self, account: str, region: str) -> LambdaApi:

        """A client acting in `account`; raises `AwsError` when its role cannot be assumed. Called from
        several threads at once: one client per (account, region), made once."""
        ...

    def organization_accounts(self) -> list[str]:
        """The ACTIVE accounts of the organization; `AwsError` naming the permission when refused."""
        ...


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def describe(exc: BaseException, what: str) -> str:
    """One line saying what failed and what to do about it."""
    code = error_code(exc)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ("no AWS credentials found; configure them (aws configure, AWS_PROFILE or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and retry")
    if isinstance(exc, NoRegionError):
        return "no AWS region configured; pass --regions or set AWS_REGION"
    if isinstance(exc, EndpointConnectionError):
        return f"{what}: cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}; check the network/region"
    if code in THROTTLING:
        return f"{what}: still throttled ({code}) after retries; retry later or scan fewer accounts/regions"
    if code in DENIED:
        return f"{what}: access denied ({code}); grant that permission to the credentials or role used"
    if code in BAD_CREDENTIALS:
        return f"{what}: credentials rejected ({code}); refresh them (e.g. aws sso login) and retry"
    if isinstance(exc, ClientError):
        message = str(exc.response.get("Error", {}).get("Message", "")).splitlines()[0:1]
        return f"{what}: {code or 'error'}: {''.join(message)}".rstrip(": ")
    return f"{what}: {type(exc).__name__}: {exc}"


class Pacer:
    """An adaptive request pace for one (account, region), shared by every thread calling there.

    Requests are spaced `1/rate` apart; a throttled answer halves the rate (down to `floor`), each
    success wins a little back (up to the starting rate): additive increase, multiplicative decrease,
    the scheme botocore's adaptive mode and TCP use, so a busy account slows us down by itself."""

    def __init__(self, rate: float = PACE, *, floor: float = 0.5, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.ceiling = min(rate, CONTROL_PLANE_QUOTA)
        self.rate = self.ceiling
        self._floor = floor
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            at = max(now, self._next)
            self._next = at + 1.0 / self.rate
        if at > now:
            self._sleep(at - now)

    def throttled(self) -> None:
        with self._lock:
            self.rate = max(self._floor, self.rate / 2)

    def succeeded(self) -> None:
        with self._lock:
            self.rate = min(self.ceiling, self.rate + 0.1)


class PacerPool:
    """One `Pacer` per (account, region), created on first use: scan, re-check and delete share it."""

    def __init__(self, rate: float = PACE) -> None:
        self._rate = rate
        self._pacers: dict[tuple[str, str], Pacer] = {}
        self._lock = threading.Lock()

    def get(self, account: str, region: str) -> Pacer:
        with self._lock:
            return self._pacers.setdefault((account, region), Pacer(self._rate))


@dataclass
class CallStats:
    """Calls and throttled answers of a whole run (every thread), for the progress display and bench."""

    calls: int = 0
    throttles: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, *, throttled: bool = False) -> None:
        with self._lock:
            self.calls += 1
            self.throttles += throttled


@dataclass(frozen=True)
class Caller:
    """Makes one AWS call: retries throttling a bounded number of times, then raises `AwsError`.

    `at(account, region)` gives the caller for one (account, region): same stats and stop flag, its pace.
    Once `stop` is set (Ctrl-C) no new call starts: `ScanInterrupted` is raised instead."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    stats: CallStats = field(default_factory=CallStats)
    stop: threading.Event = field(default_factory=threading.Event)
    pacers: PacerPool | None = field(default_factory=PacerPool)
    pacer: Pacer | None = None

    def __reduce__(self) -> tuple[type[Caller], tuple[int, float, float, Callable[[float], None]]]:
        """Pickled (inside a Pulumi dynamic provider's state, say) as its settings: locks and counters of
        a run do not travel; the copy starts its own."""
        return Caller, (self.attempts, self.base_delay, self.max_delay, self.sleep)

    def at(self, account: str, region: str) -> Caller:
        """This caller for calls in one (account, region): paced by that pair's `Pacer` (`pacers=None`:
        unpaced, for tests that count calls rather than time)."""
        return replace(self, pacer=self.pacers.get(account, region) if self.pacers is not None else None)

    def __call__(self, fn: Callable[[], T], what: str) -> T:
        for attempt in range(1, self.attempts + 1):
            if self.stop.is_set():
                raise ScanInterrupted(f"{what}: interrupted (Ctrl-C) before this call")
            if self.pacer is not None:
                self.pacer.wait()
            try:
                result = fn()
            except (ClientError, BotoCoreError) as exc:
                throttled = error_code(exc) in THROTTLING
                self.stats.count(throttled=throttled)
                if not throttled or attempt == self.attempts:
                    raise AwsError(describe(exc, what)) from exc
                if self.pacer is not None:
                    self.pacer.throttled()
            else:
                self.stats.count()
                if self.pacer is not None:
                    self.pacer.succeeded()
                return result
            # Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").
            self.sleep(random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1))))
        raise AssertionError("unreachable")

    def pages(self, call: Callable[..., dict[str, Any]], key: str, what: str,
              **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Items of a Lambda `Marker`/`NextMarker` paginated listing."""
        marker: str | None = None
        while True:
            args = {**kwargs, **({"Marker": marker} if marker else {})}
            page = self(functools.partial(call, **args), what)
            yield from page.get(key, [])
            marker = page.get("NextMarker")
            if not marker:
                return


def _metadata(creds: dict[str, Any]) -> dict[str, str]:
    expiry = creds["Expiration"]
    when = expiry.isoformat() if isinstance(expiry, dt.datetime) else str(expiry)
    return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"], "expiry_time": when}


class Boto3ClientFactory:
    """Real boto3: the default credential chain for the home account, AssumeRole for the others.

    Safe to share between threads: each account's role is assumed once (a refusal is remembered, so the
    account's other regions do not ask again) and one client is made per (account, region) and reused."""

    def __init__(self, role_name: str = DEFAULT_ROLE, *, session: Any = None, caller: Caller | None = None,
                 sts_region: str | None = None) -> None:
        if session is None:
            from layersmith.aws.sessions import make_session

            session = make_session()
        self._session = session
        self._role_name = role_name
        self._call = caller or Caller()
        self._sts_region = sts_region
        self._identity: dict[str, Any] | None = None
        self._assumed: dict[str, Any] = {}
        self._refused: dict[str, AwsError] = {}
        self._clients: dict[tuple[str, str], LambdaApi] = {}
        # Locks are per account: a boto3 Session is not thread-safe, so the clients of one session are made
        # one at a time, but accounts proceed side by side (one global lock made every thread queue behind
        # each 30-90 ms client creation: measured, it was most of a fleet scan's time). `_lock` guards only
        # the dictionaries, never a call.
        self._lock = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = {}
        self._sts_client: Any = None

    def _account_lock(self, account: str) -> threading.Lock:
        with self._lock:
            return self._account_locks.setdefault(account, threading.Lock())

    def _sts(self) -> Any:
        """One STS client on the user's own session (clients, unlike sessions, are thread-safe)."""
        from layersmith.aws.sessions import boto_config

        with self._account_lock(""):  # "" : the user's own session, before its account is known
            if self._sts_client is None:
                self._sts_client = self._session.client(
                    "sts", region_name=self._sts_region or self._session.region_name or "us-east-1",
                    config=boto_config())
            return self._sts_client

    def home_account(self) -> str:
        identity = self._identity
        if identity is None:
            sts = self._sts()
            with self._account_lock("identity"):
                if self._identity is None:
                    self._identity = self._call(sts.get_caller_identity, "sts:GetCallerIdentity")
                identity = self._identity
        return str(identity["Account"])

    def role_arn(self, account: str) -> str:
        self.home_account()
        partition = str((self._identity or {}).get("Arn", "arn:aws:")).split(":")[1] or "aws"
        return f"arn:{partition}:iam::{account}:role/{self._role_name}"

    def _assume(self, account: str) -> Any:
        arn = self.role_arn(account)
        sts = self._sts()

        def fetch() -> dict[str, str]:
            try:
                answer = self._call(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="layersmith-inventory"),
                                    f"cannot assume {arn}")
            except AwsError as exc:
                if error_code(exc.__cause__ or exc) in DENIED:
                    raise AwsError(f"cannot assume {arn}: access denied; check that the role exists in "
                                   f"{account} and trusts your identity, or pass --role-name") from exc
                raise
            return _metadata(answer["Credentials"])

        first = fetch()  # a refused role fails here, before anything is built
        from layersmith.aws.sessions import assumed_session

        return assumed_session(self._session, fetch, first)

    def _session_for(self, account: str) -> Any:
        """The account's session; call with its `_account_lock` held."""
        if account == self.home_account():
            return self._session
        if account in self._refused:
            raise self._refused[account]
        if account not in self._assumed:  # one AssumeRole per account, however many of its regions start at once
            try:
                self._assumed[account] = self._assume(account)
            except AwsError as exc:
                if not isinstance(exc, ScanInterrupted):
                    self._refused[account] = exc
                raise
        return self._assumed[account]

    def lambda_client(self, account: str, region: str) -> LambdaApi:
        from layersmith.aws.sessions import boto_config

        client = self._clients.get((account, region))
        if client is not None:
            return client
        home = account == self.home_account()
        with self._account_lock("" if home else account):  # the home session is the STS client's too
            if (account, region) not in self._clients:
                session = self._session_for(account)
                self._clients[account, region] = session.client("lambda", region_name=region, config=boto_config())
            return self._clients[account, region]

    def organization_accounts(self) -> list[str]:
        """The ACTIVE accounts of the caller's organization (management account or delegated admin)."""
        from layersmith.aws.sessions import boto_config

        with self._account_lock(""):
            client = self._session.client("organizations", region_name=self._sts_region or "us-east-1",
                                          config=boto_config())
        return organization_accounts(client, self._call)


ORG_PERMISSION = "organizations:ListAccounts"


def organization_accounts(client: Any, call: Caller) -> list[str]:
    """`ListAccounts` pages; the ACTIVE accounts (SUSPENDED/PENDING_CLOSURE ones cannot be scanned).

    Only the management account or a delegated administrator may call it (Organizations API reference,
    ListAccounts); anyone else gets AccessDeniedException, said here in one line naming the permission."""
    accounts: list[str] = []
    token: str | None = None
    while True:
        kwargs = {"NextToken": token} if token else {}
        try:
            page = call(functools.partial(client.list_accounts, **kwargs), ORG_PERMISSION)
        except AwsError as exc:
            raise _organization_error(exc) from exc
        # `Status` is being replaced by `State` (2025); either says ACTIVE for an account that can be scanned.
        accounts += [str(a["Id"]) for a in page.get("Accounts", [])
                     if (a.get("State") or a.get("Status")) == "ACTIVE"]
        token = page.get("NextToken")
        if not token:
            return accounts


def _organization_error(exc: AwsError) -> AwsError:
    """ListAccounts' refusals, said in one line with what to do; any other error as it came."""
    code = error_code(exc.__cause__ or exc)
    if code in DENIED:
        return AwsError(f"--organization: access denied calling {ORG_PERMISSION}; run from the "
                        "organization's management account or a delegated administrator, with that permission")
    if code == "AWSOrganizationsNotInUseException":
        return AwsError("--organization: this account is not in an organization; list the accounts "
                        "with --accounts or --accounts-file")
    return exc


def partition_regions(region: str | None) -> list[str]:
    """`--regions all`: every region Lambda is offered in, in the partition of `region` (the configured
    one; aws-cn and aws-us-gov credentials cannot reach the others), from the one region validator's
    data (botocore's endpoint data, `layersmith.regions`)."""
    return list(lambda_regions(partition_of(region)))


def check_regions(regions: list[str], known: set[str] | None = None) -> list[str]:
    """`--regions`, checked by the same validator as the stack files (`layersmith.regions`)."""
    for region in regions:
        problem = region_problem(region, known)
        if problem is not None:
            raise UserError(problem, key="--regions")
    return regions


def check_accounts(accounts: list[str]) -> list[str]:
    for account in accounts:
        if not _ACCOUNT.match(account):
            raise UserError(f"{account!r} is not a 12-digit AWS account ID", key="--accounts")
    return list(dict.fromkeys(accounts))  # an account listed twice is scanned once


def read_accounts_file(path: Path) -> list[str]:
    """One 12-digit account ID a line; `#` starts a comment, blank lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise UserError(f"cannot read the accounts file ({reason}); pass a readable text file", key="--accounts-file",
                        path=path) from None
    accounts: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        if not _ACCOUNT.match(value):
            raise UserError(f"{value!r} is not a 12-digit AWS account ID; write one account ID a line "
                            "(# starts a comment)", path=f"{path}:{number}")
        accounts.append(value)
    return accounts
