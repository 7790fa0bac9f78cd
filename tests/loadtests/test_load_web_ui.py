"""`locust -f loadtests/locustfile.py` on its own, with its web UI (no aftershock involved)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from tests.loadtests.loadkit import REPO, Procs, StandinShop, free_port, wait_for


def test_locustfile_runs_on_its_own_with_the_web_ui(shop: StandinShop, procs: Procs, tmp_path: Path) -> None:
    port = free_port()
    procs.start([sys.executable, "-m", "locust", "-f", str(REPO / "loadtests" / "locustfile.py"), "-H", shop.url,
                 "--web-host", "127.0.0.1", "--web-port", str(port), "-t", "20s", "--timeline-dir", str(tmp_path)],
                tmp_path / "locust.log")
    ui = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(ui, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(answers, 30, "the Locust web UI")
    started = httpx.post(f"{ui}/swarm", data={"user_count": 4, "spawn_rate": 4, "host": shop.url}, timeout=5)
    assert started.json()["success"] is True

    def counted() -> bool:
        stats = httpx.get(f"{ui}/stats/requests", timeout=2).json()
        return bool(stats["stats"][-1]["num_requests"] >= 20)

    wait_for(counted, 30, "requests counted by the web UI")
    httpx.get(f"{ui}/stop", timeout=5)
    wait_for(lambda: (tmp_path / "timeline.jsonl").exists(), 10, "the timeline of the web UI run")
