"""Static assets and product images from the region's S3 bucket (the lab's stand-in or S3 itself), as the seeds
serve them: written to the primary's bucket, replicated to the secondary's, read by each region from its own.

    GET /assets/{key}                  the object ``site/{key}`` of the region's bucket (e.g. /assets/logo.svg)
    GET /api/products/{id}/image       the object ``products/{id}.svg``

404 when the bucket has no such object (not replicated yet, or lost with the primary: the page shows it), 503 when
the region's bucket does not answer. The bucket of each region is read from ``SHOP_STORES_FILE`` on the first
asset request (the lab writes it once the stores exist: 503 before), so a pod's start-up pays nothing for it;
httpx is imported then too. The wire format is S3's REST API, path-style, unsigned (the stand-ins check no
signature; against S3 a pod would use an SDK with its role's credentials).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aftershock.lab.shop.regionstore import RegionStore, region_store
from aftershock.lab.standins.scope import authorization


class _Bucket(RegionStore):
    """The region's bucket."""

    def __init__(self, config: dict[str, Any], region: str) -> None:
        super().__init__(config, region)
        self.bucket = str(config["bucket"])

    async def get(self, key: str) -> tuple[int, bytes, str]:
        """``(status, body, content type)`` of the object; 503 when the endpoint does not answer."""
        import httpx

        try:
            response = await self.http.get(f"{self.endpoint}/{self.bucket}/{key}", headers={
                "Authorization": authorization(self.region, "s3"), "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        except httpx.HTTPError:
            return 503, b"", ""
        return response.status_code, response.content, response.headers.get("content-type", "")


def _error(message: str, status: int) -> Response:
    return Response(orjson.dumps({"error": message}), status, media_type="application/json")


async def _serve(request: Request, key: str) -> Response:
    bucket = region_store(request, "assets_bucket", _Bucket)
    if bucket is None:
        return _error("the asset store is not ready in this region", 503)
    status, body, content_type = await bucket.get(key)
    if status == 200:
        return Response(body, 200, media_type=content_type or "application/octet-stream")
    if status == 404:
        return _error(f"no asset {key} in the {bucket.region} bucket", 404)
    return _error(f"the {bucket.region} asset bucket is unavailable (S3 answered {status})", 503)


async def site_asset(request: Request) -> Response:
    key = str(request.path_params["key"])
    if not key or ".." in key.split("/"):
        return _error("no such asset", 404)
    return await _serve(request, f"site/{key}")


async def product_image(request: Request) -> Response:
    raw = str(request.path_params["product_id"])
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return _error("product_id must be a positive integer", 422)
    return await _serve(request, f"products/{int(raw)}.svg")


ROUTES = [
    Route("/assets/{key:path}", site_asset, methods=["GET"]),
    Route("/api/products/{product_id}/image", product_image, methods=["GET"]),
]
