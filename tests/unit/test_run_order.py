"""The order `make test` hands files to its workers (tests/run_order.py): longest first."""

from __future__ import annotations

from dataclasses import dataclass

from helpers import REPO
from run_order import HEAVY, heavy_first


@dataclass(frozen=True)
class Node:
    nodeid: str


def test_heavy_files_come_first_in_their_order_and_the_rest_keep_theirs() -> None:
    items = [Node(n) for n in ("a.py::t1", "big.py::t1", "a.py::t2", "b.py::t", "huge.py::t1", "big.py::t2",
                               "huge.py::t2")]
    ordered = heavy_first(items, heavy=("huge.py", "big.py"))
    assert [i.nodeid for i in ordered] == ["huge.py::t1", "huge.py::t2", "big.py::t1", "big.py::t2", "a.py::t1",
                                           "a.py::t2", "b.py::t"]


def test_every_heavy_file_exists() -> None:
    """A renamed or moved file would silently lose its place at the front (and the run its balance)."""
    assert [p for p in HEAVY if not (REPO / p).is_file()] == []


def test_this_session_ran_the_heavy_files_first(request: object) -> None:
    """The hook in tests/conftest.py applies the order to what pytest collected."""
    session = request.session  # type: ignore[attr-defined]
    files = [item.nodeid.split("::", 1)[0] for item in session.items]
    present = [p for p in HEAVY if p in files]
    firsts = list(dict.fromkeys(files))[:len(present)]
    assert firsts == present


def test_every_test_is_in_one_group_its_file_s_unless_it_names_its_own(request: object) -> None:
    """`--dist loadgroup` hands out groups: a test without one would be a unit of its own (its module
    fixtures run again on whichever worker gets it)."""
    session = request.session  # type: ignore[attr-defined]
    for item in session.items:
        groups = [m.args[0] for m in item.iter_markers("xdist_group")]
        assert len(groups) == 1, (item.nodeid, groups)
        if "test_docker_standin.py::test_docker_build_agrees" not in item.nodeid:
            assert groups == [item.nodeid.split("::", 1)[0]], item.nodeid

