"""The lab under faults, with real processes: what issue "The lab" requires to hold.

One lab serves the module; every test starts from a healthy lab and leaves it healthy.
"""

from __future__ import annotations

import time

import pytest

from aftershock.core.errors import FaultRefused
from tests.labkit import RunningLab, Shopper, Traffic

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def healthy(lab: RunningLab) -> None:
    lab.wait_healthy()


def test_pod_kill_is_replaced_and_front_door_recovers(lab: RunningLab) -> None:
    before = {p["name"] for p in lab.status()["deployments"][0]["pods"]}
    with Traffic(lab.front_door) as traffic:
        time.sleep(0.5)
        killed_at = time.time()
        result = lab.fault("faults/kill-pods", region="us-east-1", percent=100)
        assert result["details"]["pods"] and set(result["details"]["pods"]) <= before
        status = lab.wait_healthy(timeout=60)
        assert traffic.wait_for(lambda rs: len([r for r in rs if r[0] > killed_at + 1 and r[1]]) >= 10, 30)
    after = {p["name"] for p in status["deployments"][0]["pods"]}
    assert not (after & set(result["details"]["pods"])), "killed pods must be replaced by new ones"
    kinds = [e["kind"] for e in lab.events(since=killed_at)]
    assert "pod.died" in kinds and "pod.ready" in kinds


def test_writer_crash_promotes_the_in_region_reader_and_checkouts_work_again(lab: RunningLab) -> None:
    shopper = Shopper(lab.front_door)
    try:
        assert shopper.checkout().status_code == 201
        old_writer = lab.status()["database"]["writer"]
        crashed_at = time.time()
        lab.fault("faults/crash-writer")
        deadline = time.monotonic() + 30
        code = 0
        while time.monotonic() < deadline:
            try:
                code = shopper.checkout().status_code
            except Exception:
                code = 0
            if code == 201:
                break
            time.sleep(0.1)
        assert code == 201, "checkouts must succeed again after the in-region failover"
        status = lab.status()
        assert status["database"]["writer"] not in (None, old_writer)
        promoted = [e for e in lab.events(since=crashed_at) if e["kind"] == "db.promoted"]
        assert promoted and promoted[0]["instance"] == "shop-east-b"
    finally:
        shopper.close()


def test_az_outage_is_absorbed_by_the_other_azs(lab: RunningLab) -> None:
    with Traffic(lab.front_door) as traffic:
        time.sleep(0.5)
        lab.fault("faults/az-outage", az="us-east-1c")
        status = lab.status()
        assert status["azs_down"] == ["us-east-1c"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            dep = next(d for d in lab.status()["deployments"] if d["region"] == "us-east-1")
            if dep["ready"] == dep["desired"] and all(p["az"] != "us-east-1c" for p in dep["pods"]):
                break
            time.sleep(0.2)
        assert all(p["az"] != "us-east-1c" for p in dep["pods"]) and dep["ready"] == dep["desired"]
        marked = time.time()
        time.sleep(2.0)
        recent = [r for r in traffic.results if r[0] >= marked]
        assert recent and all(ok for _, ok, _ in recent), "service must be fully up with one AZ down"
        with pytest.raises(FaultRefused, match="AZ us-east-1c is already down"):
            lab.fault("faults/az-outage", az="us-east-1c")
        lab.fault("faults/az-restore", az="us-east-1c")
    assert lab.status()["azs_down"] == []


def test_dial_zero_moves_traffic_to_the_secondary_and_back(lab: RunningLab) -> None:
    with Traffic(lab.front_door) as traffic:
        lab.fault("faults/traffic-dial", region="us-east-1", dial=0)
        changed = time.time()
        assert traffic.wait_for(lambda rs: sum(1 for r in rs if r[0] > changed and r[2] == "us-west-2") >= 10, 15)
        lab.fault("faults/traffic-dial", region="us-east-1", dial=100)
        back = time.time()
        assert traffic.wait_for(lambda rs: sum(1 for r in rs if r[0] > back + 0.5 and r[2] == "us-east-1") >= 10, 15)
    assert lab.status()["dials"] == {"us-east-1": 100, "us-west-2": 0}


def test_bad_faults_are_refused_and_change_nothing(lab: RunningLab) -> None:
    before = lab.status()
    cases = [
        ("faults/traffic-dial", {"region": "us-east-1", "dial": 101},
         "traffic dial for us-east-1 must be an integer 0-100, got 101"),
        ("faults/kill-pods", {"region": "eu-west-1", "count": 1},
         "unknown region 'eu-west-1': use one of us-east-1, us-west-2"),
        ("faults/az-outage", {"az": "us-east-1z"}, "unknown AZ 'us-east-1z': use one of"),
        ("faults/az-restore", {"az": "us-east-1a"}, "AZ us-east-1a is not down: nothing to restore"),
    ]
    for path, body, message in cases:
        with pytest.raises(FaultRefused) as err:
            lab.fault(path, **body)
        assert str(err.value).startswith(message)
    after = lab.status()
    assert after["dials"] == before["dials"] and after["azs_down"] == before["azs_down"]
    assert {p["name"] for d in after["deployments"] for p in d["pods"]} == {
        p["name"] for d in before["deployments"] for p in d["pods"]}


def test_front_door_logs_every_request_even_without_a_user_agent(lab: RunningLab) -> None:
    """The access log is the ground truth of what clients saw: a bare request must be in it, promptly."""
    import socket
    import uuid

    from aftershock.core.procs import wait_until
    from aftershock.lab.envoy import read_access_log

    marker = uuid.uuid4().hex
    port = int(lab.front_door.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET /api/products/3?m={marker} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        while sock.recv(65536):
            pass
    log = lab.lab_dir / "envoy" / "logs" / "access-front-door.jsonl"
    assert wait_until(lambda: any(marker in r.path for r in read_access_log(log)), timeout=2.0)
