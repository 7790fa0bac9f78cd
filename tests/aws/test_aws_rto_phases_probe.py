"""``measure_rto`` on an AWS run: the probe builds the AWS driver from the run's plan and splits the RTO with the
sampled ALB target health (no AWS call: the target has no database, and every AWS endpoint is a closed local port
so a stray call could not leave the machine)."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from aftershock.core.phases import RtoPhases
from aftershock.core.plan import write_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.samples import Sample, append_sample
from aftershock.core.target import dump_target, parse_target
from aftershock.planning import resolve_plan
from aftershock.probes.recovery import measure_rto
from tests.runkit import mark_at, requests_between, write_timeline

EAST, WEST = "us-east-1", "us-west-2"
PRECISION_S = 0.002


@pytest.fixture
def aws_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunFolder:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    target = parse_target({
        "name": "aws-probe", "kind": "aws",
        "regions": [{"name": EAST, "role": "primary", "azs": [f"{EAST}a", f"{EAST}b"]},
                    {"name": WEST, "role": "secondary", "azs": [f"{WEST}a"]}],
        "front_door": {"url": "https://shop.example.com", "listener_arn": "arn:aws:globalaccelerator::1:a/l",
                       "endpoint_groups": [{"region": EAST, "traffic_dial": 100, "load_balancer": "alb-east"},
                                           {"region": WEST, "traffic_dial": 0, "load_balancer": "alb-west"}]},
        "load_balancers": [{"name": "alb-east", "region": EAST, "target_group_arn": "arn:aws:tg/shop"}],
        "deployments": [{"name": "shop", "region": EAST, "replicas": 3}],
        "aws": {"allowed_account_ids": ["123456789012"]}}, "aws-probe.yaml")
    dump_target(target, tmp_path / "aws-probe.yaml")
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    write_plan(run, resolve_plan({}, experiment="az.yaml", target_ref=str(tmp_path / "aws-probe.yaml")))
    return run


def _outage(run: RunFolder) -> float:
    """An AZ lost at ``fault``: requests fail from +0.04 s to +0.60 s; the sampler saw an ALB target unhealthy
    at +0.45 s. Returns the fault's time."""
    now = time.time()
    fault = now - 6
    write_timeline(run, requests_between(fault - 1.0, now, down=[(fault + 0.044, fault + 0.6)]))
    mark_at(run, fault, "fault.start", action="az_outage", role="disruption")
    return fault


def _sample(run: RunFolder, ts: float, healthy: int) -> None:
    states = (("healthy", healthy), ("unhealthy", 3 - healthy))
    append_sample(run, Sample(ts=ts, dials=((EAST, 100), (WEST, 0)), alb_target_states=(("alb-east", states),),
                              endpoints_healthy=((EAST, True), (WEST, True))))


def test_an_aws_run_has_known_phases_adding_up_to_the_rto(aws_run: RunFolder) -> None:
    fault = _outage(aws_run)
    for offset, healthy in ((-0.5, 3), (0.0, 3), (0.45, 2), (1.0, 2), (2.0, 2)):
        _sample(aws_run, fault + offset, healthy)
    result: dict[str, Any] = measure_rto(timeout_s=2, sustain_s=1,
                                         configuration={"aftershock_run_dir": str(aws_run.path)})
    assert result["rto_s"] == pytest.approx(0.6, abs=PRECISION_S)
    phases = RtoPhases.from_dict(result["phases"])
    assert phases.sources == ("alb-target-health", "ga-endpoint-health") and phases.problem == ""
    assert phases.detection_s == pytest.approx(0.45, abs=1e-3)  # the sample that saw the target unhealthy
    assert phases.failover_s == 0.0  # the ALB routed to the healthy targets from then on
    assert phases.known
    assert sum(p or 0.0 for p in (phases.detection_s, phases.failover_s, phases.client_recovery_s)) == pytest.approx(
        result["rto_s"], abs=1e-9)
    assert phases.detected_by.startswith("alb alb-east: target(s) unhealthy (2 healthy, 1 unhealthy; 3 healthy ")


def test_an_aws_run_without_samples_reports_its_phases_unknown_with_the_reason(aws_run: RunFolder) -> None:
    _outage(aws_run)
    result = measure_rto(timeout_s=2, sustain_s=1, configuration={"aftershock_run_dir": str(aws_run.path)})
    phases = RtoPhases.from_dict(result["phases"])
    assert result["rto_s"] == pytest.approx(0.6, abs=PRECISION_S)  # the RTO stands
    assert (phases.detection_s, phases.failover_s, phases.client_recovery_s) == (None, None, None)
    assert phases.problem.startswith("alb-target-health: no sample of it between ")
