"""The shop's cart in the region's DynamoDB table (``SHOP_CART_STORE=dynamodb``, as the lab runs its pods): the
real app in-process, real PostgreSQL for prices and orders, the AWS stand-ins (real processes) for the table.
The PostgreSQL cart's own API test runs here again against the table: same answers, same errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.lab.conftest_shop import (  # noqa: F401  (fixtures)
    PostgresServer,
    concurrent_checkouts,
    login,
    pg_password,
    run_with_client,
    seeded_pg,
    shop_settings,
)
from tests.lab.test_shop_api import test_cart_checkout_and_orders as test_table_cart_checkout_and_orders  # noqa: F401


@pytest.fixture(scope="module")
def standins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    log_dir = tmp_path_factory.mktemp("aws")
    proc = subprocess.Popen([sys.executable, "-m", "aftershock.lab.standins", "--log-dir", str(log_dir)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        info = json.loads(proc.stdout.readline())
        yield {"stores_file": str(log_dir / "stores.json"), "east": info["endpoints"]["us-east-1"]}
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
        proc.stdout.close()


@pytest.fixture(autouse=True)
def table_cart(standins: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_CART_STORE", "dynamodb")
    monkeypatch.setenv("SHOP_STORES_FILE", standins["stores_file"])


def _table_cart(endpoint: str, user_id: int) -> dict[str, object]:
    reply = httpx.post(endpoint + "/", content=json.dumps({"TableName": "shop-carts", "Key": {
        "pk": {"S": f"cart#{user_id}"}}, "ConsistentRead": True}), headers={
        "X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/dynamodb/aws4_request, Signature=0"})
    item: dict[str, object] = reply.json().get("Item", {})
    return item


def test_the_cart_is_in_the_table_not_in_postgres(seeded_pg: PostgresServer,  # noqa: F811
                                                  standins: dict[str, str]) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        auth = await login(client, 15)
        await client.post("/api/cart/items", headers=auth, json={"product_id": 4, "quantity": 2})

    run_with_client(shop_settings(seeded_pg), scenario)
    assert _table_cart(standins["east"], 15) == {"pk": {"S": "cart#15"}, "p4": {"N": "2"}}
    with psycopg.connect(seeded_pg.conninfo) as conn:
        assert conn.execute("SELECT count(*) FROM cart_items WHERE user_id = 15").fetchone() == (0,)


def test_concurrent_checkouts_of_one_table_cart_make_one_order(seeded_pg: PostgresServer) -> None:  # noqa: F811
    assert concurrent_checkouts(shop_settings(seeded_pg), 14, rounds=2) == [[201] + [409] * 7] * 2
    with psycopg.connect(seeded_pg.conninfo) as conn:
        rows = conn.execute("SELECT count(DISTINCT o.id), count(*) FROM orders o JOIN order_items i"
                            " ON i.order_id = o.id WHERE o.user_id = 14").fetchone()
    assert rows == (2, 6)


def test_a_table_that_does_not_answer_is_a_503_naming_it(seeded_pg: PostgresServer, tmp_path: Path,  # noqa: F811
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    stores = tmp_path / "stores.json"
    stores.write_text(json.dumps({"us-east-1": {"endpoint": "http://127.0.0.1:9", "table": "shop-carts",
                                                "bucket": "b"}}))
    monkeypatch.setenv("SHOP_STORES_FILE", str(stores))

    async def scenario(client: httpx.AsyncClient) -> None:
        auth = await login(client, 16)
        response = await client.get("/api/cart", headers=auth)
        assert response.status_code == 503, response.text
        assert response.json()["error"].startswith("the us-east-1 cart table shop-carts is unavailable")
        assert (await client.get("/api/products/1")).status_code == 200  # the rest of the shop still works

    run_with_client(shop_settings(seeded_pg), scenario)
