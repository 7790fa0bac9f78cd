"""The recovery probe: waits until service is sustainably good again and returns the RTO with its error bar.

RTO = from the first disruption of the method (its ``fault.start``; a fault action declared
``aftershock_role: remediation`` never restarts the clock, it is recorded as a phase boundary) to the end of
the LAST outage after it, once traffic has been good (no 100 ms window below ``min_ok_ratio``) for
``sustain_s`` since: a second outage, or one that starts late, is measured to its end. A request is bad when
it failed or succeeded slower than the run's ``slow_ms`` (the timeline counts those apart). An outage ends at
the start of the first good request after its last bad one (per-request timestamps, not bucket edges).

The error bar: the recovery instant lies after the start of that last bad request and at the latest at the
first good one, so ``rto_error_s`` is the time between them (without an outage: the time from the disruption
to its first success), widened by the load generator's own scheduling delay around that edge (its event-loop lag:
a request may reach the service that much later than its start time says, so the service may see another order)
and by the workers' clock offsets; the truth lies within ``rto_s +- rto_error_s``. A disruption that caused no bad
request has RTO 0.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aftershock.core.errors import HarnessError
from aftershock.core.kinds import FaultRole
from aftershock.core.loadworkers import largest_clock_offset_ms
from aftershock.core.measurements import (
    MarkerRecord,
    OutageSpan,
    PhaseMark,
    RtoMeasurement,
    applied_fault_starts,
    disruption_start,
    fault_role,
    read_markers,
)
from aftershock.core.plan import PLAN_FILE, read_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.outages import Outage, find_outages, recovery_bounds
from aftershock.core.timeline.store import Timeline
from aftershock.core.timeline.windows import NameFilter, select
from aftershock.faults.context import run_folder
from aftershock.probes.live import follower_of, record
from aftershock.probes.rto_phases import rto_phases

__all__ = ["measure_rto"]  # poll_rto is public for benchmarks/probe_cost.py, not a Chaos Toolkit activity

NO_DISRUPTION = ("measure_rto found no fault.start marker of a disruption: put it after a fault action in the "
                 "method (an action declared aftershock_role: remediation does not start the clock)")


def _names(request_names: str) -> NameFilter:
    if not request_names:
        return None
    wanted = [n.strip() for n in request_names.split(",") if n.strip()]
    return lambda name: any(name.startswith(w) for w in wanted)


def _origin(run: RunFolder) -> MarkerRecord:
    """The run's first applied disruption (every RTO probe of the run measures from it)."""
    origin = disruption_start(read_markers(run))
    if origin is None:
        raise HarnessError(NO_DISRUPTION)
    return origin


def _remediations(run: RunFolder, origin: float) -> tuple[PhaseMark, ...]:
    return tuple(PhaseMark(m.ts, str(m.get("action") or "")) for m in applied_fault_starts(read_markers(run))
                 if m.ts > origin and fault_role(m) is FaultRole.REMEDIATION)


def _recovered_ms(timeline: Timeline, fault_ms: float, outages: list[Outage], sustain_ms: int) -> float | None:
    """End of the last outage after the fault (or the fault itself), once good traffic has followed it for
    ``sustain_ms``; None while an outage is ongoing or the good period is still too short."""
    if any(o.ongoing for o in outages):
        return None
    recovered = max([fault_ms, *(o.end_ms for o in outages if o.end_ms is not None)])
    end = timeline.end_ms
    if end is None or end - recovered < sustain_ms:
        return None
    first = recovered // timeline.bucket_ms * timeline.bucket_ms  # the bucket the recovery lies in, and later
    return recovered if any(b.total for b in timeline.buckets if b.start_ms >= first) else None


LOOKBACK_MS = 10_000
"""How far before the disruption a poll starts reading: enough to see the traffic's state before it (further back
only while an outage reaches past that start)."""


@dataclass(frozen=True)
class RtoPoll:
    """One look at the live timeline: the outages that end after the disruption and the recovery instant (epoch
    ms; None while not recovered for ``sustain_ms``). ``since_ms``: where the read began (the next poll's start).
    """

    timeline: Timeline
    outages: list[Outage]
    recovered_ms: float | None
    since_ms: float


