"""A small stand-in for the lab's shop API (starlette), for the load tests.

Run: ``python tests/loadtests/shop_standin.py PORT [--mode ok|bad-body|503]``. ``--mode bad-body`` answers 200
with a wrong body on product pages; ``--mode 503`` answers every /api call with 503. Counts every request
it answers in ``GET /__count`` (not counted itself), and the values of every ``X-...`` request header and of
``Host`` it saw in ``GET /__headers`` (``{"x-api-key": ["..."], ...}``).
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CATEGORIES = ("books", "games", "garden", "kitchen", "music", "sports", "toys", "tools")
HEADERS = {"X-Pod": "standin-1", "X-Region": "us-east-1", "X-AZ": "us-east-1a"}


def _product(pid: int) -> dict[str, Any]:
    return {
        "id": pid,
        "sku": f"SKU-{pid:05d}",
        "name": f"product {pid}",
        "category": CATEGORIES[pid % len(CATEGORIES)],
        "price_cents": 100 + pid,
    }


class HeaderLog:
    """ASGI middleware: remembers the values of ``X-...`` and ``Host`` request headers, per header name."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: dict[str, set[str]] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for key, value in scope.get("headers", []):
                name = key.decode("latin-1").lower()
                if name.startswith("x-") or name == "host":
                    self.seen.setdefault(name, set()).add(value.decode("latin-1"))
        await self.app(scope, receive, send)


def make_app(mode: str = "ok") -> Any:
    counter = itertools.count()
    served = {"n": 0}
    carts: dict[int, dict[int, int]] = {}
    orders: dict[int, dict[str, Any]] = {}
    order_ids = itertools.count(1)

    def reply(body: Any, status: int = 200) -> Response:
        served["n"] = next(counter) + 1
        if mode == "503":
            return JSONResponse({"error": "database unavailable"}, status_code=503, headers=HEADERS)
        return JSONResponse(body, status_code=status, headers=HEADERS)

    def user_of(request: Request) -> int | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        return int(token.removeprefix("tok-")) if token.startswith("tok-") and token[4:].isdigit() else None

    async def health(request: Request) -> Response:
        served["n"] = next(counter) + 1
        return JSONResponse({"status": "ok"}, headers=HEADERS)

    async def count(request: Request) -> Response:
        return JSONResponse({"served": served["n"]})

    async def products(request: Request) -> Response:
        page = int(request.query_params.get("page", 1))
        size = int(request.query_params.get("size", 20))
        first = (page - 1) * size + 1
        items = [_product(pid) for pid in range(first, min(first + size, 3001))]
        return reply({"items": items, "page": page, "size": size, "total": 3000})

    async def search(request: Request) -> Response:
        query = request.query_params.get("q", "")
        limit = int(request.query_params.get("limit", 10))
        return reply({"query": query, "items": [_product(pid) for pid in range(1, limit + 1)]})

    async def product(request: Request) -> Response:
        pid = int(request.path_params["pid"])
        if not 1 <= pid <= 3000:
            return reply({"error": "not found"}, 404)
        if mode == "bad-body":
            return reply({"error": "oops"})
        return reply({**_product(pid), "description": "a thing", "stock": 10})

    async def login(request: Request) -> Response:
        body = await request.json()
        name = str(body.get("username", ""))
        if not name.startswith("shopper-") or body.get("password") != "pw-" + name.removeprefix("shopper-"):
            return reply({"error": "bad credentials"}, 401)
        user_id = int(name.removeprefix("shopper-"))
        token = f"tok-{user_id}"  # stateless, like the real shop's signed tokens: survives a restart
        return reply({"token": token, "user_id": user_id})

    async def cart(request: Request) -> Response:
        user = user_of(request)
        if user is None:
            return reply({"error": "unauthorized"}, 401)
        items = [{"product_id": p, "quantity": q} for p, q in carts.get(user, {}).items()]
        return reply({"items": items})

    async def add_item(request: Request) -> Response:
        user = user_of(request)
        if user is None:
            return reply({"error": "unauthorized"}, 401)
        body = await request.json()
        cart_items = carts.setdefault(user, {})
        pid = int(body["product_id"])
        cart_items[pid] = cart_items.get(pid, 0) + int(body.get("quantity", 1))
        return reply({"items": [{"product_id": p, "quantity": q} for p, q in cart_items.items()]}, 201)

    async def remove_item(request: Request) -> Response:
        user = user_of(request)
        if user is None:
            return reply({"error": "unauthorized"}, 401)
        carts.get(user, {}).pop(int(request.path_params["pid"]), None)
        return reply({"ok": True})

    async def checkout(request: Request) -> Response:
        user = user_of(request)
        if user is None:
            return reply({"error": "unauthorized"}, 401)
        items = carts.pop(user, {})
        if not items:
            return reply({"error": "cart is empty"}, 409)
        order_id = next(order_ids)
        total = sum((100 + p) * q for p, q in items.items())
        orders[order_id] = {"order_id": order_id, "total_cents": total, "items": len(items)}
        return reply(orders[order_id], 201)

    async def order(request: Request) -> Response:
        found = orders.get(int(request.path_params["oid"]))
        return reply(found, 200) if found else reply({"error": "not found"}, 404)

    async def seen_headers(request: Request) -> Response:
        return JSONResponse({name: sorted(values) for name, values in log.seen.items()})

    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/__count", count),
            Route("/__headers", seen_headers),
            Route("/api/products", products),
            Route("/api/search", search),
            Route("/api/products/{pid:int}", product),
            Route("/api/login", login, methods=["POST"]),
            Route("/api/cart", cart),
            Route("/api/cart/items", add_item, methods=["POST"]),
            Route("/api/cart/items/{pid:int}", remove_item, methods=["DELETE"]),
            Route("/api/checkout", checkout, methods=["POST"]),
            Route("/api/orders/{oid:int}", order),
        ]
    )
    log = HeaderLog(app)
    return log


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--mode", choices=("ok", "bad-body", "503"), default="ok")
    args = parser.parse_args()
    uvicorn.run(make_app(args.mode), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
