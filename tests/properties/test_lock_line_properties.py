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
from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement

from layersmith.errors import SpecError
from layersmith.model import Requirement as ModelRequirement
from layersmith.project import specs
from layersmith.project.lockfile import applies, marker_env, python_versions_marker
from layersmith.runtimes.supported import ARCHITECTURES, RUNTIMES

_PATH = Path("layers/demo/requirements.txt")

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,6}", fullmatch=True)
versions = st.from_regex(r"v?[0-9]{1,3}(\.[0-9*]{1,3}){0,3}((a|b|rc|c|alpha|RC|-|_)[0-9]{0,2})?"
                         r"(\.?(post|dev)[0-9]{0,2})?(\+[a-z0-9.]{1,4})?", fullmatch=True)
operators = st.sampled_from(["==", "==", "==", "===", ">=", "!=", "~=", " == ", "=="])
_versions = st.sampled_from(["3.11", "3.12", "3.9", "3.011", "3.11.0", "03.1", "3.0", "2.7", "3"])
_terms = st.builds(lambda var, op, quote, v: f"{var}{op}{quote}{v}{quote}",
                   st.sampled_from(["python_version", "python_version", "python_full_version", "platform_machine"]),
                   st.sampled_from([" == ", "==", " != ", " <= ", "  ==  "]), st.sampled_from(["'", '"']), _versions)
markers = st.builds(lambda terms, joins: terms[0] + "".join(j + t for j, t in zip(joins, terms[1:], strict=False)),
                    st.lists(_terms, min_size=1, max_size=3),
                    st.lists(st.sampled_from([" or ", " or ", " and ", "  or  ", " or(", ""]), min_size=2, max_size=2))
tails = st.sampled_from(["", "", "", " ", "; python_version < '3.12'", "[extra]", " # x"]) | st.builds(
    lambda before, marker, after: f"{before};{marker}{after}", st.sampled_from([" ", "", "  "]), markers,
    st.sampled_from(["", " ", ")"]))


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
@example(name="numpy", operator="==", version="2.5.5", tail=" ; python_version == '3.12' or python_version == '3.13'")
def test_the_plain_pin_reader_agrees_with_packaging(name: str, operator: str, version: str, tail: str) -> None:
    head = f"{name}{operator}{version}{tail}".strip()
    assert _ours(head) == _packaging(head)


@given(marker=markers)
@example(marker="python_version == '3.12' or python_version == '3.13'")
@example(marker="python_version == '3.11'")
def test_a_python_version_marker_is_evaluated_as_packaging_does(marker: str) -> None:
    try:
        normalized = str(Marker(marker))
    except InvalidMarker:
        return
    req = ModelRequirement("numpy", "2.5.5", ("sha256:" + "a" * 64,), normalized, 1)
    for runtime in RUNTIMES.values():
        for arch in ARCHITECTURES:
            assert applies(req, runtime, arch) == Marker(normalized).evaluate(marker_env(runtime, arch))


@pytest.mark.parametrize("head", ["pytz==2024.1", "numpy==2.4.6", "Foo.Bar_baz==1.0a1.post2.dev3",
                                  "numpy==2.2.6 ; python_version == '3.11'",
                                  "numpy==2.5.5 ; python_version == '3.12' or python_version == '3.13'"])
def test_a_plain_pin_is_read_by_the_fast_path(head: str) -> None:
    pin, _, marker = head.partition(";")
    assert re.fullmatch(specs._PLAIN_PIN, pin.strip()) is not None
    assert not marker or python_versions_marker(marker) is not None


def test_reading_a_plain_lock_does_not_import_packagings_parser(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("pytz==2024.1 \\\n    --hash=sha256:" + "a" * 64 + "\n"
                    "numpy==2.5.5 ; python_version == '3.12' or python_version == '3.11' \\\n    --hash=sha256:"
                    + "b" * 64 + "\n", encoding="utf-8")
    probe = ("import sys; from pathlib import Path; from layersmith.project.specs import parse_lock; "
             "from layersmith.project.lockfile import pins_for; from layersmith.runtimes.supported import RUNTIMES; "
             f"reqs = parse_lock(Path({str(lock)!r})); "
             "print(reqs[0].name, reqs[0].version, len(pins_for(reqs, RUNTIMES['python3.11'], 'x86_64')), "
             "sorted(m for m in sys.modules if m.startswith('packaging')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split(maxsplit=3) == ["pytz", "2024.1", "2", "[]\n"]
