"""`layersmith check --stack NAME [--online [--profile P]] [--json]`: errors exit 1; warnings exit 0.

`--online` also compares every pinned version's content on AWS with this checkout's build (see
`layersmith.pins.content_check`): a missing version or different content is an error (exit 1); AWS
problems (credentials, profile, access) are one line and exit 1 too, before any report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from dataclasses import asdict
from typing import Any

from layersmith.builder.factory import cache_root, make_builder
from layersmith.checks.consumers import consumers_outside_regions, unreadable_stacks
from layersmith.checks.report import Diagnostic, FunctionReport, function_report, settings_findings, unbuilt_report
from layersmith.errors import LayersmithError
from layersmith.local.resolve import attached_layers
from layersmith.pins.content_check import PinVerdict, verdict_rows, verify_pins
from layersmith.pins.sites import local_builds, pin_sites
from layersmith.project.checkout import Project, load_project, load_stack_config
from layersmith.project.consumer_pins import consumer_pins
from layersmith.project.excludes import unmatched_excludes
from layersmith.project.specs import DISK, Reader
from layersmith.project.stack_owners import require_unique_prefix
from layersmith.project.stacks import require_stack
from layersmith.table import render_table, wrap_text
from layersmith.terminal import add_wide_option, width_of

_TITLES = {"error": "Errors", "warning": "Warnings", "unverified": "Unverified offline", "note": "Notes"}
_MARK = {"error": "x", "warning": "!", "unverified": "?", "note": "-"}


def register(sub: Any) -> None:
    parser = sub.add_parser("check", help="pre-deploy checks: sizes, compatibility, conflicts, pins, policies")
    parser.add_argument("--stack", help="stack name (reads Pulumi.<stack>.yaml); without it the committed stacks "
                                        "are listed")
    parser.add_argument("--json", action="store_true", help="machine-readable report for CI")
    parser.add_argument("--no-policy", action="store_true", help="skip the policy pack (no mocked program run)")
    parser.add_argument("--online", action="store_true",
                        help="also compare each pinned version's content on AWS (boto3) with the local build")
    parser.add_argument("--profile", help="AWS profile for --online (default: the stack's aws:profile, then "
                                          "AWS_PROFILE / the default credential chain)")
    add_wide_option(parser)
    parser.set_defaults(func=run)


def function_reports(project: Project, stack: str) -> list[FunctionReport]:
    cfg = load_stack_config(project, stack)
    require_unique_prefix(project, cfg, project.stack_raw(stack))
    # the stack validated every spec it uses; a broken one it does not use is not among these
    layers, functions = dict(project.layers), project.function_specs(list(cfg.deploy))
    builder = make_builder(project.root, cfg.builder, image_tag=cfg.image_tag)
    reports = []
    for fn in functions.values():
        try:
            attached = attached_layers(fn, layers, cfg, builder, build_missing=True)
        except LayersmithError as exc:
            reports.append(unbuilt_report(fn, exc))
            continue
        report = function_report(fn, attached, cache_root(project.root))
        report.findings += settings_findings(cfg.function_spec(fn), project.stack_file(stack).name)
        reports.append(report)
    return reports


def stack_findings(project: Project, stack: str) -> list[Diagnostic]:
    """Problems of the stack as a whole: a consuming stack file that does not validate (its pins
    would silently not be granted by this stack); a consumer in a region this stack does not
    publish to, or a stack file that does not read (warnings: they break the other stack, and only
    maybe this one); a broken spec the stack does not use (a warning: it breaks only the stacks
    that use it)."""
    cfg = load_stack_config(project, stack)
    broken: list[str] = []
    consumers: list[str] = []
    if cfg.publish:
        consumer_pins(project, cfg, on_error=broken.append)
        consumers = consumers_outside_regions(project, cfg) + unreadable_stacks(project, cfg)
    excludes = [line for name in cfg.publish for line in unmatched_excludes(project.layers[name])]
    unused: list[str] = []
    for line in project.unused_warnings(stack):
        project.report_once(line, unused.append)
    return [*(Diagnostic("error", None, "consumers", f"{message}; the versions it pins are not granted by this "
                         "stack") for message in broken),
            *(Diagnostic("warning", None, "consumers", line) for line in consumers),
            *(Diagnostic("warning", None, "exclude", line) for line in excludes),
            *(Diagnostic("warning", None, "spec", line) for line in unused)]


def policy_findings(project: Project, stack: str) -> list[Diagnostic]:
    from layersmith.infra.preview import run_plan
    from layersmith.policy.engine import check_plan, config_path, load_config

    source = config_path(project.root, stack)
    violations = check_plan(run_plan(project, stack), load_config(source), dt.date.today(), source=str(source))
    level = {"mandatory": "error", "advisory": "warning"}
    used = Diagnostic("note", None, "policy", f"policy levels from {source.relative_to(project.root)}"
                   + ("" if source.stem == stack else f" (there is no policies/config/{stack}.json)"))
    return [used, *(Diagnostic("note" if v.skipped else level.get(v.level, "warning"), v.resource_name,
                            f"policy:{v.rule}", f"{v.resource_type.rsplit(':', 1)[-1]}: {v.message}")
                    for v in violations)]


def online_verdicts(project: Project, stack: str, profile: str | None) -> list[PinVerdict]:
    """Every pin of the stack against AWS, per region it names (builds the variants it needs)."""
    from layersmith.aws.content import stack_regions

    cfg = load_stack_config(project, stack)
    layers, functions = dict(project.layers), project.function_specs(list(cfg.deploy))
    sites = pin_sites(project, cfg, layers, functions)
    builds = local_builds(make_builder(project.root, cfg.builder, image_tag=cfg.image_tag), layers, sites)
    return verify_pins(sites, builds, stack_regions(project, stack, profile))


def online_findings(verdicts: list[PinVerdict]) -> list[Diagnostic]:
    return [Diagnostic("error", v.site.function, "pin-content", v.message()) for v in verdicts if v.failed]


def _verified_offline_pins(findings: list[Diagnostic], verdicts: list[PinVerdict]) -> list[Diagnostic]:
    """Drop the "pin not checked offline" notes of the pins `--online` did check."""
    checked = {(v.site.function, v.site.layer) for v in verdicts}
    return [f for f in findings if not (f.check == "pin" and f.level == "unverified" and any(
        f.function == fn and f.message.startswith(f"{layer} v") for fn, layer in checked))]


def _status(report: FunctionReport, findings: list[Diagnostic]) -> str:
    failed = any(f.level == "error" for f in (*report.findings, *findings) if f.function == report.name)
    return "x" if failed else "ok"


def _function_table(reports: list[FunctionReport], findings: list[Diagnostic], width: int | None) -> str:
    rows = [[r.name, r.runtime, r.architecture, str(r.layers),
             "?" if r.unzipped is None else f"{r.unzipped / 1e6:.1f}", _status(r, findings)]
            for r in reports]
    return render_table(["function", "runtime", "arch", "layers", "unzipped MB", "status"], rows, right={3, 4},
                        width=width)


def _verdict_lines(verdicts: list[PinVerdict] | None, width: int | None) -> list[str]:
    if verdicts is None:
        return []
    return ["", "Pinned versions on AWS against this checkout's build (--online, by Content.CodeSha256)",
            render_table(["function", "layer", "variant", "region", "pin", "content"], verdict_rows(verdicts),
                         width=width)
            if verdicts else "  (no pins on this project's layers)"]


def _finding_lines(findings: list[Diagnostic], width: int | None) -> list[str]:
    """One finding per line; fitted to `width`, its continuation lines indented under its text."""
    lines: list[str] = []
    for level in ("error", "warning", "unverified", "note"):
        chosen = [f for f in findings if f.level == level]
        if chosen:
            lines += ["", f"{_TITLES[level]} ({len(chosen)})"]
            lines += [wrap_text(f"{f.function or 'stack'} [{f.check}] {f.message}", width,
                                indent=f"  {_MARK[level]} ", hang="    ") for f in chosen]
    return lines


def _verdict(findings: list[Diagnostic]) -> str:
    errors = sum(f.level == "error" for f in findings)
    warnings = sum(f.level == "warning" for f in findings)
    return f"FAILED: {errors} error(s), {warnings} warning(s)" if errors else f"OK: no errors, {warnings} warning(s)"


def render(stack: str, reports: list[FunctionReport], findings: list[Diagnostic],
           verdicts: list[PinVerdict] | None = None, width: int | None = None) -> str:
    """`width`: fit every line to it; None: unfitted (a finding per line)."""
    lines = [f"layersmith check --stack {stack}", _function_table(reports, findings, width),
             *_verdict_lines(verdicts, width), *_finding_lines(findings, width), "", _verdict(findings)]
    return "\n".join(lines)


def _findings(args: argparse.Namespace, project: Project, reports: list[FunctionReport]) -> tuple[
        list[Diagnostic], list[PinVerdict] | None]:
    """Every finding in report order, and the online verdicts (None without --online)."""
    findings = [f for r in reports for f in r.findings] + stack_findings(project, args.stack)
    verdicts = online_verdicts(project, args.stack, args.profile) if args.online else None
    if verdicts is not None:
        findings = _verified_offline_pins(findings, verdicts) + online_findings(verdicts)
    if not args.no_policy:
        findings += policy_findings(project, args.stack)
    return findings, verdicts


def _json_report(stack: str, ok: bool, reports: list[FunctionReport], findings: list[Diagnostic],
                 verdicts: list[PinVerdict] | None) -> str:
    return json.dumps({"stack": stack, "ok": ok,
                       "functions": [{k: v for k, v in asdict(r).items() if k != "findings"} for r in reports],
                       "findings": [asdict(f) for f in findings],
                       **({"online": [v.to_json() for v in verdicts]} if verdicts is not None else {})},
                      indent=2)


def run(args: argparse.Namespace, reader: Reader = DISK) -> int:
    """`reader`: how project files are read (a test counts the reads)."""
    project = load_project(args.project, reader)
    args.stack = require_stack(project.root, args.stack, "check")
    reports = function_reports(project, args.stack)
    findings, verdicts = _findings(args, project, reports)
    failed = any(f.level == "error" for f in findings)
    print(_json_report(args.stack, not failed, reports, findings, verdicts) if args.json
          else render(args.stack, reports, findings, verdicts, width_of(args)))
    return 1 if failed else 0
