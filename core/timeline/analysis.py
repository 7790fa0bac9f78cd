"""What the timeline says: availability and latency per window, outages, time to a sustained recovery.

Every function takes a merged :class:`~aftershock.core.timeline.store.Timeline` and an optional ``names`` filter
(an iterable of request names, or a predicate such as ``lambda n: n.startswith("fresh:")``).

* :func:`windows` - contiguous windows (empty ones included) with counts, first/last timestamps and a
  merged latency histogram: ``Window.availability``, ``Window.rps``, ``Window.percentile(q)``.
* :func:`find_outages` - runs of bad windows (failures and ``ok/total < min_ok_ratio``; empty windows
  between bad ones join them). Edges use the per-request start timestamps, not window edges: an outage
  starts at its first failed request and ends at the first successful request after its last failure.
* :func:`time_to_recovery` - from a fault time to the start of the first sustained good period
  (every window with traffic at ``>= min_ok_ratio`` for ``>= sustain_ms``): the RTO.
* :func:`summarize` - per name totals, req/s and p50/p95/p99 (the CLI's table).

Example::

    timeline = read_timeline(run_dir)
    for outage in find_outages(timeline, names=lambda n: n.startswith("fresh:")):
        print(outage.start_ms, outage.end_ms, outage.duration_ms)
    recovery = time_to_recovery(timeline, fault_ms=kill_epoch_ms, sustain_ms=5_000)
    recovery.rto_ms if recovery else "not recovered"
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from aftershock.core.timeline.model import EMPTY_HISTOGRAM, Bucket, LatencyHistogram, max_opt, min_opt, sum_kinds
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
class Window:
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

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.window_ms

    @property
    def total(self) -> int:
        return self.ok + self.fail

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

    def add(self, bucket: Bucket) -> Window:
        return Window(
            start_ms=self.start_ms,
            window_ms=self.window_ms,
            ok=self.ok + bucket.ok,
            fail=self.fail + bucket.fail,
            hist=self.hist.merge(bucket.hist),
            max_ms=max(self.max_ms, bucket.max_ms),
            first_ok_ms=min_opt(self.first_ok_ms, bucket.first_ok_ms),
            last_ok_ms=max_opt(self.last_ok_ms, bucket.last_ok_ms),
            first_fail_ms=min_opt(self.first_fail_ms, bucket.first_fail_ms),
            last_fail_ms=max_opt(self.last_fail_ms, bucket.last_fail_ms),
            errors=sum_kinds(self.errors, bucket.errors),
        )


def _window_size(timeline: Timeline, window_ms: int | None) -> int:
    size = timeline.bucket_ms if window_ms is None else window_ms
    if size <= 0 or size % timeline.bucket_ms:
        raise ValueError(
            f"window_ms={size} must be a positive multiple of the timeline's {timeline.bucket_ms} ms buckets"
        )
    return size


def _grouped(
    timeline: Timeline, names: NameFilter, window_ms: int | None, start_ms: float | None, end_ms: float | None
) -> tuple[list[Window], list[list[Bucket]]]:
    size = _window_size(timeline, window_ms)
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
            wins[index] = wins[index].add(bucket)
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
    return _grouped(timeline, names, window_ms, start_ms, end_ms)[0]


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


@dataclass(frozen=True)
class Outage:
    """A period in which the selected traffic failed.

    ``start_ms``: start of the first failed request; ``end_ms``: start of the first successful request after
    the last failure (None: not over when the data ends). The truth lies within
    ``(last_ok_before_ms, start_ms]`` and ``(last_fail_ms, end_ms]``.
    """

    start_ms: float
    end_ms: float | None
    last_ok_before_ms: float | None
    last_fail_ms: float
    failures: int
    successes: int
    errors: tuple[tuple[str, int], ...]

    @property
    def duration_ms(self) -> float | None:
        return None if self.end_ms is None else self.end_ms - self.start_ms

    @property
    def ongoing(self) -> bool:
        return self.end_ms is None


def _is_bad(window: Window, min_ok_ratio: float, min_failures: int) -> bool:
    return window.fail >= min_failures and window.ok < min_ok_ratio * window.total


def _outage_edges(
    wins: list[Window], members: list[list[Bucket]], first: int, last: int
) -> tuple[float, float | None, float | None, float]:
    start = min(b.first_fail_ms for b in members[first] if b.first_fail_ms is not None)
    before: float | None = None
    for bucket in members[first]:  # oks of the first bad window that came before its first failure
        if bucket.last_ok_ms is not None and bucket.last_ok_ms < start:
            before = max_opt(before, bucket.last_ok_ms)
        elif bucket.first_ok_ms is not None and bucket.first_ok_ms < start:
            before = max_opt(before, bucket.first_ok_ms)
    for window in reversed(wins[:first]):
        if window.last_ok_ms is not None:
            before = max_opt(before, window.last_ok_ms)
            break
    last_fail = max(b.last_fail_ms for b in members[last] if b.last_fail_ms is not None)
    end: float | None = None
    for bucket in members[last]:  # oks of the last bad window after its last failure (an upper bound)
        if bucket.first_ok_ms is not None and bucket.first_ok_ms > last_fail:
            end = min_opt(end, bucket.first_ok_ms)
        elif bucket.last_ok_ms is not None and bucket.last_ok_ms > last_fail:
            end = min_opt(end, bucket.last_ok_ms)
    if end is None:
        for window in wins[last + 1 :]:
            if window.first_ok_ms is not None:
                end = window.first_ok_ms
                break
    return start, end, before, last_fail


def find_outages(
    timeline: Timeline,
    *,
    names: NameFilter = None,
    window_ms: int | None = None,
    min_ok_ratio: float = 0.99,
    min_failures: int = 1,
) -> list[Outage]:
    """Outages of the selected traffic, oldest first.

    A window is bad when it has ``>= min_failures`` failures and ``ok/total < min_ok_ratio``; consecutive bad
    windows (with only empty windows between them) form one outage.
    """
    if not 0.0 < min_ok_ratio <= 1.0:
        raise ValueError(f"min_ok_ratio={min_ok_ratio} must be in (0, 1]")
    wins, members = _grouped(timeline, names, window_ms, None, None)
    runs: list[tuple[int, int]] = []
    run_start: int | None = None
    run_last = -1
    for index, window in enumerate(wins):
        if _is_bad(window, min_ok_ratio, max(1, min_failures)):
            if run_start is None:
                run_start = index
            run_last = index
        elif window.total and run_start is not None:
            runs.append((run_start, run_last))
            run_start = None
    if run_start is not None:
        runs.append((run_start, run_last))
    outages = []
    for first, last in runs:
        start, end, before, last_fail = _outage_edges(wins, members, first, last)
        inside = wins[first : last + 1]
        errors: tuple[tuple[str, int], ...] = ()
        for window in inside:
            errors = sum_kinds(errors, window.errors)
        outages.append(
            Outage(
                start_ms=start,
                end_ms=end,
                last_ok_before_ms=before,
                last_fail_ms=last_fail,
                failures=sum(w.fail for w in inside),
                successes=sum(w.ok for w in inside),
                errors=errors,
            )
        )
    return outages


@dataclass(frozen=True)
class Recovery:
    """Time from a fault to the start of a sustained good period."""

    fault_ms: float
    recovered_ms: float
    sustained_ms: int
    outage: Outage | None
    """The last outage that ended at the recovery (None: the fault caused no failure)."""

    @property
    def rto_ms(self) -> float:
        return max(0.0, self.recovered_ms - self.fault_ms)


def time_to_recovery(
    timeline: Timeline,
    fault_ms: float,
    *,
    names: NameFilter = None,
    window_ms: int = 1000,
    min_ok_ratio: float = 0.99,
    sustain_ms: int = 5000,
) -> Recovery | None:
    """When the selected traffic was good again for good after ``fault_ms`` (epoch ms); None if not yet.

    Good for good: from a window with traffic, every window with traffic has ``ok/total >= min_ok_ratio``
    for at least ``sustain_ms`` (empty windows neither break nor prove it). The recovery instant is the end
    of the last outage (at bucket resolution, per-request timestamps) before that period, or the fault time
    itself when the fault caused no failure.
    """
    size = _window_size(timeline, window_ms)
    end = timeline.end_ms
    if end is None:
        return None
    wins = windows(timeline, names=names, window_ms=size, start_ms=fault_ms, end_ms=end)
    needed = max(1, -(-sustain_ms // size))
    streak_start: int | None = None
    found: int | None = None
    for index, window in enumerate(wins):
        if _is_bad(window, min_ok_ratio, 1):
            streak_start = None
            continue
        if streak_start is None:
            if not window.total:
                continue
            streak_start = index
        if index - streak_start + 1 >= needed:
            found = streak_start
            break
    if found is None:
        return None
    streak_ms = wins[found].start_ms
    fine = find_outages(timeline, names=names, min_ok_ratio=min_ok_ratio)
    before = [
        o
        for o in fine
        if o.end_ms is not None and o.end_ms >= fault_ms - timeline.bucket_ms and o.end_ms <= streak_ms + size
    ]
    if not before:
        return Recovery(fault_ms=fault_ms, recovered_ms=fault_ms, sustained_ms=sustain_ms, outage=None)
    last = before[-1]
    assert last.end_ms is not None
    return Recovery(fault_ms=fault_ms, recovered_ms=max(fault_ms, last.end_ms), sustained_ms=sustain_ms, outage=last)


@dataclass(frozen=True)
class NameSummary:
    """Totals for one request name (or ``"TOTAL"``) over the whole timeline."""

    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float
    errors: tuple[tuple[str, int], ...]


def summarize(timeline: Timeline, *, names: NameFilter = None) -> list[NameSummary]:
    """One row per name (sorted) plus a final ``"TOTAL"`` row; req/s over the timeline's span."""
    span_s = ((timeline.end_ms or 0) - (timeline.start_ms or 0)) / 1000.0
    groups: dict[str, Window] = {}
    for bucket in select(timeline, names):
        groups[bucket.name] = groups.get(bucket.name, Window(0, timeline.bucket_ms)).add(bucket)
    total = Window(0, timeline.bucket_ms)
    rows = []
    for name in sorted(groups):
        window = groups[name]
        total = _combine(total, window)
        rows.append(_summary(name, window, span_s))
    rows.append(_summary("TOTAL", total, span_s))
    return rows


def _combine(a: Window, b: Window) -> Window:
    return a.add(
        Bucket(0, a.window_ms, "", b.ok, b.fail, b.hist, b.max_ms, b.first_ok_ms, b.last_ok_ms,
               b.first_fail_ms, b.last_fail_ms, b.errors)
    )  # fmt: skip


def _summary(name: str, window: Window, span_s: float) -> NameSummary:
    return NameSummary(
        name=name,
        requests=window.total,
        failures=window.fail,
        rps=window.total / span_s if span_s > 0 else 0.0,
        p50_ms=window.percentile(0.5),
        p95_ms=window.percentile(0.95),
        p99_ms=window.percentile(0.99),
        max_ms=window.max_ms,
        errors=window.errors,
    )


__all__ = [
    "DEFAULT_QUANTILES",
    "NameFilter",
    "NameSummary",
    "Outage",
    "Recovery",
    "Window",
    "availability",
    "find_outages",
    "latency_percentiles",
    "select",
    "summarize",
    "time_to_recovery",
    "windows",
]
