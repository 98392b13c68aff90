"""`layersmith lock` with a package index that does not answer: one line naming the index, exit 1,
not an internal error and not "resolving failed" (issue 24). Real uv, against a closed local port:
no network needed."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from layersmith.cli import main


def _closed_port() -> int:
    with socket.socket() as sock:  # bound then released: nothing listens there afterwards
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_lock_names_the_index_it_cannot_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    layer = tmp_path / "layers" / "l"
    layer.mkdir(parents=True)
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n", encoding="utf-8")
    (layer / "layer.toml").write_text('description = "d"\nruntimes = ["python3.12"]\narchitectures = ["x86_64"]\n'
                                      'requirements = "requirements.txt"\n', encoding="utf-8")
    (layer / "requirements.in").write_text("six\n", encoding="utf-8")
    index = f"http://127.0.0.1:{_closed_port()}/simple"
    for variable in ("UV_DEFAULT_INDEX", "UV_INDEX", "UV_EXTRA_INDEX_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("UV_INDEX_URL", index)
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")  # uv retries a refused connection 3 times by default
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    assert main(["--project", str(tmp_path), "lock", "l"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err, err
    assert err.startswith(f"layersmith: error: cannot reach the package index {index} (from UV_INDEX_URL): "
                          "Connection refused"), err
    assert not (layer / "requirements.txt").exists()
