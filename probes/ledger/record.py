"""The RPO ledger on disk: ``<run_dir>/ledger.jsonl``, one JSON object per line, appended and flushed per line.

Format (epoch seconds, microsecond precision; keys in this order)::

    {"kind": "meta", "version": 1, "run_id": "r1", "seq_base": 1732190000123000000, "rate_per_s": 25.0,
     "endpoint": "127.0.0.1:6543", "started_at": 1732190000.123456, "pid": 4242}
    {"kind": "write", "run_id": "r1", "seq": 1732190000123000001, "sent_at": 1732190000.124001,
     "acked_at": 1732190000.125310, "outcome": "ok", "error": null, "detail": null}
    {"kind": "write", "run_id": "r1", "seq": 1732190000123000002, "sent_at": 1732190000.164002,
     "acked_at": null, "outcome": "in_doubt", "error": "connection_lost", "detail": "server closed the ..."}
    {"kind": "end", "run_id": "r1", "stopped_at": 1732190010.2, "attempted": 250, "skipped_slots": 0}

``outcome`` (see :class:`Outcome`): ``ok`` acknowledged; ``in_doubt`` the statement was sent and the answer
never came (connection lost, I/O timeout): it may or may not be committed; ``failed`` no connection could be
made, so nothing was sent (definitely not written); ``rejected`` the server answered with an error (in
autocommit mode the statement was rolled back: definitely not written). ``error`` is a short kind
(``connect_refused``, ``connect_timeout``, ``connect_failed``, ``connection_lost``, ``io_timeout``,
``sqlstate:23505``, ...); ``detail`` the first line of the error with the password redacted (or ``null``).
``seq`` is the ``aftershock_ledger.seq`` primary key (see :mod:`aftershock.probes.ledger.readback`). A file may hold
several runs.

Readers skip a half-written last line (the writer may be running or may have died mid-line) and count any other
unreadable line in :attr:`LedgerFile.skipped_lines`; unknown ``kind`` values are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = ["FORMAT_VERSION", "LEDGER_FILE", "LedgerFile", "LedgerRecord", "Outcome", "format_line", "read_ledger"]

FORMAT_VERSION = 1
LEDGER_FILE = "ledger.jsonl"


class Outcome(StrEnum):
    """What became of one write attempt, as the client saw it."""

    OK = "ok"
    IN_DOUBT = "in_doubt"
    FAILED = "failed"
    REJECTED = "rejected"


@dataclass(frozen=True)
class LedgerRecord:
    """One write attempt: ``seq`` sent at ``sent_at`` (the connect attempt's start when ``failed``)."""

    run_id: str
    seq: int
    sent_at: float
    acked_at: float | None
    outcome: Outcome
    error: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if (self.outcome is Outcome.OK) != (self.acked_at is not None):
            raise ValueError(f"ledger record {self.seq}: acked_at must be set exactly when the outcome is ok")
        if self.acked_at is not None and self.acked_at < self.sent_at:
            raise ValueError(f"ledger record {self.seq}: acked_at {self.acked_at} is before sent_at {self.sent_at}")

    def to_json(self) -> dict[str, Any]:
        return {"kind": "write", "run_id": self.run_id, "seq": self.seq, "sent_at": _ts(self.sent_at),
                "acked_at": _ts(self.acked_at), "outcome": self.outcome.value, "error": self.error,
                "detail": self.detail}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LedgerRecord:
        acked = data["acked_at"]
        return cls(run_id=str(data["run_id"]), seq=int(data["seq"]), sent_at=float(data["sent_at"]),
                   acked_at=None if acked is None else float(acked), outcome=Outcome(data["outcome"]),
                   error=data.get("error"), detail=data.get("detail"))


@dataclass(frozen=True)
class LedgerFile:
    """What a ledger file holds for the runs asked for: meta lines and write records, in file order."""

    metas: tuple[Mapping[str, Any], ...]
    records: tuple[LedgerRecord, ...]
    skipped_lines: int = 0

    @property
    def run_ids(self) -> tuple[str, ...]:
        """The run ids of the meta lines, in order, without repeats."""
        return tuple(dict.fromkeys(str(m["run_id"]) for m in self.metas))


def format_line(data: Mapping[str, Any]) -> str:
    """One ledger line (with its newline)."""
    return json.dumps(data, separators=(", ", ": "), allow_nan=False) + "\n"


def read_ledger(path: Path, run_id: str | None = None) -> LedgerFile:
    """Read ``path`` (a ``ledger.jsonl`` or the run folder holding it), keeping only ``run_id`` when given.

    A missing file reads as empty: a writer that never started wrote nothing.
    """
    if path.is_dir():
        path = path / LEDGER_FILE
    metas: list[Mapping[str, Any]] = []
    records: list[LedgerRecord] = []
    skipped = 0
    for data in _objects(path):
        if data is None:
            skipped += 1
            continue
        if run_id is not None and data.get("run_id") != run_id:
            continue
        kind = data.get("kind")
        try:
            if kind == "write":
                records.append(LedgerRecord.from_json(data))
            elif kind == "meta" and isinstance(data.get("run_id"), str):
                metas.append(data)
        except (KeyError, TypeError, ValueError):
            skipped += 1
    return LedgerFile(metas=tuple(metas), records=tuple(records), skipped_lines=skipped)


def _objects(path: Path) -> Iterator[dict[str, Any] | None]:
    """Each complete line as a JSON object (``None`` for an unreadable one); a half-written last line is dropped."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return
    lines = raw.split(b"\n")
    # the text after the last newline is empty, or a line the writer has not finished: never a record
    for line in lines[:-1]:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            yield None
            continue
        yield data if isinstance(data, dict) else None


def _ts(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
