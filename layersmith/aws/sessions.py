"""boto3 sessions: the user's credential chain, assumed roles, the client config.

Apart from `layersmith.aws.clients` so that importing the clients' seam costs no boto3: boto3 and
botocore's session, config and credentials modules took ~0.3 s of every command that reads the
project (measured here), and only commands that talk to AWS need them. Their users import this
module where they make a session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials
from botocore.exceptions import ConfigParseError, ProfileNotFound

from layersmith.errors import AwsError, EnvironmentProblem


@cache
def boto_config() -> Config:
    # Our own bounded retry is the only one: botocore's would multiply it (5 x 3 attempts). botocore's
    # `adaptive` mode does recognise Lambda's 429 (botocore/retries/standard.py lists TooManyRequestsException
    # among the throttling codes) and rate-limits per client; `clients.Pacer` does the same per (account,
    # region) — one client each — and also paces the test fakes, so botocore's stays off.
    return Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=10,
                  read_timeout=30, max_pool_connections=4)


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


class AssumedRole(CredentialProvider):  # type: ignore[misc]  # botocore is untyped
    """Credentials of an assumed role that renew themselves before they expire.

    botocore's `RefreshableCredentials` calls `fetch` again once the expiry is within its advisory window
    (15 minutes) and blocks callers inside the mandatory one (10 minutes), under its own lock: a scan or
    prune that outlives the role session (1 hour by default) goes on, and every thread shares one renewal.
    `first` is the answer of the first AssumeRole, made eagerly so a refused role fails in one place."""

    METHOD = "layersmith-assume-role"

    def __init__(self, fetch: Callable[[], dict[str, str]], first: dict[str, str]) -> None:
        super().__init__()
        self._fetch, self._first = fetch, first

    def load(self) -> RefreshableCredentials:
        return RefreshableCredentials.create_from_metadata(self._first, self._fetch, self.METHOD)


def assumed_session(home: Any, fetch: Callable[[], dict[str, str]], first: dict[str, str]) -> Any:
    """A session on an assumed role's renewing credentials (`AssumedRole`), beside `home`."""
    core = botocore.session.get_session()
    # A fresh botocore session parses the service models and endpoint rules again: ~0.7 s of CPU per
    # account, measured here — 70 s for 100 accounts. The loader (an in-memory cache of those files)
    # is shared instead; what it holds never changes during a run.
    home_core = getattr(home, "_session", None)
    if home_core is not None:
        core.register_component("data_loader", home_core.get_component("data_loader"))
    core.register_component("credential_provider", CredentialResolver([AssumedRole(fetch, first)]))
    return boto3.Session(botocore_session=core, region_name=home.region_name)
