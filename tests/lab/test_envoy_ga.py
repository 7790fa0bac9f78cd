"""Global Accelerator: traffic dials without restart, health-checked failover and failback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aftershock.core.errors import FaultRefused
from aftershock.lab.envoy import config
from aftershock.lab.envoy.models import ALB_LAB_HEALTH, GA_LAB_HEALTH
from aftershock.lab.events import read_events
from tests.lab.conftest_envoy import serving_lab


def test_dial_zero_sends_traffic_to_the_secondary_without_restart(tmp_path: Path) -> None:
    with serving_lab(tmp_path) as lab:
        pid = lab.envoy.pid
        assert set(lab.regions_hit(10)) == {"us-east-1"}
        applied = lab.envoy.set_traffic_dials({"us-east-1": 0})
        assert applied.seconds is not None and applied.seconds < 1.0
        assert set(lab.regions_hit(20)) == {"us-west-2"}
        assert lab.envoy.pid == pid
        assert lab.envoy.dials() == {"us-east-1": 0, "us-west-2": 0}
        [event] = [e for e in read_events(lab.events.path) if e.kind == "dial.changed"]
        assert event.fields["dials"] == {"us-east-1": 0, "us-west-2": 0}
        assert event.fields["weights"] == {"us-east-1": 0, "us-west-2": 100}


def test_dial_fifty_splits_roughly_in_half(tmp_path: Path) -> None:
    with serving_lab(tmp_path) as lab:
        lab.envoy.set_traffic_dials({"us-east-1": 50})
        hits = lab.regions_hit(200)
        assert set(hits) == {"us-east-1", "us-west-2"}
        assert 60 <= hits["us-east-1"] <= 140, hits


def test_primary_down_fails_over_to_the_secondary_and_back(tmp_path: Path) -> None:
    with serving_lab(tmp_path) as lab:
        east = [p for p in lab.pods if p.region == "us-east-1"]
        for pod in east:
            pod.down()
        # ALB ejects the pods, then GA needs `unhealthy` failed checks of the ALB (which now answers 503).
        bound = ALB_LAB_HEALTH.detection_s + GA_LAB_HEALTH.detection_s + GA_LAB_HEALTH.interval_s + 3.0
        failover = lab.wait_for(lambda: lab.healthy("ga-via-us-east-1") == {"alb-us-west-2"}, "GA failover")
        assert failover <= bound
        assert set(lab.regions_hit(20)) == {"us-west-2"}

        for pod in east:
            pod.up()
        failback = lab.wait_for(lambda: "alb-us-east-1" in lab.healthy("ga-via-us-east-1"), "GA failback")
        assert failback <= bound + GA_LAB_HEALTH.interval_s * GA_LAB_HEALTH.healthy_threshold
        assert set(lab.regions_hit(20)) == {"us-east-1"}


def test_deregistering_every_primary_target_fails_over(tmp_path: Path) -> None:
    with serving_lab(tmp_path) as lab:
        lab.register("us-east-1", [])
        lab.wait_for(lambda: lab.healthy("ga-via-us-east-1") == {"alb-us-west-2"}, "GA failover")
        assert set(lab.regions_hit(20)) == {"us-west-2"}


@pytest.mark.parametrize(
    ("dials", "message"),
    [
        ({"us-east-1": 101}, "traffic dial for us-east-1 is 101: use an integer percentage from 0 to 100"),
        ({"us-west-2": -1}, "traffic dial for us-west-2 is -1: use an integer percentage from 0 to 100"),
    ],
)
def test_a_bad_dial_is_refused_and_changes_nothing(tmp_path: Path, dials: dict[str, int], message: str) -> None:
    with serving_lab(tmp_path) as lab:
        route_file = lab.envoy.paths.dynamic(config.FRONT_DOOR)
        before = json.loads(route_file.read_text())
        with pytest.raises(FaultRefused) as info:
            lab.envoy.set_traffic_dials({"us-east-1": 30, **dials})
        assert str(info.value) == message
        assert lab.envoy.dials() == {"us-east-1": 100, "us-west-2": 0}
        assert json.loads(route_file.read_text()) == before
        assert not [e for e in read_events(lab.events.path) if e.kind == "dial.changed"]
