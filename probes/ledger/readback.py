"""The RPO write ledger: which acknowledged writes were lost across a fault, and over what span of time.

A canary :class:`LedgerWriter`, started before the fault, inserts numbered rows into ``aftershock_ledger`` through
the database's writer endpoint (whose backend moves on failover) at a fixed rate, and records every attempt in
``<run_dir>/ledger.jsonl`` (format: :mod:`aftershock.probes.ledger.record`). After recovery, :func:`read_back` reads the
ledger file, then the run's rows from the (new) writer, and classifies every attempt
(:mod:`aftershock.probes.ledger.analysis`):

* acknowledged-and-kept / acknowledged-and-lost (the loss that RPO is about);
* in doubt, found present or absent: the statement was sent but the answer never came (connection lost,
  I/O timeout): it may or may not have committed, nobody was told it did, so it never counts as lost;
* failed before send (no connection could be made: definitely not written) and rejected (the server answered
  with an error: definitely not written).

RPO, in seconds (:data:`RPO_DEFINITION`): ack time of the last lost write minus the ack time of the last kept
write acknowledged before the first lost write (if there is none, minus the first lost write's send time);
``0.0`` when no acknowledged write was lost.

Example::

    writer = LedgerWriter(conninfo, run_dir, run_id="run-42")   # 25 writes/s
    writer.start()
    inject_fault(); wait_for_recovery()
    writer.stop()
    result = read_back(conninfo, run_dir, "run-42")
    result.lost, result.rpo_s, result.to_dict()

Caveat: a re-seed of the shop schema drops ``aftershock_ledger``; every earlier write then reads as lost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import psycopg

from aftershock.core.credentials import Conninfo
from aftershock.probes.ledger.analysis import RPO_DEFINITION, LedgerResult, classify
from aftershock.probes.ledger.record import read_ledger
from aftershock.probes.ledger.session import StallGuard
from aftershock.probes.ledger.writer import LedgerError, LedgerStats, LedgerWriter, secret_conninfo

__all__ = ["RPO_DEFINITION", "LedgerError", "LedgerResult", "LedgerStats", "LedgerWriter", "read_back"]

_SELECT_SQL = "SELECT seq FROM aftershock_ledger WHERE writer = %s AND seq BETWEEN %s AND %s"
_RETRY_PAUSE_S = 0.25


def read_back(conninfo: str, run_dir: Path, run_id: str, *, timeout_s: float = 30.0) -> LedgerResult:
    """Classify the ledger of ``run_id`` against the rows the writer behind ``conninfo`` holds now.

    The file is read first, so every acknowledgement in it happened before the query: reading back while the
    writer still runs is consistent (later writes are simply not counted). Connecting is retried, only to a
    read-write server, until it answers or ``timeout_s`` passes (then :class:`LedgerError`).
    """
    secret = secret_conninfo(conninfo, run_id)
    ledger = read_ledger(Path(run_dir), run_id)
    present = _present_seqs(secret, [r.seq for r in ledger.records], run_id, timeout_s) if ledger.records else set()
    return classify(ledger.records, present, run_id=run_id, skipped_lines=ledger.skipped_lines)


def _present_seqs(secret: Conninfo, seqs: Sequence[int], run_id: str, timeout_s: float) -> set[int]:
    deadline = time.monotonic() + timeout_s
    last_error = "no attempt"
    with StallGuard(timeout_s=max(timeout_s, 0.1)) as guard:
        while True:
            try:
                # libpq waits 2 s at least; a longer wait leaves time for another try before the deadline
                connect_timeout = max(2, min(10, int(deadline - time.monotonic())))
                with psycopg.connect(secret.reveal(), autocommit=True, target_session_attrs="read-write",
                                     connect_timeout=connect_timeout,
                                     application_name="aftershock-ledger-readback") as conn:
                    remaining = max(0.1, deadline - time.monotonic())
                    with guard.watch(conn.fileno(), timeout_s=remaining):
                        rows = conn.execute(_SELECT_SQL, (run_id, min(seqs), max(seqs))).fetchall()
                return {int(row[0]) for row in rows}
            except psycopg.Error as exc:
                lines = str(exc).strip().splitlines()
                last_error = secret.redact(f"{type(exc).__name__}: {lines[0] if lines else ''}")[:200]
            if time.monotonic() + _RETRY_PAUSE_S >= deadline:
                # the psycopg error is not chained: the message above is its redacted first line
                raise LedgerError(f"the writer endpoint {secret.endpoint} did not answer as a read-write database "
                                  f"within {timeout_s:g}s (last error: {last_error}): check the database, then read "
                                  f"the ledger of run {run_id} back again", run_id=run_id) from None
            time.sleep(_RETRY_PAUSE_S)
