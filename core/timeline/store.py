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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

from aftershock.core.errors import FormatError
from aftershock.core.timeline.model import (
    HIST_BINS_PER_DECADE,
    HIST_MIN_MS,
    HIST_OVERFLOW_BIN,
    Bucket,
    LatencyHistogram,
    merge_buckets,
)

FORMAT_VERSION = 1
TIMELINE_FILE = "timeline.jsonl"


class TimelineFormatError(FormatError, ValueError):
    """A line is not a valid timeline record (also a ``ValueError``, as a parse error is)."""


def _ts(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def encode_bucket(bucket: Bucket, *, source: str | None = None) -> dict[str, Any]:
    """The JSON-ready record of one bucket piece (also what workers send to the master)."""
    record: dict[str, Any] = {
        "kind": "bucket",
        "start_ms": bucket.start_ms,
        "bucket_ms": bucket.bucket_ms,
        "name": bucket.name,
        "ok": bucket.ok,
        "fail": bucket.fail,
        "hist": [list(pair) for pair in bucket.hist.counts],
        "max_ms": round(bucket.max_ms, 3),
        "first_ok_ms": _ts(bucket.first_ok_ms),
        "last_ok_ms": _ts(bucket.last_ok_ms),
        "first_fail_ms": _ts(bucket.first_fail_ms),
        "last_fail_ms": _ts(bucket.last_fail_ms),
        "errors": dict(bucket.errors),
    }
    if bucket.slow:
        record.update(slow=bucket.slow, first_slow_ms=_ts(bucket.first_slow_ms), last_slow_ms=_ts(bucket.last_slow_ms))
    if source is not None:
        record["source"] = source
    return record


def _opt_float(record: Mapping[str, Any], key: str) -> float | None:
    value = record.get(key)
    return None if value is None else float(value)


def decode_bucket(record: Mapping[str, Any]) -> Bucket:
    """The bucket of one ``"kind": "bucket"`` record; :class:`TimelineFormatError` when malformed."""
    try:
        hist = LatencyHistogram.from_mapping({int(i): int(c) for i, c in record.get("hist", ())})
        if any(i < 0 or i > HIST_OVERFLOW_BIN for i, _ in hist.counts):
            raise ValueError("histogram bin out of range")
        if isinstance(record.get("bucket_ms"), bool) or int(record["bucket_ms"]) <= 0:
            raise ValueError(f"bucket_ms {record['bucket_ms']!r} is not a positive number of milliseconds")
        errors = record.get("errors") or {}
        return Bucket(
            start_ms=int(record["start_ms"]),
            bucket_ms=int(record["bucket_ms"]),
            name=str(record["name"]),
            ok=int(record.get("ok", 0)),
            fail=int(record.get("fail", 0)),
            hist=hist,
            max_ms=float(record.get("max_ms", 0.0)),
            first_ok_ms=_opt_float(record, "first_ok_ms"),
            last_ok_ms=_opt_float(record, "last_ok_ms"),
            first_fail_ms=_opt_float(record, "first_fail_ms"),
            last_fail_ms=_opt_float(record, "last_fail_ms"),
            errors=tuple(sorted((str(k), int(v)) for k, v in errors.items() if v)),
            slow=int(record.get("slow", 0)),
            first_slow_ms=_opt_float(record, "first_slow_ms"),
            last_slow_ms=_opt_float(record, "last_slow_ms"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TimelineFormatError(f"bad bucket record ({exc.__class__.__name__}: {exc})") from exc


def encode_lines(records: Iterable[Mapping[str, Any]]) -> str:
    """Records as JSON lines (what :meth:`TimelineWriter.write_lines` appends)."""
    return "".join(orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode() + "\n" for record in records)


class TimelineWriter:
    """Appends bucket pieces to one JSON-lines file, flushing every write (live readers lag < 1 s).

    The first write to a new (empty) file adds the ``meta`` line. Not thread-safe: one writer per file.
    """

    def __init__(self, path: Path, *, bucket_ms: int, writer: str = "local", slow_ms: float | None = None) -> None:
        self.path = Path(path)
        self.bucket_ms = bucket_ms
        self.slow_ms = slow_ms
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

    @classmethod
    def from_pieces(cls, pieces: Iterable[Bucket], *, bucket_ms: int | None = None, skipped_lines: int = 0) -> Timeline:
        pieces = list(pieces)
        sizes = {b.bucket_ms for b in pieces}  # before merging: pieces of one bucket with two sizes do not merge
        if len(sizes) > 1:
            raise TimelineFormatError(f"timeline mixes bucket sizes {sorted(sizes)} ms: write one size per run")
        size = sizes.pop() if sizes else (bucket_ms or 100)
        return cls(tuple(merge_buckets(pieces)), size, skipped_lines)


def _parse_lines(lines: Iterable[str]) -> Iterator[Bucket | None]:
    """Buckets of the lines; None for an unreadable line."""
    for line in lines:
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)  # ~3x json.loads: reading dominates report rendering of long runs
            if not isinstance(record, dict):
                raise TimelineFormatError("not an object")
            if record.get("kind") == "bucket":
                yield decode_bucket(record)
        except (orjson.JSONDecodeError, TimelineFormatError):
            yield None


def parse_chunk(data: bytes) -> tuple[list[Bucket], int]:
    """The bucket pieces of complete lines (``data`` ends at a newline) and how many lines were unreadable."""
    pieces: list[Bucket] = []
    skipped = 0
    for parsed in _parse_lines(data.decode("utf-8", errors="replace").split("\n")):
        if parsed is None:
            skipped += 1
        else:
            pieces.append(parsed)
    return pieces, skipped


def _timeline_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("timeline*.jsonl"))
        if not files:
            raise FileNotFoundError(f"no timeline*.jsonl in {path}: was the load run with --timeline-dir {path}?")
        return files
    if not path.exists():
        raise FileNotFoundError(f"timeline file {path} does not exist")
    return [path]


def read_pieces(path: Path) -> tuple[list[Bucket], int]:
    """All bucket pieces of a file (or of every ``timeline*.jsonl`` in a folder) and the skipped-line count.

    A last line without its newline is a write in progress and is skipped without counting.
    """
    pieces: list[Bucket] = []
    skipped = 0
    for file in _timeline_files(Path(path)):
        text = file.read_text(encoding="utf-8", errors="replace")
        lines = text.split("\n")
        lines.pop()  # "" after the final newline, or a half-written line
        for parsed in _parse_lines(lines):
            if parsed is None:
                skipped += 1
            else:
                pieces.append(parsed)
    return pieces, skipped


def read_timeline(path: Path) -> Timeline:
    """The merged timeline of a run folder or a timeline file."""
    pieces, skipped = read_pieces(Path(path))
    return Timeline.from_pieces(pieces, skipped_lines=skipped)


class TimelineFollower:
    """Reads a growing timeline file incrementally (for live probes): each :meth:`poll` returns the pieces
    of the complete lines written since the previous poll. A missing file reads as empty."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._offset = 0
        self.skipped_lines = 0
        self._merged: dict[tuple[int, str], Bucket] = {}

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
        new, skipped = parse_chunk(data[: end + 1])
        self.skipped_lines += skipped
        for piece in new:
            seen = self._merged.get(piece.key)
            self._merged[piece.key] = piece if seen is None else seen.merge(piece)
        return new

    def timeline(self) -> Timeline:
        """Everything read so far (after a fresh :meth:`poll`), merged."""
        self.poll()
        return Timeline.from_pieces(self._merged.values(), skipped_lines=self.skipped_lines)


__all__ = [
    "FORMAT_VERSION",
    "TIMELINE_FILE",
    "Timeline",
    "TimelineFollower",
    "TimelineFormatError",
    "TimelineWriter",
    "decode_bucket",
    "encode_bucket",
    "parse_chunk",
    "read_pieces",
    "read_timeline",
]
