"""layersmith's CrossGuard policy pack: `pulumi preview --policy-pack policies --policy-pack-config …`.

Only constructs the PolicyPack (which starts the analyzer server and blocks,
docs/architecture.md#policy-rules-never-construct-a-policypack). The
rules are `layersmith.policy` in the repository root, next to this directory: Pulumi runs this file
with only `policies/` on sys.path, so the root is added first.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from layersmith.infra.crossguard import PACK_NAME, build_policies

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.ADVISORY, policies=build_policies())
