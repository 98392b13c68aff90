"""A wrong value in a stack file names its line, FILE:LINE: KEY (issue 24), like function.toml's.

Only when the stack was read from its file: the engine's config map under `pulumi up` has no lines,
and the same validation then names the key alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_config import proj, write_function  # noqa: F401  (the fixture and its helper)

from layersmith.errors import ConfigError
from layersmith.project.checkout import load_project, load_stack_config

STACK = """\
config:
  aws:region: eu-west-1
  layersmith:functions:
    {fn}:
      reserved_concurrency: 5
      sqs:
        queue_arn: arn:aws:sqs:eu-west-1:123456789012:orders.fifo
        batch_size: 50
"""


def stack_error(proj: Path, text: str) -> ConfigError:  # noqa: F811
    (proj / "Pulumi.lines.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_stack_config(load_project(proj), "lines")
    return err.value


def test_a_nested_stack_value_names_its_line(proj: Path) -> None:  # noqa: F811
    fn = sorted(p.name for p in (proj / "functions").iterdir())[0]
    err = stack_error(proj, STACK.format(fn=fn))
    assert str(err).startswith(f"Pulumi.lines.yaml:8: layersmith:functions.{fn}.sqs.batch_size: 50 is over 10, the "
                               "most Lambda takes at once from a FIFO queue"), str(err)


def test_a_value_in_a_list_names_the_list_line(proj: Path) -> None:  # noqa: F811
    err = stack_error(proj, "config:\n  aws:region: eu-west-1\n\n  layersmith:publish:\n    - nope\n")
    assert str(err).startswith("Pulumi.lines.yaml:4: layersmith:publish: unknown layer 'nope'"), str(err)


def test_an_unknown_key_names_its_line(proj: Path) -> None:  # noqa: F811
    err = stack_error(proj, "config:\n  aws:region: eu-west-1\n  layersmith:publsh: []\n")
    assert (err.line, err.key) == (3, "layersmith:publsh")
