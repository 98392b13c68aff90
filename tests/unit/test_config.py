"""Stack config (`Pulumi.<stack>.yaml`, namespace `layersmith`): every bad value the issue lists
fails with a `ConfigError` that names the stack file and the `layersmith:<key>` and says what to
do; the defaults are the documented ones; the engine's string encoding round-trips.

Projects are small real directories (layer.toml / function.toml written to tmp), parsed by the
real spec loaders, so a test cannot pass on a spec the product would refuse.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from layersmith.errors import ConfigError, SpecError
from layersmith.model import StackConfig
from layersmith.project.checkout import load_project, load_stack_config
from layersmith.project.specs import load_functions, load_layers
from layersmith.project.stacks import committed_stacks, decode_engine_config, parse_stack_config, read_stack_file

REPO = Path(__file__).resolve().parents[2]
REGION = {"aws:region": "eu-west-1"}
ARN = "arn:aws:lambda:eu-west-1:015030872274:layer:Third-Party"


# --- tiny real projects ----------------------------------------------------------------------------

def write_layer(project: Path, name: str, runtimes: list[str], archs: list[str], *, portable: bool = False) -> None:
    directory = project / "layers" / name
    (directory / "src").mkdir(parents=True)
    (directory / "src" / f"{name.replace('-', '_')}.py").write_text("X = 1\n", encoding="utf-8")
    (directory / "layer.toml").write_text(
        f'description = "{name} layer"\nlicense = "MIT"\nruntimes = {json.dumps(runtimes)}\n'
        f'architectures = {json.dumps(archs)}\nsource = "src"\nportable = {str(portable).lower()}\n',
        encoding="utf-8")


def write_function(project: Path, name: str, runtime: str, arch: str, layers: list[str]) -> None:
    directory = project / "functions" / name
    directory.mkdir(parents=True)
    (directory / "handler.py").write_text("def handler(event, context):\n    return {}\n", encoding="utf-8")
    (directory / "function.toml").write_text(
        f'handler = "handler.handler"\nruntime = "{runtime}"\narchitecture = "{arch}"\n'
        f"layers = {json.dumps(layers)}\n", encoding="utf-8")


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    """Layers: data (3.11/3.12 x both archs, native), utils (portable), legacy (3.11 x86_64 only).
    Functions: report (3.11 x86_64: data, utils), thumbs (3.12 arm64: utils)."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "Pulumi.yaml").write_text("name: layersmith\nruntime: python\n", encoding="utf-8")
    write_layer(root, "data", ["python3.11", "python3.12"], ["x86_64", "arm64"])
    write_layer(root, "utils", ["python3.11", "python3.12", "python3.13"], ["x86_64", "arm64"], portable=True)
    write_layer(root, "legacy", ["python3.11"], ["x86_64"])
    write_function(root, "report", "python3.11", "x86_64", ["data", "utils"])
    write_function(root, "thumbs", "python3.12", "arm64", ["utils"])
    return root


def parse(project: Path, config: dict[str, Any], stack: str = "test") -> StackConfig:
    return parse_stack_config({**REGION, **config}, project="layersmith", stack=stack,
                              path=project / f"Pulumi.{stack}.yaml", layers=load_layers(project),
                              functions=load_functions(project))


def fails(project: Path, config: dict[str, Any], key: str, *says: str) -> str:
    """Asserts a ConfigError naming `Pulumi.test.yaml` and `layersmith:<key>`, whose message says
    each of `says` (case-insensitive); returns the message."""
    with pytest.raises(ConfigError) as err:
        parse(project, config)
    message = str(err.value)
    assert "Pulumi.test.yaml" in message, message
    assert f"layersmith:{key}:" in message, message
    assert "\n" not in message, "one line"
    for fragment in says:
        assert fragment.lower() in message.lower(), f"{fragment!r} not in {message!r}"
    return message


# --- defaults --------------------------------------------------------------------------------------

