"""An interrupted run: a fresh driver in a new "process", reading only the run folder, restores the target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aftershock.core.journal import outstanding
from aftershock.core.plan import write_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import dump_target
from aftershock.faults import actions
from aftershock.faults.reverts import revert_outstanding
from aftershock.planning import resolve_plan


def test_fault_through_the_actions_then_recover_from_the_run_folder(stack: Any, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    target_file = tmp_path / "aws-test.yaml"
    dump_target(stack.target, target_file)
    monkeypatch.setenv("AFTERSHOCK_RUN_DIR", str(stack.run.path))
    before = stack.snapshot()

    # the experiment's action, as chaostoolkit calls it: the driver comes from the registry (kind: aws)
    write_plan(stack.run, resolve_plan({}, experiment="az.yaml", target_ref=str(target_file)))  # `aftershock run`
    result = actions.az_outage(az="us-east-1a", configuration={"aftershock_run_dir": str(stack.run.path)})
    assert result["reverts"] == ["az_restore"]
    assert stack.snapshot() != before
    # ... the harness dies here. `aftershock recover` builds a new driver from the target and the run folder
    run = RunFolder(stack.run.path)
    assert [f.action for f in outstanding(run)] == ["az_outage"]
    done = revert_outstanding(run, stack.driver(run=run), by="recover")

    assert done[0].startswith("AZ us-east-1a (us-east-1) restored")
    assert stack.snapshot() == before
    assert outstanding(run) == []


def test_crash_in_the_middle_of_a_fault_is_recovered_from_the_in_flight_record(stack: Any) -> None:
    before = stack.snapshot()

    def crash(**_: Any) -> None:
        raise KeyboardInterrupt  # the harness is killed while stopping the instances

    stack.botocore_session.register("before-call.ec2.StopInstances", crash)
    with pytest.raises(KeyboardInterrupt):
        stack.driver().az_outage("us-east-1a")
    stack.botocore_session.unregister("before-call.ec2.StopInstances", crash)
    assert stack.kube["east"].cordoned() == {"node-a1", "node-a2"}

    run = RunFolder(stack.run.path)
    [fault] = outstanding(run)
    assert fault.action == "az_outage (in flight)"
    assert [r["op"] for r in run.records("aws-calls.jsonl") if r["event"] == "call"][-1] == "stop_instances"
    revert_outstanding(run, stack.driver(run=run), by="recover")
    assert stack.snapshot() == before
