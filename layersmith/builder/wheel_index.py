"""What PyPI publishes for a package: the seam `lock` asks when a target has no usable wheel.

uv says only that a version "has no usable wheels"; the user needs the version that has one. The
index is asked for every release's file names (PyPI's JSON API), and the wheel tags in those names
are matched against the runtime's tag table (`runtimes.supported_tags`). Tests pass a fake.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from layersmith.errors import BuildError, EnvironmentProblem
from layersmith.runtimes.supported import Runtime, supported_tags

PYPI_JSON = "https://pypi.org/pypi/{name}/json"


class PackageIndex(Protocol):
    def files(self, name: str) -> dict[str, list[str]]:
        """version -> file names of that release (wheels and sdists); {} when the project is unknown."""
        ...


class PyPIIndex:
    def __init__(self, url: str = PYPI_JSON, timeout: float = 20.0) -> None:
        self.url = url
        self.timeout = timeout

    def files(self, name: str) -> dict[str, list[str]]:
        url = self.url.format(name=canonicalize_name(name))
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:
                data = json.load(resp)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return {}
            raise BuildError(f"PyPI answered {exc.code} for {name}; retry later") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            # The machine's network, not the lock: an environment problem naming what was asked (issue 24).
            reason = getattr(exc, "reason", None) or exc
            raise EnvironmentProblem(f"cannot reach PyPI's JSON API at {url} to look up {name}: {reason}; check "
                                     "the network (a proxy: HTTPS_PROXY)") from None
        releases = data.get("releases", {})
        return {version: [f["filename"] for f in files if not f.get("yanked")]
                for version, files in releases.items()}


@dataclass(frozen=True)
class WheelAvailability:
    project_known: bool
    any_wheel: bool  # some release ships at least one wheel (for any platform)
    newest_compatible: str | None  # the newest release with a wheel this target loads


def _version(raw: str) -> Version | None:
    try:
        return Version(raw)
    except InvalidVersion:
        return None


def availability(index: PackageIndex, name: str, runtime: Runtime, arch: str) -> WheelAvailability:
    accepted = supported_tags(runtime.name, arch)
    files = index.files(name)
    any_wheel = False
    compatible: list[Version] = []
    for raw, names in files.items():
        version = _version(raw)
        for filename in names:
            if not filename.endswith(".whl"):
                continue
            any_wheel = True
            try:
                _, _, _, tags = parse_wheel_filename(filename)
            except InvalidWheelFilename:
                continue
            if version is not None and not version.is_prerelease and tags & accepted:
                compatible.append(version)
                break
    newest = str(max(compatible)) if compatible else None
    return WheelAvailability(bool(files), any_wheel, newest)
