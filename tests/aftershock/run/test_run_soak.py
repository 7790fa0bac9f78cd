"""``--soak``: load (and ledger) run the soak's length after the warm-up, before the hypothesis and any fault;
a load generator that dies during the soak ends the run before any fault; a bad duration is exit-2 input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from aftershock.core.errors import HarnessError
from aftershock.core.kinds import MarkerKind
from aftershock.core.plan import write_plan
from aftershock.core.runfolder import MARKERS, RunFolder
from aftershock.planning import resolve_plan
from aftershock.session import RunSession
from tests.loadtests.conftest import shop  # noqa: F401  (fixture)
from tests.loadtests.loadkit import StandinShop
from tests.runkit import FakeDriver, write_target


def _session(tmp_path: Path, url: str, soak_s: float) -> RunSession:
    target = write_target(tmp_path / "target.yaml", front_door={"url": url, "endpoint_groups": [
        {"region": "us-east-1", "traffic_dial": 100, "load_balancer": "alb-e"}]})
    plan = resolve_plan({"aftershock_soak_s": soak_s}, experiment="x.yaml", target_ref=str(target),
                        load={"users": 4, "ledger": False, "load_duration_s": 30, "task_rate": 5})
    run = RunFolder.create(tmp_path / "runs", "soak")
    write_plan(run, plan)
    session = RunSession(run, plan.snapshot, FakeDriver(plan.snapshot), plan.load, slow_ms=plan.slow_ms)
    session.plan = plan
    return session


def _markers(run: RunFolder) -> dict[str, dict[str, Any]]:
    return {m["kind"]: m for m in run.records(MARKERS, skip_broken=True)}


def _request_starts(run: RunFolder) -> list[float]:
    lines = (run.path / "timeline.jsonl").read_text().splitlines()[1:]
    return sorted(json.loads(line)["start_ms"] / 1000 for line in lines if line.strip())


def test_the_soak_keeps_the_load_going_before_the_hypothesis(shop: StandinShop,  # noqa: F811
                                                              tmp_path: Path) -> None:
    session = _session(tmp_path, shop.url, soak_s=3)
    assert session.plan is not None and session.plan.load.soak_s == 3
    try:
        started = time.time()
        session.start()  # returns when the hypothesis may begin
        returned = time.time()
    finally:
        session.stop()
    markers = _markers(session.run)
    warm, soaked = markers[MarkerKind.LOAD_WARM]["ts"], markers[MarkerKind.LOAD_SOAKED]["ts"]
    assert 3.0 <= soaked - warm <= 4.5 and soaked <= returned and returned - started >= 3.0
    starts = _request_starts(session.run)
    # traffic all through the soak: no gap of a second between warm and soaked
    during = [t for t in starts if warm <= t <= soaked]
    assert during and max(b - a for a, b in zip([warm, *during], [*during, soaked], strict=True)) < 1.0


def test_a_load_that_dies_during_the_soak_ends_the_run_before_any_fault(shop: StandinShop,  # noqa: F811
                                                                         tmp_path: Path) -> None:
    session = _session(tmp_path, shop.url, soak_s=30)
    def kill_locust_when_warm() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and MarkerKind.LOAD_WARM not in _markers(session.run):
            time.sleep(0.1)
        if session.load is not None:
            os.kill(session.load.procs[0].pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_locust_when_warm)
    killer.start()
    try:
        with pytest.raises(HarnessError, match="exited during the soak"):
            session.start()
    finally:
        killer.join()
        session.stop()
    assert MarkerKind.LOAD_SOAKED not in _markers(session.run)
    assert isinstance(session.driver, FakeDriver)
    assert [method for method, _ in session.driver.calls if method != "observe"] == []  # only the sampler looked


def test_a_bad_soak_duration_is_exit_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "aftershock", "run", "pod-kill", "--soak", "forever",
                             "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--soak 'forever' is not a duration" in result.stderr and "\n" not in result.stderr.strip()
    assert not list(tmp_path.iterdir())
