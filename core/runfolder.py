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

When the folder stops taking writes mid-run (a full disk, a read-only mount), nothing raises where the write
happened: the first failure is kept (:attr:`RunFolder.write_failure`), records that could not be written and the
fault journal this process wrote stay in memory (:class:`_Memory`), so the run can still stop its load and revert
every fault; the run then exits 2 with :meth:`RunFolder.unwritable`.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from aftershock.core.errors import FormatError, RunFolderUnwritable, UsageError
from aftershock.core.kinds import MarkerKind

RUN_DIR_ENV = "AFTERSHOCK_RUN_DIR"
MARKERS = "markers.jsonl"
_append_lock = threading.Lock()


class Disk:
    """How a run folder's bytes reach the disk; a test plugs in a double that fails like a full disk::

        monkeypatch.setattr(RunFolder, "disk", FullDisk())
    """

    def append(self, path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def create(self, path: Path) -> bool:
        """Create the empty file ``path``; False when it exists already."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def replace(self, path: Path, text: str) -> None:
        """Write ``path`` whole, atomically (a temporary file renamed over it)."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(path)


@dataclass
class _Memory:
    """What this process wrote, or failed to write, into one run folder."""

    failure: str | None = None
    remembered: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unwritten: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    claims: set[str] = field(default_factory=set)


class RunFolder:
    """Paths and append-only JSON-lines files of one run."""

    disk: ClassVar[Disk] = Disk()
    _memories: ClassVar[dict[Path, _Memory]] = {}
    """Per run folder of this process (RunFolder objects are recreated from the path everywhere)."""

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

    @property
    def _memory(self) -> _Memory:
        return self._memories.setdefault(self.path, _Memory())

    @property
    def write_failure(self) -> str | None:
        """Why the folder stopped taking writes (the first failure of this process), or None."""
        memory = self._memories.get(self.path)
        return memory.failure if memory else None

    def unwritable(self) -> RunFolderUnwritable:
        """The error a run whose folder stopped taking writes exits with."""
        return RunFolderUnwritable(f"the run folder {self.path} stopped taking writes ({self.write_failure}): the "
                                   "load was stopped and every injected fault reverted; free space or make it "
                                   "writable before the next run", path=str(self.path))

    def _failed(self, name: str, exc: OSError) -> None:
        if self._memory.failure is None:
            self._memory.failure = f"{exc.strerror or exc} writing {name}"

    def note_failure(self, name: str, exc: OSError) -> None:
        """Record that writing ``name`` failed with ``exc`` (for writers of their own, such as the log handler)."""
        with _append_lock:
            self._failed(name, exc)

    def append(self, name: str, record: dict[str, Any], *, remember: bool = False) -> None:
        """Append one JSON record to ``name`` (a whole line at once, so readers never see half of it).

        ``remember``: keep the record in memory too (the fault journal), so this process can still read it back
        when the folder stops taking writes. After such a failure records are kept in memory, not written."""
        line = json.dumps(record, default=str, separators=(",", ":")) + "\n"
        with _append_lock:
            memory = self._memory
            if remember:
                memory.remembered.setdefault(name, []).append(record)
            if memory.failure is None:
                try:
                    self.disk.append(self.path / name, line.encode())
                    return
                except OSError as exc:
                    self._failed(name, exc)
            memory.unwritten.setdefault(name, []).append(record)

    def records(self, name: str, *, skip_broken: bool = False) -> Iterator[dict[str, Any]]:
        """The complete records of a JSON-lines file (a half-written last line is skipped). A line that is not a
        JSON object raises ``ValueError``, or is skipped with ``skip_broken`` (readers that only display)."""
        memory = self._memories.get(self.path)
        if memory is not None and memory.failure is not None:
            if name in memory.remembered:  # everything this process wrote, whatever reached the disk
                yield from list(memory.remembered[name])
                return
            yield from self._disk_records(name, skip_broken)
            yield from list(memory.unwritten.get(name, ()))
            return
        yield from self._disk_records(name, skip_broken)

    def _disk_records(self, name: str, skip_broken: bool) -> Iterator[dict[str, Any]]:
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
        (an idempotence guard across threads and processes; in memory once the folder stopped taking writes)."""
        with _append_lock:
            memory = self._memory
            if memory.failure is None:
                try:
                    created = self.disk.create(self.path / name)
                except OSError as exc:
                    self._failed(name, exc)
                else:
                    memory.claims.add(name)
                    return created
            if name in memory.claims or (self.path / name).exists():
                return False
            memory.claims.add(name)
            return True

    def write_json(self, name: str, data: Any) -> None:
        """Write ``name`` whole (atomically); :class:`RunFolderUnwritable` when the folder stopped taking writes."""
        if self.write_failure is None:
            try:
                self.disk.replace(self.path / name, json.dumps(data, indent=2, default=str))
                return
            except OSError as exc:
                self.note_failure(name, exc)
        raise self.unwritable()

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
