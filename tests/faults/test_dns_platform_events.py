"""With the route53-failover front door, the GA listener's health events mark no RTO phase boundary (clients
reach the ALBs DNS answers): detection is Route 53's health check failing, the failover ends one TTL later."""

from __future__ import annotations

from aftershock.core.phases import Boundary
from aftershock.faults.phases import lab_platform_events

EVENTS = [{"ts": 11.5, "kind": "dns.health_check_failed", "check": "hc-us-east-1"},
          {"ts": 13.5, "kind": "dns.ttl_expired", "region": "us-west-2"}]
HEALTH = [{"ts": 11.2, "event": "eject_unhealthy", "host": "127.0.1.1:8080", "cluster": "ga-via-us-west-2"},
          {"ts": 11.3, "event": "eject_unhealthy", "host": "127.0.0.1:9001", "cluster": "alb-us-east-1"}]


def test_ga_health_events_are_left_out_with_a_dns_front_door() -> None:
    found = lab_platform_events(EVENTS, HEALTH, since=10.0, until=20.0, dns_front_door=True)
    assert [(e.ts, e.boundary, e.what) for e in found] == [
        (11.3, Boundary.DETECTED, "envoy eject_unhealthy 127.0.0.1:9001 in alb-us-east-1"),
        (11.3, Boundary.REPAIRED, "envoy eject_unhealthy 127.0.0.1:9001 in alb-us-east-1"),
        (11.5, Boundary.DETECTED, "dns.health_check_failed hc-us-east-1"),
        (13.5, Boundary.REPAIRED, "dns.ttl_expired us-west-2")]
    with_ga = lab_platform_events(EVENTS, HEALTH, since=10.0, until=20.0)
    assert with_ga[0].what == "envoy eject_unhealthy 127.0.1.1:8080 in ga-via-us-west-2"
