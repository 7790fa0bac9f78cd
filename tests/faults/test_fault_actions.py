"""Chaos Toolkit fault actions against a fake driver: validation first, markers, journal, rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aftershock.core.errors import FaultRefused, HarnessError, TargetError
from aftershock.core.journal import JOURNAL, outstanding
from aftershock.core.kinds import MarkerKind
from aftershock.core.runfolder import RunFolder
from aftershock.faults import actions
from tests.runkit import FakeDriver, plan_run, write_target


def kinds(run: RunFolder) -> list[str]:
    return [m["kind"] for m in run.records("markers.jsonl")]


def test_az_outage_defaults_to_the_writers_az(configuration: dict[str, Any], driver: FakeDriver,
                                              run: RunFolder) -> None:
    result = actions.az_outage(configuration=configuration)
    assert driver.calls == [("observe", {}), ("az_outage", {"az": "us-east-1b"})]
    assert result["description"] == "us-east-1b is down"
    assert result["reverts"] == ["az_restore"]


def test_az_outage_falls_back_to_the_first_primary_az_when_the_writer_is_unknown(
        configuration: dict[str, Any], driver: FakeDriver) -> None:
    driver.writer = None
    actions.az_outage(configuration=configuration)
    assert driver.calls[-1] == ("az_outage", {"az": "us-east-1a"})


def test_az_outage_default_without_a_database_section_is_the_first_primary_az(
        tmp_path: Path, run: RunFolder, driver: FakeDriver) -> None:
    target = write_target(tmp_path / "nodb.yaml", database=None)
    actions.az_outage(configuration=plan_run(run, target))
    assert driver.calls[-1] == ("az_outage", {"az": "us-east-1a"})


def test_a_fault_writes_start_and_end_markers_and_a_journal_record(configuration: dict[str, Any],
                                                                    driver: FakeDriver, run: RunFolder) -> None:
    result = actions.az_outage(az="us-east-1c", configuration=configuration)
    start, end = run.records("markers.jsonl")
    assert start == {"ts": result["started_at"], "kind": "fault.start", "action": "az_outage",
                     "args": {"az": "us-east-1c"}, "role": "disruption"}
    assert end == {"ts": result["ended_at"], "kind": "fault.end", "action": "az_outage",
                   "description": "us-east-1c is down"}
    assert start["ts"] <= end["ts"]
    intent, record = run.records(JOURNAL)
    # before the call: an in-flight entry a return to the baseline reverts (a SIGKILL before the fault's own
    # line leaves it for `aftershock recover`); the fault's own record supersedes it
    assert intent["fault_id"].startswith("inflight-") and intent["details"] == {"in_flight": True}
    assert intent["reverts"] == [{"method": "restore_baseline", "args": {}}] and intent["ts"] <= start["ts"]
    assert record == {"event": "injected", "fault_id": result["fault_id"], "action": "az_outage",
                      "ts": result["started_at"], "description": "us-east-1c is down",
                      "details": {"method": "az_outage", "az": "us-east-1c"},
                      "reverts": [{"method": "az_restore", "args": {"az": "us-east-1c"}}],
                      "supersedes": intent["fault_id"]}
    assert [f.fault_id for f in outstanding(run)] == [result["fault_id"]]
    assert result == {"fault_id": record["fault_id"], "action": "az_outage", "description": "us-east-1c is down",
                      "details": {"method": "az_outage", "az": "us-east-1c"}, "role": "disruption",
                      "started_at": start["ts"], "ended_at": end["ts"], "reverts": ["az_restore"]}


def test_a_fault_declared_remediation_carries_its_role_into_fault_start(
        configuration: dict[str, Any], driver: FakeDriver, run: RunFolder) -> None:
    """The aftershock control writes the activity's ``aftershock_role`` on activity.start; the fault copies it."""
    actions.failover_global_database(configuration=configuration)
    run.mark(MarkerKind.ACTIVITY_START, name="evacuate", type="action", func="set_traffic_dial", role="remediation")
    actions.set_traffic_dial(dial=0, configuration=configuration)
    starts = [m for m in run.records("markers.jsonl") if m["kind"] == "fault.start"]
    assert [(m["action"], m["role"]) for m in starts] == [("failover_global_database", "disruption"),
                                                           ("set_traffic_dial", "remediation")]


def test_a_role_declared_by_another_activity_is_not_borrowed(configuration: dict[str, Any], driver: FakeDriver,
                                                             run: RunFolder) -> None:
    run.mark(MarkerKind.ACTIVITY_START, name="evacuate", type="action", func="set_traffic_dial", role="remediation")
    result = actions.crash_writer(configuration=configuration)
    assert result["role"] == "disruption"


def test_an_unknown_az_is_refused_before_the_driver_is_called(configuration: dict[str, Any], driver: FakeDriver,
                                                              run: RunFolder) -> None:
    with pytest.raises(TargetError) as err:
        actions.az_outage(az="mars-1a", configuration=configuration)
    assert str(err.value) == ("unknown AZ 'mars-1a' in target 't': use one of us-east-1a, us-east-1b, us-east-1c, "
                              "us-west-2a, us-west-2b")
    assert driver.calls == []
    assert list(run.records(JOURNAL)) == []
    assert err.value.context == {"target": "t", "fault": "az_outage"}


