"""`layersmith lock` refuses a lock that some variant cannot install, and keeps the old lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from layersmith.cli import main


def test_lock_checks_every_variant_and_keeps_the_old_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layer = tmp_path / "layers" / "np"
    layer.mkdir(parents=True)
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n", encoding="utf-8")
    (layer / "layer.toml").write_text('description = "d"\nruntimes = ["python3.11", "python3.12"]\n'
                                      'architectures = ["x86_64", "arm64"]\nrequirements = "requirements.txt"\n',
                                      encoding="utf-8")
    (layer / "requirements.in").write_text("markupsafe==3.0.2\n", encoding="utf-8")
    assert main(["--project", str(tmp_path), "lock", "np"]) == 0
    assert "all 4 runtime/architecture targets" in capsys.readouterr().out
    good = (layer / "requirements.txt").read_text(encoding="utf-8")

    # numpy 2.4 ships only manylinux_2_27+ wheels: python3.11 on Amazon Linux 2 (glibc 2.26) can't load it
    (layer / "requirements.in").write_text("numpy==2.4.6\n", encoding="utf-8")
    assert main(["--project", str(tmp_path), "lock", "np"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("layersmith: error: ")
    assert "numpy==2.4.6 has no wheel for python3.11/" in err and "glibc 2.26" in err
    assert (layer / "requirements.txt").read_text(encoding="utf-8") == good  # nothing half-written
    assert sorted(p.name for p in layer.iterdir()) == ["layer.toml", "requirements.in", "requirements.txt"]
