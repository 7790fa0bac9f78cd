"""Reading the live run folder from a probe: the timeline so far, the fault start, measurements."""

from __future__ import annotations

from aftershock.core import measurements
from aftershock.core.measurements import M, MarkerRecord, read_markers, record_measurement
from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.store import Timeline, read_timeline

MEASUREMENTS = measurements.MEASUREMENTS


def timeline_now(run: RunFolder) -> Timeline:
    """The timeline as written so far (empty when the load has not written anything yet)."""
    try:
        return read_timeline(run.path)
    except FileNotFoundError:
        return Timeline.from_pieces([])


def last_fault_start(run: RunFolder) -> float | None:
    """Epoch seconds of the most recent ``fault.start`` marker of a fault that was applied (RTO's origin)."""
    return measurements.last_fault_start(read_markers(run))


def disruption_start(run: RunFolder, *, since: float | None = None) -> MarkerRecord | None:
    """The ``fault.start`` of the first applied disruption (at or after ``since``): the RTO's origin."""
    return measurements.disruption_start(read_markers(run), since=since)


def record(run: RunFolder, measurement: M) -> M:
    """Store a typed measurement for the summary; returns it."""
    return record_measurement(run, measurement)