def test_a_refused_fault_leaves_no_fault_start_marker(configuration: dict[str, Any], driver: FakeDriver,
                                                      run: RunFolder) -> None:
    with pytest.raises(TargetError):
        actions.kill_pods(region="mars-1", count=1, configuration=configuration)
    assert "fault.start" not in kinds(run)


@pytest.mark.parametrize(("percent", "count"), [(0.0, 0), (50.0, 2), (-5.0, 0)])
def test_kill_pods_needs_exactly_one_of_percent_and_count(configuration: dict[str, Any], driver: FakeDriver,
                                                          run: RunFolder, percent: float, count: int) -> None:
    with pytest.raises(FaultRefused) as err:
        actions.kill_pods(percent=percent, count=count, configuration=configuration)
    assert str(err.value) == ("kill_pods needs exactly one of percent (0-100] or count (>= 1), "
                              f"got percent={percent:g}, count={count}")
    assert driver.calls == []
    assert not run.file("markers.jsonl").exists()


def test_kill_pods_refuses_a_percent_above_100(configuration: dict[str, Any], driver: FakeDriver) -> None:
    with pytest.raises(FaultRefused, match=r"got percent=150, count=0$"):
        actions.kill_pods(percent=150.0, configuration=configuration)
    assert driver.calls == []


def test_kill_pods_refuses_an_az_of_another_region(configuration: dict[str, Any], driver: FakeDriver) -> None:
    with pytest.raises(FaultRefused, match=r"^kill_pods: AZ 'us-west-2a' is not in region us-east-1: use one of "):
        actions.kill_pods(percent=50.0, az="us-west-2a", configuration=configuration)
    assert driver.calls == []


def test_kill_pods_defaults_to_the_primary_region(configuration: dict[str, Any], driver: FakeDriver,
                                                  run: RunFolder) -> None:
    actions.kill_pods(percent=50.0, configuration=configuration)
    actions.kill_pods(region="us-west-2", count=2, az="us-west-2a", configuration=configuration)
    assert driver.calls == [
        ("kill_pods", {"region": "us-east-1", "az": None, "count": None, "percent": 50.0}),
        ("kill_pods", {"region": "us-west-2", "az": "us-west-2a", "count": 2, "percent": None}),
    ]
    assert outstanding(run) == []  # killed pods come back by themselves: nothing to revert


@pytest.mark.parametrize("dial", [101, -1, True, 2.5])
def test_set_traffic_dial_refuses_a_dial_outside_0_100(configuration: dict[str, Any], driver: FakeDriver,
                                                        dial: Any) -> None:
    with pytest.raises(FaultRefused) as err:
        actions.set_traffic_dial(dial=dial, configuration=configuration)
    assert str(err.value) == f"set_traffic_dial: dial must be an integer 0-100, got {dial!r}"
    assert driver.calls == []


def test_set_traffic_dial_defaults_to_the_primary_region(configuration: dict[str, Any], driver: FakeDriver) -> None:
    actions.set_traffic_dial(dial=0, configuration=configuration)
    assert driver.calls == [("set_traffic_dial", {"region": "us-east-1", "dial": 0})]


@pytest.mark.parametrize(("action", "method", "arg"), [
    (actions.failover_global_database, "failover_global_database", "to_region"),
    (actions.switchover_global_database, "switchover_global_database", "to_region"),
    (actions.cut_replication, "cut_replication", "region"),
])
def test_database_faults_default_to_the_secondary_region(configuration: dict[str, Any], driver: FakeDriver,
                                                         action: Any, method: str, arg: str) -> None:
    action(configuration=configuration)
    assert driver.calls == [(method, {arg: "us-west-2"})]


def test_an_unknown_region_is_refused_with_the_known_ones(configuration: dict[str, Any], driver: FakeDriver) -> None:
    with pytest.raises(TargetError) as err:
        actions.failover_global_database(to_region="eu-west-1", configuration=configuration)
    assert str(err.value) == "unknown region 'eu-west-1' in target 't': use one of us-east-1, us-west-2"
    assert driver.calls == []


def test_a_fault_the_driver_refuses_is_not_journaled(configuration: dict[str, Any], driver: FakeDriver,
                                                     run: RunFolder) -> None:
    driver.refuse["crash_writer"] = "the writer is already down"
    with pytest.raises(FaultRefused) as err:
        actions.crash_writer(configuration=configuration)
    assert str(err.value) == "the writer is already down"
    assert (err.value.target, err.value.fault, err.value.step) == ("t", "crash_writer", None)
    assert outstanding(run) == []  # its in-flight entry is closed at once: nothing changed, nothing to revert
    assert [r["event"] for r in run.records(JOURNAL)] == ["injected", "reverted"]


