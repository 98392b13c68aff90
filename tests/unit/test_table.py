"""`layersmith.table`: tables fitted to a width (issue 24), and `layersmith.terminal`: which width."""

from __future__ import annotations

import io

import pytest

from layersmith.table import ELLIPSIS, MIN_COLUMN, render_table, shorten, text_width, wrap, wrap_text
from layersmith.terminal import FALLBACK, output_width


def widest(text: str) -> int:
    return max(text_width(line) for line in text.splitlines())


PLAN_ROWS = [
    ["ingest-orders", "python3.11", "x86_64", "AWSLambdaBasicExecutionRole, AWSXRayDaemonWriteAccess, "
     "inline:sqs-event-source", "1. layersmith-prod-utils v4 (pinned, this stack)"],
    ["", "", "", "", "2. layersmith-prod-monitoring-py311-x86_64 v5 (pinned, this stack)"],
]
PLAN_HEADERS = ["function", "runtime", "arch", "role policies", "layers"]


# --- widths ---------------------------------------------------------------------------------------

def test_unfitted_is_one_line_per_row_and_unchanged_when_it_fits() -> None:
    wide = render_table(PLAN_HEADERS, PLAN_ROWS)
    assert len(wide.splitlines()) == 2 + len(PLAN_ROWS)
    assert render_table(PLAN_HEADERS, PLAN_ROWS, width=widest(wide)) == wide
    assert render_table(PLAN_HEADERS, PLAN_ROWS, width=500) == wide


def test_fitted_table_fits_and_keeps_short_columns_whole() -> None:
    fitted = render_table(PLAN_HEADERS, PLAN_ROWS, width=80)
    assert widest(fitted) <= 80
    header, rule, first = fitted.splitlines()[:3]
    assert header.split()[:3] == ["function", "runtime", "arch"]
    assert first.split()[:3] == ["ingest-orders", "python3.11", "x86_64"]
    # the widths the rule shows: the short columns kept their natural width, the prose gave
    assert [len(d) for d in rule.split()][:3] == [13, 10, 6]


def test_a_column_cut_short_of_its_floor_is_never_narrower_than_min_column() -> None:
    fitted = render_table(["message"], [["x" * 50]], width=MIN_COLUMN - 2)
    # one column cannot go below MIN_COLUMN: it does not fit, so the row is a record, still whole
    assert "".join(line.removeprefix("message: ").strip() for line in fitted.splitlines()) == "x" * 50


def test_a_column_that_cannot_shrink_further_leaves_the_room_to_the_others() -> None:
    rows = [["abcdefgh", "one two three four five six seven eight nine ten"]]
    fitted = render_table(["id", "text"], rows, width=30)
    assert widest(fitted) <= 30
    assert all(line.startswith(("abcdefgh", "        ", "id", "--")) for line in fitted.splitlines())


# --- wrapping -------------------------------------------------------------------------------------

def test_wrap_breaks_at_blanks_first_and_is_lossless() -> None:
    text = "Function: no codeSigningConfigArn: Lambda accepts unsigned code for this function"
    lines = wrap(text, 30)
    assert "".join(lines) == text
    assert all(text_width(line.rstrip()) <= 30 for line in lines)
    assert lines[0].rstrip() == "Function: no"  # `codeSigningConfigArn:` whole on the next line
    assert lines[1].rstrip() == "codeSigningConfigArn: Lambda"


def test_a_long_word_breaks_after_punctuation_then_anywhere() -> None:
    assert wrap("layersmith-prod-data-science-py311-x86_64", 22) == ["layersmith-prod-data-", "science-py311-x86_64"]
    assert wrap("abcdefghijklmnop", 6) == ["abcdef", "ghijkl", "mnop"]


def test_wrapped_cells_continue_on_the_next_lines_of_their_column() -> None:
    fitted = render_table(["k", "message"], [["a", "alpha beta gamma delta"]], width=11)
    assert fitted.splitlines()[2:] == ["a  alpha", "   beta", "   gamma", "   delta"]


def test_wrap_text_hangs_its_continuation_lines() -> None:
    text = "ingest-orders [policy:rule] Function: a message long enough to wrap twice over here"
    out = wrap_text(text, 40, indent="  ! ", hang="    ")
    assert widest(out) <= 40
    lines = out.splitlines()
    assert lines[0].startswith("  ! ingest-orders") and all(line.startswith("    ") for line in lines[1:])
    assert wrap_text(text, None, indent="  ! ") == "  ! " + text


# --- shortening identifiers ------------------------------------------------------------------------

ARN = "arn:aws:lambda:eu-west-1:123456789012:layer:layersmith-prod-data-science-py311-x86_64:7"


