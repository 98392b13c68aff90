"""`exclude` entries of a layer.toml that match nothing in the layer's lock.

`exclude` drops distributions the runtime provides (boto3 & co.) from the lock's pins and from
what the installer wrote (`builder/slim.remove_distributions`). Both match by canonical name, so an
entry no lock line names (`botocroe`) silently excludes nothing: the layer then ships what the
entry meant to drop. The lock is complete (every transitive pin, hash-locked), so comparing with
its names is exact and needs no install.

An entry naming the runtime's own SDK (boto3, botocore, s3transfer) is a standing guard, not a
typo: it keeps the runtime's copy in charge if a future lock pulls one in, so it never warns.
"""

from __future__ import annotations

from layersmith.errors import UserError
from layersmith.model import LayerSpec
from layersmith.project.specs import parse_lock
from layersmith.runtimes.supported import RUNTIME_SDK


def unmatched_excludes(spec: LayerSpec) -> list[str]:
    """One warning per `exclude` entry that no line of the layer's lock names."""
    if not spec.exclude:
        return []
    try:
        locked = sorted({r.name for r in parse_lock(spec.requirements)}) if spec.requirements else []
    except UserError:
        return []  # a missing or bad lock fails the build itself, in its own words
    lock = spec.requirements.name if spec.requirements else "no lock (`requirements` is not set)"
    out = []
    for name in spec.exclude:
        if name in locked or name in RUNTIME_SDK:
            continue
        import difflib  # only for an entry that matches nothing: every build imports this module

        close = difflib.get_close_matches(name, locked, n=1)
        hint = f"did you mean {close[0]}?" if close else "remove it, or check the name"
        out.append(f"layers/{spec.name}/layer.toml: exclude: {name!r} matches no distribution in {lock}, so "
                   f"it excludes nothing; {hint}")
    return out
