"""The traffic-shift probe: how long until the front door serves from a region (region evacuation, failover).

Measured from the traffic itself: fresh-connection requests every ``interval_s`` to the front door, each
answered by a pod that names its region (``X-Region``). The shift is done when ``consecutive`` answers in a row
came from ``to_region``; the figure is the time from the last applied ``fault.start`` to the first of them.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from aftershock.core.measurements import TrafficShiftMeasurement
from aftershock.faults.context import ActivityContext
from aftershock.probes.live import last_fault_start, record

__all__ = ["measure_traffic_shift"]


def measure_traffic_shift(to_region: str = "", consecutive: int = 20, interval_s: float = 0.05,
                          timeout_s: float = 60.0, configuration: dict[str, Any] | None = None,
                          secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Seconds from the fault until the front door answers from ``to_region`` (default: the secondary)."""
    with ActivityContext.from_configuration(configuration) as ctx:  # its target and run only: the driver is closed
        region = ctx.target.region(to_region).name if to_region else (
            ctx.target.secondary.name if ctx.target.secondary else ctx.target.primary.name)
    fault_at = last_fault_start(ctx.run) or time.time()
    streak_start: float | None = None
    streak = 0
    answered = 0
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and streak < consecutive:
        sent = time.time()
        try:
            response = httpx.get(f"{ctx.target.front_door.url}/health", timeout=2.0,
                                 headers={"Connection": "close", "User-Agent": "aftershock-traffic-shift"})
            served_by = response.headers.get("x-region") if response.status_code == 200 else None
        except httpx.HTTPError:
            served_by = None
        answered += 1
        if served_by == region:
            streak_start = sent if streak == 0 else streak_start
            streak += 1
        else:
            streak, streak_start = 0, None
        time.sleep(interval_s)
    shifted = streak >= consecutive and streak_start is not None
    measurement = TrafficShiftMeasurement(
        ts=time.time(), to_region=region, shifted=shifted, requests=answered,
        shift_s=round(max(0.0, streak_start - fault_at), 3) if shifted and streak_start else None)
    return record(ctx.run, measurement).fields()
