"""A synthetic `inventory --json` of the repo's prod stack across a fleet, for the report's browser
test and `bench/report.py`: the publishing account holds every prod layer variant in every region,
the newest `versions` of each kept, the newest two shared with the organization; every other
account runs `functions` functions per region, each attaching one variant of some layers at a
version at or behind the latest.

Deterministic (a seeded `random.Random`), so a test can assert exact counts.
"""

from __future__ import annotations

import random
from typing import Any

PUBLISHER = "123456789012"
# What the repo's functions attach (function.toml): runtime/architecture -> the variants they select.
VARIANTS = {"utils": ["any"], "monitoring": ["py311-x86_64", "py313-arm64"], "data-science": ["py311-x86_64"]}
# The newest version of each layer: one past what Pulumi.prod.yaml pins, so prod shows 1 behind.
LATEST = {"utils": 5, "monitoring": 6, "data-science": 8}


def accounts(count: int) -> list[str]:
    return [PUBLISHER, *(f"{200000000000 + i:012d}" for i in range(1, count))]


def layer_name(layer: str, variant: str) -> str:
    return f"layersmith-prod-{layer}" + ("" if variant == "any" else f"-{variant}")


def fleet_inventory(n_accounts: int, regions: list[str], *, versions: int = 4, functions: int = 2,
                    seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    fleet = accounts(n_accounts)
    out: list[dict[str, Any]] = []
    for region in regions:
        users: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for account in fleet[1:]:
            for f in range(functions):
                fn = f"team{int(account[-3:]) % 17}-svc-{f}"
                for layer in rng.sample(sorted(VARIANTS), k=rng.randint(1, 2)):
                    variant = rng.choice(VARIANTS[layer])
                    version = LATEST[layer] - min(rng.choice([0, 0, 0, 1, 1, 2, 3]), versions - 1)
                    arn = f"arn:aws:lambda:{region}:{PUBLISHER}:layer:{layer_name(layer, variant)}:{version}"
                    users.setdefault((layer_name(layer, variant), version), []).append(
                        {"account": account, "region": region, "function": fn, "kind": "function",
                         "qualifier": "$LATEST", "alias_version": None, "layer_version_arn": arn})
        for layer, variants in VARIANTS.items():
            for variant in variants:
                name = layer_name(layer, variant)
                for version in range(LATEST[layer], LATEST[layer] - versions, -1):
                    out.append({
                        "name": name, "version": version,
                        "arn": f"arn:aws:lambda:{region}:{PUBLISHER}:layer:{name}:{version}",
                        "account": PUBLISHER, "region": region, "stacks": ["prod"], "layer": layer,
                        "variant": variant, "created": f"2026-11-{10 + version:02d}T09:00:00.000+0000",
                        "code_size": 1_000_000 * (40 if layer == "data-science" else 3) + version,
                        "runtimes": ["python3.11"], "architectures": ["x86_64"],
                        "shared_with": ["org:o-exampleorg01"] if version >= LATEST[layer] - 1 else [],
                        "shared_unmanaged": [], "latest": version == LATEST[layer], "pinned_by": [],
                        "used_by": users.get((name, version), []), "status": "in use"})
    return {"scanned": [f"{a}/{r}" for a in fleet for r in regions], "failures": [], "versions": out,
            "attached_but_not_found": [], "summary": "synthetic"}
