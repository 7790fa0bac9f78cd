"""Slow is bad: a success slower than ``slow_ms`` counts as bad for outages and the RTO (the timeline keeps it
apart from failures), while the steady-state SLO probes still see it as a success."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.store import read_timeline
from aftershock.core.timeline.summary import summarize
from aftershock.probes.recovery import measure_rto
from aftershock.probes.slo import error_rate_within
from tests.runkit import mark_at, requests_between, write_timeline

PRECISION_S = 0.002


def config(run: RunFolder) -> dict[str, Any]:
    return {"aftershock_run_dir": str(run.path)}


def stalled_writes(run: RunFolder, *, slow_ms: float | None) -> int:
    """The writer fails over at ``fault``: for 1.2 s every request stalls 1.5 s, then succeeds. Returns how
    many stalled."""
    now = time.time()
    fault = now - 8
    requests = requests_between(fault - 0.996, now, slow=[(fault + 0.104, fault + 1.304)], slow_ms=1500.0)
    write_timeline(run, requests, slow_ms=slow_ms)
    mark_at(run, fault, "fault.start", action="crash_writer")
    return sum(1 for r in requests if r.latency_ms > 1000)


def test_a_stall_longer_than_slow_ms_is_an_outage(run: RunFolder) -> None:
    stalled = stalled_writes(run, slow_ms=1000.0)
    result = measure_rto(timeout_s=2, sustain_s=3, configuration=config(run))
    assert result["rto_s"] == pytest.approx(1.304, abs=PRECISION_S)
    assert result["rto_s"] > 0
    [outage] = result["outages"]
    assert (outage["failures"], outage["slow"]) == (0, stalled)
    assert stalled in (119, 120)


def test_a_stall_within_slow_ms_is_not(run: RunFolder) -> None:
    stalled_writes(run, slow_ms=2000.0)
    result = measure_rto(timeout_s=2, sustain_s=3, configuration=config(run))
    assert result["rto_s"] == 0.0
    assert result["outages"] == []


def test_the_timeline_keeps_slow_apart_from_failed(run: RunFolder) -> None:
    stalled = stalled_writes(run, slow_ms=1000.0)
    [row, total] = summarize(read_timeline(run.path))
    assert (row.failures, row.slow) == (0, stalled)
    assert total.slow == stalled


def test_the_slo_error_rate_probe_still_counts_slow_successes_as_successes(run: RunFolder) -> None:
    now = time.time()
    write_timeline(run, requests_between(now - 3, now, slow=[(now - 3, now)], slow_ms=1500.0), slow_ms=1000.0)
    assert error_rate_within(max_error_rate=0.01, window_s=2, configuration=config(run)) is True
