"""The shop's Locust users: anonymous browsers, logged-in shoppers and a fresh-connection probe.

* :class:`Browser` (weight 7): catalog pages, search, product pages.
* :class:`Shopper` (weight 3): logs in once per user start, adds and removes cart items, checks out and looks
  the order up.
* :class:`FreshConnection` (exactly one user): a NEW TCP connection per request (``Connection: close``),
  reported as ``fresh:GET ...`` so keep-alive connections cannot hide a failover.

Every request uses ``catch_response=True``: a 200 with a wrong body is a failure (``"bad body: ..."``),
another status is ``"http <code>"``. Names are stable route names (``GET /api/products/{id}``). Users are
paced with ``constant_throughput`` (``--task-rate`` tasks per second per user; 0 = as fast as possible), so
the offered load does not depend on the service's state. Timeouts come from ``--connect-timeout`` and
``--response-timeout`` (seconds): a frozen service shows as failed, not slow.
"""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import urlsplit

from locust import User, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import CatchResponseError

PRODUCT_IDS = (1, 3000)
SHOPPER_IDS = (1, 5000)
CATEGORIES = ("books", "games", "garden", "kitchen", "music", "sports", "toys", "tools")
SEARCH_WORDS = ("red", "blue", "lamp", "chair", "book", "pro", "mini", "set", "kit", "classic")

Validator = Callable[[Any], str | None]


def _option(user: User, name: str, default: float) -> float:
    value = getattr(user.environment.parsed_options, name, None)
    return float(default if value is None else value)


def paced(user: User) -> float:
    """``constant_throughput(--task-rate)``; no wait when the rate is 0 (closed loop, for benchmarks)."""
    rate = _option(user, "task_rate", 2.0)
    if rate <= 0:
        return 0.0
    pacer = getattr(user, "_pacer", None)
    if pacer is None:
        pacer = constant_throughput(rate)
        user._pacer = pacer  # type: ignore[attr-defined]
    return float(pacer(user))


# -- body checks: None when fine, else what is wrong ------------------------------------------------------
def _is_product(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("id"), int) and isinstance(item.get("price_cents"), int)


def check_page(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list) or "total" not in body:
        return "catalog page without items/total"
    if not all(_is_product(item) for item in body["items"]):
        return "catalog item without id/price_cents"
    return None


def check_search(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list) or "query" not in body:
        return "search result without query/items"
    return None


def check_product(product_id: int) -> Validator:
    def check(body: Any) -> str | None:
        if not _is_product(body) or body["id"] != product_id:
            return f"product {product_id} missing or with another id"
        return None

    return check


def check_object(body: Any) -> str | None:
    return None if isinstance(body, dict) else "not a JSON object"


def check_login(body: Any) -> str | None:
    return None if isinstance(body, dict) and body.get("token") else "login without token"


def check_order(body: Any) -> str | None:
    if not isinstance(body, dict) or body.get("order_id") is None or not isinstance(body.get("total_cents"), int):
        return "order without order_id/total_cents"
    return None


