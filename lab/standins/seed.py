"""What the shop finds in the stores at lab start: its static assets and product images in the primary's bucket
(replicated to the secondary's like any write), and the file that tells each pod its region's table and bucket.

``stores.json`` (``SHOP_STORES_FILE``)::

    {"us-east-1": {"endpoint": "http://127.0.0.1:45123", "table": "shop-carts", "bucket": "shop-assets-us-east-1"},
     "us-west-2": {...}}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aftershock.lab.standins.wire import Wire

SITE_ASSETS = {
    "site/logo.svg": ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32">'
                                       b'<text x="4" y="22">shop</text></svg>'),
    "site/app.css": ("text/css", b"body { font-family: sans-serif; margin: 0 auto; max-width: 60em; }\n"),
}


def product_image(product_id: int) -> bytes:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" '
            f'fill="#{product_id * 2654435761 % 0xFFFFFF:06x}"/><text x="8" y="38">#{product_id}</text></svg>').encode()


def seed_assets(wire: Wire, bucket: str, product_images: int) -> int:
    """Put the site assets and images of products ``1..product_images`` into ``bucket``; returns how many."""
    objects: dict[str, tuple[str, bytes]] = dict(SITE_ASSETS)
    objects.update({f"products/{i}.svg": ("image/svg+xml", product_image(i)) for i in range(1, product_images + 1)})
    try:
        for key, (content_type, body) in objects.items():
            wire.s3("PUT", f"/{bucket}/{key}", body, headers={"Content-Type": content_type})
    finally:
        wire.close()
    return len(objects)


def write_shop_config(path: Path, endpoints: dict[str, str], settings: Any) -> None:
    """Write ``stores.json`` atomically (a pod reading it never sees half of it)."""
    config = {region: {"endpoint": url, "table": settings.table, "bucket": settings.bucket(region)}
              for region, url in endpoints.items()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config, indent=1), encoding="utf-8")
    os.replace(tmp, path)
