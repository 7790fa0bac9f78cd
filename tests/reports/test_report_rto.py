"""The RTO's error bar in every output: report.html/md (``12.40 s ± 0.03 s``, a warning when it is wide), JUnit
properties and the history; the definition the report states is the README's."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from aftershock.core.figures import rto_error_warning, with_error
from aftershock.reports import text
from aftershock.reports.history import HistoryStore
from aftershock.reports.model import load_report_data
from aftershock.reports.write import write_reports
from tests.reports.reportkit import MakeRun

REPO = Path(__file__).resolve().parents[2]


def _properties(path: Path) -> dict[str, str]:
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    return {p.attrib["name"]: p.attrib["value"] for p in suite.iter("property")}


@pytest.mark.parametrize(("value", "error", "shown"), [(12.4, 0.03, "12.40 s ± 0.03 s"),
                                                         (0.291, 0.004, "0.291 s ± 0.004 s"),
                                                         (0.0, 0.0, "0.000 s ± 0.000 s"),
                                                         (4.0, None, "4 s")])
def test_an_rto_reads_with_its_error_bar(value: float, error: float | None, shown: str) -> None:
    assert with_error(value, error) == shown


@pytest.mark.parametrize(("rto", "error", "warned"), [(12.4, 0.03, False), (12.4, 0.15, True), (0.5, 0.06, True),
                                                      (0.0, 0.003, False), (None, 0.5, False)])
def test_a_wide_error_bar_is_warned_about(rto: float | None, error: float, warned: bool) -> None:
    assert (rto_error_warning(rto, error) is not None) is warned


def test_the_reports_show_the_rto_with_its_error_bar(run_factory: MakeRun) -> None:
    paths = write_reports(run_factory(rto_s=12.4, rto_target=15.0, rto_error_s=0.03), record_history=False)
    markdown = paths.markdown.read_text()
    assert "| RTO (time to recover) (`rto_s`) | <= 15 s | 12.40 s ± 0.03 s | met |" in markdown
    assert text.RTO_DEFINITION in markdown
    html = paths.html.read_text()
    assert "12.40 s ± 0.03 s" in html and "id='rto-warning'" not in html
    properties = _properties(paths.junit)
    assert {k: v for k, v in properties.items() if not k.startswith("glossary_")} | {"run_folder": ""} == {
        "verdict": "PASSED", "run_folder": "", "status": "completed", "rto_s": "12.4", "rto_error_s": "0.03",
        "slow_ms": "1000", "rto": "12.40 s ± 0.03 s"}


def test_a_wide_error_bar_is_warned_in_every_report(run_factory: MakeRun) -> None:
    paths = write_reports(run_factory(rto_s=0.4, rto_error_s=0.12), record_history=False)
    warning = ("the RTO is only known to ± 0.120 s (more than 100 ms or 10 % of 0.400 s): too few requests around "
               "the recovery; raise the load or the fresh-connection probe's rate")
    assert f"- :warning: {warning}" in paths.markdown.read_text()
    assert "id='rto-warning'" in paths.html.read_text()
    assert _properties(paths.junit)["rto_warning"] == warning


def test_the_history_keeps_the_error_bar(run_factory: MakeRun, tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "history.sqlite") as store:
        store.record(load_report_data(run_factory(rto_s=2.5, rto_error_s=0.02)))
        store.record(load_report_data(run_factory(rto_s=3.0)))  # a run from before error bars
        runs = store.runs()
    assert [(r.figure("rto_s"), r.figure("rto_error_s")) for r in runs] == [(2.5, 0.02), (3.0, None)]


def test_an_old_history_store_gets_the_new_column(tmp_path: Path, run_factory: MakeRun) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, scenario TEXT NOT NULL, target TEXT NOT NULL, "
                   "started_at REAL NOT NULL, passed INTEGER NOT NULL, partial INTEGER NOT NULL, status TEXT NOT "
                   "NULL, run_dir TEXT NOT NULL, recorded_at REAL NOT NULL, rto_s REAL, rpo_s REAL, lost_writes "
                   "REAL, in_doubt_writes REAL, first_scale_s REAL, ready_capacity_s REAL, latency_slo_s REAL)")
    db.close()
    with HistoryStore(path) as store:
        store.record(load_report_data(run_factory(rto_s=2.5, rto_error_s=0.02)))
        assert store.runs()[0].figure("rto_error_s") == 0.02


def test_the_readme_states_the_reports_rto_definition() -> None:
    readme = " ".join((REPO / "README.md").read_text().split())
    for part in ("first disruption", "remediation", "slow_ms", "first good request after the last bad one",
                 "± is that interval"):
        assert part in text.RTO_DEFINITION
        assert part in readme, part
