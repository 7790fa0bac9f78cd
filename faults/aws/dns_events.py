"""Route 53 health checks, Route 53's answer and ARC routing controls, as sampled (``samples.jsonl`` ``dns``), as
RTO phase boundaries named like the lab's DNS events (:mod:`aftershock.lab.dns`).

A transition between two samples that both know the value marks:

* ``dns.health_check_failed <region>`` - Route 53's status of the region's health check went unhealthy
  (:mod:`.dns_observe`): *detected*; ``dns.health_check_recovered <region>`` - healthy again: *repaired*;
* ``dns.answer_changed`` - the region ``test_dns_answer`` names changed (Route 53 answers with the other record):
  *repaired*; and ``dns.ttl_expired <region>`` one record TTL later (``front_door.dns.ttl_s``: every cache that
  honours the TTL has the new answer), *repaired*, as the lab emits it;
* ``arc.routing_control_updated <region> <state>`` - a routing control changed: ``Off`` takes its record out of
  DNS at once (*detected*, like the lab's RECOVERY_CONTROL check failing), ``On`` lets it answer again (*repaired*).

As with ALB and GA health (:mod:`.health_events`): the event carries the later sample's time (Route 53 had
changed by then, so detection is never shortened) and ``what`` says how long before the earlier sample was taken:
the instant's uncertainty is that sampling interval. A sample that failed, or does not know the value (a call
failed: None), is skipped, so the gap (and the uncertainty) widens; the first known value marks nothing.

Example::

    route53_events(read_samples(run), target.front_door.dns)
    # [PlatformEvent(ts=..., boundary=DETECTED, what="dns.health_check_failed us-east-1 (health check hc-1 ...")]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aftershock.core.dns_sample import DnsSample
from aftershock.core.phases import Boundary, PlatformEvent
from aftershock.core.route53 import Route53
from aftershock.core.samples import Sample
from aftershock.faults.aws.health_events import observed_at, transitions

ROUTE53_SOURCE = "route53-health-checks"
"""Route 53's status of the target's health checks and its answer for the name (``test_dns_answer``)."""
ARC_SOURCE = "arc-routing-controls"


def _known(samples: Iterable[Sample]) -> Iterable[Sample]:
    return (s for s in samples if s.error is None and s.dns is not None)


def _dns(sample: Sample) -> DnsSample:
    assert sample.dns is not None  # only samples of _known
    return sample.dns


def _share(sample: Sample, region: str) -> str:
    share = dict(sample.dns.healthy_share).get(region) if sample.dns is not None else None
    return "checkers' share unknown" if share is None else f"{share:.1%} of the checkers healthy"


def _check_events(samples: Iterable[Sample], dns: Route53) -> list[PlatformEvent]:
    found: list[PlatformEvent] = []
    for sample, region, _, healthy, gap in transitions(_known(samples), lambda s: _dns(s).check_healthy):
        check = dns.check_of(region)
        kind, boundary = (("dns.health_check_recovered", Boundary.REPAIRED) if healthy
                          else ("dns.health_check_failed", Boundary.DETECTED))
        found.append(PlatformEvent(sample.ts, boundary, (
            f"{kind} {region} (health check {check.id if check else 'of no listed id'} of {dns.record}: "
            f"{_share(sample, region)}; {gap:.2f} s after the last sample)")))
    return found


def _answer_events(samples: Iterable[Sample], dns: Route53) -> list[PlatformEvent]:
    found: list[PlatformEvent] = []
    for sample, _, was, region, gap in transitions(_known(samples), lambda s: (("answer", _dns(s).route53_region),)):
        seen = f"{gap:.2f} s after the last sample"
        found.append(PlatformEvent(sample.ts, Boundary.REPAIRED,
                                   f"dns.answer_changed {dns.record}: {was} -> {region} (test_dns_answer; {seen})"))
        found.append(PlatformEvent(sample.ts + dns.ttl_s, Boundary.REPAIRED,
                                   f"dns.ttl_expired {region} (the answer changed + TTL {dns.ttl_s:g} s, "
                                   f"front_door.dns.ttl_s; {seen})"))
    return found


def route53_events(samples: Sequence[Sample], dns: Route53) -> list[PlatformEvent]:
    """Boundaries from Route 53's health check status and answer in ``samples`` (in order), oldest first."""
    return sorted(_check_events(samples, dns) + _answer_events(samples, dns), key=lambda e: e.ts)


def arc_events(samples: Iterable[Sample]) -> list[PlatformEvent]:
    """Boundaries from the ARC routing control states in ``samples`` (in order), oldest first."""
    found: list[PlatformEvent] = []
    for sample, region, was, state, gap in transitions(_known(samples), lambda s: _dns(s).routing_controls):
        boundary = Boundary.DETECTED if state == "Off" else Boundary.REPAIRED
        found.append(PlatformEvent(sample.ts, boundary, (
            f"arc.routing_control_updated {region} {state} (was {was}; {gap:.2f} s after the last sample)")))
    return found


def dns_observed(samples: Sequence[Sample], source: str, since: float, until: float) -> bool:
    """Whether the sampler knew ``source`` (a health check's status or Route 53's answer; a routing control's
    state) in ``[since, until]`` (as :func:`.health_events.observed`)."""
    def knows(sample: Sample) -> bool:
        dns = sample.dns
        if sample.error is not None or dns is None:
            return False
        if source == ARC_SOURCE:
            return any(state is not None for _, state in dns.routing_controls)
        return dns.route53_region is not None or any(ok is not None for _, ok in dns.check_healthy)

    return observed_at([s.ts for s in samples if knows(s)], since, until)


__all__ = ["ARC_SOURCE", "ROUTE53_SOURCE", "arc_events", "dns_observed", "route53_events"]
