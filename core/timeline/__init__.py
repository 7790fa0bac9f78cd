"""The sub-second request timeline: what every request saw, bucketed by start time (default 100 ms).

Layers (none imports Locust; the Locust side is ``loadtests/timeline_plugin.py``):

* :mod:`~aftershock.core.timeline.model` - :class:`Bucket` and :class:`LatencyHistogram`, mergeable pieces.
* :mod:`~aftershock.core.timeline.store` - the JSON-lines file: :class:`TimelineWriter`, :func:`read_timeline`,
  :class:`TimelineFollower` (one file, live).
* :mod:`~aftershock.core.timeline.follow` - :class:`RunTimelineFollower`: a run's timeline files, followed
  incrementally with the merged state indexed by time (what live probes read).
* :mod:`~aftershock.core.timeline.merged` and :mod:`~aftershock.core.timeline.packed` - that merged state, rows
  older than a minute packed (~55 bytes a bucket), so a follower of a run of hours stays small.
* :mod:`~aftershock.core.timeline.windows` - requests in windows: availability and latency percentiles per window.
* :mod:`~aftershock.core.timeline.outages` - outages and the time from a fault to a sustained recovery.
* :mod:`~aftershock.core.timeline.summary` - per request name totals (the CLI's table).
"""

from aftershock.core.timeline.follow import RunTimelineFollower
from aftershock.core.timeline.model import Bucket, LatencyHistogram, merge_buckets
from aftershock.core.timeline.outages import (
    Outage,
    Recovery,
    find_outages,
    first_ok_after,
    recovery_bounds,
    time_to_recovery,
)
from aftershock.core.timeline.store import (
    TIMELINE_FILE,
    Timeline,
    TimelineFollower,
    TimelineFormatError,
    TimelineWriter,
    read_timeline,
)
from aftershock.core.timeline.summary import NameSummary, summarize
from aftershock.core.timeline.windows import Window, availability, latency_percentiles, windows

__all__ = [
    "TIMELINE_FILE",
    "Bucket",
    "LatencyHistogram",
    "NameSummary",
    "Outage",
    "Recovery",
    "RunTimelineFollower",
    "Timeline",
    "TimelineFollower",
    "TimelineFormatError",
    "TimelineWriter",
    "Window",
    "availability",
    "find_outages",
    "first_ok_after",
    "latency_percentiles",
    "merge_buckets",
    "read_timeline",
    "recovery_bounds",
    "summarize",
    "time_to_recovery",
    "windows",
]