def poll_rto(run: RunFolder, fault_ms: float, *, names: NameFilter = None, min_ok_ratio: float = 0.99,
             sustain_ms: int = 3000, since_ms: float | None = None) -> RtoPoll:
    """Read the timeline from ``since_ms`` (default: :data:`LOOKBACK_MS` before the fault) and judge recovery.

    Incremental: the cost is what was appended since the last poll plus the span from ``since_ms`` on, never the
    whole run. The span starts earlier (doubling the look-back) while its first traffic is already in an outage,
    so an outage is never cut at the read's start; the result equals that of the whole timeline.
    """
    since = fault_ms - LOOKBACK_MS if since_ms is None else since_ms
    follower = follower_of(run.path.absolute())
    while True:
        timeline = follower.timeline(since_ms=since)
        found = find_outages(timeline, names=names, min_ok_ratio=min_ok_ratio)
        oldest = follower.start_ms
        if not found or oldest is None or oldest >= since or not _opens(timeline, found[0], names):
            break
        since -= max(LOOKBACK_MS, fault_ms - since)  # the outage may reach further back: double the look-back
    outages = [o for o in found if o.end_ms is None or o.end_ms >= fault_ms]
    return RtoPoll(timeline, outages, _recovered_ms(timeline, fault_ms, outages, sustain_ms), since)


def _opens(timeline: Timeline, outage: Outage, names: NameFilter) -> bool:
    """True when ``outage`` starts in the first window of the selected traffic (it may have begun earlier)."""
    chosen = select(timeline, names)
    return bool(chosen) and outage.start_ms < chosen[0].start_ms + timeline.bucket_ms


def _span(outage: Outage) -> OutageSpan:
    def seconds(ms: float | None) -> float | None:
        return None if ms is None else round(ms / 1000, 4)

    return OutageSpan(outage.start_ms / 1000, outage.end_ms / 1000 if outage.end_ms is not None else None,
                      outage.failures, dict(outage.errors), outage.slow, seconds(outage.start_error_ms),
                      seconds(outage.end_error_ms))


def _slow_ms(run: RunFolder) -> float | None:
    return read_plan(run).slow_ms if run.file(PLAN_FILE).exists() else None


def measure_rto(timeout_s: float = 60.0, sustain_s: float = 3.0, min_ok_ratio: float = 0.99,
                request_names: str = "", warmup_p95_ms: float = 500.0, warmup_error_rate: float = 0.01,
                configuration: dict[str, Any] | None = None,
                secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Wait (up to ``timeout_s``) for a sustained recovery after the first disruption; return and record the
    RTO, its error bar and its phases (detection, failover, client recovery; warm-up until p95 <=
    ``warmup_p95_ms`` and errors <= ``warmup_error_rate`` for ``sustain_s``; unknown ones None).

    ``request_names``: comma-separated name prefixes to judge by (default: every request, keep-alive and
    fresh-connection alike).
    """
    run = run_folder(configuration)
    origin = _origin(run)
    names = _names(request_names)
    fault_ms = origin.ts * 1000
    deadline = time.monotonic() + timeout_s
    since: float | None = None
    while True:
        seen = poll_rto(run, fault_ms, names=names, min_ok_ratio=min_ok_ratio, sustain_ms=int(sustain_s * 1000),
                        since_ms=since)
        since = seen.since_ms
        if seen.recovered_ms is not None or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    timeline, outages, recovered = seen.timeline, seen.outages, seen.recovered_ms
    error_s: float | None = None
    offset_ms = largest_clock_offset_ms(run.path)  # workers' clocks: their requests sit by their own time
    lag_ms: float | None = None
    if recovered is not None:
        low, high = recovery_bounds(timeline, fault_ms, outages[-1] if outages else None, names=names)
        lag_ms = timeline.loop_lag_ms(low, high)  # requests around the edge may have been sent this much later
        error_s = round((high - low + (offset_ms or 0.0) + (lag_ms or 0.0)) / 1000, 3)
    measurement = RtoMeasurement(
        ts=time.time(),
        recovered=recovered is not None,
        rto_s=round((recovered - fault_ms) / 1000, 3) if recovered is not None else None,
        rto_error_s=error_s,
        fault_start=origin.ts,
        fault_action=str(origin.get("action") or ""),
        recovered_at=recovered / 1000 if recovered is not None else None,
        sustain_s=sustain_s,
        min_ok_ratio=min_ok_ratio,
        clock_offset_ms=offset_ms,
        loop_lag_ms=None if lag_ms is None else round(lag_ms, 1),
        slow_ms=_slow_ms(run),
        outages=tuple(_span(o) for o in outages),
        remediations=_remediations(run, origin.ts),
        phases=rto_phases(run, timeline, origin=origin.ts, recovered_at=None if recovered is None else recovered / 1000,
                          warmup_p95_ms=warmup_p95_ms, warmup_error_rate=warmup_error_rate, sustain_s=sustain_s),
    )
    return record(run, measurement).fields()

