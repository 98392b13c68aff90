"""Every command's `--help` works and reads whole: no description cut off mid-sentence."""

from __future__ import annotations

import pkgutil
import re

import pytest

from layersmith import commands
from layersmith.cli import main

COMMANDS = sorted(m.name for m in pkgutil.iter_modules(commands.__path__))


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    out, err = capsys.readouterr()
    assert (exited.value.code, err) == (0, ""), argv
    return out


def _paragraphs(text: str) -> list[str]:
    """The help's blocks (description, the options list), unwrapped; the usage block excluded."""
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if not block.startswith("usage:")]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_exits_0_and_no_sentence_is_cut_off(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    texts = [_help(capsys, command)]
    if command == "cache":
        texts.append(_help(capsys, command, "prune"))
    if command == "init":
        texts += [_help(capsys, command, "layer"), _help(capsys, command, "function")]
    for text in texts:
        assert "--project DIR" in text, "--project must be accepted after the command"
        for paragraph in _paragraphs(text):
            assert paragraph.count("(") == paragraph.count(")"), f"{command}: cut off: {paragraph!r}"


def test_the_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys)
    assert all(name in text for name in COMMANDS)
