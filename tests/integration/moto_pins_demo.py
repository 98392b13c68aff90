"""Reproduce the manual's examples (docs/commands.md) of `check --online`, `promote` and `plan --online`: the small
two-region project of test_online_pins.py, seeded in moto_server on loopback, then the real commands.

    .venv/bin/python tests/integration/moto_pins_demo.py

Between runs only the hash of the seeded "older" zips changes (`layer_zip` stamps the time in them);
the local builds are reproducible, so their hashes do not. Nothing here reaches
AWS: AWS_ENDPOINT_URL points boto3 at 127.0.0.1 and the credentials are fakes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from moto_layers import layer_zip, moto_server
from test_online_pins import FILES, REPO, local_zip, publish, publish_as_pulumi_would

from layersmith.cli import main


def run(*argv: str) -> None:
    print(f"$ layersmith {' '.join(argv[2:])}")
    sys.stdout.flush()
    with contextlib.redirect_stderr(sys.stdout):
        code = main(list(argv))
    print(f"[exit {code}]\n")


def demo() -> None:
    with tempfile.TemporaryDirectory() as tmp, moto_server() as endpoint:
        root = Path(tmp) / "project"
        for rel, text in FILES.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        shutil.copy(REPO / "__main__.py", root / "__main__.py")
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                          AWS_EC2_METADATA_DISABLED="true", LAYERSMITH_CACHE_DIR=str(Path(tmp) / "cache"))
        os.environ.pop("AWS_PROFILE", None)
        utils, tools, old = local_zip(root, "utils"), local_zip(root, "tools"), layer_zip("an-older-utils-build")
        publish("eu-west-1", "layersmith-prod-utils", old, utils)
        publish("eu-west-1", "layersmith-prod-tools", tools)
        publish("us-east-1", "layersmith-prod-tools", layer_zip("old tools"))
        publish("us-east-1", "layersmith-prod-utils", utils)
        publish("eu-west-1", "layersmith-staging-utils", old, utils)
        publish_as_pulumi_would("eu-west-1", "layersmith-prod-utils", utils, "shared code")
        p = ["--project", str(root)]
        print(f"$ cat Pulumi.prod.yaml\n{FILES['Pulumi.prod.yaml']}")
        run(*p, "check", "--stack", "prod", "--online", "--no-policy")
        run(*p, "promote", "utils", "--to", "prod", "--from", "staging")
        run(*p, "promote", "tools", "--to", "prod")
        run(*p, "plan", "--stack", "prod", "--online")


if __name__ == "__main__":
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    demo()
