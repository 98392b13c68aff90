"""Grant reconciliation (`layersmith.aws.grants.VersionPolicy`) as properties, on the faithful
in-memory Lambda (`aws_fakes.FakeLambda`), checked against a small reference model written here
from the Lambda API reference's shapes, not from layersmith's parser:

* one `reconcile` from any starting policy leaves exactly the desired layersmith statements, with
  exactly the adds and removes the model predicts;
* statements layersmith does not own (no `layersmith-` id prefix) are left byte-for-byte alone;
* a second `reconcile` makes no Add/Remove call;
* two owners of one version with the same desired set (its current and a pinned grant) converge,
  whichever point of one owner's run the other runs in full.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aws_fakes import FakeLambda
from hypothesis import given
from hypothesis import strategies as st

from layersmith.aws.clients import Caller
from layersmith.aws.grants import PREFIX, Statement, VersionPolicy, desired_statements
from layersmith.model import ShareWith

ACCOUNT, REGION, LAYER = "111111111111", "eu-west-1", "layersmith-prod-utils"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{LAYER}"
ACCOUNTS = ("222222222222", "333333333333", "444444444444", "555555555555")
ORGS = ("o-aaaaaaaaaa", "o-bbbbbbbbbb")
MUTATIONS = ("AddLayerVersionPermission", "RemoveLayerVersionPermission")


# --- the reference model ---------------------------------------------------------------------------

def written(principal: str, org: str | None, sid: str) -> dict[str, Any]:
    """A statement as AddLayerVersionPermission writes it (API reference / the fidelity patch)."""
    out: dict[str, Any] = {"Sid": sid, "Effect": "Allow",
                           "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
                           "Action": "lambda:GetLayerVersion", "Resource": f"{ARN}:1"}
    if org:
        out["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": org}}
    return out


def grant_of(statement: dict[str, Any]) -> tuple[Any, Any]:
    """What a statement grants, compared as AWS wrote it (principal shape, condition)."""
    return statement["Principal"], statement.get("Condition")


@dataclass
class Expected:
    statements: dict[str, dict[str, Any]]
    added: tuple[str, ...]
    removed: tuple[str, ...]


def model(start: list[dict[str, Any]], desired: list[Statement]) -> Expected:
    wanted = {s.sid: written(s.principal, s.organization_id, s.sid) for s in desired}
    have = {s["Sid"]: s for s in start}
    owned = {sid for sid in have if sid.startswith(PREFIX)}
    same = {sid for sid in owned & set(wanted) if grant_of(have[sid]) == grant_of(wanted[sid])}
    foreign = {sid: s for sid, s in have.items() if sid not in owned}
    return Expected({**foreign, **wanted}, tuple(sorted(set(wanted) - same)), tuple(sorted(owned - same)))


# --- strategies ------------------------------------------------------------------------------------

shares = st.builds(lambda accounts, orgs, public: ShareWith(accounts=tuple(sorted(accounts)),
                                                            organizations=tuple(sorted(orgs)), public=public),
                   st.sets(st.sampled_from(ACCOUNTS)), st.sets(st.sampled_from(ORGS)), st.booleans())
principals = st.sampled_from(("*", *ACCOUNTS))
orgs = st.none() | st.sampled_from(ORGS)
owned_sids = st.sampled_from([f"{PREFIX}account-{a}" for a in ACCOUNTS] + [f"{PREFIX}org-{o}" for o in ORGS]
                             + [f"{PREFIX}public", f"{PREFIX}account-999999999999", f"{PREFIX}legacy"])
foreign_sids = st.sampled_from(("manual", "partner-share", "ops-1", "Layersmith-upper", "xlayersmith-account-1"))


@st.composite
def policies(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Any policy AddLayerVersionPermission could have written: owned and foreign statements,
    right or wrong content, unique ids."""
    sids = draw(st.lists(owned_sids | foreign_sids, unique=True, max_size=8))
    return [written(draw(principals), draw(orgs), sid) for sid in sids]


@dataclass
class Version:
    """Version 1 of the layer on the fake, seeded with `start`."""

    start: list[dict[str, Any]]
    lam: FakeLambda = field(init=False)

    def __post_init__(self) -> None:
        self.lam = FakeLambda(ACCOUNT, REGION)
        self.lam.publish(LAYER)
        if self.start:
            self.lam.policies[(LAYER, 1)] = {"Policy": json.dumps({"Version": "2012-10-17", "Statement": self.start}),
                                             "RevisionId": "seed"}

    def owner(self, api: Any = None) -> VersionPolicy:
        return VersionPolicy(api or self.lam, ARN, 1, Caller(sleep=lambda _s: None))

    def statements(self) -> dict[str, dict[str, Any]]:
        held = self.lam.policies.get((LAYER, 1))
        return {s["Sid"]: s for s in json.loads(held["Policy"])["Statement"]} if held else {}

    def mutations(self) -> list[str]:
        return [c for c in self.lam.calls if c in MUTATIONS]


# --- properties ------------------------------------------------------------------------------------

@given(start=policies(), share=shares)
def test_one_reconcile_reaches_the_desired_set_and_leaves_foreign_statements_alone(
        start: list[dict[str, Any]], share: ShareWith) -> None:
    desired = desired_statements(share)
    expected = model(start, desired)
    version = Version(start)
    changes = version.owner().reconcile(desired)
    assert version.statements() == expected.statements  # foreign ones verbatim, owned ones exactly desired
    assert (changes.added, changes.removed) == (expected.added, expected.removed)
    assert version.mutations().count("AddLayerVersionPermission") == len(expected.added)
    assert version.mutations().count("RemoveLayerVersionPermission") == len(expected.removed)


@given(start=policies(), share=shares)
def test_a_second_reconcile_changes_nothing(start: list[dict[str, Any]], share: ShareWith) -> None:
    desired = desired_statements(share)
    version = Version(start)
    version.owner().reconcile(desired)
    before, calls = version.statements(), len(version.lam.calls)
    changes = version.owner().reconcile(desired)
    assert version.mutations() == [c for c in version.lam.calls[:calls] if c in MUTATIONS]  # none added
    assert changes.added == changes.removed == () and version.statements() == before


class Interleaved:
    """The Lambda API as owner B sees it: after B's `at`-th call, owner A runs a whole reconcile."""

    def __init__(self, lam: FakeLambda, at: int, other: VersionPolicy, desired: list[Statement]) -> None:
        self.lam, self.at, self.other, self.desired, self.count = lam, at, other, desired, 0

    def __getattr__(self, operation: str) -> Any:
        method = getattr(self.lam, operation)

        def call(**kwargs: Any) -> Any:
            try:
                return method(**kwargs)
            finally:
                self.count += 1
                if self.count == self.at:
                    self.other.reconcile(self.desired)

        return call


@given(start=policies(), share=shares, at=st.integers(min_value=1, max_value=12))
def test_two_owners_with_the_same_desired_set_converge(start: list[dict[str, Any]], share: ShareWith,
                                                       at: int) -> None:
    desired = desired_statements(share)
    version = Version(start)
    first = version.owner()
    second = version.owner(Interleaved(version.lam, at, first, desired))
    second.reconcile(desired)
    assert version.statements() == model(start, desired).statements
    calls = len(version.lam.calls)
    first.reconcile(desired)
    second.reconcile(desired)
    assert [c for c in version.lam.calls[calls:] if c in MUTATIONS] == []  # both see it done
