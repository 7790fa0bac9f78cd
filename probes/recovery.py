"""The recovery probe: waits until service is sustainably good again and returns the RTO with its error bar.

RTO = from the first disruption of the method (its ``fault.start``; a fault action declared
``aftershock_role: remediation`` never restarts the clock, it is recorded as a phase boundary) to the end of
the LAST outage after it, once traffic has been good (no 100 ms window below ``min_ok_ratio``) for
``sustain_s`` since: a second outage, or one that starts late, is measured to its end. A request is bad when
it failed or succeeded slower than the run's ``slow_ms`` (the timeline counts those apart). An outage ends at
the start of the first good request after its last bad one (per-request timestamps, not bucket edges).

The error bar: the recovery instant lies after the start of that last bad request and at the latest at the
first good one, so ``rto_error_s`` is the time between them (without an outage: the time from the disruption
to its first success); the truth lies within ``rto_s +- rto_error_s``. A disruption that caused no bad
request has RTO 0.
"""

from __future__ import annotations

import time
from typing import Any

from aftershock.core.errors import HarnessError
from aftershock.core.kinds import FaultRole
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
from aftershock.core.timeline.windows import NameFilter, windows
from aftershock.faults.context import run_folder
from aftershock.probes.live import record, timeline_now

__all__ = ["measure_rto"]

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
    after = sum(w.total for w in windows(timeline, window_ms=timeline.bucket_ms, start_ms=recovered, end_ms=end))
    return recovered if after else None


def _span(outage: Outage) -> OutageSpan:
    def seconds(ms: float | None) -> float | None:
        return None if ms is None else round(ms / 1000, 4)

    return OutageSpan(outage.start_ms / 1000, outage.end_ms / 1000 if outage.end_ms is not None else None,
                      outage.failures, dict(outage.errors), outage.slow, seconds(outage.start_error_ms),
                      seconds(outage.end_error_ms))


def _slow_ms(run: RunFolder) -> float | None:
    return read_plan(run).slow_ms if run.file(PLAN_FILE).exists() else None


def measure_rto(timeout_s: float = 60.0, sustain_s: float = 3.0, min_ok_ratio: float = 0.99,
                request_names: str = "", configuration: dict[str, Any] | None = None,
                secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Wait (up to ``timeout_s``) for a sustained recovery after the first disruption; return and record the
    RTO and its error bar.

    ``request_names``: comma-separated name prefixes to judge by (default: every request, keep-alive and
    fresh-connection alike).
    """
    run = run_folder(configuration)
    origin = _origin(run)
    names = _names(request_names)
    fault_ms = origin.ts * 1000
    deadline = time.monotonic() + timeout_s
    recovered: float | None = None
    outages: list[Outage] = []
    while True:
        timeline = timeline_now(run)
        outages = [o for o in find_outages(timeline, names=names, min_ok_ratio=min_ok_ratio)
                   if o.end_ms is None or o.end_ms >= fault_ms]
        recovered = _recovered_ms(timeline, fault_ms, outages, int(sustain_s * 1000))
        if recovered is not None or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    error_s: float | None = None
    if recovered is not None:
        low, high = recovery_bounds(timeline, fault_ms, outages[-1] if outages else None, names=names)
        error_s = round((high - low) / 1000, 3)
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
        slow_ms=_slow_ms(run),
        outages=tuple(_span(o) for o in outages),
        remediations=_remediations(run, origin.ts),
    )
    return record(run, measurement).fields()

