"""Plain aligned text tables (no dependency: the output must stay greppable and copy-pasteable),
fitted to a width when one is given.

`width=None` is the unfitted table: one line per row, every cell whole (`--wide`, and pipes). With a
width, a table too wide for it is narrowed the way a browser narrows an auto-layout table: the widest
column first, never below what it needs to keep its words whole while another column can give; then
words break after `-`, `/`, `,` or `:`; then anywhere. A text cell that no longer fits is wrapped onto
continuation lines (its pieces, joined, give the cell back exactly); an identifier cell (an ARN, a
hash: columns named in `ids`) is shortened in the middle with "…" instead, because half an ARN on
each line helps nobody and the whole one is in `--wide` and `--json`. When even that cannot fit
(a very narrow terminal), each row is printed as a record, one `header: value` per line.

Widths are display cells: an East Asian wide character takes two, a combining mark none.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

GAP = "  "
ELLIPSIS = "…"
# No column is narrowed below this (or its natural width, when smaller): a narrower one is unreadable;
# rather than go below it, or cut a word anywhere, the table turns into records.
MIN_COLUMN = 6
# What breaking a word costs, in lines: BREAK_COST after punctuation (`2026-` / `11-03` reads worse
# than one more line), CUT_COST anywhere (`thumbnai` / `l-index`: only ever tried, never printed,
# see column_widths); a shortened identifier costs one line (its whole text is in --wide and --json).
BREAK_COST = 2
CUT_COST = 6
# The first column names the row (a function, a layer): its words stay whole up to this width.
KEY_WORD = 24
_BREAK_AFTER = "-/,:"


@functools.lru_cache(maxsize=4096)
def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    """The number of terminal cells `text` takes (not `len`: `表` takes two, `é` as e + U+0301 one)."""
    if text.isascii():  # the common case, and the fitting measures every cell at every width it tries
        return len(text)
    return sum(char_width(ch) for ch in text)


def _visible(text: str) -> int:
    """Trailing blanks at a line break are not shown, so they need no room."""
    return text_width(text.rstrip())


def _words(text: str) -> list[str]:
    """Break opportunities at blanks; each word keeps the blanks after it (leading blanks are a word).
    A list item's number stays with its first word ("1. name"): never a "1." alone on its line."""
    return re.findall(r"^\d+\.\s+\S+\s*|\s+|\S+\s*", text) or [""]


def _parts(word: str) -> list[str]:
    """A word broken after `-`, `/`, `,`, `:` (a run of them stays together)."""
    return re.findall(rf"(?s)[^{_BREAK_AFTER}]*[{_BREAK_AFTER}]+(?=[^{_BREAK_AFTER}])|.+\Z", word) or [word]


def _chars(part: str, width: int) -> list[str]:
    """A part cut anywhere into pieces of at most `width` cells (at least one character each)."""
    pieces, current = [], ""
    for ch in part:
        if current and text_width(current + ch.rstrip()) > width:
            pieces.append(current)
            current = ""
        current += ch
    return [*pieces, current]


def wrap(text: str, width: int, first: int | None = None) -> list[str]:
    """`text` as lines of at most `width` visible cells (`first` for the first line); lossless:
    `"".join(wrap(text, w)) == text` (the blanks at a break end the line before it)."""
    return _wrap(text, width, first)[0]


def _wrap(text: str, width: int, first: int | None = None) -> tuple[list[str], int]:
    """`wrap`, and how many words it had to cut anywhere (not at a blank or after punctuation)."""
    lines: list[str] = []
    current = ""
    cuts = 0

    def room() -> int:
        return first if first is not None and not lines else width

    def push(atom: str) -> None:  # an atom of at most `width` cells: here, or first on a new line
        nonlocal current
        if _visible(current + atom) <= room():
            current += atom
        else:
            lines.append(current)
            current = atom

    for word in _words(text):
        if _visible(word) <= width:
            push(word)
            continue
        for part in _parts(word):  # longer than a line: break it after punctuation, then anywhere
            pieces = _chars(part, width) if _visible(part) > width else [part]
            cuts += len(pieces) - 1
            for piece in pieces:
                push(piece)
    return [*lines, current], cuts


def shorten(text: str, width: int) -> str:
    """`text` in at most `width` cells, its middle replaced by "…" (the start and end of an ARN or a
    hash are what tell two apart); unchanged when it fits."""
    if text_width(text) <= width:
        return text
    keep = max(width - 1, 0)
    head, tail = "", ""
    for ch in text:
        if text_width(head + ch) > (keep + 1) // 2:
            break
        head += ch
    for ch in reversed(text):
        if text_width(head + tail + ch) > keep:
            break
        tail = ch + tail
    return head + ELLIPSIS + tail


def wrap_text(text: str, width: int | None, *, indent: str = "", hang: str = "") -> str:
    """A line of prose: `indent` + `text`, its continuation lines starting with `hang` (unchanged when
    `width` is None)."""
    if width is None:
        return indent + text
    room = max(width - text_width(hang), MIN_COLUMN)
    pieces = wrap(text, room, first=max(width - text_width(indent), MIN_COLUMN))
    return "\n".join(((indent if i == 0 else hang) + p).rstrip() for i, p in enumerate(pieces))


