"""``aftershock report`` and ``aftershock history``.

Example::

    aftershock report runs/20261121T122845Z-pod-kill            # report.html, report.md, junit.xml
    aftershock history --scenario pod-kill --trend trend.html
"""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.table import Table

from aftershock.console import stdout
from aftershock.core.errors import UsageError
from aftershock.core.figures import with_error
from aftershock.reports.history import HistoryEntry, HistoryStore
from aftershock.reports.trend import render_trend
from aftershock.reports.write import ReportPaths, write_reports


def _fmt(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:g} {unit}"


@click.command()
@click.argument("run_folder", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder for the reports (default: the run folder).")
@click.option("--history/--no-history", "record_history", default=True, show_default=True,
              help="Record the run in the history store ($AFTERSHOCK_HOME/history.sqlite).")
@click.option("--pdf", is_flag=True, help="Also print report.pdf with headless Chromium (when installed).")
def report_command(run_folder: Path, out_dir: Path | None, record_history: bool, pdf: bool) -> None:
    """Write report.html, report.md and junit.xml for RUN_FOLDER (also a partial one) and record it."""
    if not run_folder.is_dir():
        raise UsageError(f"{run_folder} is not a run folder: pass a folder under runs/ (made by `aftershock run`)")
    if pdf:
        from aftershock.serve.pdf import find_chromium

        if find_chromium() is None:  # checked before anything is written
            raise UsageError("--pdf needs headless Chromium: install it (apt-get install -y chromium), or leave "
                             "--pdf out and print report.html from a browser")
    paths = write_reports(run_folder, record_history=record_history, out_dir=out_dir)
    console = stdout()
    colour = {"PASSED": "green", "FAILED": "red", "PARTIAL": "yellow"}[paths.data.verdict]
    console.print(f"[bold {colour}]{paths.data.verdict}[/] {paths.data.headline.partition(': ')[2]}",
                  highlight=False)
    for path in (paths.html, paths.markdown, paths.junit):
        console.print(f"wrote {path}", highlight=False)
    if pdf:
        from aftershock.serve.pdf import print_pdf

        console.print(f"wrote {print_pdf(paths.html, paths.html.with_suffix('.pdf'))}", highlight=False)
    for regression in paths.regressions:
        console.print(f"[bold red]regression:[/] {regression}", highlight=False)


def _rto(value: float | None, error: float | None) -> str:
    return "-" if value is None else with_error(value, error)


def _history_table(scenario: str, target: str, entries: list[HistoryEntry]) -> Table:
    table = Table(title=f"{scenario} on {target}")
    for column in ("date (UTC)", "run", "passed", "RTO", "RPO", "lost writes", "regressions"):
        table.add_column(column)
    for entry in entries:
        run = entry.run
        passed = "[yellow]partial[/]" if run.partial else ("[green]yes[/]" if run.passed else "[red]no[/]")
        flags = ", ".join(f"{r.figure} {r.value:g} > {r.limit:g}" for r in entry.regressions)
        table.add_row(time.strftime("%Y-%m-%d %H:%M", time.gmtime(run.started_at)), run.run_id, passed,
                      _rto(run.figure("rto_s"), run.figure("rto_error_s")), _fmt(run.figure("rpo_s"), "s"),
                      _fmt(run.figure("lost_writes"), ""), f"[bold red]{flags}[/]" if flags else "")
    return table


@click.command()
@click.option("--scenario", default=None, help="Only this scenario.")
@click.option("--target", default=None, help="Only this target (e.g. lab).")
@click.option("--trend", "trend_file", type=click.Path(path_type=Path), default=None,
              help="Also write the trend page (RTO/RPO over time) to this HTML file.")
@click.option("--db", type=click.Path(path_type=Path), default=None,
              help="History store (default: $AFTERSHOCK_HOME/history.sqlite).")
def history_command(scenario: str | None, target: str | None, trend_file: Path | None, db: Path | None) -> None:
    """Show recorded runs per scenario and target, with regression flags."""
    with HistoryStore(db) if db is not None else HistoryStore.default() as store:
        entries = store.entries(scenario=scenario, target=target)
    console = stdout()
    if not entries:
        console.print("no run recorded yet" + (" for that filter" if scenario or target else "")
                      + ": `aftershock report RUN_FOLDER` records one")
    groups: dict[tuple[str, str], list[HistoryEntry]] = {}
    for entry in entries:
        groups.setdefault((entry.run.scenario, entry.run.target), []).append(entry)
    for (group_scenario, group_target), group in sorted(groups.items()):
        console.print(_history_table(group_scenario, group_target, group))
    if trend_file is not None:
        trend_file.parent.mkdir(parents=True, exist_ok=True)
        trend_file.write_text(render_trend(entries), encoding="utf-8")
        console.print(f"wrote {trend_file}", highlight=False)


__all__ = ["ReportPaths", "history_command", "report_command", "write_reports"]
