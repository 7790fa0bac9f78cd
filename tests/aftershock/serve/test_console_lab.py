"""The console against the real lab, in a real browser: a live `aftershock run` shows the fault marker and the RTO
within 2 s of the harness recording them (the delays are measured, asserted and reported); a game day driven from
the console across several steps: go, the abort button (the terminal's abort path: the fault is rolled back, the
run marked aborted), continue, skip, go, and the stop-the-day button while a step runs (the step is aborted and
rolled back, no further step runs); the scribe's note lands in the game-day report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from aftershock.core.journal import outstanding
from aftershock.core.runfolder import RunFolder
from tests.aftershock.serve.consolekit import (
    SCREENSHOTS,
    ConsoleProcess,
    browser,
    click,
    need_browser,
    screenshot,
    wait_until,
)
from tests.labkit import RunningLab, processes_mentioning, write_short_az_outage

pytestmark = pytest.mark.slow
SHOWN_WITHIN_S = 2.0


def _record(path: Path, kind: str) -> dict[str, object] | None:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    found = [json.loads(line) for line in lines if f'"kind":"{kind}"' in line or f'"kind": "{kind}"' in line]
    return found[0] if found else None


@pytest.mark.timeout(180)
def test_live_view_shows_fault_marker_and_rto_within_2_s(lab: RunningLab, tmp_path: Path,
                                                          record_property: Callable[[str, object], None]) -> None:
    need_browser()
    lab.wait_healthy()
    experiment = write_short_az_outage(tmp_path / "az-outage-short.yaml")
    out = tmp_path / "runs"
    out.mkdir()
    console = ConsoleProcess("--runs", str(out))
    run_proc = subprocess.Popen([sys.executable, "-m", "aftershock", "run", str(experiment), "--out", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with browser(tmp_path / "profile") as driver:
            run = wait_until(lambda: next(iter(out.glob("*/run.json")), None), 30, what="a run folder").parent
            driver.get(f"{console.url}run/{run.name}")
            seen: dict[str, float] = {}
            shot = None
            phase_at_rto = ""
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and len(seen) < 2:
                now = time.time()
                if "fault" not in seen and driver.find_elements("css selector", "tr.marker[data-kind='fault.start']"):
                    seen["fault"] = now
                if "rto" not in seen and driver.find_elements("css selector", "#rto-now[data-kind='measured']"):
                    seen["rto"] = now
                    phase_at_rto = driver.find_element("id", "phase").text
                    shot = screenshot(driver, "console-live-run.png")
                time.sleep(0.05)
            assert set(seen) == {"fault", "rto"}, f"the page showed only {seen} ({run_proc.poll()=})"
            shown_rto = driver.find_element("css selector", "#rto-now").get_attribute("data-rto")
        fault = _record(run / "markers.jsonl", "fault.start")
        rto = _record(run / "measurements.jsonl", "rto")
        assert fault is not None and rto is not None
        # independent record: the harness's own files, timestamped when it wrote them (same clock as the test);
        # the page is looked at every ~50 ms plus a WebDriver round trip, so a delay is over-estimated by that much
        delays = {"fault_marker_s": round(seen["fault"] - float(fault["ts"]), 3),  # type: ignore[arg-type]
                  "rto_s": round(seen["rto"] - float(rto["ts"]), 3)}  # type: ignore[arg-type]
        for key, delay in delays.items():
            record_property(f"shown_after_{key}", delay)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "console-live-delays.json").write_text(json.dumps(delays))
        print(f"console live delays (harness record -> visible in the page): {delays}")
        assert 0 <= delays["fault_marker_s"] <= SHOWN_WITHIN_S, delays
        assert 0 <= delays["rto_s"] <= SHOWN_WITHIN_S, delays
        # the AZ is still down when the RTO is measured: the phase says so (never STEADY STATE here)
        assert phase_at_rto in ("FAULT", "RECOVERING", "ROLLING BACK", "ROLLED BACK", "FINISHED"), phase_at_rto
        assert shown_rto == f"{float(rto['rto_s']):.3f}"  # type: ignore[arg-type]  # the figure, to the ms
        assert shot is not None and shot.stat().st_size > 20_000
        assert run_proc.wait(timeout=90) in (0, 1)
    finally:
        if run_proc.poll() is None:
            run_proc.terminate()
            run_proc.wait(timeout=90)
        assert console.stop() == 0
    assert processes_mentioning(str(out)) == []


PLAN = """\
title: Console chaos day
notes: Driven from the web console.
steps:
  - experiment: experiments/az-short.yaml
    title: Lose the writer's AZ
    users: 3
    notes: Watch the writer move.
  - experiment: experiments/az-short.yaml
    title: Skipped on purpose
    users: 3
  - experiment: experiments/az-short.yaml
    title: Stopped mid-way
    users: 3
  - experiment: experiments/az-short.yaml
    title: Never reached
    users: 3
