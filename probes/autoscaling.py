"""The autoscaling probe: how fast the HPA answered a load step.

From the most recent ``fault.start`` (the load step), using the sampler's ``samples.jsonl`` (desired/ready
replicas every 0.5 s) and the timeline:

* ``first_scale_s``: until the desired replicas first rose above their value at the step;
* ``ready_capacity_s``: until the ready replicas first reached the scaled-up desired count;
* ``latency_slo_s``: until p95 latency was within ``max_p95_ms`` for ``sustain_s`` after its last breach
  (0 when the step never broke it).
"""

from __future__ import annotations

import time
from typing import Any

from aftershock.core.errors import HarnessError
from aftershock.core.measurements import ScalingMeasurement
from aftershock.core.runfolder import RunFolder
from aftershock.core.samples import read_samples
from aftershock.core.timeline.windows import windows
from aftershock.faults.context import ActivityContext
from aftershock.probes.live import last_fault_start, record, timeline_now

__all__ = ["measure_scaling"]


def _replicas(run: RunFolder, region: str, since: float) -> list[tuple[float, int, int]]:
    rows = []
    for sample in read_samples(run):
        replicas = sample.region_replicas(region)
        if replicas is not None and sample.ts >= since - 1.0:
            rows.append((sample.ts, *replicas))
    return rows


def _latency_recovered(run: RunFolder, since_ms: float, max_p95_ms: float, sustain_s: float) -> float | None:
    """Seconds from the step until p95 (1 s windows) stayed within the limit for ``sustain_s``; None if not yet."""
    recent = timeline_now(run, since_ms=since_ms // 1000 * 1000)  # incremental: the step's span, not the run
    wins = [w for w in windows(recent, window_ms=1000, start_ms=since_ms) if w.total]
    if not wins:
        return None
    last_breach_end: float | None = None
    for window in wins:
        p95 = window.percentile(0.95)
        if p95 is not None and p95 > max_p95_ms:
            last_breach_end = window.end_ms
    good_from = last_breach_end if last_breach_end is not None else since_ms
    if wins[-1].end_ms - good_from < sustain_s * 1000:
        return None
    return max(0.0, (good_from - since_ms) / 1000) if last_breach_end is not None else 0.0


def measure_scaling(region: str = "", max_p95_ms: float = 500.0, timeout_s: float = 90.0, sustain_s: float = 5.0,
                    configuration: dict[str, Any] | None = None,
                    secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Wait (up to ``timeout_s``) for the scale-up to be ready and latency within SLO; return and record the
    scaling times (``None`` for what did not happen in time)."""
    with ActivityContext.from_configuration(configuration) as ctx:  # its target and run only: the driver is closed
        run = ctx.run
        name = ctx.target.region(region).name if region else ctx.target.primary.name
    step = last_fault_start(run)
    if step is None:
        raise HarnessError("measure_scaling found no fault.start marker: put it after the load_spike action")
    deadline = time.monotonic() + timeout_s
    first_scale = ready_capacity = latency = None
    baseline = peak = None
    while time.monotonic() < deadline:
        rows = _replicas(run, name, step)
        before = [r for r in rows if r[0] <= step]
        baseline = (before[-1] if before else (rows[0] if rows else None))
        if baseline is not None:
            after = [r for r in rows if r[0] > step]
            scaled = [r for r in after if r[1] > baseline[1]]
            if scaled and first_scale is None:
                first_scale = round(scaled[0][0] - step, 3)
            if scaled:
                peak = max(r[1] for r in after)
                ready = [r for r in after if r[0] >= scaled[0][0] and r[2] >= r[1] and r[1] > baseline[1]]
                if ready and ready_capacity is None:
                    ready_capacity = round(ready[0][0] - step, 3)
        latency = _latency_recovered(run, step * 1000, max_p95_ms, sustain_s)
        if ready_capacity is not None and latency is not None:
            break
        time.sleep(0.5)
    measurement = ScalingMeasurement(
        ts=time.time(), region=name, step_at=step, baseline_replicas=baseline[1] if baseline else None,
        peak_desired=peak, first_scale_s=first_scale, ready_capacity_s=ready_capacity,
        latency_slo_s=None if latency is None else round(latency, 3), max_p95_ms=max_p95_ms)
    return record(run, measurement).fields()
