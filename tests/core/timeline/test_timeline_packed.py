"""Rows the live follower packs come back exact, and packing keeps a long run's follower small (issue 14 item 3:
the harness grew ~4 MiB a minute in a soak because the follower kept every 100 ms bucket as objects)."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.core.timeline.follow import RunTimelineFollower
from aftershock.core.timeline.model import HIST_OVERFLOW_BIN, Bucket, LatencyHistogram, LoopLag
from aftershock.core.timeline.packed import Names, pack_row, unpack_row
from aftershock.core.timeline.records import encode_bucket, encode_lag, encode_lines
from aftershock.core.timeline.store import TimelineWriter, read_timeline

T0 = 1_700_000_000_000
COUNT = st.integers(0, 2**32 - 1)
TIME = st.none() | st.floats(T0, T0 + 100, allow_nan=False)


@st.composite
def buckets(draw: st.DrawFn, name: str) -> Bucket:
    bins = draw(st.lists(st.integers(0, HIST_OVERFLOW_BIN), unique=True, max_size=6))
    kinds = draw(st.lists(st.sampled_from(["http 503", "timeout", "connection refused", "é?"]), unique=True))
    return Bucket(T0, 100, name, draw(COUNT), draw(COUNT),
                  LatencyHistogram(tuple((b, draw(st.integers(1, 2**32 - 1))) for b in sorted(bins))),
                  draw(st.floats(0, 1e6)), draw(TIME), draw(TIME), draw(TIME), draw(TIME),
                  tuple((k, draw(st.integers(1, 2**32 - 1))) for k in sorted(kinds)), draw(COUNT), draw(TIME),
                  draw(TIME))


rows = st.lists(st.sampled_from(["GET /a", "GET /b", "fresh:GET /health", "POST /ü"]), unique=True,
                max_size=4).flatmap(lambda names: st.tuples(*(buckets(n) for n in names)))


@settings(max_examples=80, deadline=None)
@given(row=rows)
def test_a_packed_row_unpacks_to_equal_buckets_sorted_by_name(row: tuple[Bucket, ...]) -> None:
    names = Names()
    assert unpack_row(pack_row(row, names), T0, names) == sorted(row, key=lambda b: b.name)


def write(path: Path, pieces: list[Bucket], lags: Sequence[LoopLag] = ()) -> None:
    with TimelineWriter(path, bucket_ms=100, writer="test") as out:
        out.write_lines(encode_lines([*(encode_bucket(p) for p in pieces), *(encode_lag(lag) for lag in lags)]))


def ok(slot: int, name: str = "GET /a", count: int = 1) -> Bucket:
    return Bucket(T0 + slot * 100, 100, name, count, 0, LatencyHistogram(((40, count),)), 2.5, T0 + slot * 100 + 1.5,
                  T0 + slot * 100 + 7.25)


def test_late_pieces_and_huge_counts_reach_packed_rows_exactly(tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    follower = RunTimelineFollower(tmp_path, hot_ms=0)  # every row but the newest is packed after a poll
    write(path, [ok(slot) for slot in range(10)], [LoopLag(T0 + slot * 100, 100, 1.5, 9) for slot in range(10)])
    follower.poll()
    assert follower._merged.packed_starts == 9
    write(path, [ok(2, "GET /b"), ok(3, count=2**40), ok(12)], [LoopLag(T0 + 200, 100, 30.0, 1)])  # late pieces
    full = read_timeline(tmp_path)
    followed = follower.timeline()
    assert (followed.buckets, followed.lags) == (full.buckets, full.lags)
    assert next(b.ok for b in followed.buckets if b.start_ms == T0 + 300) == 1 + 2**40  # kept as objects
    assert follower.timeline(since_ms=T0 + 150, until_ms=T0 + 450).lags == full.lags[2:5]


def retained(follower: RunTimelineFollower) -> int:
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    follower.poll()
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - before


def test_a_followers_memory_per_bucket_stays_small_as_the_run_grows(tmp_path: Path) -> None:
    """A minute of 4 request names per 100 ms, read in two halves: as objects, a bucket costs what a follower
    used to keep for every bucket of a run (~520 bytes); packed, each bucket beyond the 5 s hot window costs at
    most 150 bytes (tolerance; ~90 measured: ~60 packed plus the per-start index), measured by tracemalloc."""
    names = ["GET /api/products", "GET /api/cart", "POST /api/checkout", "fresh:GET /health"]
    half = 300  # slots of 100 ms: 30 s
    path = tmp_path / "timeline.jsonl"
    objects = RunTimelineFollower(path, hot_ms=10**12)
    packed = RunTimelineFollower(path, hot_ms=5_000)
    write(path, [ok(slot, name) for slot in range(half) for name in names])
    tracemalloc.start()
    try:
        as_objects = retained(objects)
        first = retained(packed)
        write(path, [ok(slot, name) for slot in range(half, 2 * half) for name in names])
        second = retained(packed)
    finally:
        tracemalloc.stop()
    per_bucket = second / (half * len(names))
    assert per_bucket <= 150, f"{per_bucket:.0f} bytes a bucket"
    assert as_objects / (half * len(names)) >= 4 * per_bucket
    assert first <= as_objects / 2  # the hot window (5 s of the first 30) as objects, the rest packed
    assert packed.timeline().buckets == objects.timeline().buckets
