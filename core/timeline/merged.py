"""The merged timeline a live reader keeps, indexed by bucket start, compact for runs of hours.

:class:`MergedTimeline` merges bucket pieces and loop lags as they are read. Rows within ``hot_ms`` of the newest
bucket stay as objects (pieces of a bucket arrive within seconds, and probes read mostly the last minute); older
rows are packed (:mod:`~aftershock.core.timeline.packed`, ~55 bytes a bucket instead of ~600), and unpacked again
when read or when a late piece arrives. What it gives back equals what was merged, packed or not.

Example::

    merged = MergedTimeline(hot_ms=60_000)
    for piece in pieces:
        merged.add(piece)
    merged.freeze()                                # pack what is older than the hot window
    merged.buckets(since_ms=t0, until_ms=t1)       # sorted by (start, name)
"""

from __future__ import annotations

import bisect
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from aftershock.core.timeline.model import Bucket, LoopLag
from aftershock.core.timeline.packed import Names, pack_lag, pack_row, unpack_lag, unpack_row

HOT_MS = 60_000
"""How far behind the newest bucket start rows stay as objects by default."""

V = TypeVar("V")


@dataclass
class _Stored(Generic[V]):
    """Values by bucket start: recent ones as objects in ``hot`` (``order``: the order they became hot), older
    ones in ``cold``, packed (or as objects when they do not pack)."""

    hot: dict[int, V] = field(default_factory=dict)
    order: deque[int] = field(default_factory=deque)
    cold: dict[int, bytes | V] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.hot) + len(self.cold)

    def get(self, start: int, unpack: Callable[[int, bytes], V]) -> V | None:
        """The value at ``start`` (unpacked when packed, left packed in store); None when absent."""
        value = self.hot.get(start)
        if value is None and start in self.cold:
            stored = self.cold[start]
            return unpack(start, stored) if isinstance(stored, bytes) else stored
        return value

    def thaw(self, start: int, unpack: Callable[[int, bytes], V]) -> V | None:
        """Like :meth:`get`, but a packed value becomes hot again (to be merged with a late piece)."""
        value = self.hot.get(start)
        if value is None and start in self.cold:
            stored = self.cold.pop(start)
            value = self.hot[start] = unpack(start, stored) if isinstance(stored, bytes) else stored
            self.order.append(start)
        return value

    def put(self, start: int, value: V) -> None:
        if start not in self.hot:
            self.order.append(start)
        self.hot[start] = value

    def freeze(self, before: int, pack: Callable[[V], bytes]) -> None:
        """Pack hot values that start before ``before``, oldest-hot first, up to the first younger one (a value
        made hot again later is packed once those before it are: it stays hot at most one hot window)."""
        while self.order and self.order[0] < before:
            start = self.order.popleft()
            value = self.hot.pop(start)
            try:
                self.cold[start] = pack(value)
            except struct.error:  # a count beyond 32 bits: kept as objects, still exact
                self.cold[start] = value


class MergedTimeline:
    """Bucket pieces and loop lags merged per start (rows per request name), compact beyond ``hot_ms``."""

    def __init__(self, *, hot_ms: int = HOT_MS) -> None:
        self.hot_ms = hot_ms
        self.starts: list[int] = []
        """Every bucket start, sorted."""
        self.sizes: set[int] = set()
        self.lag_starts: list[int] = []
        self._rows: _Stored[dict[str, Bucket]] = _Stored()
        self._lags: _Stored[LoopLag] = _Stored()
        self._names = Names()

    def __len__(self) -> int:
        """The number of bucket starts held."""
        return len(self.starts)

    @property
    def packed_starts(self) -> int:
        """How many rows are stored packed."""
        return len(self._rows.cold)

    def _row_of(self, start: int, blob: bytes) -> dict[str, Bucket]:
        return {bucket.name: bucket for bucket in unpack_row(blob, start, self._names)}

    def _pack_row(self, row: dict[str, Bucket]) -> bytes:
        return pack_row(row.values(), self._names)

    def add(self, piece: Bucket) -> None:
        row = self._rows.thaw(piece.start_ms, self._row_of)
        if row is None:
            row = {}
            self._rows.put(piece.start_ms, row)
            if not self.starts or piece.start_ms > self.starts[-1]:
                self.starts.append(piece.start_ms)  # the usual case: buckets arrive in time order
            else:
                bisect.insort(self.starts, piece.start_ms)
        seen = row.get(piece.name)
        row[piece.name] = piece if seen is None else seen.merge(piece)
        self.sizes.add(piece.bucket_ms)

    def add_lag(self, lag: LoopLag) -> None:
        seen = self._lags.thaw(lag.start_ms, unpack_lag)
        if seen is None:
            bisect.insort(self.lag_starts, lag.start_ms)
        self._lags.put(lag.start_ms, lag if seen is None else seen.merge(lag))

    def freeze(self) -> None:
        """Pack the rows and lags older than the hot window (behind the newest bucket start)."""
        if self.starts:
            before = self.starts[-1] - self.hot_ms
            self._rows.freeze(before, self._pack_row)
            self._lags.freeze(before, pack_lag)

    def buckets(self, since_ms: float | None, until_ms: float | None) -> list[Bucket]:
        """The buckets starting in ``[since_ms, until_ms)`` (None: unbounded), sorted by (start, name)."""
        first = 0 if since_ms is None else bisect.bisect_left(self.starts, since_ms)
        last = len(self.starts) if until_ms is None else bisect.bisect_left(self.starts, until_ms)
        out: list[Bucket] = []
        for start in self.starts[first:last]:
            row = self._rows.hot.get(start)
            if row is not None:
                out.extend(row[name] for name in sorted(row))
                continue
            stored = self._rows.cold[start]
            out.extend(unpack_row(stored, start, self._names) if isinstance(stored, bytes)
                       else (stored[name] for name in sorted(stored)))
        return out

    def lags_between(self, first: float | None, last: float | None) -> tuple[LoopLag, ...]:
        lo = 0 if first is None else bisect.bisect_left(self.lag_starts, first)
        hi = len(self.lag_starts) if last is None else bisect.bisect_left(self.lag_starts, last)
        found = (self._lags.get(start, unpack_lag) for start in self.lag_starts[lo:hi])
        return tuple(lag for lag in found if lag is not None)


__all__ = ["HOT_MS", "MergedTimeline"]
