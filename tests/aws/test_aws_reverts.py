"""Reverts always finish: every step runs, a vanished instance is a success, a capacity error is retried then
reported; a revert is never journaled as a fault, so an interrupted rollback plus `recover` ends at the baseline;
a harness killed right after the driver returned is restored from the in-flight record."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from aftershock.core.errors import HarnessError
from aftershock.core.journal import outstanding
from aftershock.core.runfolder import RunFolder
from aftershock.faults.reverts import record_injected, revert_outstanding

AZ, EAST, WEST = "us-east-1a", "us-east-1", "us-west-2"


def with_suspensions(stack: Any) -> None:
    aws = stack.target.aws.model_copy(update={"asg_suspend_processes": ("AZRebalance",)})
    stack.target = stack.target.model_copy(update={"aws": aws})


def test_a_vanished_instance_is_gone_not_a_failure_and_every_other_step_runs(stack: Any) -> None:
    with_suspensions(stack)
    before = stack.snapshot()
    record_injected(stack.run, "az_outage", stack.driver().az_outage(AZ), 0.0)
    assert stack.suspended() == ["AZRebalance", "AddToLoadBalancer"]
    stack.client("ec2").terminate_instances(InstanceIds=[stack.asg_instance])  # replaced by its ASG meanwhile

    done = revert_outstanding(stack.run, stack.driver(), by="rollback")

    assert f"instance {stack.asg_instance} is gone (terminated): nothing to start" in done[0]
    after = stack.snapshot()
    assert after["instances"][stack.asg_instance] == "terminated"
    assert {k: v for k, v in after.items() if k != "instances"} == {k: v for k, v in before.items()
                                                                   if k != "instances"}
    assert outstanding(stack.run) == []


def test_a_capacity_error_is_retried_then_reported_after_every_other_step(stack: Any) -> None:
    with_suspensions(stack)
    before = stack.snapshot()
    record_injected(stack.run, "az_outage", stack.driver().az_outage(AZ), 0.0)
    attempts: list[int] = []

    def no_capacity(**_: Any) -> Any:
        attempts.append(1)
        return AWSResponse("https://fake", 500, {}, None), {"Error": {
            "Code": "InsufficientInstanceCapacity", "Message": "We currently do not have sufficient capacity"}}

    stack.botocore_session.register("before-call.ec2.StartInstances", no_capacity)
    with pytest.raises(HarnessError) as err:
        revert_outstanding(stack.run, stack.driver(), by="rollback")
    stack.botocore_session.unregister("before-call.ec2.StartInstances", no_capacity)

    assert str(err.value) == (
        f"AZ {AZ} ({EAST}) restore: 1 step(s) failed, every other step was done: instance {stack.asg_instance}: "
        "An error occurred (InsufficientInstanceCapacity) when calling the "
        "StartInstances operation: We currently do not have sufficient capacity; fix them, then rerun "
        "`aftershock recover RUN_FOLDER`")
    assert len(attempts) == 5  # bounded backoff
    after = stack.snapshot()  # every other step was done: network, ASG subnets, processes, nodes
    assert after["instances"][stack.asg_instance] == "stopped"
    assert {k: v for k, v in after.items() if k != "instances"} == {k: v for k, v in before.items()
                                                                   if k != "instances"}
    # the fault stays outstanding; once capacity is back, `recover` finishes the job
    assert [f.action for f in outstanding(stack.run)] == ["az_outage"]
    revert_outstanding(stack.run, stack.driver(), by="recover")
    assert stack.snapshot() == before and outstanding(stack.run) == []


def test_interrupted_dial_revert_then_recover_ends_at_the_baseline_without_another_evacuation(stack: Any) -> None:
    record_injected(stack.run, "set_traffic_dial", stack.driver().set_traffic_dial(EAST, 0), 0.0)

    def killed(**_: Any) -> None:
        raise KeyboardInterrupt  # Ctrl-C right after the dial was set back, before the journal says so

    stack.botocore_session.register("after-call.global-accelerator.UpdateEndpointGroup", killed)
    with pytest.raises(KeyboardInterrupt):
        revert_outstanding(stack.run, stack.driver(), by="rollback")
    stack.botocore_session.unregister("after-call.global-accelerator.UpdateEndpointGroup", killed)
    assert [f.action for f in outstanding(stack.run)] == ["set_traffic_dial"]  # the revert is not a fault

    run = RunFolder(stack.run.path)
    done = revert_outstanding(run, stack.driver(run=run), by="recover")

    assert done == ["traffic dial of us-east-1 is 100 % already"]
    updates = [p["TrafficDialPercentage"] for op, p in stack.fakes.calls if op == "UpdateEndpointGroup"]
    assert updates == [0, 100]  # the fault, its revert: never a second evacuation
    assert stack.fakes.dials == {EAST: 100, WEST: 0} and outstanding(run) == []


def test_interrupted_switchover_revert_then_recover_never_switches_again(stack: Any) -> None:
    record_injected(stack.run, "switchover_global_database", stack.driver().switchover_global_database(WEST), 0.0)

    def killed(**_: Any) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the switchover back runs

    stack.botocore_session.register("after-call.rds.SwitchoverGlobalCluster", killed)
    with pytest.raises(KeyboardInterrupt):
        revert_outstanding(stack.run, stack.driver(), by="rollback")
    stack.botocore_session.unregister("after-call.rds.SwitchoverGlobalCluster", killed)

    done = revert_outstanding(stack.run, stack.driver(), by="recover")

    assert done == ["global writer back in us-east-1 (it was there already)"]
    assert [op for op, _ in stack.fakes.calls if "Global" in op] == ["SwitchoverGlobalCluster"] * 2
    assert stack.driver().observe().writer_region == EAST and outstanding(stack.run) == []


def test_harness_killed_right_after_the_driver_returned_is_restored_by_recover(stack: Any) -> None:
    before = stack.snapshot()
    stack.driver().az_outage(AZ)  # ... and the harness dies before aftershock.faults.actions journals the fault

    run = RunFolder(stack.run.path)
    [fault] = outstanding(run)
    assert fault.action == "az_outage (in flight)"
    revert_outstanding(run, stack.driver(run=run), by="recover")

    assert stack.snapshot() == before and outstanding(run) == []


def test_the_fault_record_supersedes_its_in_flight_entry_in_one_line(stack: Any) -> None:
    outcome = stack.driver().set_traffic_dial(EAST, 0)
    assert outcome.in_flight_id and [f.fault_id for f in outstanding(stack.run)] == [outcome.in_flight_id]
    fault_id = record_injected(stack.run, "set_traffic_dial", outcome, 0.0)
    assert [f.fault_id for f in outstanding(stack.run)] == [fault_id]
    assert list(stack.run.records("faults.jsonl"))[-1]["supersedes"] == outcome.in_flight_id
