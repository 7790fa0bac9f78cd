"""The ALBs: registration, health checks, deregistration (real Envoy, real HTTP pods)."""

from __future__ import annotations

import time
from pathlib import Path

from aftershock.lab.envoy.models import ALB_LAB_HEALTH
from tests.lab.conftest_envoy import serving_lab

SLACK_S = 1.5  # scheduling noise on 2 shared cores


def test_front_door_reaches_every_ready_pod_of_the_primary(tmp_path: Path) -> None:
    with serving_lab(tmp_path) as lab:
        hits = lab.pods_hit(30)
        assert set(hits) == {"pod-us-east-1a", "pod-us-east-1b", "pod-us-east-1c"}
        assert [h.zone for h in lab.envoy.host_health()["alb-us-east-1"]] == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_a_new_target_gets_traffic_only_after_passing_health_checks(tmp_path: Path) -> None:
    with serving_lab(tmp_path) as lab:
        late = lab.pod("pod-us-east-1a-late", "us-east-1a")
        late.ready_status = 503
        east = [p for p in lab.pods if p.region == "us-east-1"]
        applied = lab.envoy.set_alb_targets("us-east-1", [p.endpoint for p in east])
        assert applied.seconds is not None and applied.seconds < 1.0
        hosts = {h.name: h for h in lab.envoy.host_health()["alb-us-east-1"]}
        assert not hosts["pod-us-east-1a-late"].healthy
        time.sleep(ALB_LAB_HEALTH.interval_s * 3)
        assert "pod-us-east-1a-late" not in lab.pods_hit(30)

        late.ready_status = 200
        took = lab.wait_for(lambda: "pod-us-east-1a-late" in lab.healthy("alb-us-east-1"), "late pod healthy")
        assert took < ALB_LAB_HEALTH.interval_s * ALB_LAB_HEALTH.healthy_threshold + ALB_LAB_HEALTH.timeout_s + SLACK_S
        assert "pod-us-east-1a-late" in lab.pods_hit(30)


def test_a_deregistered_target_stops_getting_traffic_at_once(tmp_path: Path) -> None:
    with serving_lab(tmp_path) as lab:
        keep = [p for p in lab.pods if p.region == "us-east-1" and p.name != "pod-us-east-1b"]
        lab.register("us-east-1", keep)  # waits until Envoy has the new target list
        assert set(lab.pods_hit(30)) == {"pod-us-east-1a", "pod-us-east-1c"}
        assert {h.name for h in lab.envoy.host_health()["alb-us-east-1"]} == {"pod-us-east-1a", "pod-us-east-1c"}


def test_an_unready_pod_leaves_rotation_within_interval_times_threshold(tmp_path: Path) -> None:
    with serving_lab(tmp_path) as lab:
        sick = next(p for p in lab.pods if p.name == "pod-us-east-1b")
        sick.ready_status = 503
        took = lab.wait_for(lambda: "pod-us-east-1b" not in lab.healthy("alb-us-east-1"), "unready pod ejected")
        assert took <= ALB_LAB_HEALTH.detection_s + SLACK_S
        assert "pod-us-east-1b" not in lab.pods_hit(30)
        failing = [h for h in lab.envoy.host_health()["alb-us-east-1"] if h.name == "pod-us-east-1b"]
        assert failing[0].failed_active_hc
