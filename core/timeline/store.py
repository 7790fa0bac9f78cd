"""The timeline on disk: append-only JSON lines, one bucket piece per line.

File format (``<run>/timeline.jsonl``; every line one JSON object, keys in this order)::

    {"kind": "meta", "version": 1, "bucket_ms": 100, "hist": {"min_ms": 0.1, "per_decade": 20, "bins": 121},
     "writer": "master", "pid": 1234, "started_ms": 1700000000000.0}
    {"kind": "bucket", "start_ms": 1700000000100, "bucket_ms": 100, "name": "GET /api/products/{id}",
     "ok": 41, "fail": 2, "hist": [[27, 30], [28, 13]], "max_ms": 6.3,
     "first_ok_ms": 1700000000101.2, "last_ok_ms": 1700000000198.7,
     "first_fail_ms": 1700000000150.0, "last_fail_ms": 1700000000151.3,
     "errors": {"http 503": 2}, "source": "worker-1"}
    {"kind": "bucket", ..., "ok": 40, "fail": 0, ..., "slow": 3, "first_slow_ms": 1700000000112.0,
     "last_slow_ms": 1700000000160.4}

* ``slow`` (only when non-zero): successes slower than the recorder's ``slow_ms`` (a subset of ``ok``), with the
  start times of the first and last of them (``*_ok_ms`` are those of the other, good, successes); the meta
  line says which ``slow_ms`` (absent: none recorded).

* ``"kind": "lag"`` lines (newer writers): the load generator's own scheduling delay, the worst of ``samples``
  wake-ups of a sampler that sleeps ``sample_ms`` (:class:`~aftershock.core.timeline.model.LoopLag`)::

    {"kind": "lag", "start_ms": 1700000000100, "bucket_ms": 100, "max_ms": 14.2, "samples": 9, "sample_ms": 10,
     "source": "worker-1"}

  The meta line says ``lag_sample_ms`` when the writer's processes sample it; a file without lag lines (older
  writers) has no known scheduling delay: readers treat it as unknown, never as zero.
* ``start_ms`` is the bucket's start (epoch ms, a multiple of ``bucket_ms``); ``*_ok_ms``/``*_fail_ms`` are
  request start times (epoch ms) or ``null``; ``hist`` is ``[bin index, count]`` pairs over
  :data:`aftershock.core.timeline.model.HIST_EDGES_MS`.
* The same (``start_ms``, ``name``) appears on several lines when a bucket arrives in pieces (several workers,
  several reports): readers merge them (:func:`read_timeline` does).
* Writers flush every line; a reader skips a half-written last line (and counts any other unreadable
  line in :attr:`Timeline.skipped_lines` rather than hiding it). Unknown ``kind`` values are ignored.

Example::

    with TimelineWriter(run_dir / "timeline.jsonl", bucket_ms=100, writer="master") as out:
        out.write(buckets)
    timeline = read_timeline(run_dir)          # a folder or a file
    follower = TimelineFollower(run_dir / "timeline.jsonl")
    new_pieces = follower.poll()               # only complete lines written since the last poll

A run's live probes use :class:`~aftershock.core.timeline.follow.RunTimelineFollower` (every timeline file of the
folder, merged state indexed by time).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from aftershock.core.timeline.model import (
    HIST_BINS_PER_DECADE,
    HIST_MIN_MS,
    HIST_OVERFLOW_BIN,
    Bucket,
    LoopLag,
    merge_buckets,
    merge_lags,
)
from aftershock.core.timeline.records import (
    TimelineFormatError,
    decode_bucket,
    decode_lag,
    encode_bucket,
    encode_lag,
    encode_lines,
    parse_chunk,
    parse_records,
)

FORMAT_VERSION = 1
TIMELINE_FILE = "timeline.jsonl"


class TimelineWriter:
    """Appends bucket pieces to one JSON-lines file, flushing every write (live readers lag < 1 s).

    The first write to a new (empty) file adds the ``meta`` line. Not thread-safe: one writer per file.
    """

    def __init__(self, path: Path, *, bucket_ms: int, writer: str = "local", slow_ms: float | None = None,
                 lag_sample_ms: float | None = None) -> None:
        self.path = Path(path)
        self.bucket_ms = bucket_ms
        self.slow_ms = slow_ms
        self.lag_sample_ms = lag_sample_ms
        self.writer = writer
        self.lines_written = 0
        self._file: IO[str] | None = None

    def __repr__(self) -> str:
        return f"TimelineWriter(path={str(self.path)!r}, bucket_ms={self.bucket_ms}, writer={self.writer!r})"

    def _open(self) -> IO[str]:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
            if self._file.tell() == 0:
                meta = {
                    "kind": "meta",
                    "version": FORMAT_VERSION,
                    "bucket_ms": self.bucket_ms,
                    "hist": {"min_ms": HIST_MIN_MS, "per_decade": HIST_BINS_PER_DECADE, "bins": HIST_OVERFLOW_BIN + 1},
                    "writer": self.writer,
                    "pid": os.getpid(),
                    "started_ms": round(time.time() * 1000.0, 3),
                }
                if self.slow_ms is not None:
                    meta["slow_ms"] = self.slow_ms
                if self.lag_sample_ms is not None:
                    meta["lag_sample_ms"] = self.lag_sample_ms
                self._file.write(json.dumps(meta, separators=(",", ":")) + "\n")
                self._file.flush()
        return self._file

    def write(self, buckets: Iterable[Bucket], *, source: str | None = None) -> int:
        """Append pieces and flush; returns the number of lines written."""
        return self.write_records(encode_bucket(b, source=source) for b in buckets)

    def write_records(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Append already-encoded records and flush."""
        return self.write_lines(encode_lines(records))

    def write_lines(self, lines: str) -> int:
        """Append JSON lines as a worker encoded them (:func:`encode_lines`) and flush: the master writes its
        workers' reports without decoding them (1,000 workers make ~120k lines/s); readers check every line."""
        out = self._open()
        count = lines.count("\n")
        if count:
            out.write(lines)
            out.flush()
            self.lines_written += count
        return count

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> TimelineWriter:
        self._open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@dataclass(frozen=True)
