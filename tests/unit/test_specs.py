"""layer.toml and hashed-lock parsing: every bad input names the file and key and says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REPO, fake_hash, lock_text, write_layer

from layersmith.errors import SpecError, UserError
from layersmith.project.specs import load_layer, load_layers, parse_lock

GOOD = """\
description = "d"
runtimes = ["python3.11", "python3.12"]
architectures = ["x86_64", "arm64"]
requirements = "requirements.txt"
"""


def spec_error(directory: Path) -> SpecError:
    with pytest.raises(SpecError) as err:
        load_layer(directory)
    assert isinstance(err.value, UserError) and err.value.exit_code == 2
    assert "\n" not in str(err.value)  # one line
    return err.value


def layer_dir(project: Path, toml: str, *, lock: str | None = "") -> Path:
    directory = project / "layers" / "demo"
    directory.mkdir(parents=True)
    (directory / "layer.toml").write_text(toml, encoding="utf-8")
    if lock is not None:
        (directory / "requirements.txt").write_text(lock, encoding="utf-8")
    return directory


def test_good_spec(project: Path) -> None:
    directory = layer_dir(project, GOOD + 'license = "MIT"\nexclude = ["Boto3", "python_dateutil"]\n')
    spec = load_layer(directory)
    assert spec.name == "demo"
    assert spec.runtimes == ("python3.11", "python3.12")
    assert spec.architectures == ("x86_64", "arm64")
    assert spec.requirements == (directory / "requirements.txt").resolve()
    assert spec.source is None
    assert spec.portable is False
    assert spec.license == "MIT"
    assert spec.exclude == ("boto3", "python-dateutil")  # canonicalised like RECORD names
    assert spec.spec_path == directory.resolve() / "layer.toml"


@pytest.mark.parametrize("runtime", ["python3.8", "python3.99"])
def test_unknown_runtime(project: Path, runtime: str) -> None:
    directory = layer_dir(project, GOOD.replace('"python3.12"', f'"{runtime}"'))
    err = spec_error(directory)
    assert err.path == str(directory / "layer.toml")
    assert err.key == "runtimes"
    assert runtime in err.message and "use one of" in err.message


def test_unknown_architecture(project: Path) -> None:
    err = spec_error(layer_dir(project, GOOD.replace('"arm64"', '"aarch64"')))
    assert err.key == "architectures"
    assert "'aarch64'" in err.message and "arm64" in err.message


@pytest.mark.parametrize(("old", "new", "key"), [
    ('runtimes = ["python3.11", "python3.12"]', "runtimes = []", "runtimes"),
    ('runtimes = ["python3.11", "python3.12"]', 'runtimes = "python3.11"', "runtimes"),
    ('runtimes = ["python3.11", "python3.12"]', 'runtimes = ["python3.11", "python3.11"]', "runtimes"),
    ('architectures = ["x86_64", "arm64"]', "architectures = []", "architectures"),
    ('description = "d"\n', "", "description"),
    ('description = "d"', "description = 3", "description"),
    ('description = "d"', 'description = "d"\nportable = "yes"', "portable"),
    ('requirements = "requirements.txt"', 'requirements = "requirements.txt"\nsource = "src"', "source"),
])
def test_bad_field_names_its_key(project: Path, old: str, new: str, key: str) -> None:
    assert old in GOOD
    directory = layer_dir(project, GOOD.replace(old, new))
    err = spec_error(directory)
    assert (err.path, err.key) == (str(directory / "layer.toml"), key)


def test_empty_runtimes_message(project: Path) -> None:
    err = spec_error(layer_dir(project, GOOD.replace('["python3.11", "python3.12"]', "[]")))
    assert str(err).endswith("layer.toml:2: runtimes: must not be empty")


def test_unknown_key(project: Path) -> None:
    err = spec_error(layer_dir(project, GOOD + "runtime = 'python3.11'\nzz = 1\n"))
    assert err.key == "runtime"  # the first unknown key, sorted
    assert "known keys are" in err.message and "runtimes" in err.message


def test_directory_without_layer_toml(project: Path) -> None:
    directory = project / "layers" / "empty"
    directory.mkdir()
    err = spec_error(directory)
    assert err.path == str(directory)
    assert "no layer.toml" in err.message


def test_directory_without_layer_toml_through_load_layers(project: Path) -> None:
    write_layer(project, "good", pins=("six==1.16.0",))
    (project / "layers" / "stray").mkdir()
    with pytest.raises(SpecError, match=r"'stray' has no layer\.toml"):
        load_layers(project)


def test_malformed_toml(project: Path) -> None:
    directory = layer_dir(project, 'description = "unterminated\n')
    err = spec_error(directory)
    assert err.path == str(directory / "layer.toml")
    assert (err.line, err.column) == (1, 28)
    assert str(err).endswith("layer.toml:1:28: malformed TOML: Illegal character '\\n'; fix the syntax there")


def test_layer_with_nothing_in_it(project: Path) -> None:
    directory = layer_dir(project, GOOD.replace('requirements = "requirements.txt"\n', ""), lock=None)
    err = spec_error(directory)
    assert err.path == str(directory / "layer.toml")
    assert "nothing to put in it" in err.message and "`requirements`" in err.message


def test_bad_layer_name(project: Path) -> None:
    directory = project / "layers" / "has space"
    directory.mkdir()
    (directory / "layer.toml").write_text(GOOD)
    (directory / "requirements.txt").write_text("")
    assert "letters, digits" in spec_error(directory).message


def test_unknown_layer_name(project: Path) -> None:
    write_layer(project, "utils", source={"m.py": ""})
    with pytest.raises(SpecError, match=r"no layer 'nope'; the project has utils"):
        load_layers(project, ["nope"])


def test_repo_layers_are_valid_and_locked() -> None:
    specs = load_layers(REPO)
    assert set(specs) >= {"data-science", "utils", "monitoring"}
    assert specs["utils"].portable and specs["utils"].requirements is None
    assert not specs["data-science"].portable
    assert set(specs["data-science"].architectures) == {"x86_64", "arm64"}
    for spec in specs.values():
        if spec.requirements:
            reqs = parse_lock(spec.requirements)
            assert reqs and all(r.hashes for r in reqs)


# --- locks ------------------------------------------------------------------------------------------

def write_lock(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(text, encoding="utf-8")
    return path


def lock_error(path: Path) -> SpecError:
    with pytest.raises(SpecError) as err:
        parse_lock(path)
    assert err.value.path == str(path)
    return err.value


def test_lock_parses_continuations_markers_and_comments(tmp_path: Path) -> None:
    h1, h2 = fake_hash("a"), fake_hash("b")
    path = write_lock(tmp_path, f"# header\n\nNumPy==2.2.6 ; python_full_version < '3.12' \\\n"
                                f"    --hash={h1} \\\n    --hash={h2}\n    # via pandas\n"
                                f"six==1.16.0 --hash={h1}  # inline comment\n")
    numpy, six = parse_lock(path)
    assert (numpy.name, numpy.version, numpy.hashes, numpy.line) == ("numpy", "2.2.6", (h1, h2), 3)
    assert numpy.marker == 'python_full_version < "3.12"'
    assert (six.name, six.line, six.marker) == ("six", 7, None)


def test_lock_helper_round_trips(tmp_path: Path) -> None:
    reqs = parse_lock(write_lock(tmp_path, lock_text("a==1", "b-c==2.0")))
    assert [(r.name, r.version) for r in reqs] == [("a", "1"), ("b-c", "2.0")]


@pytest.mark.parametrize("line", ["six>=1.16 --hash={h}", "six --hash={h}", "six==1.* --hash={h}",
                                  "six~=1.16 --hash={h}"])
def test_lock_line_without_exact_pin(tmp_path: Path, line: str) -> None:
    path = write_lock(tmp_path, "# ok\n" + line.format(h=fake_hash("six")) + "\n")
    err = lock_error(path)
    assert err.line == 2 and str(err).startswith(f"{path}:2: ")
    assert "'six' is not pinned with '=='" in err.message and "layersmith lock" in err.message


def test_lock_line_without_hash(tmp_path: Path) -> None:
    err = lock_error(write_lock(tmp_path, lock_text("a==1") + "six==1.16.0\n"))
    assert err.line == 5
    assert "six==1.16.0 has no --hash" in err.message


def test_lock_line_with_a_bad_hash(tmp_path: Path) -> None:
    err = lock_error(write_lock(tmp_path, "six==1.16.0 --hash=md5:abc\n"))
    assert "is not sha256:<64 hex>" in err.message


@pytest.mark.parametrize("line", ["-e .", "--index-url https://example.com/simple", "-r other.txt"])
def test_lock_options_are_refused(tmp_path: Path, line: str) -> None:
    err = lock_error(write_lock(tmp_path, line + "\n"))
    assert err.line == 1 and "not allowed in a lock" in err.message


def test_lock_garbage_line(tmp_path: Path) -> None:
    assert "not a requirement" in lock_error(write_lock(tmp_path, "this is not ( a requirement\n")).message


def test_missing_lock(tmp_path: Path) -> None:
    # A spec may name a lock that `layersmith lock` has not written yet; reading it says so.
    message = lock_error(tmp_path / "requirements.txt").message
    assert "lock file missing" in message and "layersmith lock" in message
