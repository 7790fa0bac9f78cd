"""The JSON-lines file: round trip, pieces merged, half-written lines skipped, live following."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aftershock.core.timeline.model import Bucket
from aftershock.core.timeline.store import (
    Timeline,
    TimelineFollower,
    TimelineFormatError,
    TimelineWriter,
    decode_bucket,
    encode_bucket,
    encode_lines,
    read_timeline,
)

T0 = 1_700_000_000_000


def one(ok: bool, at: float, name: str = "GET /x", error: str = "timeout") -> Bucket:
    start = int(at // 100 * 100)
    return Bucket.single(start_ms=start, bucket_ms=100, name=name, ok=ok, at_ms=at, latency_ms=2.5, error=error)


def test_round_trip_and_pieces_are_merged(tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    with TimelineWriter(path, bucket_ms=100, writer="test") as out:
        out.write([one(True, T0 + 10), one(False, T0 + 20, error="http 503")], source="w1")
        out.write([one(True, T0 + 30), one(True, T0 + 150)], source="w2")
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["kind"] == "meta"
    assert json.loads(lines[1])["source"] == "w1"
    timeline = read_timeline(tmp_path)  # a folder works as well as the file
    assert [(b.start_ms, b.ok, b.fail) for b in timeline.buckets] == [(T0, 2, 1), (T0 + 100, 1, 0)]
    first = timeline.buckets[0]
    assert (first.first_ok_ms, first.last_ok_ms, first.first_fail_ms) == (T0 + 10, T0 + 30, T0 + 20)
    assert first.error_kinds == {"http 503": 1}
    assert (timeline.total, timeline.failures, timeline.skipped_lines) == (4, 1, 0)


def test_lines_a_worker_encoded_are_appended_as_they_are(tmp_path: Path) -> None:
    """The master's path: a worker's report (JSON lines) reads back as the buckets the worker had."""
    buckets = [one(True, T0 + 10), one(False, T0 + 20, error="http 503"), one(True, T0 + 150, name="GET /y")]
    lines = encode_lines(encode_bucket(b, source="worker-7") for b in buckets)
    with TimelineWriter(tmp_path / "timeline.jsonl", bucket_ms=100, writer="master") as out:
        assert out.write_lines(lines) == 3 and out.lines_written == 3
    direct = tmp_path / "direct"
    with TimelineWriter(direct / "timeline.jsonl", bucket_ms=100, writer="test") as out:
        out.write(buckets, source="worker-7")
    assert read_timeline(tmp_path).buckets == read_timeline(direct).buckets
    assert read_timeline(tmp_path).skipped_lines == 0


def test_half_written_last_line_is_skipped_and_bad_lines_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    with TimelineWriter(path, bucket_ms=100) as out:
        out.write([one(True, T0 + 10)])
    with open(path, "a") as raw:
        raw.write("not json\n")
        raw.write(json.dumps(encode_bucket(one(True, T0 + 20)))[:40])  # a write in progress
    timeline = read_timeline(path)
    assert timeline.total == 1
    assert timeline.skipped_lines == 1


def test_follower_reads_only_complete_new_lines(tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    follower = TimelineFollower(path)
    assert follower.poll() == []  # no file yet
    out = TimelineWriter(path, bucket_ms=100)
    out.write([one(True, T0 + 10)])
    assert len(follower.poll()) == 1
    line = json.dumps(encode_bucket(one(False, T0 + 60)))
    with open(path, "a") as raw:
        raw.write(line[:30])
        raw.flush()
        assert follower.poll() == []
        raw.write(line[30:] + "\n")
    assert [b.fail for b in follower.poll()] == [1]
    assert follower.timeline().buckets[0].total == 2
    out.close()


def test_decode_rejects_garbage_with_a_reason() -> None:
    with pytest.raises(TimelineFormatError, match="bad bucket record"):
        decode_bucket({"kind": "bucket", "start_ms": "x"})
    with pytest.raises(TimelineFormatError, match="histogram bin out of range"):
        decode_bucket({"start_ms": 0, "bucket_ms": 100, "name": "a", "hist": [[999, 1]]})


def test_mixed_bucket_sizes_are_refused() -> None:
    a = one(True, T0 + 10)
    b = Bucket.single(start_ms=T0, bucket_ms=50, name="GET /y", ok=True, at_ms=T0 + 1, latency_ms=1)
    with pytest.raises(TimelineFormatError, match="mixes bucket sizes"):
        Timeline.from_pieces([a, b])


def test_missing_timeline_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--timeline-dir"):
        read_timeline(tmp_path)
