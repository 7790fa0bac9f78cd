"""The error bar of every RTO: the recovery instant lies between the start of the last bad request and the
first good request after it, so ``rto +- rto_error`` covers the true end of the disruption, whatever the
request rate and wherever the edges fall in the 100 ms buckets."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.core.timeline.model import Bucket
from aftershock.core.timeline.outages import find_outages, time_to_recovery
from aftershock.core.timeline.store import Timeline

T0 = 1_700_000_000_000.0
BUCKET_MS = 100
SLOW_MS = 1000.0


def timeline(every_ms: float, phase_ms: float, bad: tuple[float, float], *, slow: bool, length_ms: float = 12_000,
             name: str = "GET /api/products") -> Timeline:
    """A request every ``every_ms`` from ``T0 + phase_ms``; bad (failed, or 1.5 s slow) in ``[bad)`` (ms after T0)."""
    pieces = []
    at = T0 + phase_ms
    while at < T0 + length_ms:
        inside = bad[0] <= at - T0 < bad[1]
        ok = not inside or slow
        latency = 1500.0 if inside and slow else 5.0
        pieces.append(Bucket.single(start_ms=int(at // BUCKET_MS * BUCKET_MS), bucket_ms=BUCKET_MS, name=name,
                                    ok=ok, at_ms=round(at, 3), latency_ms=latency,
                                    error=None if ok else "http 503", slow_ms=SLOW_MS))
        at += every_ms
    return Timeline.from_pieces(pieces)


@settings(max_examples=200, deadline=None)
@given(every_ms=st.floats(min_value=3.0, max_value=250.0), phase_ms=st.floats(min_value=0.0, max_value=99.0),
       start_ms=st.floats(min_value=1_000.0, max_value=2_000.0),
       length_ms=st.floats(min_value=300.0, max_value=4_000.0), slow=st.booleans())
def test_the_error_bar_covers_the_true_recovery(every_ms: float, phase_ms: float, start_ms: float,
                                                length_ms: float, slow: bool) -> None:
    fault_ms = T0 + 900.0
    end_ms = start_ms + length_ms
    data = timeline(every_ms, phase_ms, (start_ms, end_ms), slow=slow)
    recovery = time_to_recovery(data, fault_ms, window_ms=BUCKET_MS, sustain_ms=3_000)
    assert recovery is not None
    truth = T0 + end_ms - fault_ms
    if recovery.outage is None:  # the bad span fell between two requests: nothing to see, RTO 0
        assert every_ms > length_ms * 0.5
        return
    assert recovery.rto_error_ms >= 0
    assert recovery.rto_ms - recovery.rto_error_ms <= truth + 0.002 <= recovery.rto_ms + recovery.rto_error_ms + 0.004
    assert recovery.rto_error_ms <= 2 * every_ms + BUCKET_MS  # as sharp as the traffic around the edge allows


@settings(max_examples=100, deadline=None)
@given(every_ms=st.floats(min_value=3.0, max_value=250.0), phase_ms=st.floats(min_value=0.0, max_value=99.0),
       start_ms=st.floats(min_value=1_000.0, max_value=2_000.0),
       length_ms=st.floats(min_value=300.0, max_value=4_000.0), slow=st.booleans())
def test_outage_edges_lie_in_their_intervals(every_ms: float, phase_ms: float, start_ms: float,
                                             length_ms: float, slow: bool) -> None:
    data = timeline(every_ms, phase_ms, (start_ms, start_ms + length_ms), slow=slow)
    for outage in find_outages(data):
        assert outage.start_error_ms is not None and outage.end_error_ms is not None
        assert outage.start_ms - outage.start_error_ms <= T0 + start_ms + 0.002 <= outage.start_ms + 0.002
        assert outage.end_ms is not None
        assert outage.end_ms - outage.end_error_ms <= T0 + start_ms + length_ms + 0.002 <= outage.end_ms + 0.002
        assert (outage.failures == 0) == slow and (outage.slow == 0) != slow


def test_without_an_outage_the_error_bar_is_the_wait_for_the_first_success() -> None:
    data = timeline(40.0, 10.0, (0.0, 0.0), slow=False)
    recovery = time_to_recovery(data, T0 + 1_000.0, window_ms=BUCKET_MS, sustain_ms=3_000)
    assert recovery is not None and recovery.outage is None
    assert recovery.rto_ms == 0.0
    assert recovery.rto_error_ms == 10.0  # the first request after the fault started at +1010 ms
