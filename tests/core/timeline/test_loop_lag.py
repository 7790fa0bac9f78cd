"""The load generator's scheduling delay in the timeline (``"kind": "lag"`` lines) and in the RTO's error bar.

A request stamped at its start time reaches the service up to the loop's lag later, so the service may see the
recovery edge elsewhere: with the lag recorded, ``rto +- rto_error`` still covers the edge the service saw (a
property test with random delays bounded by the recorded lag); old timelines without lag lines still load, and
their lag is unknown (None), not zero.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.core.timeline.follow import RunTimelineFollower
from aftershock.core.timeline.model import Bucket, LoopLag
from aftershock.core.timeline.outages import time_to_recovery
from aftershock.core.timeline.records import TimelineFormatError, decode_lag, encode_lag
from aftershock.core.timeline.store import Timeline, TimelineWriter, read_pieces, read_timeline

T0 = 1_700_000_000_000
BUCKET_MS = 100


def ok_bucket(start_ms: int) -> Bucket:
    return Bucket.single(start_ms=start_ms, bucket_ms=BUCKET_MS, name="GET /", ok=True, at_ms=start_ms + 1.0,
                         latency_ms=2.0)


def test_lag_lines_round_trip_and_merge_to_the_worst(tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    with TimelineWriter(path, bucket_ms=BUCKET_MS, writer="master", lag_sample_ms=10.0) as out:
        out.write([ok_bucket(T0)], source="w1")
        out.write_records([encode_lag(LoopLag(T0, BUCKET_MS, 3.5, 9), source="w1"),
                           encode_lag(LoopLag(T0, BUCKET_MS, 41.25, 2), source="w2"),
                           encode_lag(LoopLag(T0 + 100, BUCKET_MS, 0.2, 10), source="w1")])
    meta = json.loads(path.read_text().splitlines()[0])
    assert meta["lag_sample_ms"] == 10.0
    timeline = read_timeline(path)
    assert timeline.lags == (LoopLag(T0, BUCKET_MS, 41.25, 11), LoopLag(T0 + 100, BUCKET_MS, 0.2, 10))
    assert read_pieces(path) == ([ok_bucket(T0)], 0)  # bucket readers are untouched by lag lines
    assert RunTimelineFollower(tmp_path).timeline() == timeline
    assert RunTimelineFollower(tmp_path).timeline(since_ms=T0 + 50).lags == (LoopLag(T0 + 100, BUCKET_MS, 0.2, 10),)


def test_a_timeline_without_lag_lines_loads_and_its_lag_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    with TimelineWriter(path, bucket_ms=BUCKET_MS) as out:  # as older writers wrote it: no lag lines, no meta key
        out.write([ok_bucket(T0), ok_bucket(T0 + 100)])
    timeline = read_timeline(path)
    assert "lag_sample_ms" not in path.read_text()
    assert timeline.lags == () and timeline.skipped_lines == 0
    assert timeline.loop_lag_ms(T0, T0 + 200) is None
    assert RunTimelineFollower(path).timeline().loop_lag_ms(T0, T0 + 200) is None


def test_a_bad_lag_line_is_counted_not_hidden(tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    path.write_text(json.dumps({"kind": "lag", "start_ms": T0, "bucket_ms": 100, "max_ms": -1}) + "\n"
                    + json.dumps({"kind": "lag", "start_ms": T0}) + "\n")
    assert read_timeline(path).skipped_lines == 2
    with pytest.raises(TimelineFormatError, match="bad lag record"):
        decode_lag({"kind": "lag", "start_ms": "x", "bucket_ms": 100, "max_ms": 1})


def test_the_lag_around_an_edge_counts_what_can_reach_it() -> None:
    lags = (LoopLag(T0, BUCKET_MS, 250.0), LoopLag(T0 + 500, BUCKET_MS, 3.0), LoopLag(T0 + 900, BUCKET_MS, 30.0),
            LoopLag(T0 + 2000, BUCKET_MS, 500.0))
    timeline = Timeline((), BUCKET_MS, 0, lags)
    # [T0+560, T0+620]: the 3 ms bucket is in it; the 250 ms stall at T0 ends by T0+360 (+10 ms sample): no
    assert timeline.loop_lag_ms(T0 + 560, T0 + 620) == 13.0
    # the stall at T0 reaches T0+360 (its bucket ends at T0+100, 250 ms late, one 10 ms sample period more)
    assert timeline.loop_lag_ms(T0 + 355, T0 + 620) == 260.0
    # buckets after the edge (beyond one sample period) do not delay requests that started before it
    assert timeline.loop_lag_ms(T0 + 560, T0 + 885) == 13.0
    assert timeline.loop_lag_ms(T0 + 560, T0 + 890) == 40.0


def served_timeline(every_ms: float, lag_ms: list[float], bad: tuple[float, float], seed: int
                    ) -> tuple[Timeline, float | None]:
    """Client stamps every ``every_ms``; each request reaches the service up to its bucket's lag (+ one 10 ms
    sample period) later; the service fails what ARRIVES within ``bad`` (ms after T0). Returns the client's
    timeline and the service's own recovery edge (first good arrival after the last bad one, ms after T0)."""
    rng = random.Random(seed)
    pieces, arrivals = [], []
    at = 0.0
    while at < 8_000:
        start = int((T0 + at) // BUCKET_MS * BUCKET_MS)
        index = (start - T0) // BUCKET_MS
        arrival = at + rng.uniform(0.0, lag_ms[index % len(lag_ms)] + 10.0)
        ok = not bad[0] <= arrival < bad[1]
        arrivals.append((arrival, ok))
        pieces.append(Bucket.single(start_ms=start, bucket_ms=BUCKET_MS, name="GET /", ok=ok, at_ms=T0 + at,
                                    latency_ms=1.0, error=None if ok else "http 503"))
        at += every_ms
    lags = [LoopLag(T0 + i * BUCKET_MS, BUCKET_MS, lag_ms[i % len(lag_ms)]) for i in range(81)]
    bad_arrivals = [a for a, ok in arrivals if not ok]
    truth = min(a for a, ok in arrivals if ok and a > max(bad_arrivals)) if bad_arrivals else None
    return Timeline.from_pieces(pieces, lags=lags), truth


@settings(max_examples=150, deadline=None)
@given(every_ms=st.floats(min_value=2.0, max_value=60.0), seed=st.integers(0, 2**16),
       lag_ms=st.lists(st.floats(min_value=0.0, max_value=120.0), min_size=1, max_size=12),
       bad_start=st.floats(min_value=1_000.0, max_value=1_500.0), bad_length=st.floats(min_value=200.0,
                                                                                         max_value=2_000.0))
def test_with_the_lag_the_error_bar_covers_the_edge_the_service_saw(every_ms: float, seed: int, lag_ms: list[float],
                                                                    bad_start: float, bad_length: float) -> None:
    fault = 900.0
    timeline, truth = served_timeline(every_ms, lag_ms, (bad_start, bad_start + bad_length), seed)
    recovery = time_to_recovery(timeline, T0 + fault, window_ms=100, sustain_ms=2_000)
    assert recovery is not None and truth is not None
    assert abs(recovery.rto_ms - (truth - fault)) <= recovery.rto_error_ms + 1e-6, (recovery, truth - fault)
