"""The timeline in windows: requests grouped by start time, with counts, edges and a merged latency histogram.

Every function takes a merged :class:`~aftershock.core.timeline.store.Timeline` and an optional ``names`` filter
(an iterable of request names, or a predicate such as ``lambda n: n.startswith("fresh:")``).

* :func:`windows` - contiguous windows (empty ones included) with counts, first/last timestamps and a
  merged latency histogram: ``Window.availability``, ``Window.rps``, ``Window.percentile(q)``.
* :func:`availability` and :func:`latency_percentiles` - one value per window.

Example::

    timeline = read_timeline(run_dir)
    for window in windows(timeline, names=lambda n: n.startswith("fresh:"), window_ms=1000):
        print(window.start_ms, window.availability, window.percentile(0.99))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from aftershock.core.timeline.model import (
    EMPTY_HISTOGRAM,
    Bucket,
    LatencyHistogram,
    RequestCounts,
    max_opt,
    min_opt,
    sum_kinds,
)
from aftershock.core.timeline.store import Timeline

NameFilter = Iterable[str] | Callable[[str], bool] | None
"""Which request names to include: all (None), a collection of names, or a predicate."""

DEFAULT_QUANTILES: tuple[float, ...] = (0.5, 0.95, 0.99)


def _matcher(names: NameFilter) -> Callable[[str], bool]:
    if names is None:
        return lambda _name: True
    if callable(names):
        return names
    wanted = frozenset(names)
    return wanted.__contains__


def select(timeline: Timeline, names: NameFilter = None) -> list[Bucket]:
    """The timeline's buckets whose name passes ``names``."""
    match = _matcher(names)
    return [b for b in timeline.buckets if match(b.name)]


@dataclass(frozen=True)
class Window(RequestCounts):
    """All selected requests that started in ``[start_ms, start_ms + window_ms)``."""

    start_ms: int
    window_ms: int
    ok: int = 0
    fail: int = 0
    hist: LatencyHistogram = EMPTY_HISTOGRAM
    max_ms: float = 0.0
    first_ok_ms: float | None = None
    last_ok_ms: float | None = None
    first_fail_ms: float | None = None
    last_fail_ms: float | None = None
    errors: tuple[tuple[str, int], ...] = ()
    slow: int = 0
    """Successes slower than ``slow_ms`` (a subset of ``ok``; see :class:`~aftershock.core.timeline.model.Bucket`)."""
    first_slow_ms: float | None = None
    last_slow_ms: float | None = None

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.window_ms

    @property
    def availability(self) -> float | None:
        """ok / total in [0, 1]; None for a window without requests."""
        return self.ok / self.total if self.total else None

    @property
    def rps(self) -> float:
        return self.total * 1000.0 / self.window_ms

    def percentile(self, q: float) -> float | None:
        """Latency (ms) at quantile ``q`` in 0..1 (histogram bin upper edge, capped at the max)."""
        return self.hist.percentile(q, max_ms=self.max_ms)

    def add(self, bucket: Bucket, *, latency: bool = True) -> Window:
        """This window with ``bucket``'s requests added; ``latency=False`` leaves the histogram and ``max_ms``
        out (counts and edges only: outages need no latencies, and merging histograms is most of the cost)."""
        return Window(
            start_ms=self.start_ms,
            window_ms=self.window_ms,
            ok=self.ok + bucket.ok,
            fail=self.fail + bucket.fail,
            hist=self.hist.merge(bucket.hist) if latency else self.hist,
            max_ms=max(self.max_ms, bucket.max_ms) if latency else self.max_ms,
            first_ok_ms=min_opt(self.first_ok_ms, bucket.first_ok_ms),
            last_ok_ms=max_opt(self.last_ok_ms, bucket.last_ok_ms),
            first_fail_ms=min_opt(self.first_fail_ms, bucket.first_fail_ms),
            last_fail_ms=max_opt(self.last_fail_ms, bucket.last_fail_ms),
            errors=sum_kinds(self.errors, bucket.errors),
            slow=self.slow + bucket.slow,
            first_slow_ms=min_opt(self.first_slow_ms, bucket.first_slow_ms),
            last_slow_ms=max_opt(self.last_slow_ms, bucket.last_slow_ms),
        )


def window_size(timeline: Timeline, window_ms: int | None) -> int:
    """``window_ms`` checked against the timeline's bucket size (None: one bucket)."""
    size = timeline.bucket_ms if window_ms is None else window_ms
    if size <= 0 or size % timeline.bucket_ms:
        raise ValueError(
            f"window_ms={size} must be a positive multiple of the timeline's {timeline.bucket_ms} ms buckets"
        )
    return size


def grouped_windows(
    timeline: Timeline, names: NameFilter, window_ms: int | None, start_ms: float | None, end_ms: float | None,
    *, latency: bool = True,
) -> tuple[list[Window], list[list[Bucket]]]:
    """:func:`windows` plus, per window, the buckets it was made of (outage edges need the per-bucket times);
    ``latency=False``: windows without histograms (see :meth:`Window.add`)."""
    size = window_size(timeline, window_ms)
    chosen = select(timeline, names)
    if start_ms is None and end_ms is None and not chosen:
        return [], []
    first = min(b.start_ms for b in chosen) if start_ms is None and chosen else math.floor(start_ms or 0)
    last = max(b.start_ms for b in chosen) + timeline.bucket_ms if end_ms is None and chosen else math.ceil(end_ms or 0)
    first = first // size * size
    count = max(0, -(-(last - first) // size))
    wins = [Window(first + i * size, size) for i in range(count)]
    members: list[list[Bucket]] = [[] for _ in range(count)]
    for bucket in chosen:
        index = (bucket.start_ms - first) // size
        if 0 <= index < count:
            wins[index] = wins[index].add(bucket, latency=latency)
            members[index].append(bucket)
    return wins, members


def windows(
    timeline: Timeline,
    *,
    names: NameFilter = None,
    window_ms: int | None = None,
    start_ms: float | None = None,
    end_ms: float | None = None,
) -> list[Window]:
    """Contiguous windows of ``window_ms`` (default: the bucket size) aligned to multiples of it, from the
    first to the last selected bucket (or over ``[start_ms, end_ms)``), empty windows included."""
    return grouped_windows(timeline, names, window_ms, start_ms, end_ms)[0]


def availability(
    timeline: Timeline, *, names: NameFilter = None, window_ms: int | None = None
) -> list[tuple[int, float | None]]:
    """``(window start ms, ok/total or None when empty)`` per window."""
    return [(w.start_ms, w.availability) for w in windows(timeline, names=names, window_ms=window_ms)]


def latency_percentiles(
    timeline: Timeline,
    *,
    names: NameFilter = None,
    window_ms: int | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
) -> list[tuple[int, dict[float, float | None]]]:
    """``(window start ms, {quantile: latency ms})`` per window, from the merged histograms."""
    return [
        (w.start_ms, {q: w.percentile(q) for q in quantiles})
        for w in windows(timeline, names=names, window_ms=window_ms)
    ]


__all__ = [
    "DEFAULT_QUANTILES",
    "NameFilter",
    "Window",
    "availability",
    "grouped_windows",
    "latency_percentiles",
    "select",
    "window_size",
    "windows",
]
