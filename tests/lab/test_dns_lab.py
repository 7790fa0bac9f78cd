"""The lab's Route 53 with real processes (one route53-failover lab for the module).

- the primary region freezes (its pods SIGSTOPped: the ALB's own health checks eject them, the ALB answers 503);
  Route 53's health check fails after failure threshold x interval, the failover record answers the secondary at
  that instant (checked with raw DNS queries), a client that honours the TTL follows within the TTL, and a client
  that caches forever keeps failing;
- the two DNS faults (inverted health check, manual failover) through the lab driver revert exactly, and so does
  the ARC routing control turned Off (the name moves at once);
- the ALB outage: the region's ALB answers 503 at once (its pods untouched), reverted it serves again; the lab's
  return to its baseline (``aftershock recover``'s revert) undoes all three DNS faults at once;
- ``aftershock lab status`` shows the DNS state (answer, PRIMARY, TTL, health checks, the writer CNAME);
- the private zone's writer CNAME follows a writer failover (checked against the control plane's writer).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from aftershock.core.errors import FaultRefused
from aftershock.core.journal import RevertCall
from aftershock.core.resolver import StubResolver
from aftershock.core.target import load_target
from aftershock.faults.lab_driver import LabDriver
from aftershock.lab.dns.server import query
from tests.dnskit import Client, get_health
from tests.labkit import RunningLab

pytestmark = pytest.mark.slow
EAST, WEST = "us-east-1", "us-west-2"


@pytest.fixture(scope="module")
def lab(route53_lab: RunningLab) -> RunningLab:
    return route53_lab


def dns_of(lab: RunningLab) -> dict[str, Any]:
    return dict(lab.status()["dns"])


def answer_of(dns: dict[str, Any], name: str | None = None) -> str:
    host, port = dns["resolver"].split(":")
    return str(query(name or dns["name"], "A", host, int(port)).rr[-1].rdata)


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.05)


class RawAnswers:
    """The authoritative answer, asked every 20 ms with raw DNS queries (independent of the clients' caches)."""

    def __init__(self, dns: dict[str, Any]) -> None:
        self.dns = dns
        self.seen: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.seen.append((time.time(), answer_of(self.dns)))

    def __enter__(self) -> RawAnswers:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def first(self, address: str, after: float) -> float | None:
        return next((t for t, a in self.seen if t >= after and a == address), None)


def test_a_frozen_primary_fails_over_after_threshold_x_interval_and_ttl_clients_follow(lab: RunningLab) -> None:
    lab.wait_healthy()
    dns = dns_of(lab)
    checks = {c["region"]: c for c in dns["health_checks"]}
    interval, threshold, ttl = checks[EAST]["interval_s"], checks[EAST]["failure_threshold"], dns["ttl_s"]
    port = int(dns["health_checks"][0]["endpoint"].rsplit(":", 1)[1])
    pids = [p["pid"] for d in lab.status()["deployments"] if d["region"] == EAST for p in d["pods"] if p["pid"]]
    east_address = answer_of(dns)
    ttl_client = Client(dns["resolver"], dns["name"], port, cache="ttl")
    forever = Client(dns["resolver"], dns["name"], port, cache="forever")
    with RawAnswers(dns) as raw, ttl_client, forever:
        time.sleep(0.5)
        frozen_at = time.time()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            wait_for(lambda: ttl_client.first(after=frozen_at, region=WEST) is not None, 20, "the TTL client in west")
            time.sleep(ttl + 1.0)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
    events = lab.events(since=frozen_at)
    failed = next(e for e in events if e["kind"] == "dns.health_check_failed" and e["check"] == f"hc-{EAST}")
    changed = next(e for e in events if e["kind"] == "dns.answer_changed")
    expired = next(e for e in events if e["kind"] == "dns.ttl_expired")
    # east fails as soon as its pods stop answering: the first failed request of any client is that instant
    broke_at = min(t for t, _, status, _ in ttl_client.results + forever.results if t >= frozen_at and status != 200)
    detection = failed["ts"] - broke_at
    # the ALB first ejects its hosts (2 x 0.5 s + 0.4 s timeout), then Route 53 needs threshold x interval
    assert (threshold - 1) * interval <= detection <= threshold * interval + 1.4 + interval + 0.3, detection
    raw_west = raw.first(dns["health_checks"][1]["endpoint"].split(":")[0], after=frozen_at)
    assert raw_west is not None and abs(raw_west - changed["ts"]) <= 0.1  # the server answers as the log says
    assert changed["after"] != east_address and changed["region"] == WEST
    assert abs(expired["ts"] - changed["ts"] - ttl) <= 0.1
    followed = ttl_client.first(after=frozen_at, region=WEST)
    assert followed is not None and 0 <= followed - changed["ts"] <= ttl + 0.3, (followed, changed["ts"])
    after_change = [r for r in forever.results if r[0] > changed["ts"] + ttl + 0.5]
    assert after_change and all(a == east_address and s != 200 for _, a, s, _ in after_change[:-5])
    # the primary answers again: Route 53 moves the name back after as many passing checks
    wait_for(lambda: answer_of(dns) == east_address, 15, "the name to move back to the primary")


def test_dns_faults_through_the_lab_driver_revert_exactly(lab: RunningLab) -> None:
    lab.wait_healthy()
    dns = dns_of(lab)
    east_address = answer_of(dns)
    driver = LabDriver(load_target(lab.lab_dir / "target.yaml"))
    try:
        outcome = driver.set_dns_health_check(EAST, True)
        assert outcome.reverts == (RevertCall("set_dns_health_check", {"region": EAST, "inverted": False}),)
        with pytest.raises(FaultRefused, match=f"hc-{EAST} is already inverted"):
            driver.set_dns_health_check(EAST, True)
        wait_for(lambda: answer_of(dns) != east_address, 5, "the inverted check to fail over")
        for call in outcome.reverts:
            getattr(driver, call.method)(**call.args)
        assert {c["region"]: c["inverted"] for c in dns_of(lab)["health_checks"]} == {EAST: False, WEST: False}
        wait_for(lambda: answer_of(dns) == east_address, 5, "the restored check to fail back")

        manual = driver.set_dns_primary(WEST)
        assert answer_of(dns) != east_address and dns_of(lab)["primary"] == WEST  # at once: a record change
        assert manual.reverts == (RevertCall("set_dns_primary", {"primary": EAST}),)
        for call in manual.reverts:
            getattr(driver, call.method)(**call.args)
        assert answer_of(dns) == east_address and dns_of(lab)["primary"] == EAST
        with pytest.raises(FaultRefused, match="us-east-1 is already the PRIMARY"):
            driver.set_dns_primary(EAST)
    finally:
        driver.close()


def test_a_routing_control_off_through_the_lab_driver_moves_the_name_at_once_and_reverts(lab: RunningLab) -> None:
    lab.wait_healthy()
    dns = dns_of(lab)
    east_address = answer_of(dns)
    target = load_target(lab.lab_dir / "target.yaml")
    assert target.front_door.dns is not None and target.front_door.dns.control_of(EAST) is not None
    driver = LabDriver(target)
    try:
        outcome = driver.set_routing_control(EAST, "Off")
        assert answer_of(dns) != east_address  # at once: the control's check follows its state, no threshold
        assert outcome.reverts == (RevertCall("set_routing_control", {"region": EAST, "state": "On"}),)
        events = [e for e in lab.events(since=0) if e["kind"] == "dns.health_check_failed"]
        assert events[-1]["check"] == f"rc-{EAST}" and events[-1]["type"] == "RECOVERY_CONTROL"
        for call in outcome.reverts:
            getattr(driver, call.method)(**call.args)
        assert answer_of(dns) == east_address
        assert [c["state"] for c in dns_of(lab)["routing_controls"]] == ["On", "On"]
    finally:
        driver.close()


def test_an_alb_outage_reverts_and_the_baseline_undoes_every_dns_fault(lab: RunningLab) -> None:
    lab.wait_healthy()
    dns = dns_of(lab)
    east_address, port = answer_of(dns), int(dns["health_checks"][0]["endpoint"].rsplit(":", 1)[1])
    driver = LabDriver(load_target(lab.lab_dir / "target.yaml"))
    try:
        outage = driver.set_alb_outage(EAST, True)
        assert outage.reverts == (RevertCall("set_alb_outage", {"region": EAST, "down": False}),)
        wait_for(lambda: get_health(east_address, port, dns["name"])[0] == 503, 2, "the east ALB to answer 503")
        assert dns_of(lab)["albs_down"] == [EAST]
        with pytest.raises(FaultRefused, match=f"the ALB of {EAST} is already out"):
            driver.set_alb_outage(EAST, True)
        for call in outage.reverts:
            getattr(driver, call.method)(**call.args)
        wait_for(lambda: get_health(east_address, port, dns["name"]) == (200, EAST), 5, "the east ALB to serve")

        driver.set_alb_outage(EAST, True)  # all three at once, then the baseline: what `aftershock recover` does
        driver.set_dns_health_check(WEST, True)
        driver.set_dns_primary(WEST)
        restored = driver.restore_baseline()
        assert restored.description.count(";") == 2, restored.description
        after = dns_of(lab)
        assert (after["albs_down"], after["primary"]) == ([], EAST)
        assert [c["inverted"] for c in after["health_checks"]] == [False, False]
        wait_for(lambda: get_health(east_address, port, dns["name"]) == (200, EAST), 5, "the east ALB to serve")
        assert "nothing changed" in driver.restore_baseline().description
        wait_for(lambda: answer_of(dns) == east_address, 10, "the name to move back to the primary")
    finally:
        driver.close()


def test_the_writer_cname_follows_a_writer_failover(lab: RunningLab) -> None:
    lab.wait_healthy()
    dns = dns_of(lab)
    zone = load_target(lab.lab_dir / "target.yaml").front_door.dns
    assert zone is not None and zone.db_writer_record
    resolver = StubResolver(dns["resolver"], cache=0.0)
    old = lab.status()["database"]["writer"]
    assert resolver.lookup(zone.db_writer_record).chain[0].split(".")[0] == old
    crashed_at = time.time()
    lab.fault("faults/crash-writer")
    wait_for(lambda: lab.status()["database"]["writer"] not in (None, old), 15, "a new writer")
    new = lab.status()["database"]["writer"]
    wait_for(lambda: resolver.lookup(zone.db_writer_record).chain[0].split(".")[0] == new, 2, "the CNAME to move")
    moved = [e for e in lab.events(since=crashed_at) if e["kind"] == "dns.record_changed"
             and e["name"] == zone.db_writer_record + "."]
    assert moved and moved[0]["after"] == [f"{new}.{zone.private_zone}"]
    port = resolver.lookup(f"{new}.{zone.private_zone}")  # the instance's own name resolves too
    assert port.addresses == ("127.0.0.1",)


def test_lab_status_shows_the_dns_state(lab: RunningLab) -> None:
    lab.wait_healthy()
    wait_for(lambda: dns_of(lab)["region"] == EAST, 10, "the name to resolve to the primary")
    dns = dns_of(lab)
    result = subprocess.run([sys.executable, "-m", "aftershock", "lab", "status"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"{dns['name']} -> {dns['answer']} ({EAST}), PRIMARY {EAST}, TTL {dns['ttl_s']:g} s, ALBs out: none" in out
    for check in dns["health_checks"]:
        assert f"{check['id']}" in out and check["endpoint"] in out
    assert out.count("healthy") >= 2 and "writer.db.aftershock-lab.internal" in out
