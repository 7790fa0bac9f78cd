"""A run folder that stops taking writes mid-run: nothing raises where the write happened, the first failure is
kept, the fault journal this process wrote stays readable from memory, and the run's error names the folder."""

from __future__ import annotations

import pytest

from aftershock.core.errors import RunFolderUnwritable
from aftershock.core.journal import FaultJournal, RevertCall, outstanding
from aftershock.core.kinds import MarkerKind
from aftershock.core.runfolder import MARKERS, RunFolder
from tests.diskkit import FillingDisk


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> FillingDisk:
    fake = FillingDisk()
    monkeypatch.setattr(RunFolder, "disk", fake)
    return fake


def test_records_that_cannot_be_written_stay_readable_in_memory(run: RunFolder, disk: FillingDisk) -> None:
    run.mark(MarkerKind.LOAD_STARTED, users=1)
    disk.fill()
    run.mark(MarkerKind.LOAD_STOPPED, exit_code=0)  # does not raise
    assert run.write_failure == "No space left on device writing markers.jsonl"
    assert [r["kind"] for r in run.records(MARKERS)] == ["load.started", "load.stopped"]
    assert run.file(MARKERS).read_text().count("\n") == 1  # only the first one reached the disk


def test_the_fault_journal_is_kept_in_memory_so_faults_can_still_be_reverted(run: RunFolder,
                                                                             disk: FillingDisk) -> None:
    journal = FaultJournal(run)
    first = journal.injected("az_outage", "us-east-1b is down", [RevertCall("az_restore", {"az": "us-east-1b"})])
    disk.fill()
    run.file("faults.jsonl").unlink()  # even what reached the disk is gone
    second = journal.injected("cut_replication", "cut", [RevertCall("restore_replication", {"region": "w"})])
    assert [f.fault_id for f in outstanding(run)] == [first, second]
    journal.reverted(second, "cut_replication", by="rollback")
    assert [f.fault_id for f in outstanding(run)] == [first]


def test_claims_and_whole_files_after_the_failure(run: RunFolder, disk: FillingDisk) -> None:
    disk.fill()
    assert run.claim("finish.claim") is True and run.claim("finish.claim") is False  # held in memory
    with pytest.raises(RunFolderUnwritable) as caught:
        run.write_json("summary.json", {})
    assert str(caught.value) == (
        f"the run folder {run.path} stopped taking writes (No space left on device writing finish.claim): the load "
        "was stopped and every injected fault reverted; free space or make it writable before the next run")
    assert caught.value.path == str(run.path)


def test_a_writable_folder_keeps_reading_from_disk(run: RunFolder) -> None:
    run.mark(MarkerKind.LOAD_STARTED, users=1)
    assert run.write_failure is None and run.claim("x") and not run.claim("x")
    assert [r["kind"] for r in run.records(MARKERS)] == ["load.started"]
