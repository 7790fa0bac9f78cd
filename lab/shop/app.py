"""The shop pod's HTTP API: :func:`create_app` builds the Starlette app for one pod.

Reads (catalogue, search, product, login) go to the reader endpoint; the cart, checkout and order lookups
go to the writer so a client always reads its own writes. Database trouble is a fast 503 JSON error.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import resource
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import orjson
import psycopg.errors
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aftershock.core.errors import AftershockError
from aftershock.lab.shop import assets, carts, identity, queries, tokens
from aftershock.lab.shop.db import Database, DatabaseUnavailable
from aftershock.lab.shop.schema import password_hash
from aftershock.lab.shop.settings import Settings

_MAX_BIGINT = 2**63 - 1
_MAX_QUANTITY = 999  # per cart line, as the table's CHECK says


@dataclass
class PodState:
    """The pod's mutable runtime state (kept on ``app.state.pod``)."""

    started_at: float = field(default_factory=time.time)
    ready: bool = False  # a reader query worked since start
    draining: bool = False  # SIGTERM received or shutting down
    requests_total: int = 0  # /api/ requests only (what the autoscaler's req/s is about)
    errors_total: int = 0  # /api/ responses with status >= 500
    inflight: int = 0  # /api/ requests being served

    def begin_drain(self) -> None:
        """Report unready from now on (the load balancer stops sending new traffic)."""
        self.draining = True


class ApiError(AftershockError):
    """A client-facing error of the shop pod: ``status`` and a human-readable message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response rendered by orjson (several times faster than the standard library)."""
    return Response(orjson.dumps(content), status, headers, media_type="application/json")


class PodMiddleware:
    """Labels every response with the pod's identity and counts API requests for /metrics.

    Pure ASGI rather than BaseHTTPMiddleware, which costs an extra task per request.
    """

    def __init__(self, app: ASGIApp, state: PodState, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.state = state
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state, identity = self.state, self.headers
        # Only application traffic counts: probes and metric scrapes would skew the autoscaler's req/s.
        counted = scope["type"] == "http" and scope["path"].startswith("/api/")

        async def labelled_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *identity]
                if counted and message["status"] >= 500:
                    state.errors_total += 1
            await send(message)

        if not counted:
            await self.app(scope, receive, labelled_send)
            return
        state.requests_total += 1
        state.inflight += 1
        try:
            await self.app(scope, receive, labelled_send)
        finally:
            state.inflight -= 1


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _identity(request: Request) -> dict[str, str]:
    s = _settings(request)
    return {"pod": s.name, "region": s.region, "az": s.az}


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ApiError(422, f"{name} must be an integer from {low} to {high}")
    return int(raw)


