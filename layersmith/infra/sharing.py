"""Grants on one layer version: one `LayerVersionPermission` per principal.

Facts (docs/architecture.md#grants-are-layersmiths-own-dynamic-resource): a permission is per
version and replace-only; a same `statement_id` with a new principal collides, so statement ids are
derived from the principal; with `skip_destroy` the grant outlives the version's replacement, so
consumers pinned to an older version keep access after a new one is published.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from layersmith.model import ShareWith

ACTION = "lambda:GetLayerVersion"


@dataclass(frozen=True)
class Grant:
    statement_id: str
    principal: str
    organization_id: str | None


def grants_for(share: ShareWith) -> list[Grant]:
    """Accounts get their own statement; an organization is principal `*` scoped by its ID; a bare
    `*` only when the stack explicitly asks for public."""
    grants = [Grant(f"account-{acct}", acct, None) for acct in share.accounts]
    grants += [Grant(f"org-{org}", "*", org) for org in share.organizations]
    if share.public:
        grants.append(Grant("public", "*", None))
    return grants


class LayerSharing(pulumi.ComponentResource):
    """All grants on one version of one layer."""

    def __init__(self, name: str, *, layer_arn: pulumi.Input[str], version: pulumi.Input[int],
                 share: ShareWith, retain: bool, statement_prefix: str = "",
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("layersmith:index:LayerSharing", name, None, opts)
        self.permissions: list[aws.lambda_.LayerVersionPermission] = []
        for grant in grants_for(share):
            self.permissions.append(aws.lambda_.LayerVersionPermission(
                f"{name}-{grant.statement_id}",
                layer_name=layer_arn,
                version_number=version,
                statement_id=f"{statement_prefix}{grant.statement_id}",
                action=ACTION,
                principal=grant.principal,
                organization_id=grant.organization_id,
                skip_destroy=retain,
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=retain)))
        self.register_outputs({"count": len(self.permissions)})
