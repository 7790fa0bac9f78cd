"""Loading run folders for reports: complete, failed, partial, and broken pieces."""

from __future__ import annotations

import json
from pathlib import Path

from aftershock.reports.markdown import render_markdown
from aftershock.reports.model import load_report_data
from tests.reports.reportkit import START, MakeRun


def test_full_run_loads_verdict_objectives_steps(run_factory: MakeRun) -> None:
    data = load_report_data(run_factory())
    assert data.verdict == "PASSED"
    assert [(o.name, o.measured, o.met) for o in data.objectives] == [("rto_s", 4.0, True), ("rpo_s", 0.0, True)]
    assert [s.phase for s in data.steps] == ["hypothesis before", "method", "method", "hypothesis after",
                                             "rollbacks"]
    assert data.hypothesis_before is True and data.hypothesis_after is True
    assert data.outages[0].start == START + 6.0
    assert {m.kind for m in data.markers} >= {"fault.start", "rollbacks.start", "fault.reverted"}
    assert data.timeline.total == 20 * 10 * 2 * 4 - 4 * 10 * 2 * 1
    assert data.problems == ()


def test_missed_objective_fails_with_message(run_factory: MakeRun) -> None:
    data = load_report_data(run_factory(rto_s=14.0))
    assert data.verdict == "FAILED"
    assert [o.failure_message for o in data.missed] == ["rto_s: measured 14 s > target 10 s"]
    assert data.headline == "FAILED: pod-kill on lab - rto_s: measured 14 s > target 10 s"


def test_partial_run_without_summary_and_journal(run_factory: MakeRun) -> None:
    data = load_report_data(run_factory(partial=True))
    assert data.verdict == "PARTIAL"
    assert data.partial and not data.passed
    assert "summary.json is missing" in data.problems and "journal.json is missing" in data.problems
    # objectives from run.json's targets, measured from measurements.jsonl so far
    assert [(o.name, o.measured) for o in data.objectives] == [("rto_s", 4.0), ("rpo_s", None)]
    running = [s for s in data.steps if s.status == "running (interrupted)"]
    assert [s.name for s in running] == ["rto"]
    assert data.hypothesis_before is True and data.hypothesis_after is None


def test_folder_with_only_run_json(tmp_path: Path) -> None:
    run_dir = tmp_path / "20261121T000000Z-x"
    run_dir.mkdir()
    (run_dir / "run.json").write_text('{"scenario": "x", "target": "lab"}')
    data = load_report_data(run_dir)
    assert data.verdict == "PARTIAL"
    assert data.timeline.total == 0
    assert "timeline.jsonl is missing: no traffic to chart" in data.problems


def test_dangling_side_timeline_is_reported_not_fatal(run_factory: MakeRun) -> None:
    run_dir = run_factory()
    (run_dir / "timeline-spike.jsonl").symlink_to(run_dir / "gone" / "timeline.jsonl")
    data = load_report_data(run_dir)
    assert data.timeline.total > 0
    assert data.problems == ("timeline-spike.jsonl points to a missing file",)


def test_real_run_folder(real_run: Path) -> None:
    data = load_report_data(real_run)
    assert data.verdict == "PASSED"
    assert data.run.scenario == "aurora-global-failover"
    assert {o.name for o in data.objectives} == {"rto_s", "rpo_s"}
    assert data.ledger["acknowledged"] == 187
    assert len({s.writer_region for s in data.samples}) >= 2


def test_a_lost_worker_is_a_marker_and_a_line_of_the_report(run_factory: MakeRun) -> None:
    run_dir = run_factory()
    lost = {"ts": START + 9.0, "kind": "load.worker_lost", "worker": "host-b_7f1e", "at": START + 8.5,
            "state": "missing"}
    with (run_dir / "markers.jsonl").open("a") as out:
        out.write(json.dumps(lost) + "\n")
    data = load_report_data(run_dir)
    assert [m.label for m in data.markers if m.kind == "load.worker_lost"] == ["worker lost host-b_7f1e"]
    assert [p for p in data.problems if "host-b_7f1e" in p] == [
        "Locust worker host-b_7f1e was lost at +8.5 s: its share of the load dropped from then on"]
    assert "host-b_7f1e was lost" in render_markdown(data)
