"""Where `layersmith invoke` (and the variant tests) run a runtime/architecture, in this order:

1. the host, when an interpreter of the runtime's exact version for this CPU is installed
   (this Python, PATH, pyenv, uv: `layersmith.runtimes.interpreters`);
2. a sysroot: Debian's CPython of that version (`layersmith.runtimes.sysroots`), natively or, for arm64 on
   an x86_64 host, under qemu-user with a Graviton2 CPU model. A missing one is prepared on first
   use, with progress, the way `sam local invoke` pulls its image;
3. the official Lambda image, when a Docker engine answers.

Otherwise a refusal that names what is missing: never a silent fallback to another Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from layersmith.builder.docker import probe
from layersmith.errors import DockerUnavailable, EnvironmentProblem, UserError
from layersmith.runner import Runner
from layersmith.runtimes.interpreters import Finder, Interpreter, host_arch
from layersmith.runtimes.supported import RUNTIMES, Runtime
from layersmith.runtimes.sysroots import SysrootPython, Sysroots, sysroot_for

Reporter = Callable[[str], None]
NO_DEBIAN_312 = "Python 3.12 exists in no Debian suite"


@dataclass(frozen=True)
class Target:
    kind: str  # "host", "sysroot" or "docker"
    label: str  # what each run says, e.g. "host CPython 3.11.7 (x86_64, pyenv)"
    argv: tuple[str, ...] = ()  # the python command (host and sysroot)
    env: dict[str, str] = field(default_factory=dict)  # what that command needs in its environment
    runtime_site: Path | None = None  # boto3 & co. as the runtime has them (None: this environment's)
    library_flag: bool = False  # argv runs a loader whose --library-path (argv[2]) replaces LD_LIBRARY_PATH

    def python(self, *extra_lib_dirs: str) -> list[str]:
        """The command, with `extra_lib_dirs` after the sysroot's own libraries when its loader
        ignores LD_LIBRARY_PATH (Lambda puts /var/task/lib and /opt/lib on the library path)."""
        argv = list(self.argv)
        if self.library_flag and extra_lib_dirs:
            argv[2] = ":".join([argv[2], *extra_lib_dirs])
        return argv


def host_target(found: Interpreter) -> Target:
    return Target("host", f"host CPython {found.version} ({found.arch}, {found.source})", (found.path,))


def sysroot_target(python: SysrootPython) -> Target:
    return Target("sysroot", python.label, python.argv, dict(python.env), python.runtime_site,
                  library_flag=not python.emulated)


class Chooser:
    def __init__(self, runner: Runner, sysroots: Sysroots, *, finder: Finder | None = None,
                 report: Reporter = lambda _m: None, arch: str | None = None, verbose: bool = False) -> None:
        self.runner = runner
        self.sysroots = sysroots
        self.finder = finder or Finder(runner, report, verbose=verbose)
        self.report = report
        self.host_arch = arch or host_arch()

    def available(self, runtime: Runtime, arch: str) -> Target | None:
        """What runs this target without preparing or asking Docker anything."""
        if arch == self.host_arch and (found := self.finder.find(runtime.version)) is not None:
            return host_target(found)
        spec = sysroot_for(runtime.version, arch)
        python = self.sysroots.python(spec) if spec else None
        return sysroot_target(python) if python else None

    def host_runs(self, runtime_name: str, arch: str) -> bool:
        """Whether a CPython of this machine runs the target (no sysroot needed for it)."""
        return arch == self.host_arch and self.finder.find(RUNTIMES[runtime_name].version) is not None

    def describe(self, runtime: Runtime, arch: str) -> str:
        """One cell for `layersmith runtimes list`: what would run it, or why nothing can here."""
        if (ready := self.available(runtime, arch)) is not None:
            return ready.label
        if (spec := sysroot_for(runtime.version, arch)) is not None:
            return f"sysroot {spec.name}, not prepared (`layersmith runtimes fetch {spec.name}`)"
        return f"Docker only ({self.why_none(runtime, arch)})"

    def why_none(self, runtime: Runtime, arch: str) -> str:
        here = (f"no CPython {runtime.dotted} installed" if arch == self.host_arch
                else f"this machine is {self.host_arch}")
        debian = NO_DEBIAN_312 if runtime.version == (3, 12) else f"no Debian sysroot for {runtime.name}/{arch}"
        return f"{here}; {debian}"

    def choose(self, runtime_name: str, arch: str, *, docker: bool = True, who: str | None = None) -> Target:
        """The first of host, sysroot (prepared now if missing) and Docker that can run it."""
        runtime = RUNTIMES[runtime_name]
        if (ready := self.available(runtime, arch)) is not None:
            return ready
        spec = sysroot_for(runtime.version, arch)
        failure = ""
        if spec is not None:
            self.report(f"{runtime_name}/{arch}: preparing sysroot {spec.name} (first use; "
                        "`layersmith runtimes fetch` does it ahead of time)")
            try:
                return sysroot_target(self.sysroots.ensure(spec, image_tools=False))
            except EnvironmentProblem as exc:
                failure = f"preparing sysroot {spec.name} failed ({exc.message})"
                self.report(f"{runtime_name}/{arch}: {failure}")
        reason = failure or self.why_none(runtime, arch)
        if not docker:
            raise EnvironmentProblem(f"nothing here runs {runtime_name}/{arch}: {reason}")
        try:
            version = probe(self.runner)
        except DockerUnavailable as exc:
            raise UserError(f"nothing here runs {runtime_name}/{arch}: {reason}, and "
                            f"{exc.message.split(';')[0]}; install that Python or start Docker to run it in "
                            "the official Lambda image", key=who) from None
        return Target("docker", f"docker (engine {version}, public.ecr.aws/lambda/python:{runtime.dotted})")
