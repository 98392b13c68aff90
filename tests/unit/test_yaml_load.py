"""Stack YAML read strictly: a key named twice is an error naming both lines (PyYAML keeps the last
silently), a syntax error is one line with its line and column; merges and aliases still work."""

from __future__ import annotations

from pathlib import Path

import pytest

from layersmith.errors import ConfigError
from layersmith.pins.stack_edit import PinEdit, rewrite_pins
from layersmith.project.stacks import project_name, read_stack_file
from layersmith.project.yaml_load import load_yaml, load_yaml_document

TWO_DEPLOYS = ("config:\n"
               "  aws:region: eu-west-1\n"
               "  layersmith:deploy:\n"
               "    - sales-report\n"
               "  layersmith:publish: [utils]\n"
               "  layersmith:deploy:\n"
               "    - ingest-orders\n")


def test_a_key_named_twice_names_the_file_the_key_and_both_lines() -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml(TWO_DEPLOYS, Path("Pulumi.dev.yaml"))
    assert caught.value.exit_code == 2
    assert caught.value.render() == ("Pulumi.dev.yaml:6: layersmith:deploy: appears twice in one map (lines 3 and 6); "
                                     "YAML would keep only the last: keep one")


def test_a_key_named_twice_deeper_down_is_found_too() -> None:
    text = "config:\n  layersmith:pins:\n    api:\n      utils: 3\n      utils: 4\n"
    with pytest.raises(ConfigError, match=r"x\.yaml:5: utils: appears twice in one map \(lines 4 and 5\)"):
        load_yaml(text, "x.yaml")


def test_the_same_key_in_different_maps_merges_and_aliases_are_fine() -> None:
    text = ("a: {x: 1}\nb: {x: 2}\nbase: &base {region: eu-west-1, size: 1}\n"
            "derived:\n  <<: *base\n  size: 2\nlist: &l [1]\nboth: [*l, *l]\n")
    assert load_yaml(text, "x.yaml") == {"a": {"x": 1}, "b": {"x": 2}, "base": {"region": "eu-west-1", "size": 1},
                                         "derived": {"region": "eu-west-1", "size": 2}, "list": [1], "both": [[1], [1]]}


def test_a_syntax_error_is_one_line_with_line_and_column() -> None:
    text = "config:\n  aws:region: eu-west-1\n  layersmith:deploy: [a, b\n  x: 1\n"
    with pytest.raises(ConfigError) as caught:
        load_yaml(text, Path("Pulumi.dev.yaml"))
    assert caught.value.render() == ("Pulumi.dev.yaml:4:4: invalid YAML: expected ',' or ']', but got ':'; fix the "
                                     "syntax there")
    with pytest.raises(ConfigError, match=r"^s\.yaml:2:1: invalid YAML: found character .*; fix"):
        load_yaml("a: 1\n\tb: 2\n", "s.yaml")


def test_read_stack_file_refuses_a_duplicate_key(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text(TWO_DEPLOYS, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"Pulumi\.dev\.yaml:6: layersmith:deploy: appears twice .*lines 3 and 6"):
        read_stack_file(tmp_path, "dev")


def test_promote_refuses_to_rewrite_a_file_with_a_duplicate_key() -> None:
    text = TWO_DEPLOYS + "  layersmith:pins:\n    sales-report:\n      utils: 3\n"
    with pytest.raises(ConfigError, match=r"Pulumi\.dev\.yaml:6: layersmith:deploy: appears twice .*lines 3 and 6"):
        rewrite_pins(text, [PinEdit("sales-report", "utils", None, 4)], path=Path("Pulumi.dev.yaml"))


def test_pulumi_yaml_is_read_as_strictly(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: shared-layers\nruntime: python\nname: other\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"Pulumi.yaml:3: name: appears twice in one map \(lines 1 and 3\)"):
        project_name(tmp_path)


def test_one_parse_gives_the_data_and_the_nodes_it_was_built_from() -> None:
    data, node = load_yaml_document("config:\n  a: [1, '2']\n", "Pulumi.dev.yaml")
    assert data == {"config": {"a": [1, "2"]}}
    assert node is not None and node.value[0][0].value == "config" and node.value[0][0].start_mark.line == 0
    assert load_yaml_document("", "Pulumi.dev.yaml") == (None, None)
