"""Outages in the timeline and the time from a fault to a sustained recovery (the RTO).

* :func:`find_outages` - runs of bad windows (bad requests and ``good/total < min_ok_ratio``; empty windows
  between bad ones join them). A request is bad when it failed or succeeded slower than the recorder's
  ``slow_ms`` (:attr:`Bucket.slow <aftershock.core.timeline.model.Bucket.slow>`). Edges use the per-request start
  timestamps, not window edges: an outage starts at its first bad request and ends at the first good request
  after its last bad one; each edge is only known to lie in an interval (:attr:`Outage.start_error_ms`,
  :attr:`Outage.end_error_ms`).
* :func:`time_to_recovery` - from a fault time to the start of the first sustained good period
  (every window with traffic at ``>= min_ok_ratio`` for ``>= sustain_ms``): the RTO.

Both take the ``names`` filter of :mod:`~aftershock.core.timeline.windows`.

Example::

    timeline = read_timeline(run_dir)
    for outage in find_outages(timeline, names=lambda n: n.startswith("fresh:")):
        print(outage.start_ms, outage.end_ms, outage.duration_ms)
    recovery = time_to_recovery(timeline, fault_ms=kill_epoch_ms, sustain_ms=5_000)
    recovery.rto_ms if recovery else "not recovered"
"""

from __future__ import annotations

from dataclasses import dataclass

from aftershock.core.timeline.model import Bucket, max_opt, min_opt, sum_kinds
from aftershock.core.timeline.store import Timeline
from aftershock.core.timeline.windows import NameFilter, Window, grouped_windows, window_size, windows


@dataclass(frozen=True)
class Outage:
    """A period in which the selected traffic was bad (failed or slow).

    ``start_ms``: start of the first bad request; ``end_ms``: start of the first good request after the last bad
    one, or an upper bound of it inside its bucket (None: not over when the data ends). The truth lies within
    ``(last_ok_before_ms, start_ms]`` and ``(last_bad_ms, end_ms]``. ``failures`` and ``slow`` count the bad
    requests, ``successes`` every success (slow ones included) of the outage's windows.
    """

    start_ms: float
    end_ms: float | None
    last_ok_before_ms: float | None
    last_bad_ms: float
    failures: int
    successes: int
    errors: tuple[tuple[str, int], ...]
    slow: int = 0

    @property
    def duration_ms(self) -> float | None:
        return None if self.end_ms is None else self.end_ms - self.start_ms

    @property
    def start_error_ms(self) -> float | None:
        """Width of the interval the outage's true start lies in (None: no good request before it)."""
        return None if self.last_ok_before_ms is None else self.start_ms - self.last_ok_before_ms

    @property
    def end_error_ms(self) -> float | None:
        """Width of the interval the outage's true end lies in (None: not over)."""
        return None if self.end_ms is None else self.end_ms - self.last_bad_ms

    @property
    def ongoing(self) -> bool:
        return self.end_ms is None


def _is_bad(window: Window, min_ok_ratio: float, min_failures: int) -> bool:
    return window.bad >= min_failures and window.good < min_ok_ratio * window.total


def _outage_edges(
    wins: list[Window], members: list[list[Bucket]], first: int, last: int
) -> tuple[float, float | None, float | None, float]:
    # first_ok/last_ok are good (not slow) successes
    start = min(t for b in members[first] if (t := b.first_bad_ms) is not None)
    before: float | None = None
    for bucket in members[first]:  # oks of the first bad window that came before its first bad request
        if bucket.last_ok_ms is not None and bucket.last_ok_ms < start:
            before = max_opt(before, bucket.last_ok_ms)
        elif bucket.first_ok_ms is not None and bucket.first_ok_ms < start:
            before = max_opt(before, bucket.first_ok_ms)
    for window in reversed(wins[:first]):
        if window.last_ok_ms is not None:
            before = max_opt(before, window.last_ok_ms)
            break
    last_bad = max(t for b in members[last] if (t := b.last_bad_ms) is not None)
    end: float | None = None
    for bucket in members[last]:  # oks of the last bad window after its last bad request (an upper bound)
        if bucket.first_ok_ms is not None and bucket.first_ok_ms > last_bad:
            end = min_opt(end, bucket.first_ok_ms)
        elif bucket.last_ok_ms is not None and bucket.last_ok_ms > last_bad:
            end = min_opt(end, bucket.last_ok_ms)
    if end is None:
        for window in wins[last + 1 :]:
            if window.first_ok_ms is not None:
                end = window.first_ok_ms
                break
    return start, end, before, last_bad


