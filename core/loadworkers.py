"""The Locust master's record of its workers (``workers.jsonl`` in the run folder), read without Locust.

Written by :mod:`aftershock.loadtests.workers` on the master, one line per change::

    {"ts": 1735689600.12, "worker": "host-a_5f3e...", "event": "joined"}
    {"ts": 1735689631.40, "worker": "host-a_5f3e...", "event": "lost", "state": "missing"}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

WORKERS_FILE = "workers.jsonl"


@dataclass(frozen=True)
class WorkerEvent:
    ts: float
    worker: str
    event: str
    """``joined`` or ``lost``."""
    state: str = ""


def read_worker_events(folder: Path) -> list[WorkerEvent]:
    """The events of ``folder/workers.jsonl`` in file order (none without the file; bad lines are skipped)."""
    try:
        text = (folder / WORKERS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    events = []
    for line in text.splitlines():
        try:
            data = json.loads(line)
            events.append(WorkerEvent(float(data["ts"]), str(data["worker"]), str(data["event"]),
                                      str(data.get("state", ""))))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by a crash of the master
    return events


__all__ = ["WORKERS_FILE", "WorkerEvent", "read_worker_events"]
