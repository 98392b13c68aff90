"""What the Pulumi engine does with a dynamic resource, over the engine's own gRPC path.

`dynamic_provider_host()` starts Pulumi's dynamic-provider host exactly as the engine's
`pulumi-resource-pulumi-python` plugin does (`python -u -m pulumi.dynamic <engine address>`, in the
project directory, with the project's virtualenv), reads the port it prints and connects.
`Engine` then plays a deployment the way the engine does per resource: Check, then Diff against
the stored outputs, then Create / Update / a replacement / Delete, and Read for a refresh, carrying
the dill-serialized provider (`__provider`) in every property bag.

A replacement follows pulumi's step generator (`pkg/resource/deploy/step_generator.go`,
`continueStepsFromDiff`): delete-before-replace when the resource option `deleteBeforeReplace`
says so, else when the provider's Diff says so, else create the replacement first and delete the
old resource after every other step. `pulumi up --replace` (a targeted replace) does not call the
provider's Diff at all (`stepGenerator.diff`), so only the resource option decides its order.
A resource that is no longer registered (removed or renamed) is deleted after every create.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROVIDER_KEY = "__provider"
TYPE = "pulumi-python:dynamic/layersmith:LayerGrants"


def _struct(props: dict[str, Any]) -> Any:
    from pulumi.runtime import rpc

    # A private loop: asyncio.run() would leave the main thread without a current event loop, and
    # the Pulumi mock runs of later tests need one.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def _props(struct: Any) -> dict[str, Any]:
    from pulumi.runtime import rpc

    return dict(rpc.deserialize_properties(struct))


@contextmanager
def plugin_channel(argv: list[str], cwd: Path, env: dict[str, str | None] | None = None) -> Iterator[Any]:
    """Start a Pulumi plugin as the engine does (it prints its gRPC port on the first line of
    stdout) and yield a ready channel to it. `env` is added to this process's environment; a None
    value unsets that variable; PYTHONPATH is never passed on."""
    import grpc

    merged = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | (env or {})
    clean = {k: v for k, v in merged.items() if v is not None}
    proc = subprocess.Popen(argv, cwd=cwd, env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().decode().strip()
        if not port.isdigit():
            proc.kill()
            raise AssertionError(f"{' '.join(argv[1:])} did not start: {port!r} "
                                 f"{proc.communicate(timeout=10)[1].decode()}")
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield channel
        channel.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def dynamic_provider_host(cwd: Path, env: dict[str, str | None]) -> Iterator[Any]:
    """Pulumi's dynamic-provider host, started from the project directory with no PYTHONPATH: the
    serialized provider must load there (imports, sys.path) — the most common way dynamic
    providers fail. The engine address argument is only logged."""
    from pulumi.runtime.proto import provider_pb2_grpc

    with plugin_channel([sys.executable, "-u", "-m", "pulumi.dynamic", "127.0.0.1:9"], cwd, env) as channel:
        yield provider_pb2_grpc.ResourceProviderStub(channel)


@dataclass
class Engine:
    """One stack's deployments of `LayerGrants` resources through the host (no other resource types)."""

    stub: Any
    provider: str  # the serialized provider, as the program registered it
    # the `deleteBeforeReplace` resource option the program registers (None: not set)
    delete_before_replace: bool | None = None
    stack: str = "prod"
    state: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # name -> (id, outputs)
    log: list[tuple[str, str]] = field(default_factory=list)  # (operation, name) of the last `up`

    def configure(self, config: dict[str, str]) -> None:
        from google.protobuf import struct_pb2
        from pulumi.runtime.proto import provider_pb2 as pb

        args = struct_pb2.Struct()
        args.update(config)
        self.stub.Configure(pb.ConfigureRequest(args=args, acceptSecrets=True, acceptResources=True))

    def urn(self, name: str) -> str:
        return f"urn:pulumi:{self.stack}::layersmith::{TYPE}::{name}"

    def _with_provider(self, props: dict[str, Any]) -> dict[str, Any]:
        return {**props, PROVIDER_KEY: self.provider}

    def check(self, name: str, props: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        from pulumi.runtime.proto import provider_pb2 as pb

        olds = self.state[name][1] if name in self.state else {}
        response = self.stub.Check(pb.CheckRequest(urn=self.urn(name), olds=_struct(olds),
                                                   news=_struct(self._with_provider(props))))
        return _props(response.inputs), [(f.property, f.reason) for f in response.failures]

    def diff(self, name: str, news: dict[str, Any]) -> Any:
        from pulumi.runtime.proto import provider_pb2 as pb

        id_, olds = self.state[name]
        return self.stub.Diff(pb.DiffRequest(id=id_, urn=self.urn(name), olds=_struct(olds), news=_struct(news)))

    def _create(self, name: str, news: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        from pulumi.runtime.proto import provider_pb2 as pb

        response = self.stub.Create(pb.CreateRequest(urn=self.urn(name), properties=_struct(news)))
        return response.id, _props(response.properties)

    def _delete(self, name: str, id_: str, outputs: dict[str, Any]) -> None:
        from pulumi.runtime.proto import provider_pb2 as pb

        self.stub.Delete(pb.DeleteRequest(id=id_, urn=self.urn(name), properties=_struct(outputs)))

    def up(self, desired: dict[str, dict[str, Any]], replace: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """One `pulumi up` (`replace`: the names given to `--replace`): returns (operation, name)
        for every resource, `same` included."""
        from pulumi.runtime.proto import provider_pb2 as pb

        self.log, replaced = [], []
        for name, props in desired.items():
            news, failures = self.check(name, props)
            assert not failures, failures
            if name not in self.state:
                self.state[name] = self._create(name, news)
                self.log.append(("create", name))
                continue
            targeted = name in replace
            diff = None if targeted else self.diff(name, news)
            id_, olds = self.state[name]
            if targeted or (diff is not None and diff.replaces):
                provider_says = bool(diff is not None and diff.deleteBeforeReplace)
                first = provider_says if self.delete_before_replace is None else self.delete_before_replace
                if first:
                    self._delete(name, id_, olds)
                    self.state[name] = self._create(name, news)
                    self.log.append(("delete-replace", name))
                    continue
                replaced.append((name, id_, olds))  # create the replacement now, delete the old one last
                self.state[name] = self._create(name, news)
                self.log.append(("replace", name))
            elif diff is not None and diff.changes == pb.DiffResponse.DIFF_SOME:
                response = self.stub.Update(pb.UpdateRequest(id=id_, urn=self.urn(name), olds=_struct(olds),
                                                             news=_struct(news)))
                self.state[name] = (id_, _props(response.properties))
                self.log.append(("update", name))
            else:
                self.log.append(("same", name))
        for name in [n for n in self.state if n not in desired]:
            id_, outputs = self.state.pop(name)
            self._delete(name, id_, outputs)
            self.log.append(("delete", name))
        for name, id_, outputs in replaced:
            self._delete(name, id_, outputs)
        return self.log

    def refresh(self, name: str) -> dict[str, Any] | None:
        """`pulumi refresh` of one resource: its outputs as read back, None when it is gone."""
        from pulumi.runtime.proto import provider_pb2 as pb

        id_, outputs = self.state[name]
        response = self.stub.Read(pb.ReadRequest(id=id_, urn=self.urn(name), properties=_struct(outputs)))
        if not response.id:
            del self.state[name]
            return None
        self.state[name] = (response.id, _props(response.properties))
        return self.state[name][1]
