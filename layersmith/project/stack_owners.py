"""One owner per physical name: two committed stacks with the same `layersmith:namePrefix` in one
account and region are refused.

Physical layer and function names are `<namePrefix>-…` (`naming.py`), so two such stacks publish
versions of the *same* Lambda layers, and each stack's `LayerGrants` reconciles that layer's policy
to its own `shareWith`: it revokes the other stack's principals, and the policy flips on every
refresh + up. There is no sound shared ownership (each stack's state claims the whole policy), so
the second owner is refused, naming both stack files.

What counts as "the same account": a stack file does not have to say which account it deploys to
(the credentials decide, and they are unknown offline). Two stacks are taken to be in *different*
accounts only when both declare `aws:allowedAccountIds` (pulumi-aws refuses to run in any other
account, so that declaration is enforced) and the lists share no account. Anything less (no
declaration, or an `aws:profile` name, which is a local alias two names can share) counts as the
same account: a false refusal costs a one-line config change, a missed one costs revoked grants.

The other stacks are read leniently (only the keys above): a stack file that does not validate is
that stack's problem, reported by its own commands, and must not block this one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layersmith.errors import ConfigError, UserError
from layersmith.model import StackConfig
from layersmith.project.naming import default_prefix

if TYPE_CHECKING:
    from layersmith.project.checkout import Project

ACCOUNTS_KEY = "aws:allowedAccountIds"


@dataclass(frozen=True)
class Footprint:
    """Where a stack's physical names live: its prefix, regions and declared accounts."""

    prefix: str
    regions: frozenset[str]
    accounts: frozenset[str]  # empty: not declared (any account)

    def collides(self, other: Footprint) -> str | None:
        """A region both own names of this prefix in, when they may share an account; else None."""
        if self.prefix != other.prefix:
            return None
        if self.accounts and other.accounts and not self.accounts & other.accounts:
            return None
        shared = sorted(self.regions & other.regions)
        return shared[0] if shared else None


def declared_accounts(raw: Mapping[str, object]) -> frozenset[str]:
    """`aws:allowedAccountIds` as a list (a stack file) or a JSON-encoded list (the engine)."""
    value = raw.get(ACCOUNTS_KEY)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = [value]
    return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()


def footprint(cfg: StackConfig, raw: Mapping[str, object]) -> Footprint:
    return Footprint(cfg.name_prefix, frozenset(cfg.publish_regions) | {cfg.region}, declared_accounts(raw))


def _lenient_footprint(project: Project, stack: str) -> Footprint | None:
    """Another committed stack's footprint from its raw keys; None when its file cannot be read."""
    try:
        raw = project.stack_raw(stack)
    except UserError:
        return None
    prefix = raw.get("layersmith:namePrefix")
    region = raw.get("aws:region")
    listed = raw.get("layersmith:regions")
    regions = {r for r in (listed if isinstance(listed, list) else []) if isinstance(r, str)}
    if isinstance(region, str):
        regions.add(region)
    return Footprint(prefix if isinstance(prefix, str) and prefix else default_prefix(project.name, stack),
                     frozenset(regions), declared_accounts(raw))


def require_unique_prefix(project: Project, cfg: StackConfig, raw: Mapping[str, object]) -> None:
    """Raise when another committed stack may own the same physical names as `cfg` (`raw`: the
    stack's config map, from its file or the engine)."""
    mine = footprint(cfg, raw)
    for other in project.committed_stacks():
        theirs = None if other == cfg.stack else _lenient_footprint(project, other)
        region = mine.collides(theirs) if theirs is not None else None
        if region is not None:
            raise ConfigError(
                f"{cfg.name_prefix!r} is also the name prefix of {project.stack_file(other).name} in {region}, and "
                "both stacks may deploy to one account: they would own the same layers, and each one's "
                "grants would revoke the other's; give one stack its own layersmith:namePrefix (or declare "
                f"different accounts in {ACCOUNTS_KEY} of both)", path=cfg.path.name, key="layersmith:namePrefix")
