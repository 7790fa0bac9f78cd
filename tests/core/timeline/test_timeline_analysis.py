"""Analysis on synthetic timelines: windows, availability, outages with per-request edges, recovery."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.core.timeline.model import Bucket
from aftershock.core.timeline.outages import find_outages, time_to_recovery
from aftershock.core.timeline.store import Timeline
from aftershock.core.timeline.summary import summarize
from aftershock.core.timeline.windows import availability, latency_percentiles, windows

T0 = 1_700_000_000_000


def timeline_of(requests: list[tuple[float, str, bool]], bucket_ms: int = 100) -> Timeline:
    """(start epoch ms, name, ok) per request."""
    pieces = [
        Bucket.single(
            start_ms=int(at // bucket_ms * bucket_ms),
            bucket_ms=bucket_ms,
            name=name,
            ok=ok,
            at_ms=at,
            latency_ms=3.0 if ok else 1.0,
            error=None if ok else "connection refused",
        )
        for at, name, ok in requests
    ]
    return Timeline.from_pieces(pieces)


def steady(
    seconds: float, every_ms: float, down: tuple[float, float] | None = None, names: tuple[str, ...] = ("a", "b")
) -> list[tuple[float, str, bool]]:
    out = []
    at = 0.0
    turn = 0
    while at < seconds * 1000:
        ok = not (down and down[0] <= at < down[1])
        out.append((T0 + at, names[turn % len(names)], ok))
        at += every_ms
        turn += 1
    return out


def test_outage_edges_use_request_timestamps_not_bucket_edges() -> None:
    timeline = timeline_of(steady(6, 7.0, down=(2_013.0, 3_987.0)))
    [outage] = find_outages(timeline)
    # requests every 7 ms: first failure at the first request >= 2013, first ok at the first >= 3987
    assert outage.start_ms == T0 + 2016.0
    assert outage.end_ms == T0 + 3990.0
    assert outage.last_ok_before_ms == T0 + 2009.0
    assert outage.last_bad_ms == T0 + 3983.0
    assert outage.duration_ms == 3990.0 - 2016.0
    assert outage.errors == (("connection refused", outage.failures),)
    assert not outage.ongoing


def test_outage_seen_by_one_name_only_and_ongoing_outage() -> None:
    requests = [(at, n, ok if n == "fresh:x" else True) for at, n, ok in steady(3, 10, (1000, 9999), ("a", "fresh:x"))]
    timeline = timeline_of(requests)
    assert find_outages(timeline, names=["a"]) == []
    [outage] = find_outages(timeline, names=lambda n: n.startswith("fresh:"))
    assert outage.ongoing and outage.end_ms is None and outage.duration_ms is None
    assert outage.start_ms == T0 + 1010.0  # "fresh:x" runs on odd 10 ms ticks


def test_empty_windows_inside_an_outage_join_it() -> None:
    requests = [r for r in steady(5, 10, down=(1000, 3000)) if not (1500 <= r[0] - T0 < 2500)]
    [outage] = find_outages(timeline_of(requests))
    assert (outage.start_ms, outage.end_ms) == (T0 + 1000, T0 + 3000)


def test_sparse_failures_below_the_ratio_are_not_outages() -> None:
    requests = steady(3, 1.0)
    requests[1500] = (requests[1500][0], requests[1500][1], False)  # 1 failure among 100 per window
    timeline = timeline_of(requests)
    assert find_outages(timeline, min_ok_ratio=0.98) == []
    assert len(find_outages(timeline, min_ok_ratio=1.0)) == 1


def test_time_to_recovery_needs_a_sustained_good_period() -> None:
    requests = steady(20, 10, down=(2000, 4000))
    # a relapse: 200 ms of failures at 6.0 s, then good for good
    requests = [(at, n, ok and not (6000 <= at - T0 < 6200)) for at, n, ok in requests]
    timeline = timeline_of(requests)
    recovery = time_to_recovery(timeline, T0 + 2000, sustain_ms=5000)
    assert recovery is not None
    assert recovery.recovered_ms == T0 + 6200
    assert recovery.rto_ms == 4200
    assert recovery.outage is not None and recovery.outage.start_ms == T0 + 6000
    quick = time_to_recovery(timeline, T0 + 2000, sustain_ms=1000)
    assert quick is not None and quick.recovered_ms == T0 + 4000
    assert time_to_recovery(timeline, T0 + 2000, sustain_ms=30_000) is None  # not enough data after it


def test_fault_without_impact_recovers_at_once() -> None:
    timeline = timeline_of(steady(10, 10))
    recovery = time_to_recovery(timeline, T0 + 3000, sustain_ms=2000)
    assert recovery is not None and recovery.rto_ms == 0 and recovery.outage is None


def test_windows_availability_rps_and_percentiles() -> None:
    timeline = timeline_of(steady(2, 10, down=(500, 1000)))
    wins = windows(timeline, window_ms=500)
    assert [w.start_ms for w in wins] == [T0, T0 + 500, T0 + 1000, T0 + 1500]
    assert [w.availability for w in wins] == [1.0, 0.0, 1.0, 1.0]
    assert wins[0].rps == 100.0
    assert availability(timeline, window_ms=1000) == [(T0, 0.5), (T0 + 1000, 1.0)]
    per_window = latency_percentiles(timeline, window_ms=1000, quantiles=(0.5,))
    assert per_window[1][1][0.5] == 3.0  # capped at the max latency
    padded = windows(timeline, window_ms=500, start_ms=T0 - 1000, end_ms=T0 + 2500)
    assert len(padded) == 7 and padded[0].availability is None


def test_summary_per_name_and_total() -> None:
    rows = summarize(timeline_of(steady(2, 10, down=(0, 100))))
    assert [r.name for r in rows] == ["a", "b", "TOTAL"]
    total = rows[-1]
    assert (total.requests, total.failures) == (200, 10)
    assert total.rps == 100.0
    assert total.p99_ms == 3.0


@given(st.lists(st.tuples(st.floats(0, 5_000, allow_nan=False), st.sampled_from("ab"), st.booleans()), max_size=300),
       st.sampled_from([100, 200, 1000]))  # fmt: skip
@settings(max_examples=100, deadline=None)
def test_availability_is_within_0_and_1_and_outages_are_ordered(
    raw: list[tuple[float, str, bool]], window_ms: int
) -> None:
    timeline = timeline_of([(T0 + at, name, ok) for at, name, ok in raw])
    for _, value in availability(timeline, window_ms=window_ms):
        assert value is None or 0.0 <= value <= 1.0
    outages = find_outages(timeline, window_ms=window_ms)
    for outage in outages:
        assert outage.failures >= 1
        assert outage.last_ok_before_ms is None or outage.last_ok_before_ms < outage.start_ms
        assert outage.start_ms <= outage.last_bad_ms
        assert outage.end_ms is None or outage.end_ms > outage.last_bad_ms
    assert [o.start_ms for o in outages] == sorted(o.start_ms for o in outages)
    assert sum(w.total for w in windows(timeline, window_ms=window_ms)) == len(raw)
