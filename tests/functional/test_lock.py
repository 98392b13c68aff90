"""`layersmith lock`: per-target resolution merged into one lock, kept pins, upgrades, stale locks refused.

Real uv against PyPI (the functional tier needs the network, like the real builds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from layersmith.cli import main
from layersmith.project.specs import parse_lock

TOML = ('description = "d"\nruntimes = [{runtimes}]\narchitectures = ["x86_64", "arm64"]\n'
        'requirements = "requirements.txt"\n')

pytestmark = pytest.mark.network  # uv resolves and downloads from PyPI


def _layer(root: Path, name: str, requirements: str, runtimes: str = '"python3.11", "python3.12"') -> Path:
    layer = root / "layers" / name
    layer.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text("name: t\nruntime: python\n", encoding="utf-8")
    (layer / "layer.toml").write_text(TOML.format(runtimes=runtimes), encoding="utf-8")
    (layer / "requirements.in").write_text(requirements, encoding="utf-8")
    return layer


def _versions(lock: Path) -> dict[str, list[tuple[str, str | None]]]:
    out: dict[str, list[tuple[str, str | None]]] = {}
    for req in parse_lock(lock):
        out.setdefault(req.name, []).append((req.version, req.marker))
    return out


@pytest.mark.slow
def test_scipy_pyarrow_pandas_lock_in_one_run_without_markers(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    layer = _layer(tmp_path, "sci", "scipy\npyarrow\npandas\n")
    assert main(["--project", str(tmp_path), "lock", "sci"]) == 0
    out = capsys.readouterr().out
    assert "python3.11/arm64 (Amazon Linux 2, glibc 2.26)" in out
    lock = layer / "requirements.txt"
    text = lock.read_text(encoding="utf-8")
    assert "# targets: python3.11/x86_64 python3.11/arm64 python3.12/x86_64 python3.12/arm64\n" in text
    versions = _versions(lock)
    # Amazon Linux 2 cannot load numpy>=2.3 (manylinux_2_28 wheels only): the tool picked per runtime.
    numpy = dict((marker, version) for version, marker in versions["numpy"])
    assert numpy['python_version == "3.11"'].startswith("2.2.")
    assert numpy['python_version == "3.12"'] != numpy['python_version == "3.11"']
    assert {"scipy", "pyarrow", "pandas"} <= set(versions)

    # Unchanged requirements.in: nothing moves, not a byte changes.
    assert main(["--project", str(tmp_path), "lock", "sci"]) == 0
    assert "nothing moved" in capsys.readouterr().out
    assert lock.read_text(encoding="utf-8") == text

    # A runtime added to layer.toml since: build refuses the lock in one line naming the fix.
    (layer / "layer.toml").write_text(TOML.format(runtimes='"python3.11", "python3.12", "python3.13"'),
                                      encoding="utf-8")
    assert main(["--project", str(tmp_path), "build", "sci", "--runtime", "python3.11"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sci/requirements.txt" in err
    assert "not for python3.13/x86_64 python3.13/arm64 (now in layer.toml); run `layersmith lock sci`" in err


def test_lock_names_the_newest_version_with_a_wheel_and_keeps_the_old_lock(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layer = _layer(tmp_path, "np", "markupsafe==3.0.2\n")
    assert main(["--project", str(tmp_path), "lock", "np"]) == 0
    good = (layer / "requirements.txt").read_text(encoding="utf-8")

    # numpy 2.4 ships only manylinux_2_27+ wheels: python3.11 on Amazon Linux 2 (glibc 2.26) can't load it
    (layer / "requirements.in").write_text("numpy==2.4.6\n", encoding="utf-8")
    assert main(["--project", str(tmp_path), "lock", "np"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("layersmith: error: ") and "layers/np/requirements.in: " in err
    assert "numpy==2.4.6 has no wheel for python3.11/x86_64 (Amazon Linux 2, glibc 2.26)" in err
    assert "the newest release with one is 2.2.6" in err
    assert (layer / "requirements.txt").read_text(encoding="utf-8") == good  # nothing half-written
    assert sorted(p.name for p in layer.iterdir()) == ["layer.toml", "requirements.in", "requirements.txt"]


def test_lock_keeps_pins_until_asked_to_upgrade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layer = _layer(tmp_path, "j", "jmespath==1.0.0\nsix==1.16.0\n")
    assert main(["--project", str(tmp_path), "lock", "j"]) == 0
    lock = layer / "requirements.txt"
    (layer / "requirements.in").write_text("jmespath\nsix\n", encoding="utf-8")  # loosened: pins still fit
    assert main(["--project", str(tmp_path), "lock", "j"]) == 0
    assert _versions(lock) == {"jmespath": [("1.0.0", None)], "six": [("1.16.0", None)]}
    capsys.readouterr()

    assert main(["--project", str(tmp_path), "lock", "j", "--upgrade-package", "jmespath"]) == 0
    out = capsys.readouterr().out
    versions = _versions(lock)
    assert versions["six"] == [("1.16.0", None)] and versions["jmespath"][0][0] != "1.0.0"
    assert "jmespath 1.0.0 -> " in out and "six" not in out

    assert main(["--project", str(tmp_path), "lock", "j", "--upgrade-package", "nope"]) == 2
    assert "--upgrade-package: 'nope' is not in the lock of any target" in capsys.readouterr().err

    assert main(["--project", str(tmp_path), "lock", "j", "--upgrade"]) == 0
    assert _versions(lock)["six"][0][0] != "1.16.0"
