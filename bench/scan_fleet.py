"""`make bench-fleet`: `layersmith inventory` and `prune --yes` over a fleet of accounts × regions.

moto_server (a subprocess) stands in for AWS, behind a proxy (another subprocess, 127.0.0.1 only) that
adds a fixed latency to every call and answers a share of Lambda calls with HTTP 429
`TooManyRequestsException`, as Lambda does when its control-plane quota is exceeded. The proxy is
bounded: at most `MAX_IN_FLIGHT` requests forwarded at once, idle connections closed after 5 s.

The fleet: the publishing (home) account has `LAYERS` layers × `VERSIONS` versions in every region,
shared publicly (the widest re-check: every scanned account of the region); every other account has
one function per region attaching the newest utils version. `prune --keep 1` deletes the older ones.

For each size, the same CLI is timed twice in one run: sequential (`--concurrency 1`, the scan as it
was: one scope after another) and concurrent (the default), each with a cold GetLayerVersion cache;
then the concurrent one again with a warm cache, and `prune --keep 1 --yes`. The results must be equal
to the expected fleet. Sizes too big for the machine are extrapolated from a linear fit of time against
scopes (accounts × regions); the output says which numbers are measured and which are fitted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import logging
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "fleet.json"
BIN = Path(sys.executable).parent
LAYERS, VERSIONS = ("utils", "monitoring", "pandas"), 3
MAX_IN_FLIGHT = 64
GOAL_ACCOUNTS, GOAL_REGIONS = 100, 17
GOAL_INVENTORY_S, GOAL_PRUNE_S, GOAL_DELETIONS = 60.0, 120.0, 100
REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2", "eu-central-1", "us-west-2", "ap-northeast-1",
           "sa-east-1", "ca-central-1", "eu-north-1", "ap-south-1", "us-east-2", "eu-west-2", "eu-west-3",
           "ap-northeast-2", "ap-southeast-1", "us-west-1", "eu-south-1")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}


# --- the two servers (run as `scan_fleet.py --serve-moto` / `--serve-proxy` subprocesses) ---

def serve_moto() -> None:
    """moto_server, with the one fix the integration tests also make: a function may attach a layer version
    of another account (moto looks the ARN up in the function's own account)."""
    from moto.awslambda import models
    from moto.awslambda.utils import get_backend, split_layer_arn
    from moto.server import ThreadedMotoServer

    def layers_data(self: Any, arns: list[str]) -> list[dict[str, Any]]:
        out = []
        for arn in arns:
            parts = split_layer_arn(arn)
            found = get_backend(parts.account, parts.region).layers_versions_by_arn(arn)
            if found is None:
                raise models.UnknownLayerVersionException(arns)
            out.append({"Arn": found.arn, "CodeSize": found.code_size})
        return out

    models.LambdaFunction._get_layers_data = layers_data
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    threading.Event().wait()


def serve_proxy(upstream_port: int, latency: float, throttle: float, seed: int) -> None:
    gate = threading.BoundedSemaphore(MAX_IN_FLIGHT)
    chance = random.Random(seed)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 5  # idle keep-alive connections are closed: one thread each, bounded by use

        def log_message(self, *_: Any) -> None:
            pass

        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            lambda_call = self.path.startswith(("/2015-03-31/", "/2018-10-31/"))
            with lock:
                throttled = lambda_call and chance.random() < throttle
            with gate:
                time.sleep(latency)
                if throttled:
                    payload = json.dumps({"Type": "User", "message": "Rate exceeded",
                                          "Reason": "CallerRateLimitExceeded"}).encode()
                    self._answer(429, {"x-amzn-ErrorType": "TooManyRequestsException:",
                                       "Content-Type": "application/json"}, payload)
                    return
                conn = HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                kept = {k: v for k, v in answer.getheaders()
                        if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length")}
                conn.close()
            self._answer(answer.status, kept, data)

        def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def start(*argv: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, __file__, *argv], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, **CREDENTIALS})
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


# --- the fleet ---

def layer_zip(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"python/{name}.py", f"NAME = {name!r}\n")
    return buf.getvalue()


