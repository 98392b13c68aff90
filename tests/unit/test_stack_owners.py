"""Two committed stacks with the same `layersmith:namePrefix` in one account and region would own
the same physical layers (each one's grants revoking the other's): refused in `check`, `plan` and
the Pulumi program, in one line naming both stack files. "Same account" unless both stacks declare
disjoint `aws:allowedAccountIds` (see `layersmith.project.stack_owners`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_config import proj, write_function  # noqa: F401  (the fixture and its helper)

from layersmith.cli import main
from layersmith.errors import ConfigError
from layersmith.project.checkout import load_project
from layersmith.project.stack_owners import declared_accounts, require_unique_prefix

SAME = "both stacks may deploy to one account"


def stack(root: Path, name: str, config: dict[str, object]) -> None:
    (root / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": {"aws:region": "eu-west-1", **config}}),
                                              encoding="utf-8")


def refusal(root: Path, name: str) -> str | None:
    project = load_project(root)
    try:
        require_unique_prefix(project, project.stack_config(name), project.stack_raw(name))
    except ConfigError as exc:
        return exc.render()
    return None


def test_the_same_prefix_in_one_region_is_refused_naming_both_files(proj: Path) -> None:  # noqa: F811
    stack(proj, "a", {"layersmith:namePrefix": "team"})
    stack(proj, "b", {"layersmith:namePrefix": "team"})
    assert refusal(proj, "b") == (
        f"Pulumi.b.yaml: layersmith:namePrefix: 'team' is also the name prefix of Pulumi.a.yaml in eu-west-1, and "
        f"{SAME}: they would own the same layers, and each one's grants would revoke the other's; give one "
        "stack its own layersmith:namePrefix (or declare different accounts in aws:allowedAccountIds of both)")
    assert "Pulumi.b.yaml" in (refusal(proj, "a") or "")


def test_an_explicit_prefix_equal_to_another_stacks_default_is_refused(proj: Path) -> None:  # noqa: F811
    stack(proj, "prod", {})
    stack(proj, "copy", {"layersmith:namePrefix": "layersmith-prod"})
    assert "Pulumi.prod.yaml in eu-west-1" in (refusal(proj, "copy") or "")


def test_a_shared_publishing_region_counts(proj: Path) -> None:  # noqa: F811
    stack(proj, "a", {"layersmith:namePrefix": "team"})
    stack(proj, "b", {"aws:region": "us-east-1", "layersmith:namePrefix": "team",
                      "layersmith:regions": ["us-east-1", "eu-west-1"]})
    assert "Pulumi.a.yaml in eu-west-1" in (refusal(proj, "b") or "")


@pytest.mark.parametrize(("a", "b"), [
    ({"layersmith:namePrefix": "team"}, {"layersmith:namePrefix": "other"}),
    ({"layersmith:namePrefix": "team"}, {"layersmith:namePrefix": "team", "aws:region": "us-east-1"}),
    ({"layersmith:namePrefix": "team", "aws:allowedAccountIds": ["111111111111"]},
     {"layersmith:namePrefix": "team", "aws:allowedAccountIds": ["222222222222"]}),
])
def test_different_prefixes_regions_or_declared_accounts_pass(proj: Path, a: dict[str, object],  # noqa: F811
                                                              b: dict[str, object]) -> None:
    stack(proj, "a", a)
    stack(proj, "b", b)
    assert refusal(proj, "b") is None and refusal(proj, "a") is None


@pytest.mark.parametrize("accounts", [(["111111111111"], None), (["111111111111"], ["111111111111", "3"])])
def test_an_undeclared_or_overlapping_account_counts_as_the_same(proj: Path,  # noqa: F811
                                                                 accounts: tuple[list[str], list[str] | None]) -> None:
    stack(proj, "a", {"layersmith:namePrefix": "team", "aws:allowedAccountIds": accounts[0]})
    stack(proj, "b", {"layersmith:namePrefix": "team",
                      **({"aws:allowedAccountIds": accounts[1]} if accounts[1] else {}), "aws:profile": "other"})
    assert refusal(proj, "b") is not None


def test_the_engine_passes_the_accounts_json_encoded() -> None:
    assert declared_accounts({"aws:allowedAccountIds": '["111111111111"]'}) == {"111111111111"}
    assert declared_accounts({"aws:allowedAccountIds": ["111111111111"]}) == {"111111111111"}
    assert declared_accounts({}) == frozenset()


def test_another_stack_file_that_does_not_parse_blocks_nothing(proj: Path) -> None:  # noqa: F811
    stack(proj, "a", {"layersmith:namePrefix": "team"})
    (proj / "Pulumi.broken.yaml").write_text("config: [\n", encoding="utf-8")
    assert refusal(proj, "a") is None


def test_check_and_plan_refuse_in_one_line(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    stack(proj, "a", {"layersmith:namePrefix": "team"})
    stack(proj, "b", {"layersmith:namePrefix": "team"})
    for command in (["check", "--stack", "b", "--no-policy"], ["plan", "--stack", "b"]):
        assert main(["--project", str(proj), *command]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1
        assert err.startswith("layersmith: error: Pulumi.b.yaml: layersmith:namePrefix: 'team' is also the name "
                              "prefix of Pulumi.a.yaml")


def test_the_pulumi_program_refuses_it(proj: Path) -> None:  # noqa: F811
    """The program (`pulumi up`), with the stack's config as the engine passes it: refused before
    anything is built or registered."""
    from layersmith.infra.preview import run_under_mocks
    from layersmith.infra.program import main as program

    stack(proj, "a", {"layersmith:namePrefix": "team"})
    project = load_project(proj)
    with pytest.raises(ConfigError, match=r"^Pulumi\.b\.yaml: layersmith:namePrefix: 'team' is also the name "
                                          r"prefix of Pulumi\.a\.yaml in eu-west-1"):
        run_under_mocks(lambda: program(project), project="layersmith", stack="b", region="eu-west-1",
                        config={"aws:region": "eu-west-1", "layersmith:namePrefix": "team"})
