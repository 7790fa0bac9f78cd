"""Buckets and histograms: merging is order-free, percentiles are monotone."""

from __future__ import annotations

import functools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.core.timeline.model import (
    HIST_EDGES_MS,
    HIST_OVERFLOW_BIN,
    Bucket,
    LatencyHistogram,
    bin_upper_ms,
    latency_bin,
    merge_buckets,
)

T0 = 1_700_000_000_000


def piece(
    ok: int, fail: int, latencies: list[float], times: list[float], errors: dict[str, int], name: str = "GET /x"
) -> Bucket:
    half = len(times) // 2
    oks, fails = times[:half], times[half:]
    return Bucket(
        start_ms=T0,
        bucket_ms=100,
        name=name,
        ok=ok,
        fail=fail,
        hist=LatencyHistogram.of(latencies),
        max_ms=max(latencies, default=0.0),
        first_ok_ms=min(oks) if oks else None,
        last_ok_ms=max(oks) if oks else None,
        first_fail_ms=min(fails) if fails else None,
        last_fail_ms=max(fails) if fails else None,
        errors=tuple(sorted((k, v) for k, v in errors.items() if v)),
    )


pieces_strategy = st.lists(
    st.builds(
        piece,
        st.integers(0, 50),
        st.integers(0, 50),
        st.lists(st.floats(0.0, 200_000.0, allow_nan=False), max_size=8),
        st.lists(st.floats(T0, T0 + 99.999, allow_nan=False), max_size=6),
        st.dictionaries(st.sampled_from(["http 503", "timeout", "connection refused", "bad body"]), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=8,
)


@given(pieces_strategy, st.randoms())
@settings(max_examples=200, deadline=None)
def test_merging_pieces_in_any_order_equals_merging_all_at_once(pieces: list[Bucket], rnd: random.Random) -> None:
    at_once = functools.reduce(Bucket.merge, pieces)
    shuffled = pieces[:]
    rnd.shuffle(shuffled)
    # any grouping: merge a random split separately, then the two halves
    cut = rnd.randint(1, len(shuffled))
    left = functools.reduce(Bucket.merge, shuffled[:cut])
    right = shuffled[cut:]
    regrouped = left.merge(functools.reduce(Bucket.merge, right)) if right else left
    assert regrouped == at_once
    assert merge_buckets(shuffled) == [at_once]


@given(st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=200), st.lists(st.floats(0, 1), min_size=2))
def test_percentiles_are_monotone_and_bounded(latencies: list[float], quantiles: list[float]) -> None:
    hist = LatencyHistogram.of(latencies)
    top = max(latencies)
    values = [hist.percentile(q, max_ms=top) for q in sorted(quantiles)]
    assert all(v is not None for v in values)
    assert values == sorted(values)  # type: ignore[type-var]
    assert all(v <= top for v in values)  # type: ignore[operator]


def test_percentile_is_the_bins_upper_edge_within_one_bin() -> None:
    hist = LatencyHistogram.of([1.0] * 50 + [10.0] * 45 + [100.0] * 5)
    p50, p95, p99 = (hist.percentile(q) for q in (0.5, 0.95, 0.99))
    assert p50 is not None and 1.0 <= p50 < 1.0 * 10 ** (1 / 20) + 1e-9
    assert p95 is not None and 10.0 <= p95 < 10.0 * 10 ** (1 / 20) + 1e-9
    assert p99 is not None and 100.0 <= p99 < 100.0 * 10 ** (1 / 20) + 1e-9
    assert LatencyHistogram().percentile(0.5) is None
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        hist.percentile(1.5)


def test_latency_bins_cover_everything() -> None:
    assert latency_bin(0.0) == 0
    assert latency_bin(HIST_EDGES_MS[0]) == 0
    assert latency_bin(1e9) == HIST_OVERFLOW_BIN
    assert bin_upper_ms(HIST_OVERFLOW_BIN) == float("inf")
    for index, edge in enumerate(HIST_EDGES_MS[1:], start=1):
        assert latency_bin(edge * 0.999) == index


def test_merge_refuses_pieces_of_different_buckets() -> None:
    a = Bucket.single(start_ms=T0, bucket_ms=100, name="a", ok=True, at_ms=T0 + 1, latency_ms=1)
    b = Bucket.single(start_ms=T0 + 100, bucket_ms=100, name="a", ok=True, at_ms=T0 + 101, latency_ms=1)
    with pytest.raises(ValueError, match="pieces must share start, size and name"):
        a.merge(b)


def test_single_failed_request_records_its_kind_and_time() -> None:
    b = Bucket.single(
        start_ms=T0, bucket_ms=100, name="GET /x", ok=False, at_ms=T0 + 42.5, latency_ms=0.7, error="http 503"
    )
    assert (b.ok, b.fail, b.first_fail_ms, b.last_fail_ms) == (0, 1, T0 + 42.5, T0 + 42.5)
    assert b.error_kinds == {"http 503": 1}
