"""The live run view's phase, outage shading and RTO wording, from run folders in the real formats (no browser).

The phase is the terminal dashboard's (same function, same answer for the same folder); the shading is the core's
outages at the timeline's 100 ms resolution, so it never starts before the first bad request; the RTO is written
with the project's one formatter and the reports' glossary."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Any

import pytest

from aftershock.core.figures import with_error
from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.follow import RunTimelineFollower
from aftershock.core.timeline.model import Bucket
from aftershock.core.timeline.outages import find_outages
from aftershock.core.timeline.store import TimelineWriter, read_timeline
from aftershock.gameday.snapshot import RunWatcher
from aftershock.reports.glossary import PHASES
from aftershock.serve.live import LiveRun
from aftershock.serve.outages import OutageTracker
from aftershock.serve.runview import run_panels
from tests.aftershock.gameday.gamedaykit import BEFORE_FAULT, FAULT, FAULT_AT_S, write_run

AFTER_METHOD = [(12.0, "method.end", {}), (12.1, "hypothesis.start", {})]
ROLLBACKS = [(16.0, "rollbacks.start", {}), (16.2, "fault.reverted", {"action": "az_outage", "by": "rollback"}),
             (16.5, "rollbacks.end", {})]
INTERRUPTED = [(11.0, "run.interrupted", {"signal": "SIGINT"}), (11.2, "rollbacks.start", {})]


def _rto(start: float, **extra: Any) -> dict[str, Any]:
    return {"ts": start + 11.9, "kind": "rto", "recovered": True, "rto_s": 0.7, "rto_error_s": 0.1,
            "fault_start": start + FAULT_AT_S, "recovered_at": start + FAULT_AT_S + 0.7, **extra}


@pytest.mark.parametrize(("markers", "summary", "phase"), [
    (BEFORE_FAULT, None, "steady state"),
    (BEFORE_FAULT + FAULT + AFTER_METHOD, None, "recovering"),  # the screenshot's case: AZ down, RTO measured
    (BEFORE_FAULT + FAULT + AFTER_METHOD + ROLLBACKS[:2], None, "rolling back"),
    (BEFORE_FAULT + FAULT + AFTER_METHOD + ROLLBACKS, None, "rolled back"),
    (BEFORE_FAULT + FAULT + AFTER_METHOD + ROLLBACKS, {"passed": True, "status": "completed"}, "finished"),
    (BEFORE_FAULT + FAULT + INTERRUPTED, None, "rolling back"),
    (BEFORE_FAULT + FAULT + INTERRUPTED, {"passed": False, "status": "interrupted"}, "aborted"),
])
def test_phase_follows_the_markers_like_the_terminal_dashboard(
        tmp_path: Path, markers: list[tuple[float, str, dict[str, Any]]], summary: dict[str, Any] | None,
        phase: str) -> None:
    start = math.floor(time.time()) - 20.0
    run = write_run(tmp_path, start=start, seconds=20.0, fail_from=FAULT_AT_S, fail_until=FAULT_AT_S + 0.7,
                    markers=markers, measurements=[_rto(start)], summary=summary)
    state = LiveRun(run).state()
    assert state.phase == phase
    assert RunWatcher(RunFolder(run)).snapshot().phase == phase  # the terminal's phase for the same folder
    status = run_panels(state)["status"]
    assert f"id='phase'>{phase.upper()}</span>" in status
    assert status.count("ABORTED") == (1 if phase == "aborted" or "run.interrupted" in str(markers) else 0)


def test_fault_phase_while_requests_fail_after_the_method(tmp_path: Path) -> None:
    start = math.floor(time.time()) - 20.0
    run = write_run(tmp_path, start=start, seconds=20.0, fail_from=FAULT_AT_S, markers=BEFORE_FAULT + FAULT
                    + AFTER_METHOD)
    assert LiveRun(run).state().phase == "fault" == RunWatcher(RunFolder(run)).snapshot().phase


def _spans(chart: str) -> list[tuple[float, str]]:
    return [(float(a), b) for a, b in re.findall(r"data-kind='outage-span' data-start='([\d.]+)' "
                                                 r"data-end='([\d.]*)'", chart)]


def test_shading_never_starts_before_the_first_bad_request(tmp_path: Path) -> None:
    start = math.floor(time.time()) - 20.0
    fail_from = FAULT_AT_S + 0.55  # bad requests begin mid-second (a per-second shading would start at +10 s)
    run = write_run(tmp_path, start=start, seconds=20.0, fail_from=fail_from, fail_until=fail_from + 1.2,
                    markers=BEFORE_FAULT + FAULT)
    timeline = read_timeline(run)
    first_bad = min(b.first_fail_ms for b in timeline.buckets if b.first_fail_ms is not None) / 1000
    last_bad = max(b.last_fail_ms for b in timeline.buckets if b.last_fail_ms is not None) / 1000
    first_ok_after = min(b.first_ok_ms for b in timeline.buckets
                         if b.first_ok_ms is not None and b.first_ok_ms > last_bad * 1000) / 1000
    assert first_bad - math.floor(first_bad) > 0.5  # the case a whole-second shading gets wrong
    state = LiveRun(run).state()
    assert [(s.start, s.end) for s in state.outages] == [(pytest.approx(first_bad), pytest.approx(first_ok_after))]
    spans = _spans(run_panels(state)["chart"])
    assert len(spans) == 1 and spans[0][0] >= round(first_bad, 3) and spans[0][0] == pytest.approx(first_bad, abs=1e-3)
    assert float(spans[0][1]) == pytest.approx(first_ok_after, abs=1e-3)


def test_shading_is_the_rto_measurements_outages_once_measured(tmp_path: Path) -> None:
    start = math.floor(time.time()) - 20.0
    outage = {"start": start + 10.62, "end": start + 10.71, "failures": 3, "errors": {"http 503": 3}}
    run = write_run(tmp_path, start=start, seconds=20.0, fail_from=FAULT_AT_S + 0.6, fail_until=FAULT_AT_S + 0.7,
                    markers=BEFORE_FAULT + FAULT + AFTER_METHOD, measurements=[_rto(start, outages=[outage])])
    state = LiveRun(run).state()
    assert [(s.start, s.end) for s in state.outages] == [(outage["start"], outage["end"])]
    assert _spans(run_panels(state)["chart"]) == [(round(start + 10.62, 3), f"{start + 10.71:.3f}")]


def test_rto_is_written_with_the_projects_formatter_and_glossary(tmp_path: Path) -> None:
    start = math.floor(time.time()) - 20.0
    phases = {"detection_s": 0.1, "failover_s": 0.2, "client_recovery_s": None, "warmup_s": 0.4}
    run = write_run(tmp_path, start=start, seconds=20.0, fail_from=FAULT_AT_S, fail_until=FAULT_AT_S + 0.7,
                    markers=BEFORE_FAULT + FAULT + AFTER_METHOD, measurements=[_rto(start, phases=phases)])
    panel = run_panels(LiveRun(run).state())["rto"]
    assert with_error(0.7, 0.1) == "0.70 s ± 0.10 s"
    assert "<b id='rto-value'>0.70 s ± 0.10 s</b> (measured)" in panel
    meaning = dict(PHASES)
    assert f"<li data-phase='detection' title='{meaning['detection']}'>detection: 0.1 s</li>" in panel
    assert "failover: 0.2 s</li>" in panel and "warm-up: 0.4 s</li>" in panel
    assert "client recovery: unknown</li>" in panel  # not recorded: unknown, never guessed


def _bucket(ms: int, ok: bool) -> Bucket:
    return Bucket.single(start_ms=ms, bucket_ms=100, name="GET /x", ok=ok, at_ms=ms + 37.0, latency_ms=5.0)


def test_outage_tracker_is_incremental_and_equals_the_core_on_the_whole_timeline(tmp_path: Path) -> None:
    base = 1_790_000_000_000
    bad = {*range(40, 47), *range(60, 61), *range(120, 150)}  # three outages, the last one going on for a while
    fault_ms = base + 3900
    tracker = OutageTracker(RunTimelineFollower(tmp_path))
    with TimelineWriter(tmp_path / "timeline.jsonl", bucket_ms=100) as out:
        for chunk in range(0, 200, 10):
            out.write([_bucket(base + i * 100, i not in bad) for i in range(chunk, chunk + 10)])
            spans = tracker.update(fault_at=fault_ms / 1000, done=False)
            whole = [o for o in find_outages(read_timeline(tmp_path)) if o.end_ms is None or o.end_ms >= fault_ms]
            assert [(s.start, s.end) for s in spans] == [
                (o.start_ms / 1000, None if o.end_ms is None else o.end_ms / 1000) for o in whole]
    assert len(spans) == 3 and spans[0].start == (base + 4000 + 37) / 1000
    assert tracker._from_ms > base + 15_000  # settled outages are kept, not read again