class Timeline:
    """All buckets of a run, pieces merged, sorted by (start_ms, name)."""

    buckets: tuple[Bucket, ...]
    bucket_ms: int
    skipped_lines: int = 0
    lags: tuple[LoopLag, ...] = ()
    """The load generator's scheduling delay per bucket, sorted by start (empty: not recorded)."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted({b.name for b in self.buckets}))

    @property
    def start_ms(self) -> int | None:
        return self.buckets[0].start_ms if self.buckets else None

    @property
    def end_ms(self) -> int | None:
        """End of the last bucket (exclusive)."""
        return max(b.start_ms for b in self.buckets) + self.bucket_ms if self.buckets else None

    @property
    def total(self) -> int:
        return sum(b.total for b in self.buckets)

    @property
    def failures(self) -> int:
        return sum(b.fail for b in self.buckets)

    def loop_lag_ms(self, low_ms: float, high_ms: float) -> float | None:
        """How much later than its start time a request stamped up to ``high_ms`` may have reached the service at
        or after ``low_ms``: the worst loop lag that reaches that far, plus one sample period (a stall may begin
        just after a wake-up). None: no lag recorded (an older writer), so unknown; 0.0: no delay seen there."""
        if not self.lags:
            return None
        worst = 0.0
        for lag in self.lags:
            if lag.start_ms > high_ms + lag.sample_ms:
                break
            if lag.may_delay(low_ms):
                worst = max(worst, lag.max_ms + lag.sample_ms)
        return worst

    @classmethod
    def from_pieces(cls, pieces: Iterable[Bucket], *, bucket_ms: int | None = None, skipped_lines: int = 0,
                    lags: Iterable[LoopLag] = ()) -> Timeline:
        pieces = list(pieces)
        sizes = {b.bucket_ms for b in pieces}  # before merging: pieces of one bucket with two sizes do not merge
        if len(sizes) > 1:
            raise TimelineFormatError(f"timeline mixes bucket sizes {sorted(sizes)} ms: write one size per run")
        size = sizes.pop() if sizes else (bucket_ms or 100)
        return cls(tuple(merge_buckets(pieces)), size, skipped_lines, tuple(merge_lags(lags)))


def _timeline_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("timeline*.jsonl"))
        if not files:
            raise FileNotFoundError(f"no timeline*.jsonl in {path}: was the load run with --timeline-dir {path}?")
        return files
    if not path.exists():
        raise FileNotFoundError(f"timeline file {path} does not exist")
    return [path]


def _read_records(path: Path) -> tuple[list[Bucket], list[LoopLag], int]:
    pieces: list[Bucket] = []
    lags: list[LoopLag] = []
    skipped = 0
    for file in _timeline_files(Path(path)):
        data = file.read_bytes()
        complete = data[:data.rfind(b"\n") + 1]  # a half-written last line is a write in progress: not counted
        file_pieces, file_lags, file_skipped = parse_records(complete)
        pieces += file_pieces
        lags += file_lags
        skipped += file_skipped
    return pieces, lags, skipped


def read_pieces(path: Path) -> tuple[list[Bucket], int]:
    """All bucket pieces of a file (or of every ``timeline*.jsonl`` in a folder) and the skipped-line count.

    A last line without its newline is a write in progress and is skipped without counting.
    """
    pieces, _, skipped = _read_records(path)
    return pieces, skipped


def read_timeline(path: Path) -> Timeline:
    """The merged timeline of a run folder or a timeline file (loop lags included)."""
    pieces, lags, skipped = _read_records(Path(path))
    return Timeline.from_pieces(pieces, skipped_lines=skipped, lags=lags)


class TimelineFollower:
    """Reads a growing timeline file incrementally (for live probes): each :meth:`poll` returns the pieces
    of the complete lines written since the previous poll. A missing file reads as empty."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._offset = 0
        self.skipped_lines = 0
        self._merged: dict[tuple[int, str], Bucket] = {}
        self._lags: list[LoopLag] = []

    def __repr__(self) -> str:
        return f"TimelineFollower(path={str(self.path)!r}, offset={self._offset})"

    def poll(self) -> list[Bucket]:
        try:
            with open(self.path, "rb") as file:
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self._offset += end + 1
        new, lags, skipped = parse_records(data[: end + 1])
        self.skipped_lines += skipped
        self._lags.extend(lags)
        for piece in new:
            seen = self._merged.get(piece.key)
            self._merged[piece.key] = piece if seen is None else seen.merge(piece)
        return new

    def timeline(self) -> Timeline:
        """Everything read so far (after a fresh :meth:`poll`), merged."""
        self.poll()
        return Timeline.from_pieces(self._merged.values(), skipped_lines=self.skipped_lines, lags=self._lags)


__all__ = [
    "FORMAT_VERSION",
    "TIMELINE_FILE",
    "Timeline",
    "TimelineFollower",
    "TimelineFormatError",
    "TimelineWriter",
    "decode_bucket",
    "decode_lag",
    "encode_bucket",
    "encode_lag",
    "encode_lines",
    "parse_chunk",
    "parse_records",
    "read_pieces",
    "read_timeline",
]
