"""uv could not reach a package index: an environment problem named by its index, not a failed resolve.

uv prints a failed request as a chain, the URL first and the socket's reason last (uv 0.13):

    error: Failed to fetch: http://127.0.0.1:37999/simple/six/
      cause: error sending request for url (http://127.0.0.1:37999/simple/six/)
      cause: client error (Connect)
      cause: tcp connect error
      cause: Connection refused (os error 111)

With `--no-config` (how layersmith runs it) uv reads no uv.toml and never pip's configuration; its
index comes from the environment (UV_DEFAULT_INDEX, its older spelling UV_INDEX_URL, UV_INDEX,
UV_EXTRA_INDEX_URL; uv's "Environment variables" reference), else PyPI (https://pypi.org/simple).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from layersmith.errors import EnvironmentProblem

PYPI_SIMPLE = "https://pypi.org/simple"
INDEX_VARIABLES = ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_INDEX", "UV_EXTRA_INDEX_URL")
# Patterns as strings, compiled by `re` on first use (and kept in its cache): most runs never need them,
# and compiling them at import was part of every command's start.
_FETCH = r"Failed to (?:fetch|download)[^:]*:\s*`?(?P<url>[a-z+]+://[^\s`]+)`?"
_SENDING = r"error sending request for url \((?P<url>[^)\s]+)\)"
# The last cause of a connection failure, as reqwest / hyper / the OS word it.
_UNREACHABLE = (r"(?i)connect|dns error|lookup address|timed out|timeout|network is unreachable|"
                r"no route to host|connection (?:reset|closed|refused)")


def _configured(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """(variable, index URL) for every index the environment gives uv; UV_INDEX entries may be NAME=URL."""
    found = []
    for variable in INDEX_VARIABLES:
        for entry in environ.get(variable, "").split():
            found.append((variable, entry.split("=", 1)[1] if re.match(r"^[\w.-]+=", entry) else entry))
    return found


def _origin(url: str, environ: Mapping[str, str]) -> tuple[str, str]:
    """(the index, where its URL came from) for a URL uv failed to fetch."""
    for variable, index in _configured(environ):
        if url.startswith(index.rstrip("/")):
            return index, f"from {variable}"
    if url.startswith((PYPI_SIMPLE, "https://files.pythonhosted.org/")):
        return PYPI_SIMPLE, "uv's default: none of " + ", ".join(INDEX_VARIABLES) + " is set"
    return url, "from the environment's uv settings"


def unreachable_index(stderr: str, environ: Mapping[str, str]) -> EnvironmentProblem | None:
    """The one-line problem when uv's stderr says a request to an index never got an answer."""
    m = re.search(_FETCH, stderr) or re.search(_SENDING, stderr)
    causes = [line.strip().removeprefix("cause:").strip() for line in stderr.splitlines()
              if line.strip().startswith("cause:")]
    if m is None or not causes or not re.search(_UNREACHABLE, " ".join(causes)):
        return None
    index, origin = _origin(m.group("url"), environ)
    return EnvironmentProblem(f"cannot reach the package index {index} ({origin}): {causes[-1]}; check the "
                              "network (a proxy: HTTPS_PROXY), or set UV_DEFAULT_INDEX to an index this machine "
                              "reaches")
