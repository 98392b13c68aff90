"""TOML errors say FILE:LINE:COL (issue 24: "TOML errors give the line and column").

A syntax error takes tomllib's position (in the message up to Python 3.12, as attributes from 3.13);
a wrong value takes the line of its key, found in the text. Both end up in one line of the CLI.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from layersmith.errors import SpecError
from layersmith.project.specs import load_function, load_layer
from layersmith.project.toml_positions import decode_error, key_line

QUEUE = "arn:aws:sqs:eu-west-1:123456789012:orders"
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"


def syntax_error(text: str) -> tomllib.TOMLDecodeError:
    with pytest.raises(tomllib.TOMLDecodeError) as err:
        tomllib.loads(text)
    return err.value


def test_position_from_the_message_of_python_311() -> None:
    text = 'handler = "h.h"\nmemory = = 3\n'
    assert decode_error(syntax_error(text), text) == ("Invalid value", 2, 10)


def test_position_from_the_attributes_of_python_313() -> None:
    # 3.13's TOMLDecodeError(msg, doc, pos) sets msg, lineno and colno; its str() still ends in "(at ...)".
    exc = tomllib.TOMLDecodeError("Invalid value (at line 4, column 2)")
    exc.msg, exc.lineno, exc.colno = "Invalid value", 4, 2  # type: ignore[attr-defined]
    assert decode_error(exc, "") == ("Invalid value", 4, 2)


def test_an_error_at_the_end_of_the_document_points_past_its_last_character() -> None:
    text = "a = 1\nx = [1,\n"
    assert decode_error(syntax_error(text), text) == ("Invalid value", 3, 1)


KEYED = f'''handler = "h.h"   # line 1
runtime = "python3.12"

[[statements]]
actions = ["dynamodb:GetItem"]
resources = ["{TABLE}"]

[[statements]]
actions = ["s3:GetObject"]
resources = ["*"]

[sqs]
"queue_arn" = "{QUEUE}"
batch_size = 20000
'''


@pytest.mark.parametrize(("key", "line"), [
    ("runtime", 2), ("statements[0].actions", 5), ("statements[1].resources", 10), ("statements[1]", 8),
    ("sqs.queue_arn", 13), ("sqs.batch_size", 14), ("sqs.maximum_batching_window", 12), ("memory", None),
])
def test_key_line(key: str, line: int | None) -> None:
    assert key_line(KEYED, key) == line


def test_key_line_of_an_inline_table_is_the_table_line() -> None:
    assert key_line(f'a = 1\nsqs = {{queue_arn = "{QUEUE}", batch_size = 0}}\n', "sqs.batch_size") == 2


def test_key_line_skips_multiline_strings() -> None:
    assert key_line('description = """\nruntimes = 1\n"""\nruntimes = []\n', "runtimes") == 4


def load_error(tmp_path: Path, kind: str, text: str) -> SpecError:
    directory = tmp_path / kind / "x"
    directory.mkdir(parents=True)
    (directory / f"{kind[:-1]}.toml").write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as err:
        (load_layer if kind == "layers" else load_function)(directory)
    assert "\n" not in str(err.value)
    return err.value


def test_malformed_function_toml_is_file_line_column(tmp_path: Path) -> None:
    err = load_error(tmp_path, "functions", 'handler = "h.h"\nmemory = = 3\n')
    assert str(err) == (f"{tmp_path / 'functions/x/function.toml'}:2:10: malformed TOML: Invalid value; "
                        "fix the syntax there")


def test_a_wrong_value_names_its_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "functions", KEYED)
    assert str(err).startswith(f"{tmp_path / 'functions/x/function.toml'}:10: statements[1].resources: ")


def test_a_wrong_value_in_a_table_names_its_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "functions", KEYED.replace('"*"', f'"{TABLE}"'))
    assert str(err).startswith(f"{tmp_path / 'functions/x/function.toml'}:14: sqs.batch_size: ")


def test_an_unknown_layer_key_names_its_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "layers", 'description = "d"\nruntimes = ["python3.12"]\nrequirments = "r.txt"\n')
    assert (err.line, err.key) == (3, "requirments")
