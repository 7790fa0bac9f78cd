"""The timeline's data: one :class:`Bucket` per (bucket start, request name), mergeable piece by piece.

A bucket counts the requests that *started* in ``[start_ms, start_ms + bucket_ms)`` (epoch milliseconds).
Several load-generator processes report the same bucket, and one process may report it in several pieces;
:meth:`Bucket.merge` is associative and commutative, so pieces can be merged in any order.

Latencies go into a fixed, log-spaced histogram (:data:`HIST_EDGES_MS`: 20 bins per decade from 0.1 ms to
100 s, plus one overflow bin), so histograms from any process merge by adding counts.

Example::

    a = Bucket.single(start_ms=1_700_000_000_000, bucket_ms=100, name="GET /health", ok=True,
                      at_ms=1_700_000_000_012.5, latency_ms=3.2)
    b = Bucket.single(start_ms=1_700_000_000_000, bucket_ms=100, name="GET /health", ok=False,
                      at_ms=1_700_000_000_050.0, latency_ms=1.0, error="connection refused")
    merged = a.merge(b)            # ok=1, fail=1, errors={"connection refused": 1}
    merged.hist.percentile(0.5)    # upper edge of the median's bin, capped at the max latency

:class:`LoopLag` records how late the load generator's own event loop ran per bucket (its scheduling delay).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

HIST_MIN_MS = 0.1
"""Upper edge of the first histogram bin."""
HIST_BINS_PER_DECADE = 20
HIST_DECADES = 6
HIST_EDGES_MS: tuple[float, ...] = tuple(
    HIST_MIN_MS * 10 ** (i / HIST_BINS_PER_DECADE) for i in range(HIST_DECADES * HIST_BINS_PER_DECADE + 1)
)
"""Upper edges of the histogram bins (ms); bin ``i`` holds ``(HIST_EDGES_MS[i-1], HIST_EDGES_MS[i]]``."""
HIST_OVERFLOW_BIN = len(HIST_EDGES_MS)
"""Index of the last bin, for latencies above the last edge (100 s)."""


def latency_bin(latency_ms: float) -> int:
    """The histogram bin index of a latency in milliseconds."""
    return bisect.bisect_left(HIST_EDGES_MS, latency_ms)


def bin_upper_ms(index: int) -> float:
    """The upper edge of bin ``index`` (``inf`` for the overflow bin)."""
    return HIST_EDGES_MS[index] if index < HIST_OVERFLOW_BIN else math.inf


K = TypeVar("K", int, str)  # a histogram bin or an error kind


def _sum_pairs(a: tuple[tuple[K, int], ...], b: tuple[tuple[K, int], ...]) -> tuple[tuple[K, int], ...]:
    """Counts keyed by histogram bin or error kind, added up (sorted by key)."""
    if not a:
        return b
    if not b:
        return a
    counts = dict(a)
    for key, count in b:
        counts[key] = counts.get(key, 0) + count
    return tuple(sorted(counts.items()))


sum_kinds = _sum_pairs  # error kinds: the same addition as histogram bins


def min_opt(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a <= b else b


def max_opt(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a >= b else b


@dataclass(frozen=True, slots=True)
class LatencyHistogram:
    """Sparse counts per fixed log-spaced bin: ``((bin index, count), ...)`` sorted by bin index."""

    counts: tuple[tuple[int, int], ...] = ()

    @classmethod
    def from_mapping(cls, counts: Mapping[int, int]) -> LatencyHistogram:
        return cls(tuple(sorted((int(k), int(v)) for k, v in counts.items() if v)))

    @classmethod
    def of(cls, latencies_ms: Iterable[float]) -> LatencyHistogram:
        counts: dict[int, int] = {}
        for latency in latencies_ms:
            index = latency_bin(latency)
            counts[index] = counts.get(index, 0) + 1
        return cls.from_mapping(counts)

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)

    def merge(self, other: LatencyHistogram) -> LatencyHistogram:
        return LatencyHistogram(_sum_pairs(self.counts, other.counts))

    def percentile(self, q: float, *, max_ms: float | None = None) -> float | None:
        """The upper edge of the bin holding quantile ``q`` (0..1), capped at ``max_ms``; None when empty."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile {q} is outside 0..1")
        total = self.total
        if total == 0:
            return None
        rank = max(1, math.ceil(q * total))
        seen = 0
        edge = math.inf
        for index, count in self.counts:
            seen += count
            if seen >= rank:
                edge = bin_upper_ms(index)
                break
        if max_ms is not None and max_ms < edge:
            return max_ms
        return edge


