"""Warm-up after a recovery: when latency and errors were back within the SLO, sustained.

Example::

    warm_ms = slo_back_at(timeline, recovered_ms, max_p95_ms=500, max_error_rate=0.01, sustain_ms=3000)
"""

from __future__ import annotations

from aftershock.core.timeline.store import Timeline
from aftershock.core.timeline.windows import NameFilter, windows


def slo_back_at(timeline: Timeline, after_ms: float, *, max_p95_ms: float, max_error_rate: float,
                sustain_ms: int, window_ms: int = 1000, names: NameFilter = None) -> float | None:
    """Start (epoch ms, at window resolution) of the first period of ``sustain_ms`` after ``after_ms`` in which
    every window with traffic had p95 <= ``max_p95_ms`` and failed/total <= ``max_error_rate``; ``after_ms``
    itself when the first windows already do. None: not (yet) seen in the data."""
    end = timeline.end_ms
    if end is None:
        return None
    since: float | None = None
    for window in windows(timeline, names=names, window_ms=window_ms, start_ms=after_ms, end_ms=end):
        if not window.total:
            continue
        p95 = window.percentile(0.95)
        within = (p95 is not None and p95 <= max_p95_ms) and window.fail <= max_error_rate * window.total
        if not within:
            since = None
            continue
        if since is None:
            since = max(after_ms, float(window.start_ms))
        if window.end_ms - since >= sustain_ms:
            return since
    return None


__all__ = ["slo_back_at"]
