"""The first errors a new project meets say what to create (issue 24, "Clearer messages the new
user met"): a stack file that does not exist in a project without any, and no policy config."""

from __future__ import annotations

from pathlib import Path

import pytest

from layersmith.errors import UserError
from layersmith.policy.engine import PolicyConfigError, config_path, load_config, resolve
from layersmith.project.stacks import read_stack_file


def test_a_missing_stack_in_a_project_without_stacks_says_what_to_write(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        read_stack_file(tmp_path, "dev")
    assert str(err.value) == (f"{tmp_path / 'Pulumi.dev.yaml'}: no such stack file; the project has none yet: "
                              "create it with a `config:` map setting aws:region and layersmith:publish (the "
                              "layers it publishes)")


def test_a_missing_stack_lists_the_committed_ones(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text("config: {}\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"Pulumi.dev.yaml: no such stack file; committed stacks: prod$"):
        read_stack_file(tmp_path, "dev")


def test_no_policy_config_says_which_files_and_what_to_write(tmp_path: Path) -> None:
    source = config_path(tmp_path, "qa")
    with pytest.raises(PolicyConfigError) as err:
        load_config(source)
    assert str(err.value) == (f"{tmp_path / 'policies/config/dev.json'}: policy config not found (check reads "
                              "policies/config/<stack>.json, else this file); create it: `{}` applies every "
                              "policy at its default level")
    resolve({})  # what the message promises: an empty config is valid
