"""A real incremental build (uv, PyPI, this host's compileall) is byte-identical to a cold one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layersmith.cli import main

TOML = ('description = "d"\nruntimes = ["python3.11"]\narchitectures = ["x86_64"]\n'
        'requirements = "requirements.txt"\n')

pytestmark = pytest.mark.network  # uv resolves and downloads from PyPI


def _build(root: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
           ) -> dict[str, object]:
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(cache))
    capsys.readouterr()
    assert main(["--project", str(root), "build", "inc", "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    return dict(result)


def test_one_bumped_package_rebuilds_alone_and_matches_a_cold_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "p"
    layer = root / "layers" / "inc"
    layer.mkdir(parents=True)
    (layer / "layer.toml").write_text(TOML, encoding="utf-8")
    (layer / "requirements.in").write_text("markupsafe==3.0.2\nsix==1.16.0\n", encoding="utf-8")
    assert main(["--project", str(root), "lock", "inc"]) == 0
    first = _build(root, tmp_path / "warm", monkeypatch, capsys)
    assert (first["pieces_built"], first["pieces_reused"]) == (2, 0)

    (layer / "requirements.in").write_text("markupsafe==3.0.2\nsix==1.17.0\n", encoding="utf-8")
    assert main(["--project", str(root), "lock", "inc"]) == 0
    bumped = _build(root, tmp_path / "warm", monkeypatch, capsys)
    assert (bumped["pieces_built"], bumped["pieces_reused"]) == (1, 1)
    assert "six==1.17.0" in bumped["distributions"]  # type: ignore[operator]
    assert set(bumped["timings"]) == {"install", "slim", "verify", "bytecode", "zip"}  # type: ignore[arg-type]

    cold = _build(root, tmp_path / "cold", monkeypatch, capsys)
    assert cold["pieces_reused"] == 0
    assert Path(str(bumped["zip"])).read_bytes() == Path(str(cold["zip"])).read_bytes()
