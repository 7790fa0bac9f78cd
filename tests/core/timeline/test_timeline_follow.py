"""The incremental follower of a run's timeline files gives what a full read gives: across appends, half-written
last lines, side timelines appearing later, a file replaced, and for any ``since_ms`` slice."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.core.timeline.follow import RunTimelineFollower
from aftershock.core.timeline.model import Bucket
from aftershock.core.timeline.store import Timeline, TimelineWriter, encode_bucket, read_timeline

T0 = 1_700_000_000_000

pieces = st.builds(
    lambda slot, name, ok, offset, latency: Bucket.single(
        start_ms=T0 + slot * 100, bucket_ms=100, name=name, ok=ok, at_ms=T0 + slot * 100 + offset,
        latency_ms=latency, error=None if ok else "http 503", slow_ms=1000.0),
    st.integers(0, 40), st.sampled_from(["GET /a", "GET /b", "fresh:GET /health"]), st.booleans(),
    st.floats(0, 99.9), st.sampled_from([2.0, 40.0, 1500.0]))
"""One request's bucket piece (late pieces of old buckets included: slots come in any order)."""

appends = st.lists(st.tuples(st.sampled_from(["timeline.jsonl", "timeline-spike.jsonl"]),
                             st.lists(pieces, min_size=1, max_size=6), st.integers(0, 60)),
                   min_size=1, max_size=8)
"""Appends: (file, pieces, how many characters of one more line are already written)."""


def line(piece: Bucket) -> str:
    return json.dumps(encode_bucket(piece), separators=(",", ":")) + "\n"


def same(followed: Timeline, full: Timeline) -> None:
    assert followed.buckets == full.buckets
    assert (followed.bucket_ms, followed.skipped_lines) == (full.bucket_ms, full.skipped_lines)


@settings(max_examples=60, deadline=None)
@given(appends=appends, since_slot=st.integers(-1, 42), hot_ms=st.sampled_from([0, 500, 60_000]))
def test_follower_equals_a_full_read_after_every_append(appends: list[tuple[str, list[Bucket], int]],
                                                         since_slot: int, hot_ms: int) -> None:
    """``hot_ms`` 0 and 500: rows behind the newest are packed, and late pieces reach packed rows."""
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        follower = RunTimelineFollower(run, hot_ms=hot_ms)
        partial: dict[str, str] = {}
        for file, batch, cut in appends:
            path = run / file
            with TimelineWriter(path, bucket_ms=100, writer="test") as out:  # a meta line when new
                out.write([])
            with open(path, "a") as raw:
                raw.write(partial.pop(file, ""))  # the rest of the half-written line
                text = "".join(line(p) for p in batch)
                raw.write(text)
                pending = line(batch[0])
                if cut and cut < len(pending):
                    raw.write(pending[:cut])
                    partial[file] = pending[cut:]
            full = read_timeline(run)
            same(follower.timeline(), full)
            since = T0 + since_slot * 100
            sliced = follower.timeline(since_ms=since)
            assert sliced.buckets == tuple(b for b in full.buckets if b.start_ms >= since)
            until = follower.timeline(since_ms=since, until_ms=since + 500)
            assert until.buckets == tuple(b for b in full.buckets if since <= b.start_ms < since + 500)


def test_half_written_line_is_read_once_complete(tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    with TimelineWriter(path, bucket_ms=100) as out:
        out.write([Bucket.single(start_ms=T0, bucket_ms=100, name="a", ok=True, at_ms=T0 + 1, latency_ms=1)])
    follower = RunTimelineFollower(path)
    pending = line(Bucket.single(start_ms=T0, bucket_ms=100, name="a", ok=False, at_ms=T0 + 5, latency_ms=1))
    with open(path, "a") as raw:
        raw.write(pending[:25])
        raw.flush()
        assert follower.timeline().total == 1
        raw.write(pending[25:])
    assert [(b.ok, b.fail) for b in follower.timeline().buckets] == [(1, 1)]
    assert follower.skipped_lines == 0


def test_a_replaced_file_is_read_again_from_its_start(tmp_path: Path) -> None:
    def write(count: int) -> None:
        path = tmp_path / "timeline.jsonl"
        path.unlink(missing_ok=True)
        with TimelineWriter(path, bucket_ms=100, writer=f"writer-{count}") as out:
            out.write(Bucket.single(start_ms=T0 + i * 100, bucket_ms=100, name="a", ok=True, at_ms=T0 + i * 100,
                                    latency_ms=1) for i in range(count))

    follower = RunTimelineFollower(tmp_path)
    write(5)
    assert follower.timeline().total == 5
    write(7)  # a new writer (another meta line), longer than the old file
    same(follower.timeline(), read_timeline(tmp_path))
    write(2)
    same(follower.timeline(), read_timeline(tmp_path))


def test_no_timeline_yet_reads_as_empty(tmp_path: Path) -> None:
    follower = RunTimelineFollower(tmp_path)
    assert (follower.timeline().buckets, follower.start_ms) == ((), None)
    assert RunTimelineFollower(tmp_path / "missing.jsonl").timeline().total == 0
