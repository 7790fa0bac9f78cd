"""The fault journal: injected faults with their reverts, what is outstanding, reverting newest first."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.core.journal import JOURNAL, InjectedFault, outstanding
from aftershock.core.runfolder import RunFolder
from aftershock.faults.outcome import FaultOutcome, RevertCall
from aftershock.faults.reverts import record_injected, revert_outstanding
from tests.runkit import FakeDriver, fake_target


def az_down(az: str) -> FaultOutcome:
    return FaultOutcome(f"{az} is down", {"pods_killed": 2}, (RevertCall("az_restore", {"az": az}),))


def test_record_injected_writes_the_fault_and_its_reverts(run: RunFolder) -> None:
    fault_id = record_injected(run, "az_outage", az_down("us-east-1b"), 123.5)
    assert len(fault_id) == 12
    assert list(run.records(JOURNAL)) == [{
        "event": "injected", "fault_id": fault_id, "action": "az_outage", "ts": 123.5,
        "description": "us-east-1b is down", "details": {"pods_killed": 2},
        "reverts": [{"method": "az_restore", "args": {"az": "us-east-1b"}}],
    }]


def test_outstanding_lists_unreverted_faults_with_reverts_oldest_first(run: RunFolder) -> None:
    first = record_injected(run, "az_outage", az_down("us-east-1a"), 1.0)
    record_injected(run, "crash_writer", FaultOutcome("writer crashed"), 2.0)  # heals by itself
    third = record_injected(run, "az_outage", az_down("us-east-1c"), 3.0)
    assert outstanding(run) == [
        InjectedFault(first, "az_outage", "us-east-1a is down", 1.0, (RevertCall("az_restore", {"az": "us-east-1a"}),)),
        InjectedFault(third, "az_outage", "us-east-1c is down", 3.0, (RevertCall("az_restore", {"az": "us-east-1c"}),)),
    ]
    run.append(JOURNAL, {"event": "reverted", "fault_id": first, "ts": 4.0, "by": "test", "action": "az_outage"})
    assert [f.fault_id for f in outstanding(run)] == [third]


def test_a_half_written_journal_line_does_not_hide_earlier_faults(run: RunFolder) -> None:
    fault_id = record_injected(run, "az_outage", az_down("us-east-1a"), 1.0)
    with run.file(JOURNAL).open("a") as fh:
        fh.write('{"event":"reverted","fault_id":"' + fault_id)  # the harness died mid-write
    assert [f.fault_id for f in outstanding(run)] == [fault_id]


def test_revert_outstanding_reverts_newest_first_and_records_it(run: RunFolder) -> None:
    driver = FakeDriver(fake_target())
    old = record_injected(run, "az_outage", az_down("us-east-1a"), 1.0)
    new = record_injected(run, "set_traffic_dial", FaultOutcome("dial 0", {}, (
        RevertCall("set_traffic_dial", {"region": "us-east-1", "dial": 100}),
        RevertCall("az_restore", {"az": "us-east-1c"}),
    )), 2.0)
    before = time.time()
    done = revert_outstanding(run, driver, by="rollback")
    assert driver.calls == [
        ("set_traffic_dial", {"region": "us-east-1", "dial": 100}),
        ("az_restore", {"az": "us-east-1c"}),
        ("az_restore", {"az": "us-east-1a"}),
    ]
    assert done == ["us-east-1 dial 100", "us-east-1c is back", "us-east-1a is back"]
    reverted = [r for r in run.records(JOURNAL) if r["event"] == "reverted"]
    assert [(r["fault_id"], r["by"], r["action"]) for r in reverted] == [
        (new, "rollback", "set_traffic_dial"), (old, "rollback", "az_outage")]
    assert all(r["ts"] >= before for r in reverted)
    markers = list(run.records("markers.jsonl"))
    assert [(m["kind"], m["fault_id"], m["by"]) for m in markers] == [
        ("fault.reverted", new, "rollback"), ("fault.reverted", old, "rollback")]
    assert outstanding(run) == []
    assert revert_outstanding(run, driver, by="safety-net") == []
    assert len(driver.calls) == 3


def test_a_refused_revert_is_recorded_as_skipped_and_the_fault_as_reverted(run: RunFolder) -> None:
    driver = FakeDriver(fake_target(), refuse={"az_restore": "AZ 'us-east-1a' is not down"})
    fault_id = record_injected(run, "az_outage", az_down("us-east-1a"), 1.0)
    assert revert_outstanding(run, driver, by="recover") == ["skipped az_restore: AZ 'us-east-1a' is not down"]
    assert [r["fault_id"] for r in run.records(JOURNAL) if r["event"] == "reverted"] == [fault_id]
    assert outstanding(run) == []


def test_a_failed_revert_raises_and_leaves_that_fault_outstanding(run: RunFolder) -> None:
    driver = FakeDriver(fake_target(), broken={"az_restore": ConnectionError("control API down")})
    old = record_injected(run, "az_outage", az_down("us-east-1a"), 1.0)
    record_injected(run, "cut_replication", FaultOutcome("cut", {}, (
        RevertCall("restore_replication", {"region": "us-west-2"}),)), 2.0)
    with pytest.raises(ConnectionError, match="control API down"):
        revert_outstanding(run, driver, by="rollback")
    # the newer fault was reverted before the older one failed; the older one stays for `aftershock recover`
    assert driver.methods == ["restore_replication", "az_restore"]
    assert [f.fault_id for f in outstanding(run)] == [old]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=2), st.booleans()), max_size=8))
def test_revert_calls_are_the_reverse_of_the_injections(faults: list[tuple[int, bool]]) -> None:
    """Faults with 0-2 reverts, some reverted early by hand: the rest are undone newest first, each fault's
    reverts in their recorded order."""
    with tempfile.TemporaryDirectory() as tmp:
        run = RunFolder(Path(tmp))
        expected: list[tuple[str, dict[str, object]]] = []
        for n, (count, reverted_early) in enumerate(faults):
            calls = tuple(RevertCall("az_restore", {"az": f"az-{n}-{i}"}) for i in range(count))
            fault_id = record_injected(run, f"fault-{n}", FaultOutcome(f"fault {n}", {}, calls), float(n))
            if reverted_early:
                run.append(JOURNAL, {"event": "reverted", "fault_id": fault_id, "ts": 0.0, "by": "hand",
                                     "action": f"fault-{n}"})
            elif count:
                expected[:0] = [(c.method, c.args) for c in calls]
        driver = FakeDriver(fake_target())
        revert_outstanding(run, driver, by="test")
        assert driver.calls == expected
        assert outstanding(run) == []


def test_a_broken_journal_line_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    from aftershock.core.errors import FormatError
    from aftershock.core.journal import FaultJournal, RevertCall, outstanding

    run = RunFolder(tmp_path)
    FaultJournal(run).injected("az_outage", "AZ down", [RevertCall("az_restore", {"az": "us-east-1a"})])
    with run.file("faults.jsonl").open("a") as fh:
        fh.write('{"event": "reverted"}\n{"event": "reverted", "fault_id": "x", "act')  # and a half-written line
    with pytest.raises(FormatError) as info:
        outstanding(run)
    assert str(info.value) == (f"{run.file('faults.jsonl')} line 2 is not a fault record aftershock writes "
                               "(KeyError: 'fault_id'): revert by hand what that run injected (see its "
                               "markers.jsonl), then remove the line")
