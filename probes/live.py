"""Reading the live run folder from a probe: the timeline so far, the fault start, measurements."""

from __future__ import annotations

import time
from typing import Any

from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.store import Timeline, read_timeline

MEASUREMENTS = "measurements.jsonl"


def timeline_now(run: RunFolder) -> Timeline:
    """The timeline as written so far (empty when the load has not written anything yet)."""
    try:
        return read_timeline(run.path)
    except FileNotFoundError:
        return Timeline.from_pieces([])


def last_fault_start(run: RunFolder) -> float | None:
    """Epoch seconds of the most recent ``fault.start`` marker of a fault that was applied (RTO's origin)."""
    records = list(run.records("markers.jsonl"))
    aborted = {r["started_at"] for r in records if r["kind"] == "fault.aborted"}
    starts = [r["ts"] for r in records if r["kind"] == "fault.start" and r["ts"] not in aborted]
    return max(starts) if starts else None


def record(run: RunFolder, kind: str, **fields: Any) -> dict[str, Any]:
    """Store a measurement for the summary; returns it."""
    measurement = {"ts": time.time(), "kind": kind, **fields}
    run.append(MEASUREMENTS, measurement)
    return measurement
