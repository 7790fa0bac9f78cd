"""Route 53 health checks, Route 53's answer and ARC routing controls, as sampled, as RTO phase boundaries on AWS:
the events named like the lab's (``dns.health_check_failed``, ``dns.health_check_recovered``,
``dns.answer_changed``, ``dns.ttl_expired``, ``arc.routing_control_updated``) at the sample that saw the change,
with the interval since the sample before as the instant's uncertainty; and ``measure_rto`` on an AWS run with a
DNS front door names them as ``detected_by`` / ``repaired_by`` (no AWS call: every AWS endpoint is a closed local
port, the target has no database and no target group, so only the sampled sources are read)."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from aftershock.core.dns_sample import DnsSample
from aftershock.core.phases import Boundary, RtoPhases
from aftershock.core.plan import write_plan
from aftershock.core.route53 import Route53
from aftershock.core.runfolder import RunFolder
from aftershock.core.samples import Sample, append_sample
from aftershock.core.target import Target, dump_target, parse_target
from aftershock.faults.aws.dns_events import arc_events, dns_observed, route53_events
from aftershock.planning import resolve_plan
from aftershock.probes.recovery import measure_rto
from tests.runkit import mark_at, requests_between, write_timeline

EAST, WEST = "us-east-1", "us-west-2"
EAST_ALB, WEST_ALB = "east-alb-1.us-east-1.elb.amazonaws.com", "west-alb-2.us-west-2.elb.amazonaws.com"
RC = "arn:aws:route53-recovery-control::123456789012:controlpanel/0123456789abcdef/routingcontrol/"
PRECISION_S = 0.011
"""A request every 10 ms: the recovery edge lies on that grid (float rounding may put it one request later)."""


def make_target(*, ttl_s: float = 60.0, arc: bool = False) -> Target:
    dns: dict[str, Any] = {
        "zone": "example.com", "record": "shop.example.com", "ttl_s": ttl_s, "hosted_zone_id": "Z1",
        "answers": {EAST: EAST_ALB, WEST: WEST_ALB},
        "health_checks": [{"region": EAST, "id": "hc-east"}, {"region": WEST, "id": "hc-west"}]}
    if arc:
        dns |= {"routing_controls": [{"region": EAST, "arn": RC + "east"}, {"region": WEST, "arn": RC + "west"}],
                "cluster_endpoints": [{"region": EAST, "url": "https://host-a.us-east-1.example.com/v1"}]}
    return parse_target({
        "name": "aws-dns-phases", "kind": "aws",
        "regions": [{"name": EAST, "role": "primary", "azs": [f"{EAST}a"]},
                    {"name": WEST, "role": "secondary", "azs": [f"{WEST}a"]}],
        "front_door": {"kind": "route53-failover", "url": "https://shop.example.com",
                       "endpoint_groups": [{"region": EAST, "traffic_dial": 100, "load_balancer": "alb-east"},
                                           {"region": WEST, "traffic_dial": 0, "load_balancer": "alb-west"}],
                       "dns": dns},
        "aws": {"allowed_account_ids": ["123456789012"]}}, "aws-dns-phases.yaml")


def dns_of(target: Target) -> Route53:
    assert target.front_door.dns is not None
    return target.front_door.dns


def dns_sample(ts: float, east: bool | None, *, answer: str | None = EAST, control: str | None = None,
               share: float | None = None) -> Sample:
    """A sample of the DNS front door: east's health check status (west healthy), Route 53's answer, and east's
    routing control (``control``; west On) when given."""
    controls = ((EAST, control), (WEST, "On")) if control is not None else ()
    east_share = share if share is not None else (None if east is None else (1.0 if east else 0.0))
    return Sample(ts=ts, dns=DnsSample(
        route53_region=answer, route53_answer=(EAST_ALB if answer == EAST else WEST_ALB,) if answer else (),
        healthy_share=((EAST, east_share), (WEST, 1.0)), check_healthy=((EAST, east), (WEST, True)),
        routing_controls=controls))


def test_health_check_transitions_mark_detection_and_recovery_at_the_sample_that_saw_them() -> None:
    samples = [dns_sample(10.0, True), dns_sample(10.5, True),
               dns_sample(11.0, None),  # the status call failed: unknown, skipped (the gap widens)
               Sample(ts=11.5, error="ClientError: Throttling"),  # a failed observation: skipped
               dns_sample(12.0, False, share=0.125), dns_sample(12.5, False),
               dns_sample(20.0, True)]
    found = route53_events(samples, dns_of(make_target()))
    assert [(e.ts, e.boundary) for e in found] == [(12.0, Boundary.DETECTED), (20.0, Boundary.REPAIRED)]
    # the change happened between the last sample that knew the status (10.5) and this one: 1.50 s
    assert found[0].what == ("dns.health_check_failed us-east-1 (health check hc-east of shop.example.com: 12.5% of "
                             "the checkers healthy; 1.50 s after the last sample)")
    assert found[1].what.startswith("dns.health_check_recovered us-east-1 (health check hc-east")
    assert found[1].what.endswith("; 7.50 s after the last sample)")
    assert route53_events(samples[:2], dns_of(make_target())) == []


def test_an_answer_change_marks_the_repair_and_one_ttl_later_every_cache_has_it() -> None:
    samples = [dns_sample(10.0, True), dns_sample(10.5, False), dns_sample(11.0, False, answer=None),
               dns_sample(11.5, False, answer=WEST)]
    found = route53_events(samples, dns_of(make_target(ttl_s=60)))
    assert [(e.ts, e.boundary, e.what.split(" (")[0]) for e in found] == [
        (10.5, Boundary.DETECTED, "dns.health_check_failed us-east-1"),
        (11.5, Boundary.REPAIRED, "dns.answer_changed shop.example.com: us-east-1 -> us-west-2"),
        (71.5, Boundary.REPAIRED, "dns.ttl_expired us-west-2")]
    assert found[1].what.endswith("(test_dns_answer; 1.00 s after the last sample)")  # the unknown answer skipped
    assert "TTL 60 s, front_door.dns.ttl_s" in found[2].what


def test_a_routing_control_change_marks_off_as_detection_and_on_as_repair() -> None:
    samples = [dns_sample(10.0, None, control="On"), dns_sample(10.4, None, control=None),
               dns_sample(10.8, None, control="Off"), dns_sample(11.2, None, control="Off"),
               dns_sample(15.0, None, control="On")]
    found = arc_events(samples)
    assert [(e.ts, e.boundary, e.what) for e in found] == [
        (10.8, Boundary.DETECTED, "arc.routing_control_updated us-east-1 Off (was On; 0.80 s after the last sample)"),
        (15.0, Boundary.REPAIRED, "arc.routing_control_updated us-east-1 On (was Off; 3.80 s after the last sample)")]


def test_a_window_without_a_known_value_is_not_observed() -> None:
    samples = [dns_sample(10.0, True, control="On"), dns_sample(10.5, None, answer=None),
               dns_sample(30.0, True, control="On")]
    assert dns_observed(samples, "route53-health-checks", 10.2, 10.8)  # a known value inside
    assert not dns_observed(samples, "arc-routing-controls", 10.2, 10.8)  # 10.0 .. 30.0: more than 10 s apart
    assert not dns_observed(samples, "route53-health-checks", 12.0, 20.0)


@pytest.fixture
def closed_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:  # a port nothing listens on: a stray call could not leave the machine
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def aws_run(tmp_path: Path, target: Target) -> RunFolder:
    dump_target(target, tmp_path / "aws-dns.yaml")
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    write_plan(run, resolve_plan({}, experiment="dns.yaml", target_ref=str(tmp_path / "aws-dns.yaml")))
    return run


def outage(run: RunFolder, until_s: float) -> float:
    """The primary region's front door lost at ``fault``: requests fail from +0.04 s to ``until_s``."""
    now = time.time()
    fault = now - 6
    write_timeline(run, requests_between(fault - 1.0, now, down=[(fault + 0.044, fault + until_s)]))
    mark_at(run, fault, "fault.start", action="lose_region_front_door", role="disruption")
    return fault


