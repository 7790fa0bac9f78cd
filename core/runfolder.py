"""The run folder: everything one run leaves behind, written as it happens.

    run.json            what was run: experiment, target, load settings, start/end, status
    journal.json        Chaos Toolkit's journal
    timeline.jsonl      100 ms request buckets (written by the Locust plugin)
    markers.jsonl       {"ts", "kind", ...}: activity start/end, fault start/end, load step markers
    faults.jsonl        every injected fault with the call that reverts it, and every revert
    samples.jsonl       periodic observations: replicas desired/ready, writer location, replication lag
    ledger.jsonl        the RPO canary's attempts and acknowledgements
    measurements.jsonl  what probes measured (RTO, RPO, scaling times)
    summary.json        the figures, each objective met or not, and the verdict
    logs/               load generator and harness logs

Components talk only through these files (and the target's control surface).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aftershock.core.errors import FormatError, UsageError
from aftershock.core.kinds import MarkerKind

RUN_DIR_ENV = "AFTERSHOCK_RUN_DIR"
MARKERS = "markers.jsonl"
_append_lock = threading.Lock()


class RunFolder:
    """Paths and append-only JSON-lines files of one run."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).absolute()

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    @classmethod
    def create(cls, base: Path, label: str) -> RunFolder:
        """A new folder ``base/<UTC stamp>-<label>`` (unique even when two runs start in the same second)."""
        base = base.resolve()  # absolute: other processes (Locust) run in other working directories
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "run"
        for n in range(100):
            path = base / (f"{stamp}-{safe}" + (f"-{n}" if n else ""))
            try:
                path.mkdir(parents=True)
            except FileExistsError:
                continue
            (path / "logs").mkdir()
            return cls(path)
        raise UsageError(f"cannot create a run folder under {base}: too many runs this second")

    def file(self, name: str) -> Path:
        return self.path / name

    def append(self, name: str, record: dict[str, Any]) -> None:
        """Append one JSON record to ``name`` (a whole line at once, so readers never see half of it)."""
        line = json.dumps(record, default=str, separators=(",", ":")) + "\n"
        with _append_lock:
            fd = os.open(self.path / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)

    def records(self, name: str, *, skip_broken: bool = False) -> Iterator[dict[str, Any]]:
        """The complete records of a JSON-lines file (a half-written last line is skipped). A line that is not a
        JSON object raises ``ValueError``, or is skipped with ``skip_broken`` (readers that only display)."""
        path = self.path / name
        if not path.exists():
            return
        with path.open(encoding="utf-8", errors="replace" if skip_broken else "strict") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    break
                try:
                    record = json.loads(line)
                except ValueError:
                    if skip_broken:
                        continue
                    raise
                if isinstance(record, dict):
                    yield record
                elif not skip_broken:
                    raise ValueError(f"{path}: a line is not a JSON object")

    def mark(self, kind: MarkerKind, **fields: Any) -> float:
        """Write a marker of ``kind`` (:class:`~aftershock.core.kinds.MarkerKind`) with the current epoch time;
        returns that time."""
        ts = time.time()
        self.append(MARKERS, {"ts": ts, "kind": MarkerKind(kind).value, **fields})
        return ts

    def claim(self, name: str) -> bool:
        """Create the empty file ``name`` if it does not exist yet: True for the one caller that created it
        (an idempotence guard across threads and processes)."""
        try:
            fd = os.open(self.path / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def write_json(self, name: str, data: Any) -> None:
        tmp = self.path / (name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str))
        tmp.replace(self.path / name)

    def read_json(self, name: str) -> Any:
        return json.loads((self.path / name).read_text())

    def read_object(self, name: str) -> dict[str, Any]:
        """A JSON object file of the run (``run.json``, ``journal.json``, ...). Raises ``FileNotFoundError`` when
        it is missing and :class:`FormatError` naming it when it is unreadable or not an object."""
        path = self.path / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise
        except (OSError, ValueError) as exc:
            raise FormatError(f"{name} is unreadable ({exc})", path=str(path)) from exc
        if not isinstance(data, dict):
            raise FormatError(f"{name} is not a JSON object", path=str(path))
        return data
