"""The sub-second request timeline: what every request saw, bucketed by start time (default 100 ms).

Layers (none imports Locust; the Locust side is ``loadtests/timeline_plugin.py``):

* :mod:`~aftershock.core.timeline.model` - :class:`Bucket` and :class:`LatencyHistogram`, mergeable pieces.
* :mod:`~aftershock.core.timeline.store` - the JSON-lines file: :class:`TimelineWriter`, :func:`read_timeline`,
  :class:`TimelineFollower` (live, incremental).
* :mod:`~aftershock.core.timeline.analysis` - availability, outages, time to recovery, percentiles, summaries.
"""

from aftershock.core.timeline.analysis import (
    NameSummary,
    Outage,
    Recovery,
    Window,
    availability,
    find_outages,
    latency_percentiles,
    summarize,
    time_to_recovery,
    windows,
)
from aftershock.core.timeline.model import Bucket, LatencyHistogram, merge_buckets
from aftershock.core.timeline.store import (
    TIMELINE_FILE,
    Timeline,
    TimelineFollower,
    TimelineFormatError,
    TimelineWriter,
    read_timeline,
)

__all__ = [
    "TIMELINE_FILE",
    "Bucket",
    "LatencyHistogram",
    "NameSummary",
    "Outage",
    "Recovery",
    "Timeline",
    "TimelineFollower",
    "TimelineFormatError",
    "TimelineWriter",
    "Window",
    "availability",
    "find_outages",
    "latency_percentiles",
    "merge_buckets",
    "read_timeline",
    "summarize",
    "time_to_recovery",
    "windows",
]
