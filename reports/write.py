"""Write every report of a run folder: ``report.html``, ``report.md``, ``junit.xml``, and record the history.

Example::

    paths = write_reports(Path("runs/20261121T122845Z-pod-kill"))
    paths.html  # .../report.html
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from aftershock.reports.history import HistoryStore, Regression
from aftershock.reports.html import render_html
from aftershock.reports.junit import render_junit
from aftershock.reports.markdown import render_markdown
from aftershock.reports.model import ReportData, load_report_data


@dataclass(frozen=True)
class ReportPaths:
    """Where the reports of one run were written, and what the history said about it."""

    html: Path
    markdown: Path
    junit: Path
    data: ReportData
    regressions: tuple[Regression, ...] = ()


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(content)
    tmp.replace(path)


def write_reports(run_dir: Path, *, record_history: bool = True, out_dir: Path | None = None,
                  history: HistoryStore | None = None) -> ReportPaths:
    """Render the reports of ``run_dir`` into ``out_dir`` (default: the run folder) and record the run in the
    history store (default ``$AFTERSHOCK_HOME/history.sqlite``) unless ``record_history`` is false.

    A partial run folder (no summary or journal) still gets its reports, marked PARTIAL; it is recorded in
    the history as partial and never used as a baseline.
    """
    data = load_report_data(Path(run_dir))
    target_dir = Path(out_dir) if out_dir is not None else data.run_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(target_dir / "report.html", target_dir / "report.md", target_dir / "junit.xml", data)
    _write(paths.html, render_html(data).encode("utf-8"))
    _write(paths.markdown, render_markdown(data).encode("utf-8"))
    _write(paths.junit, render_junit(data))
    if not record_history:
        return paths
    store = history or HistoryStore.default()
    try:
        regressions = store.record(data)
    finally:
        if history is None:
            store.close()
    return ReportPaths(paths.html, paths.markdown, paths.junit, data, tuple(regressions))


__all__ = ["ReportPaths", "write_reports"]
