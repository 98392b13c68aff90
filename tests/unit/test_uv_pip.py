"""tools/uv_pip.py: `make venv` installs with uv from the same sources this machine's pip uses."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("uv_pip", ROOT / "tools" / "uv_pip.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["uv_pip"] = module
    spec.loader.exec_module(module)
    return module


uv_pip = _load()

# What `pip config list` printed on the machines CI runs on (environment first, then the files).
LISTING = """\
:env:.cert='/etc/ssl/certs/ca-certificates.crt'
:env:.default-timeout='180'
:env:.disable-pip-version-check='1'
:env:.find-links='/opt/wheels'
global.cert='/etc/ssl/other.crt'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/elsewhere'
"""


def test_a_pip_variable_beats_the_files_and_install_beats_global() -> None:
    config = uv_pip.parse_pip_config(LISTING + "install.index-url='https://mirror/simple'\n"
                                     "global.index-url='https://ignored/simple'\n")
    assert config["cert"] == "/etc/ssl/certs/ca-certificates.crt"
    assert config["find-links"] == "/opt/wheels"
    assert config["index-url"] == "https://mirror/simple"
    assert config["extra-index-url"] == "file:///opt/pypi/simple file:///opt/pypi-more/simple"


def test_every_source_pip_would_use_reaches_uv() -> None:
    argv, env = uv_pip.command(["/v/bin/uv", "pip", "install", "-r", "requirements-dev.txt"], LISTING)
    assert argv[:3] == ["/v/bin/uv", "pip", "install"]
    assert argv[-2:] == ["-r", "requirements-dev.txt"]
    joined = " ".join(argv)
    assert "--extra-index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple" in joined
    # pip takes the best version across all its indexes; uv must be told to do the same.
    assert "--index-strategy unsafe-best-match" in joined
    assert "--find-links /opt/wheels" in joined and "/elsewhere" not in joined
    assert "--constraint /etc/xdg/pip/constraints.txt" in joined
    assert env == {"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt", "UV_HTTP_TIMEOUT": "180"}


def test_no_pip_configuration_leaves_uv_on_its_defaults() -> None:
    argv, env = uv_pip.command(["uv", "pip", "install", "x"], "")
    assert argv == ["uv", "pip", "install", "x"]
    assert env == {}


def test_the_makefile_installs_the_venv_with_uv_through_this_script() -> None:
    recipe = (ROOT / "Makefile").read_text()
    assert "tools/uv_pip.py $(UV) pip install" in recipe
    assert "-m pip install --quiet --disable-pip-version-check -r requirements-dev.txt" not in recipe
