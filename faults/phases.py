"""Where the RTO phases' boundaries come from: the target's platform records, mapped to
:class:`~aftershock.core.phases.PlatformEvent`.

A driver that can tell offers :class:`PlatformEventSource` (the lab: below; AWS: RDS events, ALB target health,
GA endpoint health, Route 53 health checks and ARC routing controls, :mod:`aftershock.faults.aws.platform_events`);
the others leave every platform phase unknown.

The lab's records and what they mark:

* detected - Envoy ejected a host (``eject_unhealthy``), the database monitor saw the writer down
  (``db.writer_down``), a switchover started, the pod controller saw a pod die (``pod.died``);
* repaired - Envoy ejected a host (traffic shifted off it: an ejection is both) or added one back
  (``add_healthy``), ``db.promoted``, ``db.endpoint_moved``, ``db.writer_changed``, ``db.global_failover``,
  ``alb.targets_changed``, ``pod.ready``.

On the lab, measured: az-outage splits fully (pod died +0.04 s, endpoint moved +0.26 s, recovered +0.76 s); a pod
kill's repair is Envoy's ejection of the dead hosts; after a writer crash the clients may recover before the
endpoint moved (the pods' retries reach the promoted reader first): the failover then ends at the recovery and
client recovery is 0 (:func:`aftershock.core.phases.split_phases`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from aftershock.core.phases import Boundary, PlatformEvent

LAB_EVENTS: Mapping[str, Boundary] = {
    "db.writer_down": Boundary.DETECTED,
    "db.switchover_started": Boundary.DETECTED,
    "pod.died": Boundary.DETECTED,
    "db.promoted": Boundary.REPAIRED,
    "db.endpoint_moved": Boundary.REPAIRED,
    "db.writer_changed": Boundary.REPAIRED,
    "db.global_failover": Boundary.REPAIRED,
    "alb.targets_changed": Boundary.REPAIRED,
    "pod.ready": Boundary.REPAIRED,
    "dns.health_check_failed": Boundary.DETECTED,  # Route 53 (route53-failover lab): threshold x interval
    "dns.ttl_expired": Boundary.REPAIRED,  # one TTL after the answer changed: every honest cache has it
}
"""The lab event kinds that mark a phase boundary (the others do not)."""

ENVOY_HEALTH: Mapping[str, tuple[Boundary, ...]] = {
    "eject_unhealthy": (Boundary.DETECTED, Boundary.REPAIRED),  # noticed, and traffic shifted off the host
    "add_healthy": (Boundary.REPAIRED,),
}
"""Envoy health-check transitions that mark phase boundaries (first checks of new hosts and failures do not)."""

LAB_SOURCES = ("lab events", "envoy health checks")


@runtime_checkable
class PlatformEventSource(Protocol):
    """A driver that reports what its platform did between two instants (epoch seconds)."""

    def platform_events(self, since: float, until: float) -> tuple[tuple[PlatformEvent, ...], tuple[str, ...]]:
        """The boundary events in ``[since, until]`` and the names of the sources read."""
        ...


GA_CLUSTER_PREFIX = "ga-via-"
"""Envoy clusters of the Global Accelerator listener: not on the clients' path with the route53-failover front
door (clients reach the ALBs DNS answers), so their health events mark nothing there."""


def lab_platform_events(events: Iterable[Mapping[str, Any]], health: Iterable[Mapping[str, Any]], *,
                        since: float, until: float, dns_front_door: bool = False) -> tuple[PlatformEvent, ...]:
    """The lab's event log (``GET /events``) and Envoy's health-check events (``GET /health-events``) as
    boundaries in ``[since, until]``, oldest first; with ``dns_front_door`` the GA listener's are left out."""
    if dns_front_door:
        health = [h for h in health if not str(h.get("cluster") or "").startswith(GA_CLUSTER_PREFIX)]
    found = []
    for event in events:
        boundary = LAB_EVENTS.get(str(event.get("kind")))
        if boundary is not None:
            detail = (event.get("instance") or event.get("pod") or event.get("writer") or event.get("check")
                      or event.get("region") or "")
            found.append(PlatformEvent(float(event["ts"]), boundary, f"{event['kind']} {detail}".strip()))
    for event in health:
        what = f"envoy {event.get('event')} {event.get('host')} in {event.get('cluster')}"
        found.extend(PlatformEvent(float(event["ts"]), boundary, what)
                     for boundary in ENVOY_HEALTH.get(str(event.get("event")), ()))
    return tuple(sorted((e for e in found if since <= e.ts <= until), key=lambda e: e.ts))


__all__ = ["ENVOY_HEALTH", "LAB_EVENTS", "LAB_SOURCES", "PlatformEventSource", "lab_platform_events"]
