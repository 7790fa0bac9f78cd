"""Slow is bad, end to end: the stand-in shop stalls (SIGSTOP) for longer than ``slow_ms`` without failing a
request, as the writer failover stalls writes; the Locust timeline counts the stalled requests as slow, not
failed, and the RTO measured from the stall is above 0 and brackets its true end."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from aftershock.core.timeline.outages import find_outages, time_to_recovery
from aftershock.core.timeline.store import TimelineFollower, read_timeline
from tests.loadtests.loadkit import Procs, StandinShop, locust_cmd, wait_for

STALL_S = 1.5
SLOW_MS = 500.0


def test_a_stall_without_failures_has_an_rto(shop: StandinShop, procs: Procs, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    argv = locust_cmd(shop.url, out, users=4, seconds=8,
                      extra=("--task-rate", "10", "--fresh-rate", "40", "--timeline-slow-ms", f"{SLOW_MS:g}"))
    locust = procs.start(argv, tmp_path / "locust.log")
    follower = TimelineFollower(out / "timeline.jsonl")
    wait_for(lambda: follower.poll() is not None and follower.timeline().total > 50, 60, "the first buckets",
             interval=0.05)
    time.sleep(0.8)
    stalled_at = time.time()
    shop.current.send_signal(signal.SIGSTOP)
    time.sleep(STALL_S)
    shop.current.send_signal(signal.SIGCONT)
    resumed_at = time.time()
    assert locust.wait(timeout=60) == 0, (tmp_path / "locust.log").read_text()[-3000:]

    timeline = read_timeline(out)
    assert timeline.failures == 0  # every request succeeded, eventually
    [outage] = find_outages(timeline)
    assert outage.failures == 0 and outage.slow > 0
    recovery = time_to_recovery(timeline, stalled_at * 1000, window_ms=100, sustain_ms=1500)
    assert recovery is not None and recovery.outage is not None
    rto_s, error_s = recovery.rto_ms / 1000, recovery.rto_error_ms / 1000
    print(f"stall {resumed_at - stalled_at:.3f} s: RTO {rto_s:.3f} s ± {error_s:.3f} s, {outage.slow} slow requests")
    # requests that started up to SLOW_MS before the resume still finished within slow_ms: good again from there
    assert rto_s > STALL_S - SLOW_MS / 1000 - 0.2
    assert rto_s - error_s <= resumed_at - stalled_at + 0.1
