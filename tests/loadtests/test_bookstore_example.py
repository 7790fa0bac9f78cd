"""The bookstore example runs as a user's own locustfile: its request names in the timeline, every check passing,
the read and the write path both exercised, and the fresh-connection probe on the target's bookstore path."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from aftershock.core.timeline.store import read_timeline
from tests.loadtests.loadkit import PYTHON, REPO, free_port, port_open, wait_for
from tests.runkit import target_data

EXAMPLE = REPO / "loadtests" / "examples" / "bookstore.py"
STANDIN = Path(__file__).resolve().parent / "bookstore_standin.py"


@pytest.fixture
def bookstore(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    with open(tmp_path / "bookstore.log", "wb") as log:
        proc = subprocess.Popen([PYTHON, str(STANDIN), str(port)], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: port_open(port), 30, f"the bookstore stand-in on port {port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_the_bookstore_example_against_a_bookstore(bookstore: str, tmp_path: Path) -> None:
    target = tmp_path / "bookstore.yaml"
    data = target_data(front_door={"url": bookstore, "endpoint_groups": [
        {"region": "us-east-1", "traffic_dial": 100, "load_balancer": "alb-e"}]},
        load={"users": 10, "probe": {"rate": 5, "paths": [{"path": "/bestsellers", "expect": [200]}]}})
    data["name"] = "bookstore"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "aftershock", "load", "--target", str(target), "--locustfile",
                           str(EXAMPLE), "--duration", "5s", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    timeline = read_timeline(out)
    assert {"GET /books?category", "GET /books/{id}", "GET /bestsellers", "POST /cart", "GET /cart",
            "POST /orders", "fresh:GET /bestsellers"} <= set(timeline.names)
    assert timeline.failures == 0
    served = httpx.get(f"{bookstore}/__count", timeout=5).json()
    assert served["orders"] > 0 and served["cart"] >= 2 * served["orders"]  # every order after a cart write+read
