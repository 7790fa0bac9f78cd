"""The RTO probe reads only the span around the disruption, yet measures what a full read measures: an outage
that began long before the look-back is not cut at the read's start."""

from __future__ import annotations

import time

import pytest

from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.outages import find_outages
from aftershock.core.timeline.store import read_timeline
from aftershock.probes.recovery import LOOKBACK_MS, measure_rto, poll_rto
from tests.runkit import mark_at, requests_between, write_timeline


def test_an_outage_older_than_the_look_back_keeps_its_start(run: RunFolder) -> None:
    now = time.time()
    fault = now - 6
    began = fault - 3 * LOOKBACK_MS / 1000  # failing since long before the read's first start
    write_timeline(run, requests_between(now - 60, now, down=[(began, fault + 1.5)]))
    mark_at(run, fault, "fault.start", action="pod_kill")
    result = measure_rto(timeout_s=2, sustain_s=3, configuration={"aftershock_run_dir": str(run.path)})
    [whole] = [o for o in find_outages(read_timeline(run.path)) if o.end_ms and o.end_ms >= fault * 1000]
    [outage] = result["outages"]
    assert outage["start"] == pytest.approx(whole.start_ms / 1000, abs=1e-6)
    assert outage["start"] == pytest.approx(began, abs=0.011)
    assert result["rto_s"] == pytest.approx(1.5, abs=0.002)
    assert poll_rto(run, fault * 1000).since_ms < began * 1000  # the read reached back past the outage's start


def test_a_poll_reads_from_the_look_back_when_the_traffic_was_good_before(run: RunFolder) -> None:
    now = time.time()
    fault = now - 6
    write_timeline(run, requests_between(now - 60, now, down=[(fault + 0.5, fault + 1.0)]))
    seen = poll_rto(run, fault * 1000, sustain_ms=3000)
    assert seen.since_ms == fault * 1000 - LOOKBACK_MS
    assert seen.timeline.start_ms is not None and seen.timeline.start_ms >= seen.since_ms
    assert seen.recovered_ms == pytest.approx((fault + 1.0) * 1000, abs=2)