EMPTY_HISTOGRAM = LatencyHistogram()


class RequestCounts:
    """What a bucket and a window of buckets derive from their counts and edges: total, bad (failed or slow), good
    (successes within ``slow_ms``) and the edges of the bad ones."""

    __slots__ = ()
    ok: int
    fail: int
    slow: int
    first_fail_ms: float | None
    last_fail_ms: float | None
    first_slow_ms: float | None
    last_slow_ms: float | None

    @property
    def total(self) -> int:
        return self.ok + self.fail

    @property
    def bad(self) -> int:
        """Failed or slow requests (what outages and the RTO count)."""
        return self.fail + self.slow

    @property
    def good(self) -> int:
        """Successes within ``slow_ms``."""
        return self.ok - self.slow

    @property
    def first_bad_ms(self) -> float | None:
        return min_opt(self.first_fail_ms, self.first_slow_ms)

    @property
    def last_bad_ms(self) -> float | None:
        return max_opt(self.last_fail_ms, self.last_slow_ms)


@dataclass(frozen=True, slots=True)
class Bucket(RequestCounts):
    """Requests of one name that started in ``[start_ms, start_ms + bucket_ms)`` (epoch ms).

    ``first_ok_ms``/``last_ok_ms`` and ``first_fail_ms``/``last_fail_ms`` are the start times of the earliest
    and latest successful and failed requests: they place an outage's edges inside the bucket.
    ``errors`` counts failures by kind (``"http 503"``, ``"timeout"``, ``"connection refused"``, ``"bad body"``).
    ``max_ms`` is the highest latency of any request (ok or failed); ``hist`` holds all latencies.
    ``slow`` counts the successes slower than the recorder's ``slow_ms`` (a subset of ``ok``), with the start
    times of the first and last of them: outages and the RTO count them as bad (:attr:`bad`, :attr:`good`),
    availability (``ok / total``) does not. ``first_ok_ms``/``last_ok_ms`` are those of the good (not slow)
    successes, so the first good request after the last bad one is placed as sharply as after a failure.
    """

    start_ms: int
    bucket_ms: int
    name: str
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
    first_slow_ms: float | None = None
    last_slow_ms: float | None = None

    @classmethod
    def single(
        cls,
        *,
        start_ms: int,
        bucket_ms: int,
        name: str,
        ok: bool,
        at_ms: float,
        latency_ms: float,
        error: str | None = None,
        slow_ms: float | None = None,
    ) -> Bucket:
        """A bucket holding one request (tests and examples; the Locust plugin accumulates faster); a success
        slower than ``slow_ms`` counts as slow."""
        hist = LatencyHistogram(((latency_bin(latency_ms), 1),))
        if ok:
            if slow_ms is not None and latency_ms > slow_ms:
                return cls(start_ms, bucket_ms, name, 1, 0, hist, latency_ms, None, None, None, None, (),
                           1, at_ms, at_ms)
            return cls(start_ms, bucket_ms, name, 1, 0, hist, latency_ms, at_ms, at_ms, None, None, ())
        kinds = ((error or "error", 1),)
        return cls(start_ms, bucket_ms, name, 0, 1, hist, latency_ms, None, None, at_ms, at_ms, kinds)

    @property
    def key(self) -> tuple[int, str]:
        return (self.start_ms, self.name)

    @property
    def error_kinds(self) -> dict[str, int]:
        return dict(self.errors)

    def merge(self, other: Bucket) -> Bucket:
        """The sum of two pieces of the same bucket (same start, size and name)."""
        if self.key != other.key or self.bucket_ms != other.bucket_ms:
            raise ValueError(
                f"cannot merge bucket {self.name!r}@{self.start_ms}/{self.bucket_ms}ms with "
                f"{other.name!r}@{other.start_ms}/{other.bucket_ms}ms: pieces must share start, size and name"
            )
        return Bucket(
            start_ms=self.start_ms,
            bucket_ms=self.bucket_ms,
            name=self.name,
            ok=self.ok + other.ok,
            fail=self.fail + other.fail,
            hist=self.hist.merge(other.hist),
            max_ms=max(self.max_ms, other.max_ms),
            first_ok_ms=min_opt(self.first_ok_ms, other.first_ok_ms),
            last_ok_ms=max_opt(self.last_ok_ms, other.last_ok_ms),
            first_fail_ms=min_opt(self.first_fail_ms, other.first_fail_ms),
            last_fail_ms=max_opt(self.last_fail_ms, other.last_fail_ms),
            errors=sum_kinds(self.errors, other.errors),
            slow=self.slow + other.slow,
            first_slow_ms=min_opt(self.first_slow_ms, other.first_slow_ms),
            last_slow_ms=max_opt(self.last_slow_ms, other.last_slow_ms),
        )


