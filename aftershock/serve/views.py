"""The console's pages around their panels: run, game day, scorecards."""

from __future__ import annotations

from html import escape
from pathlib import Path

from aftershock.core.errors import AftershockError
from aftershock.reports.history import HistoryStore
from aftershock.serve.dayview import RUN_PREFIX
from aftershock.serve.gameday import DayControl
from aftershock.serve.pages import csrf_field, page
from aftershock.serve.runview import run_layout
from aftershock.serve.scorecard import render_scorecard, scenario_cards


def run_page(rel: str, panels: dict[str, str]) -> str:
    body = f"<p class='dim'>run folder <code>{escape(rel)}</code></p>" + run_layout(panels)
    return page(rel, body, stream=f"/events/run/{rel}")


def day_page(panels: dict[str, str], csrf: str, plans: list[str], control: DayControl) -> str:
    start = ""
    if not control.running:
        options = "".join(f"<option>{escape(name)}</option>" for name in plans)
        start = (f"<form method='post' action='/gameday/start' class='box'>{csrf_field(csrf)}<h3>Start a game day"
                 f"</h3><select name='plan' id='plan'>{options}</select> <button id='start'>start</button></form>")
    note = (f"<form method='post' action='/gameday/note' class='box noprint'>{csrf_field(csrf)}<h3>Scribe's "
            "notes (kept in the game-day folder, shown in its report)</h3><textarea name='text' id='note-text'>"
            "</textarea><button id='note-save'>save note</button></form>")

    def div(key: str) -> str:
        return f"<div id='{key}'>{panels.get(key, '')}</div>"

    body = (start + div("day") + div("abort") + div("steps") + note + div("notes")
            + f"<h2 id='{RUN_PREFIX}name'>{panels.get(RUN_PREFIX + 'name', '')}</h2>"
            + run_layout(panels, RUN_PREFIX))
    return page("game day", body, stream="/events/gameday")


def _store(history_db: Path | None) -> HistoryStore:
    return HistoryStore(history_db) if history_db is not None else HistoryStore.default()


def scorecards_index(history_db: Path | None) -> str:
    with _store(history_db) as store:
        targets = sorted({run.target for run in store.runs()})
    links = "".join(f"<li><a href='/scorecard/{escape(t)}'>{escape(t)}</a></li>" for t in targets)
    return f"<h1>Scorecards</h1><ul>{links or '<li class=dim>no run recorded yet</li>'}</ul>"


def scorecard_page(history_db: Path | None, target: str) -> str:
    try:
        with _store(history_db) as store:
            entries = store.entries(target=target)
    except (AftershockError, OSError) as exc:
        return f"<p class='bad'>cannot read the run history: {escape(str(exc))}</p>"
    return render_scorecard(target, scenario_cards(entries, target))


__all__ = ["day_page", "run_page", "scorecard_page", "scorecards_index"]
