"""The game-day page's panels: the day, its steps (each step's plan and notes before it runs, go / skip / stop
for the step waiting), the big abort button while a step runs, the scribe's notes, and the running step's live
run view (the run panels, prefixed ``run-``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from html import escape
from pathlib import Path

from aftershock.gameday.dashboard import find_run
from aftershock.gameday.record import read_record
from aftershock.gameday.scribe import read_notes
from aftershock.serve.gameday import DayControl
from aftershock.serve.live import LiveRun
from aftershock.serve.pages import csrf_field
from aftershock.serve.runview import run_panels

RUN_PREFIX = "run-"


def _form(action: str, csrf: str, buttons: str) -> str:
    return f"<form method='post' action='{action}'>{csrf_field(csrf)}{buttons}</form>"


def _decision(control: DayControl, csrf: str, index: int) -> str:
    question = control.operator.question if control.operator else None
    if question is None:
        return ""
    if question.kind == "decide" and question.label.startswith(f"step {index} "):
        return _form("/gameday/decide", csrf, "".join(
            f"<button name='answer' value='{v}' id='decide-{v}'>{v}</button>" for v in ("go", "skip", "stop")))
    return ""


def _steps(control: DayControl, csrf: str) -> str:
    day = control.day
    if day is None:
        return ""
    record = read_record(day.folder.path)
    parts = []
    for prepared, step in zip(day.steps, record.steps, strict=True):
        buttons = _decision(control, csrf, step.index)
        plan = "\n".join(prepared.plan_lines[:-1])
        outcome = f" · {escape(step.abort.describe())}" if step.abort else ""
        parts.append(f"<div class='step{' current' if buttons or step.status == 'running' else ''}' "
                     f"data-step='{step.index}' data-status='{escape(step.status)}'>"
                     f"<b>step {step.index}: {escape(step.title)}</b> · <span class='status-word'>"
                     f"{escape(step.status)}</span>{outcome}"
                     + (f"<div><i>notes for the room:</i> {escape(step.notes.strip())}</div>" if step.notes else "")
                     + (f"<details{' open' if buttons else ''}><summary>what will be done</summary>"
                        f"<pre>{escape(plan)}</pre></details>" if step.status in ("pending", "running") else "")
                     + buttons + "</div>")
    return "".join(parts)


def _day(control: DayControl, csrf: str) -> str:
    day = control.day
    if day is None:
        return f"<p class='bad'>{escape(control.error)}</p>" if control.error else "<p class='dim'>no game day yet</p>"
    record = read_record(day.folder.path)
    state = "running" if control.running else f"ended (exit code {control.exit_code})"
    parts = [f"<h2 id='day-title'>{escape(record.title)}</h2><p>{escape(state)} · folder "
             f"<code>{escape(str(day.folder.path))}</code> · terminal view: <code>aftershock watch "
             f"{escape(str(day.folder.path))}</code></p>"]
    if record.notes:
        parts.append(f"<p><i>{escape(record.notes.strip())}</i></p>")
    if control.error:
        parts.append(f"<p class='bad'>{escape(control.error)}</p>")
    question = control.operator.question if control.operator else None
    if question is not None and question.kind == "continue":
        parts.append(f"<p class='warn'>{escape(question.label)}</p>" + _form("/gameday/decide", csrf, "".join(
            f"<button name='answer' value='{v}' id='continue-{v}'>{v}</button>" for v in ("yes", "no"))))
    if not control.running and (day.folder.path / "gameday.html").exists():
        parts.append("<p>game-day report: <code>gameday.html</code> in the folder above</p>")
    return "".join(parts)


def _abort(control: DayControl, csrf: str) -> str:
    """While a step runs: ABORT (roll its fault back; the day goes on if the room says so) and stop the day
    (abort the step and run no further one)."""
    if not control.step_running():
        return ""
    stopping = control.operator is not None and control.operator.stopping
    abort = "<button class='abort' id='abort-step'>ABORT: roll the fault back now</button>"
    return (_form("/gameday/abort", csrf, abort)
            + ("<p class='warn' id='stopping'>stopping the day: the step is rolled back, no further step runs</p>"
               if stopping else _form("/gameday/stop", csrf, "<button id='stop-day'>stop the day</button>")))


def _notes(control: DayControl) -> str:
    if control.day is None:
        return ""
    notes = read_notes(control.day.folder.path)
    items = "".join(f"<li>{time.strftime('%H:%M:%S', time.gmtime(n.ts))} "
                    f"{'step ' + str(n.step) if n.step else 'between steps'}: {escape(n.text)}</li>" for n in notes)
    return f"<ul id='scribe-notes'>{items}</ul>" if items else "<p class='dim'>no notes yet</p>"


def current_run(control: DayControl) -> Path | None:
    """The run folder of the day's running (or last) step."""
    if control.day is None:
        return None
    run = find_run(control.day.folder.steps_dir)
    return run.path if run is not None else None


def day_panels(control: DayControl, csrf: str, live: Callable[[Path], LiveRun]) -> dict[str, str]:
    panels = {"day": _day(control, csrf), "steps": _steps(control, csrf), "abort": _abort(control, csrf),
              "notes": _notes(control)}
    path = current_run(control)
    if path is not None:
        panels.update({RUN_PREFIX + key: html for key, html in run_panels(live(path).state()).items()})
        panels["run-name"] = f"step run <code>{escape(path.name)}</code>"
    return panels


__all__ = ["RUN_PREFIX", "current_run", "day_panels"]