def test_revert_faults_undoes_every_outstanding_fault_newest_first(configuration: dict[str, Any],
                                                                   driver: FakeDriver, run: RunFolder) -> None:
    actions.az_outage(az="us-east-1a", configuration=configuration)
    actions.crash_writer(configuration=configuration)
    actions.failover_global_database(configuration=configuration)
    driver.calls.clear()
    result = actions.revert_faults(configuration=configuration)
    assert driver.calls == [
        ("restore_database_region", {"region": "us-east-1"}),
        ("switchover_global_database", {"to_region": "us-east-1"}),
        ("az_restore", {"az": "us-east-1a"}),
    ]
    assert result == {"reverted": ["us-east-1 rebuilt", "switched over to us-east-1", "us-east-1a is back"]}
    assert outstanding(run) == []
    assert kinds(run).count("fault.reverted") == 2


def test_revert_faults_records_a_refused_revert_as_skipped(configuration: dict[str, Any], driver: FakeDriver,
                                                           run: RunFolder) -> None:
    actions.cut_replication(configuration=configuration)
    driver.refuse["restore_replication"] = "replication into 'us-west-2' is not cut"
    assert actions.revert_faults(configuration=configuration) == {
        "reverted": ["skipped restore_replication: replication into 'us-west-2' is not cut"]}
    assert outstanding(run) == []


def test_wait_until_healthy_reports_the_observation_and_marks_it(configuration: dict[str, Any], driver: FakeDriver,
                                                                 run: RunFolder) -> None:
    driver.healthy_after_s = 0.2
    result = actions.wait_until_healthy(timeout_s=7.0, configuration=configuration)
    assert driver.calls[0] == ("wait_healthy", {"timeout_s": 7.0})
    assert result["healthy"] is True
    assert result["writer"] == "db-east-b"
    assert 0.2 <= result["waited_s"] < 2.0
    [marker] = run.records("markers.jsonl")
    assert marker["kind"] == "target.healthy"
    assert 0.2 <= marker["waited_s"] <= result["waited_s"]


def test_wait_until_healthy_does_not_wait_while_a_fault_is_still_injected(configuration: dict[str, Any],
                                                                          driver: FakeDriver) -> None:
    """SIGTERM during the rollback interrupted the revert: waiting for a baseline that cannot come would only
    delay the safety net (it waited the whole 120 s)."""
    actions.az_outage(configuration=configuration)
    with pytest.raises(HarnessError, match=r"not waiting for the baseline: 1 fault\(s\) of this run still "
                                           r"injected \(az_outage\)"):
        actions.wait_until_healthy(timeout_s=120.0, configuration=configuration)
    assert "wait_healthy" not in driver.methods
    actions.revert_faults(configuration=configuration)
    assert actions.wait_until_healthy(timeout_s=7.0, configuration=configuration)["healthy"] is True


@pytest.mark.parametrize("call", [
    lambda cfg: actions.az_outage(configuration=cfg),
    lambda cfg: actions.crash_writer(configuration=cfg),
    lambda cfg: actions.revert_faults(configuration=cfg),
    lambda cfg: actions.wait_until_healthy(timeout_s=1.0, configuration=cfg),
])
def test_every_action_closes_the_driver_it_resolved(configuration: dict[str, Any], driver: FakeDriver,
                                                    call: Any) -> None:
    call(configuration)
    assert driver.closed == 1


def test_a_refused_fault_still_closes_its_driver(configuration: dict[str, Any], driver: FakeDriver) -> None:
    driver.refuse["crash_writer"] = "no writer"
    with pytest.raises(FaultRefused):
        actions.crash_writer(configuration=configuration)
    assert driver.closed == 1


def test_an_action_without_a_run_folder_names_the_fix(target_file: Path, driver: FakeDriver) -> None:
    with pytest.raises(HarnessError) as err:
        actions.crash_writer(configuration={"aftershock_target": str(target_file)})
    assert str(err.value) == ("no run folder: declare the aftershock control in the experiment's controls, "
                              "or run it with `aftershock run`")
    assert driver.calls == []


def test_every_action_is_listed_and_documented() -> None:
    for name in actions.__all__:
        assert callable(getattr(actions, name))
        assert getattr(actions, name).__doc__, name


def test_ctrl_c_while_a_fault_is_applied_is_held_until_the_fault_is_journaled(
        configuration: dict[str, Any], driver: FakeDriver, run: RunFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault applied but not journaled could never be reverted: the signal waits for the journal."""
    import os
    import signal

    applied = driver.az_outage

    def az_outage_interrupted(az: str) -> Any:
        os.kill(os.getpid(), signal.SIGINT)  # the operator presses Ctrl-C while the AZ goes down
        return applied(az)

    monkeypatch.setattr(driver, "az_outage", az_outage_interrupted)
    with pytest.raises(KeyboardInterrupt):
        actions.az_outage(az="us-east-1a", configuration=configuration)
    [fault] = outstanding(run)
    assert fault.action == "az_outage" and fault.reverts[0].method == "az_restore"
    assert "fault.end" in kinds(run)
