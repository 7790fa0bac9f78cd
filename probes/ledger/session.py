"""One ledger write over a connection that may die at any moment, classified as ok, in doubt, failed or rejected.

:class:`WriterSession` keeps one autocommit connection to the writer endpoint, drops it after any error and
reconnects on the next write (the endpoint's backend moves on failover). :class:`StallGuard` bounds a statement
in time: psycopg has no client-side statement timeout, and a frozen server or a proxy that stopped forwarding
would otherwise block the writer thread for ever.

Example::

    with StallGuard(timeout_s=2.0) as guard:
        session = WriterSession(Conninfo(conninfo), guard, clock=time.time)
        record = session.write("run-1", seq=1, payload="run-1 #1")
        session.close()
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any

import psycopg

from aftershock.core.credentials import Conninfo
from aftershock.probes.ledger.record import LedgerRecord, Outcome

__all__ = ["INSERT_SQL", "StallGuard", "WriterSession"]

INSERT_SQL = "INSERT INTO aftershock_ledger (seq, writer, payload) VALUES (%s, %s, %s)"
_DETAIL_CHARS = 200


class StallGuard:
    """Shuts down a watched socket once a statement on it outlives ``timeout_s`` (one background thread).

    The blocked psycopg call then fails at once with a lost connection; :attr:`fired` tells that the guard did it.
    """

    def __init__(self, timeout_s: float) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._deadline = 0.0
        self._fired = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aftershock-ledger-guard", daemon=True)

    def __enter__(self) -> StallGuard:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stopped.set()
        self._thread.join(timeout=5.0)

    @property
    def fired(self) -> bool:
        """True when the guard shut down the socket of the last watched statement."""
        with self._lock:
            return self._fired

    @contextmanager
    def watch(self, fd: int, timeout_s: float | None = None) -> Iterator[None]:
        """Guard the statement(s) run inside the block on socket ``fd``."""
        with self._lock:
            self._fd, self._fired = fd, False
            self._deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        try:
            yield
        finally:
            # cleared under the lock before the caller may close the socket: the guard never touches a reused fd
            with self._lock:
                self._fd = None

    def _run(self) -> None:
        tick = min(0.05, self.timeout_s / 4)
        while not self._stopped.wait(tick):
            with self._lock:
                if self._fd is not None and time.monotonic() >= self._deadline:
                    _shutdown(self._fd)
                    self._fd, self._fired = None, True


class WriterSession:
    """Writes ledger rows one at a time through one connection, reconnecting after any error.

    ``clock`` returns epoch seconds; the ledger writer passes an epoch anchored on a monotonic clock so that
    ``acked_at >= sent_at`` holds even if the wall clock steps.
    """

    def __init__(self, conninfo: Conninfo, guard: StallGuard, *, clock: Callable[[], float],
                 connect_timeout_s: int = 1) -> None:
        self._conninfo = conninfo
        self._guard = guard
        self._clock = clock
        self._connect_timeout_s = connect_timeout_s
        self._conn: psycopg.Connection[Any] | None = None

    def __repr__(self) -> str:
        return f"WriterSession(endpoint={self._conninfo.endpoint!r}, connected={self._conn is not None})"

    def write(self, run_id: str, seq: int, payload: str) -> LedgerRecord:
        """Insert one row; never raises a database error (it becomes the record's outcome)."""
        started = self._clock()
        if self._conn is not None and _stale(self._conn):
            self.close()
        if self._conn is None:
            try:
                self._conn = psycopg.connect(self._conninfo.reveal(), autocommit=True, prepare_threshold=None,
                                             connect_timeout=self._connect_timeout_s,
                                             application_name="aftershock-ledger")
            except psycopg.Error as exc:
                return LedgerRecord(run_id, seq, started, None, Outcome.FAILED, _connect_kind(exc), self._detail(exc))
        conn = self._conn
        sent_at = self._clock()
        try:
            with self._guard.watch(conn.fileno()):
                conn.execute(INSERT_SQL, (seq, run_id, payload))
                acked_at = self._clock()
        except psycopg.Error as exc:
            outcome, kind = self._classify(conn, exc)
            self.close()
            return LedgerRecord(run_id, seq, sent_at, None, outcome, kind, self._detail(exc))
        return LedgerRecord(run_id, seq, sent_at, acked_at, Outcome.OK)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # closing a connection that is already dead: nothing left to release
            with suppress(psycopg.Error, OSError):
                conn.close()

    def _classify(self, conn: psycopg.Connection[Any], exc: psycopg.Error) -> tuple[Outcome, str]:
        if self._guard.fired:
            return Outcome.IN_DOUBT, "io_timeout"
        if conn.broken or conn.closed:
            # the statement was sent and the answer never came: it may have committed
            return Outcome.IN_DOUBT, "connection_lost"
        if exc.sqlstate:
            # the server answered with an error: in autocommit mode the statement was rolled back
            return Outcome.REJECTED, f"sqlstate:{exc.sqlstate}"
        return Outcome.IN_DOUBT, f"error:{type(exc).__name__}"

    def _detail(self, exc: BaseException) -> str:
        lines = str(exc).strip().splitlines()
        return self._conninfo.redact(lines[0] if lines else type(exc).__name__)[:_DETAIL_CHARS]


def _connect_kind(exc: psycopg.Error) -> str:
    text = str(exc).lower()
    if "connection refused" in text:
        return "connect_refused"
    if "timeout" in text:
        return "connect_timeout"
    return "connect_failed"


def _stale(conn: psycopg.Connection[Any]) -> bool:
    """True when an idle connection is closed or has unsolicited input (EOF, a FATAL from a dying server).

    Writing on such a connection would make the next write look in doubt although the server was gone before
    it was sent; reconnecting first keeps in-doubt for writes that were really in flight.
    """
    if conn.closed or conn.broken:
        return True
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _shutdown(fd: int) -> None:
    # an OSError means the socket is already closed or reset: the blocked call fails on its own
    with suppress(OSError), socket.socket(fileno=os.dup(fd)) as sock:
        sock.shutdown(socket.SHUT_RDWR)
