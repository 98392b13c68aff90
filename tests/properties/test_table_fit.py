"""Fitting a table to a width (`layersmith.table`, issue 24), on generated tables and widths.

For a width of at least MIN_WIDTH: every line fits; the table keeps its shape (a header, a rule, then
each row's lines, or one record per row when too narrow); every text cell's lines, read down its
column, are its wrapped pieces, and those pieces join back into the cell exactly; an identifier cell
is whole or shortened with "…", keeping its start and end.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from layersmith.table import ELLIPSIS, GAP, MIN_COLUMN, render_table, shorten, text_width, wrap

# Records need room for `header: ` and a few characters of the value.
MIN_WIDTH = 30
ALPHABET = st.sampled_from([*"abcxyz0189-/:,._ ", "\u8868", "\u00e9", "\u0301", "\u00df"])  # 表 é ◌́ ß
TEXT = st.text(ALPHABET, min_size=0, max_size=60)
HEADER = st.text(st.sampled_from(list("abcdefgh ")), min_size=1, max_size=12).map(str.strip).filter(bool)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]], set[int]]:
    n = draw(st.integers(1, 6))
    headers = draw(st.lists(HEADER, min_size=n, max_size=n))
    rows = draw(st.lists(st.lists(TEXT, min_size=n, max_size=n), min_size=0, max_size=6))
    ids = draw(st.sets(st.integers(0, n - 1), max_size=2))
    return headers, rows, ids


@given(TEXT, st.integers(2, 80))
@example("layersmith-prod-data-science-py311-x86_64", 22)
def test_wrap_is_lossless_and_fits(text: str, width: int) -> None:
    pieces = wrap(text, width)
    assert "".join(pieces) == text
    assert all(text_width(p.rstrip()) <= width for p in pieces)


@given(TEXT, st.integers(3, 80))
def test_shorten_marks_what_it_drops_and_keeps_both_ends(text: str, width: int) -> None:
    short = shorten(text, width)
    assert text_width(short) <= width
    if short != text:
        head, _, tail = short.partition(ELLIPSIS)
        assert text.startswith(head) and text.endswith(tail) and len(head) + len(tail) < len(text)


def _columns(rule: str) -> list[tuple[int, int]]:
    """(start, end) of each column, in characters, from the rule line (rules are ASCII)."""
    spans, start = [], 0
    for dashes in rule.split(GAP):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + len(GAP)
    return spans


def _slice(line: str, start: int, end: int) -> str:
    """The characters of `line` in display cells [start, end)."""
    out, at = "", 0
    for ch in line:
        cells = text_width(ch)
        if start <= at < end or (cells == 0 and start < at <= end):  # a combining mark goes with its letter
            out += ch
        at += cells
    return out


@given(tables(), st.integers(MIN_WIDTH, 140))
def test_every_line_fits_and_no_cell_is_lost(table: tuple[list[str], list[list[str]], set[int]], width: int) -> None:
    headers, rows, ids = table
    out = render_table(headers, rows, width=width, ids=ids)
    lines = out.split("\n")  # not splitlines: a row of empty cells is an empty last line
    assert all(text_width(line) <= width for line in lines)
    if not (len(lines) > 1 and lines[1].startswith("-") and not set(lines[1]) - {"-", " "}):
        return  # records (no rule under the header): checked below
    spans = _columns(lines[1])
    widths = [end - start for start, end in spans]
    assert all(w >= min(MIN_COLUMN, max(text_width(c) for c in [h, *(r[i] for r in rows)]))
               for i, (h, w) in enumerate(zip(headers, widths, strict=True)))
    at = 2
    for row in rows:
        height = 1
        for i, cell in enumerate(row):
            if text_width(cell) <= widths[i]:
                expected = [cell]
            elif i in ids:
                expected = [shorten(cell, widths[i])]
            else:
                expected = wrap(cell, widths[i])
                assert "".join(expected) == cell  # the pieces shown join back into the cell
            height = max(height, len(expected))
            shown = [_slice(line, *spans[i]).rstrip() for line in lines[at:at + len(expected)]]
            assert shown == [e.rstrip() for e in expected]
        at += height
    assert at == len(lines)


LONG = st.text(ALPHABET, min_size=MIN_COLUMN, max_size=60).filter(lambda t: text_width(t.strip()) >= MIN_COLUMN)


# Five columns whose cells all take MIN_COLUMN cells or more do not fit below this width.
NARROW = 5 * MIN_COLUMN + 4 * len(GAP)


@given(st.lists(st.lists(LONG, min_size=5, max_size=5), min_size=1, max_size=4), st.integers(MIN_WIDTH, NARROW - 1))
def test_too_narrow_tables_become_records_that_keep_every_cell(rows: list[list[str]], width: int) -> None:
    headers = ["alpha", "beta", "gamma", "delta", "epsilon"]
    out = render_table(headers, rows, width=width, ids={4})
    assert all(text_width(line) <= width for line in out.split("\n"))
    assert out.startswith("alpha:")
    squashed = "".join(out.split())
    for row in rows:
        for cell in row[:4]:
            assert "".join(cell.split()) in squashed
        head = shorten(row[4], width - len("epsilon: ")).split(ELLIPSIS)[0]
        assert "".join(head.split()) in squashed
