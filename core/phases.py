"""The RTO's story: [disruption, recovered] split into detection, failover and client recovery, then warm-up.

* **detection** - from the disruption until the platform noticed (its first :attr:`Boundary.DETECTED` event:
  a health check ejected a host, a failover started);
* **failover** - until the platform repaired itself (its last :attr:`Boundary.REPAIRED` event before the
  recovery: promotion done, endpoint moved, targets changed, a pod ready again);
* **client recovery** - until the first good request after the last bad one (the RTO's end);
* **warm-up** - after the RTO, until p95 latency and error rate were back within the SLO, sustained.

Boundaries come from the target's own records (:class:`PlatformEvent`: on the lab its event log and Envoy's
health-check events). A phase whose boundary is missing is ``None`` (unknown), never guessed; when all three are
known they add up to the RTO exactly.

The phases partition [disruption, recovered], in this order, so every boundary is clipped to the recovery: when
the clients recover before the platform finished (after a writer crash the pods' retries reach the promoted
reader before the control plane moved the endpoint; a disruption no client noticed has RTO 0), the failover ends
at the recovery and client recovery is 0 (the clients did not wait for the rest of the repair); a detection
after the recovery makes detection the whole RTO. The platform's own instants stay in ``detected_at`` /
``repaired_at``; a repair after the recovery only counts when none came between the detection and the recovery,
and the caller passes events up to a bounded time after the recovery (the probe: its sustain period).

Example::

    phases = split_phases(origin=100.0, recovered_at=112.4, events=[
        PlatformEvent(101.0, Boundary.DETECTED, "envoy: eject_unhealthy pod-1"),
        PlatformEvent(110.0, Boundary.REPAIRED, "db.endpoint_moved")])
    phases.detection_s, phases.failover_s, phases.client_recovery_s   # 1.0, 9.0, 2.4
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class Boundary(enum.StrEnum):
    """Which phase boundary a platform event marks."""

    DETECTED = "detected"
    REPAIRED = "repaired"


@dataclass(frozen=True)
class PlatformEvent:
    """Something the target's platform did (epoch seconds): ``what`` names the event and its source."""

    ts: float
    boundary: Boundary
    what: str


def _opt(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    return None if value is None else float(value)


@dataclass(frozen=True)
class RtoPhases:
    """Phase durations in seconds (None: unknown, its boundary was not recorded) and the boundaries behind them.

    ``sources``: what was read (the lab: ``"lab events"``, ``"envoy health checks"``; AWS: ``"rds-events"``,
    ``"alb-target-health"``, ``"ga-endpoint-health"``, ``"route53-health-checks"``, ``"arc-routing-controls"``);
    empty: the target offers none, so every platform phase is unknown.
    """

    detection_s: float | None = None
    failover_s: float | None = None
    client_recovery_s: float | None = None
    warmup_s: float | None = None
    started_at: float | None = None
    """The disruption (the RTO's origin), epoch s; None: not recovered, nothing split."""
    detected_at: float | None = None
    """When the platform noticed (its own instant: may lie after ``recovered_at``, the phases are clipped)."""
    detected_by: str = ""
    repaired_at: float | None = None
    """When the platform repaired itself (may lie after ``recovered_at``: the clients did not wait for it)."""
    repaired_by: str = ""
    recovered_at: float | None = None
    warm_at: float | None = None
    sources: tuple[str, ...] = ()
    problem: str = ""
    """Why the platform's events could not be read (empty: they were, or the target offers none)."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RtoPhases:
        return cls(detection_s=_opt(data, "detection_s"), failover_s=_opt(data, "failover_s"),
                   client_recovery_s=_opt(data, "client_recovery_s"), warmup_s=_opt(data, "warmup_s"),
                   started_at=_opt(data, "started_at"), detected_at=_opt(data, "detected_at"),
                   detected_by=str(data.get("detected_by") or ""), repaired_at=_opt(data, "repaired_at"),
                   repaired_by=str(data.get("repaired_by") or ""), recovered_at=_opt(data, "recovered_at"),
                   warm_at=_opt(data, "warm_at"), sources=tuple(str(s) for s in data.get("sources") or ()),
                   problem=str(data.get("problem") or ""))

    @property
    def known(self) -> bool:
        """True when detection, failover and client recovery are all known (they then add up to the RTO)."""
        return None not in (self.detection_s, self.failover_s, self.client_recovery_s)


def _seconds(later: float | None, earlier: float | None) -> float | None:
    return None if later is None or earlier is None else round(max(0.0, later - earlier), 3)


def _clip(at: float | None, recovered_at: float) -> float | None:
    return None if at is None else min(at, recovered_at)


def split_phases(origin: float, recovered_at: float | None, events: Iterable[PlatformEvent], *,
                 warm_at: float | None = None, sources: Iterable[str] = (), problem: str = "") -> RtoPhases:
    """The phases of the recovery from ``origin`` (the disruption) to ``recovered_at`` (None: not recovered, so
    no phase is known); ``warm_at``: when the SLO held again (None: not seen). ``events`` may reach past the
    recovery (a platform still repairing when the clients had recovered): boundaries are clipped to it."""
    sources = tuple(sources)
    if recovered_at is None:
        return RtoPhases(sources=sources, problem=problem)
    seen = sorted((e for e in events if e.ts >= origin), key=lambda e: e.ts)
    detected = next((e for e in seen if e.boundary is Boundary.DETECTED), None)
    after = detected.ts if detected is not None else origin
    repairs = [e for e in seen if e.boundary is Boundary.REPAIRED and e.ts >= after]
    before_recovery = [e for e in repairs if e.ts <= recovered_at]
    # the last repair the clients waited for; else the platform's first one after they had recovered
    repaired = before_recovery[-1] if before_recovery else (repairs[0] if repairs else None)
    detected_at = detected.ts if detected is not None else None
    repaired_at = repaired.ts if repaired is not None else None
    detection = _seconds(_clip(detected_at, recovered_at), origin)
    failover = _seconds(_clip(repaired_at, recovered_at), _clip(detected_at, recovered_at))
    client = _seconds(recovered_at, _clip(repaired_at, recovered_at))
    if detection is not None and failover is not None and client is not None:  # exact sum despite the rounding
        client = round(recovered_at - origin - detection - failover, 3)
    return RtoPhases(detection_s=detection, failover_s=failover, client_recovery_s=client,
                     warmup_s=_seconds(warm_at, recovered_at), started_at=origin, recovered_at=recovered_at,
                     detected_at=detected_at,
                     detected_by=detected.what if detected is not None else "", repaired_at=repaired_at,
                     repaired_by=repaired.what if repaired is not None else "", warm_at=warm_at, sources=sources,
                     problem=problem)


__all__ = ["Boundary", "PlatformEvent", "RtoPhases", "split_phases"]
