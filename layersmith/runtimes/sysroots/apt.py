"""A private apt instance: Debian packages downloaded and unpacked into a folder, nothing installed.

Every apt-get call runs with its own `APT_CONFIG` (own sources.list, lists, an empty dpkg status,
own archive cache) under the sysroots directory, so the host's apt and dpkg state is never read
or changed: no `dpkg --add-architecture`, no install, no root needed. Packages are unpacked with
`dpkg-deb --fsys-tarfile | tar`, their maintainer scripts never run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from layersmith.errors import EnvironmentProblem
from layersmith.runner import Runner

MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
# Debian's keyring (bookworm's package already holds trixie's keys); apt verifies the Release files.
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
APT_TIMEOUT = 900.0


def mirrors() -> tuple[str, str]:
    return (os.environ.get("LAYERSMITH_DEBIAN_MIRROR", MIRROR),
            os.environ.get("LAYERSMITH_DEBIAN_SECURITY_MIRROR", SECURITY_MIRROR))


class PrivateApt:
    def __init__(self, home: Path, debian_arch: str, suites: Iterable[str], runner: Runner) -> None:
        self.home = home
        self.debian_arch = debian_arch
        self.suites = tuple(suites)
        self.runner = runner

    @property
    def config(self) -> Path:
        return self.home / "apt.conf"

    @property
    def archives(self) -> Path:
        return self.home / "cache" / "archives"

    def write_config(self) -> None:
        d = self.home
        for sub in ("state/lists/partial", "cache/archives/partial", "etc/apt.conf.d", "etc/preferences.d",
                    "etc/sources.list.d", "etc/trusted.gpg.d", "log"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "state" / "status").touch()  # an empty dpkg database: nothing counts as installed
        mirror, security = mirrors()
        sources = [f"deb [signed-by={KEYRING}] {security if s.endswith('-security') else mirror} {s} main"
                   for s in self.suites]
        (d / "etc" / "sources.list").write_text("\n".join(sources) + "\n")
        settings = {
            "Dir::State": d / "state", "Dir::State::status": d / "state" / "status", "Dir::Cache": d / "cache",
            "Dir::Cache::pkgcache": "", "Dir::Cache::srcpkgcache": "",
            "Dir::Etc::SourceList": d / "etc" / "sources.list", "Dir::Etc::SourceParts": d / "etc" / "sources.list.d",
            "Dir::Etc::Parts": d / "etc" / "apt.conf.d", "Dir::Etc::Preferences": d / "etc" / "preferences",
            "Dir::Etc::PreferencesParts": d / "etc" / "preferences.d", "Dir::Etc::Trusted": d / "etc" / "trusted.gpg",
            "Dir::Etc::TrustedParts": d / "etc" / "trusted.gpg.d", "Dir::Log": d / "log",
            "APT::Architecture": self.debian_arch, "APT::Install-Recommends": "false",
            "APT::Install-Suggests": "false",
            # Without this apt would pull every Essential package (a whole base system) into the closure.
            "pkgCacheGen::Essential": "none", "Acquire::Languages": "none", "Acquire::Retries": "3",
            # apt drops privileges to `_apt` for downloads, which could not write into our cache dir.
            "APT::Sandbox::User": "root",
        }
        lines = [f'{key} "{value}";' for key, value in settings.items()]
        lines.append(f'APT::Architectures {{ "{self.debian_arch}"; }};')
        self.config.write_text("\n".join(lines) + "\n")

    def _apt(self, *args: str, cwd: Path | None = None) -> None:
        done = self.runner.run(["apt-get", "-q", *args], cwd=cwd, env={"APT_CONFIG": str(self.config)},
                               timeout=APT_TIMEOUT)
        if done.returncode == 127:
            raise EnvironmentProblem("apt-get is not installed: preparing the Debian sysroots needs apt-get and "
                                     "dpkg-deb (any Debian or Ubuntu machine); use Docker to run other runtimes")
        if done.returncode != 0:
            tail = " | ".join(line.strip() for line in done.stderr.strip().splitlines()[-3:] if line.strip())
            raise EnvironmentProblem(f"apt-get {args[0]} ({', '.join(self.suites)}, {self.debian_arch}) failed: "
                                     f"{tail or f'exit {done.returncode}'}; check access to the Debian archive "
                                     "(LAYERSMITH_DEBIAN_MIRROR)")

    def update(self) -> None:
        self.write_config()
        self._apt("update", "-qq")

    def download_closure(self, packages: Iterable[str]) -> list[Path]:
        """Every .deb the packages need, resolved against an empty system (so: their whole closure)."""
        for old in self.archives.glob("*.deb"):
            old.unlink()
        self._apt("install", "-y", "-qq", "--download-only", *packages)
        return sorted(self.archives.glob("*.deb"))

    def download(self, package: str, dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        for old in dest.glob(f"{package}_*.deb"):
            old.unlink()
        self._apt("download", package, cwd=dest)
        [deb] = sorted(dest.glob(f"{package}_*.deb"))
        return deb


def deb_version(deb: Path) -> str:
    """`python3.13_3.13.5-2_arm64.deb` -> `python3.13=3.13.5-2` (apt's own file naming)."""
    name, version, _arch = deb.stem.split("_")
    return f"{name}={version.replace('%3a', ':')}"


def unpack(deb: Path, dest: Path, runner: Runner, members: Iterable[str] = ()) -> None:
    """Extract a .deb's files into `dest`, keeping dest's own `lib -> usr/lib` style links (merged /usr)."""
    dest.mkdir(parents=True, exist_ok=True)
    script = ('deb=$1 dest=$2; shift 2; '
              'dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest" --keep-directory-symlink --no-same-owner "$@"')
    done = runner.run(["bash", "-o", "pipefail", "-c", script, "unpack", str(deb), str(dest), *members],
                      timeout=APT_TIMEOUT)
    if done.returncode != 0:
        raise EnvironmentProblem(f"unpacking {deb.name} failed: {done.stderr.strip()[-300:]}")
