"""The outages the live view shades, as the core computes them: :func:`~aftershock.core.timeline.outages.find_outages`
at the timeline's own resolution (100 ms buckets, per-request edges: an outage starts at its first bad request),
then, once the RTO probe has measured, the spans of its measurement.

:class:`OutageTracker` is incremental: each update reads the follower's merged timeline only from the last
settled instant on (an outage that ended more than :data:`~aftershock.serve.traffic.SETTLE_MS` before the newest
bucket is final and kept), so its cost is the recent span, not the run.

Example::

    tracker = OutageTracker(RunTimelineFollower(run_dir))
    spans = tracker.update(fault_at=fault_ts, done=False)     # (start, end or None), epoch seconds
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aftershock.core.measurements import OutageSpan
from aftershock.core.timeline.follow import RunTimelineFollower
from aftershock.core.timeline.outages import Outage, find_outages
from aftershock.serve.traffic import SETTLE_MS

LOOKBACK_MS = 10_000
"""How far before the fault the first read starts (an outage that began just before it is seen whole)."""


@dataclass(frozen=True)
class Span:
    """One shaded outage, epoch seconds (``end`` None: still going on)."""

    start: float
    end: float | None


@dataclass
class OutageTracker:
    """The live outages of a run after its (last) fault, read incrementally from its timeline follower."""

    follower: RunTimelineFollower
    min_ok_ratio: float = 0.99
    _fault_at: float | None = None
    _from_ms: float = 0.0
    _final: list[Outage] = field(default_factory=list)

    def update(self, *, fault_at: float | None, done: bool) -> tuple[Span, ...]:
        """The outages that end after the fault (none before a fault), oldest first."""
        if fault_at is None:
            return ()
        fault_ms = fault_at * 1000
        if fault_at != self._fault_at:  # a new fault: start over from just before it
            self._fault_at, self._final, self._from_ms = fault_at, [], fault_ms - LOOKBACK_MS
        timeline = self.follower.timeline(since_ms=self._from_ms)  # polls first: end_ms is then current
        end_ms = self.follower.end_ms
        if end_ms is None:
            return ()
        found = [o for o in find_outages(timeline, min_ok_ratio=self.min_ok_ratio)
                 if o.end_ms is None or o.end_ms >= fault_ms]
        settle = end_ms if done else end_ms - SETTLE_MS
        final = [o for o in found if o.end_ms is not None and o.end_ms < settle]
        open_ = [o for o in found if o not in final]
        self._final.extend(final)
        size = timeline.bucket_ms
        next_from = (min(settle, open_[0].start_ms) if open_ else settle) // size * size
        self._from_ms = max(self._from_ms, next_from)
        return tuple(Span(o.start_ms / 1000, None if o.end_ms is None else o.end_ms / 1000)
                     for o in (*self._final, *open_))


def measured_spans(record: Mapping[str, Any]) -> tuple[Span, ...]:
    """The outages of an RTO measurement record (``measurements.jsonl``), as its probe computed them."""
    raw = record.get("outages")
    spans: Iterable[Any] = raw if isinstance(raw, list) else ()
    out = []
    for item in spans:
        if isinstance(item, Mapping) and item.get("start") is not None:
            span = OutageSpan.from_dict(item)
            out.append(Span(span.start, span.end))
    return tuple(out)


def shaded(live: tuple[Span, ...], measured: tuple[Span, ...] | None, recovered_at: float | None) -> tuple[Span, ...]:
    """What the chart shades: the measurement's outages once it exists (plus any live outage that began after its
    recovery), else the live ones."""
    if measured is None:
        return live
    later = tuple(s for s in live if recovered_at is not None and s.start > recovered_at)
    return (*measured, *later)


__all__ = ["LOOKBACK_MS", "OutageTracker", "Span", "measured_spans", "shaded"]
