"""The lab's AWS stand-ins end to end: started with the lab, described in its target, paused and resumed through
the control API (the lab driver's revert), and the global failover losing the region's unreplicated items."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
import yaml
from botocore.config import Config

from aftershock.core.target import parse_target
from aftershock.faults.lab_driver import LabDriver
from aftershock.lab.standins.seed import product_image
from tests.labkit import RunningLab

EAST, WEST = "us-east-1", "us-west-2"


def _table(endpoint: str, region: str) -> Any:
    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint, aws_access_key_id="k",
                        aws_secret_access_key="s", config=Config(retries={"total_max_attempts": 1}))


def _bucket(endpoint: str, region: str) -> Any:
    return boto3.client("s3", region_name=region, endpoint_url=endpoint, aws_access_key_id="k",
                        aws_secret_access_key="s", config=Config(s3={"addressing_style": "path"}))


def _wait_for_item(table: Any, key: str) -> None:
    deadline = time.monotonic() + 10
    while "Item" not in table.get_item(TableName="shop-carts", Key={"pk": {"S": key}}, ConsistentRead=True):
        assert time.monotonic() < deadline, f"{key} was not replicated"
        time.sleep(0.05)


@pytest.fixture
def shop(lab: RunningLab) -> Iterator[httpx.Client]:
    """A client of the shop through the lab's front door."""
    target = parse_target(yaml.safe_load((lab.lab_dir / "target.yaml").read_text()), "target.yaml")
    with httpx.Client(base_url=target.front_door.url, timeout=5.0) as client:
        yield client


def test_the_lab_serves_its_stores_and_loses_unreplicated_items_with_the_region(lab: RunningLab,
                                                                                shop: httpx.Client) -> None:
    status = lab.status()
    endpoints = status["aws"]["endpoints"]
    target = parse_target(yaml.safe_load((lab.lab_dir / "target.yaml").read_text()), "target.yaml")
    assert target.data_stores is not None and target.data_stores.endpoints == endpoints
    assert target.data_stores.table == "shop-carts" and target.data_stores.buckets[WEST] == "shop-assets-us-west-2"
    east, west = _table(endpoints[EAST], EAST), _table(endpoints[WEST], WEST)
    logo = shop.get("/assets/logo.svg")  # through the front door, a pod of the primary, its region's bucket
    assert logo.status_code == 200 and logo.headers["x-region"] == EAST and logo.content.startswith(b"<svg"), logo
    assert logo.headers["content-type"] == "image/svg+xml"
    assert shop.get("/api/products/7/image").content == product_image(7)
    assert shop.get("/api/products/999999/image").status_code == 404  # only the first 100 products have one
    # the cart lives in the region's table: replicated to the secondary, checked out into PostgreSQL
    login = shop.post("/api/login", json={"username": "shopper-3", "password": "pw-3"}).json()
    auth = {"Authorization": f"Bearer {login['token']}"}
    user = login["user_id"]
    for product in (5, 6, 5):
        added = shop.post("/api/cart/items", json={"product_id": product, "quantity": 2}, headers=auth)
        assert added.status_code == 200 and added.headers["x-region"] == EAST, added
    assert [(i["product_id"], i["quantity"]) for i in added.json()["items"]] == [(5, 4), (6, 2)]
    order = shop.post("/api/checkout", headers=auth)
    assert order.status_code == 201 and [i["quantity"] for i in order.json()["items"]] == [4, 2], order
    assert shop.get("/api/cart", headers=auth).json() == {"items": [], "total_cents": 0}
    assert shop.post("/api/cart/items", json={"product_id": 8}, headers=auth).status_code == 200
    _wait_for_item(west, f"cart#{user}")  # replicated: the secondary's pods will find it

    with LabDriver(target) as driver:
        paused = driver.pause_data_replication("dynamodb", "")
        assert [c.method for c in paused.reverts] == ["resume_data_replication"]
        east.put_item(TableName="shop-carts", Item={"pk": {"S": "cart#e2e-kept"}})
        time.sleep(0.3)
        assert "Item" not in west.get_item(TableName="shop-carts", Key={"pk": {"S": "cart#e2e-kept"}})
        driver.resume_data_replication(**paused.reverts[0].args)
        deadline = time.monotonic() + 10
        while "Item" not in west.get_item(TableName="shop-carts", Key={"pk": {"S": "cart#e2e-kept"}}):
            assert time.monotonic() < deadline, "the backlog did not drain after the resume"
            time.sleep(0.05)

        driver.pause_data_replication("dynamodb", "shop-carts")
        driver.pause_data_replication("s3", "shop-assets-us-east-1")
        east.put_item(TableName="shop-carts", Item={"pk": {"S": "cart#e2e-lost"}})
        assert shop.post("/api/cart/items", json={"product_id": 9}, headers=auth).status_code == 200  # not replicated
        _bucket(endpoints[EAST], EAST).put_object(Bucket="shop-assets-us-east-1", Key="site/banner.svg", Body=b"<svg/>")
        assert shop.get("/assets/banner.svg").status_code == 200
        failed_over = driver.failover_global_database(WEST)
        evacuated = driver.set_traffic_dial(EAST, 0)  # traffic follows to the secondary (as region-evacuation)
        try:
            # pages keep their assets from the secondary's bucket; the one written during the pause is gone: 404
            deadline = time.monotonic() + 30
            while (image := shop.get("/api/products/7/image")).headers.get("x-region") != WEST:
                assert time.monotonic() < deadline, f"the front door did not move to {WEST}: {image}"
                time.sleep(0.2)
            assert image.status_code == 200 and image.content == product_image(7)
            # the cart as the secondary's table has it: the product added during the pause is lost, visibly
            cart = shop.get("/api/cart", headers=auth)
            assert cart.headers["x-region"] == WEST and [i["product_id"] for i in cart.json()["items"]] == [8], cart
            banner = shop.get("/assets/banner.svg")
            assert banner.status_code == 404 and banner.json() == {
                "error": "no asset site/banner.svg in the us-west-2 bucket"}, banner
            events = [e for e in lab.events() if e["kind"] == "replication.region_lost"]
            assert events and events[-1]["dropped"] == {"dynamodb:shop-carts": 2, "s3:shop-assets-us-east-1": 1}
            assert "Item" not in west.get_item(TableName="shop-carts", Key={"pk": {"S": "cart#e2e-lost"}})
            assert lab.status()["aws"]["replication"]["lost_regions"] == [EAST]
        finally:
            for call in [*evacuated.reverts, *failed_over.reverts]:
                getattr(driver, call.method)(**call.args)
            driver.resume_data_replication("dynamodb", "shop-carts")
            driver.resume_data_replication("s3", "shop-assets-us-east-1")
    lab.wait_healthy(timeout=120)
    assert lab.status()["aws"]["replication"]["lost_regions"] == []
