"""Compact, exact storage of merged timeline rows for a long-lived reader (the live follower of a run).

A merged :class:`~aftershock.core.timeline.model.Bucket` costs ~520-600 bytes as Python objects (the dataclass,
its floats, histogram pairs and name string); the soak's 60 requests/s make ~36 of them a second, so a follower
that kept every bucket as objects grew the harness ~1.4 MiB a minute (~170 MiB over 2 hours). :func:`pack_row`
stores one bucket start's row (every request name) as one ``bytes`` of ~55-60 bytes per bucket, request names and
error kinds as indices into a shared :class:`Names` table; :func:`unpack_row` gives back buckets equal to the
originals (floats as IEEE doubles, counts as they were), sorted by name as readers sort them.

Layout per bucket: a fixed head (:data:`_HEAD`), then the present timestamps (bit ``i`` of ``flags`` set:
``_TIMES[i]`` is present, one double each), the histogram pairs (bin, count) and the error kinds (kind index,
count). A count that does not fit 32 bits raises :class:`struct.error`: the caller keeps such a row unpacked.

Example::

    names = Names()
    blob = pack_row([bucket_a, bucket_b], names)   # the buckets of one start, any order
    unpack_row(blob, start_ms, names)              # [bucket_a, bucket_b] sorted by name
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from aftershock.core.timeline.model import Bucket, LatencyHistogram, LoopLag

_HEAD = struct.Struct("<IBIIIIdBI")
"""Name index, timestamp flags, bucket_ms, ok, fail, slow, max_ms, histogram pairs, error kinds."""
_TIME = struct.Struct("<d")
_PAIR = struct.Struct("<BI")
"""A histogram bin (< 256: the histogram has 122) and its count."""
_KIND = struct.Struct("<II")
"""An error kind's index in the table and its count."""
_LAG = struct.Struct("<Idid")
"""A loop lag: bucket_ms, max_ms, samples, sample_ms."""
_TIMES = ("first_ok_ms", "last_ok_ms", "first_fail_ms", "last_fail_ms", "first_slow_ms", "last_slow_ms")


class Names:
    """Strings (request names, error kinds) stored once and referred to by index; grows with distinct names."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._names: list[str] = []

    def __len__(self) -> int:
        return len(self._names)

    def index(self, name: str) -> int:
        found = self._index.get(name)
        if found is None:
            found = self._index[name] = len(self._names)
            self._names.append(name)
        return found

    def name(self, index: int) -> str:
        return self._names[index]


def pack_row(buckets: Iterable[Bucket], names: Names) -> bytes:
    """The buckets of one start (distinct names), packed in name order; :class:`struct.error` on a count that
    does not fit 32 bits."""
    parts: list[bytes] = []
    for bucket in sorted(buckets, key=lambda b: b.name):
        times = [getattr(bucket, field) for field in _TIMES]
        flags = sum(1 << i for i, value in enumerate(times) if value is not None)
        parts.append(_HEAD.pack(names.index(bucket.name), flags, bucket.bucket_ms, bucket.ok, bucket.fail, bucket.slow,
                                bucket.max_ms, len(bucket.hist.counts), len(bucket.errors)))
        parts.extend(_TIME.pack(value) for value in times if value is not None)
        parts.extend(_PAIR.pack(index, count) for index, count in bucket.hist.counts)
        parts.extend(_KIND.pack(names.index(kind), count) for kind, count in bucket.errors)
    return b"".join(parts)


def _times_layout(flags: int) -> tuple[struct.Struct, tuple[int, ...]]:
    present = [bit for bit in range(len(_TIMES)) if flags >> bit & 1]
    return struct.Struct("<" + "d" * len(present)), tuple(present.index(b) if b in present else -1
                                                         for b in range(len(_TIMES)))


_TIMES_LAYOUT = tuple(_times_layout(flags) for flags in range(1 << len(_TIMES)))
"""Per presence flags: the layout of the timestamps present, and where each of the six sits in it (-1: absent)."""


def unpack_row(data: bytes, start_ms: int, names: Names) -> list[Bucket]:
    """The buckets :func:`pack_row` packed (for bucket start ``start_ms``), sorted by name."""
    buckets: list[Bucket] = []
    offset = 0
    while offset < len(data):
        name, flags, bucket_ms, ok, fail, slow, max_ms, pairs, kinds = _HEAD.unpack_from(data, offset)
        layout, slots = _TIMES_LAYOUT[flags]
        present = layout.unpack_from(data, offset + _HEAD.size)
        t = [None if slot < 0 else present[slot] for slot in slots]
        offset += _HEAD.size + layout.size
        hist = tuple(_PAIR.iter_unpack(data[offset:offset + pairs * _PAIR.size])) if pairs else ()
        offset += pairs * _PAIR.size
        errors = tuple((names.name(kind), count)
                       for kind, count in _KIND.iter_unpack(data[offset:offset + kinds * _KIND.size])) if kinds else ()
        offset += kinds * _KIND.size
        buckets.append(Bucket(start_ms, bucket_ms, names.name(name), ok, fail, LatencyHistogram(hist), max_ms,
                              t[0], t[1], t[2], t[3], errors, slow, t[4], t[5]))
    return buckets


def pack_lag(lag: LoopLag) -> bytes:
    """One merged loop lag in 24 bytes; :class:`struct.error` when a number does not fit."""
    return _LAG.pack(lag.bucket_ms, lag.max_ms, lag.samples, lag.sample_ms)


def unpack_lag(start_ms: int, data: bytes) -> LoopLag:
    bucket_ms, max_ms, samples, sample_ms = _LAG.unpack(data)
    return LoopLag(start_ms, bucket_ms, max_ms, samples, sample_ms)


__all__ = ["Names", "pack_lag", "pack_row", "unpack_lag", "unpack_row"]