def test_a_dns_failover_on_aws_is_detected_by_route53s_health_check(tmp_path: Path, closed_aws: None) -> None:
    run = aws_run(tmp_path, make_target(ttl_s=1.0))
    fault = outage(run, 2.6)
    # east's check fails at +1.5 s (Route 53 saw it, 18 % rule), its answer names the west from +2.0 s
    for offset, east, answer in ((-0.5, True, EAST), (0.0, True, EAST), (0.5, True, EAST), (1.0, True, EAST),
                                 (1.5, False, EAST), (2.0, False, WEST), (2.5, False, WEST), (3.0, False, WEST),
                                 (3.5, False, WEST)):
        append_sample(run, dns_sample(fault + offset, east, answer=answer))
    result: dict[str, Any] = measure_rto(timeout_s=2, sustain_s=1,
                                         configuration={"aftershock_run_dir": str(run.path)})
    assert result["rto_s"] == pytest.approx(2.6, abs=PRECISION_S)
    phases = RtoPhases.from_dict(result["phases"])
    assert phases.sources == ("route53-health-checks",) and phases.problem == ""
    assert phases.detected_by.startswith("dns.health_check_failed us-east-1 (health check hc-east"), phases
    assert phases.detected_by.endswith("0.50 s after the last sample)")  # the instant's uncertainty
    assert phases.detection_s == pytest.approx(1.5, abs=1e-3)
    # the answer moved at +2.0 s; its TTL (1 s) ran out after the clients had recovered: not waited for
    assert phases.repaired_by.startswith("dns.answer_changed shop.example.com: us-east-1 -> us-west-2")
    assert phases.failover_s == pytest.approx(0.5, abs=1e-3)
    assert phases.known and sum(p or 0.0 for p in (phases.detection_s, phases.failover_s,
                                                   phases.client_recovery_s)) == pytest.approx(result["rto_s"],
                                                                                               abs=1e-9)


