"""``python -m aftershock.lab.shop`` as a real process: readiness, serving, graceful SIGTERM, argv/env checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from aftershock.lab.ports import free_port
from tests.lab.conftest_shop import (  # noqa: F401  (fixtures)
    PostgresServer,
    pg_password,
    seeded_pg,
    start_pod,
    stop_pod,
    wait_ready,
)


def test_pod_serves_and_drains_on_sigterm(seeded_pg: PostgresServer, tmp_path: Path) -> None:  # noqa: F811
    port = free_port()
    # A longer drain than the default 0.5 s so a busy host cannot make the checks below miss the window.
    pod = start_pod(seeded_pg, port, tmp_path / "pod.log", "shop-us-east-1a-x7k2", "--drain", "2")
    try:
        startup_s = wait_ready(port)
        assert startup_s < 15, f"pod took {startup_s:.2f} s to become ready"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            product = client.get("/api/products/42")
            assert product.status_code == 200 and product.json()["id"] == 42
            assert product.headers["x-pod"] == "shop-us-east-1a-x7k2"
            assert (product.headers["x-region"], product.headers["x-az"]) == ("us-east-1", "us-east-1a")
            assert client.get("/metrics").json()["requests_total"] == 1

            pod.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            # Draining: unready at once, but still serving until the drain period is over.
            while (draining := client.get("/ready")).status_code == 200:
                assert time.monotonic() - signalled < 1, "still ready after SIGTERM"
            assert draining.status_code == 503 and draining.json()["status"] == "draining"
            assert client.get("/api/products/1").status_code == 200
            assert client.get("/health").status_code == 200
        assert pod.wait(timeout=10) == 0
        assert 2 <= time.monotonic() - signalled < 6
    finally:
        stop_pod(pod)
    log = (tmp_path / "pod.log").read_text()
    assert "Traceback" not in log, log
    assert "lab-test-password" not in log


def _run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aftershock.lab.shop", *args], env=env, capture_output=True, text=True, timeout=60,
        check=False
    )


def test_cli_refuses_missing_key_and_passwords_in_argv() -> None:
    base = ["--name", "p", "--region", "r", "--az", "a", "--port", str(free_port())]
    env = {k: v for k, v in os.environ.items() if k != "SHOP_TOKEN_KEY"}
    conninfo = "host=127.0.0.1 port=1 dbname=shop user=shop"

    result = _run_cli([*base, "--writer", conninfo, "--reader", conninfo], env)
    assert result.returncode != 0 and "SHOP_TOKEN_KEY" in result.stderr

    env["SHOP_TOKEN_KEY"] = "k"
    result = _run_cli([*base, "--writer", conninfo + " password=hunter2", "--reader", conninfo], env)
    assert result.returncode != 0 and "PGPASSWORD" in result.stderr

    result = _run_cli(base, env)
    assert result.returncode == 2 and "--writer" in result.stderr  # argparse usage error
