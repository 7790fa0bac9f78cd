"""The stakeholder scorecard in a real browser, for a seeded history: the objective line on the trend charts, the
regression flagged (by the history's own rule), pass rate, worst value and tier; screenshot for the README."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType

from aftershock.reports.history import COLUMNS, HistoryRun, HistoryStore
from tests.aftershock.serve.consolekit import ConsoleProcess, browser, screenshot

RTOS = (10.0, 11.0, 10.5, 11.5, 10.0, 11.0, 25.0)  # the last one regresses: > median 10.75 + max(3 MAD, 2 s)


def _seed(tmp_path: Path) -> Path:
    db = tmp_path / "history.sqlite"
    with HistoryStore(db) as store:
        for i, rto in enumerate(RTOS):
            folder = tmp_path / "runs" / f"2026110{i}T120000Z-pod-kill"
            folder.mkdir(parents=True)
            (folder / "run.json").write_text(json.dumps({"objectives": {"rto_s": 20.0, "rpo_s": 0.0},
                                                         "snapshot": {"objectives_tier": "lab"}}))
            figures = dict.fromkeys(COLUMNS) | {"rto_s": rto, "rpo_s": 0.0}
            store.add(HistoryRun(folder.name, "pod-kill", "lab", 1_790_000_000.0 + i * 3600, rto <= 20.0, False,
                                 "completed", str(folder), MappingProxyType(figures)))
    return db


def test_scorecard_shows_objective_line_and_regression(tmp_path: Path) -> None:
    db = _seed(tmp_path)
    console = ConsoleProcess("--runs", str(tmp_path / "runs"), "--db", str(db))
    try:
        with browser(tmp_path / "profile") as driver:
            driver.get(f"{console.url}scorecard/lab")
            objective = driver.find_element("css selector", "svg[data-chart='score-rto_s'] g[data-kind='objective']")
            assert objective.get_attribute("data-value") == "20"
            assert "objective 20 s" in objective.text or objective.find_element("tag name", "line")
            regressions = driver.find_elements("css selector", "svg[data-chart='score-rto_s'] "
                                                               "circle[data-kind='regression']")
            assert len(regressions) == 1
            row = driver.find_element("css selector", "tr[data-scenario='pod-kill']")
            cells = [td.text for td in row.find_elements("tag name", "td")]
            assert cells[1].startswith("25 s") and "> 20" in cells[1]  # latest RTO above its objective
            assert cells[3].startswith("86%")  # 6 of 7 passed
            assert cells[4] == "25 s / 0 s" and cells[5] == "lab" and cells[6] == "1 regression(s)"
            assert driver.find_element("id", "tier").text == "lab"
            screenshot(driver, "console-scorecard.png")
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
            assert not driver.find_element("tag name", "header").is_displayed()  # the print stylesheet
    finally:
        assert console.stop() == 0
