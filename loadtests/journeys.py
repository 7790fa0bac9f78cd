"""The shop's Locust users: anonymous browsers and logged-in shoppers (the built-in journeys).

* :class:`Browser` (weight 7): catalog pages, search, product pages.
* :class:`Shopper` (weight 3): logs in once per user start, adds and removes cart items, checks out and looks
  the order up.

The fresh-connection probe (a new TCP connection per request) lives in :mod:`aftershock.loadtests.fresh`.

Every request uses ``catch_response=True``: a 200 with a wrong body is a failure (``"bad body: ..."``),
another status is ``"http <code>"``. Names are stable route names (``GET /api/products/{id}``). Users are
paced with ``constant_throughput`` (``--task-rate`` tasks per second per user; 0 = as fast as possible), so
the offered load does not depend on the service's state. Timeouts come from ``--connect-timeout`` and
``--response-timeout`` (seconds): a frozen service shows as failed, not slow.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Collection
from typing import Any

import orjson
from locust import User, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser

PRODUCT_IDS = (1, 3000)
SHOPPER_IDS = (1, 5000)
CATEGORIES = ("books", "games", "garden", "kitchen", "music", "sports", "toys", "tools")
SEARCH_WORDS = ("red", "blue", "lamp", "chair", "book", "pro", "mini", "set", "kit", "classic")

Validator = Callable[[Any], str | None]


def _option(user: User, name: str, default: float) -> float:
    value = getattr(user.environment.parsed_options, name, None)
    return float(default if value is None else value)


def _no_wait(user: User) -> float:
    return 0.0


def paced(user: User) -> float:
    """``constant_throughput(--task-rate)``; no wait when the rate is 0 (closed loop, for benchmarks). The rate is
    read once per user (its first wait): options do not change during a run."""
    try:
        pacer: Callable[[User], float] = user._aftershock_pacer  # type: ignore[attr-defined]
    except AttributeError:
        rate = _option(user, "task_rate", 2.0)
        pacer = constant_throughput(rate) if rate > 0 else _no_wait
        user._aftershock_pacer = pacer  # type: ignore[attr-defined]
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
            status = resp.status_code
            if not status:  # no response at all: Locust records the connection error itself
                return None
            if status not in expect:
                resp.failure(f"http {status}")
                self.on_status(status)
                return None
            if check is None:  # status is all that matters (e.g. 204 without a body)
                resp.success()
                return {}
            try:
                body = orjson.loads(resp.content or b"")  # ~10x json.loads on small bodies; stricter (no NaN)
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


# Two users logged in as the same shopper share one cart: one's checkout empties the other's (a 409 that is the
# workload's doing, not the service's). So the shoppers of a process are distinct (up to the 5000 seeded), from a
# random start so that the processes of a distributed load rarely meet.
_SHOPPER_SEQ = itertools.count(random.randrange(SHOPPER_IDS[1]))


def _next_shopper() -> int:
    low, high = SHOPPER_IDS
    return low + next(_SHOPPER_SEQ) % (high - low + 1)


class Shopper(ShopUser):
    """Logged-in buyer: login once, then cart adds/removes, checkouts and order look-ups."""

    weight = 3

    def on_start(self) -> None:
        self.token: str | None = None
        self.cart: list[int] = []
        self.login()

    def login(self) -> None:
        number = _next_shopper()
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