class ShopUser(FastHttpUser):
    """Shared plumbing: short timeouts from the command line, and :meth:`call` with body validation."""

    abstract = True
    wait_time = paced
    max_retries = 0

    def __init__(self, environment: Any) -> None:
        options = environment.parsed_options
        self.connection_timeout = float(getattr(options, "connect_timeout", 2.0) or 2.0)
        self.network_timeout = float(getattr(options, "response_timeout", 5.0) or 5.0)
        super().__init__(environment)

    def call(
        self,
        method: str,
        path: str,
        name: str,
        *,
        expect: Collection[int] = (200,),
        check: Validator | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """One request; returns the parsed JSON body when it passed, else None (and it counts as failed)."""
        with self.client.request(method, path, name=name, json=json_body, headers=headers, catch_response=True) as resp:
            if not resp.status_code:  # no response at all: Locust records the connection error itself
                return None
            if resp.status_code not in expect:
                resp.failure(f"http {resp.status_code}")
                self.on_status(resp.status_code)
                return None
            if check is None:  # status is all that matters (e.g. 204 without a body)
                resp.success()
                return {}
            try:
                body = json.loads(resp.content or b"")
            except (ValueError, TypeError):
                resp.failure("bad body: not JSON")
                return None
            problem = check(body)
            if problem:
                resp.failure(f"bad body: {problem}")
                return None
            resp.success()
            return body

    def on_status(self, status: int) -> None:
        """Hook for an unexpected status (the shopper logs in again after a 401)."""


class Browser(ShopUser):
    """Anonymous visitor: catalog pages, searches and product pages."""

    weight = 7

    @task(3)
    def catalog(self) -> None:
        params = f"page={random.randint(1, 20)}&size=20"
        if random.random() < 0.5:
            params += f"&category={random.choice(CATEGORIES)}"
        self.call("GET", f"/api/products?{params}", "GET /api/products", check=check_page)

    @task(2)
    def search(self) -> None:
        word = random.choice(SEARCH_WORDS)
        self.call("GET", f"/api/search?q={word}&limit=10", "GET /api/search", check=check_search)

    @task(5)
    def product(self) -> None:
        product_id = random.randint(*PRODUCT_IDS)
        self.call("GET", f"/api/products/{product_id}", "GET /api/products/{id}", check=check_product(product_id))


class Shopper(ShopUser):
    """Logged-in buyer: login once, then cart adds/removes, checkouts and order look-ups."""

    weight = 3

    def on_start(self) -> None:
        self.token: str | None = None
        self.cart: list[int] = []
        self.login()

    def login(self) -> None:
        number = random.randint(*SHOPPER_IDS)
        body = self.call(
            "POST",
            "/api/login",
            "POST /api/login",
            json_body={"username": f"shopper-{number}", "password": f"pw-{number}"},
            check=check_login,
        )
        self.token = body["token"] if body else None

    def on_status(self, status: int) -> None:
        if status == 401:
            self.token = None  # e.g. a restarted service forgot the session: log in again next time

    def _auth(self) -> dict[str, str] | None:
        if self.token is None:
            self.login()
        return {"Authorization": f"Bearer {self.token}"} if self.token else None

    @task(4)
    def add_to_cart(self) -> None:
        headers = self._auth()
        if headers is None:
            return
        product_id = random.randint(*PRODUCT_IDS)
        body = self.call(
            "POST",
            "/api/cart/items",
            "POST /api/cart/items",
            json_body={"product_id": product_id, "quantity": random.randint(1, 3)},
            expect=(200, 201),
            check=check_object,
            headers=headers,
        )
        if body is not None:
            self.cart.append(product_id)

    @task(2)
    def view_cart(self) -> None:
        headers = self._auth()
        if headers is not None:
            self.call("GET", "/api/cart", "GET /api/cart", check=check_object, headers=headers)

    @task(1)
    def remove_from_cart(self) -> None:
        headers = self._auth()
        if headers is None or not self.cart:
            return
        product_id = self.cart.pop(random.randrange(len(self.cart)))
        self.call(
            "DELETE",
            f"/api/cart/items/{product_id}",
            "DELETE /api/cart/items/{product_id}",
            expect=(200, 204),
            headers=headers,
        )

    @task(1)
    def checkout(self) -> None:
        headers = self._auth()
        if headers is None:
            return
        if not self.cart:
            self.add_to_cart()
            return
        order = self.call(
            "POST", "/api/checkout", "POST /api/checkout", expect=(201,), check=check_order, headers=headers
        )
        self.cart.clear()  # a failed checkout may or may not have emptied the cart: start over either way
        if order is not None:
            self.call("GET", f"/api/orders/{order['order_id']}", "GET /api/orders/{id}", check=check_object,
                      headers=headers)  # fmt: skip


# -- the fresh-connection probe ---------------------------------------------------------------------------
class FreshResponse:
    """Status and body of one request over its own connection."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while True:
        line, _, rest = data.partition(b"\r\n")
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out)
        out += rest[:size]
        data = rest[size + 2 :]


def fresh_get(url: str, path: str, *, connect_timeout: float, response_timeout: float) -> FreshResponse:
    """GET over a brand-new TCP connection (``Connection: close``), read to EOF. Raises OSError/TimeoutError."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if parts.scheme == "https":
        raise ValueError("the fresh-connection probe speaks plain HTTP only")
    sock = socket.create_connection((host, port), timeout=connect_timeout)
    try:
        sock.settimeout(response_timeout)
        request = (f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
                   "Accept: application/json\r\nUser-Agent: aftershock-fresh-connection\r\n\r\n")
        sock.sendall(request.encode("latin-1"))
        chunks = []
        deadline = time.monotonic() + response_timeout
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError("response took longer than --response-timeout")
    finally:
        sock.close()
    raw = b"".join(chunks)
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ConnectionAbortedError("connection closed before a complete response head")
    lines = head.decode("latin-1").split("\r\n")
    status_parts = lines[0].split(" ", 2)
    if len(status_parts) < 2 or not status_parts[1].isdigit():
        raise ConnectionAbortedError(f"bad status line {lines[0][:40]!r}")
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    return FreshResponse(int(status_parts[1]), headers, body)


class FreshFailure(CatchResponseError):
    """A fresh-connection request that got an answer, but the wrong one (``http 503``, ``bad body: ...``)."""


class FreshConnection(User):
    """One user opening a new connection per request: GET /health and a product page, alternately."""

    fixed_count = 1

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        options = environment.parsed_options
        self.connect_timeout = float(getattr(options, "connect_timeout", 2.0) or 2.0)
        self.response_timeout = float(getattr(options, "response_timeout", 5.0) or 5.0)
        self._pacer = constant_throughput(float(getattr(options, "fresh_rate", 20.0) or 20.0))
        self._turn = 0

    def wait_time(self) -> float:
        """``--fresh-rate`` requests per second, whatever the service does."""
        return float(self._pacer(self))

    def _probe(self, path: str, name: str, check: Validator | None) -> None:
        start = time.time()
        started = time.perf_counter()
        exception: BaseException | None = None
        length = 0
        try:
            resp = fresh_get(
                self.host or "", path, connect_timeout=self.connect_timeout, response_timeout=self.response_timeout
            )
            length = len(resp.body)
            if resp.status != 200:
                exception = FreshFailure(f"http {resp.status}")
            elif check is not None:
                try:
                    problem = check(json.loads(resp.body or b""))
                except ValueError:
                    problem = "not JSON"
                if problem:
                    exception = FreshFailure(f"bad body: {problem}")
        except (OSError, ValueError) as exc:
            exception = exc
        self.environment.events.request.fire(
            request_type="GET",
            name=name,
            response_time=(time.perf_counter() - started) * 1000.0,
            response_length=length,
            exception=exception,
            context={},
            start_time=start,
            url=path,
            response=None,
        )

    @task
    def probe(self) -> None:
        """GET /health and a product page, alternately."""
        self._turn += 1
        if self._turn % 2:
            self._probe("/health", "fresh:GET /health", None)
        else:
            product_id = random.randint(*PRODUCT_IDS)
            self._probe(f"/api/products/{product_id}", "fresh:GET /api/products/{id}", check_product(product_id))