def seed(endpoint: str, accounts: int, regions: tuple[str, ...]) -> dict[str, Any]:
    """Straight to moto (no proxy): the home account's layers, and one consuming function per other scope."""
    import boto3

    home = boto3.Session(region_name=regions[0], **_keys(CREDENTIALS))
    home_id = home.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
    latest: dict[str, str] = {}
    for region in regions:
        lam = home.client("lambda", region_name=region, endpoint_url=endpoint)
        for layer in LAYERS:
            name = f"layersmith-dev-{layer}"
            for number in range(1, VERSIONS + 1):
                lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip(layer)},
                                          CompatibleRuntimes=["python3.12"])
                lam.add_layer_version_permission(LayerName=name, VersionNumber=number,
                                                 StatementId="layersmith-public", Action="lambda:GetLayerVersion",
                                                 Principal="*")
        latest[region] = f"arn:aws:lambda:{region}:{home_id}:layer:layersmith-dev-{LAYERS[0]}:{VERSIONS}"
    ids = [f"{300000000000 + n:012d}" for n in range(1, accounts)]

    def consumer(account: str) -> None:
        sts = home.client("sts", endpoint_url=endpoint)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")["Credentials"]
        session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                aws_session_token=creds["SessionToken"])
        session.client("iam", endpoint_url=endpoint, region_name="us-east-1").create_role(
            RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        for region in regions:
            session.client("lambda", region_name=region, endpoint_url=endpoint).create_function(
                FunctionName="consumer", Runtime="python3.12", Handler="h.h", Role=f"arn:aws:iam::{account}:role/fn",
                Code={"ZipFile": layer_zip("fn")}, Layers=[latest[region]])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(consumer, ids))
    return {"home": home_id, "accounts": ids}