def test_defaults(proj: Path) -> None:
    cfg = parse(proj, {})
    assert cfg.publish == ("data", "legacy", "utils")  # every layer under layers/
    assert cfg.deploy == ("report", "thumbs")  # every function under functions/
    assert cfg.retain_versions is True
    assert cfg.log_retention_days == 30
    assert cfg.name_prefix == "layersmith-test"
    assert cfg.require_pins is False
    assert cfg.pins == ()
    assert cfg.pin_for("report", "data") == "latest"
    assert cfg.share_with.accounts == () and cfg.share_with.organizations == () and not cfg.share_with.public
    assert cfg.consume.stack is None and cfg.consume.arns == ()
    assert cfg.artifact_bucket is None
    assert cfg.region == "eu-west-1"


def test_default_prefixes_of_two_stacks_differ(proj: Path) -> None:
    assert parse(proj, {}, "dev").name_prefix != parse(proj, {}, "prod").name_prefix


def test_explicit_values_are_kept(proj: Path) -> None:
    cfg = parse(proj, {
        "layersmith:publish": ["data", "utils"], "layersmith:deploy": ["report"],
        "layersmith:retainVersions": False, "layersmith:logRetentionDays": 90,
        "layersmith:namePrefix": "team-x", "layersmith:artifactBucket": "my-bucket",
        "layersmith:requirePins": True, "layersmith:pins": {"report": {"data": 3, "utils": 12}},
        "layersmith:shareWith": {"accounts": ["111111111111"], "organizations": ["o-exampleorg01"]},
    })
    assert cfg.publish == ("data", "utils") and cfg.deploy == ("report",)
    assert cfg.retain_versions is False and cfg.log_retention_days == 90
    assert cfg.name_prefix == "team-x" and cfg.artifact_bucket == "my-bucket"
    assert cfg.pin_for("report", "data") == 3 and cfg.pin_for("report", "utils") == 12
    assert cfg.share_with.accounts == ("111111111111",)
    assert cfg.share_with.organizations == ("o-exampleorg01",)


def test_public_true_is_allowed(proj: Path) -> None:
    assert parse(proj, {"layersmith:shareWith": {"public": True}}).share_with.public is True


def test_publish_empty_for_a_consumer(proj: Path) -> None:
    cfg = parse(proj, {"layersmith:publish": [], "layersmith:deploy": ["thumbs"],
                       "layersmith:consume": {"stack": "acme/layersmith/prod"}})
    assert cfg.publish == () and cfg.consume.stack == "acme/layersmith/prod"


# --- shareWith ------------------------------------------------------------------------------------

@pytest.mark.parametrize("account", ["12345", "1234567890123", "12345678901a", "", "arn:aws:iam::111111111111:root"])
def test_account_not_12_digits(proj: Path, account: str) -> None:
    fails(proj, {"layersmith:shareWith": {"accounts": [account]}}, "shareWith.accounts", "12-digit")