def test_a_routing_control_turned_off_on_aws_names_arc_as_the_detection(tmp_path: Path, closed_aws: None) -> None:
    run = aws_run(tmp_path, make_target(ttl_s=1.0, arc=True))
    fault = outage(run, 1.2)
    for offset, control, answer in ((-0.5, "On", EAST), (0.0, "On", EAST), (0.5, "Off", WEST), (1.0, "Off", WEST),
                                    (1.5, "Off", WEST), (2.0, "Off", WEST), (2.5, "Off", WEST)):
        append_sample(run, dns_sample(fault + offset, True, answer=answer, control=control))
    result: dict[str, Any] = measure_rto(timeout_s=2, sustain_s=1,
                                         configuration={"aftershock_run_dir": str(run.path)})
    phases = RtoPhases.from_dict(result["phases"])
    assert phases.sources == ("route53-health-checks", "arc-routing-controls") and phases.problem == ""
    assert phases.detected_by == "arc.routing_control_updated us-east-1 Off (was On; 0.50 s after the last sample)"
    assert phases.repaired_by.startswith("dns.answer_changed shop.example.com: us-east-1 -> us-west-2")
    assert (phases.detection_s, phases.failover_s) == (pytest.approx(0.5, abs=1e-3), 0.0)
    assert phases.client_recovery_s == pytest.approx(0.7, abs=PRECISION_S)


def test_without_route53_samples_the_phases_are_unknown_with_the_reason(tmp_path: Path, closed_aws: None) -> None:
    run = aws_run(tmp_path, make_target())
    fault = outage(run, 2.6)
    append_sample(run, Sample(ts=fault + 0.5, error="ClientError: Throttling"))
    result = measure_rto(timeout_s=2, sustain_s=1, configuration={"aftershock_run_dir": str(run.path)})
    phases = RtoPhases.from_dict(result["phases"])
    assert result["rto_s"] == pytest.approx(2.6, abs=PRECISION_S)  # the RTO stands
    assert (phases.detection_s, phases.failover_s, phases.client_recovery_s) == (None, None, None)
    assert phases.problem.startswith("route53-health-checks: no sample of it between ")