@dataclass(frozen=True, slots=True)
class LoopLag:
    """How late the load generator's event loop ran in ``[start_ms, start_ms + bucket_ms)`` (epoch ms).

    A sampler sleeps a short period (``sample_ms``) and measures how late it wakes; ``max_ms`` is the worst of
    the ``samples`` wake-ups due in the bucket. A request stamped with its start time waits up to that long (plus
    one sample period) before it is really sent, so the order in which the service receives requests may differ
    from their start times by that much. Pieces from several processes merge to the worst.
    """

    start_ms: int
    bucket_ms: int
    max_ms: float
    samples: int = 1
    sample_ms: float = 10.0

    def merge(self, other: LoopLag) -> LoopLag:
        if self.start_ms != other.start_ms or self.bucket_ms != other.bucket_ms:
            raise ValueError(f"cannot merge loop lag @{self.start_ms}/{self.bucket_ms}ms with "
                             f"@{other.start_ms}/{other.bucket_ms}ms: pieces must share start and size")
        return LoopLag(self.start_ms, self.bucket_ms, max(self.max_ms, other.max_ms), self.samples + other.samples,
                       max(self.sample_ms, other.sample_ms))

    def may_delay(self, at_ms: float) -> bool:
        """True when a request stamped in this bucket may have been sent at or after ``at_ms``."""
        return self.start_ms + self.bucket_ms + self.max_ms + self.sample_ms >= at_ms


def merge_lags(pieces: Iterable[LoopLag]) -> list[LoopLag]:
    """Merge loop-lag pieces that share a start, sorted by start."""
    merged: dict[int, LoopLag] = {}
    for piece in pieces:
        seen = merged.get(piece.start_ms)
        merged[piece.start_ms] = piece if seen is None else seen.merge(piece)
    return [merged[key] for key in sorted(merged)]


def merge_buckets(pieces: Iterable[Bucket]) -> list[Bucket]:
    """Merge pieces that share (start, name), sorted by start then name."""
    merged: dict[tuple[int, str], Bucket] = {}
    for piece in pieces:
        seen = merged.get(piece.key)
        merged[piece.key] = piece if seen is None else seen.merge(piece)
    return [merged[key] for key in sorted(merged)]


__all__ = [
    "EMPTY_HISTOGRAM",
    "HIST_EDGES_MS",
    "HIST_OVERFLOW_BIN",
    "Bucket",
    "LatencyHistogram",
    "LoopLag",
    "bin_upper_ms",
    "latency_bin",
    "merge_buckets",
    "merge_lags",
]
