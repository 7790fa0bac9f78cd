"""The lab's append-only event log (JSON lines with epoch timestamps).

Every fault and every state change goes here: ``{"ts": 1732190000.123, "kind": "pod.ready", ...}``.
Kinds are dotted: ``pod.started``, ``pod.ready``, ``pod.died``, ``db.promoted``, ``dial.changed``,
``hpa.decision``, ``fault.injected``, ``fault.reverted``, ...
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class Emit(Protocol):
    """Anything that records an event: ``emit("pod.died", pod="p1", exit_code=-9)``."""

    def __call__(self, kind: str, /, **fields: Any) -> None: ...


@dataclass(frozen=True)
class Event:
    ts: float
    kind: str
    fields: dict[str, Any]


class EventLog:
    """Appends events to a JSON-lines file; safe to call from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def __call__(self, kind: str, /, **fields: Any) -> None:
        self.emit(kind, **fields)

    def emit(self, kind: str, /, **fields: Any) -> None:
        record = {"ts": round(time.time(), 6), "kind": kind, **fields}
        line = json.dumps(record, default=str, separators=(",", ":")) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)


def read_events(path: Path, since: float = 0.0) -> Iterator[Event]:
    """Yield the events of a log written by :class:`EventLog`, oldest first."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break  # a line still being written
            record = json.loads(line)
            ts = float(record.pop("ts"))
            if ts < since:
                continue
            kind = str(record.pop("kind"))
            yield Event(ts=ts, kind=kind, fields=record)
