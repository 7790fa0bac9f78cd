"""The canary writer of the RPO ledger: numbered inserts through the writer endpoint on a fixed schedule.

Runs on one daemon thread (plus a stall-guard thread) in the caller's process and never raises into it: a database
error becomes a ledger record; a failure of the writer itself (a full disk, a bug) ends the thread, is logged at
error level and is reported by :meth:`LedgerWriter.stop` in :attr:`LedgerStats.failure`.

Seqs: ``seq = seq_base + i`` for the i-th attempt (i = 1, 2, ...), ``seq_base = start time in epoch ms * 10**6``.
Seqs are thus unique across runs that start in different milliseconds (up to 999,999 writes per run, 11 h at
25/s) and increase from run to run; ``writer`` holds the run id, and read-back selects by both. A clash with
another run (same millisecond) shows up as ``rejected`` (``sqlstate:23505``), never as a false loss.

Pacing: slot k is due at ``start + k / rate_per_s`` (open loop). A write that is late by less than one interval
is sent at once; slots missed by more are skipped and counted (:attr:`LedgerStats.skipped_slots`) rather than
sent in a burst at a recovering database.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from aftershock.core.credentials import Conninfo
from aftershock.core.errors import HarnessError
from aftershock.probes.ledger.record import FORMAT_VERSION, LEDGER_FILE, LedgerRecord, Outcome, format_line
from aftershock.probes.ledger.session import StallGuard, WriterSession

__all__ = ["MAX_WRITES_PER_RUN", "LedgerError", "LedgerStats", "LedgerWriter", "secret_conninfo"]

log = logging.getLogger(__name__)

MAX_WRITES_PER_RUN = 999_999
_SEQ_BASE_PER_MS = 1_000_000


class LedgerError(HarnessError):
    """The RPO ledger could not be written or read back; ``run_id`` names the run."""

    def __init__(self, message: str, *, run_id: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id


def secret_conninfo(conninfo: str, run_id: str) -> Conninfo:
    """``conninfo`` wrapped so that it never shows its password; a :class:`LedgerError` when it is invalid."""
    try:
        return Conninfo(conninfo)
    except ValueError as exc:
        raise LedgerError(f"{exc}: pass a libpq conninfo (key=value or postgresql:// URI)", run_id=run_id) from None


@dataclass(frozen=True)
class LedgerStats:
    """What the writer did, as it saw it (the database's view comes from ``read_back``)."""

    run_id: str
    attempted: int
    acknowledged: int
    in_doubt: int
    failed: int
    rejected: int
    skipped_slots: int
    started_at: float
    stopped_at: float
    write_rate_per_s: float
    failure: str | None = None


class LedgerWriter:
    """Writes numbered ledger rows at ``rate_per_s`` until stopped; records every attempt in ``ledger.jsonl``.

    Example::

        writer = LedgerWriter(conninfo, run_dir, run_id="run-42", rate_per_s=25.0)
        writer.start()
        ...                       # inject the fault, wait for recovery
        stats = writer.stop()
        result = read_back(conninfo, run_dir, "run-42")

    ``conninfo`` (with its password) stays in memory: it is not in the ledger, the logs or any repr.
    ``io_timeout_s`` bounds one insert; ``connect_timeout_s`` is libpq's (which waits at least 2 s).
    """

    def __init__(self, conninfo: str, run_dir: Path, *, run_id: str, rate_per_s: float = 25.0,
                 io_timeout_s: float = 2.0, connect_timeout_s: int = 1) -> None:
        if not run_id or not run_id.isprintable():
            raise LedgerError(f"run_id {run_id!r} must be non-empty printable text: pass the run's id")
        if not 0 < rate_per_s <= 1000:
            raise LedgerError(f"rate_per_s {rate_per_s} is out of range: use a rate in (0, 1000] writes per second",
                              run_id=run_id)
        if io_timeout_s <= 0:
            raise LedgerError(f"io_timeout_s {io_timeout_s} must be > 0: use a few seconds", run_id=run_id)
        self._conninfo = secret_conninfo(conninfo, run_id)
        self.run_dir = Path(run_dir)
        self.run_id = run_id
        self.rate_per_s = float(rate_per_s)
        self._io_timeout_s = io_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stats: LedgerStats | None = None

    def __repr__(self) -> str:
        return (f"LedgerWriter(run_id={self.run_id!r}, endpoint={self._conninfo.endpoint!r}, "
                f"rate_per_s={self.rate_per_s}, running={self.running})")

    @property
    def path(self) -> Path:
        return self.run_dir / LEDGER_FILE

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def start(self) -> None:
        """Open ``<run_dir>/ledger.jsonl`` (append), write the meta line and start writing."""
        if self._thread is not None:
            raise LedgerError(f"the ledger writer of run {self.run_id!r} was already started: "
                              "create a new LedgerWriter per run", run_id=self.run_id)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        epoch0, mono0 = time.time(), time.monotonic()
        out = self.path.open("a", encoding="utf-8")
        seq_base = int(epoch0 * 1000) * _SEQ_BASE_PER_MS
        out.write(format_line({"kind": "meta", "version": FORMAT_VERSION, "run_id": self.run_id,
                               "seq_base": seq_base, "rate_per_s": self.rate_per_s,
                               "endpoint": self._conninfo.endpoint, "started_at": round(epoch0, 6),
                               "pid": os.getpid()}))
        out.flush()
        self._thread = threading.Thread(target=self._run, args=(out, seq_base, epoch0, mono0),
                                        name=f"aftershock-ledger-{self.run_id}", daemon=True)
        self._thread.start()
        log.info("ledger writer started: run %s, endpoint %s, %.1f writes/s", self.run_id,
                 self._conninfo.endpoint, self.rate_per_s)

    def stop(self, timeout_s: float | None = None) -> LedgerStats:
        """Stop writing (waits for the write in flight, bounded by the I/O and connect timeouts) and return stats."""
        if self._thread is None:
            raise LedgerError(f"the ledger writer of run {self.run_id!r} was never started: call start() first",
                              run_id=self.run_id)
        self._stop.set()
        # the write in flight ends within the I/O timeout or libpq's connect timeout (2 s at least)
        bound = self._io_timeout_s + max(2, self._connect_timeout_s) + 5.0
        self._thread.join(timeout_s if timeout_s is not None else bound)
        if self._stats is None:
            message = f"the ledger writer thread of run {self.run_id} did not stop in time"
            log.error(message)
            now = time.time()
            return LedgerStats(self.run_id, 0, 0, 0, 0, 0, 0, now, now, 0.0, failure=message)
        return self._stats

    def __enter__(self) -> LedgerWriter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the writer thread ---------------------------------------------------------------------------------

    def _run(self, out: IO[str], seq_base: int, epoch0: float, mono0: float) -> None:
        counts = {o: 0 for o in Outcome}
        first_sent = last_sent = 0.0
        skipped = 0
        failure: str | None = None
        last_kind: str | None = None

        def clock() -> float:
            return epoch0 + (time.monotonic() - mono0)

        try:
            with StallGuard(self._io_timeout_s) as guard:
                session = WriterSession(self._conninfo, guard, clock=clock, connect_timeout_s=self._connect_timeout_s)
                try:
                    slot, attempt = 0, 0
                    while True:
                        due_now = int((time.monotonic() - mono0) * self.rate_per_s)
                        if due_now > slot:  # late by more than one interval: skip, do not burst
                            skipped += due_now - slot
                            slot = due_now
                        if self._stop.wait(max(0.0, mono0 + slot / self.rate_per_s - time.monotonic())):
                            break
                        attempt += 1
                        if attempt > MAX_WRITES_PER_RUN:
                            failure = f"run {self.run_id} reached {MAX_WRITES_PER_RUN} writes: start a new run"
                            break
                        record = session.write(self.run_id, seq_base + attempt, f"{self.run_id} #{attempt}")
                        out.write(format_line(record.to_json()))
                        out.flush()
                        counts[record.outcome] += 1
                        first_sent, last_sent = first_sent or record.sent_at, record.sent_at
                        last_kind = self._log_change(last_kind, record)
                        slot += 1
                finally:
                    session.close()
        except Exception as exc:  # the writer itself failed: report it, never raise into the caller
            failure = self._conninfo.redact(f"the ledger writer of run {self.run_id} failed: "
                                            f"{type(exc).__name__}: {exc}")
            log.error(failure)
        stopped = clock()
        attempted = sum(counts.values())
        try:
            out.write(format_line({"kind": "end", "run_id": self.run_id, "stopped_at": round(stopped, 6),
                                   "attempted": attempted, "skipped_slots": skipped, "failure": failure}))
        except OSError as exc:
            failure = failure or f"the ledger of run {self.run_id} could not be closed: {exc}"
            log.error(failure)
        finally:
            try:
                out.close()  # flushes: a full disk may only show here
            except OSError as exc:
                failure = failure or f"the ledger of run {self.run_id} could not be closed: {exc}"
                log.error(failure)
        rate = (attempted - 1) / (last_sent - first_sent) if attempted > 1 and last_sent > first_sent else 0.0
        self._stats = LedgerStats(
            run_id=self.run_id, attempted=attempted, acknowledged=counts[Outcome.OK],
            in_doubt=counts[Outcome.IN_DOUBT], failed=counts[Outcome.FAILED], rejected=counts[Outcome.REJECTED],
            skipped_slots=skipped, started_at=epoch0, stopped_at=stopped, write_rate_per_s=rate, failure=failure)

    def _log_change(self, last_kind: str | None, record: LedgerRecord) -> str | None:
        """Log when the writes start or stop succeeding (one line per change, not per write)."""
        kind = record.error
        if kind != last_kind:
            if kind is None:
                log.info("ledger run %s: writes acknowledged again (seq %d)", self.run_id, record.seq)
            else:
                log.warning("ledger run %s: write seq %d %s (%s): %s", self.run_id, record.seq,
                            record.outcome.value, kind, record.detail)
        return kind
