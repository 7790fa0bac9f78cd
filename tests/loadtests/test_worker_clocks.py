"""The master's estimate of a worker's clock offset: the least (received - sent) over its reports."""

from __future__ import annotations

import json
import random
from pathlib import Path

from aftershock.core.loadworkers import WORKERS_FILE, clock_offsets_ms, largest_clock_offset_ms, read_worker_events
from aftershock.loadtests.clocks import WorkerClocks


def test_a_skewed_worker_is_estimated_to_within_its_smallest_delay() -> None:
    rng = random.Random(7)
    clocks = WorkerClocks()
    skew = {"ahead": 0.250, "behind": -0.040, "synced": 0.0}
    least_delay = {}
    for worker, d in skew.items():
        delays = [0.0004 + rng.expovariate(1 / 0.005) for _ in range(60)]  # LAN: >= 0.4 ms, mean ~5 ms
        least_delay[worker] = min(delays)
        for i, delay in enumerate(delays):
            true_send = 1000.0 + i * 0.5
            clocks.observe(worker, true_send + d, true_send + delay)
    estimates = {e.worker: e for e in clocks.estimates()}
    for worker, d in skew.items():
        # offset = d - smallest delay: the estimate is biased low by at most that delay (+ rounding to 0.1 ms)
        assert abs(estimates[worker].offset_ms - (d - least_delay[worker]) * 1000) <= 0.05
        assert estimates[worker].reports == 60


def test_reports_without_a_stamp_give_no_estimate() -> None:
    clocks = WorkerClocks()
    clocks.observe("old-version", None, 1000.0)
    clocks.observe("old-version", True, 1000.0)
    assert clocks.estimates() == []


def test_the_run_folder_keeps_the_latest_estimate_per_worker(tmp_path: Path) -> None:
    lines = [{"ts": 1.0, "worker": "a", "event": "joined"},
             {"ts": 1.5, "worker": "a", "event": "clock", "offset_ms": 30.0, "reports": 1},
             {"ts": 2.0, "worker": "a", "event": "clock", "offset_ms": 22.5, "reports": 3},
             {"ts": 2.0, "worker": "b", "event": "clock", "offset_ms": -41.0, "reports": 3}]
    (tmp_path / WORKERS_FILE).write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"ts": 3, "wor')
    assert clock_offsets_ms(read_worker_events(tmp_path)) == {"a": 22.5, "b": -41.0}
    assert largest_clock_offset_ms(tmp_path) == 41.0
    assert largest_clock_offset_ms(tmp_path / "nowhere") is None
