"""Reading the live run folder from a probe: the timeline so far, the fault start, measurements."""

from __future__ import annotations

import functools
from pathlib import Path

from aftershock.core import measurements
from aftershock.core.measurements import M, MarkerRecord, read_markers, record_measurement
from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.follow import RunTimelineFollower
from aftershock.core.timeline.store import Timeline

MEASUREMENTS = measurements.MEASUREMENTS


@functools.lru_cache(maxsize=4)
def follower_of(path: Path) -> RunTimelineFollower:
    """The one follower of a run folder's timeline files in this process.

    Chaos Toolkit calls probes as plain functions, many times a run (and in background threads): the follower,
    its file offsets and merged buckets outlive a call so that a poll reads only what was appended since the
    previous one. A few runs at most share a process (tests); older ones are dropped.
    """
    return RunTimelineFollower(path)


def timeline_now(run: RunFolder, *, since_ms: float | None = None) -> Timeline:
    """The timeline as written so far, from ``since_ms`` on (None: all of it; empty when the load has not
    written anything yet). Incremental: the cost is what was appended since the last call plus the buckets
    returned, not the length of the run."""
    return follower_of(run.path.absolute()).timeline(since_ms=since_ms)


def last_fault_start(run: RunFolder) -> float | None:
    """Epoch seconds of the most recent ``fault.start`` marker of a fault that was applied (RTO's origin)."""
    return measurements.last_fault_start(read_markers(run))


def disruption_start(run: RunFolder, *, since: float | None = None) -> MarkerRecord | None:
    """The ``fault.start`` of the first applied disruption (at or after ``since``): the RTO's origin."""
    return measurements.disruption_start(read_markers(run), since=since)


def record(run: RunFolder, measurement: M) -> M:
    """Store a typed measurement for the summary; returns it."""
    return record_measurement(run, measurement)
