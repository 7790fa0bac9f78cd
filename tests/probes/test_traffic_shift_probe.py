"""The traffic-shift probe against a real little HTTP front door whose answering region changes."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aftershock.core.runfolder import RunFolder
from aftershock.probes.traffic_shift import measure_traffic_shift
from tests.runkit import plan_run, target_data, write_target


class FrontDoor:
    """Answers /health with X-Region: ``region`` (switchable), on a free 127.0.0.1 port."""

    def __init__(self) -> None:
        self.region = "us-east-1"
        door = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("X-Region", door.region)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def door() -> Iterator[FrontDoor]:
    front = FrontDoor()
    try:
        yield front
    finally:
        front.close()


def config(tmp_path: Path, run: RunFolder, url: str) -> dict[str, Any]:
    data = target_data()
    data["front_door"]["url"] = url
    target = write_target(tmp_path / "door.yaml", **{"front_door": data["front_door"]})
    return plan_run(run, target)


def test_shift_is_timed_from_the_fault_to_the_first_answer_of_the_new_region(
        door: FrontDoor, run: RunFolder, tmp_path: Path) -> None:
    fault_at = run.mark("fault.start", action="set_traffic_dial")
    threading.Timer(0.6, lambda: setattr(door, "region", "us-west-2")).start()
    result = measure_traffic_shift(to_region="us-west-2", consecutive=5, interval_s=0.02, timeout_s=10,
                                   configuration=config(tmp_path, run, door.url))
    assert result["shifted"] is True
    assert 0.55 <= result["shift_s"] <= 0.75, result
    assert time.time() - fault_at < 5


def test_no_shift_within_the_timeout(door: FrontDoor, run: RunFolder, tmp_path: Path) -> None:
    run.mark("fault.start", action="set_traffic_dial")
    result = measure_traffic_shift(to_region="us-west-2", consecutive=5, interval_s=0.02, timeout_s=0.5,
                                   configuration=config(tmp_path, run, door.url))
    assert result == {"to_region": "us-west-2", "shifted": False, "requests": result["requests"], "shift_s": None}
    assert result["requests"] > 5
