"""SLO probes (steady-state hypothesis) over synthetic timelines ending now: error rate and p95 latency over
the last delivered seconds, starting no earlier than a recorded recovery."""

from __future__ import annotations

import time
from typing import Any

from aftershock.core.measurements import RtoMeasurement
from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.model import LoopLag
from aftershock.core.timeline.store import TimelineWriter, encode_lag
from aftershock.probes.live import record
from aftershock.probes.slo import error_rate_within, p95_latency_within
from tests.runkit import measurements, requests_between, write_timeline


def config(run: RunFolder) -> dict[str, Any]:
    return {"aftershock_run_dir": str(run.path)}


def test_good_traffic_is_within_both_slos(run: RunFolder) -> None:
    now = time.time()
    write_timeline(run, requests_between(now - 8, now))
    assert error_rate_within(max_error_rate=0.01, window_s=3, configuration=config(run)) is True
    assert p95_latency_within(max_p95_ms=500, window_s=3, configuration=config(run)) is True
    [rate] = measurements(run, "slo.error_rate")
    assert (rate["value"], rate["limit"], rate["met"]) == (0.0, 0.01, True)
    assert 250 <= rate["requests"] <= 310  # ~3 s of a request every 10 ms, give or take the clock
    [p95] = measurements(run, "slo.p95_ms")
    assert (p95["value"], p95["limit"], p95["met"]) == (5.0, 500, True)  # capped at the highest latency


def test_recent_failures_break_the_error_rate(run: RunFolder) -> None:
    now = time.time()
    write_timeline(run, requests_between(now - 8, now, down=[(now - 2.5, now - 2.0)]))
    assert error_rate_within(max_error_rate=0.01, window_s=3, configuration=config(run)) is False
    [rate] = measurements(run, "slo.error_rate")
    assert rate["met"] is False
    assert 0.1 < rate["value"] < 0.25  # 50 of ~300


def test_failures_older_than_the_window_do_not_count(run: RunFolder) -> None:
    now = time.time()
    write_timeline(run, requests_between(now - 8, now, down=[(now - 6, now - 5)]))
    assert error_rate_within(max_error_rate=0.01, window_s=3, configuration=config(run)) is True


def test_slow_traffic_breaks_the_latency_slo(run: RunFolder) -> None:
    now = time.time()
    write_timeline(run, requests_between(now - 8, now, slow=[(now - 3, now)], slow_ms=900.0))
    assert p95_latency_within(max_p95_ms=500, window_s=3, configuration=config(run)) is False
    [p95] = measurements(run, "slo.p95_ms")
    assert (p95["value"], p95["met"]) == (900.0, False)


def test_the_window_starts_after_a_recorded_recovery(run: RunFolder) -> None:
    """After the method, the hypothesis asks whether the steady state is back, not whether the outage was."""
    now = time.time()
    write_timeline(run, requests_between(now - 8, now, down=[(now - 4, now - 2.5)],
                                         slow=[(now - 4, now - 2.5)]))
    assert error_rate_within(window_s=5, configuration=config(run)) is False
    assert p95_latency_within(window_s=5, configuration=config(run)) is False
    record(run, RtoMeasurement(ts=now, recovered=True, rto_s=1.5, fault_start=now - 4, recovered_at=now - 2.5))
    record(run, RtoMeasurement(ts=now, recovered=False, rto_s=None, fault_start=now - 4))  # a later one timed out
    assert error_rate_within(window_s=5, min_requests=20, configuration=config(run)) is True
    assert p95_latency_within(window_s=5, min_requests=20, configuration=config(run)) is True
    rate = measurements(run, "slo.error_rate")[-1]
    assert rate["value"] == 0.0
    assert 150 <= rate["requests"] <= 200  # only the ~1.9 s delivered since the recovery


def test_too_little_traffic_is_not_within_slo(run: RunFolder) -> None:
    started = time.monotonic()
    assert error_rate_within(min_requests=20, wait_s=0.3, configuration=config(run)) is False
    assert p95_latency_within(min_requests=20, wait_s=0.3, configuration=config(run)) is False
    assert time.monotonic() - started < 2
    [rate] = measurements(run, "slo.error_rate")
    assert (rate["value"], rate["met"], rate["requests"]) == (None, False, 0)
    [p95] = measurements(run, "slo.p95_ms")
    assert (p95["value"], p95["met"], p95["requests"]) == (None, False, 0)


def test_traffic_not_yet_delivered_is_not_judged(run: RunFolder) -> None:
    """The last ~0.6 s may still be on its way from the load generators: failures there are not judged yet."""
    now = time.time()
    write_timeline(run, requests_between(now - 8, now, down=[(now - 0.3, now)]))
    assert error_rate_within(window_s=3, configuration=config(run)) is True


def test_min_requests_zero_without_traffic_is_not_within_slo(run: RunFolder) -> None:
    assert error_rate_within(min_requests=0, wait_s=0, configuration=config(run)) is False


def test_the_probes_record_how_late_the_load_generator_ran_in_their_window(run: RunFolder) -> None:
    """A latency the harness measured includes its own loop's delay: the window's worst loop lag is recorded."""
    now = time.time()
    write_timeline(run, requests_between(now - 8, now, slow=[(now - 3, now)], slow_ms=900.0))
    start_ms = int((now - 2.5) * 1000) // 100 * 100
    with TimelineWriter(run.file("timeline-lag.jsonl"), bucket_ms=100, writer="test") as out:
        out.write_records([encode_lag(LoopLag(start_ms=start_ms, bucket_ms=100, max_ms=131.7, samples=10)),
                           encode_lag(LoopLag(start_ms=start_ms - 6000, bucket_ms=100, max_ms=400.0, samples=10))])
    assert p95_latency_within(max_p95_ms=500, window_s=3, configuration=config(run)) is False
    [p95] = measurements(run, "slo.p95_ms")
    # the lag inside the window plus one 10 ms sample period; the older, larger lag is outside it
    assert (p95["window_s"], p95["generator_lag_ms"]) == (3, 141.7)
    assert error_rate_within(window_s=3, configuration=config(run)) is True
    [rate] = measurements(run, "slo.error_rate")
    assert rate["generator_lag_ms"] == 141.7
