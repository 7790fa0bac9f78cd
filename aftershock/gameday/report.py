"""The game-day report: ``gameday.html`` and ``gameday.md`` in the game-day folder.

One section per step (status, notes, abort, a link to the step's run report) and one table with every
objective of every step. Built only from ``gameday.json`` and each step's ``summary.json``.

Example::

    paths = write_gameday_report(Path("runs/20261121T130000Z-gameday-chaos-day"))
    paths[0]  # .../gameday.html
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aftershock.gameday.record import GameDayRecord, StepRecord, read_record
from aftershock.gameday.scribe import notes_html, notes_markdown, read_notes


@dataclass(frozen=True)
class ObjectiveRow:
    name: str
    target: float
    measured: float | None
    met: bool
    unit: str

    def cells(self) -> tuple[str, str, str, str]:
        measured = "not measured" if self.measured is None else f"{self.measured:g} {self.unit}"
        return self.name, f"<= {self.target:g} {self.unit}", measured, "yes" if self.met else "NO"


@dataclass(frozen=True)
class StepView:
    step: StepRecord
    objectives: tuple[ObjectiveRow, ...]
    report: str | None  # relative link to the run's report.html
    verdict: str | None

    @property
    def outcome(self) -> str:
        """One line: what became of the step."""
        step = self.step
        if step.abort is not None:
            return step.abort.describe()
        if step.status == "skipped":
            return "skipped by the operator"
        if step.status == "not run":
            return "not run: the day was stopped before it"
        if step.status == "pending":
            return "not reached yet"
        if step.status == "error":
            return f"error: {step.error or 'the run failed'}"
        return self.verdict or step.status


def _summary(folder: Path, step: StepRecord) -> dict[str, Any] | None:
    if not step.run_folder:
        return None
    try:
        data: dict[str, Any] = json.loads((folder / step.run_folder / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    return data


def step_view(folder: Path, step: StepRecord) -> StepView:
    summary = _summary(folder, step) or {}
    rows = tuple(ObjectiveRow(str(o["name"]), float(o["target"]), None if o.get("measured") is None
                              else float(o["measured"]), bool(o["met"]), str(o.get("unit") or ""))
                 for o in summary.get("objectives") or [])
    report = None
    if step.run_folder and (folder / step.run_folder / "report.html").exists():
        report = f"{step.run_folder}/report.html"
    return StepView(step, rows, report, _verdict(summary, rows) if summary else None)


def _verdict(summary: dict[str, Any], rows: tuple[ObjectiveRow, ...]) -> str:
    if summary.get("passed"):
        return "every objective met"
    problems = []
    missed = [row.name for row in rows if not row.met]
    if missed:
        problems.append(f"missed {', '.join(missed)}")
    if summary.get("status") != "completed":
        problems.append(f"status {summary.get('status')}")
    if summary.get("deviated"):
        problems.append("steady state deviated")
    problems += [str(e) for e in summary.get("errors") or []]
    return "; ".join(problems) or "failed"


def _when(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def _counts(views: list[StepView]) -> str:
    counts: dict[str, int] = {}
    for view in views:
        counts[view.step.status] = counts.get(view.step.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in counts.items())


def render_markdown(record: GameDayRecord, views: list[StepView]) -> str:
    lines = [f"# Game day: {record.title}", "",
             f"Plan `{record.plan}`, started {_when(record.started_at)}, ended {_when(record.ended_at)}"
             f"{' (unattended)' if record.unattended else ''}{', stopped by the operator' if record.stopped else ''}.",
             "", f"Steps: {_counts(views)}.", ""]
    if record.notes:
        lines += [record.notes.strip(), ""]
    lines += ["## Objectives", "", "| step | experiment | objective | target | measured | met |",
              "|---|---|---|---|---|---|"]
    for view in views:
        label = f"{view.step.index}. {view.step.title}"
        if not view.objectives:
            lines.append(f"| {label} | {view.step.experiment} | - | - | - | {view.step.status} |")
        for row in view.objectives:
            lines.append(f"| {label} | {view.step.experiment} | {' | '.join(row.cells())} |")
    lines.append("")
    for view in views:
        step = view.step
        lines += [f"## Step {step.index}: {step.title}", "",
                  f"- experiment: `{step.experiment}` on target `{step.target}`",
                  f"- status: **{step.status}**: {view.outcome}",
                  f"- started {_when(step.started_at)}, ended {_when(step.ended_at)}"]
        if view.report:
            lines.append(f"- run report: [{view.report}]({view.report})")
        elif step.run_folder:
            lines.append(f"- run folder: `{step.run_folder}`")
        if step.notes:
            lines.append(f"- notes: {step.notes.strip()}")
        lines.append("")
    return "\n".join(lines)


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
th{background:#f4f4f4}.met{color:#176f2c}.missed,.aborted,.error,.failed{color:#b00020;font-weight:bold}
.skipped,.notrun,.pending{color:#777}.passed{color:#176f2c;font-weight:bold}.notes{white-space:pre-wrap}"""


