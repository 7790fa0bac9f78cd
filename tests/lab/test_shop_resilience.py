"""A pod against a database that dies, hangs, drops connections and comes back (real processes)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from aftershock.core.procs import children_of
from aftershock.lab.ports import free_port
from aftershock.lab.shop.schema import load_schema_and_seed
from tests.lab.conftest_shop import (  # noqa: F401  (fixtures)
    PostgresServer,
    pg_password,
    private_pg,
    start_pod,
    stop_pod,
    wait_ready,
)

POD = "shop-us-east-1a-resilience"


@pytest.fixture
def pod_client(private_pg: PostgresServer, tmp_path: Path) -> Iterator[httpx.Client]:  # noqa: F811
    """A seeded private database and a ready pod on it; a client with a generous timeout."""
    load_schema_and_seed(private_pg.conninfo, products=100, users=20)
    port = free_port()
    pod = start_pod(private_pg, port, tmp_path / "pod.log", name=POD)
    try:
        wait_ready(port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        stop_pod(pod)


def _timed(client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> tuple[int, float]:
    started = time.monotonic()
    status = client.get(path, headers=headers).status_code
    return status, time.monotonic() - started


def _auth(client: httpx.Client) -> dict[str, str]:
    token = client.post("/api/login", json={"username": "shopper-1", "password": "pw-1"}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _recover(client: httpx.Client, path: str, headers: dict[str, str], timeout: float = 20) -> float:
    started = time.monotonic()
    while client.get(path, headers=headers).status_code != 200:
        assert time.monotonic() - started < timeout, f"{path} did not recover"
        time.sleep(0.05)
    return time.monotonic() - started


def test_database_stop_gives_fast_503s_and_restart_recovers(
    private_pg: PostgresServer,  # noqa: F811
    pod_client: httpx.Client,
) -> None:
    auth = _auth(pod_client)
    assert _timed(pod_client, "/api/products/1")[0] == 200
    assert _timed(pod_client, "/api/cart", auth)[0] == 200

    private_pg.stop()
    for path in ("/api/products/1", "/api/cart", "/api/products/2"):
        status, took = _timed(pod_client, path, auth)
        assert status == 503, path
        assert took < 4.5, f"{path} took {took:.2f} s to fail"  # 2 s pool timeout; a busy host adds some
    assert pod_client.get("/health").status_code == 200
    assert pod_client.get("/ready").status_code == 200  # a DB outage does not take every pod out of rotation

    private_pg.start()  # same port, same data
    _recover(pod_client, "/api/products/1", auth)
    _recover(pod_client, "/api/cart", auth)
    added = pod_client.post("/api/cart/items", headers=auth, json={"product_id": 5, "quantity": 1})
    assert added.status_code == 200
    assert pod_client.post("/api/checkout", headers=auth).status_code == 201


def test_killed_connections_are_replaced_without_errors(
    private_pg: PostgresServer,  # noqa: F811
    pod_client: httpx.Client,
) -> None:
    """Every pooled connection dies (as in a proxy failover): the next requests still succeed."""
    auth = _auth(pod_client)
    for _ in range(5):
        assert pod_client.get("/api/products/1").status_code == 200
        assert pod_client.get("/api/cart", headers=auth).status_code == 200
    with psycopg.connect(private_pg.conninfo, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            (POD,),
        ).fetchone()
    assert killed is not None and killed[0] >= 2  # at least one reader and one writer connection
    assert pod_client.get("/api/products/1").status_code == 200
    assert pod_client.get("/api/cart", headers=auth).status_code == 200
    added = pod_client.post("/api/cart/items", headers=auth, json={"product_id": 7, "quantity": 1})
    assert added.status_code == 200


def test_hung_database_gives_fast_503s(
    private_pg: PostgresServer,  # noqa: F811
    pod_client: httpx.Client,
) -> None:
    """A frozen server (connections open, nothing answers) must not hang requests."""
    assert pod_client.get("/api/products/1").status_code == 200
    assert private_pg.proc is not None
    frozen = [private_pg.proc.pid, *children_of(private_pg.proc.pid)]
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        for path in ("/api/products/1", "/api/products/2"):
            status, took = _timed(pod_client, path)
            assert status == 503
            assert took < 5.0, f"{path} took {took:.2f} s to fail"  # the 3.5 s deadline, plus a busy host
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    _recover(pod_client, "/api/products/1", {})
