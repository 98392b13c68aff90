"""The Docker builder: install and compile inside the official Lambda build image.

`public.ecr.aws/sam/build-python3.X` carries the runtime's exact interpreter, pip and glibc
(docs/architecture.md#lambda-runtimes-and-glibc), so pip inside it picks the wheels Lambda can load
and `compileall` there writes bytecode for the right version — for every runtime, not only the
host's. `--platform` comes from the variant's architecture for each variant (CDK builds only a
layer's first architecture).

Everything goes through the `Runner` seam with the Docker CLI (no SDK): tests assert the exact
argv and fake the container's side effects; only a machine with an engine runs the real thing.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from layersmith.builder.install import compile_with
from layersmith.errors import BuildError, DockerUnavailable, UserError
from layersmith.runner import Completed, Runner
from layersmith.runtimes.supported import DOCKER_PLATFORM, Runtime

# SAM publishes `<release>-x86_64` / `<release>-arm64` tags per release (and moving
# `latest-<arch>` ones). A release tag is pinned so the image, and so the output, only changes
# when someone bumps it; `{arch}` is filled per variant. 1.154.0 is a SAM release that has images
# for python3.10 to python3.14. Override with `--image-tag` (a value without `{arch}` is used as-is,
# e.g. a multi-arch tag or `TAG@sha256:…`).
DEFAULT_IMAGE_TAG = "1.154.0-{arch}"
DOCKER = "docker"
DEFAULT_ENGINE = "unix:///var/run/docker.sock"
PROBE_TIMEOUT = 20.0
IN, OUT = "/in", "/out"  # mount points inside the container

# Patterns as strings, compiled by `re` on first use (and kept in its cache): most runs never need them,
# and compiling them at import was part of every command's start.
_TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?$"
_NO_ENGINE = r"Cannot connect to the Docker daemon at (\S+?)\.?(?:\s|$)"
_ENGINE_DOWN = ("Cannot connect to the Docker daemon", "error during connect", "docker daemon is not running",
                "permission denied while trying to connect to the Docker daemon")
_NO_WHEEL = r"No matching distribution found for ([A-Za-z0-9_.\-]+)==([^\s;]+)"
_HASH = r"DO NOT MATCH THE HASHES"
# pip: "[Errno 30] Read-only file system: '/out/...'" or "[Errno 13] Permission denied: '/out/...'".
_OUT_REFUSED = r"\[Errno (?:30|13)\] (Read-only file system|Permission denied): '/out\b"


def container_names() -> Callable[[], str]:
    """`layersmith-<pid>-<random>-<n>`: unique per run, so an interrupted one can be removed by name."""
    import secrets  # here: `layersmith build` imports this module for its defaults, and secrets is 10-20 ms

    prefix = f"layersmith-{os.getpid()}-{secrets.token_hex(3)}"
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter)}"


def resolve_tag(template: str, arch: str) -> str:
    """The concrete tag for one architecture; refuses what Docker would reject, naming the flag."""
    tag = template.replace("{arch}", arch)
    if not re.match(_TAG, tag):
        raise UserError(f"{template!r} is not a Docker image tag (letters, digits, '.', '_', '-'; "
                        "optionally '{arch}' and '@sha256:<digest>')", key="--image-tag")
    return tag


def engine_address(stderr: str = "") -> str:
    """Where the CLI looked for the engine: from its own error, else DOCKER_HOST, else the default."""
    if m := re.search(_NO_ENGINE, stderr):
        return m.group(1)
    return os.environ.get("DOCKER_HOST") or DEFAULT_ENGINE


def unavailable(done: Completed) -> DockerUnavailable:
    """The one-line error for a missing CLI or a daemon that does not answer."""
    where = engine_address(done.stderr)
    why = " (the docker CLI is not installed)" if done.returncode == 127 else ""
    return DockerUnavailable(f"no Docker engine answers at {where}{why}; start Docker or use --builder host")


def engine_down(done: Completed) -> bool:
    return done.returncode == 127 or any(s.lower() in done.stderr.lower() for s in _ENGINE_DOWN)


def probe(runner: Runner, docker: str = DOCKER) -> str:
    """The engine's server version, or DockerUnavailable. Asks the server, not just the CLI."""
    done = runner.run([docker, "version", "--format", "{{.Server.Version}}"], timeout=PROBE_TIMEOUT)
    version = done.stdout.strip()
    if done.returncode != 0 or not version:
        raise unavailable(done)
    return version


def _tail(stderr: str) -> str:
    return " | ".join(line.strip() for line in stderr.strip().splitlines()[-3:] if line.strip()) or "no output"


def _host_path(path: Path) -> str:
    """An absolute path that `-v SRC:DST` can carry (a ':' in it would split the spec)."""
    resolved = str(path.resolve())
    if ":" in resolved:
        raise BuildError("the Docker builder cannot mount a path containing ':'; move the project or "
                         "set LAYERSMITH_CACHE_DIR elsewhere", path=resolved)
    return resolved


