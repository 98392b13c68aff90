"""The S3 path of `deploy_stack`: a layer zip over the direct-upload limit goes through S3.

The real components run under layersmith's Pulumi mocks (`run_under_mocks`, preview=False); the
limit is lowered to 1 byte so tiny real zips take the path a > 50 MB layer takes in production.
"""

from __future__ import annotations

import hashlib
import signal
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from layersmith.errors import VerificationError
from layersmith.infra.preview import _Recorder, run_under_mocks
from layersmith.infra.stack import StackInputs, deploy_stack
from layersmith.model import BuildResult, Consume, FunctionSpec, LayerSpec, ShareWith, StackConfig, Variant

LV = "aws:lambda/layerVersion:LayerVersion"
OBJ = "aws:s3/bucketObjectv2:BucketObjectv2"
BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
STORE = "layersmith:index:ArtifactStore"


@pytest.fixture(autouse=True)
def _timeout() -> Iterator[None]:
    """Mock runs can hang instead of failing
    (docs/architecture.md#running-the-program-under-mocks): fail after 60 s instead."""
    def expire(_signum: int, _frame: Any) -> None:
        raise TimeoutError("Pulumi mock run did not finish within 60 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _zip(path: Path, text: str) -> tuple[Path, str, int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("python/mod.py", text)
    data = path.read_bytes()
    return path, hashlib.sha256(data).hexdigest(), len(data)


def _build(tmp: Path, layer: str, variant: Variant, text: str) -> BuildResult:
    zip_path, sha, size = _zip(tmp / "builds" / layer / variant.key / "layer.zip", text)
    return BuildResult(variant=variant, zip_path=zip_path, sha256=sha, content_sha256=sha, files=1,
                       unzipped_bytes=len(text), zip_bytes=size, cached=False, cache_key=variant.key,
                       distributions=(), bytecode=None, builder="fake")


def _inputs(tmp: Path, bucket: str | None) -> StackInputs:
    spec = LayerSpec(name="big", directory=tmp / "layers" / "big", description="a big layer", license="MIT",
                     runtimes=("python3.11", "python3.12"), architectures=("x86_64",), requirements=None,
                     source=None, portable=False)
    variants = [Variant("big", (rt,), ("x86_64",), False) for rt in spec.runtimes]
    builds = [_build(tmp, "big", v, f"VALUE = {v.key!r}\n") for v in variants]
    fn_dir = tmp / "functions" / "report"
    fn_dir.mkdir(parents=True)
    (fn_dir / "handler.py").write_text("def handler(event, context):\n    return 1\n", encoding="utf-8")
    fn = FunctionSpec(name="report", directory=fn_dir, handler="handler.handler", runtime="python3.12",
                      architecture="x86_64", layers=("big",), memory=128, timeout=3)
    cfg = StackConfig(project="proj", stack="s3", path=tmp / "Pulumi.s3.yaml", region="eu-west-1",
                      publish=("big",), deploy=("report",), share_with=ShareWith(accounts=("111111111111",)),
                      retain_versions=True, pins=(), require_pins=False, consume=Consume(),
                      name_prefix="proj-s3", artifact_bucket=bucket, log_retention_days=30)
    return StackInputs(config=cfg, layers={"big": spec}, functions={"report": fn}, builds={"big": builds},
                       cache_root=tmp / "cache", direct_upload_limit=1)


def _run(inputs: StackInputs) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    def program() -> None:
        import pulumi

        for key, value in deploy_stack(inputs).items():
            pulumi.export(key, value)

    rec, outputs = run_under_mocks(program, project="proj", stack="s3", region="eu-west-1",
                                   config={"aws:region": "eu-west-1"},
                                   recorder=_Recorder("eu-west-1", {}, {}))
    return rec.resources, outputs


def _of(resources: list[dict[str, Any]], typ: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["type"] == typ]


def _sha_of(inputs: StackInputs) -> dict[str, str]:
    return {b.variant.key: b.sha256 for b in inputs.builds["big"]}


def test_created_bucket_is_private_encrypted_versioned(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path, bucket=None)
    resources, _ = _run(inputs)

    assert len(_of(resources, STORE)) == 1
    buckets = _of(resources, BUCKET)
    assert len(buckets) == 1
    bucket_id = f"{buckets[0]['name']}-id"  # the mock's id for the created bucket

    (pab,) = _of(resources, PAB)
    assert pab["inputs"]["bucket"] == bucket_id
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert pab["inputs"][flag] is True, flag

    (sse,) = _of(resources, SSE)
    assert sse["inputs"]["bucket"] == bucket_id
    (rule,) = sse["inputs"]["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"

    (versioning,) = _of(resources, VERSIONING)
    assert versioning["inputs"]["bucket"] == bucket_id
    assert versioning["inputs"]["versioningConfiguration"]["status"] == "Enabled"

    created_name = f"{buckets[0]['name']}-mock"  # the mock's `bucket` output
    objects = _of(resources, OBJ)
    assert len(objects) == 2
    assert {o["inputs"]["bucket"] for o in objects} == {created_name}


def test_configured_bucket_is_used_and_none_created(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path, bucket="team-artifacts")
    resources, _ = _run(inputs)

    assert not _of(resources, BUCKET)
    assert not _of(resources, PAB) and not _of(resources, SSE) and not _of(resources, VERSIONING)
    objects = _of(resources, OBJ)
    assert len(objects) == 2
    assert {o["inputs"]["bucket"] for o in objects} == {"team-artifacts"}
    layers = _of(resources, LV)
    assert {lv["inputs"]["s3Bucket"] for lv in layers} == {"team-artifacts"}


@pytest.mark.parametrize("bucket", [None, "team-artifacts"])
def test_keys_are_content_addressed_and_layers_publish_from_s3(tmp_path: Path, bucket: str | None) -> None:
    inputs = _inputs(tmp_path, bucket=bucket)
    resources, outputs = _run(inputs)
    shas = _sha_of(inputs)

    keys = {o["inputs"]["key"] for o in _of(resources, OBJ)}
    assert keys == {f"layers/big/{variant}/{sha}.zip" for variant, sha in shas.items()}
    for obj in _of(resources, OBJ):
        assert obj["inputs"]["serverSideEncryption"] == "aws:kms"
        # The uploaded file is the build's zip (a FileAsset), not a directory.
        assert Path(obj["inputs"]["source"].path).name == "layer.zip"

    layers = _of(resources, LV)
    assert len(layers) == 2
    by_key = {o["inputs"]["key"] for o in _of(resources, OBJ)}
    for lv in layers:
        inputs_ = lv["inputs"]
        assert "code" not in inputs_ or inputs_["code"] is None
        assert inputs_["s3Key"] in by_key
        assert inputs_["s3Bucket"]
        assert inputs_["skipDestroy"] is True
        variant = inputs_["s3Key"].split("/")[2]
        assert inputs_["layerName"] == f"proj-s3-big-{variant}"
        assert inputs_["s3Key"].endswith(f"/{shas[variant]}.zip")

    # The function still gets the versioned ARN of the matching variant.
    assert outputs["functions"]["report"]["layers"] == [
        "arn:aws:lambda:eu-west-1:123456789012:layer:proj-s3-big-py312-x86_64:1"]


def test_small_zips_upload_directly(tmp_path: Path) -> None:
    """The control: with the real 50 MB limit the same tiny layers need no bucket at all."""
    from dataclasses import replace

    from layersmith.infra.layer import MAX_DIRECT_UPLOAD

    inputs = replace(_inputs(tmp_path, bucket=None), direct_upload_limit=MAX_DIRECT_UPLOAD)
    resources, _ = _run(inputs)
    assert not _of(resources, STORE) and not _of(resources, BUCKET) and not _of(resources, OBJ)
    for lv in _of(resources, LV):
        assert Path(lv["inputs"]["code"].path).name == "layer.zip"
        assert "s3Key" not in lv["inputs"] and "s3Bucket" not in lv["inputs"]


def test_a_zip_damaged_after_its_build_is_not_published(tmp_path: Path) -> None:
    """The program verifies each zip (sha256 and every entry's CRC) before it registers its LayerVersion."""
    inputs = _inputs(tmp_path, bucket=None)
    damaged = inputs.builds["big"][1].zip_path
    data = bytearray(damaged.read_bytes())
    data[40] ^= 0xFF  # inside the stored entry's data
    damaged.write_bytes(bytes(data))
    with pytest.raises(VerificationError) as refused:
        _run(inputs)
    assert "nothing was published" in str(refused.value) and damaged.name in str(refused.value)
