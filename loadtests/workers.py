"""The master's record of its workers: ``<timeline-dir>/workers.jsonl`` (:mod:`aftershock.core.loadworkers`).

Every 0.5 s the master compares its workers' states with the last look and appends what changed::

    {"ts": 1735689600.12, "worker": "host-a_5f3e...", "event": "joined"}
    {"ts": 1735689631.40, "worker": "host-a_5f3e...", "event": "lost", "state": "missing"}
    {"ts": 1735689601.02, "worker": "host-a_5f3e...", "event": "clock", "offset_ms": 3.1, "reports": 4}

``clock``: the worker's clock offset to the master (:mod:`aftershock.loadtests.clocks`), written when it is first
known and whenever the estimate moves by :data:`CLOCK_STEP_MS` or more.

``lost``: the worker stopped sending heartbeats (Locust marks it missing and, later, removes it) or quit while
the run went on; the load it made is gone from then on. The harness turns these lines into markers.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gevent
from locust.runners import STATE_MISSING, MasterRunner

from aftershock.loadtests.clocks import WorkerClocks

POLL_S = 0.5
CLOCK_STEP_MS = 1.0


class WorkerWatch:
    """Polls a master's workers and appends joins and losses to ``path``."""

    def __init__(self, runner: MasterRunner, path: Path, clocks: WorkerClocks | None = None) -> None:
        self.runner = runner
        self.path = path
        self.clocks = clocks or WorkerClocks()
        self.known: dict[str, str] = {}
        self.offsets: dict[str, float] = {}
        self.greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        self.greenlet = gevent.spawn(self._loop)

    def stop(self, **_kw: Any) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=False)
            self.greenlet = None

    def _loop(self) -> None:
        while True:
            gevent.sleep(POLL_S)
            self.look()

    def look(self) -> None:
        """Record what changed since the last look."""
        now = {node.id: str(node.state) for node in self.runner.clients.values()}
        lines = [{"ts": time.time(), "worker": worker, "event": "joined"} for worker in now if worker not in self.known]
        for worker, state in self.known.items():
            gone = worker not in now
            if (gone or now[worker] == STATE_MISSING) and state != STATE_MISSING:
                lines.append({"ts": time.time(), "worker": worker, "event": "lost",
                              "state": "removed" if gone else STATE_MISSING})
        self.known = {w: s for w, s in now.items()}
        for estimate in self.clocks.estimates():
            last = self.offsets.get(estimate.worker)
            if last is None or abs(estimate.offset_ms - last) >= CLOCK_STEP_MS:
                self.offsets[estimate.worker] = estimate.offset_ms
                lines.append({"ts": time.time(), "worker": estimate.worker, "event": "clock",
                              "offset_ms": estimate.offset_ms, "reports": estimate.reports})
        if lines:
            with self.path.open("a", encoding="utf-8") as out:
                out.writelines(json.dumps(line) + "\n" for line in lines)


__all__ = ["WorkerWatch"]
