"""Lambda service limits layersmith enforces, each stated once (Lambda quotas and API reference)."""

from __future__ import annotations

# A direct PublishLayerVersion upload travels base64-encoded in a request body capped at
# 69,905,067 bytes: a 50 MiB zip is already too big (4/3 x 52,428,800 = 69,905,067 + headers).
# Above 45 MiB the zip goes through S3.
MAX_DIRECT_UPLOAD = 45 * 1024 * 1024