class _RemovingRunner:
    """Runs `docker run --name N …` and, when layersmith is interrupted while it waits (Ctrl-C),
    removes container N before the interruption propagates. Killing the docker CLI, which is all
    the Runner can do, does not stop the container: the daemon runs it (only SIGINT/SIGTERM reach it,
    through the CLI's sig-proxy, and the Runner sends SIGKILL), so pip would go on writing into the
    build directory after layersmith has exited. `docker rm -f` kills it and removes it.
    (Read: Docker's `attach`/`run` reference, "--sig-proxy … true (the default): CTRL-c sends a
    SIGINT to the container"; `docker kill` sends SIGKILL to the container's main process; the
    container belongs to the daemon, and docker/cli#2653 shows one still running after the client
    stopped. tests/standin/docker models exactly that.)"""

    def __init__(self, runner: Runner, docker: str) -> None:
        self.runner = runner
        self.docker = docker

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        name = argv[list(argv).index("--name") + 1]
        try:
            return self.runner.run(argv, cwd=cwd, env=env, timeout=timeout)
        except BaseException:
            self.runner.run([self.docker, "rm", "-f", name], timeout=PROBE_TIMEOUT)
            raise


class DockerInstaller:
    """Install with pip, and compile with `compileall`, inside the SAM build image of the runtime."""

    kind = "docker"

    def __init__(self, runner: Runner, *, image_tag: str = DEFAULT_IMAGE_TAG, docker: str = DOCKER,
                 user: str | None = None, names: Callable[[], str] | None = None) -> None:
        for arch in DOCKER_PLATFORM:
            resolve_tag(image_tag, arch)  # a bad --image-tag fails before any work
        self.runner = runner
        self.containers = _RemovingRunner(runner, docker)  # every `docker run` goes through it
        self.names = names or container_names()
        self.image_tag = image_tag
        self.docker = docker
        # Files written to the bind mounts belong to this user, not root, so the cache stays ours.
        self.user = user or f"{os.getuid()}:{os.getgid()}"
        self._engine: str | None = None
        # Bytecode is compiled in the image the runtime's last install ran in ("the same image");
        # a layer with no requirements has no install and uses the first architecture's image.
        self._compile_arch: dict[str, str] = {}

    def image(self, runtime: Runtime, arch: str) -> str:
        return f"{runtime.build_image}:{resolve_tag(self.image_tag, arch)}"

    def identity(self, runtime: Runtime, arch: str) -> str:
        # The image tag decides pip, the interpreter and glibc: it is the output's identity.
        return f"docker|{self.image(runtime, arch)}|{DOCKER_PLATFORM[arch]}"

    def probe(self) -> str:
        if self._engine is None:
            self._engine = probe(self.runner, self.docker)
        return self._engine

    def run_argv(self, runtime: Runtime, arch: str, mounts: Sequence[tuple[Path, str, bool]],
                 command: Sequence[str]) -> list[str]:
        """`docker run --rm --name N --platform P -v SRC:DST[:ro]… -u UID:GID IMAGE CMD…`."""
        argv = [self.docker, "run", "--rm", "--name", self.names(), "--platform", DOCKER_PLATFORM[arch]]
        for source, dest, read_only in mounts:
            argv += ["-v", f"{_host_path(source)}:{dest}{':ro' if read_only else ''}"]
        return [*argv, "-u", self.user, self.image(runtime, arch), *command]

    def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None:
        self.probe()
        target.mkdir(parents=True, exist_ok=True)
        # --no-compile: bytecode is a separate, deterministic step after slimming.
        # --no-cache-dir / --disable-pip-version-check: the container user has no writable home.
        pip = ["python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-cache-dir",
               "--only-binary", ":all:", "--require-hashes", "--no-deps", "--no-compile",
               "-r", f"{IN}/{lock.name}", "--target", OUT]
        argv = self.run_argv(runtime, arch, [(lock.parent, IN, True), (target, OUT, False)], pip)
        done = self.containers.run(argv)
        if done.returncode != 0:
            raise self._explain(done, runtime, arch, lock)
        self._compile_arch[runtime.name] = arch

    def compile_bytecode(self, root: Path, runtime: Runtime) -> str | None:
        self.probe()
        arch = self._compile_arch.get(runtime.name, next(iter(DOCKER_PLATFORM)))
        prefix = self.run_argv(runtime, arch, [(root, OUT, False)], [])
        # compile_with adds `-m compileall … -s /out -p /opt /out`: paths as they will be under /opt.
        return compile_with(self.containers, [*prefix, "python"], Path(OUT), runtime)

    def _explain(self, done: Completed, runtime: Runtime, arch: str, lock: Path) -> BuildError:
        """One actionable line for the ways a container install fails."""
        if engine_down(done):
            return unavailable(done)
        image = self.image(runtime, arch)
        if done.returncode == 125:  # docker itself failed: pull, platform, mount
            return BuildError(f"docker could not run {image}: {_tail(done.stderr)}; check --image-tag and that "
                              "the engine can pull from public.ecr.aws", path=lock)
        if m := re.search(_NO_WHEEL, done.stderr):
            return BuildError(f"{m.group(1)}=={m.group(2)} has no wheel for {runtime.name}/{arch} in {image}; "
                              "pin a version that ships one (see `layersmith lock`)", path=lock)
        if m := re.search(_OUT_REFUSED, done.stderr):
            return BuildError(f"the container cannot write to the build directory it mounts at {OUT} "
                              f"({m.group(1).lower()}); make the cache writable for {self.user} and shared "
                              "with the engine read-write, or set LAYERSMITH_CACHE_DIR", path=lock)
        if re.search(_HASH, done.stderr):
            return BuildError("a download differs from the hashes in the lock; re-run `layersmith lock` if the "
                              "change is expected", path=lock)
        return BuildError(f"installing for {runtime.name}/{arch} in {image} failed: {_tail(done.stderr)}", path=lock)
