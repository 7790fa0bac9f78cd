"""The AWS target's platform events for the RTO phases (:class:`~aftershock.faults.phases.PlatformEventSource`).

Three sources, each asked only when the target has what it reads:

* ``rds-events`` - ``describe_events`` of the Aurora clusters and instances (:mod:`.rds_events`), when the target
  has a database;
* ``alb-target-health`` - the load balancers' target health as the run's sampler recorded it (``samples.jsonl``,
  :mod:`.health_events`), when a load balancer has a ``target_group_arn``;
* ``ga-endpoint-health`` - Global Accelerator endpoint health, likewise, when the front door is an accelerator;
* ``route53-health-checks`` - Route 53's status of the DNS front door's health checks and its answer
  (``test_dns_answer``), likewise (:mod:`.dns_events`), when the front door is ``route53-failover`` with health
  checks; ``arc-routing-controls`` - the ARC routing controls' states, when the target names routing controls and
  their cluster's endpoints.

A source that was asked and did not answer (an API error, no sample of it in the window) makes every platform
phase unknown: a missing source may hold the earliest detection or the last repair, so the others alone would be a
guess. :class:`~aftershock.core.errors.HarnessError` says which source and why (the probe keeps it in
``RtoPhases.problem``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from aftershock.core.errors import HarnessError
from aftershock.core.phases import PlatformEvent
from aftershock.core.samples import SAMPLES_FILE, Sample, read_samples_between
from aftershock.core.target import Target
from aftershock.faults.aws.calls import CallRecorder
from aftershock.faults.aws.dns_events import ARC_SOURCE, ROUTE53_SOURCE, arc_events, dns_observed, route53_events
from aftershock.faults.aws.health_events import ALB_SOURCE, GA_SOURCE, MAX_GAP_S, alb_events, ga_events, observed
from aftershock.faults.aws.rds_events import RDS_SOURCE, RdsEvents
from aftershock.faults.aws.session import AwsSessions

BASELINE_S = 60.0
"""How far before the window samples are read: the state a transition in the window is compared with (the sampler
failing for longer before the disruption leaves the first transition unseen, so its phase unknown)."""


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S.%f")[:-3] + " UTC"


class AwsPlatformEvents:
    """RDS events, ALB target health, GA endpoint health, Route 53 health checks and ARC routing controls of one
    AWS target as phase boundaries."""

    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder) -> None:
        self._target = target
        self._rec = rec
        self._rds = RdsEvents(target, sessions, rec)

    def __repr__(self) -> str:
        return f"AwsPlatformEvents(target={self._target.name!r}, sources={list(self.sources)})"

    @property
    def sources(self) -> tuple[str, ...]:
        """The sources this target offers (asked in this order)."""
        sampled = [ALB_SOURCE] if any(lb.target_group_arn for lb in self._target.load_balancers) else []
        if self._target.front_door.kind == "global-accelerator":
            sampled.append(GA_SOURCE)
        dns = self._target.front_door.dns if self._target.front_door.kind == "route53-failover" else None
        if dns is not None and dns.health_checks:
            sampled.append(ROUTE53_SOURCE)
        if dns is not None and dns.routing_controls and dns.cluster_endpoints:
            sampled.append(ARC_SOURCE)
        return ((RDS_SOURCE,) if self._rds.asked else ()) + tuple(sampled)

    def read(self, since: float, until: float) -> tuple[tuple[PlatformEvent, ...], tuple[str, ...]]:
        """The boundary events in ``[since, until]`` (epoch s), oldest first, and the sources read."""
        sources = self.sources
        found = list(self._rds.read(since, until)) if RDS_SOURCE in sources else []
        sampled = [s for s in sources if s != RDS_SOURCE]
        if sampled:
            run = self._rec.run
            if run is None:
                raise HarnessError(f"{', '.join(sampled)}: no run folder to read {SAMPLES_FILE} from: read the "
                                   "platform events of a run (aftershock run)", target=self._target.name)
            # the baseline before the window, and the sample that saw a change at its very end
            samples = read_samples_between(run, since - BASELINE_S, until + MAX_GAP_S)
            for source in sampled:
                dns = source in (ROUTE53_SOURCE, ARC_SOURCE)
                if not (dns_observed if dns else observed)(samples, source, since, until):
                    raise HarnessError(
                        f"{source}: no sample of it between {_clock(since)} and {_clock(until)} in "
                        f"{run.file(SAMPLES_FILE)} "
                        "(the sampler did not run or every observation failed): its phases are unknown",
                        target=self._target.name)
                found += self._events(source, samples)
        return tuple(sorted((e for e in found if since <= e.ts <= until), key=lambda e: e.ts)), sources

    def _events(self, source: str, samples: list[Sample]) -> list[PlatformEvent]:
        dns = self._target.front_door.dns
        if source == ROUTE53_SOURCE and dns is not None:
            return route53_events(samples, dns)
        if source == ARC_SOURCE:
            return arc_events(samples)
        return alb_events(samples) if source == ALB_SOURCE else ga_events(samples)


__all__ = ["AwsPlatformEvents"]
