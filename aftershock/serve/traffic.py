"""A run's traffic, tallied incrementally from its timeline follower: per second and per request name.

Each :meth:`TrafficTally.update` asks the shared :class:`~aftershock.core.timeline.follow.RunTimelineFollower`
only for the buckets from the first not-yet-final second on. Seconds older than :data:`SETTLE_MS` before the
newest bucket are final (every load process has reported them) and folded into running totals once; the newer
ones are tallied again on each update, so late pieces are never lost. An update costs a few seconds of buckets,
not the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aftershock.core.timeline.follow import RunTimelineFollower
from aftershock.core.timeline.model import EMPTY_HISTOGRAM, Bucket, LatencyHistogram

SETTLE_MS = 3000
RECENT_S = 5


@dataclass
class Tally:
    """Requests counted together: good (ok and not slow), slow, failed, and their latencies."""

    good: int = 0
    slow: int = 0
    fail: int = 0
    hist: LatencyHistogram = EMPTY_HISTOGRAM
    max_ms: float = 0.0

    def add(self, bucket: Bucket) -> None:
        self.good += bucket.good
        self.slow += bucket.slow
        self.fail += bucket.fail
        self.hist = self.hist.merge(bucket.hist)
        self.max_ms = max(self.max_ms, bucket.max_ms)

    def plus(self, other: Tally) -> Tally:
        return Tally(self.good + other.good, self.slow + other.slow, self.fail + other.fail,
                     self.hist.merge(other.hist), max(self.max_ms, other.max_ms))

    @property
    def total(self) -> int:
        return self.good + self.slow + self.fail

    @property
    def p95_ms(self) -> float | None:
        return self.hist.percentile(0.95, max_ms=self.max_ms)


@dataclass(frozen=True)
class TrafficView:
    """What the page shows of the traffic: the per-second series, the recent rates and the per-name totals."""

    seconds: tuple[tuple[int, Tally], ...]
    """``(epoch second, tally)`` in time order (seconds without traffic are absent)."""
    names: tuple[tuple[str, Tally], ...]
    recent: Tally
    recent_s: float
    last_bad_ms: float | None
    failing: bool
    end_ms: int | None


@dataclass
class TrafficTally:
    follower: RunTimelineFollower
    _final_until_ms: int | None = None
    _seconds: dict[int, Tally] = field(default_factory=dict)
    _names: dict[str, Tally] = field(default_factory=dict)
    _last_bad_ms: float | None = None

    def update(self, *, done: bool) -> TrafficView:
        timeline = self.follower.timeline(since_ms=self._final_until_ms)
        end_ms = self.follower.end_ms
        settle = None if end_ms is None else (end_ms if done else (end_ms - SETTLE_MS) // 1000 * 1000)
        fresh_seconds: dict[int, Tally] = {}
        fresh_names: dict[str, Tally] = {}
        last_bad = self._last_bad_ms
        for bucket in timeline.buckets:
            second = bucket.start_ms // 1000
            final = settle is not None and bucket.start_ms < settle
            seconds, names = (self._seconds, self._names) if final else (fresh_seconds, fresh_names)
            seconds.setdefault(second, Tally()).add(bucket)
            names.setdefault(bucket.name, Tally()).add(bucket)
            bad = bucket.last_bad_ms
            if bad is not None and (last_bad is None or bad > last_bad):
                last_bad = bad
                if final:
                    self._last_bad_ms = bad
        if settle is not None and (self._final_until_ms is None or settle > self._final_until_ms):
            self._final_until_ms = settle
        merged = dict(self._seconds)
        for second, tally in fresh_seconds.items():
            merged[second] = merged[second].plus(tally) if second in merged else tally
        names = {name: tally.plus(fresh_names[name]) if name in fresh_names else tally
                 for name, tally in self._names.items()}
        names.update({name: tally for name, tally in fresh_names.items() if name not in names})
        return self._view(sorted(merged.items()), names, last_bad, end_ms, done)

    def _view(self, seconds: list[tuple[int, Tally]], names: dict[str, Tally], last_bad: float | None,
              end_ms: int | None, done: bool) -> TrafficView:
        recent = Tally()
        span = 0.0
        if end_ms is not None:
            last_full = end_ms // 1000 if done else (end_ms - self.follower.bucket_ms) // 1000
            first = last_full - RECENT_S
            for second, tally in reversed(seconds):
                if second < first:
                    break
                if second < last_full:
                    recent = recent.plus(tally)
            span = float(min(RECENT_S, max(1, last_full - seconds[0][0]))) if seconds else 0.0
        failing = (not done and end_ms is not None and last_bad is not None
                   and last_bad >= end_ms - 1000 - self.follower.bucket_ms)
        return TrafficView(tuple(seconds), tuple(sorted(names.items())), recent, span, last_bad, failing, end_ms)


__all__ = ["RECENT_S", "SETTLE_MS", "Tally", "TrafficTally", "TrafficView"]
