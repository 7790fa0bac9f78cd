"""The live timeline of a run, read incrementally: a poll costs what was written since the last one.

:class:`RunTimelineFollower` follows every ``timeline*.jsonl`` of a run folder (the run's own, side timelines
such as ``timeline-spike.jsonl``, files that appear later) or one file. It keeps, per file, the offset after the
last complete line, and the pieces merged so far, indexed by bucket start, so :meth:`~RunTimelineFollower.timeline`
over a recent span (``since_ms``) costs what that span holds, not what the run holds. The merged result equals
:func:`~aftershock.core.timeline.store.read_timeline` of the same files (the tests check it). Rows older than
``hot_ms`` behind the newest are kept packed (:class:`~aftershock.core.timeline.merged.MergedTimeline`, ~55 bytes
a bucket), so a follower of a run of hours stays small.

A half-written last line is left for the next poll. A file that was replaced or truncated (another meta line, a
smaller size) makes the follower start over from the beginning of every file: the result stays exact.

Example::

    follower = RunTimelineFollower(run_dir)
    recent = follower.timeline(since_ms=fault_ms - 10_000)   # polls, then the buckets from that time on
    whole = follower.timeline()                               # == read_timeline(run_dir), without re-reading
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from aftershock.core.timeline.merged import HOT_MS, MergedTimeline
from aftershock.core.timeline.records import TimelineFormatError, parse_records
from aftershock.core.timeline.store import Timeline

_HEAD_BYTES = 512
"""How much of a file's first line identifies it (the meta line holds the writer's pid and start time)."""


@dataclass
class _FileState:
    offset: int = 0
    head: bytes = b""
    skipped: int = 0


class RunTimelineFollower:
    """Follows the timeline files of a run folder (or one timeline file) incrementally; thread-safe.

    ``path``: a run folder (every ``timeline*.jsonl`` in it, looked for again on each poll) or a file. Missing
    files read as empty.
    """

    def __init__(self, path: Path, *, hot_ms: int = HOT_MS) -> None:
        self.path = Path(path)
        self.hot_ms = hot_ms
        self._lock = threading.Lock()
        self._files: dict[Path, _FileState] = {}
        self._merged = MergedTimeline(hot_ms=hot_ms)

    def __repr__(self) -> str:
        return f"RunTimelineFollower(path={str(self.path)!r}, files={len(self._files)})"

    @property
    def skipped_lines(self) -> int:
        return sum(state.skipped for state in self._files.values())

    @property
    def start_ms(self) -> int | None:
        """Start of the oldest bucket read so far (None: nothing yet)."""
        starts = self._merged.starts
        return starts[0] if starts else None

    @property
    def end_ms(self) -> int | None:
        """End of the newest bucket read so far (None: nothing yet)."""
        starts = self._merged.starts
        return starts[-1] + self.bucket_ms if starts else None

    @property
    def bucket_ms(self) -> int:
        """The bucket size of what was read (100 until something was)."""
        sizes = self._merged.sizes
        return next(iter(sizes)) if len(sizes) == 1 else 100

    def _paths(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(self.path.glob("timeline*.jsonl"))
        return [self.path]

    def _read(self, path: Path, state: _FileState) -> bool:
        """Merge the complete lines added to ``path``; False when the file is no longer the one followed."""
        try:
            with open(path, "rb") as file:
                head = file.read(_HEAD_BYTES)
                if state.head and not head.startswith(state.head):
                    return False
                size = os.fstat(file.fileno()).st_size
                if size < state.offset:
                    return False
                file.seek(state.offset)
                data = file.read()
        except FileNotFoundError:  # not written yet, or a dangling side-timeline link: nothing to read
            return True
        if not state.head:
            state.head = head.split(b"\n", 1)[0] + b"\n" if b"\n" in head else b""
        end = data.rfind(b"\n")
        if end < 0:
            return True
        state.offset += end + 1
        pieces, lags, skipped = parse_records(data[: end + 1])
        state.skipped += skipped
        for piece in pieces:
            self._merged.add(piece)
        for lag in lags:
            self._merged.add_lag(lag)
        self._merged.freeze()
        return True

    def poll(self) -> None:
        """Read what was appended since the last poll (starting over when a file was replaced)."""
        with self._lock:
            self._poll()

    def _poll(self) -> None:
        for path in self._paths():
            state = self._files.setdefault(path, _FileState())
            if not self._read(path, state):
                self._files = {}
                self._merged = MergedTimeline(hot_ms=self.hot_ms)
                self._poll()
                return

    def timeline(self, *, since_ms: float | None = None, until_ms: float | None = None) -> Timeline:
        """Poll, then the merged buckets (and loop lags) starting in ``[since_ms, until_ms)`` (None: unbounded),
        sorted by (start, name) as :func:`~aftershock.core.timeline.store.read_timeline` sorts them."""
        with self._lock:
            self._poll()
            merged = self._merged
            if len(merged.sizes) > 1:
                raise TimelineFormatError(f"timeline mixes bucket sizes {sorted(merged.sizes)} ms: write one size "
                                          "per run")
            buckets = merged.buckets(since_ms, until_ms)
            size = next(iter(merged.sizes)) if merged.sizes else 100
            return Timeline(tuple(buckets), size, self.skipped_lines, merged.lags_between(since_ms, until_ms))


__all__ = ["RunTimelineFollower"]
