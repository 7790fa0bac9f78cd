"""Downsampling the timeline and samples for charts, and the SVG helpers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.core.samples import Sample
from aftershock.core.timeline.model import Bucket
from aftershock.core.timeline.store import Timeline
from aftershock.reports.series import sample_series, traffic_series
from aftershock.reports.svg import fmt_offset, nice_ticks, time_ticks

T0_MS = 1_795_000_000_000


def _timeline(counts: list[tuple[int, int]]) -> Timeline:
    return Timeline.from_pieces(
        Bucket(start_ms=T0_MS + i * 100, bucket_ms=100, name="GET /", ok=ok, fail=fail)
        for i, (ok, fail) in enumerate(counts) if ok or fail
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 5)), min_size=1, max_size=3000),
       st.integers(10, 700))
def test_series_keep_every_request_and_stay_small(counts: list[tuple[int, int]], max_points: int) -> None:
    timeline = _timeline(counts)
    series = traffic_series(timeline, max_points=max_points)
    if timeline.total == 0:
        assert series.empty
        return
    assert len(series.times) <= max(max_points, 1 + len(counts) // 10)
    assert round(sum(series.ok_rate) * series.bin_s) == sum(b.ok for b in timeline.buckets)
    assert round(sum(series.fail_rate) * series.bin_s) == timeline.failures
    assert all(lo <= mean <= hi + 1e-9 for lo, mean, hi in zip(series.ok_min, series.ok_rate, series.ok_max,
                                                                strict=True))


def test_short_outage_stays_visible_in_a_long_run() -> None:
    counts = [(5, 0)] * 36_000  # one hour at 100 ms
    counts[18_000:18_020] = [(0, 5)] * 20  # a 2-second outage
    series = traffic_series(_timeline(counts), max_points=300)
    assert series.bin_s == 12.0
    assert min(series.ok_min) == 0.0 and max(series.fail_max) == 50.0
    assert min(series.ok_rate) > 40.0  # the mean alone would hide it


def test_sample_series_spans_and_dips() -> None:
    samples = [Sample(ts=1000.0 + i * 0.5, writer="a" if i < 10 else "b", writer_region="east" if i < 10 else "west",
                      replicas=(("east", 3, 1 if i == 5 else 3),), lag_s=(("r1", 0.1),), lag_bytes=())
               for i in range(2000)]
    series = sample_series(samples, max_points=100)
    assert len(series.times) == 100
    assert [s[2] for s in series.writer_spans] == ["east", "west"]
    assert series.writer_spans[0][1] == series.writer_spans[1][0] == 1005.0
    assert min(v for v in series.ready[0][1] if v is not None) == 1


def test_ticks_and_offsets() -> None:
    assert nice_ticks(0, 230, 4) == [0, 100, 200]
    assert time_ticks(-0.3, 7.9) == [0, 2, 4, 6]
    assert time_ticks(0, 7.0) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert time_ticks(0, 7200)[:3] == [0, 900, 1800]
    assert [fmt_offset(s) for s in (-0.3, 12, 90, 3725)] == ["-0.3s", "+12s", "+1:30", "+1:02:05"]
