"""The store ledger's writer: numbered items (DynamoDB) or objects (S3) written in the primary region on a fixed
schedule, every attempt recorded, and the replica region watched for each acknowledged entry.

File: ``<run_dir>/ledger-<store>.jsonl`` in the RPO ledger's format (:mod:`aftershock.probes.ledger.record`: ``meta``,
``write`` and ``end`` lines; ``seq`` is 1, 2, ...), plus ``seen`` lines from the replica watcher::

    {"kind": "seen", "run_id": "r1", "seq": 12, "seen_at": 1732190000.41, "absent_at": 1732190000.36}

``seen_at`` is the end of the first read of the replica region that found the entry, ``absent_at`` the start of
the last read that did not (or the ack time): the entry's replication lag lies in ``[absent_at, seen_at] - acked_at``.

Example::

    writer = StoreLedgerWriter(StoreAccess(target, "dynamodb", client_factory(target)), run_dir, run_id="r1",
                               primary="us-east-1", replica="us-west-2")
    writer.start(); ...; writer.stop()
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import IO

from aftershock.probes.ledger.record import FORMAT_VERSION, LedgerRecord, Outcome, format_line
from aftershock.probes.ledger.stores import StoreAccess, StoreError

__all__ = ["WATCH_S", "StoreLedgerWriter", "ledger_file"]

log = logging.getLogger(__name__)
_MAX_SEQ = 999_999
WATCH_S = 0.25  # the replica watch's period: the lag's resolution, and 4 reads/s per store


def ledger_file(store: str) -> str:
    return f"ledger-{store}.jsonl"


class StoreLedgerWriter:
    """Writes entries ``1, 2, ...`` at ``rate_per_s`` in ``primary`` until stopped; watches ``replica``
    every ``watch_s`` seconds (None: no replica watch). One watch read per round covers every entry not seen yet,
    so the watch costs ``1 / watch_s`` reads/s whatever the write rate, and ``watch_s`` is the lag's resolution
    (reported as ``lag_resolution_s``; lags are upper bounds). On the lab a watch read costs about what a write
    does (~7-8 ms of CPU, client and stand-in): 0.25 s (4 reads/s per store) instead of 0.1 s takes 30 % off the
    ledgers' requests at 10 writes/s, at a resolution a quarter of the "typically within a second" AWS states."""

    def __init__(self, access: StoreAccess, run_dir: Path, *, run_id: str, primary: str, replica: str | None,
                 rate_per_s: float = 10.0, watch_s: float = WATCH_S, drain_s: float = 1.0) -> None:
        if not 0 < rate_per_s <= 200:
            raise StoreError(f"rate_per_s {rate_per_s} is out of range: use (0, 200] writes per second",
                             store=access.store)
        self.access = access
        self.run_dir = Path(run_dir)
        self.run_id = run_id
        self.primary, self.replica = primary, replica
        self.rate_per_s, self.watch_s, self.drain_s = float(rate_per_s), watch_s, drain_s
        self._stop = threading.Event()
        self._stop_watch = threading.Event()
        self._file_lock = threading.Lock()
        self._unseen: dict[int, float] = {}  # acked seq -> start of the last read that missed it (or its ack)
        self._threads: list[threading.Thread] = []
        self._out: IO[str] | None = None
        self.attempted = self.acknowledged = 0
        self.failure: str | None = None

    @property
    def path(self) -> Path:
        return self.run_dir / ledger_file(self.access.store)

    def start(self) -> None:
        for region in filter(None, (self.primary, self.replica)):
            self.access.client(region)  # boto3 loads its service model once, here rather than in the first write
        if self.access.store == "dynamodb":
            self.access.hash_key(self.primary)  # a table the ledger cannot use fails here, before any fault
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._out = self.path.open("a", encoding="utf-8")
        self._line({"kind": "meta", "version": FORMAT_VERSION, "run_id": self.run_id, "store": self.access.store,
                    "region": self.primary, "replica": self.replica, "rate_per_s": self.rate_per_s,
                    "watch_s": self.watch_s, "started_at": round(time.time(), 6), "pid": os.getpid()})
        self._threads = [threading.Thread(target=self._write_loop, name=f"store-ledger-{self.access.store}",
                                          daemon=True)]
        if self.replica:
            self._threads.append(threading.Thread(target=self._watch_loop, daemon=True,
                                                  name=f"store-ledger-watch-{self.access.store}"))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop writing; the replica watch goes on until every acknowledged entry was seen, ``drain_s`` at most."""
        self._stop.set()
        if self._threads:
            self._threads[0].join(timeout=10.0)
        deadline = time.monotonic() + self.drain_s
        while self._unseen and time.monotonic() < deadline and len(self._threads) > 1:
            time.sleep(self.watch_s / 2)
        self._stop_watch.set()
        for thread in self._threads[1:]:
            thread.join(timeout=10.0)
        if self._out is not None:
            self._line({"kind": "end", "run_id": self.run_id, "stopped_at": round(time.time(), 6),
                        "attempted": self.attempted, "failure": self.failure})
            self._out.close()
            self._out = None

    def _line(self, data: dict[str, object]) -> None:
        with self._file_lock:
            if self._out is not None:
                self._out.write(format_line(data))
                self._out.flush()

    def _write_loop(self) -> None:
        start = time.monotonic()
        slot = 0
        try:
            while self.attempted < _MAX_SEQ:
                due = int((time.monotonic() - start) * self.rate_per_s)
                slot = max(slot, due)  # late by more than one interval: skip, do not burst
                if self._stop.wait(max(0.0, start + slot / self.rate_per_s - time.monotonic())):
                    return
                self.attempted += 1
                seq, sent_at = self.attempted, time.time()
                outcome, error, detail = self.access.put(self.primary, self.run_id, seq)
                acked_at = time.time() if outcome is Outcome.OK else None
                if acked_at is not None:
                    self.acknowledged += 1
                    with self._file_lock:
                        self._unseen[seq] = acked_at
                self._line(LedgerRecord(self.run_id, seq, sent_at, acked_at, outcome, error, detail).to_json())
                slot += 1
        except Exception as exc:  # the writer itself failed: recorded in the end line, never raised
            self.failure = f"{type(exc).__name__}: {exc}"
            log.error("store ledger %s of run %s failed: %s", self.access.store, self.run_id, self.failure)

    def _watch_loop(self) -> None:
        assert self.replica is not None
        while not self._stop_watch.wait(self.watch_s):
            with self._file_lock:
                waiting = sorted(self._unseen)
            if not waiting:
                continue
            read_at = time.time()
            try:
                found = self.access.present(self.replica, self.run_id, waiting)
            except Exception as exc:  # a replica that does not answer: try again next round
                log.debug("store ledger watch of %s: %s", self.replica, exc)
                continue
            seen_at = time.time()
            with self._file_lock:
                absent = {seq: self._unseen.pop(seq) for seq in found if seq in self._unseen}
                for seq in waiting:
                    if seq in self._unseen:
                        self._unseen[seq] = read_at
            for seq, absent_at in sorted(absent.items()):
                self._line({"kind": "seen", "run_id": self.run_id, "seq": seq, "seen_at": round(seen_at, 6),
                            "absent_at": round(absent_at, 6)})