def find_outages(
    timeline: Timeline,
    *,
    names: NameFilter = None,
    window_ms: int | None = None,
    min_ok_ratio: float = 0.99,
    min_failures: int = 1,
) -> list[Outage]:
    """Outages of the selected traffic, oldest first.

    A window is bad when it has ``>= min_failures`` bad (failed or slow) requests and ``good/total <
    min_ok_ratio``; consecutive bad windows (with only empty windows between them) form one outage.
    """
    if not 0.0 < min_ok_ratio <= 1.0:
        raise ValueError(f"min_ok_ratio={min_ok_ratio} must be in (0, 1]")
    wins, members = grouped_windows(timeline, names, window_ms, None, None, latency=False)
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
        start, end, before, last_bad = _outage_edges(wins, members, first, last)
        inside = wins[first : last + 1]
        errors: tuple[tuple[str, int], ...] = ()
        for window in inside:
            errors = sum_kinds(errors, window.errors)
        outages.append(
            Outage(
                start_ms=start,
                end_ms=end,
                last_ok_before_ms=before,
                last_bad_ms=last_bad,
                failures=sum(w.fail for w in inside),
                successes=sum(w.ok for w in inside),
                errors=errors,
                slow=sum(w.slow for w in inside),
            )
        )
    return outages


def first_ok_after(timeline: Timeline, at_ms: float, *, names: NameFilter = None) -> float | None:
    """The start of the first success at or after ``at_ms``, or an upper bound of it inside its bucket (the
    buckets keep only the first and last success); None when there is none."""
    size = timeline.bucket_ms
    end = timeline.end_ms
    if end is None:
        return None
    for window in grouped_windows(timeline, names, size, at_ms, end, latency=False)[0]:
        for seen in (window.first_ok_ms, window.last_ok_ms):
            if seen is not None and seen >= at_ms:
                return seen
    return None


@dataclass(frozen=True)
class Recovery:
    """Time from a fault to the start of a sustained good period.

    The recovery instant lies after the start of the last bad request and at the latest at the first good
    request after it, ``recovered_ms`` (without an outage: between the fault and the first success after it,
    ``recovered_ms`` is the fault). :attr:`rto_ms` is measured to ``recovered_ms``; the truth lies within
    ``rto_ms +- rto_error_ms`` (the interval's width plus the load generator's scheduling delay around it, as
    :meth:`Timeline.loop_lag_ms <aftershock.core.timeline.store.Timeline.loop_lag_ms>` says).
    """

    fault_ms: float
    recovered_ms: float
    sustained_ms: int
    outage: Outage | None
    """The last outage that ended at the recovery (None: the fault caused no failure)."""
    rto_error_ms: float = 0.0

    @property
    def rto_ms(self) -> float:
        return max(0.0, self.recovered_ms - self.fault_ms)


def recovery_bounds(timeline: Timeline, fault_ms: float, outage: Outage | None, *,
                    names: NameFilter = None) -> tuple[float, float]:
    """``(lower, upper)`` epoch ms of the recovery instant after ``fault_ms``: ``outage`` is the last outage
    (ended) after the fault, None when the fault caused none. With an outage: from the start of its last bad
    request to its end (the first good request after it); without: from the fault to its first success."""
    if outage is not None and outage.end_ms is not None:
        upper = max(fault_ms, outage.end_ms)
        return min(upper, max(fault_ms, outage.last_bad_ms)), upper
    first = first_ok_after(timeline, fault_ms, names=names)
    return fault_ms, fault_ms if first is None else first


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

    Good for good: from a window with traffic, every window with traffic has ``good/total >= min_ok_ratio``
    for at least ``sustain_ms`` (empty windows neither break nor prove it). The recovery instant is the end
    of the last outage (at bucket resolution, per-request timestamps) before that period, or the fault time
    itself when the fault caused no failure; :attr:`Recovery.rto_error_ms` bounds it.
    """
    size = window_size(timeline, window_ms)
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
    last = before[-1] if before else None
    low, high = recovery_bounds(timeline, fault_ms, last, names=names)
    return Recovery(fault_ms=fault_ms, recovered_ms=fault_ms if last is None else high, sustained_ms=sustain_ms,
                    outage=last, rto_error_ms=high - low + (timeline.loop_lag_ms(low, high) or 0.0))


__all__ = [
    "Outage",
    "Recovery",
    "find_outages",
    "first_ok_after",
    "recovery_bounds",
    "time_to_recovery",
]