def test_shorten_keeps_both_ends() -> None:
    short = shorten(ARN, 30)
    assert text_width(short) == 30 and ELLIPSIS in short
    head, tail = short.split(ELLIPSIS)
    assert ARN.startswith(head) and ARN.endswith(tail) and len(head) >= 14 and len(tail) >= 14
    assert shorten("short", 30) == "short"


def test_identifier_columns_are_shortened_not_wrapped() -> None:
    rows = [["data-science", ARN, "deleted because nothing pinned it and it is old"]]
    fitted = render_table(["layer", "arn", "why"], rows, width=70, ids={1})
    assert widest(fitted) <= 70
    cells = [line for line in fitted.splitlines() if ELLIPSIS in line]
    assert len(cells) == 1  # one line holds the shortened ARN, the reason wraps beside it
    assert render_table(["layer", "arn", "why"], rows, ids={1}).count(ARN) == 1  # unfitted: whole


# --- very narrow terminals ---------------------------------------------------------------------------

def test_too_narrow_for_a_table_prints_records() -> None:
    rows = [["sales-report", "python3.11", "x86_64", "3", "107.8", "ok"],
            ["ingest-orders", "python3.11", "x86_64", "2", "8.3", "ok"]]
    headers = ["function", "runtime", "arch", "layers", "unzipped MB", "status"]
    out = render_table(headers, rows, width=40, right={3, 4})
    assert widest(out) <= 40
    assert out.splitlines()[:7] == ["function: sales-report", "runtime: python3.11", "arch: x86_64", "layers: 3",
                                    "unzipped MB: 107.8", "status: ok", ""]


def test_records_continue_rows_whose_first_cell_is_empty_and_wrap_long_values() -> None:
    out = render_table(PLAN_HEADERS, PLAN_ROWS, width=40)
    assert widest(out) <= 40
    assert "" not in out.splitlines()  # the second row continues the first: no blank line between
    assert "layers: 2. layersmith-prod-" in out


# --- unicode ---------------------------------------------------------------------------------------

def test_wide_and_combining_characters_are_measured_in_cells() -> None:
    assert text_width("表計算") == 6
    assert text_width("e\u0301") == 1
    text = "表計算ソフトのレイヤー 名前が長い 表計算ソフト"
    fitted = render_table(["v", "名前"], [["x", text]], width=25)
    assert widest(fitted) == 25
    lines = fitted.splitlines()
    assert lines[0] == "v  名前" and lines[2] == "x  表計算ソフトのレイヤー"  # 22 cells, not 11 characters
    assert "".join(line[3:] for line in lines[2:]) == text.replace(" ", "")
    wide = render_table(["名前", "v"], [["表", "x"]])
    assert wide.splitlines()[1] == "----  -"  # the rule is as wide as 名前 is on screen


# --- the width a command fits to -------------------------------------------------------------------

class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_width_from_wide_columns_tty_or_pipe() -> None:
    assert output_width(True, {"COLUMNS": "100"}, Tty()) is None
    assert output_width(False, {"COLUMNS": "100"}, io.StringIO()) == 100  # said so, even into a pipe
    assert output_width(False, {}, io.StringIO()) is None  # a pipe: unlimited, one row per line
    assert output_width(False, {"COLUMNS": "0"}, io.StringIO()) is None
    assert output_width(False, {"COLUMNS": "abc"}, io.StringIO()) is None
    assert output_width(False, {}, Tty()) == FALLBACK  # a tty without a size (StringIO has no descriptor)


@pytest.mark.parametrize("width", [40, 60, 100])
def test_plan_like_table_fits(width: int) -> None:
    assert widest(render_table(PLAN_HEADERS, PLAN_ROWS, width=width)) <= width


@pytest.mark.parametrize("argv", [["plan", "--stack", "dev"], ["check", "--stack", "dev"], ["build"],
                                  ["runtimes", "list"], ["inventory"], ["prune", "--keep", "1"]])
def test_every_command_that_prints_a_table_takes_wide(argv: list[str]) -> None:
    from layersmith.cli import build_parser

    assert build_parser(argv).parse_args([*argv, "--wide"]).wide is True
    assert build_parser(argv).parse_args(argv).wide is False


def test_a_list_items_number_stays_with_its_first_word() -> None:
    """plan's layers column: "1." alone on a line, its layer on the next, read as two items."""
    pieces = wrap("1. layersmith-prod-utils v4 (pinned, this stack)", 23)
    assert pieces[0].startswith("1. layersmith-")
    assert "".join(pieces) == "1. layersmith-prod-utils v4 (pinned, this stack)"
    assert wrap("a 1. b", 3)[0] == "a "  # only a number that starts the cell is a list item's
