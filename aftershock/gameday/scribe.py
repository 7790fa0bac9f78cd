"""The scribe's notes of a game day: ``scribe.jsonl`` in the game-day folder, one note a line, shown in the
game-day report under the step that was current when it was written (0: before the first step or between days).

Example::

    add_note(folder, "writer moved to us-east-1b after 9 s; dashboards lagged", step=1, by="console")
    [n.text for n in read_notes(folder)]
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SCRIBE_FILE = "scribe.jsonl"
MAX_NOTE_CHARS = 4000


@dataclass(frozen=True)
class Note:
    ts: float
    step: int
    text: str
    by: str = "scribe"


def add_note(folder: Path, text: str, *, step: int, by: str = "scribe") -> Note:
    """Append a note (stripped, at most :data:`MAX_NOTE_CHARS`); ``ValueError`` for an empty one."""
    text = text.strip()[:MAX_NOTE_CHARS]
    if not text:
        raise ValueError("the note is empty: type something before saving it")
    note = Note(time.time(), step, text, by)
    with (folder / SCRIBE_FILE).open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(note)) + "\n")
    return note


def read_notes(folder: Path) -> list[Note]:
    """Every complete note, in order (unreadable lines skipped)."""
    try:
        lines = (folder / SCRIBE_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError:
        return []
    notes = []
    for line in lines:
        if not line.endswith("\n"):
            break
        try:
            data = json.loads(line)
            notes.append(Note(float(data["ts"]), int(data["step"]), str(data["text"]), str(data.get("by") or "")))
        except (ValueError, KeyError, TypeError):
            continue
    return notes


__all__ = ["MAX_NOTE_CHARS", "SCRIBE_FILE", "Note", "add_note", "read_notes"]


def _label(note: Note) -> str:
    when = time.strftime("%H:%M:%S UTC", time.gmtime(note.ts))
    return f"{when}, {'step ' + str(note.step) if note.step else 'between steps'}"


def notes_markdown(notes: list[Note]) -> str:
    """The report's "Scribe's notes" section (empty without notes)."""
    if not notes:
        return ""
    lines = ["", "## Scribe's notes", ""]
    lines += [f"- {_label(n)} ({n.by}): {' '.join(n.text.split())}" for n in notes]
    return "\n".join(lines) + "\n"


def notes_html(notes: list[Note]) -> str:
    if not notes:
        return ""
    import html

    items = "".join(f"<li><b>{html.escape(_label(n))}</b> ({html.escape(n.by)}): "
                    f"<span class='notes'>{html.escape(n.text)}</span></li>" for n in notes)
    return f"<h2>Scribe's notes</h2><ul class='scribe'>{items}</ul>"
