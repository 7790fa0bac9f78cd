"""The deployment controller with real processes (a tiny HTTP server stands in for the shop pod)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from aftershock.core.errors import FaultRefused
from aftershock.core.procs import spawn, wait_until
from aftershock.lab.k8s.controller import ControllerSettings, DeploymentController
from aftershock.lab.k8s.pods import PodTarget

POD = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok')
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
"""


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.targets: dict[str, tuple[PodTarget, ...]] = {}

    def __call__(self, kind: str, /, **fields: Any) -> None:
        self.events.append((kind, fields))

    def on_targets(self, region: str, targets: Sequence[PodTarget]) -> None:
        self.targets[region] = tuple(targets)

    def kinds(self) -> list[str]:
        return [k for k, _ in self.events]


def launcher(name: str, region: str, az: str, port: int) -> subprocess.Popen[bytes]:
    return spawn([sys.executable, "-c", POD, str(port)])


@pytest.fixture
def controller() -> Iterator[tuple[DeploymentController, Recorder]]:
    rec = Recorder()
    ctl = DeploymentController(launcher, rec.on_targets, rec,
                               ControllerSettings(pod_start_delay_s=0.3, readiness_period_s=0.05))
    ctl.add_deployment("shop", "us-east-1", ("us-east-1a", "us-east-1b", "us-east-1c"), 3)
    ctl.start()
    try:
        yield ctl, rec
    finally:
        ctl.stop()


def ready(ctl: DeploymentController, n: int) -> bool:
    return len(ctl.ready_targets("us-east-1")) == n


def test_pods_spread_over_azs_and_register_when_ready(controller: tuple[DeploymentController, Recorder]) -> None:
    ctl, rec = controller
    assert wait_until(lambda: ready(ctl, 3), timeout=20)
    assert sorted(t.az for t in rec.targets["us-east-1"]) == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_killed_pod_is_replaced_after_the_start_delay(controller: tuple[DeploymentController, Recorder]) -> None:
    ctl, rec = controller
    assert wait_until(lambda: ready(ctl, 3), timeout=20)
    killed = ctl.kill_pods("us-east-1", count=1)
    assert len(killed) == 1 and killed[0] not in [t.name for t in ctl.ready_targets("us-east-1")]
    killed_at = time.time()
    assert wait_until(lambda: ready(ctl, 3), timeout=20)
    scheduled = [f for k, f in rec.events if k == "pod.scheduled" and f["start_in_s"] > 0]
    assert scheduled and scheduled[-1]["start_in_s"] == pytest.approx(0.3, abs=0.15)
    assert time.time() - killed_at >= 0.3
    assert "pod.died" in rec.kinds()


def test_az_down_moves_pods_and_nothing_schedules_there(controller: tuple[DeploymentController, Recorder]) -> None:
    ctl, _ = controller
    assert wait_until(lambda: ready(ctl, 3), timeout=20)
    killed = ctl.set_az_down("us-east-1b", True)
    assert len(killed) == 1
    assert wait_until(lambda: ready(ctl, 3), timeout=20)
    assert all(t.az != "us-east-1b" for t in ctl.ready_targets("us-east-1"))
    with pytest.raises(FaultRefused, match="AZ us-east-1b is already down"):
        ctl.set_az_down("us-east-1b", True)
    ctl.set_az_down("us-east-1b", False)
    assert not ctl.az_down("us-east-1b")


def test_bad_kill_arguments_change_nothing(controller: tuple[DeploymentController, Recorder]) -> None:
    ctl, _ = controller
    assert wait_until(lambda: ready(ctl, 3), timeout=20)
    with pytest.raises(FaultRefused, match="unknown AZ 'us-east-1z' for region us-east-1"):
        ctl.kill_pods("us-east-1", az="us-east-1z", count=1)
    with pytest.raises(FaultRefused, match="unknown region 'mars-1': use one of us-east-1"):
        ctl.kill_pods("mars-1", count=1)
    with pytest.raises(FaultRefused, match="percent must be in"):
        ctl.kill_pods("us-east-1", percent=150)
    assert ready(ctl, 3)


def test_scale_up_and_down(controller: tuple[DeploymentController, Recorder]) -> None:
    ctl, rec = controller
    assert wait_until(lambda: ready(ctl, 3), timeout=20)
    ctl.scale("us-east-1", 5, reason="test")
    assert wait_until(lambda: ready(ctl, 5), timeout=20)
    ctl.scale("us-east-1", 2, reason="test")
    assert wait_until(lambda: ready(ctl, 2) and len(ctl.view()[0].pods) == 2, timeout=20)
    assert "pod.terminating" in rec.kinds()