"""


def _faulted_run(out: Path, *, not_: tuple[Path, ...] = ()) -> Path:
    """The game day's step run (other than ``not_``) once its fault is injected."""
    def find() -> Path | None:
        for markers in out.glob("*/steps/*/markers.jsonl"):
            if markers.parent not in not_ and '"kind":"fault.start"' in markers.read_text():
                return markers.parent
        return None
    found: Path = wait_until(find, 90, what="a step's fault")
    return found


@pytest.mark.timeout(300)
def test_game_day_go_abort_continue_skip_go_stop_the_day(lab: RunningLab, tmp_path: Path) -> None:
    need_browser()
    lab.wait_healthy()
    plans = tmp_path / "plans"
    (plans / "experiments").mkdir(parents=True)
    experiment = write_short_az_outage(plans / "experiments" / "az-short.yaml")
    data = yaml.safe_load(experiment.read_text())
    data["method"][0]["pauses"] = {"after": 30}  # the fault stays on long enough to press the buttons
    experiment.write_text(yaml.safe_dump(data, sort_keys=False))
    (plans / "console-day.yaml").write_text(PLAN)
    out = tmp_path / "days"
    out.mkdir()
    console = ConsoleProcess("--runs", str(out), "--plans", str(plans))
    try:
        with browser(tmp_path / "profile") as driver:
            driver.get(f"{console.url}gameday")
            for option in driver.find_elements("css selector", "#plan option"):
                if option.text == "console-day.yaml":
                    option.click()
            driver.find_element("id", "start").click()
            wait_until(lambda: driver.find_elements("id", "decide-go"), 60, what="the go button")
            page = driver.find_element("tag name", "body").text
            assert "Watch the writer move." in page and "aftershock.faults.actions.az_outage" in page
            driver.find_element("id", "note-text").send_keys("writer AZ goes down now")
            driver.find_element("id", "note-save").click()
            click(driver, "decide-go", 10)                      # step 1: go
            first = _faulted_run(out)
            click(driver, "abort-step", 10)                        # ... and abort it during the fault
            wait_until(lambda: "ABORTED" in driver.find_element("id", "run-status").text, 90, what="run ABORTED")
            screenshot(driver, "console-gameday.png")
            click(driver, "continue-yes", 90)                   # continue with the next step
            click(driver, "decide-skip", 30)                    # step 2: skip
            click(driver, "decide-go", 30)                      # step 3: go
            third = _faulted_run(out, not_=(first,))
            click(driver, "stop-day", 10)                       # stop the day while step 3 runs
            wait_until(lambda: "ended" in driver.find_element("id", "day").text, 120, what="the day's end")
            statuses = [e.get_attribute("data-status") for e in driver.find_elements("css selector", ".step")]
            assert statuses == ["aborted", "skipped", "aborted", "not run"], statuses
    finally:
        assert console.stop() == 0
    for run in (first, third):
        assert outstanding(RunFolder(run)) == [], f"the aborted step's fault must be rolled back ({run.name})"
        assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"
    status = lab.wait_healthy(timeout=60)
    assert status["azs_down"] == [] and status["dials"] == {"us-east-1": 100, "us-west-2": 0}
    (day,) = out.glob("*-gameday-*")
    record = json.loads((day / "gameday.json").read_text())
    assert [s["status"] for s in record["steps"]] == ["aborted", "skipped", "aborted", "not run"]
    assert record["stopped"] is True and record["ended_at"] is not None
    one, _, three, _ = record["steps"]
    assert one["abort"]["by"] == "console abort button" and three["abort"]["by"] == "console stop-the-day button"
    for step in (one, three):
        assert step["abort"]["rolled_back"] is True and step["abort"]["killed"] is False
    report = (day / "gameday.md").read_text()
    assert "aborted by operator (console abort button)" in report
    assert "aborted by operator (console stop-the-day button)" in report
    assert "## Scribe's notes" in report and "between steps (scribe): writer AZ goes down now" in report
    assert "writer AZ goes down now" in (day / "gameday.html").read_text()
    assert processes_mentioning(str(out)) == [], "no process of the game day may be left behind"
    assert os.environ.get("AFTERSHOCK_HOME")
