"""The region's AWS data store as a shop pod sees it: where its endpoint and names are (``SHOP_STORES_FILE``,
written by the lab once the stores exist), and one HTTP client per pod, made on the first request that needs it
(httpx is imported then: a pod's start-up pays nothing for it). Used by the cart table and the asset bucket.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TypeVar

from starlette.requests import Request


def region_config(region: str) -> dict[str, Any] | None:
    """``{"endpoint", "table", "bucket"}`` of ``region`` from ``SHOP_STORES_FILE`` (None: not written yet)."""
    path = os.environ.get("SHOP_STORES_FILE", "")
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))[region] if path else None
    except (OSError, ValueError, KeyError):
        return None
    return config if isinstance(config, dict) else None


class RegionStore:
    """One store of the pod's region: its endpoint, and one keep-alive HTTP client to it."""

    def __init__(self, config: dict[str, Any], region: str) -> None:
        import httpx

        self.region = region
        self.endpoint = str(config["endpoint"]).rstrip("/")
        self.http = httpx.AsyncClient(timeout=2.0)


Store = TypeVar("Store", bound=RegionStore)


def region_store(request: Request, attribute: str, kind: type[Store]) -> Store | None:
    """The app's ``kind`` store, made once and kept on ``app.state.<attribute>``; None while the stores are not
    written yet (the caller answers 503)."""
    store: Store | None = getattr(request.app.state, attribute, None)
    if store is None:
        region = request.app.state.settings.region
        config = region_config(region)
        if config is None:
            return None
        store = kind(config, region)
        setattr(request.app.state, attribute, store)
    return store


__all__ = ["RegionStore", "region_config", "region_store"]
