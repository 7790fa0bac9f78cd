"""``aftershock report`` and ``aftershock history`` through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from aftershock.cli.report import history_command, report_command
from aftershock.core.errors import UsageError
from tests.reports.reportkit import MakeRun


def _cli() -> click.Group:
    group = click.Group("aftershock")
    group.add_command(report_command, "report")
    group.add_command(history_command, "history")
    return group


def test_report_writes_the_three_files_and_records(run_factory: MakeRun, _isolated_home: Path) -> None:
    run_dir = run_factory(rto_s=14.0)
    result = CliRunner().invoke(_cli(), ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "FAILED pod-kill on lab - rto_s: measured 14 s > target 10 s"
    assert {p.name for p in run_dir.iterdir()} >= {"report.html", "report.md", "junit.xml"}
    assert (_isolated_home / "history.sqlite").exists()


def test_report_no_history_and_out(run_factory: MakeRun, tmp_path: Path, _isolated_home: Path) -> None:
    result = CliRunner().invoke(_cli(), ["report", str(run_factory(partial=True)), "--no-history",
                                         "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("PARTIAL pod-kill on lab")
    assert (tmp_path / "out" / "report.html").exists()
    assert not (_isolated_home / "history.sqlite").exists()


def test_report_of_a_missing_folder_names_the_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(_cli(), ["report", str(tmp_path / "nope")])
    assert isinstance(result.exception, UsageError)
    assert str(result.exception) == (f"{tmp_path / 'nope'} is not a run folder: pass a folder under runs/ "
                                     "(made by `aftershock run`)")


def test_history_table_flags_and_trend(run_factory: MakeRun, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    for rto in (4.0, 4.2, 3.9, 4.1, 9.5):
        CliRunner().invoke(_cli(), ["report", str(run_factory(rto_s=rto))])
    trend = tmp_path / "trend.html"
    result = CliRunner().invoke(_cli(), ["history", "--scenario", "pod-kill", "--trend", str(trend)])
    assert result.exit_code == 0, result.output
    assert "pod-kill on lab" in result.output
    assert "rto_s 9.5 > 6.05" in result.output
    assert result.output.count("20261121T1226") == 5
    assert 'data-kind="regression"' in trend.read_text()


def test_history_empty(tmp_path: Path) -> None:
    result = CliRunner().invoke(_cli(), ["history", "--db", str(tmp_path / "h.sqlite")])
    assert result.exit_code == 0
    assert result.output.strip() == "no run recorded yet: `aftershock report RUN_FOLDER` records one"
