"""The Locust master's record of its workers (``workers.jsonl`` in the run folder), read without Locust.

Written by :mod:`aftershock.loadtests.workers` on the master, one line per change::

    {"ts": 1735689600.12, "worker": "host-a_5f3e...", "event": "joined"}
    {"ts": 1735689631.40, "worker": "host-a_5f3e...", "event": "lost", "state": "missing"}
    {"ts": 1735689601.02, "worker": "host-a_5f3e...", "event": "clock", "offset_ms": 3.1, "reports": 4}

``clock`` lines carry the master's estimate of the worker's clock offset (worker minus master, to within the
smallest one-way delay of its reports); the last one per worker counts.
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
    """``joined``, ``lost`` or ``clock``."""
    state: str = ""
    offset_ms: float | None = None


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
            offset = data.get("offset_ms")
            events.append(WorkerEvent(float(data["ts"]), str(data["worker"]), str(data["event"]),
                                      str(data.get("state", "")), None if offset is None else float(offset)))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by a crash of the master
    return events


def clock_offsets_ms(events: list[WorkerEvent]) -> dict[str, float]:
    """The latest clock offset estimate of each worker (workers with no estimate are absent)."""
    return {e.worker: e.offset_ms for e in events if e.event == "clock" and e.offset_ms is not None}


def largest_clock_offset_ms(folder: Path) -> float | None:
    """The largest absolute clock offset of the run's workers; None: no distributed load (or no estimate)."""
    offsets = clock_offsets_ms(read_worker_events(folder))
    return max((abs(v) for v in offsets.values()), default=None)


__all__ = ["WORKERS_FILE", "WorkerEvent", "clock_offsets_ms", "largest_clock_offset_ms", "read_worker_events"]
