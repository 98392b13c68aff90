"""The line of each key of a stack file's `config:` map, so a wrong value is FILE:LINE: KEY.

The stack's values are validated from plain dicts (the same code validates the engine's config map
under `pulumi up`, which has no lines); when they were read from the file, the YAML node tree of that
one parse gives each key's line, and an error naming the file and a key gains it afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager

import yaml

from layersmith.errors import locating
from layersmith.project.toml_positions import nearest_line


def config_key_lines(root: yaml.Node | None) -> dict[str, int]:
    """Dotted path under `config:` (`layersmith:functions.f.sqs.batch_size`, list items `[i]`) -> line."""
    config = next((value for key, value in root.value if key.value == "config"), None) \
        if isinstance(root, yaml.MappingNode) else None
    lines: dict[str, int] = {}
    pending: list[tuple[str, yaml.Node]] = [("", config)] if config is not None else []
    while pending:
        prefix, node = pending.pop()
        for path, child, line in _children(prefix, node):
            lines.setdefault(path, line)
            pending.append((path, child))
    return lines


def _children(prefix: str, node: yaml.Node) -> list[tuple[str, yaml.Node, int]]:
    """(path, node, line) of a map's values (the key's line) or a list's items; nothing for a scalar."""
    if isinstance(node, yaml.MappingNode):
        return [(f"{prefix}.{key.value}" if prefix else str(key.value), value, key.start_mark.line + 1)
                for key, value in node.value if isinstance(key, yaml.ScalarNode)]
    if isinstance(node, yaml.SequenceNode):
        return [(f"{prefix}[{index}]", item, item.start_mark.line + 1) for index, item in enumerate(node.value)]
    return []


def located(shown: str, lines: Mapping[str, int]) -> AbstractContextManager[None]:
    """An error naming the stack file `shown` and a key, raised inside, gains that key's line."""
    return locating(shown, lambda key: nearest_line(lines, key))