def _path_id(request: Request, name: str, what: str) -> int:
    raw = request.path_params[name]
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= _MAX_BIGINT:
        raise ApiError(404, f"{what} not found")
    return int(raw)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ApiError(400, "request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def _user_id(request: Request) -> int:
    user_id = tokens.from_header(_settings(request).token_key, request.headers.get("authorization"))
    if user_id is None:
        raise ApiError(401, "missing, invalid or expired bearer token")
    return user_id


def _strict_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


# --- probes -------------------------------------------------------------------------------------------


async def health(request: Request) -> Response:
    return json_response({"status": "ok", **_identity(request)})


async def ready(request: Request) -> Response:
    pod: PodState = request.app.state.pod
    if pod.draining:
        return json_response({"status": "draining", **_identity(request)}, 503)
    if not pod.ready:
        return json_response({"status": "starting", **_identity(request)}, 503)
    return json_response({"status": "ready", **_identity(request)})


async def metrics(request: Request) -> Response:
    pod: PodState = request.app.state.pod
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return json_response(
        {
            **_identity(request),
            "requests_total": pod.requests_total,
            "errors_total": pod.errors_total,
            "inflight": pod.inflight,
            "started_at": pod.started_at,
            "uptime_s": round(time.time() - pod.started_at, 3),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
            "ready": pod.ready and not pod.draining,
        }
    )


# --- catalogue (reader) -------------------------------------------------------------------------------


async def list_products(request: Request) -> Response:
    page = _int_param(request, "page", 1, 1, 100_000)
    size = _int_param(request, "size", 20, 1, 100)
    category = request.query_params.get("category") or None
    items, total = await _db(request).read(lambda c: queries.list_products(c, page, size, category))
    return json_response({"items": items, "page": page, "size": size, "total": total})


async def search(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()
    if not 1 <= len(query) <= 100:
        raise ApiError(422, "q must be 1 to 100 characters")
    limit = _int_param(request, "limit", 20, 1, 100)
    items = await _db(request).read(lambda c: queries.search_products(c, query, limit))
    return json_response({"query": query, "items": items})


async def product(request: Request) -> Response:
    product_id = _path_id(request, "product_id", "product")
    found = await _db(request).read(lambda c: queries.get_product(c, product_id))
    if found is None:
        raise ApiError(404, "product not found")
    return json_response(found)


async def login(request: Request) -> Response:
    body = await _json_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or len(username) > 100:
        raise ApiError(422, "username and password (strings) are required")
    user = await _db(request).read(lambda c: queries.find_user(c, username))
    # Compare even for an unknown user so both failures take the same time.
    matches = hmac.compare_digest(user[1] if user else "0" * 64, password_hash(username, password))
    if user is None or not matches:
        raise ApiError(401, "invalid username or password")
    settings = _settings(request)
    token = tokens.issue(settings.token_key, user[0], settings.token_ttl_s)
    return json_response({"token": token, "user_id": user[0], "expires_in": settings.token_ttl_s})


# --- cart, checkout, orders (writer) ------------------------------------------------------------------


async def get_cart(request: Request) -> Response:
    user_id = _user_id(request)
    return json_response(await _db(request).read_writer(lambda c: queries.cart(c, user_id)))


async def add_cart_item(request: Request) -> Response:
    user_id = _user_id(request)
    body = await _json_body(request)
    product_id, quantity = body.get("product_id"), body.get("quantity", 1)
    if not _strict_int(product_id) or not 1 <= product_id <= _MAX_BIGINT:
        raise ApiError(422, "product_id must be a positive integer")
    if not _strict_int(quantity) or not 1 <= quantity <= _MAX_QUANTITY:
        raise ApiError(422, f"quantity must be an integer from 1 to {_MAX_QUANTITY}")
    try:
        cart = await _db(request).write(lambda c: queries.add_to_cart(c, user_id, product_id, quantity))
    except psycopg.errors.CheckViolation:
        raise ApiError(422, f"a cart line cannot exceed {_MAX_QUANTITY} items") from None
    except psycopg.errors.ForeignKeyViolation:
        raise ApiError(401, "unknown user") from None
    if cart is None:
        raise ApiError(404, "product not found")
    return json_response(cart)


async def remove_cart_item(request: Request) -> Response:
    user_id = _user_id(request)
    product_id = _path_id(request, "product_id", "product")
    cart = await _db(request).write(lambda c: queries.remove_from_cart(c, user_id, product_id))
    return json_response(cart)


async def checkout(request: Request) -> Response:
    user_id = _user_id(request)
    order = await _db(request).write(lambda c: queries.checkout(c, user_id))
    if order is None:
        raise ApiError(409, "cart is empty")
    return json_response(order, 201)


async def get_order(request: Request) -> Response:
    user_id = _user_id(request)
    order_id = _path_id(request, "order_id", "order")
    order = await _db(request).read_writer(lambda c: queries.get_order(c, user_id, order_id))
    if order is None:
        raise ApiError(404, "order not found")
    return json_response(order)


ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/ready", ready, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/api/products", list_products, methods=["GET"]),
    Route("/api/search", search, methods=["GET"]),
    Route("/api/products/{product_id}", product, methods=["GET"]),
    Route("/api/login", login, methods=["POST"]),
    Route("/api/cart", get_cart, methods=["GET"]),
    Route("/api/cart/items", add_cart_item, methods=["POST"]),
    Route("/api/cart/items/{product_id}", remove_cart_item, methods=["DELETE"]),
    Route("/api/checkout", checkout, methods=["POST"]),
    Route("/api/orders/{order_id}", get_order, methods=["GET"]),
    *identity.ROUTES,  # sign-up / sign-in against the region's user pool
    *assets.ROUTES,  # static assets and product images from the region's bucket
]



def _routes() -> list[Route]:
    """The cart in the region's DynamoDB table when the lab says so (``SHOP_CART_STORE=dynamodb``, as the seeds
    keep it), else in PostgreSQL."""
    if os.environ.get("SHOP_CART_STORE") != "dynamodb":
        return ROUTES
    table = carts.table_routes(_user_id, _json_body)
    return [*table, *(r for r in ROUTES if r.path not in {t.path for t in table})]


# --- errors and lifecycle -----------------------------------------------------------------------------


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response({"error": exc.message}, exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return json_response({"error": exc.detail.lower()}, exc.status_code, dict(exc.headers or {}))


async def _db_unavailable(request: Request, exc: Exception) -> Response:
    return json_response({"error": "database unavailable"}, 503)


async def _become_ready(db: Database, pod: PodState) -> None:
    """Ready once one trivial reader query worked; keep trying until it does."""
    while not pod.ready:
        try:
            await db.read(lambda c: c.execute("SELECT 1"))
        except DatabaseUnavailable:
            await asyncio.sleep(0.2)
        else:
            pod.ready = True


def create_app(settings: Settings) -> Starlette:
    """The Starlette app of one pod; its lifespan opens the pools and closes them on shutdown."""
    pod = PodState()
    identity = {"X-Pod": settings.name, "X-Region": settings.region, "X-AZ": settings.az}
    raw_identity = [(k.lower().encode(), v.encode()) for k, v in identity.items()]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings)
        app.state.db = db
        await db.open()
        warmup = asyncio.ensure_future(_become_ready(db, pod))
        try:
            yield
        finally:
            pod.begin_drain()
            warmup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warmup
            await db.close()
            for store in ("cart_table", "assets_bucket"):  # their stand-in connections are kept open (keep-alive)
                if (client := getattr(app.state, store, None)) is not None:
                    await client.http.aclose()

    async def server_error(request: Request, exc: Exception) -> Response:
        # Runs outside PodMiddleware (Starlette's outermost layer), so label the response here.
        return json_response({"error": "internal server error"}, 500, identity)

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        ApiError: _api_error,
        HTTPException: _http_error,
        DatabaseUnavailable: _db_unavailable,
        Exception: server_error,
    }
    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(PodMiddleware, state=pod, headers=raw_identity)],
        exception_handlers=handlers,
        lifespan=lifespan,
        max_body_size=64 * 1024,
    )
    app.state.settings = settings
    app.state.pod = pod
    return app
