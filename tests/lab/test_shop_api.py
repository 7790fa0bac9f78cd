"""Every endpoint of the real app (in-process over ASGI, real PostgreSQL): happy paths and errors."""

from __future__ import annotations

import asyncio
import time

import httpx
import psycopg
import pytest

from aftershock.lab.ports import free_port
from aftershock.lab.shop import tokens
from aftershock.lab.shop.app import create_app
from aftershock.lab.shop.schema import product_row
from tests.lab.conftest_shop import (  # noqa: F401  (fixtures)
    TOKEN_KEY,
    PostgresServer,
    concurrent_checkouts,
    login,
    pg_password,
    run_with_client,
    seeded_pg,
    shop_settings,
)

IDENTITY = {"x-pod": "shop-test-pod", "x-region": "us-east-1", "x-az": "us-east-1a"}


def _labelled(response: httpx.Response) -> bool:
    return all(response.headers.get(k) == v for k, v in IDENTITY.items())


def test_probes_and_metrics(seeded_pg: PostgresServer) -> None:  # noqa: F811
    async def scenario(client: httpx.AsyncClient) -> None:
        health = await client.get("/health")
        assert health.status_code == 200 and _labelled(health)
        assert health.json() == {"status": "ok", "pod": "shop-test-pod", "region": "us-east-1", "az": "us-east-1a"}
        ready = await client.get("/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "ready" and _labelled(ready)

        before = (await client.get("/metrics")).json()
        for _ in range(3):
            await client.get("/api/products/1")
        await client.get("/health")  # probes are not application traffic
        after = await client.get("/metrics")
        assert _labelled(after)
        body = after.json()
        assert body["requests_total"] - before["requests_total"] == 3
        assert body["inflight"] == 0 and body["pod"] == "shop-test-pod" and body["ready"] is True
        assert body["started_at"] <= time.time() and body["cpu_seconds"] > 0

    run_with_client(shop_settings(seeded_pg), scenario)


def test_catalogue(seeded_pg: PostgresServer) -> None:  # noqa: F811
    async def scenario(client: httpx.AsyncClient) -> None:
        page = await client.get("/api/products")
        assert page.status_code == 200 and _labelled(page)
        body = page.json()
        assert (body["page"], body["size"], body["total"]) == (1, 20, 300)
        assert [item["id"] for item in body["items"]] == list(range(1, 21))
        assert set(body["items"][0]) == {"id", "sku", "name", "category", "price_cents"}

        body = (await client.get("/api/products", params={"page": 3, "size": 7, "category": "garden"})).json()
        assert body["total"] == 25  # 300 products over 12 categories
        assert len(body["items"]) == 7 and all(item["category"] == "garden" for item in body["items"])
        assert body["items"][0]["id"] == 4 + 12 * 14  # garden is every 12th product from id 4

        assert (await client.get("/api/products", params={"page": 999})).json()["items"] == []
        unknown = (await client.get("/api/products", params={"category": "nope"})).json()
        assert (unknown["items"], unknown["total"]) == ([], 0)
        for bad in ({"page": 0}, {"size": 101}, {"size": "ten"}, {"page": "-1"}):
            response = await client.get("/api/products", params=bad)
            assert response.status_code == 422 and "error" in response.json() and _labelled(response)

        one = await client.get("/api/products/7")
        assert one.status_code == 200 and _labelled(one)
        expected = dict(
            zip(("id", "sku", "name", "description", "category", "price_cents", "stock"), product_row(7), strict=True)
        )
        assert one.json() == expected
        for missing in ("/api/products/301", "/api/products/abc", "/api/products/0", f"/api/products/{2**64}"):
            response = await client.get(missing)
            assert response.status_code == 404 and response.json() == {"error": "product not found"}

    run_with_client(shop_settings(seeded_pg), scenario)


def test_search(seeded_pg: PostgresServer) -> None:  # noqa: F811
    async def scenario(client: httpx.AsyncClient) -> None:
        found = await client.get("/api/search", params={"q": "LAMP", "limit": 5})
        assert found.status_code == 200 and _labelled(found)
        body = found.json()
        assert body["query"] == "LAMP" and len(body["items"]) == 5
        assert all("lamp" in item["name"].lower() for item in body["items"])
        ids = [item["id"] for item in body["items"]]
        assert ids == sorted(ids)
        assert (await client.get("/api/search", params={"q": "Classic Oak Lamp 1"})).json()["items"][0]["id"] == 1
        # LIKE wildcards in the query are literal characters, not patterns.
        assert (await client.get("/api/search", params={"q": "%"})).json()["items"] == []
        assert (await client.get("/api/search", params={"q": "_"})).json()["items"] == []
        bad_params: list[dict[str, str | int]] = [{}, {"q": "  "}, {"q": "x" * 101}, {"q": "lamp", "limit": 0}]
        for bad in bad_params:
            response = await client.get("/api/search", params=bad)
            assert response.status_code == 422 and "error" in response.json()

    run_with_client(shop_settings(seeded_pg), scenario)


def test_login(seeded_pg: PostgresServer) -> None:  # noqa: F811
    async def scenario(client: httpx.AsyncClient) -> None:
        ok = await client.post("/api/login", json={"username": "shopper-42", "password": "pw-42"})
        assert ok.status_code == 200 and _labelled(ok)
        assert ok.json()["user_id"] == 42
        assert tokens.verify(TOKEN_KEY, ok.json()["token"]) == 42
        for creds in ({"username": "shopper-42", "password": "pw-43"}, {"username": "nobody", "password": "pw-1"}):
            response = await client.post("/api/login", json=creds)
            assert response.status_code == 401 and response.json() == {"error": "invalid username or password"}
        response = await client.post("/api/login", json={"username": "shopper-42"})
        assert response.status_code == 422
        response = await client.post("/api/login", content=b"not json")
        assert response.status_code == 400 and response.json()["error"]
        response = await client.post("/api/login", json=["shopper-1", "pw-1"])
        assert response.status_code == 400
        response = await client.get("/api/login")
        assert response.status_code == 405 and "error" in response.json() and _labelled(response)

    run_with_client(shop_settings(seeded_pg), scenario)


def test_auth_is_required_and_checked(seeded_pg: PostgresServer) -> None:  # noqa: F811
    forged = tokens.issue(b"some other key", 5, 60)
    expired = tokens.issue(TOKEN_KEY, 5, 60, now=time.time() - 3600)

    async def scenario(client: httpx.AsyncClient) -> None:
        calls = [
            ("GET", "/api/cart"),
            ("POST", "/api/cart/items"),
            ("DELETE", "/api/cart/items/1"),
            ("POST", "/api/checkout"),
            ("GET", "/api/orders/1"),
        ]
        for headers in ({}, {"Authorization": f"Bearer {forged}"}, {"Authorization": f"Bearer {expired}"}):
            for method, path in calls:
                response = await client.request(method, path, headers=headers, json={"product_id": 1, "quantity": 1})
                assert response.status_code == 401, (method, path, headers)
                assert "error" in response.json() and _labelled(response)

    run_with_client(shop_settings(seeded_pg), scenario)


def test_cart_checkout_and_orders(seeded_pg: PostgresServer) -> None:  # noqa: F811
    price = {n: product_row(n)[5] for n in (3, 9)}

    async def scenario(client: httpx.AsyncClient) -> None:
        auth, other = await login(client, 10), await login(client, 11)
        empty = await client.get("/api/cart", headers=auth)
        assert empty.status_code == 200 and empty.json() == {"items": [], "total_cents": 0} and _labelled(empty)
        response = await client.post("/api/checkout", headers=auth)
        assert response.status_code == 409 and response.json() == {"error": "cart is empty"}

        await client.post("/api/cart/items", headers=auth, json={"product_id": 9, "quantity": 1})
        await client.post("/api/cart/items", headers=auth, json={"product_id": 3, "quantity": 2})
        cart = await client.post("/api/cart/items", headers=auth, json={"product_id": 3, "quantity": 1})
        assert cart.status_code == 200
        assert cart.json() == {
            "items": [
                {"product_id": 3, "quantity": 3, "price_cents": price[3]},
                {"product_id": 9, "quantity": 1, "price_cents": price[9]},
            ],
            "total_cents": 3 * price[3] + price[9],
        }
        # Errors leave the cart alone.
        response = await client.post("/api/cart/items", headers=auth, json={"product_id": 100_000, "quantity": 1})
        assert response.status_code == 404 and response.json() == {"error": "product not found"}
        for bad in (
            {"product_id": 3, "quantity": 0},
            {"product_id": 3, "quantity": -2},
            {"product_id": 3, "quantity": "2"},
            {"product_id": 3, "quantity": True},
            {"product_id": 3, "quantity": 1000},
            {"product_id": "3", "quantity": 1},
            {"quantity": 1},
            {"product_id": 3, "quantity": 997},  # 3 + 997 would pass the per-line limit of 999
        ):
            response = await client.post("/api/cart/items", headers=auth, json=bad)
            assert response.status_code == 422, bad
            assert "error" in response.json()
        assert (await client.get("/api/cart", headers=other)).json()["items"] == []  # carts are per user

        removed = await client.delete("/api/cart/items/9", headers=auth)
        assert removed.status_code == 200 and [i["product_id"] for i in removed.json()["items"]] == [3]
        assert (await client.delete("/api/cart/items/9", headers=auth)).status_code == 200  # idempotent
        await client.post("/api/cart/items", headers=auth, json={"product_id": 9, "quantity": 2})

        placed = await client.post("/api/checkout", headers=auth)
        assert placed.status_code == 201 and _labelled(placed)
        order = placed.json()
        assert order["total_cents"] == 3 * price[3] + 2 * price[9]
        assert [(i["product_id"], i["quantity"]) for i in order["items"]] == [(3, 3), (9, 2)]
        assert (await client.get("/api/cart", headers=auth)).json() == {"items": [], "total_cents": 0}

        fetched = await client.get(f"/api/orders/{order['order_id']}", headers=auth)
        assert fetched.status_code == 200 and fetched.json() == order
        for headers, path in (
            (other, f"/api/orders/{order['order_id']}"),  # somebody else's order
            (auth, "/api/orders/999999"),
            (auth, "/api/orders/x"),
        ):
            response = await client.get(path, headers=headers)
            assert response.status_code == 404 and response.json() == {"error": "order not found"}

    run_with_client(shop_settings(seeded_pg), scenario)


def test_concurrent_checkouts_of_one_cart_make_one_order(seeded_pg: PostgresServer) -> None:  # noqa: F811
    assert concurrent_checkouts(shop_settings(seeded_pg), 12, rounds=3) == [[201] + [409] * 7] * 3

    # The database agrees: three orders (one per round), no duplicate lines.
    with psycopg.connect(seeded_pg.conninfo) as conn:
        rows = conn.execute(
            "SELECT count(DISTINCT o.id), count(*) FROM orders o JOIN order_items i ON i.order_id = o.id"
            " WHERE o.user_id = 12"
        ).fetchone()
    assert rows == (3, 9)


def test_unknown_routes_are_json(seeded_pg: PostgresServer) -> None:  # noqa: F811
    async def scenario(client: httpx.AsyncClient) -> None:
        response = await client.get("/nope")
        assert response.status_code == 404 and response.json() == {"error": "not found"} and _labelled(response)
        response = await client.delete("/api/products/1")
        assert response.status_code == 405 and _labelled(response)

    run_with_client(shop_settings(seeded_pg), scenario)


@pytest.mark.parametrize("what", ["reader", "writer"])
def test_database_down_is_a_fast_503(seeded_pg: PostgresServer, what: str) -> None:  # noqa: F811
    """One endpoint points at a port nobody listens on: its requests fail fast, the others still work."""
    dead = f"host=127.0.0.1 port={free_port()} dbname=shop user=shop"

    async def scenario(client: httpx.AsyncClient) -> None:
        auth = await login(client, 13) if what == "writer" else {}
        path = "/api/cart" if what == "writer" else "/api/products/1"
        started = time.monotonic()
        response = await client.get(path, headers=auth)
        assert time.monotonic() - started < 4.5  # the 2 s pool timeout, plus a busy host
        assert response.status_code == 503 and response.json() == {"error": "database unavailable"}
        assert _labelled(response)
        metrics = (await client.get("/metrics")).json()
        assert metrics["errors_total"] >= 1
        assert (await client.get("/health")).status_code == 200

    settings = shop_settings(seeded_pg, **{what: dead})
    if what == "reader":
        # Never ready without a reader: check readiness and the fast failure without waiting for it.
        async def not_ready() -> None:
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://pod") as client:
                    response = await client.get("/ready")
                    assert response.status_code == 503 and response.json()["status"] == "starting"
                    await scenario(client)

        asyncio.run(not_ready())
    else:
        run_with_client(settings, scenario)
