"""`check` resolves the handler statically, as Lambda's runtime would at the first invocation."""

from __future__ import annotations

from pathlib import Path

import pytest

from layersmith.checks.report import handler_findings
from layersmith.model import FunctionSpec


def fn(tmp_path: Path, handler: str, files: dict[str, str]) -> FunctionSpec:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return FunctionSpec("f", tmp_path, handler, "python3.11", "x86_64", (), 128, 3)


@pytest.mark.parametrize("source", [
    "def handler(event, context):\n    return 1\n",
    "import functools\n@functools.cache\ndef handler(event, context):\n    return 1\n",
    "async def handler(event, context):\n    return 1\n",
    "from impl import run as handler\n",
    "def _run(e, c):\n    return 1\nhandler = _run\n",
    "class handler:\n    pass\n",
])
def test_resolvable_handlers_pass(tmp_path: Path, source: str) -> None:
    assert handler_findings(fn(tmp_path, "app.handler", {"app.py": source})) == []


def test_package_module(tmp_path: Path) -> None:
    spec = fn(tmp_path, "pkg.entry.handler", {"pkg/__init__.py": "", "pkg/entry.py": "def handler(e, c): ...\n"})
    assert handler_findings(spec) == []


def test_missing_module_names_the_file(tmp_path: Path) -> None:
    [finding] = handler_findings(fn(tmp_path, "handlr.handler", {"handler.py": "def handler(e, c): ...\n"}))
    assert finding.level == "error" and "no handlr.py" in finding.message and "function.toml" in finding.message


def test_missing_attribute_names_it(tmp_path: Path) -> None:
    [finding] = handler_findings(fn(tmp_path, "handler.main", {"handler.py": "def handler(e, c): ...\n"}))
    assert "defines no 'main'" in finding.message


def test_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    [finding] = handler_findings(fn(tmp_path, "app.handler", {"app.py": "x = 1\ndef handler(:\n"}))
    assert finding.message.startswith("app.py line 2:")
