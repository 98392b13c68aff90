"""Index images uploaded to S3 and plan their thumbnails (one key per configured size).

It skips its own output prefix: a function triggered by ObjectCreated that writes back into the
same bucket re-triggers itself forever unless it ignores what it wrote (AWS's "recursive
invocation" warning for S3 triggers).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from shared_monitoring import Monitor
from shared_utils import InvalidSetting, S3Object, get_str, parse_s3_event

CONTENT_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".gif": "image/gif", ".webp": "image/webp", ".tif": "image/tiff", ".tiff": "image/tiff",
}


def _sizes(raw: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}))
    except ValueError:
        raise InvalidSetting("THUMBNAIL_SIZES", raw, "comma-separated pixel sizes, e.g. 128,512") from None
    if not sizes or sizes[0] < 16 or sizes[-1] > 4096:
        raise InvalidSetting("THUMBNAIL_SIZES", raw, "sizes from 16 to 4096 pixels")
    return sizes


PREFIX = get_str("THUMBNAIL_PREFIX", "thumbnails/")
SIZES = _sizes(get_str("THUMBNAIL_SIZES", "128,512"))
monitor = Monitor("thumbnails")


def _skip_reason(obj: S3Object) -> str | None:
    if not obj.event_name.startswith("ObjectCreated:"):
        return f"event {obj.event_name} is not an upload"
    if obj.key.startswith(PREFIX):
        return "is a thumbnail (our own output)"
    if PurePosixPath(obj.key).suffix.lower() not in CONTENT_TYPES:
        return "not an image"
    if not obj.size:
        return "empty object"
    return None


def index_entry(obj: S3Object) -> dict[str, Any]:
    path = PurePosixPath(obj.key)
    return {
        "bucket": obj.bucket,
        "key": obj.key,
        "size": obj.size,
        "content_type": CONTENT_TYPES[path.suffix.lower()],
        "thumbnails": {str(px): f"{PREFIX}{px}/{path.with_suffix('.webp')}" for px in SIZES},
    }


@monitor
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    indexed: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for obj in parse_s3_event(event):
        reason = _skip_reason(obj)
        if reason is not None:
            skipped.append({"key": obj.key, "reason": reason})
            continue
        entry = index_entry(obj)
        monitor.logger.info("Indexed image", extra={"bucket": obj.bucket, "key": obj.key, "size": obj.size})
        indexed.append(entry)
    monitor.add_metric("ImagesIndexed", len(indexed))
    monitor.add_metric("ObjectsSkipped", len(skipped))
    return {"indexed": indexed, "skipped": skipped}
