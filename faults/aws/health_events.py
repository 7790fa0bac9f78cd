"""ALB target health and Global Accelerator endpoint health, as sampled (``samples.jsonl``), as RTO phase
boundaries.

The sampler records each load balancer's targets per health state and each region's GA endpoint health every
0.5 s or so (one observation of the AWS target). A transition between two consecutive samples marks:

* ALB - more targets unhealthy, more draining (deregistered) or fewer healthy: *detected*; while healthy targets
  remain it is also *repaired* (the load balancer routes only to healthy targets: traffic moved off the bad ones,
  as Envoy's ejection on the lab; with none healthy it fails open and nothing moved); more healthy targets:
  *repaired* (new targets still ``initial``, as in a scale-up, mark nothing);
* GA - a region's endpoints went unhealthy: *detected*, and *repaired* when another region with a traffic dial
  above 0 is healthy in the same sample (the accelerator routes there); healthy again: *repaired*.

The transition happened between the two samples: the event carries the later sample's time (the platform had
noticed by then, so detection is never shortened) and ``what`` says how long before the earlier one was taken.
Failed observations (``error`` samples) are skipped, so a gap widens that resolution; the first sample has nothing
to compare with and marks nothing (not guessed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from aftershock.core.phases import Boundary, PlatformEvent
from aftershock.core.samples import Sample

ALB_SOURCE = "alb-target-health"
GA_SOURCE = "ga-endpoint-health"
BAD_STATES = ("unhealthy", "unhealthy.draining", "unavailable")
"""``describe_target_health`` states of a target that failed its checks (``initial``: not yet checked; ``draining``:
deregistered, no new requests)."""
MAX_GAP_S = 10.0
"""The longest gap between two samples around a window with none inside that still counts as observed."""


V = TypeVar("V")


def transitions(samples: Iterable[Sample], values: Callable[[Sample], Iterable[tuple[str, V | None]]]
                ) -> Iterator[tuple[Sample, str, V, V, float]]:
    """Per key of ``values(sample)``, each change of its value between the consecutive samples that know it:
    ``(sample, key, was, now, seconds since the sample that saw was)``. None (unknown) is skipped, so the gap
    widens; the first known value marks nothing."""
    before: dict[str, tuple[float, V]] = {}
    for sample in samples:
        for key, value in values(sample):
            if value is None:
                continue
            previous, before[key] = before.get(key), (sample.ts, value)
            if previous is not None and previous[1] != value:
                yield sample, key, previous[1], value, sample.ts - previous[0]


def _answered(samples: Iterable[Sample]) -> Iterator[Sample]:
    return (s for s in samples if s.error is None)


def _counts(states: tuple[tuple[str, int], ...]) -> str:
    ordered = sorted(states, key=lambda pair: (pair[0] != "healthy", pair[0]))  # healthy first
    return ", ".join(f"{n} {state}" for state, n in ordered if n) or "no targets"


def _alb_change(before: dict[str, int], now: dict[str, int]) -> str | None:
    """What got worse from ``before`` to ``now`` (None: nothing did; new targets still ``initial`` are no harm)."""
    if sum(now.get(s, 0) for s in BAD_STATES) > sum(before.get(s, 0) for s in BAD_STATES):
        return "target(s) unhealthy"
    if now.get("draining", 0) > before.get("draining", 0):
        return "target(s) deregistered (draining)"
    if now.get("healthy", 0) < before.get("healthy", 0):
        return "healthy target(s) gone"
    return None


def alb_events(samples: Iterable[Sample]) -> list[PlatformEvent]:
    """Boundaries from the ALB target health in ``samples`` (in order), oldest first."""
    found: list[PlatformEvent] = []
    for sample, lb, old, states, gap in transitions(_answered(samples), lambda s: s.alb_target_states):
        was, now = dict(old), dict(states)
        seen = f"{_counts(states)}; {_counts(old)} {gap:.2f} s before"
        worse = _alb_change(was, now)
        if worse is not None:
            found.append(PlatformEvent(sample.ts, Boundary.DETECTED, f"alb {lb}: {worse} ({seen})"))
            if now.get("healthy", 0) > 0:  # with none healthy the load balancer fails open: nothing moved
                found.append(PlatformEvent(sample.ts, Boundary.REPAIRED,
                                           f"alb {lb}: traffic only to the healthy target(s) ({seen})"))
        elif now.get("healthy", 0) > was.get("healthy", 0):
            found.append(PlatformEvent(sample.ts, Boundary.REPAIRED, f"alb {lb}: target(s) healthy ({seen})"))
    return found


def ga_events(samples: Iterable[Sample]) -> list[PlatformEvent]:
    """Boundaries from the Global Accelerator endpoint health in ``samples`` (in order), oldest first."""
    found: list[PlatformEvent] = []
    for sample, region, _, ok, gap in transitions(_answered(samples), lambda s: s.endpoints_healthy):
        seen = f"{gap:.2f} s after the last sample"
        if ok:
            found.append(PlatformEvent(sample.ts, Boundary.REPAIRED, f"ga {region}: endpoints healthy ({seen})"))
            continue
        found.append(PlatformEvent(sample.ts, Boundary.DETECTED, f"ga {region}: endpoint(s) unhealthy ({seen})"))
        dials = dict(sample.dials)
        others = sorted(r for r, healthy in sample.endpoints_healthy if healthy and r != region and dials.get(r, 0) > 0)
        if others:
            found.append(PlatformEvent(sample.ts, Boundary.REPAIRED,
                                       f"ga {region}: traffic moved to {', '.join(others)} ({seen})"))
    return found


def observed(samples: Sequence[Sample], source: str, since: float, until: float) -> bool:
    """Whether the sampler observed ``source`` in ``[since, until]``: a sample with it inside, or (a window shorter
    than the sampling period) one on each side at most :data:`MAX_GAP_S` apart."""
    return observed_at([s.ts for s in samples if (s.alb_target_states if source == ALB_SOURCE
                                                  else s.endpoints_healthy)], since, until)


def observed_at(times: Sequence[float], since: float, until: float) -> bool:
    """Whether samples taken at ``times`` observed ``[since, until]`` (see :func:`observed`)."""
    if any(since <= ts <= until for ts in times):
        return True
    before = [ts for ts in times if ts < since]
    after = [ts for ts in times if ts > until]
    return bool(before and after and min(after) - max(before) <= MAX_GAP_S)


__all__ = ["ALB_SOURCE", "GA_SOURCE", "alb_events", "ga_events", "observed", "observed_at", "transitions"]
