"""The journeys against the stand-in shop (every route, every body checked) and against the real lab."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aftershock.core.timeline.store import read_timeline
from tests.lab import conftest_shop as shop_kit  # the lab tests' PostgreSQL + pod helpers
from tests.loadtests.loadkit import REPO, Procs, StandinShop, free_port, locust_cmd

ROUTES = {
    "GET /api/products",
    "GET /api/search",
    "GET /api/products/{id}",
    "POST /api/login",
    "GET /api/cart",
    "POST /api/cart/items",
    "DELETE /api/cart/items/{product_id}",
    "POST /api/checkout",
    "GET /api/orders/{id}",
    "fresh:GET /health",
    "fresh:GET /api/products/{id}",
}


def test_every_route_is_driven_and_validated(shop: StandinShop, procs: Procs, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    argv = locust_cmd(shop.url, out, users=10, seconds=6, extra=("--task-rate", "10", "--shape", "step"))
    assert procs.start(argv, tmp_path / "locust.log").wait(timeout=90) == 0
    timeline = read_timeline(out)
    assert set(timeline.names) == ROUTES
    assert timeline.failures == 0, [b for b in timeline.buckets if b.fail]
    # --shape step: four steps, so the first quarter runs fewer users than the last
    per_second = {}
    for bucket in timeline.buckets:
        second = (bucket.start_ms - (timeline.start_ms or 0)) // 1000
        per_second[second] = per_second.get(second, 0) + bucket.total
    assert per_second[0] < per_second[4]
    # the server answered at least what the timeline recorded as ok
    assert shop.served() >= timeline.total


@pytest.mark.slow
def test_against_the_real_shop_pod(procs: Procs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real ``aftershock.lab.shop`` pod on a throwaway PostgreSQL seeded like the lab (3000 products,
    5000 users)."""
    from aftershock.lab.shop.schema import load_schema_and_seed

    monkeypatch.setenv("PGPASSWORD", shop_kit.DB_PASSWORD)  # restored after the test
    server = shop_kit.PostgresServer.create()
    pod = None
    try:
        load_schema_and_seed(server.conninfo)
        port = free_port()
        pod = shop_kit.start_pod(server, port, tmp_path / "pod.log")
        shop_kit.wait_ready(port)
        out = tmp_path / "run"
        done = subprocess.run(
            [sys.executable, "-m", "aftershock", "load", "--url", f"http://127.0.0.1:{port}", "--users", "8",
             "--duration", "6s", "--out", str(out), "--task-rate", "4"],
            capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        timeline = read_timeline(out)
        print(done.stdout)
        assert {"GET /api/products/{id}", "POST /api/login", "POST /api/cart/items", "fresh:GET /health"} <= set(
            timeline.names
        )
        assert timeline.total > 50
        assert timeline.failures == 0, [(b.name, b.errors) for b in timeline.buckets if b.fail]
    finally:
        if pod is not None:
            shop_kit.stop_pod(pod)
        server.destroy()
