"""The recovery probe: waits until service is sustainably good again and returns the RTO.

RTO = from the most recent applied ``fault.start`` marker to the end of the LAST outage after it, once traffic
has been good (no 100 ms window below ``min_ok_ratio``) for ``sustain_s`` since: a second outage, or one that
starts late, is measured to its end. An outage ends at the start of the first successful request after its
last failure (per-request timestamps, not bucket edges). A fault that caused no failure has RTO 0.
"""

from __future__ import annotations

import time
from typing import Any

from aftershock.core.errors import HarnessError
from aftershock.core.measurements import OutageSpan, RtoMeasurement
from aftershock.core.timeline.outages import Outage, find_outages
from aftershock.core.timeline.store import Timeline
from aftershock.core.timeline.windows import windows
from aftershock.faults.context import run_folder
from aftershock.probes.live import last_fault_start, record, timeline_now

__all__ = ["measure_rto"]


def _names(request_names: str) -> Any:
    if not request_names:
        return None
    wanted = [n.strip() for n in request_names.split(",") if n.strip()]
    return lambda name: any(name.startswith(w) for w in wanted)


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


def measure_rto(timeout_s: float = 60.0, sustain_s: float = 3.0, min_ok_ratio: float = 0.99,
                request_names: str = "", configuration: dict[str, Any] | None = None,
                secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Wait (up to ``timeout_s``) for a sustained recovery after the last fault; return and record the RTO.

    ``request_names``: comma-separated name prefixes to judge by (default: every request, keep-alive and
    fresh-connection alike).
    """
    run = run_folder(configuration)
    fault_at = last_fault_start(run)
    if fault_at is None:
        raise HarnessError("measure_rto found no fault.start marker: put it after a fault action in the method")
    names = _names(request_names)
    fault_ms = fault_at * 1000
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
    measurement = RtoMeasurement(
        ts=time.time(),
        recovered=recovered is not None,
        rto_s=round((recovered - fault_ms) / 1000, 3) if recovered is not None else None,
        fault_start=fault_at,
        recovered_at=recovered / 1000 if recovered is not None else None,
        sustain_s=sustain_s,
        min_ok_ratio=min_ok_ratio,
        outages=tuple(OutageSpan(o.start_ms / 1000, o.end_ms / 1000 if o.end_ms else None, o.failures,
                                 dict(o.errors)) for o in outages),
    )
    return record(run, measurement).fields()
