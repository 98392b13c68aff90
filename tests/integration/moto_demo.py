"""Reproduce the example in docs/inventory-prune.md: a realistic two-account world in moto_server on
loopback, then the real `layersmith inventory` / `prune` commands against it.

    .venv/bin/python tests/integration/moto_demo.py

Only the CreatedDate column differs between runs. Nothing here reaches AWS: AWS_ENDPOINT_URL points
boto3 at 127.0.0.1 and the credentials are moto's fakes.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import tempfile
from pathlib import Path

import boto3
from moto_layers import REGION, Account, cross_account_layers, deny_assume_role, moto_server

from layersmith.aws.clients import Boto3ClientFactory
from layersmith.cli import build_parser, main
from layersmith.commands import prune as prune_cmd
from layersmith.errors import LayersmithError

REPO = Path(__file__).resolve().parents[2]
WORKLOAD, PARTNER = "210987654321", "333333333333"
STACKS = {
    "Pulumi.yaml": "name: layersmith\nruntime: python\n",
    "Pulumi.dev.yaml": "config:\n  aws:region: eu-west-1\n",
    "Pulumi.prod.yaml": ("config:\n  aws:region: eu-west-1\n  layersmith:requirePins: true\n"
                         "  layersmith:shareWith:\n    accounts: ['210987654321']\n"
                         "  layersmith:pins:\n"
                         "    ingest-orders: {utils: 3, monitoring: 2}\n"
                         "    sales-report: {utils: 3, monitoring: 2, data-science: 2}\n"
                         "    thumbnail-index: {utils: 3, monitoring: 2}\n"),
}
SIZES = {"utils": 41_000, "monitoring": 3_400_000, "data-science": 9_800_000}


def project(root: Path) -> Path:
    for kind, names in (("layers", SIZES), ("functions", ("ingest-orders", "sales-report", "thumbnail-index"))):
        for src in (REPO / kind / name for name in names):
            spec = "layer.toml" if kind == "layers" else "function.toml"
            dest = root / kind / src.name
            dest.mkdir(parents=True)
            (dest / spec).write_text((src / spec).read_text())
            (dest / "requirements.txt").write_text("")
            (dest / "src").mkdir()
    for name, text in STACKS.items():
        (root / name).write_text(text)
    return root


def publish(account: Account, prefix: str, layer: str, variant: str | None, count: int) -> list[str]:
    name = f"{prefix}-{layer}" + (f"-{variant}" if variant else "")
    runtimes = ("python3.11", "python3.12", "python3.13") if variant is None else (f"python3.{variant[3:5]}",)
    arch = ("x86_64", "arm64") if variant is None else (variant.split("-", 1)[1],)
    arns = []
    for _ in range(count):
        blob = random.Random(name).randbytes(SIZES[layer])  # incompressible: CodeSize ≈ a real build's zip
        arns.append(account.lam.publish_layer_version(
            LayerName=name, Content={"ZipFile": blob}, CompatibleRuntimes=list(runtimes),
            CompatibleArchitectures=list(arch))["LayerVersionArn"])
    return arns


def seed() -> None:
    home = Account(boto3.Session(region_name=REGION))
    workload = Account.assumed(home.session, WORKLOAD)
    dev_utils = publish(home, "layersmith-dev", "utils", None, 6)
    dev_mon = publish(home, "layersmith-dev", "monitoring", "py311-x86_64", 3)
    dev_ds = publish(home, "layersmith-dev", "data-science", "py311-x86_64", 3)
    prod_utils = publish(home, "layersmith-prod", "utils", None, 4)
    prod_mon = publish(home, "layersmith-prod", "monitoring", "py311-x86_64", 2)
    prod_ds = publish(home, "layersmith-prod", "data-science", "py311-x86_64", 3)
    for name, arns in (("layersmith-prod-utils", prod_utils), ("layersmith-prod-data-science-py311-x86_64", prod_ds)):
        for version in range(1, len(arns) + 1):
            home.share(name, version, WORKLOAD)
    home.function("layersmith-dev-ingest-orders", [dev_utils[5], dev_mon[2]])
    home.function("layersmith-dev-sales-report", [dev_ds[2], dev_utils[4], dev_mon[2]])
    home.function("layersmith-prod-ingest-orders", [prod_utils[1], prod_mon[1]])
    home.publish_function("layersmith-prod-ingest-orders")
    home.lam.create_alias(FunctionName="layersmith-prod-ingest-orders", Name="live", FunctionVersion="1")
    home.lam.update_function_configuration(FunctionName="layersmith-prod-ingest-orders",
                                           Layers=[prod_utils[2], prod_mon[1]])
    home.function("layersmith-prod-sales-report", [prod_ds[1], prod_utils[2], prod_mon[1]])
    workload.function("fraud-scoring", [prod_utils[0]])
    workload.function("analytics-daily", [prod_ds[0]])
    for _ in range(3):
        workload.publish_function("analytics-daily")
        workload.lam.update_function_configuration(FunctionName="analytics-daily", Description=str(_))
    workload.lam.update_function_configuration(FunctionName="analytics-daily", Layers=[prod_ds[2]])


def run(title: str, *argv: str) -> None:
    print(f"$ layersmith {' '.join(argv[2:])}")
    sys.stdout.flush()
    with contextlib.redirect_stderr(sys.stdout):
        code = main(list(argv))
    print(f"[exit {code}]\n")


def run_blocked(root: Path) -> None:
    argv = ["prune", "--keep", "2", "--accounts", WORKLOAD, PARTNER]
    print(f"$ layersmith {' '.join(argv)}    # {PARTNER}'s role does not trust us")

    def factory(args: object, regions: list[str]) -> Boto3ClientFactory:
        session = boto3.Session(region_name=REGION)
        deny_assume_role(session, PARTNER)  # STS's real AccessDenied response, on the wire
        return Boto3ClientFactory(session=session)

    args = build_parser().parse_args(["--project", str(root), *argv])
    with contextlib.redirect_stderr(sys.stdout):
        try:
            prune_cmd.run(args, make_factory=factory)
        except LayersmithError as exc:
            print(f"layersmith: error: {exc.render()}\n[exit {exc.exit_code}]\n")


def demo() -> None:
    with tempfile.TemporaryDirectory() as tmp, cross_account_layers(), moto_server() as endpoint:
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
                          AWS_SECRET_ACCESS_KEY="demo", AWS_DEFAULT_REGION=REGION,
                          AWS_EC2_METADATA_DISABLED="true")
        root = project(Path(tmp) / "project")
        seed()
        p = ["--project", str(root)]
        run("inventory", *p, "inventory", "--accounts", WORKLOAD)
        run("dry run", *p, "prune", "--keep", "2", "--accounts", WORKLOAD)
        run_blocked(root)
        run("delete", *p, "prune", "--keep", "2", "--accounts", WORKLOAD, "--yes")
        run("after", *p, "inventory", "--stack", "prod", "--accounts", WORKLOAD)


if __name__ == "__main__":
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    demo()
