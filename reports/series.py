"""Chart-ready series: the timeline and the samples aggregated to at most a few hundred points.

A 2-hour run has 72,000 buckets per request name; a chart is ~800 pixels wide. Each point of a series is one
bin of ``bin_s`` seconds (a multiple of the bucket size) and carries the mean rate plus a min/max envelope of
the per-second rates inside the bin, so a 2-second outage in a 2-hour run still shows as a dip. Latency
percentiles come from the bin's merged histograms (the p99 of a bin keeps short spikes visible).

Example::

    traffic = traffic_series(timeline, max_points=600)
    traffic.ok_rate[i], traffic.ok_min[i], traffic.ok_max[i], traffic.p95[i]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from aftershock.core.samples import Sample
from aftershock.core.timeline.model import HIST_OVERFLOW_BIN, bin_upper_ms
from aftershock.core.timeline.store import Timeline

MAX_POINTS = 600
TOP_ERROR_KINDS = 5
_BINS = HIST_OVERFLOW_BIN + 1


@dataclass(frozen=True)
class TrafficSeries:
    """Per-bin request rates (req/s), envelopes, latency percentiles (ms) and error kinds."""

    t0: float
    bin_s: float
    times: tuple[float, ...]
    """The centre of each bin (epoch s)."""
    ok_rate: tuple[float, ...]
    fail_rate: tuple[float, ...]
    ok_min: tuple[float, ...]
    ok_max: tuple[float, ...]
    fail_max: tuple[float, ...]
    p50: tuple[float | None, ...]
    p95: tuple[float | None, ...]
    p99: tuple[float | None, ...]
    error_kinds: tuple[tuple[str, tuple[float, ...]], ...]
    """Top error kinds (and ``other``) with their rate per bin."""

    @property
    def t1(self) -> float:
        return self.t0 + self.bin_s * len(self.times)

    @property
    def empty(self) -> bool:
        return not self.times


def _percentile(counts: list[int], total: int, q: float, cap: float) -> float | None:
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return min(bin_upper_ms(index), cap)
    return cap


def traffic_series(timeline: Timeline, *, max_points: int = MAX_POINTS, min_bin_ms: int = 1000) -> TrafficSeries:
    """Aggregate the timeline (all request names) into at most ``max_points`` bins of at least ``min_bin_ms``
    (load generators tick about once a second: finer bins only show the ticks)."""
    first_ms, end_ms = timeline.start_ms, timeline.end_ms
    if first_ms is None or end_ms is None:
        return TrafficSeries(0.0, 1.0, (), (), (), (), (), (), (), (), (), ())
    bucket_ms = timeline.bucket_ms
    n_buckets = (end_ms - first_ms) // bucket_ms
    per_bin = max(1, math.ceil(n_buckets / max_points), min_bin_ms // bucket_ms)
    sub = max(1, min(per_bin, 1000 // bucket_ms))  # envelope resolution: 1 s, or the bin when smaller
    while per_bin % sub:
        sub -= 1
    n_bins = math.ceil(n_buckets / per_bin)
    n_subs = n_bins * (per_bin // sub)
    ok_sub = [0] * n_subs
    fail_sub = [0] * n_subs
    hists = [[0] * _BINS for _ in range(n_bins)]
    totals = [0] * n_bins
    maxes = [0.0] * n_bins
    kinds: dict[str, list[int]] = {}
    for bucket in timeline.buckets:
        index = (bucket.start_ms - first_ms) // bucket_ms
        ok_sub[index // sub] += bucket.ok
        fail_sub[index // sub] += bucket.fail
        b = index // per_bin
        hist = hists[b]
        for i, c in bucket.hist.counts:
            hist[i] += c
        totals[b] += bucket.total
        if bucket.max_ms > maxes[b]:
            maxes[b] = bucket.max_ms
        for kind, count in bucket.errors:
            per_kind = kinds.get(kind)
            if per_kind is None:
                per_kind = kinds[kind] = [0] * n_bins
            per_kind[b] += count
    bin_s = per_bin * bucket_ms / 1000.0
    sub_s = sub * bucket_ms / 1000.0
    subs_per_bin = per_bin // sub
    ok_rate, fail_rate, ok_min, ok_max, fail_max = [], [], [], [], []
    for b in range(n_bins):
        oks = ok_sub[b * subs_per_bin:(b + 1) * subs_per_bin]
        fails = fail_sub[b * subs_per_bin:(b + 1) * subs_per_bin]
        ok_rate.append(sum(oks) / bin_s)
        fail_rate.append(sum(fails) / bin_s)
        ok_min.append(min(oks) / sub_s)
        ok_max.append(max(oks) / sub_s)
        fail_max.append(max(fails) / sub_s)
    p50, p95, p99 = ([_percentile(hists[b], totals[b], q, maxes[b]) for b in range(n_bins)]
                     for q in (0.5, 0.95, 0.99))
    ranked = sorted(kinds, key=lambda k: -sum(kinds[k]))
    error_kinds = [(kind, tuple(c / bin_s for c in kinds[kind])) for kind in ranked[:TOP_ERROR_KINDS]]
    if len(ranked) > TOP_ERROR_KINDS:
        other = [sum(kinds[k][b] for k in ranked[TOP_ERROR_KINDS:]) / bin_s for b in range(n_bins)]
        error_kinds.append(("other", tuple(other)))
    t0 = first_ms / 1000.0
    times = tuple(t0 + (b + 0.5) * bin_s for b in range(n_bins))
    return TrafficSeries(t0, bin_s, times, tuple(ok_rate), tuple(fail_rate), tuple(ok_min), tuple(ok_max),
                         tuple(fail_max), tuple(p50), tuple(p95), tuple(p99), tuple(error_kinds))


@dataclass(frozen=True)
class SampleSeries:
    """Replicas, writer placement and replication lag over time, at most ``MAX_POINTS`` points each."""

    times: tuple[float, ...]
    desired: tuple[tuple[str, tuple[float | None, ...]], ...]
    """Per region: the highest desired replica count in each bin."""
    ready: tuple[tuple[str, tuple[float | None, ...]], ...]
    """Per region: the lowest ready replica count in each bin (a dip stays visible)."""
    lag_s: tuple[tuple[str, tuple[float | None, ...]], ...]
    """Per instance: the highest replication lag (s) in each bin."""
    writer_spans: tuple[tuple[float, float, str, str], ...]
    """``(start, end, region, writer)`` for each period with one writer (from every sample, not binned)."""

    @property
    def empty(self) -> bool:
        return not self.times


def _binned(samples: Sequence[Sample], max_points: int) -> list[list[Sample]]:
    if len(samples) <= max_points:
        return [[s] for s in samples]
    t0, t1 = samples[0].ts, samples[-1].ts
    width = (t1 - t0) / max_points or 1.0
    bins: list[list[Sample]] = [[] for _ in range(max_points)]
    for sample in samples:
        bins[min(max_points - 1, int((sample.ts - t0) / width))].append(sample)
    return [b for b in bins if b]


def sample_series(samples: Sequence[Sample], *, max_points: int = MAX_POINTS) -> SampleSeries:
    ordered = sorted(samples, key=lambda s: s.ts)
    bins = _binned(ordered, max_points)
    regions = sorted({r for s in ordered for r, _, _ in s.replicas})
    instances = sorted({i for s in ordered for i, _ in s.lag_s})
    times = tuple(sum(s.ts for s in b) / len(b) for b in bins)

    def reduce(values: list[float], pick: str) -> float | None:
        if not values:
            return None
        return max(values) if pick == "max" else min(values)

    desired = tuple((r, tuple(reduce([d for s in b for rr, d, _ in s.replicas if rr == r], "max") for b in bins))
                    for r in regions)
    ready = tuple((r, tuple(reduce([k for s in b for rr, _, k in s.replicas if rr == r], "min") for b in bins))
                  for r in regions)
    lag = tuple((i, tuple(reduce([v for s in b for ii, v in s.lag_s if ii == i and v is not None], "max")
                           for b in bins))
                for i in instances)
    spans: list[tuple[float, float, str, str]] = []
    for sample in ordered:
        region, writer = sample.writer_region or "none", sample.writer or "none"
        if spans and spans[-1][2:] == (region, writer):
            spans[-1] = (spans[-1][0], sample.ts, region, writer)
        else:
            if spans:
                spans[-1] = (spans[-1][0], sample.ts, spans[-1][2], spans[-1][3])
            spans.append((sample.ts, sample.ts, region, writer))
    return SampleSeries(times, desired, ready, lag, tuple(spans))


__all__ = ["MAX_POINTS", "SampleSeries", "TrafficSeries", "sample_series", "traffic_series"]
