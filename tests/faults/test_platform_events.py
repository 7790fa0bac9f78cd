"""The lab's records as RTO phase boundaries: its event log and Envoy's health-check events."""

from __future__ import annotations

from aftershock.core.phases import Boundary, split_phases
from aftershock.faults.phases import lab_platform_events


def test_lab_events_and_envoy_health_become_boundaries() -> None:
    events = [{"ts": 9.0, "kind": "db.promoted", "instance": "old"},
              {"ts": 10.2, "kind": "db.crashed", "instance": "db-a1"},  # the fault itself: no boundary
              {"ts": 11.0, "kind": "db.writer_down", "instance": "db-a1"},
              {"ts": 13.0, "kind": "db.promoted", "instance": "db-a2"},
              {"ts": 13.2, "kind": "db.endpoint_moved", "writer": "db-a2"},
              {"ts": 13.3, "kind": "hpa.decision"}]
    health = [{"ts": 10.5, "cluster": "alb-us-east-1", "host": "127.0.0.1:8081", "event": "eject_unhealthy"},
              {"ts": 10.6, "cluster": "alb-us-east-1", "host": "127.0.0.1:8081", "event": "health_check_failure"},
              {"ts": 12.0, "cluster": "alb-us-east-1", "host": "127.0.0.1:8082", "event": "add_healthy_first"}]
    found = lab_platform_events(events, health, since=10.0, until=14.0)
    assert [(e.ts, e.boundary, e.what) for e in found] == [
        (10.5, Boundary.DETECTED, "envoy eject_unhealthy 127.0.0.1:8081 in alb-us-east-1"),
        (10.5, Boundary.REPAIRED, "envoy eject_unhealthy 127.0.0.1:8081 in alb-us-east-1"),
        (11.0, Boundary.DETECTED, "db.writer_down db-a1"),
        (13.0, Boundary.REPAIRED, "db.promoted db-a2"),
        (13.2, Boundary.REPAIRED, "db.endpoint_moved db-a2"),
    ]
    phases = split_phases(10.0, 13.5, found, sources=("lab events", "envoy health checks"))
    assert (phases.detection_s, phases.failover_s, phases.client_recovery_s) == (0.5, 2.7, 0.3)


def test_a_pod_kill_is_repaired_when_envoy_ejects_the_dead_hosts() -> None:
    """As measured on the lab: pods killed at +0, seen dead at +0.07, ejected at +0.85, clients good at +1.83."""
    events = [{"ts": 100.006, "kind": "alb.targets_changed", "region": "us-east-1"},
              {"ts": 100.07, "kind": "pod.died", "pod": "shop-b-1"}]
    health = [{"ts": 100.851, "cluster": "alb-us-east-1", "host": "127.0.0.1:1", "event": "eject_unhealthy"},
              {"ts": 100.864, "cluster": "alb-us-east-1", "host": "127.0.0.1:2", "event": "eject_unhealthy"}]
    phases = split_phases(100.0, 101.835, lab_platform_events(events, health, since=100.0, until=101.835))
    assert (phases.detection_s, phases.failover_s, phases.client_recovery_s) == (0.07, 0.794, 0.971)
    assert phases.repaired_by == "envoy eject_unhealthy 127.0.0.1:2 in alb-us-east-1"
