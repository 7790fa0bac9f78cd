"""The DNS front door end to end, on one route53-failover lab:

- ``aftershock run dns-failover`` is green: the name resolves to the secondary after the health check's
  threshold x interval, the traffic follows, the figures agree with the lab's own event log, the fault is
  reverted (the check is no longer inverted, the name resolves to the primary again);
- ``aftershock run dns-region-failover`` loses the primary's front door for real (its ALB answers 503): the RTO
  is > 0, its phases (detection = dns.health_check_failed, failover = until dns.ttl_expired, client recovery) are
  known and add up to it within 10 ms, and it lies within RTO_TOLERANCE_S (0.1 s) of the ALBs' access logs; the
  DNS measurement is in summary.json and the reports; the fault is reverted;
- ``aftershock run dns-routing-control`` turns the primary's ARC routing control Off: detection is the update
  itself, the harness resolves the secondary within a poll of the lab's answer change, the control is On again;
- two loads through the lab's DNS while the primary region freezes: the one whose clients honour the TTL recovers
  (its outage ends), the one with ``dns_cache: forever`` keeps failing to the end, and ``load.json`` shows it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.labkit import RunningLab
from tests.truth import RTO_TOLERANCE_S, check_rto_phases, first_marker, rto_from_access_log

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
EAST, WEST = "us-east-1", "us-west-2"


@pytest.fixture(scope="module")
def lab(route53_lab: RunningLab) -> RunningLab:
    return route53_lab


def aftershock(*args: str, timeout: float) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "aftershock", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"})


def finish(proc: subprocess.Popen[str], timeout: float) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return proc.returncode, out


def probe_output(run: Path, name: str) -> dict[str, Any]:
    journal = json.loads((run / "journal.json").read_text())
    return dict(next(a["output"] for a in journal["run"] if a["activity"]["name"] == name))


def green_run(lab: RunningLab, experiment: str, out: Path) -> tuple[Path, dict[str, Any]]:
    """``aftershock run experiments/<experiment>.yaml`` at 5 users on a healthy lab: it must pass; its run folder and
    summary."""
    lab.wait_healthy()
    code, output = finish(aftershock("run", str(REPO / "experiments" / f"{experiment}.yaml"), "--out", str(out),
                                     "--users", "5", timeout=240), 240)
    assert code == 0, output
    run = sorted(p for p in out.iterdir() if p.is_dir())[-1]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["passed"] and summary["status"] == "completed", summary
    return run, summary


def test_dns_failover_experiment_is_green_and_matches_the_lab_event_log(lab: RunningLab, tmp_path: Path) -> None:
    run, _ = green_run(lab, "dns-failover", tmp_path)
    dns = probe_output(run, "dns-failover-to-the-secondary")
    fault_at = next(json.loads(line)["ts"] for line in (run / "markers.jsonl").read_text().splitlines()
                    if json.loads(line)["kind"] == "fault.start")
    events = lab.events(since=fault_at)
    failed = next(e["ts"] for e in events if e["kind"] == "dns.health_check_failed")
    changed = next(e["ts"] for e in events if e["kind"] == "dns.answer_changed")
    status = lab.status()["dns"]
    check = status["health_checks"][0]
    interval, threshold = check["interval_s"], check["failure_threshold"]
    # detection: the inverted check needs threshold failed checks, the first one within an interval
    assert (threshold - 1) * interval <= dns["detection_s"] <= threshold * interval + interval + 0.2, dns
    assert abs(dns["detection_s"] - (failed - fault_at)) <= 0.01
    # the harness resolves every 0.1 s: it sees the new answer within one poll of the lab's change
    assert 0 <= dns["resolved_s"] - (changed - fault_at) <= 0.1 + 0.1, (dns, changed - fault_at)
    assert dns["shifted"] and dns["resolved_s"] <= dns["served_s"] <= dns["resolved_s"] + 0.15, dns
    assert dns["propagation_s"] == status["ttl_s"] and dns["record"] == status["name"]
    # rolled back: the check is not inverted and the name resolves to the primary again
    assert [c["inverted"] for c in status["health_checks"]] == [False, False]
    deadline = time.monotonic() + 10
    while lab.status()["dns"]["region"] != EAST:
        assert time.monotonic() < deadline, "the name did not move back to the primary after the rollback"
        time.sleep(0.1)


def test_routing_control_experiment_moves_clients_at_once_and_turns_it_back_on(lab: RunningLab,
                                                                             tmp_path: Path) -> None:
    """``dns-routing-control``: the primary's ARC routing control Off; no failure threshold to wait for."""
    run, _ = green_run(lab, "dns-routing-control", tmp_path)
    dns = probe_output(run, "dns-failover-to-the-secondary")
    fault_at = first_marker(run, "fault.start")
    events = lab.events(since=fault_at - 1)
    updated = next(e for e in events if e["kind"] == "arc.routing_control_updated" and e["ts"] >= fault_at)
    changed = next(e["ts"] for e in events if e["kind"] == "dns.answer_changed" and e["ts"] >= fault_at)
    assert (updated["region"], updated["state"]) == (EAST, "Off"), updated
    # the control's check fails with the update (no threshold x interval), the harness sees the answer within a poll
    assert abs(dns["detection_s"] - (updated["ts"] - fault_at)) <= 0.01 and dns["detection_s"] < 0.5, dns
    assert 0 <= dns["resolved_s"] - (changed - fault_at) <= 0.1 + 0.1 and dns["shifted"], (dns, changed - fault_at)
    # rolled back: every routing control is On again and the name resolves to the primary
    deadline = time.monotonic() + 10
    while (lab.status()["dns"]["region"] != EAST
           or any(c["state"] != "On" for c in lab.status()["dns"]["routing_controls"])):
        assert time.monotonic() < deadline, lab.status()["dns"]
        time.sleep(0.1)