def _keys(env: dict[str, str]) -> dict[str, str]:
    return {"aws_access_key_id": env["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}


def project(root: Path) -> Path:
    files = {"Pulumi.yaml": "name: layersmith\nruntime: python\n",
             "Pulumi.dev.yaml": "config:\n  aws:region: eu-west-1\n"}
    for layer in LAYERS:
        files[f"layers/{layer}/layer.toml"] = ('description = "bench"\nruntimes = ["python3.12"]\n'
                                               'architectures = ["x86_64"]\nsource = "src"\nportable = true\n')
        files[f"layers/{layer}/src/{layer}_pkg/__init__.py"] = ""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def layersmith(proxy: str, proj: Path, cache: Path, fleet: dict[str, Any], regions: tuple[str, ...],
               *extra: str) -> tuple[float, dict[str, Any], str]:
    accounts = proj / "accounts.txt"
    accounts.write_text("\n".join(fleet["accounts"]) + "\n", encoding="utf-8")
    argv = [str(BIN / "layersmith"), "--project", str(proj), *extra[:1], "--regions", ",".join(regions),
            "--accounts-file", str(accounts), "--json", *extra[1:]]
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": proxy, "LAYERSMITH_CACHE_DIR": str(cache),
           "AWS_CONFIG_FILE": str(proj / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(proj / "none")}
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        sys.exit(f"bench: {' '.join(argv[3:6])} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed, json.loads(proc.stdout), proc.stderr


def check_inventory(data: dict[str, Any], accounts: int, regions: int) -> str | None:
    """None when the scan found exactly the fleet; else what is wrong."""
    versions, users = len(data["versions"]), sum(len(v["used_by"]) for v in data["versions"])
    want_versions, want_users = regions * len(LAYERS) * VERSIONS, (accounts - 1) * regions
    if data["failures"] or versions != want_versions or users != want_users:
        return (f"{versions}/{want_versions} versions, {users}/{want_users} users, "
                f"{len(data['failures'])} failure(s)")
    return None


def measure(accounts: int, nregions: int, latency: float, throttle: float, work: Path) -> dict[str, Any]:
    regions = REGIONS[:nregions]
    moto, moto_port = start("--serve-moto")
    proxy, proxy_port = start("--serve-proxy", str(moto_port), str(latency), str(throttle))
    try:
        fleet = seed(f"http://127.0.0.1:{moto_port}", accounts, regions)
        proj = project(work / f"fleet-{accounts}x{nregions}")
        url = f"http://127.0.0.1:{proxy_port}"
        out: dict[str, Any] = {"accounts": accounts, "regions": nregions, "scopes": accounts * nregions}
        for name, extra in (("sequential", ("inventory", "--concurrency", "1")), ("concurrent", ("inventory",)),
                            ("concurrent_warm", ("inventory",))):
            cache = work / f"cache-{accounts}x{nregions}-{'warm' if name == 'concurrent_warm' else name}"
            if name == "concurrent_warm":
                cache = work / f"cache-{accounts}x{nregions}-concurrent"
            seconds, data, _ = layersmith(url, proj, cache, fleet, regions, *extra)
            out[name] = {"s": seconds, "wrong": check_inventory(data, accounts, nregions)}
            if name == "sequential":
                reference = [(v["arn"], len(v["used_by"])) for v in data["versions"]]
            else:
                same = [(v["arn"], len(v["used_by"])) for v in data["versions"]] == reference
                out[name]["same_as_sequential"] = same
            print(f"  {accounts}x{nregions} {name}: {seconds:.1f} s", file=sys.stderr)
        seconds, plan, err = layersmith(url, proj, work / f"cache-{accounts}x{nregions}-concurrent", fleet, regions,
                                        "prune", "--keep", "1", "--yes")
        want = nregions * len(LAYERS) * (VERSIONS - 1)
        out["prune"] = {"s": seconds, "deleted": len(plan["deleted"]), "planned": len(plan["delete"]),
                        "wrong": None if len(plan["deleted"]) == want else f"deleted {len(plan['deleted'])}/{want}",
                        "rechecks": err.count("re-checking")}
        print(f"  {accounts}x{nregions} prune --yes: {seconds:.1f} s, {len(plan['deleted'])} deleted", file=sys.stderr)
        return out
    finally:
        for proc in (proxy, moto):
            proc.terminate()
            proc.wait(timeout=10)


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares t = a + b·x."""
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0
    return my - b * mx, b


def report(results: list[dict[str, Any]], latency: float, throttle: float) -> dict[str, Any]:
    goal_scopes = GOAL_ACCOUNTS * GOAL_REGIONS
    inv_a, inv_b = fit([(r["scopes"], r["concurrent"]["s"]) for r in results])
    seq_a, seq_b = fit([(r["scopes"], r["sequential"]["s"]) for r in results])
    # prune: the scan, plus per region one re-check of every account, plus the deletions
    pr_a, pr_b = fit([(r["scopes"], r["prune"]["s"]) for r in results])
    full = next((r for r in results if r["scopes"] >= goal_scopes), None)
    inventory_s = full["concurrent"]["s"] if full else inv_a + inv_b * goal_scopes
    # prune scans first: it can never be faster than the inventory. A fit whose time shrinks with size
    # says the machine was too noisy, not that the goal is met: None (unknown) then.
    prune_s = full["prune"]["s"] if full else (max(pr_a + pr_b * goal_scopes, inventory_s) if pr_b > 0 else None)
    if not full and inv_b <= 0:
        inventory_s = None
    correct = all(r[k]["wrong"] is None for r in results for k in ("sequential", "concurrent", "concurrent_warm",
                                                                      "prune"))
    return {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "latency_s": latency,
            "throttled": throttle, "cpus": os.cpu_count(), "sizes": results,
            "fit": {"concurrent_s": [inv_a, inv_b], "sequential_s": [seq_a, seq_b], "prune_s": [pr_a, pr_b]},
            "goal": {"scopes": goal_scopes, "measured": full is not None, "inventory_s": inventory_s,
                     "sequential_s": full["sequential"]["s"] if full else seq_a + seq_b * goal_scopes,
                     "prune_s": prune_s,
                     "inventory_met": inventory_s is not None and inventory_s <= GOAL_INVENTORY_S and correct,
                     "prune_met": prune_s is not None and prune_s <= GOAL_PRUNE_S and correct, "correct": correct}}


def print_report(rep: dict[str, Any]) -> None:
    from layersmith.table import render_table

    rows = [[f"{r['accounts']}×{r['regions']}", str(r["scopes"]), f"{r['sequential']['s']:.1f} s",
             f"{r['concurrent']['s']:.1f} s", f"{r['sequential']['s'] / r['concurrent']['s']:.1f}x",
             f"{r['concurrent_warm']['s']:.1f} s", f"{r['prune']['s']:.1f} s ({r['prune']['deleted']} deleted)",
             "yes" if all(r[k]["wrong"] is None for k in ("sequential", "concurrent", "concurrent_warm", "prune"))
             and r["concurrent"].get("same_as_sequential") else "NO"]
            for r in rep["sizes"]]
    print(f"fleet scan, {rep['date']}: {rep['latency_s'] * 1000:.0f} ms per call, {rep['throttled']:.0%} answered "
          f"429, {len(LAYERS)} layers × {VERSIONS} versions per region, {rep['cpus']} CPUs\n")
    print(render_table(["accounts×regions", "scopes", "sequential", "concurrent", "speed-up", "warm cache",
                        "prune --yes", "correct"], rows, right={1, 2, 3, 4, 5}))
    g = rep["goal"]
    how = "measured" if g["measured"] else "fitted (t = a + b·scopes over the sizes above)"
    print(f"\n{GOAL_ACCOUNTS}×{GOAL_REGIONS} = {g['scopes']} scopes, {how}:")
    unknown = "unknown (time did not grow with size: too noisy to fit)"
    inv, prune, seq = g["inventory_s"], g["prune_s"], g["sequential_s"]
    ratio = f", {seq / inv:.1f}x" if inv else ""
    print(f"  inventory   {f'{inv:.0f} s' if inv else unknown} (sequential {seq:.0f} s{ratio})  "
          f"goal ≤ {GOAL_INVENTORY_S:.0f} s: {'met' if g['inventory_met'] else 'NOT met'}")
    print(f"  prune --yes {f'{prune:.0f} s' if prune else unknown}  goal ≤ {GOAL_PRUNE_S:.0f} s for "
          f"~{GOAL_DELETIONS} deletions: {'met' if g['prune_met'] else 'NOT met'}")
    print(f"\nJSON: {RESULTS.relative_to(REPO)}")


def parse_sizes(text: str) -> list[tuple[int, int]]:
    return [(int(a), int(r)) for a, r in (size.split("x") for size in text.split(","))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve-moto", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-proxy", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="5x2,10x3,20x3",
                        help="accounts×regions to measure (default 5x2,10x3,20x3: the machine is shared; "
                             "100x17 is the goal size)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every call (default 0.05)")
    parser.add_argument("--throttle", type=float, default=0.05, help="share of Lambda calls answered 429 (0.05)")
    args = parser.parse_args()
    if args.serve_moto:
        serve_moto()
        return 0
    if args.serve_proxy:
        port, latency, throttle = args.serve_proxy
        serve_proxy(int(port), float(latency), float(throttle), seed=23)
        return 0
    sizes = parse_sizes(args.sizes)
    if any(r > len(REGIONS) for _, r in sizes):
        sys.exit(f"bench: at most {len(REGIONS)} regions")
    if len({a * r for a, r in sizes}) < 2 and GOAL_ACCOUNTS * GOAL_REGIONS not in {a * r for a, r in sizes}:
        sys.exit("bench: give two sizes of different scope counts (to fit how time grows), or 100x17")
    with tempfile.TemporaryDirectory(prefix="layersmith-fleet-") as tmp:
        results = []
        for accounts, regions in sizes:
            print(f"bench: fleet {accounts} accounts × {regions} regions", file=sys.stderr)
            results.append(measure(accounts, regions, args.latency, args.throttle, Path(tmp)))
    rep = report(results, args.latency, args.throttle)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rep, indent=2) + "\n", encoding="utf-8")
    print_report(rep)
    return 0


if __name__ == "__main__":
    socket.setdefaulttimeout(120)
    sys.exit(main())
