"""The RTO's phases for the recovery probe: boundaries from the target's platform (:mod:`aftershock.faults.phases`),
the recovery and the warm-up from the timeline (:mod:`aftershock.core.phases`)."""

from __future__ import annotations

import logging
import time

from aftershock.core.errors import AftershockError
from aftershock.core.phases import PlatformEvent, RtoPhases, split_phases
from aftershock.core.plan import PLAN_FILE
from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.store import Timeline
from aftershock.core.timeline.warmup import slo_back_at
from aftershock.faults.context import ActivityContext
from aftershock.faults.phases import PlatformEventSource

logger = logging.getLogger(__name__)


def _platform_events(run: RunFolder, since: float, until: float) -> tuple[tuple[PlatformEvent, ...], tuple[str, ...]]:
    if not run.file(PLAN_FILE).exists():
        return (), ()  # no plan, no target to ask (a bare run folder)
    with ActivityContext.for_run(run) as ctx:
        if not isinstance(ctx.driver, PlatformEventSource):
            return (), ()  # this target reports no platform events: its platform phases stay unknown
        return ctx.driver.platform_events(since, until)


def rto_phases(run: RunFolder, timeline: Timeline, *, origin: float, recovered_at: float | None,
               warmup_p95_ms: float, warmup_error_rate: float, sustain_s: float) -> RtoPhases:
    """Detection, failover and client recovery of [``origin``, ``recovered_at``] (epoch s), and the warm-up after it
    (until p95 and the error rate were within the given SLO for ``sustain_s``). The platform's events are read up
    to ``sustain_s`` after the recovery, so a repair that ended after the clients recovered is seen (and clipped:
    :func:`~aftershock.core.phases.split_phases`).

    A target that cannot be asked (its API down) leaves the platform phases unknown, with the reason in
    :attr:`RtoPhases.problem` and a warning in the log; the RTO itself stands.
    """
    warm_at: float | None = None
    if recovered_at is not None:
        warm_ms = slo_back_at(timeline, recovered_at * 1000, max_p95_ms=warmup_p95_ms,
                              max_error_rate=warmup_error_rate, sustain_ms=int(sustain_s * 1000))
        warm_at = None if warm_ms is None else warm_ms / 1000
    # up to the end of the sustain period: a platform may finish its repair after the clients recovered
    until = origin if recovered_at is None else min(recovered_at + sustain_s, time.time())
    try:
        events, sources = _platform_events(run, origin, until)
    except AftershockError as exc:
        logger.warning("RTO phases unknown: the target's platform events could not be read: %s", exc)
        return split_phases(origin, recovered_at, (), warm_at=warm_at, problem=str(exc))
    return split_phases(origin, recovered_at, events, warm_at=warm_at, sources=sources)


__all__ = ["rto_phases"]
