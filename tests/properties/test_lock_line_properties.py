"""A lock line's requirement is read without packaging's parser when it is a plain pin (issue 25: importing
that parser was 20 ms of every `layersmith build`). Reference: packaging's `Requirement`, which reads every
other line. On every generated line, plain or a near miss, the two must agree: the same name, version and
marker, or both refuse it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement

from layersmith.errors import SpecError
from layersmith.project import specs

_PATH = Path("layers/demo/requirements.txt")

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,6}", fullmatch=True)
versions = st.from_regex(r"v?[0-9]{1,3}(\.[0-9*]{1,3}){0,3}((a|b|rc|c|alpha|RC|-|_)[0-9]{0,2})?"
                         r"(\.?(post|dev)[0-9]{0,2})?(\+[a-z0-9.]{1,4})?", fullmatch=True)
operators = st.sampled_from(["==", "==", "==", "===", ">=", "!=", "~=", " == ", "=="])
tails = st.sampled_from(["", "", "", " ", "; python_version < '3.12'", "[extra]", " # x"])


def _packaging(head: str) -> tuple[str, str, str | None] | None:
    """What the lock reader made of `head` before the plain-pin path: None when it refused it."""
    try:
        req = Requirement(head)
    except InvalidRequirement:
        return None
    found = list(req.specifier)
    if req.url or len(found) != 1 or found[0].operator != "==" or "*" in found[0].version:
        return None
    return req.name, found[0].version, str(req.marker) if req.marker else None


def _ours(head: str) -> tuple[str, str, str | None] | None:
    try:
        return specs._lock_requirement(head, _PATH, 1)
    except SpecError:
        return None


@given(name=names, operator=operators, version=versions, tail=tails)
@example(name="pytz", operator="==", version="2024.1", tail="")
@example(name="a-", operator="==", version="1", tail="")
@example(name="Foo_Bar", operator="==", version="1.0rc1.post2.dev3", tail="")
def test_the_plain_pin_reader_agrees_with_packaging(name: str, operator: str, version: str, tail: str) -> None:
    head = f"{name}{operator}{version}{tail}".strip()
    assert _ours(head) == _packaging(head)


@pytest.mark.parametrize("head", ["pytz==2024.1", "numpy==2.4.6", "Foo.Bar_baz==1.0a1.post2.dev3"])
def test_a_plain_pin_is_read_by_the_fast_path(head: str) -> None:
    assert re.fullmatch(specs._PLAIN_PIN, head) is not None


def test_reading_a_plain_lock_does_not_import_packagings_parser(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("pytz==2024.1 \\\n    --hash=sha256:" + "a" * 64 + "\n", encoding="utf-8")
    probe = ("import sys; from pathlib import Path; from layersmith.project.specs import parse_lock; "
             "from layersmith.project.lockfile import pins_for; from layersmith.runtimes.supported import RUNTIMES; "
             f"reqs = parse_lock(Path({str(lock)!r})); pins_for(reqs, RUNTIMES['python3.11'], 'x86_64'); "
             "print(reqs[0].name, reqs[0].version, sorted(m for m in sys.modules if m in "
             "('packaging.requirements', 'packaging.markers', 'packaging.specifiers')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split(maxsplit=2) == ["pytz", "2024.1", "[]\n"]