def serving(out: Path) -> bool:
    """True once the load in ``out`` has recorded a successful fresh-connection request."""
    timeline = out / "timeline.jsonl"
    lines = timeline.read_text().splitlines()[:-1] if timeline.exists() else []  # the last may be half-written
    return any(r.get("name") == "fresh:GET /health" and r.get("ok", 0) > 0 for r in map(json.loads, lines))


def load_target_file(lab: RunningLab, path: Path, cache: str) -> Path:
    data = yaml.safe_load((lab.lab_dir / "target.yaml").read_text())
    data["load"]["dns_cache"] = cache
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_client_that_caches_forever_keeps_failing_while_ttl_clients_recover(lab: RunningLab,
                                                                           tmp_path: Path) -> None:
    lab.wait_healthy()
    procs = {cache: aftershock("load", "--target", str(load_target_file(lab, tmp_path / f"{cache}.yaml", cache)),
                               "--users", "2", "--duration", "35s", "--response-timeout", "2", "--out",
                               str(tmp_path / cache), timeout=90) for cache in ("ttl", "forever")}
    pids = [p["pid"] for d in lab.status()["deployments"] if d["region"] == EAST for p in d["pods"] if p["pid"]]
    deadline = time.monotonic() + 60
    while not all(serving(tmp_path / cache) for cache in procs):  # Locust takes seconds to start on 2 cores
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs.values()), "a load did not start"
        time.sleep(0.2)
    time.sleep(2.0)  # served from the primary for a while
    frozen_at = time.time()
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        results = {cache: finish(proc, 90) for cache, proc in procs.items()}
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    for cache, (code, out) in results.items():
        assert code == 0, (cache, out)
    ttl = json.loads((tmp_path / "ttl" / "load.json").read_text())
    forever = json.loads((tmp_path / "forever" / "load.json").read_text())
    ttl_fresh = [o for o in ttl["fresh_outages"] if o["start_ms"] >= frozen_at * 1000 - 500]
    forever_fresh = [o for o in forever["fresh_outages"] if o["start_ms"] >= frozen_at * 1000 - 500]
    changed = next(e["ts"] for e in lab.events(since=frozen_at) if e["kind"] == "dns.answer_changed")
    ttl_s = lab.status()["dns"]["ttl_s"]
    # the fresh-connection probe resolves on every request: with the TTL it is back one TTL after the change
    assert ttl_fresh and ttl_fresh[-1]["end_ms"] is not None, ttl["fresh_outages"]
    assert ttl_fresh[-1]["end_ms"] / 1000 <= changed + ttl_s + 0.5, (ttl_fresh[-1], changed)
    # forever: the outage is not over when the load ends, and it covers (nearly) the whole run after the freeze
    assert forever_fresh and forever_fresh[-1]["end_ms"] is None, forever["fresh_outages"]
    assert forever_fresh[-1]["last_bad_ms"] / 1000 >= frozen_at + 10


def test_losing_the_primary_front_door_is_judged_on_rto_with_its_dns_phases(lab: RunningLab, tmp_path: Path) -> None:
    run, summary = green_run(lab, "dns-region-failover", tmp_path)
    figures = summary["figures"]
    fault_at = first_marker(run, "fault.start")
    events = lab.events(since=fault_at - 1)
    check_rto_phases(figures, events)  # all known, adding up to the RTO within 10 ms, lab instants
    phases = figures["rto_phases"]
    assert figures["rto_s"] > 0 and phases["detection_s"] > 0, figures
    assert phases["detected_by"].startswith("dns.health_check_failed"), phases
    assert phases["repaired_by"].startswith(("dns.ttl_expired", "alb.", "pod.")), phases
    # the independent record: what the ALBs (where DNS sent the clients) answered, from Envoy's access logs
    truth = rto_from_access_log(lab.lab_dir, fault_at, until=first_marker(run, "rollbacks.start"),
                                slow_ms=figures["slow_ms"], listeners=(f"alb-{EAST}", f"alb-{WEST}"))
    assert abs(figures["rto_s"] - truth) <= RTO_TOLERANCE_S, (figures["rto_s"], truth)
    dns = figures["dns"]
    failed = next(e["ts"] for e in events if e["kind"] == "dns.health_check_failed" and e["ts"] >= fault_at)
    assert abs(dns["detection_s"] - (failed - fault_at)) <= 0.01 and dns["ttl_s"] == lab.status()["dns"]["ttl_s"]
    assert dns["resolved_s"] <= dns["served_s"] and figures["dns_served_s"] == dns["served_s"], dns
    assert [a["region"] for a in dns["answers"]][:1] == [EAST] and dns["answers"][-1]["region"] == WEST, dns
    assert f"DNS failover of {dns['record']}" in (run / "report.md").read_text()
    # rolled back: the ALB answers again, the check recovers and the name resolves to the primary again
    status = lab.status()["dns"]
    assert status["albs_down"] == [] and not any(e["kind"] == "alb.outage_started" for e in lab.events(
        since=first_marker(run, "rollbacks.start")))
    deadline = time.monotonic() + 15
    while lab.status()["dns"]["region"] != EAST:
        assert time.monotonic() < deadline, "the name did not move back to the primary after the rollback"
        time.sleep(0.1)
