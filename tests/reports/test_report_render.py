"""report.html, report.md and junit.xml for full, failed and partial runs."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from aftershock.reports.charts import CHART_IDS
from aftershock.reports.model import load_report_data
from aftershock.reports.write import write_reports
from tests.reports.reportkit import MakeRun


def test_html_has_verdict_objectives_and_every_chart(run_factory: MakeRun) -> None:
    html = write_reports(run_factory(), record_history=False).html.read_text()
    assert 'data-verdict="PASSED"' in html
    assert "PASSED: 2 of 2 objectives met" in html
    for chart_id in CHART_IDS:
        assert f'data-chart="{chart_id}"' in html
    assert 'data-kind="outage"' in html and 'data-kind="fault.start"' in html
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "@media print" in html
    assert "kill-half-the-pods" in html


def test_partial_run_renders_and_says_partial(run_factory: MakeRun) -> None:
    paths = write_reports(run_factory(partial=True), record_history=False)
    html = paths.html.read_text()
    assert 'data-verdict="PARTIAL"' in html
    assert "the run did not finish" in html
    assert "summary.json is missing" in html
    assert "## :warning: PARTIAL: pod-kill on lab" in paths.markdown.read_text()


def test_markdown_has_verdict_and_table(run_factory: MakeRun) -> None:
    text = write_reports(run_factory(rto_s=14.0), record_history=False).markdown.read_text()
    assert text.startswith("## :x: FAILED: pod-kill on lab\n")
    assert "| Objective | Target | Measured | Result |" in text
    assert "| RTO (time to recover) (`rto_s`) | <= 10 s | 14 s | **MISSED** |" in text
    assert "| RPO (data loss window) (`rpo_s`) | <= 0 s | 0 s | met |" in text


def _cases(path: Path) -> dict[str, str | None]:
    root = ET.parse(path).getroot()
    cases = {}
    for case in root.iter("testcase"):
        failure = case.find("failure")
        cases[case.attrib["name"]] = None if failure is None else failure.attrib["message"]
    return cases


def test_junit_one_case_per_objective_and_hypothesis(run_factory: MakeRun) -> None:
    paths = write_reports(run_factory(rto_s=14.0, deviated=True), record_history=False)
    assert _cases(paths.junit) == {
        "rto_s": "rto_s: measured 14 s > target 10 s",
        "rpo_s": None,
        "steady-state-hypothesis": "the steady state deviated: the hypothesis was not met after the method",
    }
    suite = ET.parse(paths.junit).getroot().find("testsuite")
    assert suite is not None and suite.attrib["tests"] == "3" and suite.attrib["failures"] == "2"


def test_junit_of_partial_run(run_factory: MakeRun) -> None:
    paths = write_reports(run_factory(partial=True), record_history=False)
    assert _cases(paths.junit) == {
        "rto_s": None,
        "rpo_s": "rpo_s: not measured (target <= 0 s)",
        "steady-state-hypothesis": "partial run: the steady-state hypothesis was not checked after the method",
    }


def test_real_run_renders(real_run: Path) -> None:
    paths = write_reports(real_run, record_history=False)
    html = paths.html.read_text()
    assert 'data-verdict="PASSED"' in html
    assert "shop-west-a (us-west-2)" in html  # the writer moved regions
    assert set(_cases(paths.junit)) == {"rto_s", "rpo_s", "steady-state-hypothesis"}


def test_out_dir_and_empty_folder(tmp_path: Path) -> None:
    run_dir = tmp_path / "20261121T000000Z-empty"
    run_dir.mkdir()
    paths = write_reports(run_dir, record_history=False, out_dir=tmp_path / "out")
    assert paths.html.parent == tmp_path / "out"
    assert "nothing was recorded" in paths.html.read_text()
    assert load_report_data(run_dir).verdict == "PARTIAL"


def test_why_the_steady_state_deviated_is_in_every_report(run_factory: MakeRun) -> None:
    run_dir = run_factory(deviated=True)
    summary = json.loads((run_dir / "summary.json").read_text())
    why = ("after the method: p95-latency-within-slo: p95 567 ms > 500 ms over the last 3 s (45 requests); the load "
           "generator's own loop lagged up to 142 ms in that window")
    (run_dir / "summary.json").write_text(json.dumps({**summary, "deviations": [why]}))
    paths = write_reports(run_dir, record_history=False)
    assert _cases(paths.junit)["steady-state-hypothesis"] == (
        f"the steady state deviated: the hypothesis was not met after the method; {why}")
    assert html.escape(why) in paths.html.read_text()
    assert f"the steady state deviated ({why})" in paths.markdown.read_text()
