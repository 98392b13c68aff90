"""Rewrite pins in `Pulumi.<stack>.yaml` the way a person would: only the values change.

The file is people's: comments say why a pin is held back, and its layout is theirs. A re-dump
(PyYAML) would drop every comment, so the edit goes through ruamel.yaml's round-trip mode, which
keeps comments, key order, flow maps (`{eu-west-1: 7, us-east-1: 3}`) and quoting; the indentation
is guessed from the file itself. ruamel.yaml is pinned exactly (requirements.txt, pyproject): how
its emitter lays a document out is what makes the one-line diff, and it has changed between
releases. Two guards make a surprise impossible to write:

* the rewritten text is read back with the same YAML reader as the rest of layersmith
  (`yaml_load`, which also refuses the input when it names a key twice) and must
  equal the old data with exactly the requested pins changed;
* it is written atomically (a temporary file in the same directory, then `os.replace`), keeping
  the file's mode, so an interrupted promote leaves the old file.
"""

from __future__ import annotations

import copy
import difflib
import io
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layersmith.errors import ConfigError
from layersmith.project.stacks import NAMESPACE
from layersmith.project.yaml_load import load_yaml
from layersmith.writable import write_failed

PINS = f"{NAMESPACE}:pins"


@dataclass(frozen=True)
class PinEdit:
    function: str
    layer: str
    region: str | None  # set: the pin is region-qualified ({region: version}); None: a plain version
    version: int


def _apply(config: Any, edit: PinEdit, new_map: Any) -> None:
    """Set one pin in a config mapping (ruamel's or plain dicts), creating the maps it needs."""
    pins = config.setdefault(PINS, new_map())
    layers = pins.setdefault(edit.function, new_map())
    if edit.region is None:
        layers[edit.layer] = edit.version
    else:
        layers[edit.layer][edit.region] = edit.version


def _round_trip(text: str) -> tuple[Any, Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    _, sequence_indent, sequence_offset = load_yaml_guess_indent(text)
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap a long line the user wrote
    rt.indent(mapping=2, sequence=sequence_indent or 2, offset=sequence_offset or 0)
    return rt, rt.load(text)


def rewrite_pins(text: str, edits: Sequence[PinEdit], *, path: Path) -> str:
    """`text` with every edit applied, comments and layout kept; raises `ConfigError` if the
    round trip would change anything else."""
    from ruamel.yaml.comments import CommentedMap

    # First the strict reader: a duplicate key is the user's to fix (named with both lines), and the
    # round trip below would otherwise keep one of the two silently or fail in ruamel's words.
    original = load_yaml(text, path)
    rt, document = _round_trip(text)
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError("has no `config:` map to write pins into", path=path)
    for edit in edits:
        _apply(document["config"], edit, CommentedMap)
    out = io.StringIO()
    rt.dump(document, out)
    new = out.getvalue()
    if "\r\n" in text:  # the emitter writes \n: keep a Windows checkout's line endings
        new = new.replace("\r\n", "\n").replace("\n", "\r\n")
    expected = copy.deepcopy(original)
    if not isinstance(expected, dict) or not isinstance(expected.get("config"), dict):
        raise ConfigError("has no `config:` map to write pins into", path=path)
    for edit in edits:
        _apply(expected["config"], edit, dict)
    if load_yaml(new, path) != expected:
        raise ConfigError("cannot be rewritten without changing more than the pins; edit them by hand "
                          "(the diff above lists the versions)", path=path)
    return new


def unified_diff(old: str, new: str, path: Path) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"a/{path.name}", tofile=f"b/{path.name}"))


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step, keeping its permission bits. A directory that refuses
    the temporary file (a read-only checkout) is an `EnvironmentProblem`; the old file stays."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_failed(path, "the stack file", exc, "make its directory writable and promote again") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
