"""The run folder: unique creation, whole-line JSON appends, tolerant reads, markers and atomic JSON files."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.core.errors import UsageError
from aftershock.core.runfolder import RunFolder

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
RECORDS = st.lists(st.dictionaries(st.text(), JSON_VALUES, max_size=4), max_size=6)


def test_create_makes_a_stamped_folder_with_logs(tmp_path: Path) -> None:
    run = RunFolder.create(tmp_path / "runs", "az outage/writer!")
    stamp = time.strftime("%Y%m%dT", time.gmtime())
    assert run.path.parent == tmp_path / "runs"
    assert run.path.name.startswith(stamp)
    assert run.path.name.endswith("Z-az-outage-writer")
    assert (run.path / "logs").is_dir()
    assert repr(run) == f"RunFolder({str(run.path)!r})"


def test_a_label_without_safe_characters_becomes_run(tmp_path: Path) -> None:
    assert RunFolder.create(tmp_path, "///").path.name.endswith("Z-run")


def test_runs_started_in_the_same_second_get_distinct_folders(tmp_path: Path) -> None:
    paths = {RunFolder.create(tmp_path, "same").path for _ in range(5)}
    assert len(paths) == 5
    suffixes = sorted(p.name.rsplit("Z-same", 1)[1] for p in paths)
    # all in one second: "", "-1", ... ; across a second boundary the numbering restarts
    assert "" in suffixes


def test_too_many_runs_in_one_second_is_a_usage_error(tmp_path: Path) -> None:
    now = time.time()
    for second in (now, now + 1):  # the call may start in the next second
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
        for n in range(100):
            (tmp_path / (f"{stamp}-busy" + (f"-{n}" if n else ""))).mkdir()
    with pytest.raises(UsageError) as err:
        RunFolder.create(tmp_path, "busy")
    assert str(err.value) == f"cannot create a run folder under {tmp_path}: too many runs this second"


def test_records_of_a_missing_file_are_empty(run: RunFolder) -> None:
    assert list(run.records("markers.jsonl")) == []


def test_append_writes_one_compact_line_per_record(run: RunFolder) -> None:
    run.append("x.jsonl", {"a": 1, "path": Path("/p")})
    run.append("x.jsonl", {"b": [1, 2]})
    assert run.file("x.jsonl").read_text() == '{"a":1,"path":"/p"}\n{"b":[1,2]}\n'
    assert list(run.records("x.jsonl")) == [{"a": 1, "path": "/p"}, {"b": [1, 2]}]


@settings(max_examples=50, deadline=None)
@given(records=RECORDS, cut=st.integers(min_value=0, max_value=10_000))
def test_records_round_trip_and_skip_a_half_written_last_line(records: list[dict[str, Any]], cut: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = RunFolder(Path(tmp))
        for record in records:
            run.append("r.jsonl", record)
        assert list(run.records("r.jsonl")) == records
        # a writer died in the middle of the next line: any prefix of it (without its newline) is invisible
        partial = json.dumps({"next": records}, separators=(",", ":"))
        with run.file("r.jsonl").open("a") as fh:
            fh.write(partial[: cut % len(partial)])
        assert list(run.records("r.jsonl")) == records


def test_concurrent_appends_never_interleave(run: RunFolder) -> None:
    def writer(n: int) -> None:
        for i in range(200):
            run.append("c.jsonl", {"thread": n, "i": i, "pad": "x" * 500})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = list(run.records("c.jsonl"))
    assert len(records) == 1600
    for n in range(8):
        assert [r["i"] for r in records if r["thread"] == n] == list(range(200))


def test_mark_appends_a_marker_at_now_and_returns_its_time(run: RunFolder) -> None:
    before = time.time()
    ts = run.mark("fault.start", action="az_outage", args={"az": "a"})
    assert before <= ts <= time.time()
    assert list(run.records("markers.jsonl")) == [
        {"ts": ts, "kind": "fault.start", "action": "az_outage", "args": {"az": "a"}}
    ]


def test_write_json_replaces_the_file_whole_and_reads_back(run: RunFolder) -> None:
    run.write_json("run.json", {"status": "running", "at": Path("/x")})
    run.write_json("run.json", {"status": "completed"})
    assert run.read_json("run.json") == {"status": "completed"}
    assert sorted(p.name for p in run.path.iterdir()) == ["logs", "run.json"]