@dataclass
class _Column:
    """A column's texts (header first) and, per width tried, how many lines each takes and its penalty."""

    texts: list[str]
    identifier: bool
    key: bool = False
    natural: int = 0
    floor: int = 0
    _tried: dict[int, tuple[list[int], int]] = field(default_factory=dict)
    cut: set[int] = field(default_factory=set)  # the widths at which a word is cut anywhere

    def __post_init__(self) -> None:
        self.natural = max(text_width(t) for t in self.texts)
        words = max(_visible(w) for t in self.texts for w in _words(t)) if self.key else 0
        self.floor = min(self.natural, max(MIN_COLUMN, min(words, KEY_WORD)))

    def at(self, width: int) -> tuple[list[int], int]:
        """(lines per row, penalty): see CUT_COST."""
        if width not in self._tried:
            lines, penalty = [], 0
            for k, text in enumerate(self.texts):
                if text_width(text) <= width:
                    lines.append(1)
                elif self.identifier and k:
                    lines.append(1)
                    penalty += 1
                else:
                    pieces, cuts = _wrap(text, width)
                    lines.append(len(pieces))
                    breaks = sum(not p[-1:].isspace() for p in pieces[:-1])  # cuts among them
                    penalty += BREAK_COST * breaks + (CUT_COST - BREAK_COST) * cuts
                    if cuts:
                        self.cut.add(width)
            self._tried[width] = (lines, penalty)
        return self._tried[width]


def _costs(columns: list[_Column], widths: list[int], candidates: list[int]) -> dict[int, int]:
    """Per candidate column, the table's height plus its penalties with that column one cell
    narrower. Each row's tallest and second tallest cell are found once, so a candidate costs one
    pass over the rows (a 500-row inventory is fitted in well under a second)."""
    tried = [c.at(w) for c, w in zip(columns, widths, strict=True)]
    penalty = sum(p for _, p in tried)
    tallest, runner_up, owner = [], [], []
    for row in zip(*(lines for lines, _ in tried), strict=True):
        top = max(range(len(row)), key=row.__getitem__)
        tallest.append(row[top])
        runner_up.append(max((n for i, n in enumerate(row) if i != top), default=1))
        owner.append(top)
    costs = {}
    for c in candidates:
        lines, own = columns[c].at(widths[c] - 1)
        others = [r if o == c else t for t, r, o in zip(tallest, runner_up, owner, strict=True)]
        costs[c] = sum(map(max, others, lines)) + penalty - tried[c][1] + own
    return costs


def column_widths(columns: list[_Column], width: int | None) -> list[int] | None:
    """Each column's width so that the table fits `width`; None when it cannot, or only by cutting a
    word anywhere (records then: `thumbnai` / `l-index` is no way to print a name).

    Greedy, one cell of width at a time, from the natural widths: take it from the column whose loss
    adds the fewest lines (and cut words, shortened identifiers) to the table; on a tie the widest,
    then the last. So a column whose long cells share a row with an already tall cell gives first,
    for free, and prose wraps before identifiers are shortened."""
    widths = [c.natural for c in columns]
    if width is None:
        return widths
    room = width - len(GAP) * (len(columns) - 1)
    if sum(c.floor for c in columns) > room:
        return None
    while sum(widths) > room:  # the floors fit, so some column can always give
        shrinkable = [i for i, c in enumerate(columns) if widths[i] > c.floor]
        costs = _costs(columns, widths, shrinkable)
        chosen = min(shrinkable, key=lambda i: (costs[i], -widths[i], -i))
        widths[chosen] -= 1
    return None if _cuts_a_word(columns, widths) else widths


def _cuts_a_word(columns: list[_Column], widths: list[int]) -> bool:
    for column, width in zip(columns, widths, strict=True):
        column.at(width)  # computes column.cut for this width
        if width in column.cut:
            return True
    return False


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(width - text_width(text), 0)
    return fill + text if right else text + fill


def _cell_lines(text: str, width: int, identifier: bool) -> list[str]:
    if text_width(text) <= width:
        return [text]
    if identifier:
        return [shorten(text, width)]
    return [p if text_width(p) <= width else p.rstrip() for p in wrap(text, width)]


def _row_lines(cells: Sequence[str], widths: list[int], right: set[int], ids: set[int],
               header: bool = False) -> list[str]:
    stacked = [_cell_lines(c, widths[i], i in ids and not header) for i, c in enumerate(cells)]
    height = max(len(s) for s in stacked)
    return [GAP.join(_pad(s[k] if k < len(s) else "", widths[i], i in right) for i, s in enumerate(stacked)).rstrip()
            for k in range(height)]


def _records(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int, ids: set[int]) -> str:
    """A row per block of `header: value` lines; a row whose first cell is empty continues the one
    above (as it reads in the table), so no blank line comes before it."""
    lines: list[str] = []
    for r, row in enumerate(rows):
        if r and row[0]:
            lines.append("")
        for i, cell in enumerate(row):
            if not cell:
                continue
            label = f"{headers[i]}: "
            value = shorten(cell, max(width - text_width(label), MIN_COLUMN)) if i in ids else cell
            lines.append(wrap_text(value, width, indent=label, hang="  "))
    return "\n".join(lines)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: set[int] | None = None,
                 width: int | None = None, ids: set[int] | None = None) -> str:
    """`right`: right-aligned columns (numbers); `ids`: identifier columns (shortened, not wrapped);
    `width`: fit the table to it (None: every cell whole, one line per row)."""
    right, ids = right or set(), ids or set()
    columns = [_Column([h, *(row[i] for row in rows)], i in ids, key=i == 0) for i, h in enumerate(headers)]
    widths = column_widths(columns, width)
    if widths is None:
        return _records(headers, rows, width or 0, ids)
    lines = [*_row_lines(headers, widths, right, ids, header=True), GAP.join("-" * w for w in widths)]
    for row in rows:
        lines += _row_lines(row, widths, right, ids)
    return "\n".join(lines)
