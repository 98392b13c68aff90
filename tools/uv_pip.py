"""Run `uv pip ...` with the package indexes this machine's pip is configured with.

uv reads no pip.conf and no PIP_* variable, so on a machine whose pip looks at extra or local
indexes (`pip config list`: index-url, extra-index-url, find-links, constraint, cert, timeout) a
bare `uv pip install` would resolve against other sources than `pip install` would. This script
asks pip for its effective configuration, turns each setting into the matching uv option, and
execs uv. It runs before the project is installed, on the host's python3: standard library only.

    python3 tools/uv_pip.py VENV/bin/uv pip install --python VENV/bin/python -r requirements-dev.txt
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence

# `pip config list` prints `variant.key='value'`; the `:env:` variant is the PIP_* variables.
_LINE = re.compile(r"^(?P<section>[^.]*)\.(?P<key>[a-z0-9-]+)=(?P<value>.*)$")
# pip's precedence: a PIP_* variable beats the [install] section, which beats [global].
_RANK = {":env:": 3, "install": 2, "global": 1}


def parse_pip_config(listing: str) -> dict[str, str]:
    """The effective value of each key in `pip config list` output, by pip's precedence."""
    best: dict[str, tuple[int, str]] = {}
    for line in listing.splitlines():
        m = _LINE.match(line.strip())
        if not m or m["section"] not in _RANK:
            continue
        rank = _RANK[m["section"]]
        value = m["value"]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if m["key"] not in best or rank > best[m["key"]][0]:
            best[m["key"]] = (rank, value)
    return {key: value for key, (_, value) in best.items()}


def uv_options(config: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The uv command-line options and environment that mean what pip's settings mean."""
    args: list[str] = []
    env: dict[str, str] = {}
    if config.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        args.append("--no-index")
    if url := config.get("index-url"):
        args += ["--index-url", url]
    extras = config.get("extra-index-url", "").split()
    for url in extras:
        args += ["--extra-index-url", url]
    if extras:
        # pip picks the best version across all its indexes; uv's default takes the first index
        # that has the name at all (a guard against dependency confusion pip does not have).
        args += ["--index-strategy", "unsafe-best-match"]
    for location in config.get("find-links", "").split():
        args += ["--find-links", location]
    for path in config.get("constraint", "").split():
        args += ["--constraint", path]
    if cert := config.get("cert"):
        env["SSL_CERT_FILE"] = cert  # uv's rustls reads the bundle named here
    timeout = config.get("timeout") or config.get("default-timeout")
    if timeout:
        env["UV_HTTP_TIMEOUT"] = timeout
    return args, env


def pip_config_listing(python: str) -> str:
    """`pip config list` of the host's pip; empty when that Python has no pip (then uv's defaults)."""
    try:
        done = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True, text=True,
                              check=False, timeout=60)
    except OSError:
        return ""
    return done.stdout if done.returncode == 0 else ""


def command(argv: Sequence[str], listing: str) -> tuple[list[str], dict[str, str]]:
    """`uv pip SUBCOMMAND ...` with pip's sources inserted after the subcommand."""
    if len(argv) < 3 or argv[1] != "pip":
        raise SystemExit("usage: uv_pip.py UV pip SUBCOMMAND [ARGS...]")
    args, env = uv_options(parse_pip_config(listing))
    return [*argv[:3], *args, *argv[3:]], env


def main(argv: Sequence[str]) -> None:
    full, env = command(argv, pip_config_listing(sys.executable))
    if os.environ.get("UV_PIP_VERBOSE"):
        print("+", shlex.join(full), file=sys.stderr)
    os.execve(full[0], full, {**os.environ, **env})


if __name__ == "__main__":
    main(sys.argv[1:])
