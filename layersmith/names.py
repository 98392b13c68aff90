"""Distribution names in their PEP 503 form, without importing packaging.

`packaging.utils.canonicalize_name` is the reference (tests/properties/test_names_properties.py compares the
two); importing `packaging.utils` also imports `packaging.tags` and `packaging.version` (logging, platform,
sysconfig, the manylinux readers: ~15 ms), which a build needs only for a wheel with compiled code.
"""

from __future__ import annotations


def canonicalize_name(name: str) -> str:
    """`re.sub(r"[-_.]+", "-", name).lower()` (PEP 503), as packaging 26 computes it."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value
