"""Replication between the regions' stand-in servers, with AWS's semantics.

One :class:`Link` per direction pulls the source server's change log and applies each change to the destination
once it is ``lag_s`` old (DynamoDB global tables: asynchronous, last writer wins per item, decided by the
destination server by write time; S3 replication: asynchronous per object, delete markers per the source
bucket's replication configuration, RTC-like lag). Per store (a table or a bucket) replication can be paused: its
changes wait in the link's backlog, in order, until resumed. Losing a region drops the changes it had not
shipped yet (gone, as on AWS when the region is evacuated) and stops replication into it until it is restored.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from aftershock.lab.events import Emit
from aftershock.lab.standins.changes import DYNAMODB, S3, Change

# The link long-polls the source's change log: a new change ends the wait at once, so the wait only bounds how late
# a due change (its lag elapsed) ships and how late a pause/loss decision is seen. Idle, it costs a few requests/s;
# the earlier fixed 3-10 ms polling cost ~20 % of a core per link, which the ledger benchmark counted as its own.
_MAX_POLL_S = 0.2


@dataclass(frozen=True, kw_only=True)
class ReplicationSettings:
    """Which tables are global and how late replication typically is (lab defaults, scaled down from AWS:
    DynamoDB "typically within one second", S3 RTC 15 minutes for 99.99 % of objects)."""

    global_tables: tuple[str, ...] = ("shop-carts",)
    dynamodb_lag_s: float = 0.05
    s3_lag_s: float = 0.1

    def lag_s(self, store: str) -> float:
        return self.dynamodb_lag_s if store == DYNAMODB else self.s3_lag_s


class Link:
    """Replication from ``source`` to ``dest`` (region names), one thread pulling and applying."""

    def __init__(self, source: str, dest: str, urls: dict[str, str], settings: ReplicationSettings,
                 paused: set[tuple[str, str]], lock: threading.Lock) -> None:
        self.source, self.dest = source, dest
        self._urls = urls
        self._settings = settings
        self._paused = paused  # shared with the Replicator, guarded by ``lock``
        self._lock = lock
        self.pending: list[Change] = []  # pulled, not shipped yet (guarded by the lock)
        self._cursor = 0
        self.pulling = True
        self.applying = True
        self.applied = Counter[str]()
        self.superseded = 0
        self.lags: list[tuple[float, float]] = []  # (shipped at, lag) of the latest shipments
        self._stop = threading.Event()
        self._http = httpx.Client(timeout=5.0)
        self._thread = threading.Thread(target=self._run, name=f"replication-{source}-{dest}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self._http.close()

    def backlog(self) -> Counter[str]:
        """Changes waiting per store (``dynamodb:table`` / ``s3:bucket``)."""
        with self._lock:
            return Counter(f"{c.store}:{c.name}" for c in self.pending)

    def drop_backlog(self) -> Counter[str]:
        """Forget every change not shipped yet, pulled or still in the source's log (the source region is lost,
        call with ``pulling`` off); returns how many per store."""
        try:
            unpulled, last = self._pull(0.0)
        except httpx.HTTPError:
            unpulled, last = [], self._cursor
        with self._lock:
            waiting = self.pending + [c for c in unpulled if c.seq > self._cursor and self._relevant(c)]
            dropped = Counter(f"{c.store}:{c.name}" for c in waiting)
            self.pending.clear()
            self._cursor = max(self._cursor, last)
            return dropped

    def unshipped(self, store: str, name: str) -> list[float]:
        """Write times of the store's changes not shipped yet: pulled, or still in the source's log."""
        try:
            unpulled, _ = self._pull(0.0)
        except httpx.HTTPError:
            unpulled = []
        with self._lock:
            cursor, pending = self._cursor, list(self.pending)
        waiting = pending + [c for c in unpulled if c.seq > cursor and self._relevant(c)]
        return [c.ts for c in waiting if (c.store, c.name) == (store, name)]

    def _relevant(self, change: Change) -> bool:
        return change.store == S3 or change.name in self._settings.global_tables

    def skip_to_end(self) -> None:
        """Ship nothing written in the source before now (its earlier unshipped writes are gone)."""
        _, last = self._pull(0.0)
        with self._lock:
            self._cursor = last
            self.pending.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.pulling:
                    if self.applying:
                        self._ship(self._due())
                    self._stop.wait(min(_MAX_POLL_S, self._next_due_s()))
                    continue
                changes, _ = self._pull(self._next_due_s() if self.applying else _MAX_POLL_S)
                relevant = [c for c in changes if self._relevant(c)]
                with self._lock:
                    if self.pulling:
                        self.pending.extend(c for c in relevant if c.seq > self._cursor)
                        self._cursor = max([self._cursor, *(c.seq for c in changes)])
                if self.applying:
                    self._ship(self._due())
            except httpx.HTTPError:
                self._stop.wait(0.1)  # a server starting or stopping: try again

    def _next_due_s(self) -> float:
        """Seconds until the first pending change of an unpaused store is due (``_MAX_POLL_S`` at most)."""
        now, first = time.time(), _MAX_POLL_S
        seen: set[tuple[str, str]] = set()
        with self._lock:
            for change in self.pending:
                store = (change.store, change.name)
                if store in seen:
                    continue
                seen.add(store)
                if store not in self._paused:
                    first = min(first, change.ts + self._settings.lag_s(change.store) - now)
        return max(0.0, first)

    def _pull(self, wait_s: float) -> tuple[list[Change], int]:
        reply = self._http.get(f"{self._urls[self.source]}/_aftershock/changes",
                               params={"after": self._cursor, "wait": wait_s}).json()
        return [Change.from_json(c) for c in reply["changes"]], int(reply["last"])

    def _due(self) -> list[Change]:
        """The changes old enough to ship, per store in write order; a paused store's wait."""
        now = time.time()
        due: list[Change] = []
        blocked: set[tuple[str, str]] = set()
        with self._lock:
            keep: list[Change] = []
            for change in self.pending:
                store = (change.store, change.name)
                if store in blocked or store in self._paused or change.ts + self._settings.lag_s(change.store) > now:
                    blocked.add(store)
                    keep.append(change)
                else:
                    due.append(change)
            self.pending = keep
        return due

    def _ship(self, due: list[Change]) -> None:
        if not due:
            return
        result = self._http.post(f"{self._urls[self.dest]}/_aftershock/apply",
                                 json={"changes": [c.to_json() for c in due]}).json()
        now = time.time()
        for change in due:
            self.applied[f"{change.store}:{change.name}"] += 1
            self.lags.append((now, now - change.ts))
        del self.lags[:-1000]
        self.superseded += int(result.get("superseded", 0))

    def recent_lag_max(self, window_s: float = 1.0) -> float | None:
        """The largest lag (write to applied in the destination) of the shipments of the last ``window_s``."""
        since = time.time() - window_s
        recent = [lag for at, lag in list(self.lags) if at >= since]
        return round(max(recent), 6) if recent else None


