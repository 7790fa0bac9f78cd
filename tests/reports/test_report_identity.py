"""The identity ledger in the reports: a section in report.html and report.md from the run folder's
``identity_rpo`` measurement (or the summary's figures), "unknown" for what was not measured, none without one;
its figures judged as objectives and kept in the history."""

from __future__ import annotations

import json
from pathlib import Path

from aftershock.core.figures import Figures
from aftershock.core.identity_rpo import IdentityRpoMeasurement
from aftershock.core.measurements import read_measurements, record_measurement
from aftershock.core.runfolder import RunFolder
from aftershock.reports.history import HistoryStore
from aftershock.reports.identity import identity_sections
from aftershock.reports.trend import render_trend
from aftershock.reports.write import write_reports
from tests.reports.reportkit import START, MakeRun

FAILOVER = START + 8.0
MEASURED = IdentityRpoMeasurement(
    ts=START + 12.0, region="us-west-2", run_id="r1", migration="reset", failover_at=FAILOVER, attempted=41,
    acknowledged=40, kept=37, lost=3, lost_seqs=(38, 39, 40), after_last_export=3, last_export_at=FAILOVER - 2.25,
    rpo_s=2.25, signed_in=37, login_attempts=40, login_failure_rate=0.075, sessions_replayed=20,
    sessions_rejected=20, rejected_for_s=3.125, rejected_at_end=True, cleaned=77)


def _with_identity(run_dir: Path, measured: IdentityRpoMeasurement) -> Path:
    """A finished run whose summary's figures are built from its measurements, the identity read-back included."""
    run = RunFolder(run_dir)
    record_measurement(run, measured)
    summary = json.loads((run_dir / "summary.json").read_text())
    figures = Figures.from_measurements(read_measurements(run)).to_dict()
    summary["figures"] = {**summary["figures"], **{k: v for k, v in figures.items() if k != "traffic"}}
    summary["objectives"].append({"name": "identity_rpo_s", "target": 10.0, "measured": figures["identity_rpo_s"],
                                  "met": True, "unit": "s"})
    (run_dir / "summary.json").write_text(json.dumps(summary))
    return run_dir


def test_both_reports_show_the_identity_ledger(run_factory: MakeRun, tmp_path: Path) -> None:
    run_dir = _with_identity(run_factory(), MEASURED)
    with HistoryStore(tmp_path / "history.sqlite") as history:
        paths = write_reports(run_dir, history=history)
        [recorded] = history.runs()
        trend = render_trend(history.entries())
    html, markdown = paths.html.read_text(), paths.markdown.read_text()
    for text in (html, markdown):
        assert "Identity ledger (read back at the standby user pool in us-west-2)" in text
        assert "users lost at the standby (identity RPO count)" in text and "3 of 40 (#38, #39, #40)" in text
        assert "identity RPO (failover - last completed export)" in text and "2.250 s" in text
        assert "2.250 s before the failover" in text  # the window since the last completed export
        assert "reset: passwords do not travel" in text  # the migration path the target declares
        assert "sign-in success at the standby" in text and "37 of 40 (92.5 %)" in text
        assert "sessions rejected (forced re-logins)" in text and "20 of 20 (100.0 %)" in text
        assert "3.125 s (still rejected when the probe stopped)" in text
        assert "Identity RPO (loss window of users at the standby pool)" in text  # the objective's label
    assert (recorded.figure("identity_rpo_s"), recorded.figure("identity_lost")) == (2.25, 3.0)
    assert (recorded.figure("rejected_session_rate"), recorded.figure("login_failure_rate")) == (1.0, 0.075)
    assert 'data-chart="trend-identity_rpo_s"' in trend and 'data-chart="trend-identity_lost"' in trend


def test_a_partial_run_shows_the_section_from_its_measurement(run_factory: MakeRun) -> None:
    run_dir = run_factory(partial=True)  # killed: no summary, figures from measurements.jsonl
    record_measurement(RunFolder(run_dir), MEASURED)
    markdown = write_reports(run_dir, record_history=False).markdown.read_text()
    assert "PARTIAL" in markdown and "users lost at the standby (identity RPO count) 3 of 40" in markdown


def test_what_was_not_measured_reads_unknown() -> None:
    unknown = IdentityRpoMeasurement(ts=0.0, region="us-west-2", migration="migration-trigger", attempted=5,
                                     acknowledged=5, kept=5, signed_in=0, login_attempts=0)
    [(_, rows)] = identity_sections({"identity": unknown.fields()})
    found = dict(rows)
    assert found["identity RPO (failover - last completed export)"] == "unknown"
    assert found["predicted lost by the export schedule"] == "unknown"
    assert found["last completed export at the standby"] == "unknown (the target declares no export marker)"
    assert found["sign-in success at the standby"] == "unknown"
    assert found["sessions rejected for (from the failover)"] == "unknown (no session replayed)"
    assert found["migration path (declared by the target)"].startswith("migration-trigger: the standby pool's")


def test_a_run_without_an_identity_ledger_has_no_section(run_factory: MakeRun) -> None:
    paths = write_reports(run_factory(), record_history=False)
    for text in (paths.html.read_text(), paths.markdown.read_text()):
        assert "Identity ledger" not in text and "identity RPO" not in text
    assert identity_sections({"rto_s": 1.0}) == []
