"""`plan` and `check` on the repo's example project fit the terminal (issue 24): every line within
`COLUMNS`, `--wide` and a pipe give the unfitted output (one line per row and per finding)."""

from __future__ import annotations

import pytest
from conftest import CliRun
from helpers import REPO

from layersmith.table import ELLIPSIS, text_width


def widest(text: str) -> int:
    return max(text_width(line) for line in text.splitlines())


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("command", ["plan", "check"])
def test_fits_100_columns_and_wide_is_unfitted(cli: CliRun, use_cache: object, monkeypatch: pytest.MonkeyPatch,
                                              command: str, stack: str) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    code, fitted, _ = cli("--project", REPO, command, "--stack", stack)
    assert code == 0
    assert widest(fitted) <= 100, [line for line in fitted.splitlines() if text_width(line) > 100]
    code, wide, _ = cli("--project", REPO, command, "--stack", stack, "--wide")
    assert code == 0
    assert widest(wide) > 100  # today's output: nothing fitted
    assert len(fitted.splitlines()) > len(wide.splitlines())  # wrapped, not cut
    if command == "check":  # every finding is one line in the wide output, all of its words in the fitted one
        findings = [line for line in wide.splitlines() if line.startswith(("  ! ", "  ? ", "  - ", "  x "))]
        assert findings and " ".join(fitted.split()).count(findings[0].split("] ", 1)[1]) >= 1
    else:  # the only shortened cell is the event source mapping's queue ARN
        assert fitted.count(ELLIPSIS) == 1 and f"arn:aws:sqs:eu-west-1:123456789012:orders-{stack}" in wide


def test_a_pipe_without_columns_gets_the_wide_output(cli: CliRun, use_cache: object) -> None:
    _, piped, _ = cli("--project", REPO, "check", "--stack", "prod", "--no-policy")
    _, wide, _ = cli("--project", REPO, "check", "--stack", "prod", "--no-policy", "--wide")
    assert piped == wide and widest(piped) > 100
