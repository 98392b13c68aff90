"""The seam between layersmith and AWS: Lambda clients per (account, region), retries, one-line errors.

`Boto3ClientFactory` uses the user's normal credential chain for their own account and assumes
`arn:<partition>:iam::<account>:role/<role-name>` for every other one. boto3 honours
`AWS_ENDPOINT_URL` natively, which is how the tests point it at `moto_server` on loopback.
Tests can also hand the scanner any object with the `ClientFactory` shape (a fake that throttles,
or refuses a role) — no `mock.patch` (docs/architecture.md#tests-use-fakes-not-patches).
"""

from __future__ import annotations

import functools
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConfigParseError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from layersmith.errors import AwsError, EnvironmentProblem, UserError
from layersmith.regions import region_problem

T = TypeVar("T")

THROTTLING = frozenset({"ThrottlingException", "TooManyRequestsException", "Throttling",
                        "RequestLimitExceeded", "ThrottledException"})
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
BAD_CREDENTIALS = frozenset({"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                             "UnrecognizedClientException", "SignatureDoesNotMatch"})
# Our own bounded retry is the only one: botocore's would multiply it (5 x 3 attempts).
BOTO_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=10,
                     read_timeout=30)
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
        """A client acting in `account`; raises `AwsError` when its role cannot be assumed."""
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


@dataclass(frozen=True)
class Caller:
    """Makes one AWS call: retries throttling a bounded number of times, then raises `AwsError`."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def __call__(self, fn: Callable[[], T], what: str) -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except (ClientError, BotoCoreError) as exc:
                if error_code(exc) not in THROTTLING or attempt == self.attempts:
                    raise AwsError(describe(exc, what)) from exc
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


def make_session(profile: str | None = None, *, source: str = "--profile") -> Any:
    """A boto3 session on the user's credential chain, `profile` (else `AWS_PROFILE`) selecting one.
    A profile that is not configured, or an AWS config file that does not parse, is the user's
    environment to fix, said in one line: boto3 raises both from the constructor, before any call."""
    try:
        return boto3.Session(profile_name=profile) if profile else boto3.Session()
    except ConfigParseError as exc:  # a broken ~/.aws/config (or AWS_CONFIG_FILE): the machine's to fix
        where = exc.kwargs.get("path", "your AWS config file")
        raise EnvironmentProblem(f"cannot parse the AWS config file {where}; fix its syntax (INI: [profile name] "
                                 "sections of key = value lines) or point AWS_CONFIG_FILE at a valid one") from None
    except ProfileNotFound as exc:
        name = profile or exc.kwargs.get("profile", "?")
        where = source if profile else "AWS_PROFILE"
        raise AwsError(f"AWS profile {name!r} ({where}) is not in your AWS config files; fix the name or run "
                       f"`aws configure --profile {name}`") from None


class Boto3ClientFactory:
    """Real boto3: the default credential chain for the home account, AssumeRole for the others."""

    def __init__(self, role_name: str = DEFAULT_ROLE, *, session: Any = None, caller: Caller | None = None,
                 sts_region: str | None = None) -> None:
        self._session = session if session is not None else make_session()
        self._role_name = role_name
        self._call = caller or Caller()
        self._sts_region = sts_region
        self._identity: dict[str, Any] | None = None
        self._assumed: dict[str, Any] = {}

    def _sts(self, session: Any) -> Any:
        return session.client("sts", region_name=self._sts_region or session.region_name or "us-east-1",
                              config=BOTO_CONFIG)

    def home_account(self) -> str:
        if self._identity is None:
            sts = self._sts(self._session)
            self._identity = self._call(sts.get_caller_identity, "sts:GetCallerIdentity")
        return str(self._identity["Account"])

    def role_arn(self, account: str) -> str:
        self.home_account()
        partition = str((self._identity or {}).get("Arn", "arn:aws:")).split(":")[1] or "aws"
        return f"arn:{partition}:iam::{account}:role/{self._role_name}"

    def _session_for(self, account: str) -> Any:
        if account == self.home_account():
            return self._session
        if account not in self._assumed:
            arn = self.role_arn(account)
            sts = self._sts(self._session)
            try:
                creds = self._call(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="layersmith-inventory"),
                                   f"cannot assume {arn}")["Credentials"]
            except AwsError as exc:
                if error_code(exc.__cause__ or exc) in DENIED:
                    raise AwsError(f"cannot assume {arn}: access denied; check that the role exists in "
                                   f"{account} and trusts your identity, or pass --role-name") from exc
                raise
            self._assumed[account] = boto3.Session(
                aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"], region_name=self._session.region_name)
        return self._assumed[account]

    def lambda_client(self, account: str, region: str) -> LambdaApi:
        client: LambdaApi = self._session_for(account).client("lambda", region_name=region, config=BOTO_CONFIG)
        return client


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
    return accounts
