"""The game-day report from synthetic step folders: every objective of every step, aborts, skips, links."""

from __future__ import annotations

import json
from pathlib import Path

from aftershock.gameday.record import Abort, GameDayFolder, GameDayRecord, StepRecord, read_record
from aftershock.gameday.report import write_gameday_report

START = 1_795_264_000.0  # 2026-11-21 12:26:40 UTC


def step_run(day: Path, name: str, objectives: list[dict[str, object]], *, passed: bool, status: str = "completed",
             report: bool = True) -> str:
    run = day / "steps" / name
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"passed": passed, "status": status, "deviated": False,
                                                  "objectives": objectives, "errors": []}))
    if report:
        (run / "report.html").write_text("<html></html>")
    return f"steps/{name}"


def make_day(tmp_path: Path) -> Path:
    day = tmp_path / "20261121T122640Z-gameday-november"
    rto = {"name": "rto_s", "target": 10.0, "measured": 3.2, "met": True, "unit": "s"}
    first = step_run(day, "20261121T094700Z-pod-kill", [rto], passed=True)
    second = step_run(day, "20261121T094800Z-az-outage", [
        {"name": "rto_s", "target": 20.0, "measured": 31.5, "met": False, "unit": "s"},
        {"name": "rpo_s", "target": 1.0, "measured": 0.0, "met": True, "unit": "s"}], passed=False)
    third = step_run(day, "20261121T094900Z-aurora-writer-crash", [
        {"name": "rto_s", "target": 30.0, "measured": None, "met": False, "unit": "s"}],
        passed=False, status="interrupted")
    steps = (
        StepRecord(1, "pod-kill", "Pods die", notes="Watch replicas climb back.", status="passed",
                   run_folder=first, started_at=START + 20, ended_at=START + 80, exit_code=0),
        StepRecord(2, "az-outage", "The writer's AZ goes dark", status="failed", run_folder=second,
                   started_at=START + 80, ended_at=START + 140, exit_code=1),
        StepRecord(3, "aurora-writer-crash", "Writer crash", status="aborted", run_folder=third,
                   started_at=START + 140, ended_at=START + 160, exit_code=1,
                   abort=Abort(at=START + 150, by="abort key", rolled_back=True)),
        StepRecord(4, "region-evacuation", "Evacuate", status="skipped"),
        StepRecord(5, "scale-out", "Scale out", status="not run"),
    )
    record = GameDayRecord(title="November chaos day", plan="plans/november.yaml", notes="Bridge open at 10:00.",
                           started_at=START, steps=steps, ended_at=START + 170, stopped=True)
    day.mkdir(exist_ok=True)
    GameDayFolder(day, record).save()
    return day


def test_markdown_report_tables_every_objective_and_records_the_abort(tmp_path: Path) -> None:
    day = make_day(tmp_path)
    html_path, md_path = write_gameday_report(day)
    assert (html_path, md_path) == (day / "gameday.html", day / "gameday.md")
    md = md_path.read_text()
    assert md.startswith("# Game day: November chaos day\n\nPlan `plans/november.yaml`, started 2026-11-21 "
                         "12:26:40 UTC, ended 2026-11-21 12:29:30 UTC, stopped by the operator.\n")
    assert "Steps: 1 passed, 1 failed, 1 aborted, 1 skipped, 1 not run." in md
    assert "\n".join([
        "| step | experiment | objective | target | measured | met |",
        "|---|---|---|---|---|---|",
        "| 1. Pods die | pod-kill | rto_s | <= 10 s | 3.2 s | yes |",
        "| 2. The writer's AZ goes dark | az-outage | rto_s | <= 20 s | 31.5 s | NO |",
        "| 2. The writer's AZ goes dark | az-outage | rpo_s | <= 1 s | 0 s | yes |",
        "| 3. Writer crash | aurora-writer-crash | rto_s | <= 30 s | not measured | NO |",
        "| 4. Evacuate | region-evacuation | - | - | - | skipped |",
        "| 5. Scale out | scale-out | - | - | - | not run |",
    ]) in md
    assert "- status: **passed**: every objective met" in md
    assert "- status: **failed**: missed rto_s" in md
    assert ("- status: **aborted**: aborted by operator (abort key) at 12:29:10 UTC, fault rolled back" in md)
    assert "- status: **skipped**: skipped by the operator" in md
    assert "- status: **not run**: not run: the day was stopped before it" in md
    assert ("- run report: [steps/20261121T094900Z-aurora-writer-crash/report.html]"
            "(steps/20261121T094900Z-aurora-writer-crash/report.html)") in md
    assert "- notes: Watch replicas climb back." in md


def test_html_report_links_each_run_report(tmp_path: Path) -> None:
    day = make_day(tmp_path)
    html_path, _ = write_gameday_report(day)
    page = html_path.read_text()
    assert "<h1>Game day: November chaos day</h1>" in page
    for run in ("20261121T094700Z-pod-kill", "20261121T094800Z-az-outage", "20261121T094900Z-aurora-writer-crash"):
        assert f"<a href='steps/{run}/report.html'>" in page
    assert "aborted by operator (abort key) at 12:29:10 UTC, fault rolled back" in page
    assert "The writer&#x27;s AZ goes dark" in page
    assert "<td class='missed'>NO</td>" in page


def test_an_abort_that_was_not_rolled_back_says_how_to_recover(tmp_path: Path) -> None:
    abort = Abort(at=START, by="Ctrl-C", rolled_back=False, outstanding=("AZ us-east-1a is down",))
    assert abort.describe() == ("aborted by operator (Ctrl-C) at 12:26:40 UTC, fault NOT rolled back "
                                "(AZ us-east-1a is down): run `aftershock recover` on its run folder")
    killed = Abort(at=START, by="SIGTERM", rolled_back=True, killed=True)
    assert killed.describe().endswith("the run had to be killed; run `aftershock recover` on its run folder")


def test_the_record_round_trips(tmp_path: Path) -> None:
    day = make_day(tmp_path)
    record = read_record(day)
    assert record.steps[2].abort == Abort(at=START + 150, by="abort key", rolled_back=True)
    assert GameDayRecord.from_json(record.to_json()) == record
