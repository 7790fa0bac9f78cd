"""Per request name totals over a whole timeline: requests, failures, req/s and p50/p95/p99 (the CLI's table).

Example::

    for row in summarize(read_timeline(run_dir)):
        print(row.name, row.requests, row.failures, row.p99_ms)
"""

from __future__ import annotations

from dataclasses import dataclass

from aftershock.core.timeline.model import Bucket
from aftershock.core.timeline.store import Timeline
from aftershock.core.timeline.windows import NameFilter, Window, select


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
    slow: int = 0
    """Successes slower than ``slow_ms`` (counted in ``requests``, not in ``failures``)."""


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
               b.first_fail_ms, b.last_fail_ms, b.errors, b.slow, b.first_slow_ms, b.last_slow_ms)
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
        slow=window.slow,
    )


__all__ = [
    "NameSummary",
    "summarize",
]
