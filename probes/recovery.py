"""The recovery probe: waits until service is sustainably good again and returns the RTO.

RTO = from the most recent ``fault.start`` marker to the end of the last outage before a sustained good
period (``sustain_s`` of traffic with ``ok/total >= min_ok_ratio``), measured from the requests themselves:
the outage ends at the start of the first successful request after its last failure (per-request
timestamps, not bucket edges). A fault that caused no failure has RTO 0.
"""

from __future__ import annotations

import time
from typing import Any

from aftershock.activity_context import run_folder
from aftershock.errors import HarnessError
from aftershock.timeline.analysis import Recovery, find_outages, time_to_recovery
from probes.live import last_fault_start, record, timeline_now

__all__ = ["measure_rto"]


def _names(request_names: str) -> Any:
    if not request_names:
        return None
    wanted = [n.strip() for n in request_names.split(",") if n.strip()]
    return lambda name: any(name.startswith(w) for w in wanted)


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
    deadline = time.monotonic() + timeout_s
    sustain_ms = int(sustain_s * 1000)
    recovery: Recovery | None = None
    while time.monotonic() < deadline:
        timeline = timeline_now(run)
        if timeline.end_ms and timeline.end_ms >= fault_at * 1000 + sustain_ms:
            recovery = time_to_recovery(timeline, fault_at * 1000, names=names, window_ms=500,
                                        min_ok_ratio=min_ok_ratio, sustain_ms=sustain_ms)
            later = [o for o in find_outages(timeline, names=names, min_ok_ratio=min_ok_ratio)
                     if recovery and o.start_ms > recovery.recovered_ms]
            if recovery is not None and not later:
                break
            recovery = None
        time.sleep(0.25)
    outages = [o for o in find_outages(timeline_now(run), names=names, min_ok_ratio=min_ok_ratio)
               if (o.end_ms or float("inf")) >= fault_at * 1000]
    result = {
        "recovered": recovery is not None,
        "rto_s": round(recovery.rto_ms / 1000, 3) if recovery else None,
        "fault_start": fault_at,
        "recovered_at": recovery.recovered_ms / 1000 if recovery else None,
        "sustain_s": sustain_s,
        "min_ok_ratio": min_ok_ratio,
        "outages": [{"start": o.start_ms / 1000, "end": o.end_ms / 1000 if o.end_ms else None,
                     "failures": o.failures, "errors": dict(o.errors)} for o in outages],
    }
    record(run, "rto", **result)
    return result
