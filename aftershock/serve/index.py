"""The runs folder as the console lists it: run folders and game days (with their steps), newest first."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

LIVE_S = 30.0
"""A run without a summary whose files changed this recently is shown as live."""


@dataclass(frozen=True)
class RunEntry:
    rel: str
    scenario: str
    started_at: float
    state: str
    """``live``, ``passed``, ``failed``, ``interrupted``, ``unfinished`` or ``game day``."""
    steps: tuple[RunEntry, ...] = ()


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _run(path: Path, base: Path, now: float) -> RunEntry:
    meta, summary = _json(path / "run.json"), _json(path / "summary.json")
    if summary:
        state = "interrupted" if summary.get("status") == "interrupted" else (
            "passed" if summary.get("passed") else "failed")
    else:
        newest = max((p.stat().st_mtime for p in path.glob("*.jsonl")), default=0.0)
        state = "live" if now - newest < LIVE_S else "unfinished"
    return RunEntry(path.relative_to(base).as_posix(), str(meta.get("scenario") or path.name),
                    float(meta.get("started_at") or path.stat().st_mtime), state)


def list_runs(base: Path, *, limit: int = 200) -> list[RunEntry]:
    now = time.time()
    entries = []
    for path in base.iterdir() if base.is_dir() else ():
        if (path / "run.json").is_file():
            entries.append(_run(path, base, now))
        elif (path / "gameday.json").is_file():
            record = _json(path / "gameday.json")
            steps = tuple(_run(p.parent, base, now) for p in sorted((path / "steps").glob("*/run.json")))
            entries.append(RunEntry(path.relative_to(base).as_posix(), f"game day: {record.get('title')}",
                                    float(record.get("started_at") or 0.0), "game day", steps))
    return sorted(entries, key=lambda e: e.started_at, reverse=True)[:limit]


def _row(entry: RunEntry, indent: str = "") -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.started_at))
    cls = {"live": "warn", "passed": "good", "failed": "bad", "interrupted": "bad"}.get(entry.state, "dim")
    link = (f"<a href='/run/{escape(entry.rel)}'>{escape(entry.rel)}</a>" if entry.state != "game day"
            else f"<code>{escape(entry.rel)}</code>")
    return (f"<tr><td>{when}</td><td>{indent}{escape(entry.scenario)}</td><td class='{cls}'>{entry.state}</td>"
            f"<td>{link}</td></tr>")


def render_index(entries: list[RunEntry]) -> str:
    rows = []
    for entry in entries:
        rows.append(_row(entry))
        rows.extend(_row(step, "&nbsp;&nbsp;↳ ") for step in entry.steps)
    body = "".join(rows) or "<tr><td colspan=4 class=dim>no run yet</td></tr>"
    return ("<h1>Runs</h1><table><tr><th>started (UTC)</th><th>scenario</th><th>state</th><th>folder</th></tr>"
            f"{body}</table>")


__all__ = ["RunEntry", "list_runs", "render_index"]
