"""`layersmith build [LAYER ...] [--runtime R] [--arch A] [--builder host|docker|auto] [--image-tag T] [--json]`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from layersmith.builder.docker import DEFAULT_IMAGE_TAG
from layersmith.builder.factory import BUILDERS, build_layers, make_builder
from layersmith.model import BuildResult
from layersmith.table import render_table, wrap_text
from layersmith.terminal import add_wide_option, width_of


def register(sub: Any) -> None:
    parser = sub.add_parser("build", help="build layer zips (cached, reproducible, verified)")
    parser.add_argument("layers", nargs="*", metavar="LAYER", help="layers to build (default: all)")
    parser.add_argument("--runtime", help="only variants for this runtime, e.g. python3.12")
    parser.add_argument("--arch", help="only variants for this architecture: x86_64 or arm64")
    parser.add_argument("--builder", choices=BUILDERS, default="host",
                        help="host: cross-platform wheels with uv on this machine; docker: pip and compileall "
                             "inside the SAM build image; auto: docker when an engine answers, else host "
                             "(default: host)")
    parser.add_argument("--image-tag", default=DEFAULT_IMAGE_TAG,
                        help="SAM build image tag for --builder docker/auto; '{arch}' becomes x86_64 or arm64 "
                             f"(default: {DEFAULT_IMAGE_TAG})")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    add_wide_option(parser)
    parser.set_defaults(func=run)


def result_json(r: BuildResult) -> dict[str, Any]:
    return {"layer": r.variant.layer, "variant": r.variant.key, "runtimes": list(r.variant.runtimes),
            "architectures": list(r.variant.architectures), "portable": r.variant.portable,
            "files": r.files, "unzipped_bytes": r.unzipped_bytes, "zip_bytes": r.zip_bytes,
            "sha256": r.sha256, "content_sha256": r.content_sha256, "zip": str(r.zip_path),
            "cached": r.cached, "builder": r.builder, "bytecode": r.bytecode,
            "distributions": [f"{d.name}=={d.version}" for d in r.distributions],
            "warnings": list(r.warnings), "timings": dict(r.timings) if not r.cached else {},
            "pieces_reused": r.pieces_reused, "pieces_built": r.pieces_built}


PHASES = ("install", "slim", "verify", "bytecode", "zip")


def timings_line(r: BuildResult) -> str:
    """`-v`: where a build's time went, so the next slowdown is visible."""
    spent = dict(r.timings)
    phases = ", ".join(f"{name} {spent.get(name, 0.0):.2f} s" for name in PHASES)
    return (f"{r.variant.layer} {r.variant.key}: {phases}; {r.pieces_built} piece(s) built, "
            f"{r.pieces_reused} from the piece cache")


def bytecode_cell(r: BuildResult) -> str:
    """What bytecode ships, and for which runtimes none does and why (issue 6: say so in the table).

    Only an interpreter of the runtime's exact version may compile
    (docs/architecture.md#bytecode-for-the-runtimes-exact-python), so a host build has bytecode for
    the host's version only; those runtimes recompile on every cold start."""
    compiled = set((r.bytecode or "").split(",")) - {""}
    missing = [rt for rt in r.variant.runtimes if f"cpython-{rt.removeprefix('python').replace('.', '')}"
               not in compiled]
    shown = r.bytecode or "none"
    if not missing:
        return shown
    where = "here" if r.builder == "host" else f"in the {r.builder} build"
    return f"{shown} (no {'/'.join(missing)} {where})"


def render_results(results: list[BuildResult], width: int | None = None) -> str:
    """`width`: fit every line to it (the sha256 prefix is an identifier: shortened, not wrapped)."""
    rows = [[r.variant.layer, ",".join(rt.removeprefix("python") for rt in r.variant.runtimes),
             ",".join(r.variant.architectures), str(r.files), f"{r.unzipped_bytes / 1e6:.1f}",
             f"{r.zip_bytes / 1e6:.1f}", bytecode_cell(r), r.sha256[:12],
             "cached" if r.cached else "built"] for r in results]
    table = render_table(["layer", "python", "arch", "files", "unzipped MB", "zip MB", "bytecode",
                          "sha256", "status"], rows, right={3, 4, 5}, width=width, ids={7})
    notes = [wrap_text(f"warning: {r.variant.layer} {r.variant.key}: {w}", width, hang="  ")
             for r in results for w in r.warnings]
    return "\n".join([table, *notes])


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()

    def report(message: str) -> None:
        if not args.json:
            print(f"  {message}", file=sys.stderr, flush=True)

    builder = make_builder(args.project, args.builder, image_tag=args.image_tag, report=report,
                           verbose=args.verbose)
    results = build_layers(args.project, args.layers or None, runtime=args.runtime, arch=args.arch,
                           builder=builder, report=report)
    if args.json:
        print(json.dumps([result_json(r) for r in results], indent=2))
    else:
        print(render_results(results, width_of(args)))
        if getattr(args, "verbose", False):
            for r in results:
                if not r.cached:
                    print(timings_line(r))
        built = sum(not r.cached for r in results)
        print(f"{len(results)} variant(s): {built} built, {len(results) - built} cached "
              f"in {time.monotonic() - started:.1f} s")
    return 0
