"""SLO probes over the live timeline (steady-state hypothesis): error rate and p95 latency.

Each looks at the last ``window_s`` seconds of traffic that have been delivered (the timeline lags the
requests by up to ~0.5 s), waiting up to ``wait_s`` for at least ``min_requests`` requests.
"""

from __future__ import annotations

import time
from typing import Any

from aftershock.core.measurements import RtoMeasurement, SloErrorRate, SloP95, measurements_of
from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.windows import Window, select
from aftershock.faults.context import run_folder
from aftershock.probes.live import record, timeline_now

__all__ = ["error_rate_within", "p95_latency_within"]  # poll_window: for benchmarks/probe_cost.py

DELIVERY_LAG_S = 0.6


def poll_window(run: RunFolder, window_s: float, *, not_before_ms: float = 0.0) -> Window:
    """One poll: the requests of the last ``window_s`` delivered seconds (from ``not_before_ms`` at the earliest)
    in one window. Incremental: its cost is the window and what was appended since the last poll, not the run."""
    return _poll(run, window_s, not_before_ms)[0]


def _poll(run: RunFolder, window_s: float, not_before_ms: float) -> tuple[Window, float | None]:
    """:func:`poll_window` and the load generator's worst loop lag over it (None: not recorded)."""
    end_ms = (time.time() - DELIVERY_LAG_S) * 1000
    start_ms = max(end_ms - window_s * 1000, not_before_ms)
    window = Window(int(start_ms), int(window_s * 1000))
    timeline = timeline_now(run, since_ms=start_ms)
    for bucket in select(timeline):
        if bucket.start_ms < end_ms:
            window = window.add(bucket)
    return window, timeline.loop_lag_ms(start_ms, end_ms)


def _recent_window(configuration: dict[str, Any] | None, window_s: float, min_requests: int,
                   wait_s: float) -> tuple[Window | None, float | None]:
    """All requests that started in the last ``window_s`` delivered seconds, folded into one window.

    After a measured recovery the window starts no earlier than the recovery: the hypothesis after the method
    asks whether the steady state is back, not whether the outage happened (RTO already says that).
    """
    run = run_folder(configuration)
    recovered = [m.recovered_at for m in measurements_of(run, RtoMeasurement) if m.recovered_at]
    not_before_ms = max(recovered) * 1000 if recovered else 0.0
    deadline = time.monotonic() + wait_s
    while True:
        window, lag = _poll(run, window_s, not_before_ms)
        if window.total >= max(1, min_requests):
            return window, lag
        if time.monotonic() > deadline:
            return None, lag
        time.sleep(0.25)


def error_rate_within(max_error_rate: float = 0.01, window_s: float = 5.0, min_requests: int = 20,
                      wait_s: float = 20.0, configuration: dict[str, Any] | None = None,
                      secrets: dict[str, Any] | None = None) -> bool:
    """True when failed/total over the last ``window_s`` seconds is at most ``max_error_rate``."""
    window, lag = _recent_window(configuration, window_s, min_requests, wait_s)
    rate = None if window is None else window.fail / window.total
    ok = rate is not None and rate <= max_error_rate
    record(run_folder(configuration), SloErrorRate(ts=time.time(), value=rate, limit=max_error_rate, met=ok,
                                                   requests=window.total if window else 0, window_s=window_s,
                                                   generator_lag_ms=lag))
    return ok


def p95_latency_within(max_p95_ms: float = 500.0, window_s: float = 5.0, min_requests: int = 20,
                       wait_s: float = 20.0, configuration: dict[str, Any] | None = None,
                       secrets: dict[str, Any] | None = None) -> bool:
    """True when the p95 latency over the last ``window_s`` seconds is at most ``max_p95_ms``."""
    window, lag = _recent_window(configuration, window_s, min_requests, wait_s)
    p95 = None if window is None else window.percentile(0.95)
    ok = p95 is not None and p95 <= max_p95_ms
    record(run_folder(configuration), SloP95(ts=time.time(), value=p95, limit=max_p95_ms, met=ok,
                                             requests=window.total if window else 0, window_s=window_s,
                                             generator_lag_ms=lag))
    return ok
