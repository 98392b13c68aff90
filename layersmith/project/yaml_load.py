"""The one way layersmith reads a stack file's YAML: `yaml.safe_load`, made strict where it is lax.

* A mapping that names a key twice (two `layersmith:deploy:` entries) is an error naming both lines:
  PyYAML silently keeps the last, so an edit to the first would do nothing. (Pulumi's own reader
  refuses such a file too.) A `<<` merge may still be overridden by an explicit key, as YAML intends.
* A syntax error is one line, FILE:LINE:COL, not PyYAML's multi-line report.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from layersmith.errors import ConfigError

_MERGE = "tag:yaml.org,2002:merge"


def _no_duplicate_keys(root: yaml.Node | None, path: Path | str) -> None:
    """Walk the composed node tree (not the loaded data, where the first key is already gone)."""
    pending, visited = [root], set()
    while pending:
        node = pending.pop()
        if node is None or id(node) in visited:  # an alias shares its anchor's node: walk it once
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                pending.append(value)
                if key.tag == _MERGE or not isinstance(key, yaml.ScalarNode):
                    continue
                line = key.start_mark.line + 1
                if (key.tag, key.value) in seen:
                    raise ConfigError(f"appears twice in one map (lines {seen[key.tag, key.value]} and {line}); "
                                      "YAML would keep only the last: keep one", path=path, key=key.value,
                                      line=line)
                seen[key.tag, key.value] = line
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)


def load_yaml_document(text: str, path: Path | str) -> tuple[object, yaml.Node | None]:
    """The document in `text` (read from `path`), as `yaml.safe_load` reads it, and the node tree it
    was built from (for checks that need the source's styles and lines), from one parse; a duplicate
    key or a syntax error raises `ConfigError` in one line."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()  # a syntax error surfaces here, with its mark
        _no_duplicate_keys(node, path)
        return (loader.construct_document(node) if node is not None else None), node
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        # FILE:LINE:COL, as TOML errors (project/toml_positions.py): marks are 0-based.
        raise ConfigError(f"invalid YAML: {problem}; fix the syntax there", path=path,
                          line=mark.line + 1 if mark is not None else None,
                          column=mark.column + 1 if mark is not None else None) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML ({' '.join(str(exc).split())})", path=path) from None
    finally:
        loader.dispose()


def load_yaml(text: str, path: Path | str) -> object:
    """`load_yaml_document`'s data alone."""
    return load_yaml_document(text, path)[0]