def test_account_as_a_number_from_yaml(proj: Path) -> None:
    """An unquoted account ID is a number to YAML (the leading zero of 012345678901 is lost): the
    message says so and quotes back what was written."""
    (proj / "Pulumi.test.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  layersmith:shareWith:\n    accounts:\n      - 12345678901\n",
        encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_stack_config(load_project(proj), "test")
    message = str(err.value)
    assert "Pulumi.test.yaml" in message and "layersmith:shareWith.accounts" in message
    assert "leading zeros" in message and "quote" in message
    assert '"12345678901"' in message


@pytest.mark.parametrize("written", ["012345678901", "012345670123"])
def test_unquoted_account_with_a_leading_zero(proj: Path, written: str) -> None:
    # PyYAML reads the first as a string and the second as octal; Pulumi reads both as numbers.
    (proj / "Pulumi.test.yaml").write_text(
        f"config:\n  aws:region: eu-west-1\n  layersmith:shareWith:\n    accounts:\n      - {written}\n",
        encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"layersmith:shareWith\.accounts: account ID {written} is unquoted.*"
                                          rf"quote it: \"{written}\""):
        load_stack_config(load_project(proj), "test")


def test_yaml11_boolean_words_are_refused(proj: Path) -> None:
    (proj / "Pulumi.test.yaml").write_text("config:\n  aws:region: eu-west-1\n  layersmith:requirePins: yes\n",
                                           encoding="utf-8")
    with pytest.raises(ConfigError, match=r"layersmith:requirePins: 'yes' is not a boolean to Pulumi"):
        load_stack_config(load_project(proj), "test")


def test_key_without_namespace_is_refused(proj: Path) -> None:
    (proj / "Pulumi.test.yaml").write_text("config:\n  aws:region: eu-west-1\n  shareWith:\n    public: true\n",
                                           encoding="utf-8")
    with pytest.raises(ConfigError, match=r"Pulumi\.test\.yaml:3: shareWith: .*write it as layersmith:shareWith"):
        load_stack_config(load_project(proj), "test")


def test_twelve_digit_account_as_a_number_from_yaml(proj: Path) -> None:
    (proj / "Pulumi.test.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  layersmith:shareWith:\n    accounts: [222222222222]\n",
        encoding="utf-8")
    with pytest.raises(ConfigError, match=r"Pulumi\.test\.yaml:4: layersmith:shareWith\.accounts: .*number.*"
                                          r"leading zeros.*\"222222222222\""):
        load_stack_config(load_project(proj), "test")


@pytest.mark.parametrize("org", ["o-short", "O-EXAMPLEORG01", "exampleorg01", "o-example_org01", "o-" + "a" * 33, 42])
def test_malformed_organization(proj: Path, org: object) -> None:
    fails(proj, {"layersmith:shareWith": {"organizations": [org]}}, "shareWith.organizations",
          "organization ID", "o-")


@pytest.mark.parametrize("where", ["accounts", "organizations"])
def test_star_without_public(proj: Path, where: str) -> None:
    fails(proj, {"layersmith:shareWith": {where: ["*"]}}, f"shareWith.{where}", "public: true")


def test_unknown_share_with_key(proj: Path) -> None:
    fails(proj, {"layersmith:shareWith": {"acounts": ["111111111111"]}}, "shareWith.acounts", "unknown key",
          "accounts")


# --- pins ------------------------------------------------------------------------------------------

def test_pin_names_unknown_function(proj: Path) -> None:
    fails(proj, {"layersmith:pins": {"reprot": {"data": 1}}}, "pins.reprot", "unknown function", "report")


def test_pin_names_layer_the_function_does_not_attach(proj: Path) -> None:
    fails(proj, {"layersmith:pins": {"thumbs": {"data": 1}}}, "pins.thumbs.data", "does not attach", "utils")


@pytest.mark.parametrize("value", [0, -1, "3", 2.5, True, None, "LATEST", [3]])
def test_pin_not_a_positive_integer_or_latest(proj: Path, value: object) -> None:
    fails(proj, {"layersmith:pins": {"report": {"data": value}}}, "pins.report.data", "positive integer",
          '"latest"')


def test_pin_latest_is_accepted(proj: Path) -> None:
    assert parse(proj, {"layersmith:pins": {"report": {"data": "latest"}}}).pin_for("report", "data") == "latest"


def test_a_region_qualified_pin_keeps_every_regions_version(proj: Path) -> None:
    # The functions attach aws:region's number; prune must still know us-east-1's (it deleted it).
    cfg = parse(proj, {"layersmith:regions": ["eu-west-1", "us-east-1"],
                       "layersmith:pins": {"report": {"data": {"eu-west-1": 4, "us-east-1": 3}, "utils": 2}}})
    assert cfg.pin_for("report", "data") == 4
    assert sorted(cfg.pins_by_region()) == [("report", "data", "eu-west-1", 4), ("report", "data", "us-east-1", 3),
                                            ("report", "utils", "eu-west-1", 2)]


def test_latest_under_require_pins(proj: Path) -> None:
    fails(proj, {"layersmith:requirePins": True,
                 "layersmith:pins": {"report": {"data": "latest", "utils": 2}, "thumbs": {"utils": 2}}},
          "pins.report.data", "integer", "requirePins")


def test_missing_pin_under_require_pins(proj: Path) -> None:
    fails(proj, {"layersmith:requirePins": True,
                 "layersmith:pins": {"report": {"data": 1}, "thumbs": {"utils": 2}}},
          "pins.report.utils", "integer", "requirePins")


def test_require_pins_satisfied(proj: Path) -> None:
    cfg = parse(proj, {"layersmith:requirePins": True,
                       "layersmith:pins": {"report": {"data": 1, "utils": 2}, "thumbs": {"utils": 2}}})
    assert cfg.require_pins is True


# --- functions and layers --------------------------------------------------------------------------

def test_more_than_five_layers(proj: Path) -> None:
    names = [f"extra{i}" for i in range(6)]
    for name in names:
        write_layer(proj, name, ["python3.11"], ["x86_64"], portable=True)
    write_function(proj, "heavy", "python3.11", "x86_64", names)
    # Refused where it is written (function.toml), for every command, before any stack is read.
    with pytest.raises(SpecError) as err:
        parse(proj, {"layersmith:deploy": ["report", "thumbs"]})
    assert (Path(str(err.value.path)).name, err.value.key) == ("function.toml", "layers")
    assert "6 layers" in err.value.message and "at most 5" in err.value.message


def test_five_layers_is_fine(proj: Path) -> None:
    names = [f"extra{i}" for i in range(5)]
    for name in names:
        write_layer(proj, name, ["python3.11"], ["x86_64"], portable=True)
    write_function(proj, "heavy", "python3.11", "x86_64", names)
    assert "heavy" in parse(proj, {}).deploy


@pytest.mark.parametrize(("runtime", "arch"), [("python3.12", "x86_64"), ("python3.11", "arm64"),
                                               ("python3.13", "x86_64")])
def test_no_variant_supports_the_function(proj: Path, runtime: str, arch: str) -> None:
    write_function(proj, "old", runtime, arch, ["utils", "legacy"])
    fails(proj, {}, "deploy", "old", "legacy", runtime, arch, "python3.11")


def test_layer_in_both_publish_and_consume(proj: Path) -> None:
    fails(proj, {"layersmith:consume": {"arns": {"utils": ARN}}}, "consume.arns.utils", "publish")


@pytest.mark.parametrize("arn", [
    "not-an-arn",
    "arn:aws:lambda:eu-west-1:12345:layer:Third-Party",
    "arn:aws:lambda:eu-west-1:015030872274:function:Third-Party",
    "arn:aws:lambda:eu-west-1:015030872274:layer:Third Party",
    42,
])
def test_consumed_arn_malformed(proj: Path, arn: object) -> None:
    fails(proj, {"layersmith:publish": ["data"], "layersmith:consume": {"arns": {"utils": arn}}},
          "consume.arns.utils", "not a layer ARN", "arn:aws:lambda:<region>")


def test_consumed_arn_versioned(proj: Path) -> None:
    fails(proj, {"layersmith:publish": ["data"], "layersmith:consume": {"arns": {"utils": ARN + ":12"}}},
          "consume.arns.utils", "versioned", "pins")


def test_consumed_arn_in_another_region(proj: Path) -> None:
    fails(proj, {"layersmith:publish": ["data"],
                 "layersmith:consume": {"arns": {"utils": ARN.replace("eu-west-1", "us-east-1")}}},
          "consume.arns.utils", "us-east-1", "eu-west-1")


def test_consumed_arn_needs_an_integer_pin(proj: Path) -> None:
    consume = {"layersmith:publish": ["data"], "layersmith:consume": {"arns": {"utils": ARN}}}
    fails(proj, consume, "pins.report.utils", "integer pin")
    cfg = parse(proj, {**consume, "layersmith:pins": {"report": {"utils": 12}, "thumbs": {"utils": 12}}})
    assert dict(cfg.consume.arns) == {"utils": ARN}


def test_malformed_stack_reference(proj: Path) -> None:
    fails(proj, {"layersmith:publish": [], "layersmith:consume": {"stack": "prod"}}, "consume.stack",
          "org/project/stack")


def test_attached_layer_neither_published_nor_consumed(proj: Path) -> None:
    fails(proj, {"layersmith:publish": ["data"]}, "deploy", "utils", "layersmith:publish", "layersmith:consume")


@pytest.mark.parametrize(("key", "value", "says"), [
    ("publish", ["nope"], "unknown layer"),
    ("publish", "data", "list of layer names"),
    ("deploy", ["nope"], "unknown function"),
    ("retainVersions", "yes", "true or false"),
    ("requirePins", 1, "true or false"),
    ("logRetentionDays", 10, "CloudWatch"),
    ("logRetentionDays", True, "CloudWatch"),
    ("logRetentionDays", 30.5, "CloudWatch"),
    ("namePrefix", "has space", "letters, digits"),
    ("namePrefix", "", "non-empty"),
    ("artifactBucket", 3, "non-empty string"),
])
def test_bad_scalar_values(proj: Path, key: str, value: object, says: str) -> None:
    fails(proj, {f"layersmith:{key}": value}, key, says)


@pytest.mark.parametrize("key", ["retainVersion", "sharewith", "pin", "logRetention"])
def test_unknown_key(proj: Path, key: str) -> None:
    fails(proj, {f"layersmith:{key}": True}, key, "unknown key", "known keys")


def test_foreign_namespaces_are_ignored(proj: Path) -> None:
    assert parse(proj, {"aws:profile": "x", "other:thing": 1}).deploy == ("report", "thumbs")


def test_missing_region(proj: Path) -> None:
    with pytest.raises(ConfigError, match=r"Pulumi\.test\.yaml: aws:region: missing"):
        parse_stack_config({}, project="layersmith", stack="test", path=proj / "Pulumi.test.yaml",
                           layers=load_layers(proj), functions=load_functions(proj))


# --- the engine's encoding -------------------------------------------------------------------------

def engine_encode(raw: dict[str, Any]) -> dict[str, str]:
    """What `pulumi up` hands the program (independently of layersmith.infra.preview): strings stay, every
    other value (objects, lists, numbers, booleans) arrives JSON-encoded."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


@pytest.mark.parametrize("stack", committed_stacks(REPO))
def test_engine_config_round_trips_committed_stacks(stack: str) -> None:
    raw = read_stack_file(REPO, stack)
    assert decode_engine_config(engine_encode(raw)) == raw
    from_yaml = load_stack_config(load_project(REPO), stack)
    from_engine = parse_stack_config(decode_engine_config(engine_encode(raw)), project="layersmith",
                                     stack=stack, path=REPO / f"Pulumi.{stack}.yaml",
                                     layers=load_layers(REPO), functions=load_functions(REPO))
    assert from_engine == from_yaml


def test_engine_config_keeps_string_keys_strings() -> None:
    encoded = {"layersmith:namePrefix": "007", "layersmith:artifactBucket": "true", "aws:region": "eu-west-1",
               "other:value": "[1]", "layersmith:logRetentionDays": "14", "layersmith:retainVersions": "false",
               "layersmith:publish": "[]", "layersmith:pins": json.dumps({"fn": {"utils": 4, "m": "latest"}})}
    assert decode_engine_config(encoded) == {
        "layersmith:namePrefix": "007", "layersmith:artifactBucket": "true", "aws:region": "eu-west-1",
        "other:value": "[1]", "layersmith:logRetentionDays": 14, "layersmith:retainVersions": False,
        "layersmith:publish": [], "layersmith:pins": {"fn": {"utils": 4, "m": "latest"}}}


def test_engine_config_account_number_still_refused(proj: Path) -> None:
    """Through the engine an unquoted account ID is a JSON number: the same error as from YAML."""
    raw = yaml.safe_load("layersmith:shareWith:\n  accounts: [12345678901]\n")
    decoded = decode_engine_config(engine_encode(raw))
    fails(proj, decoded, "shareWith.accounts", "leading zeros", '"012345678901"')


# --- the committed stacks --------------------------------------------------------------------------

def test_committed_stacks_are_valid_and_as_documented() -> None:
    assert set(committed_stacks(REPO)) >= {"dev", "staging", "prod", "consumer"}
    prod = load_stack_config(load_project(REPO), "prod")
    assert prod.require_pins and prod.retain_versions
    assert len(prod.share_with.accounts) == 2 and len(prod.share_with.organizations) == 1
    consumer = load_stack_config(load_project(REPO), "consumer")
    assert consumer.publish == () and consumer.consume.stack and consumer.consume.arns
    dev = load_stack_config(load_project(REPO), "dev")
    assert dev.pins == () and len(dev.share_with.accounts) == 1
    names = {load_stack_config(load_project(REPO), s).name_prefix for s in committed_stacks(REPO)}
    assert len(names) == len(committed_stacks(REPO)), "default prefixes collide between stacks"


def test_function_name_over_lambdas_64_characters(proj: Path) -> None:
    prefix = "p" * 40  # the longest prefix allowed; + "-report" is 47, fine; a long function is not
    write_function(proj, "a-function-with-a-rather-long-name", "python3.11", "x86_64", ["utils"])
    fails(proj, {"layersmith:namePrefix": prefix}, "namePrefix", "64", "shorten")


def test_function_name_at_the_limit_is_accepted(proj: Path) -> None:
    prefix = "p" * 40
    cfg = parse(proj, {"layersmith:namePrefix": prefix, "layersmith:deploy": ["thumbs"]})
    assert len(f"{cfg.name_prefix}-thumbs") <= 64


def test_consumer_pins_are_collected_for_the_publishing_stack(proj: Path) -> None:
    from layersmith.project.checkout import load_stack_config
    from layersmith.project.consumer_pins import ConsumerPin, consumer_pins

    (proj / "Pulumi.prod.yaml").write_text("config:\n  aws:region: eu-west-1\n", encoding="utf-8")
    (proj / "Pulumi.cons.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  layersmith:publish: []\n  layersmith:deploy: [thumbs]\n"
        "  layersmith:consume:\n    stack: acme/layersmith/prod\n"
        "  layersmith:pins:\n    thumbs:\n      utils: 2\n", encoding="utf-8")
    (proj / "Pulumi.other.yaml").write_text(  # consumes another stack: its pins are not prod's business
        "config:\n  aws:region: eu-west-1\n  layersmith:publish: []\n  layersmith:deploy: [thumbs]\n"
        "  layersmith:consume:\n    stack: acme/layersmith/dev\n"
        "  layersmith:pins:\n    thumbs:\n      utils: 9\n", encoding="utf-8")
    (proj / "Pulumi.broken.yaml").write_text(  # consumes prod but does not validate: reported
        "config:\n  layersmith:typo: 1\n  layersmith:consume:\n    stack: acme/layersmith/prod\n", encoding="utf-8")
    (proj / "Pulumi.unrelated.yaml").write_text("config:\n  layersmith:typo: 1\n", encoding="utf-8")  # not prod's
    errors: list[str] = []
    prod = load_stack_config(load_project(proj), "prod")
    assert consumer_pins(load_project(proj), prod, on_error=errors.append) == (
        ConsumerPin("utils", "python3.12", "arm64", 2, "Pulumi.cons.yaml", "eu-west-1"),)
    assert len(errors) == 1 and "Pulumi.broken.yaml" in errors[0]


# --- regions and region-qualified pins --------------------------------------------------------------

def test_regions_default_to_the_stacks_region_and_keep_it_first(proj: Path) -> None:
    assert parse(proj, {}).publish_regions == ("eu-west-1",)
    cfg = parse(proj, {"layersmith:regions": ["us-east-1", "eu-west-1"]})
    assert cfg.regions == ("us-east-1", "eu-west-1") and cfg.publish_regions == ("eu-west-1", "us-east-1")


@pytest.mark.parametrize(("value", "says"), [
    ([], "non-empty list"), ("eu-west-1", "non-empty list"),
    (["eu-west-1", "euwest1"], "unknown region 'euwest1'"),
    (["eu-west-1", "eu-west-1"], "twice"), ([3], "non-empty list")])
def test_bad_regions_are_one_line(proj: Path, value: Any, says: str) -> None:
    fails(proj, {"layersmith:regions": value}, "regions", says)


# Region names are checked against botocore's endpoint data (layersmith.regions), wherever a stack
# file names one: a well-formed typo (us-eest-1) used to plan LayerVersions in a region that does not
# exist, and `aws:region: eu-wset-1` passed in a stack without regional ARNs.
def test_a_misspelt_region_in_regions_is_refused_with_the_closest_name(proj: Path) -> None:
    fails(proj, {"layersmith:regions": ["eu-west-1", "us-eest-1"]}, "regions",
          "unknown region 'us-eest-1'", "did you mean us-east-1 or us-west-1?")


def test_a_misspelt_aws_region_is_refused_with_the_closest_name(proj: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse(proj, {"aws:region": "eu-wset-1"})
    assert err.value.render().startswith("Pulumi.test.yaml: aws:region: unknown region 'eu-wset-1'")
    assert "did you mean eu-west-1?" in err.value.render()


def test_a_misspelt_region_key_of_a_qualified_pin_is_refused(proj: Path) -> None:
    fails(proj, {"layersmith:pins": {"report": {"data": {"eu-west-1": 7, "us-eest-1": 3}}}},
          "pins.report.data.us-eest-1", "unknown region 'us-eest-1'", "did you mean us-east-1 or us-west-1?")


def test_a_misspelt_region_in_a_consumed_arn_is_refused(proj: Path) -> None:
    fails(proj, {"layersmith:publish": ["data"],
                 "layersmith:consume": {"arns": {"utils": ARN.replace("eu-west-1", "eu-wset-1")}}},
          "consume.arns.utils", "unknown region 'eu-wset-1'", "did you mean eu-west-1?")


def test_regions_of_other_partitions_are_known(proj: Path) -> None:
    cfg = parse(proj, {"aws:region": "us-gov-west-1", "layersmith:regions": ["us-gov-west-1", "us-gov-east-1"]})
    assert cfg.publish_regions == ("us-gov-west-1", "us-gov-east-1")


def test_functions_attaching_published_layers_need_their_region_published(proj: Path) -> None:
    fails(proj, {"layersmith:regions": ["us-east-1"]}, "regions", "in eu-west-1 (aws:region)",
          "add eu-west-1 to layersmith:regions")
    cfg = parse(proj, {"layersmith:regions": ["us-east-1"], "layersmith:deploy": []})  # publishing only
    assert cfg.publish_regions == ("us-east-1",)


def test_a_region_qualified_pin_resolves_to_the_functions_region(proj: Path) -> None:
    cfg = parse(proj, {"layersmith:pins": {"report": {"data": {"eu-west-1": 7, "us-east-1": 3}}}})
    assert cfg.pin_for("report", "data") == 7


@pytest.mark.parametrize(("value", "key", "says"), [
    ({"us-east-1": 3}, "pins.report.data", "no version for eu-west-1, the region this function deploys to"),
    ({"eu-west-1": 7, "us-eats-1x": 3}, "pins.report.data.us-eats-1x", "unknown region 'us-eats-1x'"),
    ({"eu-west-1": "7"}, "pins.report.data.eu-west-1", "must be a positive integer version"),
    ({}, "pins.report.data", "{<region>: <version>}")])
def test_region_qualified_pin_typos_fail_in_one_line(proj: Path, value: Any, key: str, says: str) -> None:
    fails(proj, {"layersmith:pins": {"report": {"data": value}}}, key, says)


def test_inventory_and_prune_scan_every_region_the_stacks_publish_to(proj: Path) -> None:
    from layersmith.aws.scope import load_scope

    (proj / "Pulumi.prod.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  layersmith:regions: [eu-west-1, us-east-1]\n", encoding="utf-8")
    (proj / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-central-1\n", encoding="utf-8")
    assert load_scope(load_project(proj), None).regions() == ["eu-central-1", "eu-west-1", "us-east-1"]
    assert load_scope(load_project(proj), "prod").regions() == ["eu-west-1", "us-east-1"]