class Replicator:
    """Both directions between two regions; pause/resume per store, region loss and restore."""

    def __init__(self, urls: dict[str, str], settings: ReplicationSettings, emit: Emit) -> None:
        self.settings = settings
        self._emit = emit
        self._lock = threading.Lock()
        self._paused: set[tuple[str, str]] = set()
        self.lost: set[str] = set()
        regions = list(urls)
        self.links = [Link(a, b, urls, settings, self._paused, self._lock)
                      for a in regions for b in regions if a != b]

    def start(self) -> None:
        for link in self.links:
            link.start()

    def stop(self) -> None:
        for link in self.links:
            link.stop()

    def paused(self, store: str, name: str) -> bool:
        with self._lock:
            return (store, name) in self._paused

    def pause(self, store: str, name: str) -> tuple[float, float]:
        """Pause; returns when (``paused_at``) and since when the store's writes are unshipped (the oldest waiting
        change's write time, or the pause): what a later region loss loses starts there. ``paused_at -
        unshipped_since`` is how far replication ran behind when paused (the lag, or a backlog)."""
        with self._lock:
            self._paused.add((store, name))
            now = time.time()
        waiting = [ts for link in self.links if link.pulling for ts in link.unshipped(store, name)]
        since = min([now, *waiting])
        self._emit("replication.paused", store=store, name=name, paused_at=now, unshipped_since=since)
        return now, since

    def resume(self, store: str, name: str) -> int:
        """Resume; returns the backlog that now drains: every change not shipped yet, pulled or still in the
        source's log (counting only pulled ones under-reported while a link was between two pulls)."""
        backlog = sum(len(link.unshipped(store, name)) for link in self.links if link.pulling)
        with self._lock:
            self._paused.discard((store, name))
        self._emit("replication.resumed", store=store, name=name, backlog=backlog)
        return backlog

    def lose_region(self, region: str) -> dict[str, int]:
        """The region is lost: what it had not shipped is gone; nothing is replicated into it any more."""
        dropped: Counter[str] = Counter()
        for link in self.links:
            if link.source == region:
                link.pulling = link.applying = False
                dropped += link.drop_backlog()
            if link.dest == region:
                link.applying = False
        self.lost.add(region)
        self._emit("replication.region_lost", region=region, dropped=dict(dropped))
        return dict(dropped)

    def restore_region(self, region: str) -> None:
        """The region is back: the others' writes since the loss drain into it; its own earlier ones stay lost."""
        for link in self.links:
            if link.source == region:
                link.skip_to_end()
                link.pulling = link.applying = True
            if link.dest == region:
                link.applying = True
        self.lost.discard(region)
        self._emit("replication.region_restored", region=region)

    def status(self) -> dict[str, Any]:
        with self._lock:
            paused = sorted(f"{s}:{n}" for s, n in self._paused)
        return {"paused": paused, "lost_regions": sorted(self.lost),
                "lag_s": {"dynamodb": self.settings.dynamodb_lag_s, "s3": self.settings.s3_lag_s},
                "links": [{"from": link.source, "to": link.dest, "backlog": dict(link.backlog()),
                           "applied": dict(link.applied), "superseded": link.superseded,
                           "recent_lag_max_s": link.recent_lag_max(),
                           "active": link.pulling and link.applying} for link in self.links]}