def _e(value: object) -> str:
    return html.escape(str(value))


def render_html(record: GameDayRecord, views: list[StepView]) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>Game day: {_e(record.title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>Game day: {_e(record.title)}</h1>",
             f"<p>Plan <code>{_e(record.plan)}</code>, started {_e(_when(record.started_at))}, ended "
             f"{_e(_when(record.ended_at))}{' (unattended)' if record.unattended else ''}"
             f"{', stopped by the operator' if record.stopped else ''}. Steps: {_e(_counts(views))}.</p>"]
    if record.notes:
        parts.append(f"<p class='notes'>{_e(record.notes.strip())}</p>")
    parts.append("<h2>Objectives</h2><table><tr><th>step</th><th>experiment</th><th>objective</th><th>target</th>"
                 "<th>measured</th><th>met</th></tr>")
    for view in views:
        label = _e(f"{view.step.index}. {view.step.title}")
        status_class = view.step.status.replace(" ", "")
        if not view.objectives:
            parts.append(f"<tr><td>{label}</td><td>{_e(view.step.experiment)}</td><td colspan='3'>-</td>"
                         f"<td class='{status_class}'>{_e(view.step.status)}</td></tr>")
        for row in view.objectives:
            name, target, measured, met = row.cells()
            parts.append(f"<tr><td>{label}</td><td>{_e(view.step.experiment)}</td><td>{_e(name)}</td>"
                         f"<td>{_e(target)}</td><td>{_e(measured)}</td>"
                         f"<td class='{'met' if row.met else 'missed'}'>{_e(met)}</td></tr>")
    parts.append("</table>")
    for view in views:
        step = view.step
        parts.append(f"<h2>Step {step.index}: {_e(step.title)}</h2><ul>"
                     f"<li>experiment <code>{_e(step.experiment)}</code> on target <code>{_e(step.target)}</code></li>"
                     f"<li>status <span class='{step.status.replace(' ', '')}'>{_e(step.status)}</span>: "
                     f"{_e(view.outcome)}</li>"
                     f"<li>started {_e(_when(step.started_at))}, ended {_e(_when(step.ended_at))}</li>")
        if view.report:
            parts.append(f"<li>run report: <a href='{_e(view.report)}'>{_e(view.report)}</a></li>")
        elif step.run_folder:
            parts.append(f"<li>run folder: <code>{_e(step.run_folder)}</code></li>")
        if step.notes:
            parts.append(f"<li>notes: <span class='notes'>{_e(step.notes.strip())}</span></li>")
        parts.append("</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)


def write_gameday_report(folder: Path) -> tuple[Path, Path]:
    """Write ``gameday.html`` and ``gameday.md`` of the game-day ``folder``; their paths."""
    record = read_record(folder)
    views = [step_view(folder, step) for step in record.steps]
    html_path, md_path = folder / "gameday.html", folder / "gameday.md"
    notes = read_notes(folder)  # the scribe's, typed in the web console
    page = render_html(record, views).replace("</body></html>\n", notes_html(notes) + "</body></html>\n")
    for path, text in ((html_path, page), (md_path, render_markdown(record, views) + notes_markdown(notes))):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return html_path, md_path
