"""Where in a TOML file a problem sits, so an error can say FILE:LINE:COL.

`tomllib` reports a syntax error's position inside its message ("... (at line 3, column 5)") on
Python 3.11 and 3.12; from 3.13 the error also carries `msg`, `lineno` and `colno` (CPython's
Lib/tomllib/_parser.py). A semantic error (a wrong value) has no position in the parsed data, which
is plain dicts, so `key_line` finds the key's line in the text: a line scanner that knows table
headers, arrays of tables and dotted keys, and gives up (None) on anything it cannot place.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping

# Patterns as strings, compiled by `re` on first use (and kept in its cache): most runs never need them,
# and compiling them at import was part of every command's start.
_AT = r"\s*\(at line (\d+), column (\d+)\)$"
_AT_END = r"\s*\(at end of document\)$"
_HEADER = r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$"
_KEY = r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
_PART = r"""[A-Za-z0-9_-]+|"([^"]*)"|'([^']*)'"""
_LAST = r"(\.[^.\[\]]+|\[\d+\])$"


def decode_error(exc: tomllib.TOMLDecodeError, text: str) -> tuple[str, int, int]:
    """(what is wrong, line, column) of a syntax error, both 1-based."""
    lineno, colno = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    message = str(getattr(exc, "msg", None) or exc)
    at = re.search(_AT, message)
    message = re.sub(_AT_END, "", re.sub(_AT, "", message))
    if isinstance(lineno, int) and isinstance(colno, int):  # Python 3.13+
        return message, lineno, colno
    if at:
        return message, int(at.group(1)), int(at.group(2))
    # "at end of document": the position just past the last character, as 3.13 computes it.
    last = text.split("\n")
    return message, len(last), len(last[-1]) + 1


def _dotted(raw: str) -> str:
    return ".".join(m.group(1) or m.group(2) or m.group(0) for m in re.finditer(_PART, raw))


def _key_lines(text: str) -> dict[str, int]:
    """Every key's full dotted path (arrays of tables indexed: `statements[1].actions`) -> its line."""
    lines: dict[str, int] = {}
    table, counts, in_string = "", dict[str, int](), False
    for number, raw in enumerate(text.splitlines(), start=1):
        quotes = raw.count('"""') + raw.count("'''")
        if in_string or quotes % 2:  # inside (or opening/closing) a multi-line string: not a key
            in_string = in_string != bool(quotes % 2)
            continue
        header = re.match(_HEADER, raw)
        if header:
            name = _dotted(header.group(2))
            if header.group(1) == "[[":
                counts[name] = counts.get(name, 0) + 1
                name = f"{name}[{counts[name] - 1}]"
            table = name
            lines.setdefault(table, number)
            continue
        key = re.match(_KEY, raw)
        if key:
            lines.setdefault(f"{table}.{_dotted(key.group(1))}" if table else _dotted(key.group(1)), number)
    return lines


def key_line(text: str, key: str) -> int | None:
    """The line that sets `key` (a dotted path as errors name it), or of its nearest enclosing key
    (an inline table's line for `sqs.batch_size` in `sqs = {...}`); None when nothing matches."""
    return nearest_line(_key_lines(text), key)


def nearest_line(lines: Mapping[str, int], key: str) -> int | None:
    """`key`'s line in `lines` (dotted path -> line), else its nearest enclosing key's; None if neither."""
    while key:
        if key in lines:
            return lines[key]
        shorter = re.sub(_LAST, "", key)
        if shorter == key:
            return None
        key = shorter
    return None
