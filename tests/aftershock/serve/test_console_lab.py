"""The console against the real lab, in a real browser: a live `aftershock run` shows the fault marker and the RTO
within 2 s of the harness recording them; the abort button of a game-day step rolls the fault back (the same path
as the terminal's abort key) and the run is marked aborted; the scribe's note lands in the game-day report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aftershock.core.journal import outstanding
from aftershock.core.runfolder import RunFolder
from tests.aftershock.serve.consolekit import ConsoleProcess, browser, need_browser, screenshot, wait_until
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
def test_live_view_shows_fault_marker_and_rto_within_2_s(lab: RunningLab, tmp_path: Path) -> None:
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
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and len(seen) < 2:
                now = time.time()
                if "fault" not in seen and driver.find_elements("css selector", "tr.marker[data-kind='fault.start']"):
                    seen["fault"] = now
                if "rto" not in seen and driver.find_elements("css selector", "#rto-now[data-kind='measured']"):
                    seen["rto"] = now
                    shot = screenshot(driver, "console-live-run.png")
                time.sleep(0.05)
            assert set(seen) == {"fault", "rto"}, f"the page showed only {seen} ({run_proc.poll()=})"
            shown_rto = driver.find_element("css selector", "#rto-now").get_attribute("data-rto")
        fault = _record(run / "markers.jsonl", "fault.start")
        rto = _record(run / "measurements.jsonl", "rto")
        assert fault is not None and rto is not None
        # independent record: the harness's own files, timestamped when it wrote them (same clock as the test)
        assert 0 <= seen["fault"] - float(fault["ts"]) <= SHOWN_WITHIN_S, (seen, fault["ts"])  # type: ignore[arg-type]
        assert 0 <= seen["rto"] - float(rto["ts"]) <= SHOWN_WITHIN_S, (seen, rto["ts"])  # type: ignore[arg-type]
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
"""


@pytest.mark.timeout(200)
def test_abort_button_rolls_back_and_the_day_records_it(lab: RunningLab, tmp_path: Path) -> None:
    need_browser()
    lab.wait_healthy()
    plans = tmp_path / "plans"
    (plans / "experiments").mkdir(parents=True)
    write_short_az_outage(plans / "experiments" / "az-short.yaml")
    (plans / "console-day.yaml").write_text(PLAN)
    out = tmp_path / "days"
    out.mkdir()
    console = ConsoleProcess("--runs", str(out), "--plans", str(plans))
    try:
        with browser(tmp_path / "profile") as driver:
            driver.get(f"{console.url}gameday")
            driver.find_element("css selector", "#plan option[value='console-day.yaml'], #plan option")
            for option in driver.find_elements("css selector", "#plan option"):
                if option.text == "console-day.yaml":
                    option.click()
            driver.find_element("id", "start").click()
            wait_until(lambda: driver.find_elements("id", "decide-go"), 60, what="the go button")
            page = driver.find_element("tag name", "body").text
            assert "Watch the writer move." in page and "aftershock.faults.actions.az_outage" in page
            driver.find_element("id", "note-text").send_keys("writer AZ goes down now")
            driver.find_element("id", "note-save").click()
            wait_until(lambda: driver.find_elements("id", "decide-go"), 10, what="the page after the note")
            driver.find_element("id", "decide-go").click()
            run = wait_until(lambda: next((p.parent for p in out.glob("*/steps/*/markers.jsonl")
                                           if '"kind":"fault.start"' in p.read_text()), None), 60, what="the fault")
            wait_until(lambda: driver.find_elements("id", "abort"), 10, what="the abort button").pop().click()
            wait_until(lambda: driver.find_elements("css selector", ".step[data-status='aborted']"), 90,
                       what="the step marked aborted")
            wait_until(lambda: "ABORTED" in driver.find_element("id", "run-status").text, 30, what="run ABORTED")
            screenshot(driver, "console-gameday.png")
            wait_until(lambda: "ended" in driver.find_element("id", "day").text, 60, what="the day's end")
    finally:
        assert console.stop() == 0
    assert outstanding(RunFolder(run)) == [], "the aborted step's fault must be rolled back"
    status = lab.wait_healthy(timeout=60)
    assert status["azs_down"] == [] and status["dials"] == {"us-east-1": 100, "us-west-2": 0}
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"
    (day,) = out.glob("*-gameday-*")
    (step,) = json.loads((day / "gameday.json").read_text())["steps"]
    assert step["status"] == "aborted" and step["abort"]["by"] == "console abort button"
    assert step["abort"]["rolled_back"] is True and step["abort"]["killed"] is False
    report = (day / "gameday.md").read_text()
    assert "aborted by operator (console abort button)" in report
    assert "## Scribe's notes" in report and "between steps (scribe): writer AZ goes down now" in report
    assert "writer AZ goes down now" in (day / "gameday.html").read_text()
    assert processes_mentioning(str(out)) == [], "no process of the game day may be left behind"
    assert os.environ.get("AFTERSHOCK_HOME")
